// RequestHandler: one function per api.
#include "broker/request_handler.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <mutex>

#include "broker/delayed_produce.h"
#include "store/record_batch.h"
#include "transport/messages.h"

namespace mq::broker {

using namespace mq::transport;
using Clock = std::chrono::steady_clock;

namespace {

// A starting broker holds every request until its metadata has caught up
// and the controller has unfenced it: until then its image may lack topics
// or show an earlier incarnation's leaderships, and a topic created through
// it could not be placed on it (a cluster of one would have no live broker).
// Only ApiVersions and DescribeQuorum, which need no metadata, are answered
// at once.
bool waits_for_catch_up(ApiKey api) {
  return api != ApiKey::kApiVersions && api != ApiKey::kDescribeQuorum;
}

bool is_group_api(ApiKey api) {
  switch (api) {
    case ApiKey::kFindCoordinator:
    case ApiKey::kJoinGroup:
    case ApiKey::kSyncGroup:
    case ApiKey::kHeartbeat:
    case ApiKey::kLeaveGroup:
    case ApiKey::kOffsetCommit:
    case ApiKey::kOffsetFetch:
    case ApiKey::kOffsetDelete:
    case ApiKey::kListGroups:
    case ApiKey::kDescribeGroups:
    case ApiKey::kDeleteGroups:
      return true;
    default:
      return false;
  }
}

uint64_t count_records(std::span<const uint8_t> batches) {
  uint64_t n = 0;
  BatchCursor cursor(batches);
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> h = parse_batch_header(batch);
    if (h.is_ok()) n += static_cast<uint64_t>(h->record_count);
  }
  return n;
}

}  // namespace

struct RequestHandler::HeldRequest {
  InboundRequest request;
  Reply reply;
  Clock::time_point started;
};

struct RequestHandler::FetchState {
  InboundRequest request;
  FetchRequest fetch;
  Reply reply;
  Clock::time_point started;
  Clock::time_point deadline;
  std::atomic<bool> done{false};
  std::atomic<bool> retry_queued{false};
  std::mutex mu;  // guards waits: registration races with wake-ups on other threads
  std::vector<std::pair<std::shared_ptr<Partition>, uint64_t>> waits;

  void cancel_waits() {
    std::lock_guard lock(mu);
    for (auto& [partition, ticket] : waits) partition->cancel_wait(ticket);
    waits.clear();
  }
};

void RequestHandler::handle(InboundRequest request, Reply reply) {
  auto started = Clock::now();
  ApiKey api = request.header.api_key;
  // Wraps `reply` to record the request's outcome in the metrics.
  Reply timed = [this, api, started, reply = std::move(reply)](Frames frames) {
    ErrorCode code = ErrorCode::kNone;
    if (!frames.empty()) {
      Result<ResponseHeader> header = decode_response_header(frames.front().bytes());
      if (header.is_ok()) code = header->error_code;
    }
    metrics_.observe_request(api_name(api), code,
                             std::chrono::duration<double>(Clock::now() - started).count());
    reply(std::move(frames));
  };
  if (cluster_ != nullptr && waits_for_catch_up(api) && !cluster_->caught_up()) {
    return hold_until_caught_up(
        std::make_shared<HeldRequest>(HeldRequest{std::move(request), std::move(timed), started}));
  }
  dispatch(std::move(request), std::move(timed), started);
}

void RequestHandler::hold_until_caught_up(std::shared_ptr<HeldRequest> held) {
  if (cluster_->caught_up()) {
    return dispatch(std::move(held->request), std::move(held->reply), held->started);
  }
  if (Clock::now() - held->started >= kCatchUpHold) {
    if (!held->request.header.expects_response()) return held->reply({});
    ApiKey api = held->request.header.api_key;
    // Retriable: the client asks again, here or at another broker.
    return held->reply(encode_error_response(
        held->request.header,
        is_group_api(api) ? ErrorCode::kCoordinatorNotAvailable : ErrorCode::kLeaderNotAvailable,
        "broker " + std::to_string(identity_.node_id) +
            " has not caught up with the cluster metadata since it started"));
  }
  scheduler_.run_at(Clock::now() + std::chrono::milliseconds(10),
                    [this, held] { hold_until_caught_up(held); });
}

void RequestHandler::dispatch(InboundRequest request, Reply timed, Clock::time_point started) {
  ApiKey api = request.header.api_key;
  switch (api) {
    case ApiKey::kFetch: {
      Result<FetchRequest> fetch_request = decode_request<FetchRequest>(request);
      if (!fetch_request.is_ok()) {
        return timed(encode_error_response(request.header, fetch_request.code(),
                                           fetch_request.status().message()));
      }
      if (fetch_request->replica_id < kConsumerReplicaId) {
        return timed(
            encode_error_response(request.header, ErrorCode::kInvalidRequest,
                                  "replica_id " + std::to_string(fetch_request->replica_id) +
                                      " is neither -1 (a consumer) nor a broker id (a follower)"));
      }
      auto state = std::make_shared<FetchState>();
      state->fetch = std::move(fetch_request).value();
      state->request = std::move(request);
      state->reply = timed;
      state->started = started;
      int32_t wait_ms = std::clamp(state->fetch.max_wait_ms, 0, replicas_.fetch_max_wait_ms());
      state->deadline = started + std::chrono::milliseconds(wait_ms);
      return fetch(state);
    }
    case ApiKey::kProduce:
      return produce(request, timed);
    case ApiKey::kMetadata:
      return serve<MetadataRequest>(request, timed,
                                    [this](const auto& r) { return cluster_->metadata(r); });
    case ApiKey::kListOffsets:
      return serve<ListOffsetsRequest>(request, timed,
                                       [this](const auto& r) { return list_offsets(r); });
    case ApiKey::kInitProducerId:
      return serve<InitProducerIdRequest>(request, timed,
                                          [this](const auto& r) { return init_producer_id(r); });
    case ApiKey::kApiVersions:
      return serve<ApiVersionsRequest>(request, timed,
                                       [this](const auto& r) { return api_versions(r); });
    case ApiKey::kCreateTopics:
      return serve<CreateTopicsRequest>(request, timed,
                                        [this](const auto& r) { return create_topics(r); });
    case ApiKey::kDeleteTopics:
      return serve<DeleteTopicsRequest>(request, timed,
                                        [this](const auto& r) { return delete_topics(r); });
    case ApiKey::kCreatePartitions:
      return serve<CreatePartitionsRequest>(request, timed,
                                            [this](const auto& r) { return create_partitions(r); });
    case ApiKey::kDescribeConfigs:
      return serve<DescribeConfigsRequest>(request, timed,
                                           [this](const auto& r) { return describe_configs(r); });
    case ApiKey::kAlterConfigs:
      return serve<AlterConfigsRequest>(request, timed,
                                        [this](const auto& r) { return alter_configs(r); });
    case ApiKey::kElectLeaders:
      return serve<ElectLeadersRequest>(
          request, timed, [this](const auto& r) { return cluster_->elect_leaders(r); });
    case ApiKey::kDescribeQuorum:
      return serve<DescribeQuorumRequest>(
          request, timed, [this](const auto&) { return cluster_->describe_quorum(); });
    case ApiKey::kAlterPartitionReassignments:
      return serve<transport::AlterPartitionReassignmentsRequest>(
          request, timed, [this](const auto& r) { return cluster_->alter_reassignments(r); });
    case ApiKey::kListPartitionReassignments:
      return serve<transport::ListPartitionReassignmentsRequest>(
          request, timed, [this](const auto& r) { return cluster_->list_reassignments(r); });
    case ApiKey::kAddRaftVoter:
      return serve<transport::AddRaftVoterRequest>(
          request, timed, [this](const auto& r) { return cluster_->add_raft_voter(r); });
    case ApiKey::kRemoveRaftVoter:
      return serve<transport::RemoveRaftVoterRequest>(
          request, timed, [this](const auto& r) { return cluster_->remove_raft_voter(r); });
    case ApiKey::kUnregisterBroker:
      return serve<transport::UnregisterBrokerRequest>(
          request, timed, [this](const auto& r) { return cluster_->unregister_broker(r); });
    case ApiKey::kDescribeCluster:
      return serve<transport::DescribeClusterRequest>(
          request, timed, [this](const auto&) { return cluster_->describe_cluster(); });
    case ApiKey::kOffsetForLeaderEpoch:
      return serve<OffsetForLeaderEpochRequest>(
          request, timed, [this](const auto& r) { return offset_for_leader_epoch(r); });
    case ApiKey::kFindCoordinator:
      return serve<FindCoordinatorRequest>(request, timed,
                                           [this](const auto& r) { return find_coordinator(r); });
    case ApiKey::kJoinGroup:
      return join_group(request, timed);
    case ApiKey::kSyncGroup:
      return serve_group<SyncGroupRequest>(request, timed,
                                           [](auto& c, const auto& r) { return c.sync(r); });
    case ApiKey::kHeartbeat:
      return serve_group<HeartbeatRequest>(request, timed,
                                           [](auto& c, const auto& r) { return c.heartbeat(r); });
    case ApiKey::kLeaveGroup:
      return serve_group<LeaveGroupRequest>(request, timed,
                                            [](auto& c, const auto& r) { return c.leave(r); });
    case ApiKey::kOffsetCommit:
      return serve_group<OffsetCommitRequest>(request, timed,
                                              [](auto& c, const auto& r) { return c.commit(r); });
    case ApiKey::kOffsetFetch:
      return serve_group<OffsetFetchRequest>(
          request, timed, [](auto& c, const auto& r) { return c.fetch_offsets(r); });
    case ApiKey::kOffsetDelete:
      return serve_group<OffsetDeleteRequest>(
          request, timed, [](auto& c, const auto& r) { return c.delete_offsets(r); });
    case ApiKey::kDescribeGroups:
      return serve_group<DescribeGroupsRequest>(
          request, timed, [this](auto& c, const auto& r) { return describe_groups(c, r); });
    case ApiKey::kDeleteGroups:
      return serve_group<DeleteGroupsRequest>(
          request, timed, [this](auto& c, const auto& r) { return delete_groups(c, r); });
    case ApiKey::kListGroups:
      return serve_group<ListGroupsRequest>(request, timed,
                                            [](auto& c, const auto& r) { return c.list(r); });
    default:
      return timed(encode_error_response(
          request.header, ErrorCode::kUnsupportedVersion,
          std::string(api_name(api)) + " is not served by this broker version"));
  }
}

// ---------------------------------------------------------------- groups

namespace {

// The group a request concerns, "" for requests that span groups.
const std::string& group_of(const SyncGroupRequest& r) {
  return r.group_id;
}
const std::string& group_of(const HeartbeatRequest& r) {
  return r.group_id;
}
const std::string& group_of(const LeaveGroupRequest& r) {
  return r.group_id;
}
const std::string& group_of(const OffsetCommitRequest& r) {
  return r.group_id;
}
const std::string& group_of(const OffsetFetchRequest& r) {
  return r.group_id;
}
const std::string& group_of(const OffsetDeleteRequest& r) {
  return r.group_id;
}
const std::string& group_of(const auto&) {
  static const std::string none;
  return none;
}

// The response a group request gets when this broker cannot answer it.
template <class Request>
typename Request::Response refused(const Request& request, ErrorCode code) {
  typename Request::Response response;
  if constexpr (std::is_same_v<Request, OffsetCommitRequest>) {
    for (const auto& t : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, code});
    }
  } else if constexpr (std::is_same_v<Request, DescribeGroupsRequest>) {
    for (const auto& id : request.groups) {
      auto& out = response.groups.emplace_back();
      out.group_id = id;
      out.error_code = code;
    }
  } else if constexpr (std::is_same_v<Request, DeleteGroupsRequest>) {
    for (const auto& id : request.groups_names) response.results.push_back({id, code});
  } else {
    response.error_code = code;
  }
  return response;
}

}  // namespace

ErrorCode RequestHandler::coordinator_error(const std::string& group_id) const {
  if (coordinator_ == nullptr) return ErrorCode::kCoordinatorNotAvailable;
  if (group_id.empty()) return ErrorCode::kNone;
  // The coordinator serves the groups of the offsets partitions it loaded:
  // those this broker leads.
  return coordinator_->group_error(group_id);
}

template <class Request, class Handler>
void RequestHandler::serve_group(const InboundRequest& request, const Reply& reply,
                                 Handler handler) {
  serve<Request>(request, reply, [&](const Request& r) {
    ErrorCode error = coordinator_error(group_of(r));
    if (error != ErrorCode::kNone) return refused(r, error);
    return handler(*coordinator_, r);
  });
}

void RequestHandler::join_group(const InboundRequest& request, const Reply& reply) {
  Result<JoinGroupRequest> join = decode_request<JoinGroupRequest>(request);
  if (!join.is_ok()) {
    return reply(encode_error_response(request.header, join.code(), join.status().message()));
  }
  ErrorCode error = coordinator_error(join->group_id);
  if (error != ErrorCode::kNone) return reply(encode(request.header, refused(*join, error)));
  // Answered when the group's join phase ends, maybe seconds from now.
  coordinator_->join(*join, request.header.client_id, request.peer_address,
                     [reply, header = request.header](JoinGroupResponse response) {
                       reply(encode(header, response));
                     });
}

DescribeGroupsResponse RequestHandler::describe_groups(group::GroupCoordinator& coordinator,
                                                       const DescribeGroupsRequest& request) {
  // Groups coordinated here go to the coordinator in one call; the others
  // get NOT_COORDINATOR; the answer keeps the request's order.
  DescribeGroupsRequest here;
  for (const auto& id : request.groups) {
    if (coordinator_error(id) == ErrorCode::kNone) here.groups.push_back(id);
  }
  DescribeGroupsResponse answered = coordinator.describe(here);
  DescribeGroupsResponse response;
  size_t next = 0;
  for (const auto& id : request.groups) {
    ErrorCode error = coordinator_error(id);
    if (error == ErrorCode::kNone && next < answered.groups.size()) {
      response.groups.push_back(std::move(answered.groups[next++]));
    } else {
      auto& out = response.groups.emplace_back();
      out.group_id = id;
      out.error_code = error == ErrorCode::kNone ? ErrorCode::kNotCoordinator : error;
    }
  }
  return response;
}

DeleteGroupsResponse RequestHandler::delete_groups(group::GroupCoordinator& coordinator,
                                                   const DeleteGroupsRequest& request) {
  DeleteGroupsRequest here;
  for (const auto& id : request.groups_names) {
    if (coordinator_error(id) == ErrorCode::kNone) here.groups_names.push_back(id);
  }
  DeleteGroupsResponse answered = coordinator.delete_groups(here);
  DeleteGroupsResponse response;
  size_t next = 0;
  for (const auto& id : request.groups_names) {
    ErrorCode error = coordinator_error(id);
    if (error == ErrorCode::kNone && next < answered.results.size()) {
      response.results.push_back(std::move(answered.results[next++]));
    } else {
      response.results.push_back(
          {id, error == ErrorCode::kNone ? ErrorCode::kNotCoordinator : error});
    }
  }
  return response;
}

FindCoordinatorResponse RequestHandler::find_coordinator(const FindCoordinatorRequest& request) {
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
  if (coordinator_ == nullptr) {
    response.error_code = ErrorCode::kCoordinatorNotAvailable;
    return response;
  }
  // The leader of the group's offsets partition, from the metadata (which
  // may be another broker, or this one still loading).
  const std::string topic(group::kOffsetsTopic);
  const int32_t partition = coordinator_->partition_for(request.key);
  MetadataRequest which;
  which.topics = std::vector<std::string>{topic};
  which.allow_auto_topic_creation = false;
  MetadataResponse metadata = cluster_->metadata(which);
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

// ---------------------------------------------------------------- topics

std::shared_ptr<Partition> RequestHandler::find_partition(const std::string& topic, int32_t index,
                                                          bool may_create, ErrorCode* error) {
  std::shared_ptr<Partition> partition = replicas_.partition(topic, index);
  if (partition) return partition;
  if (cluster_ != nullptr && cluster_->knows_partition(topic, index)) {
    // Another broker holds it: the client's metadata is stale.
    *error = ErrorCode::kNotLeader;
    return nullptr;
  }
  if (may_create && cluster_ != nullptr && !replicas_.topic(topic)) {
    BrokerConfig config = replicas_.config();
    if (config.auto_create_topics) {
      Status st = cluster_->create_topic(topic, -1, -1, {}, {}, false);
      if (!st.is_ok() && st.code() != ErrorCode::kTopicAlreadyExists) {
        *error = st.code() == ErrorCode::kInvalidTopic ? ErrorCode::kInvalidTopic
                                                       : ErrorCode::kUnknownTopicOrPartition;
        return nullptr;
      }
      partition = replicas_.partition(topic, index);
      if (partition) return partition;
    }
  }
  *error = ErrorCode::kUnknownTopicOrPartition;
  return nullptr;
}

void RequestHandler::produce(const InboundRequest& request, const Reply& reply) {
  Result<ProduceRequest> decoded = decode_request<ProduceRequest>(request);
  if (!decoded.is_ok()) {
    return reply(encode_error_response(request.header, decoded.code(), decoded.status().message()));
  }
  std::vector<DelayedProduce::Pending> pending;
  ProduceResponse response = produce(*decoded, &pending);
  if (!request.header.expects_response()) return reply({});
  if (pending.empty()) return reply(encode(request.header, response));
  // acks=all with batches not yet replicated: answered by a wake-up or the
  // deadline, on a worker, without holding this one.
  auto deadline = Clock::now() + std::chrono::milliseconds(std::max(decoded->timeout_ms, 0));
  DelayedProduce::start(scheduler_, std::move(response), std::move(pending), deadline,
                        [reply, header = request.header](ProduceResponse answered) {
                          reply(encode(header, answered));
                        });
}

ProduceResponse RequestHandler::produce(const ProduceRequest& produce,
                                        std::vector<DelayedProduce::Pending>* pending) {
  ProduceResponse response;
  bool valid_acks =
      produce.acks == kAcksAll || produce.acks == kAcksLeader || produce.acks == kAcksNone;
  for (const auto& topic : produce.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      if (!valid_acks) {
        out.error_code = ErrorCode::kInvalidRequiredAcks;
        out.error_message = "acks must be -1, 0 or 1";
        continue;
      }
      if (topic.name == group::kOffsetsTopic) {
        out.error_code = ErrorCode::kInvalidTopic;
        out.error_message = "__consumer_offsets is internal: only the group coordinator writes it";
        continue;
      }
      if (disk_ != nullptr && disk_->full()) {
        out.error_code = ErrorCode::kDiskFull;
        out.error_message = disk_->why();
        disk_->note_refused();
        continue;
      }
      ErrorCode error = ErrorCode::kNone;
      std::shared_ptr<Partition> partition =
          find_partition(topic.name, p.partition_index, true, &error);
      if (!partition) {
        out.error_code = error;
        continue;
      }
      if (Status fenced = check_producer_epochs(p.records.bytes()); !fenced.is_ok()) {
        out.error_code = fenced.code();
        out.error_message = fenced.message();
        continue;
      }
      // The log stamps offsets and epochs into the batches it appends, so it
      // needs its own copy of the bytes (one memcpy; nothing is re-encoded).
      std::string batches(p.records.as_string_view());
      int32_t epoch = 0;
      Result<AppendResult> appended =
          partition->append_as_leader(as_writable_bytes(batches), produce.acks, &epoch);
      out.log_start_offset = partition->log().log_start_offset();
      if (!appended.is_ok()) {
        out.error_code = appended.code();
        out.error_message = appended.status().message();
        if (appended.code() == ErrorCode::kDiskFull && disk_ != nullptr) disk_->note_enospc();
        continue;
      }
      out.base_offset = appended->base_offset;
      out.log_append_time_ms = appended->log_append_time;
      if (!appended->duplicate) {
        metrics_.add_produced(topic.name, batches.size(),
                              static_cast<uint64_t>(appended->record_count));
      }
      if (produce.acks == kAcksAll) {
        // A leader alone in its ISR has its high watermark past the batch already.
        std::optional<ErrorCode> outcome =
            partition->acks_all_outcome(appended->last_offset, epoch);
        if (!outcome) {
          pending->push_back({.partition = partition,
                              .leader_epoch = epoch,
                              .last_offset = appended->last_offset,
                              .topic_index = response.topics.size() - 1,
                              .partition_index = out_topic.partitions.size() - 1});
        } else if (*outcome != ErrorCode::kNone) {
          out.error_code = *outcome;
          out.error_message = "leadership or the ISR changed during the append";
          out.base_offset = -1;
        }
      }
    }
  }
  return response;
}

Status RequestHandler::check_producer_epochs(std::span<const uint8_t> batches) const {
  BatchCursor cursor(batches);
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> h = parse_batch_header(batch);
    if (!h.is_ok() || !h->is_idempotent()) continue;  // the log's checks answer these
    int16_t current = replicas_.producer_epoch(h->producer_id);
    if (h->producer_epoch < current) {
      return Status(ErrorCode::kInvalidProducerEpoch,
                    "producer " + std::to_string(h->producer_id) + " epoch " +
                        std::to_string(h->producer_epoch) + " is fenced: InitProducerId bumped " +
                        "it to epoch " + std::to_string(current));
    }
  }
  return Status::ok();
}

void RequestHandler::fetch(std::shared_ptr<FetchState> state) {
  if (state->done.load()) return;
  const FetchRequest& wanted = state->fetch;
  FetchResponse response;
  int64_t budget = wanted.max_bytes > 0 ? wanted.max_bytes : INT32_MAX;
  int64_t total = 0;
  bool any_error = false;
  // Followers (replica_id >= 0) read up to the log end and report their
  // position; consumers read up to the high watermark.
  const bool from_follower = wanted.replica_id >= 0;
  const WaitBound bound = from_follower ? WaitBound::kLogEnd : WaitBound::kHighWatermark;
  std::vector<std::pair<std::shared_ptr<Partition>, int64_t>> watch;
  for (const auto& topic : wanted.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      ErrorCode error = ErrorCode::kNone;
      std::shared_ptr<Partition> partition =
          find_partition(topic.name, p.partition_index, false, &error);
      if (!partition) {
        out.error_code = error;
        any_error = true;
        continue;
      }
      out.log_start_offset = partition->log().log_start_offset();
      out.log_end_offset = partition->log().log_end_offset();
      ErrorCode refused = partition->check_leader(p.current_leader_epoch);
      if (refused == ErrorCode::kNone && from_follower) {
        refused = partition->record_follower_fetch(wanted.replica_id, p.fetch_offset);
      }
      // Read after the follower's position moved it: the answer carries the new HW.
      out.high_watermark = partition->high_watermark();
      out.last_stable_offset = out.high_watermark;
      if (refused != ErrorCode::kNone) {
        out.error_code = refused;
        any_error = true;
        continue;
      }
      int64_t limit = std::min<int64_t>(
          p.partition_max_bytes > 0 ? p.partition_max_bytes : INT32_MAX, budget - total);
      if (limit <= 0 && total > 0) continue;  // the response is full; the client asks again
      // Consumers read only committed data: nothing at or past the high watermark.
      Result<LogReadResult> read =
          partition->log().read(p.fetch_offset, static_cast<size_t>(std::max<int64_t>(limit, 1)),
                                from_follower ? INT64_MAX : out.high_watermark);
      if (!read.is_ok()) {
        out.error_code = read.code();
        any_error = true;
        continue;
      }
      if (read->bytes.empty()) {
        watch.emplace_back(partition, p.fetch_offset);
        continue;
      }
      total += static_cast<int64_t>(read->bytes.size());
      auto owner = std::make_shared<std::string>(std::move(read->bytes));
      out.records = Frame(as_bytes(*owner), owner);
    }
  }
  bool enough = total >= std::max(wanted.min_bytes, 1) || any_error;
  bool expired = Clock::now() >= state->deadline;
  if (!enough && !expired && !watch.empty()) {
    // Long poll: try again when any watched partition gets data, or at the deadline.
    state->retry_queued = false;
    // The closures own the state: it lives until the fetch is answered and,
    // for the deadline's closure, until the deadline passes.
    auto retry = [this, s = state] {
      if (!s->done.load() && !s->retry_queued.exchange(true)) {
        scheduler_.run([this, s] {
          s->cancel_waits();
          this->fetch(s);
        });
      }
    };
    {
      std::lock_guard lock(state->mu);
      for (auto& [partition, offset] : watch) {
        uint64_t ticket = partition->on_data_after(offset, retry, bound);
        if (ticket != 0) state->waits.emplace_back(partition, ticket);
      }
    }
    scheduler_.run_at(state->deadline, retry);
    return;
  }
  if (state->done.exchange(true)) return;
  state->cancel_waits();
  for (const auto& topic : response.topics) {
    if (from_follower) break;  // replication traffic is not consumption
    uint64_t bytes = 0, messages = 0;
    for (const auto& p : topic.partitions) {
      bytes += p.records.size();
      messages += count_records(p.records.bytes());
    }
    if (bytes > 0) metrics_.add_fetched(topic.name, bytes, messages);
  }
  state->reply(encode(state->request.header, response));
}

ListOffsetsResponse RequestHandler::list_offsets(const ListOffsetsRequest& req) {
  ListOffsetsResponse response;
  for (const auto& topic : req.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      ErrorCode error = ErrorCode::kNone;
      std::shared_ptr<Partition> partition =
          find_partition(topic.name, p.partition_index, false, &error);
      if (!partition) {
        out.error_code = error;
        continue;
      }
      out.leader_epoch = partition->leader_epoch();
      constexpr int64_t kLatest = -1, kEarliest = -2;
      if (p.timestamp == kEarliest) {
        out.offset = partition->log().log_start_offset();
      } else if (p.timestamp == kLatest) {
        out.offset = partition->high_watermark();
      } else if (p.timestamp < 0) {
        out.error_code = ErrorCode::kInvalidRequest;
      } else {
        Result<std::optional<int64_t>> found = partition->log().offset_for_timestamp(p.timestamp);
        if (!found.is_ok()) {
          out.error_code = found.code();
        } else if (*found && **found < partition->high_watermark()) {
          out.offset = **found;
          out.timestamp = p.timestamp;
        } else {
          out.offset = -1;  // no record at or after that time (Kafka's answer)
        }
      }
    }
  }
  return response;
}

InitProducerIdResponse RequestHandler::init_producer_id(const InitProducerIdRequest& req) {
  InitProducerIdResponse response;
  bool new_id = req.producer_id == -1 && req.producer_epoch == -1;
  bool existing_id = req.producer_id >= 0 && req.producer_epoch >= 0;
  if (req.transactional_id || (!new_id && !existing_id)) {
    // The response has no message: the cases are in docs/protocol.md.
    response.error_code = ErrorCode::kInvalidRequest;
  } else if (new_id) {
    Result<int64_t> id = replicas_.allocate_producer_id();
    if (id.is_ok()) {
      response.producer_id = *id;
      response.producer_epoch = 0;
    } else {
      response.error_code = id.code();
    }
  } else {
    Result<ProducerIdAndEpoch> bumped =
        replicas_.bump_producer_epoch(req.producer_id, req.producer_epoch);
    if (bumped.is_ok()) {
      response.producer_id = bumped->producer_id;
      response.producer_epoch = bumped->producer_epoch;
    } else {
      spdlog::info("InitProducerId for producer {} epoch {}: {}", req.producer_id,
                   req.producer_epoch, bumped.status().to_string());
      response.error_code = bumped.code();
    }
  }
  return response;
}

ApiVersionsResponse RequestHandler::api_versions(const ApiVersionsRequest&) {
  ApiVersionsResponse response;
  for (const SupportedApi& api : supported_apis()) {
    // Every API this build implements is served.
    auto& out = response.api_keys.emplace_back();
    out.api_key = static_cast<int16_t>(api.api_key);
    out.min_version = api.versions.min_version;
    out.max_version = api.versions.max_version;
  }
  return response;
}

OffsetForLeaderEpochResponse RequestHandler::offset_for_leader_epoch(
    const OffsetForLeaderEpochRequest& request) {
  OffsetForLeaderEpochResponse response;
  for (const auto& topic : request.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      std::shared_ptr<Partition> partition = replicas_.partition(topic.name, p.partition_index);
      if (!partition) {
        out.error_code = ErrorCode::kUnknownTopicOrPartition;
        continue;
      }
      // Only the leader answers, in the epoch the requester knows (when given).
      out.error_code = partition->check_leader(p.current_leader_epoch);
      if (out.error_code != ErrorCode::kNone) continue;
      // Followers see the whole log; consumers (replica_id -1) only what is committed.
      int64_t end =
          request.replica_id >= 0 ? partition->log().log_end_offset() : partition->high_watermark();
      std::optional<EpochEntry> entry =
          partition->log().leader_epochs().end_offset_for(p.leader_epoch, end);
      if (entry) {
        out.leader_epoch = entry->epoch;
        out.end_offset = std::min(entry->start_offset, end);
      }
    }
  }
  return response;
}

}  // namespace mq::broker
