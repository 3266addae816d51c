// ClusterController: one thread deciding, proposing and answering.
#include "broker/cluster_controller.h"

#include <spdlog/spdlog.h>

#include <array>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <type_traits>

#include "base/random_id.h"
#include "broker/replica_manager.h"

namespace mq::broker {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status not_controller() {
  return Status(ErrorCode::kNotController, "this node is no longer the active controller");
}

}  // namespace

ClusterController::ClusterController(ClusterControllerConfig config, quorum::QuorumService& quorum,
                                     MetadataStore& store)
    : config_(std::move(config)), quorum_(quorum), store_(store), thread_([this] { run(); }) {}

ClusterController::~ClusterController() {
  stop();
}

void ClusterController::stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  std::deque<Call> left;
  {
    std::lock_guard lock(mu_);
    left.swap(calls_);
  }
  for (Call& call : left) call.reply(Status(ErrorCode::kNotController, "the broker is stopping"));
}

void ClusterController::handle(quorum::NodeId from, Bytes request, quorum::ReplyFn reply) {
  {
    std::lock_guard lock(mu_);
    if (!active_ || stop_) {
      reply(not_controller());
      return;
    }
    calls_.push_back({from, std::move(request), std::move(reply)});
  }
  cv_.notify_all();
}

void ClusterController::set_active(bool active) {
  {
    std::lock_guard lock(mu_);
    if (active_ == active) return;
    active_ = active;
    activation_++;
  }
  cv_.notify_all();
}

uint64_t ClusterController::decisions() const {
  std::lock_guard lock(mu_);
  return decisions_;
}

void ClusterController::run() {
  uint64_t activation_seen = 0;
  int64_t next_tick_ms = 0;
  std::unique_lock lock(mu_);
  while (!stop_) {
    if (activation_ != activation_seen) {
      activation_seen = activation_;
      bool active = active_;
      lock.unlock();
      if (active) {
        activate();
      } else {
        controller_.reset();
      }
      lock.lock();
      if (!active_) {
        std::deque<Call> dropped;
        dropped.swap(calls_);
        lock.unlock();
        for (Call& call : dropped) call.reply(not_controller());
        lock.lock();
      }
      continue;
    }
    if (!calls_.empty() && controller_) {
      Call call = std::move(calls_.front());
      calls_.pop_front();
      lock.unlock();
      call.reply(dispatch(call.from, call.request));
      lock.lock();
      decisions_++;
      continue;
    }
    int64_t now = now_ms();
    if (controller_ && now >= next_tick_ms) {
      next_tick_ms = now + config_.tick_interval_ms;
      lock.unlock();
      metadata::RecordBatch batch = controller_->tick(now);
      if (!batch.empty()) {
        Result<uint64_t> done = commit(batch);
        if (!done.is_ok())
          spdlog::warn("controller: liveness changes: {}", done.status().to_string());
      }
      if (controller_) {
        metadata::RecordBatch rebalance = controller_->auto_rebalance(now);
        if (!rebalance.empty()) {
          Result<uint64_t> done = commit(rebalance);
          if (!done.is_ok())
            spdlog::warn("controller: leader rebalance: {}", done.status().to_string());
        }
      }
      lock.lock();
      continue;
    }
    cv_.wait_for(lock, std::chrono::milliseconds(
                           controller_ ? std::max<int64_t>(next_tick_ms - now, 1) : 1000));
  }
}

void ClusterController::activate() {
  controller_ = std::make_unique<metadata::Controller>(config_.decisions, store_.image());
  spdlog::info("controller: active at metadata index {}", store_.applied_index());
  // The previous controller's broker heartbeated to itself: its session runs
  // from its last quorum message here, not from now (a full session more).
  quorum::QuorumStatus quorum = quorum_.status();
  if (quorum.last_leader_heard != raft::kNoNode && quorum.last_leader_heard != quorum.id &&
      quorum.last_leader_silence_ms >= 0) {
    controller_->heard_from(quorum.last_leader_heard, now_ms() - quorum.last_leader_silence_ms);
    spdlog::info("controller: broker {} (the previous controller) last heard {} ms ago",
                 quorum.last_leader_heard, quorum.last_leader_silence_ms);
  }
  if (store_.image()->cluster_id().empty()) {
    Result<metadata::RecordBatch> init = controller_->initialize_cluster(random_hex(22));
    if (init.is_ok()) {
      Result<uint64_t> done = commit(*init);
      if (done.is_ok()) {
        spdlog::info("controller: new cluster {}", store_.image()->cluster_id());
      } else {
        spdlog::error("controller: cannot set the cluster id: {}", done.status().to_string());
      }
    }
  }
}

Result<uint64_t> ClusterController::commit(const metadata::RecordBatch& batch) {
  if (!controller_) return not_controller();
  MQ_ASSIGN_OR_RETURN(Bytes bytes, metadata::encode_batch(batch));
  std::future<Result<uint64_t>> proposed = quorum_.propose(std::move(bytes));
  if (proposed.wait_for(std::chrono::milliseconds(config_.commit_timeout_ms)) !=
      std::future_status::ready) {
    // The outcome is unknown; the next decision starts from whatever was applied.
    controller_->update_image(store_.image());
    return Status(ErrorCode::kRequestTimedOut, "the metadata change was not committed within " +
                                                   std::to_string(config_.commit_timeout_ms) +
                                                   " ms");
  }
  Result<uint64_t> index = proposed.get();
  if (!index.is_ok()) {
    controller_->update_image(store_.image());
    return index.status();
  }
  // propose() resolves after the local apply, so the image already has it.
  controller_->update_image(store_.image());
  MQ_RETURN_IF_ERROR(store_.outcome(*index));
  return index;
}

template <class Response, class Decide>
Result<Response> ClusterController::decide(Decide decide) {
  auto decision = decide(*controller_);
  if (!decision.is_ok()) return decision.status();
  if (!decision->records.empty()) MQ_RETURN_IF_ERROR(commit(decision->records).status());
  return std::move(decision->response);
}

// ---- controller calls: one typed handler per kind, found in kHandlers -----

namespace {

// The calls a broker makes about itself: their broker_id is the caller's.
template <class Call>
constexpr bool kNamesCaller =
    std::is_same_v<Call, metadata::BrokerRegistration> ||
    std::is_same_v<Call, metadata::BrokerHeartbeat> ||
    std::is_same_v<Call, metadata::AlterPartitionRequest> ||
    std::is_same_v<Call, BrokerEpochCall> || std::is_same_v<Call, BumpProducerEpochCall>;

// Decodes the call's body as `Call`, runs `method` and encodes its reply.
template <class Call, class Reply, Result<Reply> (ClusterController::*method)(const Call&)>
Bytes typed(ClusterController& controller, quorum::NodeId from, const ControllerCall& call,
            const char* what) {
  Result<Call> decoded =
      transport::decode_struct<Call>(call.body, ErrorCode::kInvalidRequest, what);
  if (!decoded.is_ok()) return encode_reply(Result<Reply>(decoded.status()));
  if constexpr (kNamesCaller<Call>) {
    if (decoded->broker_id != from) {
      return encode_reply(Result<Reply>(Status(
          ErrorCode::kClusterAuthorizationFailed,
          std::string(what) + " for broker " + std::to_string(decoded->broker_id) +
              " from broker " + std::to_string(from) + ": a broker speaks only for itself")));
    }
  }
  return encode_reply((controller.*method)(*decoded));
}

}  // namespace

struct ClusterController::Handler {
  CallKind kind;
  const char* name;
  Bytes (*handle)(ClusterController&, quorum::NodeId, const ControllerCall&, const char*);
};

const std::array<ClusterController::Handler, 18> ClusterController::kHandlers = {{
    {CallKind::kRegisterBroker, "RegisterBroker",
     typed<metadata::BrokerRegistration, RegisterBrokerReply, &ClusterController::register_broker>},
    {CallKind::kBrokerHeartbeat, "BrokerHeartbeat",
     typed<metadata::BrokerHeartbeat, metadata::HeartbeatResponse, &ClusterController::heartbeat>},
    {CallKind::kAlterPartition, "AlterPartition",
     typed<metadata::AlterPartitionRequest, AlterPartitionReply,
           &ClusterController::alter_partition>},
    {CallKind::kAllocateProducerIds, "AllocateProducerIds",
     typed<BrokerEpochCall, metadata::ProducerIdBlock, &ClusterController::allocate_producer_ids>},
    {CallKind::kCreateTopic, "CreateTopic",
     typed<CreateTopicCall, CreateTopicReply, &ClusterController::create_topic>},
    {CallKind::kDeleteTopic, "DeleteTopic",
     typed<DeleteTopicCall, EmptyReply, &ClusterController::delete_topic>},
    {CallKind::kAddPartitions, "AddPartitions",
     typed<AddPartitionsCall, EmptyReply, &ClusterController::add_partitions>},
    {CallKind::kAlterTopicConfigs, "AlterTopicConfigs",
     typed<AlterTopicConfigsCall, EmptyReply, &ClusterController::alter_topic_configs>},
    {CallKind::kElectLeaders, "ElectLeaders",
     typed<ElectLeadersCall, ElectLeadersReply, &ClusterController::elect_leaders>},
    {CallKind::kAlterReassignments, "AlterReassignments",
     typed<AlterReassignmentsCall, AlterReassignmentsReply,
           &ClusterController::alter_reassignments>},
    {CallKind::kControlledShutdown, "ControlledShutdown",
     typed<BrokerEpochCall, metadata::ControlledShutdownResponse,
           &ClusterController::controlled_shutdown>},
    {CallKind::kBumpProducerEpoch, "BumpProducerEpoch",
     typed<BumpProducerEpochCall, BumpProducerEpochReply, &ClusterController::bump_producer_epoch>},
    {CallKind::kBrokersBehind, "BrokersBehind",
     typed<BrokersBehindCall, BrokersBehindReply, &ClusterController::brokers_behind>},
    {CallKind::kAddVoter, "AddVoter",
     typed<VoterChangeCall, EmptyReply, &ClusterController::add_voter>},
    {CallKind::kRemoveVoter, "RemoveVoter",
     typed<VoterChangeCall, EmptyReply, &ClusterController::remove_voter>},
    {CallKind::kUnregisterBroker, "UnregisterBroker",
     typed<UnregisterBrokerCall, EmptyReply, &ClusterController::unregister_broker>},
    {CallKind::kCreateAcls, "CreateAcls",
     typed<transport::CreateAclsRequest, transport::CreateAclsResponse,
           &ClusterController::create_acls>},
    {CallKind::kDeleteAcls, "DeleteAcls",
     typed<transport::DeleteAclsRequest, transport::DeleteAclsResponse,
           &ClusterController::delete_acls>},
}};

Bytes ClusterController::dispatch(quorum::NodeId from, const Bytes& request) {
  Result<ControllerCall> call = transport::decode_versioned_struct<ControllerCall>(
      request, ErrorCode::kInvalidRequest, "controller call");
  if (!call.is_ok()) return encode_reply(Result<EmptyReply>(call.status()));
  for (const Handler& handler : kHandlers) {
    if (handler.kind == call->kind) return handler.handle(*this, from, *call, handler.name);
  }
  return encode_reply(Result<EmptyReply>(
      Status(ErrorCode::kInvalidRequest,
             "unknown controller call kind " + std::to_string(static_cast<int>(call->kind)))));
}

Result<RegisterBrokerReply> ClusterController::register_broker(
    const metadata::BrokerRegistration& r) {
  // A retry of a registration that did commit (the caller's timeout passed
  // first): the same incarnation gets its epoch again.
  if (const metadata::BrokerState* known = store_.image()->broker(r.broker_id);
      known != nullptr && known->incarnation_id == r.incarnation_id) {
    return RegisterBrokerReply{known->broker_epoch};
  }
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, controller_->register_broker(r, now_ms()));
  MQ_RETURN_IF_ERROR(commit(batch).status());
  // An idempotent repeat commits nothing: answer with the registration in the image.
  const metadata::BrokerState* state = store_.image()->broker(r.broker_id);
  if (state == nullptr || state->incarnation_id != r.incarnation_id) {
    return Status(ErrorCode::kBrokerNotAvailable, "the registration did not take");
  }
  return RegisterBrokerReply{state->broker_epoch};
}

Result<metadata::HeartbeatResponse> ClusterController::heartbeat(
    const metadata::BrokerHeartbeat& r) {
  return decide<metadata::HeartbeatResponse>(
      [&](metadata::Controller& c) { return c.broker_heartbeat(r, now_ms()); });
}

Result<AlterPartitionReply> ClusterController::alter_partition(
    const metadata::AlterPartitionRequest& r) {
  MQ_ASSIGN_OR_RETURN(metadata::PartitionState state,
                      decide<metadata::PartitionState>(
                          [&](metadata::Controller& c) { return c.alter_partition(r); }));
  return AlterPartitionReply{state.leader, state.leader_epoch, state.partition_epoch, state.isr};
}

Result<metadata::ProducerIdBlock> ClusterController::allocate_producer_ids(
    const BrokerEpochCall& r) {
  return decide<metadata::ProducerIdBlock>([&](metadata::Controller& c) {
    return c.allocate_producer_ids(r.broker_id, r.broker_epoch);
  });
}

Result<CreateTopicReply> ClusterController::create_topic(const CreateTopicCall& r) {
  metadata::CreateTopicRequest request{
      .name = r.name, .partitions = r.partitions, .replication_factor = r.replication_factor};
  request.configs = r.configs;
  for (const ReplicaList& l : r.assignment) request.assignment.push_back(l.replicas);
  MQ_ASSIGN_OR_RETURN(metadata::Decision<metadata::CreatedTopic> decision,
                      controller_->create_topic(request));
  CreateTopicReply reply{.topic_id = decision.response.topic_id};
  for (const auto& replicas : decision.response.assignment) reply.assignment.push_back({replicas});
  if (!r.validate_only) MQ_RETURN_IF_ERROR(commit(decision.records).status());
  return reply;
}

Result<EmptyReply> ClusterController::delete_topic(const DeleteTopicCall& r) {
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, controller_->delete_topic(r.name));
  MQ_RETURN_IF_ERROR(commit(batch).status());
  return EmptyReply{};
}

Result<EmptyReply> ClusterController::add_partitions(const AddPartitionsCall& r) {
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, controller_->add_partitions(r.name, r.total));
  if (!r.validate_only) MQ_RETURN_IF_ERROR(commit(batch).status());
  return EmptyReply{};
}

Result<EmptyReply> ClusterController::alter_topic_configs(const AlterTopicConfigsCall& r) {
  if (store_.image()->topic(r.name) == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "topic '" + r.name + "' does not exist");
  }
  std::vector<metadata::Config> changes;
  for (const metadata::ConfigEntry& e : r.set) {
    changes.push_back({metadata::ConfigResource::kTopic, r.name, e.key, e.value});
  }
  for (const std::string& key : r.remove) {
    changes.push_back({metadata::ConfigResource::kTopic, r.name, key, std::nullopt});
  }
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, controller_->alter_configs(changes));
  if (!r.validate_only) MQ_RETURN_IF_ERROR(commit(batch).status());
  return EmptyReply{};
}

Result<ElectLeadersReply> ClusterController::elect_leaders(const ElectLeadersCall& r) {
  if (r.election_type != static_cast<int8_t>(metadata::ElectionType::kPreferred) &&
      r.election_type != static_cast<int8_t>(metadata::ElectionType::kUnclean)) {
    return Status(ErrorCode::kInvalidRequest,
                  "unknown election type " + std::to_string(r.election_type));
  }
  std::vector<metadata::TopicPartition> partitions;
  for (const ElectLeadersPartition& p : r.partitions) partitions.push_back({p.topic, p.partition});
  metadata::Decision<std::vector<metadata::ElectionResult>> decision =
      controller_->elect_leaders(static_cast<metadata::ElectionType>(r.election_type), partitions);
  Status committed = Status::ok();
  if (!decision.records.empty()) committed = commit(decision.records).status();
  ElectLeadersReply reply;
  for (const metadata::ElectionResult& result : decision.response) {
    Status status = result.status.is_ok() ? committed : result.status;
    reply.results.push_back(
        {result.partition.topic, result.partition.partition, status.code(), status.message()});
  }
  return reply;
}

Result<metadata::ControlledShutdownResponse> ClusterController::controlled_shutdown(
    const BrokerEpochCall& r) {
  return decide<metadata::ControlledShutdownResponse>(
      [&](metadata::Controller& c) { return c.controlled_shutdown(r.broker_id, r.broker_epoch); });
}

Result<BumpProducerEpochReply> ClusterController::bump_producer_epoch(
    const BumpProducerEpochCall& r) {
  MQ_ASSIGN_OR_RETURN(
      std::optional<int16_t> epoch, decide<std::optional<int16_t>>([&](metadata::Controller& c) {
        return c.bump_producer_epoch(r.broker_id, r.broker_epoch, r.producer_id, r.producer_epoch);
      }));
  return BumpProducerEpochReply{epoch.value_or(int16_t{-1})};
}

Result<BrokersBehindReply> ClusterController::brokers_behind(const BrokersBehindCall& r) {
  if (!controller_) return not_controller();
  return BrokersBehindReply{controller_->brokers_behind(r.metadata_offset)};
}

Result<EmptyReply> ClusterController::add_voter(const VoterChangeCall& r) {
  return change_voters(true, r);
}

Result<EmptyReply> ClusterController::remove_voter(const VoterChangeCall& r) {
  return change_voters(false, r);
}

Result<EmptyReply> ClusterController::unregister_broker(const UnregisterBrokerCall& r) {
  for (const raft::Voter& voter : quorum_.status().voters) {
    if (voter.id == r.broker_id) {
      return Status(ErrorCode::kInvalidRequest,
                    "broker " + std::to_string(r.broker_id) +
                        " is a voter of the metadata quorum: remove it from the voters first "
                        "(mqctl cluster remove-voter " +
                        std::to_string(r.broker_id) + ")");
    }
  }
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, controller_->unregister_broker(r.broker_id));
  MQ_RETURN_IF_ERROR(commit(batch).status());
  return EmptyReply{};
}

Result<transport::CreateAclsResponse> ClusterController::create_acls(
    const transport::CreateAclsRequest& r) {
  metadata::Decision<std::vector<Status>> decision = controller_->create_acls(r.creations);
  if (!decision.records.empty()) MQ_RETURN_IF_ERROR(commit(decision.records).status());
  transport::CreateAclsResponse reply;
  for (const Status& status : decision.response) {
    reply.results.push_back({status.code(), status.is_ok() ? "" : status.message()});
  }
  return reply;
}

Result<transport::DeleteAclsResponse> ClusterController::delete_acls(
    const transport::DeleteAclsRequest& r) {
  auto decision = controller_->delete_acls(r.filters);
  if (!decision.records.empty()) MQ_RETURN_IF_ERROR(commit(decision.records).status());
  transport::DeleteAclsResponse reply;
  for (auto& selected : decision.response) {
    auto& out = reply.results.emplace_back();
    if (selected.is_ok()) {
      out.deleted = std::move(selected).value();
    } else {
      out.error_code = selected.code();
      out.error_message = selected.status().message();
    }
  }
  return reply;
}

Result<EmptyReply> ClusterController::change_voters(bool add, const VoterChangeCall& call) {
  if (!controller_) return not_controller();
  auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> done = promise->get_future();
  auto resolve = [promise](Result<uint64_t> result) { promise->set_value(std::move(result)); };
  if (add) {
    quorum_.add_voter(call.voter_id, call.endpoint, std::move(resolve));
  } else {
    quorum_.remove_voter(call.voter_id, std::move(resolve));
  }
  if (done.wait_for(std::chrono::milliseconds(config_.commit_timeout_ms)) !=
      std::future_status::ready) {
    return Status(ErrorCode::kRequestTimedOut,
                  "the new voter set was not committed within " +
                      std::to_string(config_.commit_timeout_ms) +
                      " ms (it may still be: see mqctl cluster quorum)");
  }
  Result<uint64_t> index = done.get();
  if (!index.is_ok()) return index.status();
  spdlog::info("controller: node {} {} the voters (configuration entry {})", call.voter_id,
               add ? "joined" : "left", *index);
  return EmptyReply{};
}

Result<AlterReassignmentsReply> ClusterController::alter_reassignments(
    const AlterReassignmentsCall& call) {
  if (call.throttle_bytes_per_sec < -1) {
    return Status(ErrorCode::kInvalidRequest,
                  "throttle_bytes_per_sec must be -1 (unchanged), 0 (none) or a rate, not " +
                      std::to_string(call.throttle_bytes_per_sec));
  }
  // Each partition is decided against the same image: they are independent,
  // except that one partition named twice would be decided twice.
  metadata::RecordBatch records;
  AlterReassignmentsReply reply;
  std::set<std::pair<std::string, int32_t>> seen;
  size_t accepted = 0;
  for (const ReassignPartition& p : call.partitions) {
    PartitionResult& result = reply.results.emplace_back();
    result.topic = p.topic;
    result.partition = p.partition;
    Result<metadata::RecordBatch> decided =
        !seen.insert({p.topic, p.partition}).second
            ? Result<metadata::RecordBatch>(
                  Status(ErrorCode::kInvalidRequest,
                         p.topic + "-" + std::to_string(p.partition) + " is listed twice"))
        : p.replicas ? controller_->reassign({p.topic, p.partition}, *p.replicas)
                     : controller_->cancel_reassignment({p.topic, p.partition});
    if (!decided.is_ok()) {
      result.error_code = decided.code();
      result.error_message = decided.status().message();
      continue;
    }
    ++accepted;
    records.insert(records.end(), decided->begin(), decided->end());
  }
  // The throttle goes with the reassignments it is for, or alone when none
  // is named (changing the rate of moves in progress).
  if (call.throttle_bytes_per_sec >= 0 && (accepted > 0 || call.partitions.empty())) {
    std::optional<std::string> value;
    if (call.throttle_bytes_per_sec > 0) value = std::to_string(call.throttle_bytes_per_sec);
    MQ_ASSIGN_OR_RETURN(
        metadata::RecordBatch throttle,
        controller_->alter_configs({{metadata::ConfigResource::kCluster, "",
                                     std::string(metadata::kReassignmentThrottle), value}}));
    records.insert(records.end(), throttle.begin(), throttle.end());
  }
  if (call.validate_only || records.empty()) return reply;
  Status committed = commit(records).status();
  if (!committed.is_ok()) {
    for (PartitionResult& result : reply.results) {
      if (result.error_code != ErrorCode::kNone) continue;
      result.error_code = committed.code();
      result.error_message = committed.message();
    }
  }
  return reply;
}

}  // namespace mq::broker
