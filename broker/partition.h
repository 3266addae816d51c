// One partition replica on this broker: its log, its role (leader or
// follower) with the leader epoch and partition epoch the controller gave it,
// its high watermark, and the fetches and acks=all produces waiting on it.
//
// A freshly constructed partition is the single-node leader: in-sync replica
// set {this broker}, so the high watermark follows the log end offset. In a
// cluster the broker calls become_leader()/become_follower() with what the
// metadata log committed. As leader the partition tracks each follower's log
// end offset from its fetches, keeps high watermark = min log end offset over
// the (maximal) ISR, never lower than before, and proposes ISR changes to the
// controller through an IsrChanger; a change takes effect only when the
// committed metadata calls become_leader() again (docs/architecture.md,
// "Replication").
//
// Locking: role_mu_ (shared) is held by appends and follower truncations,
// exclusively by role changes, so no append straddles a change of leader
// epoch. state_mu_ guards the replica bookkeeping; waiters_mu_ the wake-ups.
// Order: role_mu_ before state_mu_; waiters_mu_ is never held with either.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/log.h"

namespace mq::broker {

// What the committed metadata says when this broker leads the partition.
struct LeaderState {
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> replicas;  // every assigned replica, this broker included
  std::vector<int32_t> isr;       // the committed in-sync replicas, this broker included
  int32_t local_broker_id = 0;
};

// FollowerState::leader_id of a partition without a leader.
inline constexpr int32_t kNoLeaderId = -1;

// What the committed metadata says when another broker leads it, or nobody
// does (leader_id kNoLeaderId: the replica waits until one is elected).
struct FollowerState {
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  int32_t leader_id = kNoLeaderId;
  std::vector<int32_t> replicas;
};

// An ISR change the leader wants the controller to commit (AlterPartition).
struct IsrProposal {
  std::string topic;
  int32_t partition = 0;
  int32_t leader_id = 0;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;  // the epoch the change is based on (fences stale proposals)
  std::vector<int32_t> isr;     // the whole wanted ISR
  bool expansion = false;       // true: adds one replica; false: removes lagging ones
};

// Sends ISR proposals to the controller. The broker wires it to AlterPartition.
class IsrChanger {
 public:
  virtual ~IsrChanger() = default;
  // Must not block and must not call back into the partition before
  // returning. `done` runs once, on any thread: ok means the controller
  // accepted (the ISR changes when the committed metadata reaches
  // become_leader()), an error means it refused or could not be reached, and
  // the partition may propose again after a back-off.
  virtual void propose(const IsrProposal& proposal, std::function<void(Status)> done) = 0;
};

struct ReplicationSettings {
  // A follower in the ISR that has not caught up for this long is dropped.
  int64_t lag_time_max_ms = 10000;
  // After a refused or failed proposal, none is sent again for this long.
  int64_t isr_retry_backoff_ms = 500;
  // Monotonic milliseconds; tests inject a fake clock. Empty: steady_clock.
  std::function<int64_t()> now_ms;
};

// What the leader knows about one follower (from its fetches).
struct FollowerProgress {
  int32_t broker_id = -1;
  int64_t log_end_offset = -1;         // -1 until its first fetch in this leader epoch
  int64_t last_caught_up_ms = 0;       // last time it had fetched up to the leader's end
  int64_t last_fetch_ms = 0;           // its last fetch
  int64_t last_fetch_leader_leo = -1;  // the leader's log end offset at that fetch
  int64_t log_start_offset = -1;       // its log start offset, as its last fetch said (-1 unknown)
};

enum class ReplicaRole { kLeader, kFollower };

// Which end a waiter waits for: consumers and acks=all for the high
// watermark, followers for the log end, DeleteRecords for the low watermark.
enum class WaitBound { kHighWatermark, kLogEnd, kLowWatermark };

class Partition : public std::enable_shared_from_this<Partition> {
 public:
  Partition(std::string topic, int32_t index, std::unique_ptr<Log> log, int32_t leader_epoch,
            int32_t min_insync_replicas);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  Log& log() { return *log_; }
  const Log& log() const { return *log_; }
  int32_t leader_epoch() const { return leader_epoch_.load(); }
  int32_t partition_epoch() const { return partition_epoch_.load(); }
  // This broker's id for a leader, the leader's for a follower; -1 for the
  // single-node default, whose broker id the partition never learned.
  int32_t leader_id() const { return leader_id_.load(); }
  bool is_leader() const { return role_.load() == ReplicaRole::kLeader; }
  ReplicaRole role() const { return role_.load(); }
  int64_t high_watermark() const { return high_watermark_.load(); }
  void set_min_insync_replicas(int32_t n) { min_insync_replicas_.store(n); }
  int32_t min_insync_replicas() const { return min_insync_replicas_.load(); }

  // Set once before the partition is used in a cluster. The partition must
  // then be owned by a std::shared_ptr (proposal callbacks hold a weak one).
  void set_isr_changer(IsrChanger* changer);
  void set_replication_settings(ReplicationSettings settings);

  // ---- role changes (from the committed metadata)

  // Leads the partition. On a new leader epoch: stamps the epoch in the log's
  // epoch cache at the log end, forgets the followers' positions (they must
  // fetch again) and keeps the high watermark, which then advances as
  // followers fetch. The same epoch with a newer partition epoch only updates
  // replicas and ISR. Errors: kInvalidRequest for an inconsistent state,
  // kFencedLeaderEpoch for epochs older than the current ones.
  Status become_leader(const LeaderState& state);
  // Follows `leader_id`, or no broker (kNoLeaderId): leader appends, consumer
  // reads and follower fetches are refused (NOT_LEADER, or
  // LEADER_NOT_AVAILABLE without a leader); the high watermark is capped at
  // the log end.
  Status become_follower(const FollowerState& state);
  std::vector<int32_t> replicas() const;
  std::vector<int32_t> isr() const;
  // The ISR used for the high watermark and acks=all: the ISR plus a pending
  // expansion's replica (Kafka's "maximal ISR").
  std::vector<int32_t> maximal_isr() const;
  std::optional<IsrProposal> pending_isr_change() const;
  std::vector<FollowerProgress> followers() const;
  // ISR changes applied by become_leader() while this broker was already the
  // leader (same broker id, any epoch): a shrink removes at least one member,
  // an expansion adds at least one (a change doing both counts as each).
  uint64_t isr_shrinks() const { return isr_shrinks_.load(); }
  uint64_t isr_expands() const { return isr_expands_.load(); }

  // ---- leader

  // Appends a producer's batches as the leader. NOT_LEADER on a follower
  // (LEADER_NOT_AVAILABLE while nobody leads);
  // acks=all fails with NOT_ENOUGH_REPLICAS when the ISR is smaller than
  // min.insync.replicas. `epoch_out`, if given, receives the leader epoch the
  // append was made in (for acks_all_outcome). `internal`: the broker's own
  // delivered copies and cancel records (AppendOptions::internal), and its
  // queue-state records, refused unless the queue state is still at
  // `queue_version` (AppendOptions::queue_version).
  Result<AppendResult> append_as_leader(std::span<uint8_t> batches, int16_t acks,
                                        int32_t* epoch_out = nullptr, bool internal = false,
                                        uint64_t queue_version = 0);
  // Whether an acks=all append ending at `last_offset` in `leader_epoch` is
  // done: nullopt while waiting; NONE once the high watermark passed it;
  // NOT_ENOUGH_REPLICAS_AFTER_APPEND if it passed with an ISR below
  // min.insync.replicas; NOT_LEADER if leadership moved meanwhile.
  std::optional<ErrorCode> acks_all_outcome(int64_t last_offset, int32_t leader_epoch) const;
  // The error a fetch or OffsetForLeaderEpoch gets before reading: NOT_LEADER
  // on a follower (LEADER_NOT_AVAILABLE while nobody leads);
  // FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH when
  // `current_leader_epoch` (not -1) is older / newer than this one.
  ErrorCode check_leader(int32_t current_leader_epoch) const;
  // A follower's fetch at `fetch_offset`: checks it (REPLICA_NOT_AVAILABLE
  // for a broker that is not a follower replica of this partition,
  // OFFSET_OUT_OF_RANGE outside the log), records its position and its log
  // start offset (-1: not told), advances the high and low watermarks
  // (waking waiters) and proposes an ISR expansion when due.
  ErrorCode record_follower_fetch(int32_t replica_id, int64_t fetch_offset,
                                  int64_t follower_log_start_offset = -1);
  // DeleteRecords on the leader: moves the log start forward to `offset`
  // (-1: the high watermark), deleting the segments wholly below it, and
  // wakes the followers' fetches so they learn it. Returns the new log start.
  // NOT_LEADER / LEADER_NOT_AVAILABLE on a follower; OFFSET_OUT_OF_RANGE for
  // an offset past the high watermark (or negative other than -1).
  // `epoch_out`, if given, receives the leader epoch (for delete_outcome).
  Result<int64_t> delete_records(int64_t offset, int32_t* epoch_out = nullptr);
  // The lowest log start offset over this leader and its ISR followers (as
  // their fetches reported it); -1 while a member's is unknown or on a
  // follower. Kafka's low watermark.
  int64_t low_watermark() const { return low_watermark_.load(); }
  // Whether records below `offset`, deleted in `leader_epoch`, are gone from
  // every in-sync replica: nullopt while waiting; NONE once the low
  // watermark reached it; NOT_LEADER if leadership moved meanwhile.
  std::optional<ErrorCode> delete_outcome(int64_t offset, int32_t leader_epoch) const;
  // Proposes dropping ISR followers that have not caught up within
  // lag_time_max_ms. The broker calls it periodically on every leader.
  void maybe_shrink_isr();

  // ---- follower (the ReplicaFetcher)

  // Appends batches fetched from the leader, keeping their offsets and
  // epochs. NOT_LEADER / FENCED_LEADER_EPOCH when this replica no longer
  // follows in `leader_epoch`.
  Result<AppendResult> append_as_follower(std::span<uint8_t> batches, int32_t leader_epoch);
  // The high watermark becomes min(leader's high watermark, log end).
  void update_follower_high_watermark(int64_t leader_high_watermark);
  // Follows the leader's log start (DeleteRecords, retention there) up to
  // this replica's high watermark, deleting the segments below it; only
  // while following in `leader_epoch`.
  Status follow_log_start(int64_t leader_log_start_offset, int32_t leader_epoch);
  // Cuts a divergent tail (whole batches from `offset` on), or empties the
  // log and continues at `offset`; only while following in `leader_epoch`.
  Status truncate_to(int64_t offset, int32_t leader_epoch);
  Status truncate_fully_and_start_at(int64_t offset, int32_t leader_epoch);

  // ---- waiting

  // Calls `wake` once: when `bound` moves past `offset` or the role changes
  // (or now, returning 0, if it is already past). Returns a ticket for
  // cancel_wait(): a long-polling fetch that times out cancels, so idle
  // partitions collect no waiters.
  uint64_t on_data_after(int64_t offset, std::function<void()> wake,
                         WaitBound bound = WaitBound::kHighWatermark);
  void cancel_wait(uint64_t ticket);
  // Drops every waiter (shutdown): their closures may own this partition.
  void cancel_all_waits();

 private:
  struct Waiter {
    int64_t offset;
    WaitBound bound;
    std::function<void()> wake;
  };
  int64_t now_ms() const;                                // state_mu_ held (settings_)
  ErrorCode check_follower(int32_t leader_epoch) const;  // role_mu_ held
  // Recomputes the high watermark; true if it moved. state_mu_ held.
  bool advance_high_watermark_locked();
  // Recomputes the low watermark; true if it rose. state_mu_ held.
  bool update_low_watermark_locked();
  // The error of a leader-only operation on a replica that does not lead.
  Status not_leading() const;
  std::vector<int32_t> maximal_isr_locked() const;
  // An expansion proposal for `progress` if it is due. state_mu_ held.
  std::optional<IsrProposal> expansion_for_locked(const FollowerProgress& progress, int64_t now);
  IsrProposal proposal_locked(std::vector<int32_t> isr, bool expansion);
  void send_proposal(IsrChanger* changer, const IsrProposal& proposal, uint64_t id);
  void finish_proposal(uint64_t id, const Status& status);
  // Wakes the waiters whose bound passed their offset, or all of them, or
  // (`followers`) those plus every follower fetch waiting on the log end.
  void wake_waiters(bool all, bool followers = false);

  const std::string topic_;
  const int32_t index_;
  std::unique_ptr<Log> log_;
  std::atomic<int32_t> min_insync_replicas_;

  mutable std::shared_mutex role_mu_;
  std::atomic<ReplicaRole> role_{ReplicaRole::kLeader};
  std::atomic<int32_t> leader_epoch_;
  std::atomic<int32_t> partition_epoch_{0};
  std::atomic<int32_t> leader_id_{-1};
  std::atomic<int64_t> high_watermark_;
  std::atomic<int64_t> low_watermark_{-1};
  std::atomic<uint64_t> isr_shrinks_{0};
  std::atomic<uint64_t> isr_expands_{0};

  mutable std::mutex state_mu_;
  int32_t local_id_ = -1;
  std::vector<int32_t> replicas_{-1};
  std::vector<int32_t> isr_{-1};
  std::map<int32_t, FollowerProgress> followers_;  // leader: every other replica
  int64_t epoch_start_offset_ = 0;                 // log end when this leader epoch began
  struct PendingChange {
    uint64_t id;
    IsrProposal proposal;
  };
  std::optional<PendingChange> pending_;
  uint64_t next_proposal_id_ = 1;
  int64_t proposal_blocked_until_ms_ = 0;
  IsrChanger* isr_changer_ = nullptr;
  ReplicationSettings settings_;

  std::mutex waiters_mu_;
  std::map<uint64_t, Waiter> waiters_;
  uint64_t next_ticket_ = 1;
};

// "<topic>-<partition>", the directory name of a partition under data_dir.
std::string partition_dir_name(const std::string& topic, int32_t index);

}  // namespace mq::broker
