// FindCoordinator: the broker coordinating a group, the leader of the group's
// __consumer_offsets partition in this broker's metadata image.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "group/coordinator.h"
#include "transport/group_membership.h"
#include "transport/metadata.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

FindCoordinatorResponse coordinator_of(const Call& call, Context& ctx,
                                       const FindCoordinatorRequest& request) {
  FindCoordinatorResponse response;
  if (request.key_type != CoordinatorType::kGroup) {
    response.error_code = ErrorCode::kInvalidRequest;
    response.error_message = "only group coordinators exist (transactions are not implemented)";
    return response;
  }
  if (request.key.empty()) {
    response.error_code = ErrorCode::kInvalidGroupId;
    response.error_message = "the group id is empty";
    return response;
  }
  if (!group_authorized(call, AclOperation::kDescribe, request.key)) {
    response.error_code = ErrorCode::kGroupAuthorizationFailed;
    return response;
  }
  if (ctx.coordinator == nullptr) {
    response.error_code = ErrorCode::kCoordinatorNotAvailable;
    return response;
  }
  // The leader of the group's offsets partition, from the metadata (which
  // may be another broker, or this one still loading).
  const std::string topic(group::kOffsetsTopic);
  const int32_t partition = ctx.coordinator->partition_for(request.key);
  MetadataRequest which;
  which.topics = std::vector<std::string>{topic};
  which.allow_auto_topic_creation = false;
  MetadataResponse metadata = ctx.cluster->metadata(which);
  response.error_code = ErrorCode::kCoordinatorNotAvailable;
  if (metadata.topics.empty() ||
      metadata.topics[0].error_code == ErrorCode::kUnknownTopicOrPartition ||
      partition >= static_cast<int32_t>(metadata.topics[0].partitions.size())) {
    response.error_message = topic + " does not exist yet";
    return response;
  }
  int32_t leader = metadata.topics[0].partitions[partition].leader_id;
  for (const auto& broker : metadata.brokers) {
    if (broker.node_id != leader) continue;
    response.error_code = ErrorCode::kNone;
    response.node_id = broker.node_id;
    response.host = broker.host;
    response.port = broker.port;
    return response;
  }
  response.error_message = topic + "-" + std::to_string(partition) + " has no live leader";
  return response;
}

}  // namespace

void find_coordinator(Call call) {
  serve<FindCoordinatorRequest>(call, coordinator_of);
}

}  // namespace mq::broker::handlers
