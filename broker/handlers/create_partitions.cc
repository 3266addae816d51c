// CreatePartitions: raises topics' partition counts; the controller places
// the new partitions.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "group/coordinator.h"
#include "transport/topic_admin.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

CreatePartitionsResponse create_partitions_response(const Call& call, Context& ctx,
                                                    const CreatePartitionsRequest& req) {
  CreatePartitionsResponse response;
  for (const auto& topic : req.topics) {
    auto& out = response.results.emplace_back();
    out.name = topic.name;
    Status st =
        !topic_authorized(call, AclOperation::kAlter, topic.name)
            ? Status(ErrorCode::kTopicAuthorizationFailed, "may not alter topic " + topic.name)
        : topic.name == group::kOffsetsTopic
            ? Status(ErrorCode::kInvalidTopic,
                     "__consumer_offsets is internal: its partition count is "
                     "group.offsets_topic_partitions")
        : topic.assignments
            ? Status(ErrorCode::kInvalidReplicaAssignment,
                     "manual replica assignment of new partitions is not supported: "
                     "the controller places them; move them with a reassignment")
            : ctx.cluster->add_partitions(topic.name, topic.count, req.validate_only);
    set_status(out, st);
  }
  return response;
}

}  // namespace

void create_partitions(Call call) {
  serve<CreatePartitionsRequest>(call, create_partitions_response);
}

}  // namespace mq::broker::handlers
