// The cluster admin requests: ElectLeaders, DescribeQuorum and the partition
// reassignments. In cluster mode the ClusterView answers (elections and
// reassignments through the active controller, the quorum as this node sees
// it); a single-node broker has one replica per partition, on itself, and is
// its own quorum of one.
#include <set>

#include "broker/request_handler.h"

namespace mq::broker {

using transport::DescribeQuorumRequest;
using transport::DescribeQuorumResponse;
using transport::ElectLeadersRequest;
using transport::ElectLeadersResponse;

ElectLeadersResponse RequestHandler::elect_leaders(const ElectLeadersRequest& request) {
  if (cluster_ != nullptr) return cluster_->elect_leaders(request);
  ElectLeadersResponse response;
  if (request.election_type != transport::ElectionType::kPreferred &&
      request.election_type != transport::ElectionType::kUnclean) {
    response.error_code = ErrorCode::kInvalidRequest;
    response.error_message = "unknown election type " +
                             std::to_string(static_cast<int>(request.election_type)) +
                             " (0 = preferred, 1 = unclean)";
    return response;
  }
  std::vector<ElectLeadersRequest::Topic> wanted;
  if (request.topics) {
    wanted = *request.topics;
  } else {
    for (const TopicInfo& topic : replicas_.topics()) {
      ElectLeadersRequest::Topic& all = wanted.emplace_back();
      all.name = topic.name;
      for (int32_t p = 0; p < topic.partitions; ++p) all.partitions.push_back(p);
    }
  }
  std::set<std::pair<std::string, int32_t>> seen;
  for (const ElectLeadersRequest::Topic& topic : wanted) {
    ElectLeadersResponse::Topic& out = response.results.emplace_back();
    out.name = topic.name;
    std::optional<TopicInfo> info = replicas_.topic(topic.name);
    for (int32_t p : topic.partitions) {
      ElectLeadersResponse::Partition& result = out.partitions.emplace_back();
      result.partition_index = p;
      std::string name = topic.name + "-" + std::to_string(p);
      if (!info || p < 0 || p >= info->partitions) {
        result.error_code = ErrorCode::kUnknownTopicOrPartition;
        result.error_message = "no partition " + name;
      } else if (!seen.insert({topic.name, p}).second) {
        result.error_code = ErrorCode::kInvalidRequest;
        result.error_message = name + " is listed twice";
      } else {
        result.leader_id = identity_.node_id;
        result.error_message = "single node: nothing to elect";
      }
    }
  }
  return response;
}

DescribeQuorumResponse RequestHandler::describe_quorum(const DescribeQuorumRequest&) {
  if (cluster_ != nullptr) return cluster_->describe_quorum();
  DescribeQuorumResponse response{.single_node = true,
                                  .node_id = identity_.node_id,
                                  .voter = true,
                                  .role = transport::QuorumRole::kLeader,
                                  .leader_id = identity_.node_id};
  response.members.push_back({.node_id = identity_.node_id, .voter = true, .recent_active = true});
  return response;
}

transport::AlterPartitionReassignmentsResponse RequestHandler::alter_reassignments(
    const transport::AlterPartitionReassignmentsRequest& request) {
  if (cluster_ != nullptr) return cluster_->alter_reassignments(request);
  transport::AlterPartitionReassignmentsResponse response;
  std::set<std::pair<std::string, int32_t>> seen;
  for (const auto& topic : request.topics) {
    auto& out = response.results.emplace_back();
    out.name = topic.name;
    std::optional<TopicInfo> info = replicas_.topic(topic.name);
    for (const auto& p : topic.partitions) {
      auto& result = out.partitions.emplace_back();
      result.partition_index = p.partition_index;
      std::string name = topic.name + "-" + std::to_string(p.partition_index);
      if (!info || p.partition_index < 0 || p.partition_index >= info->partitions) {
        result.error_code = ErrorCode::kUnknownTopicOrPartition;
        result.error_message = "no partition " + name;
      } else if (!seen.insert({topic.name, p.partition_index}).second) {
        result.error_code = ErrorCode::kInvalidRequest;
        result.error_message = name + " is listed twice";
      } else if (!p.replicas) {
        result.error_code = ErrorCode::kInvalidRequest;
        result.error_message = "NO_REASSIGNMENT_IN_PROGRESS: " + name + " is not being reassigned";
      } else if (*p.replicas != std::vector<int32_t>{identity_.node_id}) {
        result.error_code = ErrorCode::kInvalidReplicaAssignment;
        result.error_message = name + ": a single-node broker holds every partition on broker " +
                               std::to_string(identity_.node_id) + " alone";
      }
    }
  }
  return response;
}

transport::ListPartitionReassignmentsResponse RequestHandler::list_reassignments(
    const transport::ListPartitionReassignmentsRequest& request) {
  if (cluster_ != nullptr) return cluster_->list_reassignments(request);
  return {};  // nothing ever moves on a single node
}

}  // namespace mq::broker
