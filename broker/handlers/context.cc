// Context: the lookups several handlers share.
#include "broker/authorizer.h"
#include "broker/cluster_view.h"
#include "broker/handlers/handler.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"
#include "group/coordinator.h"

namespace mq::broker::handlers {

bool authorized(const Call& call, transport::AclOperation operation,
                transport::AclResourceType type, std::string_view name) {
  if (call.ctx.authorizer == nullptr) return true;
  return call.ctx.authorizer->allow(call.request.principal, operation, type, name);
}

bool visible(const Call& call, transport::AclOperation operation, transport::AclResourceType type,
             std::string_view name) {
  if (call.ctx.authorizer == nullptr) return true;
  return call.ctx.authorizer->permits(call.request.principal, operation, type, name);
}

bool create_authorized(const Call& call, std::string_view topic) {
  return visible(call, transport::AclOperation::kCreate, transport::AclResourceType::kCluster,
                 transport::kClusterResourceName) ||
         topic_authorized(call, transport::AclOperation::kCreate, topic);
}

bool may_auto_create(const Call& call, std::string_view topic) {
  using transport::AclOperation;
  return visible(call, AclOperation::kCreate, transport::AclResourceType::kCluster,
                 transport::kClusterResourceName) ||
         visible(call, AclOperation::kCreate, transport::AclResourceType::kTopic, topic);
}

std::shared_ptr<Partition> Context::find_partition(const std::string& topic, int32_t index,
                                                   bool may_create, ErrorCode* error) {
  std::shared_ptr<Partition> partition = replicas.partition(topic, index);
  if (partition) return partition;
  if (cluster != nullptr && cluster->knows_partition(topic, index)) {
    *error = ErrorCode::kNotLeader;
    return nullptr;
  }
  if (may_create && cluster != nullptr && !replicas.topic(topic)) {
    BrokerConfig config = replicas.config();
    if (config.auto_create_topics) {
      Status st = cluster->create_topic(topic, -1, -1, {}, {}, false);
      if (!st.is_ok() && st.code() != ErrorCode::kTopicAlreadyExists) {
        *error = st.code() == ErrorCode::kInvalidTopic ? ErrorCode::kInvalidTopic
                                                       : ErrorCode::kUnknownTopicOrPartition;
        return nullptr;
      }
      partition = replicas.partition(topic, index);
      if (partition) return partition;
    }
  }
  *error = ErrorCode::kUnknownTopicOrPartition;
  return nullptr;
}

std::shared_ptr<Partition> Context::led_partition(const std::string& topic, int32_t index,
                                                  int32_t current_leader_epoch, ErrorCode* error) {
  std::shared_ptr<Partition> partition = find_partition(topic, index, false, error);
  if (!partition) return nullptr;
  *error = partition->check_leader(current_leader_epoch);
  return *error == ErrorCode::kNone ? partition : nullptr;
}

ErrorCode Context::coordinator_error(const std::string& group_id) const {
  if (coordinator == nullptr) return ErrorCode::kCoordinatorNotAvailable;
  if (group_id.empty()) return ErrorCode::kNone;
  // The coordinator serves the groups of the offsets partitions it loaded:
  // those this broker leads.
  return coordinator->group_error(group_id);
}

}  // namespace mq::broker::handlers
