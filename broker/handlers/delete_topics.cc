// DeleteTopics: deletes topics through the active controller;
// __consumer_offsets is refused.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "group/coordinator.h"
#include "transport/topic_admin.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

DeleteTopicsResponse delete_topics_response(const Call& call, Context& ctx,
                                            const DeleteTopicsRequest& req) {
  DeleteTopicsResponse response;
  for (const auto& name : req.topic_names) {
    auto& out = response.responses.emplace_back();
    out.name = name;
    Status st = !topic_authorized(call, AclOperation::kDelete, name)
                    ? Status(ErrorCode::kTopicAuthorizationFailed, "may not delete topic " + name)
                : name == group::kOffsetsTopic
                    ? Status(ErrorCode::kInvalidTopic,
                             "__consumer_offsets is internal: it holds every group's offsets")
                    : ctx.cluster->delete_topic(name);
    set_status(out, st);
  }
  return response;
}

}  // namespace

void delete_topics(Call call) {
  serve<DeleteTopicsRequest>(call, delete_topics_response);
}

}  // namespace mq::broker::handlers
