// Partition: leader and follower roles, the high watermark over the ISR, ISR
// proposals, and the wake-ups of long polls and acks=all produces.
#include "broker/partition.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>

namespace mq::broker {
namespace {

bool contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool has_duplicates(const std::vector<int32_t>& ids) {
  return std::set<int32_t>(ids.begin(), ids.end()).size() != ids.size();
}

std::string join(const std::vector<int32_t>& ids) {
  std::string out;
  for (int32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
  return "{" + out + "}";
}

}  // namespace

Partition::Partition(std::string topic, int32_t index, std::unique_ptr<Log> log,
                     int32_t leader_epoch, int32_t min_insync_replicas)
    : topic_(std::move(topic)),
      index_(index),
      log_(std::move(log)),
      min_insync_replicas_(min_insync_replicas),
      leader_epoch_(leader_epoch),
      high_watermark_(log_->log_end_offset()) {}

int64_t Partition::now_ms() const {
  if (settings_.now_ms) return settings_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Partition::set_isr_changer(IsrChanger* changer) {
  std::lock_guard lock(state_mu_);
  isr_changer_ = changer;
}

void Partition::set_replication_settings(ReplicationSettings settings) {
  std::lock_guard lock(state_mu_);
  settings_ = std::move(settings);
}

// ---------------------------------------------------------------- role changes

Status Partition::become_leader(const LeaderState& state) {
  std::string name = topic_ + "-" + std::to_string(index_);
  if (state.leader_epoch < 0 || state.partition_epoch < 0) {
    return Status(ErrorCode::kInvalidRequest, name + ": negative leader or partition epoch");
  }
  if (!contains(state.replicas, state.local_broker_id)) {
    return Status(ErrorCode::kInvalidRequest,
                  name + ": broker " + std::to_string(state.local_broker_id) +
                      " is not among the replicas " + join(state.replicas));
  }
  if (!contains(state.isr, state.local_broker_id)) {
    return Status(ErrorCode::kInvalidRequest, name + ": the leader " +
                                                  std::to_string(state.local_broker_id) +
                                                  " is not in the ISR " + join(state.isr));
  }
  for (int32_t id : state.isr) {
    if (!contains(state.replicas, id)) {
      return Status(ErrorCode::kInvalidRequest, name + ": ISR member " + std::to_string(id) +
                                                    " is not a replica " + join(state.replicas));
    }
  }
  if (has_duplicates(state.replicas) || has_duplicates(state.isr)) {
    return Status(ErrorCode::kInvalidRequest, name + ": a broker is listed twice in replicas " +
                                                  join(state.replicas) + " or ISR " +
                                                  join(state.isr));
  }
  {
    std::unique_lock role(role_mu_);
    std::lock_guard lock(state_mu_);
    int32_t epoch = leader_epoch_.load();
    if (state.leader_epoch < epoch ||
        (state.leader_epoch == epoch && state.partition_epoch < partition_epoch_.load())) {
      return Status(ErrorCode::kFencedLeaderEpoch,
                    name + ": leader epoch " + std::to_string(state.leader_epoch) +
                        " / partition epoch " + std::to_string(state.partition_epoch) +
                        " is older than the current " + std::to_string(epoch) + " / " +
                        std::to_string(partition_epoch_.load()));
    }
    bool new_leader = role_.load() != ReplicaRole::kLeader || state.leader_epoch != epoch ||
                      local_id_ != state.local_broker_id;
    int64_t now = now_ms();
    int64_t end = log_->log_end_offset();
    std::map<int32_t, FollowerProgress> followers;
    for (int32_t id : state.replicas) {
      if (id == state.local_broker_id) continue;
      auto known = followers_.find(id);
      if (!new_leader && known != followers_.end()) {
        followers.emplace(id, known->second);
        continue;
      }
      // Kafka's reset: positions unknown until they fetch; ISR members count
      // as caught up now, so they get lag_time_max_ms to fetch.
      followers.emplace(id, FollowerProgress{.broker_id = id,
                                             .log_end_offset = -1,
                                             .last_caught_up_ms = contains(state.isr, id) ? now : 0,
                                             .last_fetch_ms = now,
                                             .last_fetch_leader_leo = end});
    }
    if (new_leader) {
      // The new epoch starts at the log end: a follower asking where its
      // older epoch ends (OffsetForLeaderEpoch) learns this offset.
      std::optional<EpochEntry> latest = log_->leader_epochs().latest();
      if (!latest || latest->epoch < state.leader_epoch) {
        MQ_RETURN_IF_ERROR(log_->leader_epochs().assign(state.leader_epoch, end));
      }
      epoch_start_offset_ = end;
    }
    if (new_leader || state.partition_epoch != partition_epoch_.load()) pending_.reset();
    // ISR changes committed while this broker goes on leading (not the ISR a
    // new leadership starts with) count as shrinks and expansions.
    bool was_leading = role_.load() == ReplicaRole::kLeader && local_id_ >= 0 &&
                       local_id_ == state.local_broker_id;
    if (was_leading) {
      if (std::any_of(isr_.begin(), isr_.end(),
                      [&](int32_t id) { return !contains(state.isr, id); })) {
        isr_shrinks_.fetch_add(1);
      }
      if (std::any_of(state.isr.begin(), state.isr.end(),
                      [&](int32_t id) { return !contains(isr_, id); })) {
        isr_expands_.fetch_add(1);
      }
    }
    followers_ = std::move(followers);
    local_id_ = state.local_broker_id;
    replicas_ = state.replicas;
    isr_ = state.isr;
    leader_epoch_.store(state.leader_epoch);
    partition_epoch_.store(state.partition_epoch);
    leader_id_.store(state.local_broker_id);
    role_.store(ReplicaRole::kLeader);
    advance_high_watermark_locked();
    update_low_watermark_locked();
    if (new_leader) {
      spdlog::info("{}: leader in epoch {} (partition epoch {}), replicas {}, ISR {}, HW {}", name,
                   state.leader_epoch, state.partition_epoch, join(state.replicas), join(state.isr),
                   high_watermark_.load());
    }
  }
  wake_waiters(true);
  return Status::ok();
}

Status Partition::become_follower(const FollowerState& state) {
  std::string name = topic_ + "-" + std::to_string(index_);
  if (state.leader_epoch < 0 || state.partition_epoch < 0) {
    return Status(ErrorCode::kInvalidRequest, name + ": negative leader or partition epoch");
  }
  if (state.leader_id < kNoLeaderId) {
    return Status(ErrorCode::kInvalidRequest, name + ": leader id " +
                                                  std::to_string(state.leader_id) +
                                                  " is neither a broker id nor -1 (no leader)");
  }
  if (has_duplicates(state.replicas)) {
    return Status(ErrorCode::kInvalidRequest,
                  name + ": a broker is listed twice in replicas " + join(state.replicas));
  }
  {
    std::unique_lock role(role_mu_);
    std::lock_guard lock(state_mu_);
    int32_t epoch = leader_epoch_.load();
    if (state.leader_epoch < epoch ||
        (state.leader_epoch == epoch && state.partition_epoch < partition_epoch_.load())) {
      return Status(ErrorCode::kFencedLeaderEpoch,
                    name + ": leader epoch " + std::to_string(state.leader_epoch) +
                        " / partition epoch " + std::to_string(state.partition_epoch) +
                        " is older than the current " + std::to_string(epoch) + " / " +
                        std::to_string(partition_epoch_.load()));
    }
    if (local_id_ >= 0 && state.leader_id == local_id_) {
      return Status(ErrorCode::kInvalidRequest,
                    name + ": broker " + std::to_string(local_id_) + " cannot follow itself");
    }
    bool changed = role_.load() != ReplicaRole::kFollower || state.leader_epoch != epoch ||
                   state.leader_id != leader_id_.load();
    role_.store(ReplicaRole::kFollower);
    leader_epoch_.store(state.leader_epoch);
    partition_epoch_.store(state.partition_epoch);
    leader_id_.store(state.leader_id);
    replicas_ = state.replicas;
    isr_.clear();
    followers_.clear();
    pending_.reset();
    low_watermark_.store(-1);
    // Not truncated here: the fetcher reconciles by leader epoch first.
    high_watermark_.store(std::min(high_watermark_.load(), log_->log_end_offset()));
    if (changed && state.leader_id == kNoLeaderId) {
      spdlog::info("{}: no leader in epoch {} (partition epoch {}), waiting for one, HW {}", name,
                   state.leader_epoch, state.partition_epoch, high_watermark_.load());
    } else if (changed) {
      spdlog::info("{}: following broker {} in epoch {} (partition epoch {}), HW {}", name,
                   state.leader_id, state.leader_epoch, state.partition_epoch,
                   high_watermark_.load());
    }
  }
  wake_waiters(true);
  return Status::ok();
}

std::vector<int32_t> Partition::replicas() const {
  std::lock_guard lock(state_mu_);
  return replicas_;
}

std::vector<int32_t> Partition::isr() const {
  std::lock_guard lock(state_mu_);
  return isr_;
}

std::vector<int32_t> Partition::maximal_isr() const {
  std::lock_guard lock(state_mu_);
  return maximal_isr_locked();
}

std::vector<int32_t> Partition::maximal_isr_locked() const {
  std::vector<int32_t> isr = isr_;
  if (pending_ && pending_->proposal.expansion) {
    for (int32_t id : pending_->proposal.isr) {
      if (!contains(isr, id)) isr.push_back(id);
    }
  }
  return isr;
}

std::optional<IsrProposal> Partition::pending_isr_change() const {
  std::lock_guard lock(state_mu_);
  if (!pending_) return std::nullopt;
  return pending_->proposal;
}

std::vector<FollowerProgress> Partition::followers() const {
  std::lock_guard lock(state_mu_);
  std::vector<FollowerProgress> out;
  for (const auto& [id, progress] : followers_) out.push_back(progress);
  return out;
}

// ---------------------------------------------------------------- leader

Result<AppendResult> Partition::append_as_leader(std::span<uint8_t> batches, int16_t acks,
                                                 int32_t* epoch_out, bool internal,
                                                 uint64_t queue_version) {
  std::shared_lock role(role_mu_);
  if (role_.load() != ReplicaRole::kLeader) return not_leading();
  if (acks == -1) {
    size_t in_sync;
    {
      std::lock_guard lock(state_mu_);
      in_sync = isr_.size();
    }
    if (static_cast<int64_t>(in_sync) < min_insync_replicas_.load()) {
      return Status(ErrorCode::kNotEnoughReplicas,
                    topic_ + "-" + std::to_string(index_) + ": " + std::to_string(in_sync) +
                        " in-sync replica(s), min.insync.replicas is " +
                        std::to_string(min_insync_replicas_.load()));
    }
  }
  int32_t epoch = leader_epoch_.load();
  Result<AppendResult> result = log_->append(batches, {.assign_offsets = true,
                                                       .leader_epoch = epoch,
                                                       .internal = internal,
                                                       .queue_version = queue_version});
  if (epoch_out != nullptr) *epoch_out = epoch;
  if (result.is_ok() && !result->duplicate) {
    {
      std::lock_guard lock(state_mu_);
      advance_high_watermark_locked();
    }
    wake_waiters(false);
  }
  return result;
}

Status Partition::not_leading() const {
  int32_t leader = leader_id_.load();
  if (leader == kNoLeaderId) {
    return Status(ErrorCode::kLeaderNotAvailable,
                  topic_ + "-" + std::to_string(index_) + " has no leader at the moment");
  }
  return Status(ErrorCode::kNotLeader, topic_ + "-" + std::to_string(index_) +
                                           ": this broker follows broker " +
                                           std::to_string(leader));
}

Result<int64_t> Partition::delete_records(int64_t offset, int32_t* epoch_out) {
  {
    std::shared_lock role(role_mu_);
    if (role_.load() != ReplicaRole::kLeader) return not_leading();
    int64_t hw = high_watermark_.load();
    if (offset == -1) offset = hw;
    if (offset < 0 || offset > hw) {
      return Status(ErrorCode::kOffsetOutOfRange,
                    topic_ + "-" + std::to_string(index_) + ": cannot delete below offset " +
                        std::to_string(offset) + ", past the high watermark " + std::to_string(hw) +
                        " (only committed records can be deleted)");
    }
    MQ_RETURN_IF_ERROR(log_->delete_records(offset).status());
    if (epoch_out != nullptr) *epoch_out = leader_epoch_.load();
    std::lock_guard lock(state_mu_);
    update_low_watermark_locked();
  }
  // Followers long-polling at their log end learn the new log start from the
  // answer (and report theirs in the next fetch, raising the low watermark).
  wake_waiters(false, /*followers=*/true);
  return log_->log_start_offset();
}

std::optional<ErrorCode> Partition::delete_outcome(int64_t offset, int32_t leader_epoch) const {
  if (role_.load() != ReplicaRole::kLeader || leader_epoch_.load() != leader_epoch) {
    return ErrorCode::kNotLeader;
  }
  if (low_watermark_.load() < offset) return std::nullopt;
  return ErrorCode::kNone;
}

bool Partition::update_low_watermark_locked() {
  if (role_.load() != ReplicaRole::kLeader) return false;
  int64_t candidate = log_->log_start_offset();
  for (int32_t id : isr_) {
    if (id == local_id_) continue;
    auto it = followers_.find(id);
    // A member that has not told its log start in this epoch holds it unknown.
    if (it == followers_.end() || it->second.log_start_offset < 0) {
      candidate = -1;
      break;
    }
    candidate = std::min(candidate, it->second.log_start_offset);
  }
  return candidate > low_watermark_.exchange(candidate);
}

std::optional<ErrorCode> Partition::acks_all_outcome(int64_t last_offset,
                                                     int32_t leader_epoch) const {
  if (role_.load() != ReplicaRole::kLeader || leader_epoch_.load() != leader_epoch) {
    return ErrorCode::kNotLeader;
  }
  if (high_watermark_.load() <= last_offset) return std::nullopt;
  std::lock_guard lock(state_mu_);
  if (static_cast<int64_t>(maximal_isr_locked().size()) < min_insync_replicas_.load()) {
    return ErrorCode::kNotEnoughReplicasAfterAppend;
  }
  return ErrorCode::kNone;
}

ErrorCode Partition::check_leader(int32_t current_leader_epoch) const {
  int32_t epoch = leader_epoch_.load();
  if (current_leader_epoch >= 0 && current_leader_epoch < epoch) {
    return ErrorCode::kFencedLeaderEpoch;
  }
  if (current_leader_epoch > epoch) return ErrorCode::kUnknownLeaderEpoch;
  if (role_.load() != ReplicaRole::kLeader) {
    return leader_id_.load() == kNoLeaderId ? ErrorCode::kLeaderNotAvailable
                                            : ErrorCode::kNotLeader;
  }
  return ErrorCode::kNone;
}

ErrorCode Partition::record_follower_fetch(int32_t replica_id, int64_t fetch_offset,
                                           int64_t follower_log_start_offset) {
  std::optional<IsrProposal> proposal;
  uint64_t proposal_id = 0;
  IsrChanger* changer = nullptr;
  bool moved = false;
  {
    std::lock_guard lock(state_mu_);
    if (role_.load() != ReplicaRole::kLeader) return ErrorCode::kNotLeader;
    auto it = followers_.find(replica_id);
    if (it == followers_.end()) return ErrorCode::kReplicaNotAvailable;
    int64_t end = log_->log_end_offset();
    if (fetch_offset > end || fetch_offset < log_->log_start_offset()) {
      return ErrorCode::kOffsetOutOfRange;
    }
    int64_t now = now_ms();
    FollowerProgress& follower = it->second;
    // Kafka's lastCaughtUpTimeMs: caught up now if it fetched from our end;
    // caught up as of its previous fetch if it reached the end we had then.
    if (fetch_offset >= end) {
      follower.last_caught_up_ms = std::max(follower.last_caught_up_ms, now);
    } else if (follower.last_fetch_leader_leo >= 0 &&
               fetch_offset >= follower.last_fetch_leader_leo) {
      follower.last_caught_up_ms = std::max(follower.last_caught_up_ms, follower.last_fetch_ms);
    }
    follower.last_fetch_leader_leo = end;
    follower.last_fetch_ms = now;
    follower.log_end_offset = fetch_offset;
    if (follower_log_start_offset >= 0) follower.log_start_offset = follower_log_start_offset;
    moved = advance_high_watermark_locked();
    moved = update_low_watermark_locked() || moved;
    proposal = expansion_for_locked(follower, now);
    if (proposal) {
      proposal_id = next_proposal_id_++;
      pending_ = PendingChange{proposal_id, *proposal};
      changer = isr_changer_;
      // The replica joins the maximal ISR now; the HW may have to wait for it.
    }
  }
  if (proposal) send_proposal(changer, *proposal, proposal_id);
  if (moved) wake_waiters(false);
  return ErrorCode::kNone;
}

std::optional<IsrProposal> Partition::expansion_for_locked(const FollowerProgress& follower,
                                                           int64_t now) {
  if (isr_changer_ == nullptr || pending_ || now < proposal_blocked_until_ms_) return std::nullopt;
  if (contains(isr_, follower.broker_id)) return std::nullopt;
  // Kafka's rule: caught up to the HW and holding everything of this epoch so far.
  if (follower.log_end_offset < high_watermark_.load() ||
      follower.log_end_offset < epoch_start_offset_) {
    return std::nullopt;
  }
  std::vector<int32_t> isr = isr_;
  isr.push_back(follower.broker_id);
  return proposal_locked(std::move(isr), true);
}

void Partition::maybe_shrink_isr() {
  std::optional<IsrProposal> proposal;
  uint64_t proposal_id = 0;
  IsrChanger* changer = nullptr;
  {
    std::lock_guard lock(state_mu_);
    int64_t now = now_ms();
    if (role_.load() != ReplicaRole::kLeader || isr_changer_ == nullptr || pending_ ||
        now < proposal_blocked_until_ms_) {
      return;
    }
    std::vector<int32_t> keep;
    for (int32_t id : isr_) {
      auto it = followers_.find(id);
      bool lagging = id != local_id_ && it != followers_.end() &&
                     now - it->second.last_caught_up_ms > settings_.lag_time_max_ms;
      if (!lagging) keep.push_back(id);
    }
    if (keep.size() == isr_.size()) return;
    proposal = proposal_locked(std::move(keep), false);
    proposal_id = next_proposal_id_++;
    pending_ = PendingChange{proposal_id, *proposal};
    changer = isr_changer_;
  }
  send_proposal(changer, *proposal, proposal_id);
}

IsrProposal Partition::proposal_locked(std::vector<int32_t> isr, bool expansion) {
  return IsrProposal{.topic = topic_,
                     .partition = index_,
                     .leader_id = local_id_,
                     .leader_epoch = leader_epoch_.load(),
                     .partition_epoch = partition_epoch_.load(),
                     .isr = std::move(isr),
                     .expansion = expansion};
}

void Partition::send_proposal(IsrChanger* changer, const IsrProposal& proposal, uint64_t id) {
  std::weak_ptr<Partition> self = weak_from_this();
  if (self.expired()) {
    // Invariant: a partition with an IsrChanger is owned by a shared_ptr, so
    // the controller's late answer can find out whether it still exists.
    spdlog::critical("{}-{}: ISR proposal from a partition not owned by a shared_ptr", topic_,
                     index_);
    std::abort();
  }
  spdlog::info("{}-{}: proposing ISR {} ({}) in leader epoch {}, partition epoch {}", topic_,
               index_, join(proposal.isr), proposal.expansion ? "expand" : "shrink",
               proposal.leader_epoch, proposal.partition_epoch);
  changer->propose(proposal, [self, id](Status status) {
    if (std::shared_ptr<Partition> partition = self.lock()) {
      partition->finish_proposal(id, status);
    }
  });
}

void Partition::finish_proposal(uint64_t id, const Status& status) {
  std::lock_guard lock(state_mu_);
  if (!pending_ || pending_->id != id || status.is_ok()) return;
  // Refused or unreachable: forget it, and wait a little before the next one.
  spdlog::warn("{}-{}: ISR proposal {} failed: {}", topic_, index_, join(pending_->proposal.isr),
               status.message());
  pending_.reset();
  proposal_blocked_until_ms_ = now_ms() + settings_.isr_retry_backoff_ms;
}

bool Partition::advance_high_watermark_locked() {
  if (role_.load() != ReplicaRole::kLeader) return false;
  int64_t candidate = log_->log_end_offset();
  for (int32_t id : maximal_isr_locked()) {
    if (id == local_id_) continue;
    auto it = followers_.find(id);
    // A member whose position is unknown (no fetch yet in this epoch) holds it.
    if (it == followers_.end() || it->second.log_end_offset < 0) return false;
    candidate = std::min(candidate, it->second.log_end_offset);
  }
  if (candidate <= high_watermark_.load()) return false;
  high_watermark_.store(candidate);
  log_->note_committed(candidate);
  return true;
}

// ---------------------------------------------------------------- follower

ErrorCode Partition::check_follower(int32_t leader_epoch) const {
  int32_t epoch = leader_epoch_.load();
  if (leader_epoch < epoch) return ErrorCode::kFencedLeaderEpoch;
  if (leader_epoch > epoch) return ErrorCode::kUnknownLeaderEpoch;
  if (role_.load() != ReplicaRole::kFollower) return ErrorCode::kNotLeader;
  return ErrorCode::kNone;
}

Result<AppendResult> Partition::append_as_follower(std::span<uint8_t> batches,
                                                   int32_t leader_epoch) {
  std::shared_lock role(role_mu_);
  ErrorCode error = check_follower(leader_epoch);
  if (error != ErrorCode::kNone) {
    return Status(error, topic_ + "-" + std::to_string(index_) + ": not following in epoch " +
                             std::to_string(leader_epoch) + " (now epoch " +
                             std::to_string(leader_epoch_.load()) + ")");
  }
  return log_->append(batches, {.assign_offsets = false, .leader_epoch = 0});
}

void Partition::update_follower_high_watermark(int64_t leader_high_watermark) {
  bool moved = false;
  {
    std::shared_lock role(role_mu_);
    if (role_.load() != ReplicaRole::kFollower) return;
    int64_t hw = std::min(leader_high_watermark, log_->log_end_offset());
    moved = hw > high_watermark_.exchange(hw);
    if (moved) log_->note_committed(hw);
  }
  if (moved) wake_waiters(false);
}

Status Partition::follow_log_start(int64_t leader_log_start_offset, int32_t leader_epoch) {
  std::shared_lock role(role_mu_);
  ErrorCode error = check_follower(leader_epoch);
  if (error != ErrorCode::kNone) {
    return Status(error, topic_ + "-" + std::to_string(index_) + ": not following in epoch " +
                             std::to_string(leader_epoch));
  }
  // Never past what this replica knows is committed: a tail it may still
  // have to truncate is not the leader's to delete.
  int64_t target = std::min(leader_log_start_offset, high_watermark_.load());
  if (target <= log_->log_start_offset()) return Status::ok();
  return log_->delete_records_before(target).status();
}

Status Partition::truncate_to(int64_t offset, int32_t leader_epoch) {
  std::shared_lock role(role_mu_);
  ErrorCode error = check_follower(leader_epoch);
  if (error != ErrorCode::kNone) {
    return Status(error, topic_ + "-" + std::to_string(index_) + ": not following in epoch " +
                             std::to_string(leader_epoch));
  }
  if (offset >= log_->log_end_offset()) {
    // Nothing to cut, but an epoch stamped at the end with no batches yet (a
    // former leader's) goes, or reconciliation would ask about it forever.
    MQ_RETURN_IF_ERROR(log_->leader_epochs().truncate_from_end(offset));
  } else {
    MQ_RETURN_IF_ERROR(log_->truncate_to(offset));
  }
  high_watermark_.store(std::min(high_watermark_.load(), log_->log_end_offset()));
  return Status::ok();
}

Status Partition::truncate_fully_and_start_at(int64_t offset, int32_t leader_epoch) {
  std::shared_lock role(role_mu_);
  ErrorCode error = check_follower(leader_epoch);
  if (error != ErrorCode::kNone) {
    return Status(error, topic_ + "-" + std::to_string(index_) + ": not following in epoch " +
                             std::to_string(leader_epoch));
  }
  MQ_RETURN_IF_ERROR(log_->truncate_fully_and_start_at(offset));
  high_watermark_.store(offset);
  return Status::ok();
}

// ---------------------------------------------------------------- waiting

uint64_t Partition::on_data_after(int64_t offset, std::function<void()> wake, WaitBound bound) {
  {
    // Checked under the lock that wake_waiters() takes after a bound moved,
    // so a move is either seen here or wakes this waiter.
    std::lock_guard lock(waiters_mu_);
    int64_t end = bound == WaitBound::kHighWatermark ? high_watermark_.load()
                  : bound == WaitBound::kLogEnd      ? log_->log_end_offset()
                                                     : low_watermark_.load();
    if (end <= offset) {
      uint64_t ticket = next_ticket_++;
      waiters_.emplace(ticket, Waiter{offset, bound, std::move(wake)});
      return ticket;
    }
  }
  wake();
  return 0;
}

void Partition::cancel_wait(uint64_t ticket) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(ticket);
}

void Partition::cancel_all_waits() {
  std::map<uint64_t, Waiter> waiters;
  {
    std::lock_guard lock(waiters_mu_);
    waiters.swap(waiters_);
  }
}

void Partition::wake_waiters(bool all, bool followers) {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(waiters_mu_);
    if (waiters_.empty()) return;
    int64_t hw = high_watermark_.load();
    int64_t end = log_->log_end_offset();
    int64_t low = low_watermark_.load();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      WaitBound kind = it->second.bound;
      int64_t bound = kind == WaitBound::kHighWatermark ? hw
                      : kind == WaitBound::kLogEnd      ? end
                                                        : low;
      if (all || bound > it->second.offset || (followers && kind == WaitBound::kLogEnd)) {
        due.push_back(std::move(it->second.wake));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& wake : due) wake();
}

std::string partition_dir_name(const std::string& topic, int32_t index) {
  return topic + "-" + std::to_string(index);
}

}  // namespace mq::broker
