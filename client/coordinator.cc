// FindCoordinator and the error classes of the group APIs.
#include "client/coordinator.h"

#include "client/cluster.h"
#include "transport/group_membership.h"

namespace mq::client {

Result<BrokerInfo> find_coordinator(Cluster& cluster, const std::string& group_id) {
  MQ_ASSIGN_OR_RETURN(int32_t node, cluster.any_node());
  Result<transport::FindCoordinatorResponse> response =
      cluster.call(node, transport::FindCoordinatorRequest{.key = group_id});
  if (!response.is_ok()) {
    cluster.disconnect(node);
    return response.status();
  }
  if (response->error_code != ErrorCode::kNone) {
    return Status(response->error_code, "FindCoordinator for group " + group_id + ": " +
                                            response->error_message.value_or(
                                                std::string(error_name(response->error_code))));
  }
  return BrokerInfo{.node_id = response->node_id, .host = response->host, .port = response->port};
}

bool is_coordinator_error(ErrorCode code) {
  return code == ErrorCode::kNotCoordinator || code == ErrorCode::kCoordinatorNotAvailable ||
         code == ErrorCode::kCoordinatorLoadInProgress;
}

bool is_fencing_error(ErrorCode code) {
  return code == ErrorCode::kIllegalGeneration || code == ErrorCode::kUnknownMemberId ||
         code == ErrorCode::kRebalanceInProgress;
}

ErrorCode commit_coordinator_error(const transport::OffsetCommitResponse& response) {
  for (const auto& topic : response.topics) {
    for (const auto& partition : topic.partitions) {
      if (is_coordinator_error(partition.error_code)) return partition.error_code;
    }
  }
  return ErrorCode::kNone;
}

}  // namespace mq::client
