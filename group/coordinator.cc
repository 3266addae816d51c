// The group coordinator's state machine; see coordinator.h and
// docs/protocol.md §15.
#include "group/coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>

#include "base/murmur2.h"

namespace mq::group {

using namespace mq::transport;

namespace {

constexpr int kTimerPeriodMs = 20;

std::string random_suffix() {
  static thread_local std::mt19937_64 random(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(random()));
  return buf;
}

}  // namespace

GroupCoordinator::GroupCoordinator(CoordinatorConfig config, GroupStorage& storage)
    : config_(std::move(config)), storage_(storage) {
  for (int32_t p = 0; p < config_.offsets_partitions; p++) {
    partition_mu_.push_back(std::make_unique<std::mutex>());
  }
  partitions_.resize(static_cast<size_t>(std::max(0, config_.offsets_partitions)));
}

GroupCoordinator::~GroupCoordinator() {
  stop();
}

int64_t GroupCoordinator::now() const {
  if (config_.wall_clock_ms) return config_.wall_clock_ms();
  if (config_.clock_ms) return config_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t GroupCoordinator::timer_ms() const {
  if (config_.clock_ms) return config_.clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view GroupCoordinator::state_name(State state) {
  switch (state) {
    case State::kEmpty:
      return "Empty";
    case State::kPreparingRebalance:
      return "PreparingRebalance";
    case State::kCompletingRebalance:
      return "CompletingRebalance";
    case State::kStable:
      return "Stable";
    case State::kDead:
      return "Dead";
  }
  return "Dead";
}

int32_t GroupCoordinator::partition_for(const std::string& group) const {
  return to_positive(murmur2(group)) % config_.offsets_partitions;
}

// ---------------------------------------------------------------- loading

Status GroupCoordinator::apply_record(std::map<std::string, Group>& groups, const Record& record) {
  if (!record.key) return Status::ok();  // not ours: ignore
  auto key_bytes =
      std::span(reinterpret_cast<const uint8_t*>(record.key->data()), record.key->size());
  MQ_ASSIGN_OR_RETURN(OffsetsKey key, decode_key(key_bytes));
  std::optional<std::span<const uint8_t>> value;
  if (record.value) {
    value = std::span(reinterpret_cast<const uint8_t*>(record.value->data()), record.value->size());
  }
  if (key.type == OffsetsRecordType::kGroup) {
    if (!value) {
      groups.erase(key.group);
      return Status::ok();
    }
    MQ_ASSIGN_OR_RETURN(GroupValue g, decode_group_value(*value));
    Group& group = groups[key.group];
    group.id = key.group;
    group.generation = g.generation;
    group.protocol_type = g.protocol_type;
    group.protocol_name = g.protocol_name;
    return Status::ok();
  }
  TopicPartition tp{key.topic, key.partition};
  if (!value) {
    auto it = groups.find(key.group);
    if (it != groups.end()) {
      auto member = it->second.offsets.find(key.member_key);
      if (member != it->second.offsets.end()) member->second.erase(tp);
    }
    return Status::ok();
  }
  MQ_ASSIGN_OR_RETURN(OffsetValue v, decode_offset_value(*value));
  Group& group = groups[key.group];
  group.id = key.group;
  group.offsets[key.member_key][tp] = {v.offset, v.leader_epoch, v.metadata};
  return Status::ok();
}

Status GroupCoordinator::replay_partition(int32_t partition, std::map<std::string, Group>& into) {
  Status replayed =
      storage_.replay(partition, [&into](const Record& r) { return apply_record(into, r); });
  if (!replayed.is_ok()) {
    return Status(replayed.code(), std::string(kOffsetsTopic) + "-" + std::to_string(partition) +
                                       ": " + replayed.message());
  }
  // Loaded groups have no members yet: their members rejoin.
  for (auto& [id, group] : into) group.state = State::kEmpty;
  return Status::ok();
}

Status GroupCoordinator::load() {
  std::map<std::string, Group> loaded;
  for (int32_t p = 0; p < config_.offsets_partitions; p++) {
    MQ_RETURN_IF_ERROR(replay_partition(p, loaded));
  }
  {
    std::lock_guard lock(mu_);
    groups_ = std::move(loaded);
    for (PartitionSlot& slot : partitions_) {
      slot.state = Load::kLoaded;
      slot.generation++;
    }
  }
  timer_ = std::thread([this] { timer_loop(); });
  return Status::ok();
}

void GroupCoordinator::start() {
  timer_ = std::thread([this] { timer_loop(); });
  loader_ = std::thread([this] { loader_loop(); });
}

void GroupCoordinator::load_partition(int32_t partition, int32_t leader_epoch) {
  if (partition < 0 || partition >= config_.offsets_partitions) return;
  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    PartitionSlot& slot = partitions_[partition];
    if (slot.state != Load::kAbsent && slot.leader_epoch == leader_epoch) return;
    if (slot.state != Load::kAbsent) unload_locked(partition, ErrorCode::kNotCoordinator, deferred);
    slot.state = Load::kLoading;
    slot.leader_epoch = leader_epoch;
    slot.generation++;
    load_queue_.emplace_back(partition, slot.generation);
    spdlog::info("{}-{}: leading it in epoch {}, loading its groups", kOffsetsTopic, partition,
                 leader_epoch);
  }
  loader_cv_.notify_all();
  finish(deferred);
}

void GroupCoordinator::unload_partition(int32_t partition) {
  if (partition < 0 || partition >= config_.offsets_partitions) return;
  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    if (partitions_[partition].state == Load::kAbsent) return;
    unload_locked(partition, ErrorCode::kNotCoordinator, deferred);
    spdlog::info("{}-{}: no longer led here, its groups unloaded", kOffsetsTopic, partition);
  }
  finish(deferred);
}

void GroupCoordinator::unload_locked(int32_t partition, ErrorCode code, Deferred& deferred) {
  PartitionSlot& slot = partitions_[partition];
  slot.state = Load::kAbsent;
  slot.leader_epoch = -1;
  slot.generation++;
  for (auto it = groups_.begin(); it != groups_.end();) {
    if (partition_for(it->first) != partition) {
      ++it;
      continue;
    }
    for (auto& [member_id, member] : it->second.members) {
      if (!member.pending_join) continue;
      JoinGroupResponse response;
      response.error_code = code;
      response.member_id = member_id;
      deferred.answers.push_back({std::move(member.pending_join), std::move(response)});
      member.pending_join = nullptr;
    }
    it = groups_.erase(it);
  }
}

void GroupCoordinator::loader_loop() {
  std::unique_lock lock(mu_);
  while (!stopped_) {
    if (load_queue_.empty()) {
      loader_cv_.wait(lock);
      continue;
    }
    auto [partition, generation] = load_queue_.front();
    load_queue_.pop_front();
    if (partitions_[partition].generation != generation) continue;  // unloaded or reloaded since
    lock.unlock();
    bool done = load_queued(partition, generation);
    lock.lock();
    if (!done && !stopped_ && partitions_[partition].generation == generation) {
      // The partition is still ours: try again shortly.
      loader_cv_.wait_for(lock, std::chrono::milliseconds(100));
      load_queue_.emplace_back(partition, generation);
    }
  }
}

bool GroupCoordinator::load_queued(int32_t partition, uint64_t generation) {
  auto cancelled = [this, partition, generation] {
    std::lock_guard lock(mu_);
    return stopped_ || partitions_[partition].generation != generation;
  };
  Status committed = storage_.wait_committed(partition, cancelled);
  std::map<std::string, Group> loaded;
  Status replayed = committed.is_ok() ? replay_partition(partition, loaded) : committed;
  if (!replayed.is_ok()) {
    if (!cancelled()) {
      spdlog::warn("{}-{}: loading its groups: {} (retrying)", kOffsetsTopic, partition,
                   replayed.to_string());
    }
    return false;
  }
  std::lock_guard lock(mu_);
  PartitionSlot& slot = partitions_[partition];
  if (stopped_ || slot.generation != generation) return true;  // no longer wanted
  size_t count = loaded.size();
  for (auto& [id, group] : loaded) groups_[id] = std::move(group);
  slot.state = Load::kLoaded;
  spdlog::info("{}-{}: loaded {} group(s), coordinating them now", kOffsetsTopic, partition, count);
  return true;
}

ErrorCode GroupCoordinator::group_error_locked(const std::string& group) const {
  if (stopped_) return ErrorCode::kCoordinatorNotAvailable;
  switch (partitions_[partition_for(group)].state) {
    case Load::kLoaded:
      return ErrorCode::kNone;
    case Load::kLoading:
      return ErrorCode::kCoordinatorLoadInProgress;
    case Load::kAbsent:
      break;
  }
  return ErrorCode::kNotCoordinator;
}

ErrorCode GroupCoordinator::group_error(const std::string& group) const {
  std::lock_guard lock(mu_);
  return group_error_locked(group);
}

bool GroupCoordinator::partition_loaded(int32_t partition) const {
  std::lock_guard lock(mu_);
  return partition >= 0 && partition < config_.offsets_partitions &&
         partitions_[partition].state == Load::kLoaded;
}

void GroupCoordinator::stop() {
  {
    std::lock_guard lock(timer_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  timer_cv_.notify_all();
  if (timer_.joinable()) timer_.join();
  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, group] : groups_) {
      for (auto& [member_id, member] : group.members) {
        if (!member.pending_join) continue;
        JoinGroupResponse response;
        response.error_code = ErrorCode::kCoordinatorNotAvailable;
        response.member_id = member_id;
        deferred.answers.push_back({std::move(member.pending_join), std::move(response)});
        member.pending_join = nullptr;
      }
    }
  }
  loader_cv_.notify_all();
  if (loader_.joinable()) loader_.join();
  for (auto& answer : deferred.answers) answer.done(std::move(answer.response));
}

void GroupCoordinator::timer_loop() {
  std::unique_lock lock(timer_mu_);
  while (!stopping_) {
    timer_cv_.wait_for(lock, std::chrono::milliseconds(kTimerPeriodMs));
    if (stopping_) break;
    lock.unlock();
    tick();
    lock.lock();
  }
}

void GroupCoordinator::finish(Deferred& deferred) {
  for (auto& answer : deferred.answers) answer.done(std::move(answer.response));
  deferred.answers.clear();
  // The generation survives a restart, so members of an old generation stay fenced.
  for (const auto& [id, value] : deferred.groups) {
    OffsetsKey key{.type = OffsetsRecordType::kGroup, .group = id};
    Status written =
        append_records(partition_for(id), {{encode_key(key), encode_group_value(value)}},
                       GroupStorage::Durability::kLocal);
    if (!written.is_ok()) {
      spdlog::warn("group {}: cannot record generation {}: {}", id, value.generation,
                   written.to_string());
    }
  }
  deferred.groups.clear();
}

Status GroupCoordinator::append_records(int32_t partition, const std::vector<KeyValue>& records,
                                        GroupStorage::Durability durability) {
  RecordBatchBuilder builder;
  int64_t timestamp = now();
  for (const auto& [key, value] : records) {
    builder.add(timestamp, std::string_view(key),
                value ? std::optional<std::string_view>(*value) : std::nullopt);
  }
  MQ_ASSIGN_OR_RETURN(std::string batch, builder.build());
  return storage_.append(partition, std::move(batch), durability);
}

// ---------------------------------------------------------------- membership

GroupCoordinator::Group* GroupCoordinator::find_locked(const std::string& id) {
  auto it = groups_.find(id);
  if (it == groups_.end() || it->second.state == State::kDead) return nullptr;
  return &it->second;
}

ErrorCode GroupCoordinator::check_member_locked(const std::string& group_id,
                                                const std::string& member_id, int32_t generation,
                                                Group** group) {
  *group = find_locked(group_id);
  if (*group == nullptr || !(*group)->members.count(member_id)) {
    return ErrorCode::kUnknownMemberId;
  }
  return generation == (*group)->generation ? ErrorCode::kNone : ErrorCode::kIllegalGeneration;
}

std::optional<std::string> GroupCoordinator::choose_protocol_locked(const Group& group) const {
  if (group.join_order.empty()) return std::nullopt;
  const Member& first = group.members.at(group.join_order.front());
  for (const auto& candidate : first.protocols) {
    if (!is_known_assignor(candidate.name)) continue;
    bool everyone = true;
    for (const auto& [id, member] : group.members) {
      everyone &= std::any_of(member.protocols.begin(), member.protocols.end(),
                              [&](const auto& p) { return p.name == candidate.name; });
    }
    if (everyone) return candidate.name;
  }
  return std::nullopt;
}

void GroupCoordinator::start_rebalance_locked(Group& group, Deferred& deferred) {
  int64_t t = timer_ms();
  int32_t longest = 0;
  for (const auto& [id, member] : group.members) {
    longest = std::max(longest, member.rebalance_timeout_ms);
  }
  if (group.state != State::kPreparingRebalance) {
    group.state = State::kPreparingRebalance;
    group.join_deadline_ms = t + longest;
    group.rebalances++;
  }
  maybe_complete_join_locked(group, deferred);
}

void GroupCoordinator::maybe_complete_join_locked(Group& group, Deferred& deferred) {
  if (group.state != State::kPreparingRebalance) return;
  int64_t t = timer_ms();
  bool everyone = !group.members.empty();
  for (const auto& [id, member] : group.members) everyone &= member.pending_join != nullptr;
  if ((everyone && t >= group.initial_delay_until_ms) || t >= group.join_deadline_ms) {
    complete_join_locked(group, deferred);
  }
}

void GroupCoordinator::complete_join_locked(Group& group, Deferred& deferred) {
  // Members that did not rejoin in time are out.
  std::vector<std::string> late;
  for (const auto& [id, member] : group.members) {
    if (!member.pending_join) late.push_back(id);
  }
  for (const auto& id : late) {
    spdlog::info("group {}: member {} did not rejoin in time, removed", group.id, id);
    group.members.erase(id);
    std::erase(group.join_order, id);
  }
  group.generation++;
  if (group.members.empty()) {
    group.state = State::kEmpty;
    group.leader.clear();
    group.last_assignment.clear();
    deferred.groups.emplace_back(group.id, GroupValue{.protocol_type = group.protocol_type,
                                                      .protocol_name = group.protocol_name,
                                                      .generation = group.generation});
    return;
  }
  std::optional<std::string> protocol = choose_protocol_locked(group);
  // join() admits only members that share an assignor with the group.
  group.protocol_name = protocol.value_or(std::string(kAssignorSticky));
  group.leader = group.join_order.front();

  // Subscriptions and the topics' shapes; an undecodable subscription was
  // refused at join, so every member decodes here.
  std::vector<MemberSubscription> subscriptions;
  std::map<std::string, int32_t> partition_counts;
  std::map<std::string, Bytes> metadata_of;
  for (const auto& id : group.join_order) {
    const Member& member = group.members.at(id);
    const Bytes* metadata = nullptr;
    for (const auto& p : member.protocols) {
      if (p.name == group.protocol_name) metadata = &p.metadata;
    }
    metadata_of[id] = *metadata;
    MemberSubscription s;
    s.member_id = id;
    Result<ConsumerSubscription> decoded = decode_subscription(*metadata);
    if (decoded.is_ok()) {
      s.topics = decoded->topics;
      auto last = group.last_assignment.find(id);
      if (last != group.last_assignment.end()) {
        s.owned = last->second;
      } else {
        for (const auto& owned : decoded->owned_partitions) s.owned[owned.topic] = owned.partitions;
      }
    }
    for (const auto& topic : s.topics) {
      if (partition_counts.count(topic)) continue;
      std::optional<int32_t> count = storage_.partition_count(topic);
      if (count) partition_counts[topic] = *count;
    }
    subscriptions.push_back(std::move(s));
  }
  GroupAssignment assignment = assign(group.protocol_name, subscriptions, partition_counts);
  group.last_assignment.clear();
  for (auto& [id, member] : group.members) {
    ConsumerAssignment a;
    for (const auto& [topic, partitions] : assignment[id]) {
      a.partitions.push_back({topic, partitions});
    }
    member.assignment = encode_assignment(a);
    member.synced = false;
    group.last_assignment[id] = assignment[id];
  }
  group.state = State::kCompletingRebalance;
  spdlog::info("group {}: generation {} with {} member(s), assignor {}", group.id, group.generation,
               group.members.size(), group.protocol_name);

  for (auto& [id, member] : group.members) {
    JoinGroupResponse response;
    response.generation_id = group.generation;
    response.protocol_type = group.protocol_type;
    response.protocol_name = group.protocol_name;
    response.leader = group.leader;
    response.member_id = id;
    if (id == group.leader) {
      for (const auto& other : group.join_order) {
        response.members.push_back(
            {other, group.members.at(other).instance_id, metadata_of[other]});
      }
    }
    member.last_heard_ms = timer_ms();
    deferred.answers.push_back({std::move(member.pending_join), std::move(response)});
    member.pending_join = nullptr;
  }
  deferred.groups.emplace_back(group.id, GroupValue{.protocol_type = group.protocol_type,
                                                    .protocol_name = group.protocol_name,
                                                    .generation = group.generation});
}

void GroupCoordinator::remove_member_locked(Group& group, const std::string& member_id,
                                            Deferred& deferred) {
  auto it = group.members.find(member_id);
  if (it == group.members.end()) return;
  if (it->second.pending_join) {
    JoinGroupResponse response;
    response.error_code = ErrorCode::kUnknownMemberId;
    response.member_id = member_id;
    deferred.answers.push_back({std::move(it->second.pending_join), std::move(response)});
  }
  group.members.erase(it);
  std::erase(group.join_order, member_id);
  group.last_assignment.erase(member_id);
}

void GroupCoordinator::after_membership_change_locked(Group& group, Deferred& deferred) {
  if (group.members.empty()) {
    if (group.state != State::kEmpty) {
      group.state = State::kEmpty;
      group.generation++;
      group.leader.clear();
      group.last_assignment.clear();
      deferred.groups.emplace_back(group.id, GroupValue{.protocol_type = group.protocol_type,
                                                        .protocol_name = group.protocol_name,
                                                        .generation = group.generation});
    }
    return;
  }
  start_rebalance_locked(group, deferred);
}

void GroupCoordinator::join(const JoinGroupRequest& request, const std::string& client_id,
                            const std::string& client_host, JoinCallback done) {
  auto fail = [&](ErrorCode code, std::string member_id = "") {
    JoinGroupResponse response;
    response.error_code = code;
    response.member_id = std::move(member_id);
    done(std::move(response));
  };
  if (request.group_id.empty()) return fail(ErrorCode::kInvalidGroupId);
  if (ErrorCode unavailable = group_error(request.group_id); unavailable != ErrorCode::kNone) {
    return fail(unavailable);
  }
  if (request.session_timeout_ms < config_.min_session_timeout_ms ||
      request.session_timeout_ms > config_.max_session_timeout_ms) {
    return fail(ErrorCode::kInvalidSessionTimeout);
  }
  if (request.protocol_type.empty() || request.protocols.empty()) {
    return fail(ErrorCode::kInconsistentGroupProtocol);
  }
  // Every assignor here is server-side: the member must offer one we run,
  // with a subscription we can read.
  bool readable = false;
  for (const auto& p : request.protocols) {
    if (is_known_assignor(p.name) && decode_subscription(p.metadata).is_ok()) readable = true;
  }
  if (!readable) return fail(ErrorCode::kInconsistentGroupProtocol);

  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    // Checked again under the lock: the partition may have moved meanwhile.
    if (ErrorCode unavailable = group_error_locked(request.group_id);
        unavailable != ErrorCode::kNone) {
      return fail(unavailable);
    }
    Group& group = groups_[request.group_id];
    if (group.state == State::kDead) group = Group{};
    group.id = request.group_id;
    if (!group.members.empty() && group.protocol_type != request.protocol_type) {
      return fail(ErrorCode::kInconsistentGroupProtocol);
    }
    if (!group.members.empty()) {
      // The newcomer must share an assignor with everyone already in.
      bool shared = false;
      for (const auto& p : request.protocols) {
        bool all = true;
        for (const auto& [id, member] : group.members) {
          if (id == request.member_id) continue;
          all &= std::any_of(member.protocols.begin(), member.protocols.end(),
                             [&](const auto& q) { return q.name == p.name; });
        }
        shared |= all && is_known_assignor(p.name);
      }
      if (!shared) return fail(ErrorCode::kInconsistentGroupProtocol);
    }
    if (request.member_id.empty()) {
      if (static_cast<int32_t>(group.members.size()) >= config_.max_size) {
        return fail(ErrorCode::kGroupMaxSizeReached);
      }
      // Kafka's two-step join: the member learns its id, then joins with it.
      std::string id = (client_id.empty() ? std::string("member") : client_id) + "-" +
                       std::to_string(++next_member_) + "-" + random_suffix();
      return fail(ErrorCode::kMemberIdRequired, id);
    }
    auto existing = group.members.find(request.member_id);
    if (existing == group.members.end()) {
      if (static_cast<int32_t>(group.members.size()) >= config_.max_size) {
        return fail(ErrorCode::kGroupMaxSizeReached);
      }
      // A static member that restarts replaces its old self.
      if (request.group_instance_id) {
        for (const auto& [id, member] : group.members) {
          if (member.instance_id == request.group_instance_id) {
            remove_member_locked(group, std::string(id), deferred);
            break;
          }
        }
      }
    }
    bool is_new = existing == group.members.end();
    bool changed = is_new || existing->second.protocols != request.protocols;
    Member& member = group.members[request.member_id];
    if (is_new) group.join_order.push_back(request.member_id);
    if (member.pending_join) {
      JoinGroupResponse superseded;
      superseded.error_code = ErrorCode::kRebalanceInProgress;
      superseded.member_id = request.member_id;
      deferred.answers.push_back({std::move(member.pending_join), std::move(superseded)});
    }
    member.id = request.member_id;
    member.instance_id = request.group_instance_id;
    member.client_id = client_id;
    member.client_host = client_host;
    member.session_timeout_ms = request.session_timeout_ms;
    member.rebalance_timeout_ms = request.rebalance_timeout_ms;
    member.protocols = request.protocols;
    member.last_heard_ms = timer_ms();
    member.pending_join = std::move(done);
    group.protocol_type = request.protocol_type;

    if (group.state == State::kEmpty) {
      // Wait a little for the rest of a starting fleet.
      int64_t t = timer_ms();
      group.initial_delay_until_ms = t + config_.initial_rebalance_delay_ms;
      group.state = State::kPreparingRebalance;
      group.join_deadline_ms =
          t + std::max(request.rebalance_timeout_ms, config_.initial_rebalance_delay_ms);
      group.rebalances++;
      maybe_complete_join_locked(group, deferred);
    } else if (group.state == State::kPreparingRebalance) {
      if (is_new && timer_ms() < group.initial_delay_until_ms) {
        // Newcomers during the initial delay extend it, within the deadline.
        group.initial_delay_until_ms =
            std::min(timer_ms() + config_.initial_rebalance_delay_ms, group.join_deadline_ms);
      }
      maybe_complete_join_locked(group, deferred);
    } else if (changed || group.state == State::kStable ||
               group.state == State::kCompletingRebalance) {
      // A known member rejoining means it lost track (or changed): everyone rejoins.
      start_rebalance_locked(group, deferred);
    }
  }
  finish(deferred);
}

SyncGroupResponse GroupCoordinator::sync(const SyncGroupRequest& request) {
  SyncGroupResponse response;
  std::lock_guard lock(mu_);
  response.error_code = group_error_locked(request.group_id);
  if (response.error_code != ErrorCode::kNone) return response;
  Group* group = nullptr;
  response.error_code =
      check_member_locked(request.group_id, request.member_id, request.generation_id, &group);
  if (response.error_code != ErrorCode::kNone) return response;
  if (group->state == State::kPreparingRebalance) {
    response.error_code = ErrorCode::kRebalanceInProgress;
    return response;
  }
  if ((request.protocol_type && *request.protocol_type != group->protocol_type) ||
      (request.protocol_name && *request.protocol_name != group->protocol_name)) {
    response.error_code = ErrorCode::kInconsistentGroupProtocol;
    return response;
  }
  Member& member = group->members.at(request.member_id);
  member.synced = true;
  member.last_heard_ms = timer_ms();
  bool all = true;
  for (const auto& [id, m] : group->members) all &= m.synced;
  if (all) group->state = State::kStable;
  response.protocol_type = group->protocol_type;
  response.protocol_name = group->protocol_name;
  response.assignment = member.assignment;
  return response;
}

HeartbeatResponse GroupCoordinator::heartbeat(const HeartbeatRequest& request) {
  HeartbeatResponse response;
  std::lock_guard lock(mu_);
  response.error_code = group_error_locked(request.group_id);
  if (response.error_code != ErrorCode::kNone) return response;
  Group* group = nullptr;
  response.error_code =
      check_member_locked(request.group_id, request.member_id, request.generation_id, &group);
  if (response.error_code != ErrorCode::kNone) return response;
  group->members.at(request.member_id).last_heard_ms = timer_ms();
  if (group->state == State::kPreparingRebalance) {
    response.error_code = ErrorCode::kRebalanceInProgress;
  }
  return response;
}

LeaveGroupResponse GroupCoordinator::leave(const LeaveGroupRequest& request) {
  LeaveGroupResponse response;
  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    response.error_code = group_error_locked(request.group_id);
    if (response.error_code != ErrorCode::kNone) return response;
    Group* group = find_locked(request.group_id);
    if (group == nullptr) {
      response.error_code = ErrorCode::kGroupIdNotFound;
      return response;
    }
    bool removed = false;
    for (const auto& m : request.members) {
      std::string id = m.member_id;
      if (id.empty() && m.group_instance_id) {
        for (const auto& [member_id, member] : group->members) {
          if (member.instance_id == m.group_instance_id) id = member_id;
        }
      }
      LeaveGroupResponse::Member out{m.member_id, m.group_instance_id, ErrorCode::kNone};
      if (id.empty() || !group->members.count(id)) {
        out.error_code = ErrorCode::kUnknownMemberId;
      } else {
        remove_member_locked(*group, id, deferred);
        removed = true;
        spdlog::info("group {}: member {} left", group->id, id);
      }
      response.members.push_back(std::move(out));
    }
    if (removed) after_membership_change_locked(*group, deferred);
  }
  finish(deferred);
  return response;
}

void GroupCoordinator::tick() {
  Deferred deferred;
  {
    std::lock_guard lock(mu_);
    int64_t t = timer_ms();
    for (auto& [id, group] : groups_) {
      // In every state, including during a rebalance: a member that died
      // just before one must not hold the group until the rebalance timeout.
      // Only a member waiting in JoinGroup is exempt.
      std::vector<std::string> expired;
      for (const auto& [member_id, member] : group.members) {
        if (!member.pending_join && t - member.last_heard_ms > member.session_timeout_ms) {
          expired.push_back(member_id);
        }
      }
      if (expired.empty()) {
        maybe_complete_join_locked(group, deferred);
        continue;
      }
      for (const auto& member_id : expired) {
        spdlog::info("group {}: member {} sent no heartbeat for its session timeout, removed", id,
                     member_id);
        remove_member_locked(group, member_id, deferred);
      }
      after_membership_change_locked(group, deferred);
    }
  }
  finish(deferred);
}

}  // namespace mq::group
