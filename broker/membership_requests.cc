// ClusterNode's answers about who is in the cluster: the metadata quorum
// (DescribeQuorum, AddRaftVoter, RemoveRaftVoter) and the registered brokers
// (UnregisterBroker). docs/protocol.md has the messages, docs/cluster.md
// *Growing and shrinking* the operator's view.
#include <spdlog/spdlog.h>

#include "broker/cluster_node.h"
#include "quorum/quorum_config.h"

namespace mq::broker {
namespace {

template <class Response>
Response outcome(const Status& status) {
  Response response;
  if (!status.is_ok()) {
    response.error_code = status.code();
    response.error_message = status.message();
  }
  return response;
}

std::chrono::milliseconds timeout_of(int32_t timeout_ms, std::chrono::milliseconds fallback) {
  return timeout_ms > 0 ? std::chrono::milliseconds(timeout_ms) : fallback;
}

}  // namespace

transport::DescribeQuorumResponse ClusterNode::describe_quorum() {
  quorum::QuorumStatus status = member_->quorum_status();
  transport::DescribeQuorumResponse response{
      .node_id = static_cast<int32_t>(status.id),
      .voter = status.voter,
      .role = static_cast<transport::QuorumRole>(status.role),
      .leader_id = status.leader == raft::kNoNode ? -1 : static_cast<int32_t>(status.leader),
      .term = static_cast<int64_t>(status.term),
      .commit_index = static_cast<int64_t>(status.commit_index),
      .applied_index = static_cast<int64_t>(status.applied_index),
      .last_log_index = static_cast<int64_t>(status.last_log_index),
      .directory_id = status.directory_id,
      .voters_recorded_at = static_cast<int64_t>(status.voters_recorded_at)};
  if (!status.running) {
    response.error_code = ErrorCode::kNotController;
    response.error_message =
        "the quorum member of node " + std::to_string(config_.node_id) + " is not running";
    return response;
  }
  for (const raft::Voter& voter : status.voters) {
    response.voters.push_back({.node_id = static_cast<int32_t>(voter.id),
                               .directory_id = voter.directory_id,
                               .endpoint = voter.address});
  }
  for (const quorum::MemberProgress& m : status.members) {
    response.members.push_back({.node_id = static_cast<int32_t>(m.id),
                                .voter = m.voter,
                                .match_index = static_cast<int64_t>(m.match_index),
                                .lag = static_cast<int64_t>(m.lag),
                                .recent_active = m.recent_active,
                                .directory_id = m.directory_id,
                                .heard_ms_ago = m.heard_ms_ago});
  }
  return response;
}

transport::AddRaftVoterResponse ClusterNode::add_raft_voter(
    const transport::AddRaftVoterRequest& request) {
  using Response = transport::AddRaftVoterResponse;
  if (request.voter_id < 0) {
    return outcome<Response>(
        Status(ErrorCode::kInvalidRequest,
               "voter_id " + std::to_string(request.voter_id) + " is not a node id"));
  }
  // The voters reach it at "HOST:PORT"; the quorum speaks ZeroMQ endpoints.
  std::string endpoint =
      request.endpoint.starts_with("tcp://") ? request.endpoint : "tcp://" + request.endpoint;
  if (Status valid = quorum::check_endpoint(endpoint, false); !valid.is_ok()) {
    return outcome<Response>(Status(
        ErrorCode::kInvalidRequest,
        "endpoint \"" + request.endpoint + "\" is not HOST:PORT of the node's quorum listener"));
  }
  VoterChangeCall call{.voter_id = request.voter_id, .endpoint = endpoint};
  return outcome<Response>(member_
                               ->call<EmptyReply>(CallKind::kAddVoter, call,
                                                  timeout_of(request.timeout_ms, call_timeout()))
                               .status());
}

transport::RemoveRaftVoterResponse ClusterNode::remove_raft_voter(
    const transport::RemoveRaftVoterRequest& request) {
  VoterChangeCall call{.voter_id = request.voter_id};
  return outcome<transport::RemoveRaftVoterResponse>(
      member_
          ->call<EmptyReply>(CallKind::kRemoveVoter, call,
                             timeout_of(request.timeout_ms, call_timeout()))
          .status());
}

transport::UnregisterBrokerResponse ClusterNode::unregister_broker(
    const transport::UnregisterBrokerRequest& request) {
  using Response = transport::UnregisterBrokerResponse;
  UnregisterBrokerCall call{.broker_id = request.broker_id};
  Status done = member_
                    ->call<EmptyReply>(CallKind::kUnregisterBroker, call,
                                       timeout_of(request.timeout_ms, call_timeout()))
                    .status();
  if (!done.is_ok()) return outcome<Response>(done);
  // Answer once every live broker's image has lost it: DescribeCluster
  // anywhere right after does not list it.
  Status reached = await_everywhere([&](const metadata::MetadataImage& image) {
    return image.broker(request.broker_id) == nullptr;
  });
  if (!reached.is_ok()) spdlog::warn("UnregisterBroker: {}", reached.to_string());
  return Response{};
}

}  // namespace mq::broker
