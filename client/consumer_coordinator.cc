// The consumer's group membership: coordinator lookup, the join state
// machine, commits and offset fetches.
#include "client/consumer_coordinator.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "client/clock.h"
#include "client/cluster.h"
#include "client/coordinator.h"
#include "transport/connection.h"
#include "transport/consumer_protocol.h"
#include "transport/group_membership.h"
#include "transport/group_offsets.h"

namespace mq::client {
namespace {

int remaining_ms(int64_t deadline_ms) {
  return static_cast<int>(std::clamp<int64_t>(deadline_ms - steady_ms(), 0, INT32_MAX));
}

bool lost_connection(ErrorCode code) {
  return code == ErrorCode::kNetworkError || code == ErrorCode::kRequestTimedOut;
}

std::vector<transport::TopicPartitions> group_by_topic(const std::vector<TopicPartition>& tps) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const TopicPartition& tp : tps) by_topic[tp.topic].push_back(tp.partition);
  std::vector<transport::TopicPartitions> out;
  for (auto& [topic, partitions] : by_topic) out.push_back({topic, std::move(partitions)});
  return out;
}

}  // namespace

ConsumerCoordinator::ConsumerCoordinator(const ConsumerConfig& config, Cluster* cluster)
    : config_(config), cluster_(cluster) {}

ConsumerCoordinator::~ConsumerCoordinator() = default;

void ConsumerCoordinator::set_subscription(std::vector<std::string> topics) {
  std::ranges::sort(topics);
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  if (topics == topics_) return;
  topics_ = std::move(topics);
  // A changed subscription is a new JoinGroup; the coordinator rebalances.
  if (state_ != State::kIdle) rejoin_needed_ = true;
}

void ConsumerCoordinator::note_poll() {
  if (heartbeat_) heartbeat_->note_poll();
}

Result<transport::Connection*> ConsumerCoordinator::coordinator() {
  if (connection_ != nullptr) return connection_.get();
  int64_t now = steady_ms();
  if (now < next_find_ms_) {
    return Status(ErrorCode::kCoordinatorNotAvailable,
                  "waiting before asking again for the coordinator of group " + config_.group_id);
  }
  next_find_ms_ = now + std::max(config_.retry_backoff_ms, 1);
  MQ_ASSIGN_OR_RETURN(BrokerInfo broker, find_coordinator(*cluster_, config_.group_id));
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<transport::Connection> connection,
                      transport::Connection::connect(broker.endpoint(),
                                                     {.client_id = config_.client_id,
                                                      .send_timeout_ms = config_.request_timeout_ms,
                                                      .curve = curve_client_of(config_.curve)}));
  MQ_RETURN_IF_ERROR(connection->negotiate_versions(config_.request_timeout_ms).status());
  connection_ = std::move(connection);
  coordinator_endpoint_ = broker.endpoint();
  next_find_ms_ = 0;
  if (heartbeat_ && state_ == State::kStable) {
    heartbeat_->beat(coordinator_endpoint_, generation_id_, member_id_);
  }
  return connection_.get();
}

void ConsumerCoordinator::lose_coordinator(const Status& why) {
  connection_.reset();
  coordinator_endpoint_.clear();
  if (state_ == State::kJoining || state_ == State::kSyncing) {
    // The answer will never come: start the join again with the new coordinator.
    state_ = State::kJoining;
    request_in_flight_ = -1;
    retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
  }
  std::vector<PendingCommit> failed = std::exchange(pending_commits_, {});
  for (PendingCommit& commit : failed) {
    if (commit.done) {
      commit.done(
          Status(ErrorCode::kCoordinatorNotAvailable,
                 "the commit was in flight when the coordinator was lost: " + why.to_string()));
    }
  }
}

template <class Request, class ErrorOf>
Result<typename Request::Response> ConsumerCoordinator::call(const Request& request,
                                                             int64_t deadline_ms,
                                                             ErrorOf error_of) {
  Status last(ErrorCode::kRequestTimedOut,
              "no answer from the coordinator of group " + config_.group_id + " in time");
  while (true) {
    Result<transport::Connection*> connection = coordinator();
    if (connection.is_ok()) {
      int timeout_ms = std::min(config_.request_timeout_ms, std::max(remaining_ms(deadline_ms), 1));
      Result<typename Request::Response> response = (*connection)->call(request, timeout_ms);
      if (response.is_ok()) {
        ErrorCode code = error_of(*response);
        if (!is_coordinator_error(code)) return response;
        last = Status(code, "group " + config_.group_id + ": " + std::string(error_name(code)));
        // Still loading: same coordinator, later. Otherwise find it again.
        if (code != ErrorCode::kCoordinatorLoadInProgress) lose_coordinator(last);
      } else {
        last = response.status();
        if (!lost_connection(last.code())) return last;
        lose_coordinator(last);
      }
    } else {
      last = connection.status();
      if (!is_coordinator_error(last.code()) && !lost_connection(last.code()) &&
          last.code() != ErrorCode::kBrokerNotAvailable) {
        return last;
      }
    }
    if (steady_ms() + config_.retry_backoff_ms >= deadline_ms) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(config_.retry_backoff_ms, 1)));
  }
}

bool ConsumerCoordinator::generation_ended() {
  if (heartbeat_) {
    if (std::optional<HeartbeatThread::Event> event = heartbeat_->take_event()) {
      if (event->kind == HeartbeatThread::EventKind::kCoordinatorLost) {
        lose_coordinator(event->status);
        // Found again, the heartbeat thread moves to it; if not, it keeps
        // trying the old one until the session is lost.
        (void)coordinator();
      } else if (event->kind == HeartbeatThread::EventKind::kRebalance) {
        // Revoke, then rejoin; the heartbeats go on until rejoin() pauses them.
        if (state_ == State::kStable) rejoin_needed_ = true;
      } else if (state_ == State::kStable) {
        bool forget_id = event->kind == HeartbeatThread::EventKind::kLeftGroup ||
                         event->status.code() == ErrorCode::kUnknownMemberId;
        end_generation(event->status, forget_id);
      }
    }
  }
  return state_ == State::kStable && rejoin_needed_;
}

void ConsumerCoordinator::end_generation(const Status& why, bool forget_member_id) {
  (void)why;
  rejoin_needed_ = true;
  if (forget_member_id) member_id_.clear();
  if (heartbeat_) heartbeat_->pause();
}

void ConsumerCoordinator::rejoin(std::vector<TopicPartition> owned) {
  if (heartbeat_) heartbeat_->pause();
  owned_before_join_ = std::move(owned);
  rejoin_needed_ = false;
  generation_id_ = -1;
  state_ = State::kJoining;
  request_in_flight_ = -1;
  retry_join_at_ms_ = 0;
}

Status ConsumerCoordinator::send_join() {
  MQ_ASSIGN_OR_RETURN(transport::Connection * connection, coordinator());
  transport::ConsumerSubscription subscription{
      .topics = topics_, .owned_partitions = group_by_topic(owned_before_join_)};
  transport::Bytes metadata = transport::encode_subscription(subscription);
  transport::JoinGroupRequest request{
      .group_id = config_.group_id,
      .session_timeout_ms = config_.session_timeout_ms,
      .rebalance_timeout_ms = config_.max_poll_interval_ms,
      .member_id = member_id_,
      .group_instance_id = config_.group_instance_id,
      .protocol_type = std::string(transport::kConsumerProtocolType)};
  for (const std::string& name : config_.partition_assignment_strategy) {
    request.protocols.push_back({.name = name, .metadata = metadata});
  }
  MQ_ASSIGN_OR_RETURN(int16_t version, connection->version_for(transport::ApiKey::kJoinGroup));
  MQ_ASSIGN_OR_RETURN(request_in_flight_, connection->send(request, version));
  // The coordinator holds a JoinGroup until every member rejoined or the
  // rebalance timeout passed.
  request_deadline_ms_ = steady_ms() + config_.max_poll_interval_ms + config_.request_timeout_ms;
  return Status::ok();
}

Status ConsumerCoordinator::send_sync() {
  MQ_ASSIGN_OR_RETURN(transport::Connection * connection, coordinator());
  transport::SyncGroupRequest request{
      .group_id = config_.group_id,
      .generation_id = generation_id_,
      .member_id = member_id_,
      .group_instance_id = config_.group_instance_id,
      .protocol_type = std::string(transport::kConsumerProtocolType),
      .protocol_name = protocol_name_};
  MQ_ASSIGN_OR_RETURN(int16_t version, connection->version_for(transport::ApiKey::kSyncGroup));
  MQ_ASSIGN_OR_RETURN(request_in_flight_, connection->send(request, version));
  request_deadline_ms_ = steady_ms() + config_.request_timeout_ms;
  state_ = State::kSyncing;
  return Status::ok();
}

Result<std::optional<std::vector<TopicPartition>>> ConsumerCoordinator::continue_join(
    int max_wait_ms) {
  using Assignment = std::optional<std::vector<TopicPartition>>;
  if (state_ == State::kIdle || state_ == State::kStable) return Assignment();
  if (request_in_flight_ < 0) {
    if (steady_ms() < retry_join_at_ms_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::clamp<int64_t>(retry_join_at_ms_ - steady_ms(), 0, max_wait_ms)));
      return Assignment();
    }
    Status sent = state_ == State::kSyncing ? send_sync() : send_join();
    if (!sent.is_ok()) {
      retry_join_at_ms_ = steady_ms() + std::max(config_.retry_backoff_ms, 1);
      if (lost_connection(sent.code())) lose_coordinator(sent);
      if (is_coordinator_error(sent.code()) || lost_connection(sent.code()) ||
          sent.code() == ErrorCode::kBrokerNotAvailable) {
        return Assignment();
      }
      return sent;
    }
  }
  int32_t correlation_id = request_in_flight_;
  Result<transport::InboundResponse> response = connection_->receive_for(
      correlation_id, std::min(max_wait_ms, remaining_ms(request_deadline_ms_)));
  if (!response.is_ok()) {
    if (response.code() == ErrorCode::kRequestTimedOut && steady_ms() < request_deadline_ms_) {
      return Assignment();  // not answered yet
    }
    lose_coordinator(response.status());
    return Assignment();
  }
  request_in_flight_ = -1;
  if (state_ == State::kJoining) {
    Result<transport::JoinGroupResponse> join =
        transport::decode_response<transport::JoinGroupResponse>(*response);
    if (!join.is_ok()) return join.status();
    switch (join->error_code) {
      case ErrorCode::kNone:
        generation_id_ = join->generation_id;
        member_id_ = join->member_id;
        protocol_name_ = join->protocol_name.value_or("");
        MQ_RETURN_IF_ERROR(send_sync());
        return Assignment();
      case ErrorCode::kMemberIdRequired:
        // The coordinator named us; join again with that id, at once.
        member_id_ = join->member_id;
        return Assignment();
      case ErrorCode::kUnknownMemberId:
        member_id_.clear();
        return Assignment();
      case ErrorCode::kRebalanceInProgress:
      case ErrorCode::kIllegalGeneration:
        return Assignment();
      default:
        if (is_coordinator_error(join->error_code)) {
          Status why(join->error_code, "JoinGroup: " + std::string(error_name(join->error_code)));
          if (join->error_code != ErrorCode::kCoordinatorLoadInProgress) lose_coordinator(why);
          retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
          return Assignment();
        }
        retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
        return Status(join->error_code, "cannot join group " + config_.group_id + ": " +
                                            std::string(error_name(join->error_code)));
    }
  }
  Result<transport::SyncGroupResponse> sync =
      transport::decode_response<transport::SyncGroupResponse>(*response);
  if (!sync.is_ok()) return sync.status();
  if (sync->error_code != ErrorCode::kNone) {
    state_ = State::kJoining;
    if (sync->error_code == ErrorCode::kUnknownMemberId) member_id_.clear();
    if (is_coordinator_error(sync->error_code)) {
      lose_coordinator(Status(sync->error_code, "SyncGroup"));
      retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
      return Assignment();
    }
    if (is_fencing_error(sync->error_code)) return Assignment();
    retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
    return Status(sync->error_code, "SyncGroup of group " + config_.group_id + ": " +
                                        std::string(error_name(sync->error_code)));
  }
  Result<transport::ConsumerAssignment> assignment = transport::decode_assignment(sync->assignment);
  if (!assignment.is_ok()) {
    state_ = State::kJoining;
    retry_join_at_ms_ = steady_ms() + config_.retry_backoff_ms;
    return assignment.status();
  }
  std::vector<TopicPartition> partitions;
  for (const auto& topic : assignment->partitions) {
    for (int32_t p : topic.partitions) partitions.push_back({topic.topic, p});
  }
  std::ranges::sort(partitions);
  state_ = State::kStable;
  if (!heartbeat_) {
    heartbeat_ = std::make_unique<HeartbeatThread>(
        HeartbeatSettings{.group_id = config_.group_id,
                          .group_instance_id = config_.group_instance_id,
                          .client_id = config_.client_id,
                          .heartbeat_interval_ms = config_.heartbeat_interval_ms,
                          .session_timeout_ms = config_.session_timeout_ms,
                          .max_poll_interval_ms = config_.max_poll_interval_ms,
                          .request_timeout_ms = config_.request_timeout_ms,
                          .curve = curve_client_of(config_.curve)});
  }
  heartbeat_->note_poll();
  heartbeat_->beat(coordinator_endpoint_, generation_id_, member_id_);
  return Assignment(std::move(partitions));
}

transport::OffsetCommitRequest ConsumerCoordinator::commit_request(
    const std::map<TopicPartition, int64_t>& offsets) const {
  transport::OffsetCommitRequest request{.group_id = config_.group_id,
                                         .generation_id = subscribed() ? generation_id_ : -1,
                                         .member_id = subscribed() ? member_id_ : std::string(),
                                         .group_instance_id = config_.group_instance_id};
  for (const auto& [tp, offset] : offsets) {
    if (request.topics.empty() || request.topics.back().name != tp.topic) {
      request.topics.push_back({.name = tp.topic});
    }
    request.topics.back().partitions.push_back(
        {.partition_index = tp.partition, .committed_offset = offset});
  }
  return request;
}

Status ConsumerCoordinator::commit_status(const transport::OffsetCommitResponse& response) {
  std::string failed;
  ErrorCode first = ErrorCode::kNone;
  for (const auto& topic : response.topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code == ErrorCode::kNone) continue;
      if (first == ErrorCode::kNone) first = partition.error_code;
      if (!failed.empty()) failed += ", ";
      failed += topic.name + "-" + std::to_string(partition.partition_index) + ": " +
                std::string(error_name(partition.error_code));
    }
  }
  if (first == ErrorCode::kNone) return Status::ok();
  if (is_fencing_error(first) && state_ == State::kStable) {
    // A zombie of an old generation: its partitions may belong to another member now.
    end_generation(Status(first, "commit fenced"), first == ErrorCode::kUnknownMemberId);
  }
  return Status(first, "commit to group " + config_.group_id + " failed: " + failed);
}

Status ConsumerCoordinator::commit_sync(const std::map<TopicPartition, int64_t>& offsets,
                                        int timeout_ms) {
  if (offsets.empty()) return Status::ok();
  if (subscribed() && state_ != State::kStable) {
    return Status(ErrorCode::kRebalanceInProgress, "the consumer is rejoining group " +
                                                       config_.group_id +
                                                       " and owns no partitions to commit");
  }
  MQ_ASSIGN_OR_RETURN(
      transport::OffsetCommitResponse response,
      call(commit_request(offsets), steady_ms() + timeout_ms, commit_coordinator_error));
  return commit_status(response);
}

void ConsumerCoordinator::commit_async(const std::map<TopicPartition, int64_t>& offsets,
                                       CommitDone done) {
  auto fail = [&](const Status& status) {
    if (done) done(status);
  };
  if (offsets.empty()) return fail(Status::ok());
  if (subscribed() && state_ != State::kStable) {
    return fail(Status(ErrorCode::kRebalanceInProgress, "the consumer is rejoining group " +
                                                            config_.group_id +
                                                            " and owns no partitions to commit"));
  }
  Result<transport::Connection*> connection = coordinator();
  if (!connection.is_ok()) return fail(connection.status());
  Result<int16_t> version = (*connection)->version_for(transport::ApiKey::kOffsetCommit);
  if (!version.is_ok()) return fail(version.status());
  Result<int32_t> sent = (*connection)->send(commit_request(offsets), *version);
  if (!sent.is_ok()) {
    lose_coordinator(sent.status());
    return fail(sent.status());
  }
  pending_commits_.push_back({.correlation_id = *sent,
                              .deadline_ms = steady_ms() + config_.request_timeout_ms,
                              .offsets = offsets,
                              .done = std::move(done)});
}

void ConsumerCoordinator::complete_async_commits(int wait_ms) {
  const int64_t deadline = steady_ms() + wait_ms;
  // Callbacks run after the bookkeeping, so one may commit again.
  std::vector<std::pair<CommitDone, Status>> finished;
  for (auto it = pending_commits_.begin(); it != pending_commits_.end();) {
    Result<transport::InboundResponse> response =
        connection_->receive_for(it->correlation_id, remaining_ms(deadline));
    if (!response.is_ok() && response.code() == ErrorCode::kRequestTimedOut &&
        steady_ms() < it->deadline_ms) {
      ++it;
      continue;
    }
    Status status;
    if (!response.is_ok()) {
      connection_->forget(it->correlation_id);
      status = response.status();
    } else {
      Result<transport::OffsetCommitResponse> decoded =
          transport::decode_response<transport::OffsetCommitResponse>(*response);
      status = decoded.is_ok() ? commit_status(*decoded) : decoded.status();
    }
    finished.emplace_back(std::move(it->done), status);
    it = pending_commits_.erase(it);
    if (is_coordinator_error(status.code()) || lost_connection(status.code())) {
      lose_coordinator(status);
      break;
    }
  }
  for (auto& [done, status] : finished) {
    if (done) done(status);
  }
}

Result<std::map<TopicPartition, int64_t>> ConsumerCoordinator::fetch_committed(
    const std::vector<TopicPartition>& partitions, int timeout_ms) {
  std::map<TopicPartition, int64_t> committed;
  if (partitions.empty()) return committed;
  transport::OffsetFetchRequest request{.group_id = config_.group_id};
  request.topics.emplace();
  for (const auto& [topic, indexes] : group_by_topic(partitions)) {
    request.topics->push_back({.name = topic, .partition_indexes = indexes});
  }
  // A broadcast member reads its own offsets, not the group's.
  if (protocol_name_ == transport::kAssignorBroadcast) request.member_id = member_id_;
  MQ_ASSIGN_OR_RETURN(transport::OffsetFetchResponse response,
                      call(request, steady_ms() + timeout_ms,
                           [](const transport::OffsetFetchResponse& r) { return r.error_code; }));
  if (response.error_code != ErrorCode::kNone) {
    return Status(response.error_code, "OffsetFetch of group " + config_.group_id + ": " +
                                           std::string(error_name(response.error_code)));
  }
  for (const TopicPartition& tp : partitions) committed[tp] = -1;
  for (const auto& topic : response.topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code != ErrorCode::kNone) {
        return Status(partition.error_code, "OffsetFetch of " + topic.name + "-" +
                                                std::to_string(partition.partition_index) + ": " +
                                                std::string(error_name(partition.error_code)));
      }
      committed[{topic.name, partition.partition_index}] = partition.committed_offset;
    }
  }
  return committed;
}

Status ConsumerCoordinator::leave(int timeout_ms) {
  heartbeat_.reset();
  const int64_t deadline = steady_ms() + timeout_ms;
  while (!pending_commits_.empty() && steady_ms() < deadline && connection_ != nullptr) {
    complete_async_commits(std::min(remaining_ms(deadline), 50));
  }
  if (connection_ != nullptr) complete_async_commits(0);
  Status status;
  if (!member_id_.empty()) {
    transport::LeaveGroupRequest request{.group_id = config_.group_id};
    request.members.push_back(
        {.member_id = member_id_, .group_instance_id = config_.group_instance_id});
    Result<transport::LeaveGroupResponse> response = call(
        request, deadline, [](const transport::LeaveGroupResponse& r) { return r.error_code; });
    if (!response.is_ok()) {
      status = response.status();
    } else if (response->error_code != ErrorCode::kNone) {
      status = Status(response->error_code,
                      "LeaveGroup: " + std::string(error_name(response->error_code)));
    }
  }
  member_id_.clear();
  generation_id_ = -1;
  state_ = State::kIdle;
  topics_.clear();
  return status;
}

}  // namespace mq::client
