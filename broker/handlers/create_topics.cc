// CreateTopics: creates topics through the active controller (partitions and
// replication factor -1 take the broker defaults, or an explicit assignment);
// answered once every live broker has applied them.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "transport/topic_admin.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

CreateTopicsResponse create_topics_response(const Call& call, Context& ctx,
                                            const CreateTopicsRequest& req) {
  BrokerConfig config = ctx.replicas.config();
  CreateTopicsResponse response;
  for (const auto& topic : req.topics) {
    auto& out = response.topics.emplace_back();
    out.name = topic.name;
    int32_t partitions =
        topic.num_partitions == -1 ? config.default_partitions : topic.num_partitions;
    int16_t rf = topic.replication_factor == -1
                     ? static_cast<int16_t>(config.default_replication_factor)
                     : topic.replication_factor;
    TopicOverrides overrides;
    for (const auto& c : topic.configs) {
      if (c.value) overrides[c.name] = *c.value;
    }
    Status st;
    if (!create_authorized(call, topic.name)) {
      st = Status(ErrorCode::kTopicAuthorizationFailed, "may not create topic " + topic.name);
    }
    std::vector<std::vector<int32_t>> assignment;
    for (const auto& a : st.is_ok() ? topic.assignments : decltype(topic.assignments){}) {
      if (a.partition_index != static_cast<int32_t>(assignment.size())) {
        st = Status(ErrorCode::kInvalidReplicaAssignment,
                    "assignments must list partitions 0, 1, 2, ... in order");
        break;
      }
      assignment.push_back(a.broker_ids);
    }
    if (st.is_ok()) {
      st = ctx.cluster->create_topic(topic.name, assignment.empty() ? partitions : -1,
                                     assignment.empty() ? rf : -1, overrides, assignment,
                                     req.validate_only);
    }
    if (!assignment.empty()) {
      partitions = static_cast<int32_t>(assignment.size());
      rf = static_cast<int16_t>(assignment.front().size());
    }
    set_status(out, st);
    out.num_partitions = partitions;
    out.replication_factor = rf;
  }
  return response;
}

}  // namespace

void create_topics(Call call) {
  serve<CreateTopicsRequest>(call, create_topics_response);
}

}  // namespace mq::broker::handlers
