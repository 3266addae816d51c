// RaftNode: the consensus core as a deterministic state machine, in the
// manner of etcd/raft. It has no threads, no clock and no I/O: the caller
// drives it with tick() (one logical clock unit), step() (a message that
// arrived) and propose() (leader only), then collects a Ready batch and
// handles it in this order:
//
//   1. persist: the snapshot, the entries and the hard state (persist_ready)
//   2. send the messages (only now: votes and acknowledgements promise
//      what is on stable storage)
//   3. restore the state machine from the snapshot if restore_from_snapshot,
//      then apply the committed entries in order
//   4. advance(ready)
//
// No other call may come between ready() and advance(). docs/raft.md
// describes the algorithm as implemented.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/membership.h"
#include "raft/messages.h"
#include "raft/progress.h"
#include "raft/raft_log.h"
#include "raft/storage.h"

namespace mq::raft {

struct RaftConfig {
  NodeId id = kNoNode;
  // The voters until the log records a voter set (a configuration entry,
  // docs/raft.md "Membership"): 1, 3 or 5 nodes; they elect the leader and
  // form quorums. Once recorded, the log's set rules and this list is only
  // where a node with an empty log starts from.
  std::vector<NodeId> voters;
  std::map<NodeId, std::string> voter_addresses;  // of `voters`, copied into the recorded set
  std::vector<NodeId> observers;  // receive the log, never vote or count for a quorum
  // This node's quorum directory (made when the directory was created); a
  // voter recorded with another directory id is not this node.
  std::string directory_id;
  // Where the members reach this node (opaque to raft). A node whose id is
  // in neither list is a dynamic observer: it announces itself to the voters
  // with ObserverHello carrying `address`, and the leader replicates to it
  // until it has been silent for 10 election timeouts. A leader records its
  // own `address` in the voter set when the set has another one for it.
  std::string address;
  int election_ticks = 10;  // a follower campaigns after [election_ticks, 2 * election_ticks)
  int heartbeat_ticks = 1;  // a leader sends heartbeats this often
  bool pre_vote = true;
  bool check_quorum = true;
  size_t max_entries_per_append = 256;
  size_t max_bytes_per_append = 1 << 20;
  size_t max_inflight_appends = 64;  // per follower
  size_t snapshot_chunk_bytes = 1 << 20;
  uint64_t random_seed = 0;  // of the election timeout randomization

  bool is_observer(NodeId node) const;
  int dynamic_observer_expiry_ticks() const { return 10 * election_ticks; }
};

// kInvalidConfig naming the problem, or ok.
Status validate(const RaftConfig& config);

enum class Role : int8_t { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view role_name(Role role);

struct Ready {
  std::optional<HardState> hard_state;  // changed since the last Ready
  // A snapshot to persist: one the application made (compact) or one the
  // leader sent, in which case restore_from_snapshot is set and the state
  // machine is rebuilt from it before the committed entries are applied.
  std::optional<Snapshot> snapshot;
  bool restore_from_snapshot = false;
  std::vector<Entry> entries;  // to append; replace persisted entries from entries.front().index
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;  // to apply, consecutive

  bool empty() const {
    return !hard_state && !snapshot && entries.empty() && messages.empty() &&
           committed_entries.empty();
  }
};

// Writes a Ready's snapshot, entries and hard state, in that order.
Status persist_ready(RaftStorage& storage, const Ready& ready);

struct Proposal {
  uint64_t index = 0;
  uint64_t term = 0;
};

// A leader's view of one member, for quorum status and lag metrics.
struct MemberStatus {
  NodeId id = kNoNode;
  bool voter = false;
  std::string directory_id;  // as the member last said; empty if not heard yet
  // Recorded as a voter with another directory: it lost its quorum
  // directory and does not count until it has caught up and is re-recorded.
  bool directory_mismatch = false;
  bool dynamic = false;  // an observer that announced itself, listed nowhere
  uint64_t match_index = 0;
  ReplicationState state = ReplicationState::kProbe;
  bool recent_active = false;
  int ticks_since_heard = 0;  // ticks since its last answer (large: not in this term)
};

class RaftNode {
 public:
  // A node restored from `state` (empty for a new node). The application
  // restores its state machine from state.snapshot itself; committed entries
  // after the snapshot come back in Ready.committed_entries.
  static Result<RaftNode> create(const RaftConfig& config, PersistentState state);

  void tick();
  // kInvalidRequest if the message is not for this node or from a stranger.
  // From a node listed nowhere only an ObserverHello, and the answers of a
  // dynamic observer the leader replicates to, are taken; other answers from
  // such a node are ignored (they answer a leadership this node lost).
  Status step(const Message& message);
  // kNotLeader (naming leader() if known) unless this node leads.
  Result<Proposal> propose(Bytes data);
  // Leader only: appends a configuration entry that adds `id` (reached at
  // `address`) to the voters, or removes it, one voter at a time (Raft thesis
  // §4.1, Kafka KIP-853). The new set is in effect once appended and the
  // Proposal commits under it. Fails with kNotLeader; kVoterChangeInProgress
  // while an earlier change has not committed or this leader has not
  // committed an entry of its term yet; kDuplicateVoter / kVoterNotFound;
  // for an add, kReplicaNotAvailable unless the leader replicates to `id`
  // (it runs as an observer) and it has every committed entry; for a
  // remove, kInvalidRequest for the last voter; kNotEnoughReplicas when the
  // voters of the new set that answer now are not its quorum. A leader that removes
  // itself leads until the entry commits, then hands the leadership over.
  Result<Proposal> add_voter(NodeId id, std::string address);
  Result<Proposal> remove_voter(NodeId id);
  // Leader only: hands the leadership to a voter whose log has every entry
  // of this one (TimeoutNow to every voter, the target last) and steps down
  // to follower without a leader. Returns the target; kNotLeader when this
  // node does not lead; kNotEnoughReplicas when the other voters that
  // answered within two heartbeats are not a quorum without this node (a
  // handover would leave a leader that cannot commit); kLeaderNotAvailable
  // when none of them has caught up yet (ask again later).
  Result<NodeId> transfer_leadership();
  // The application's state up to applied `index` is `data`: the log before it
  // is dropped. kInvalidRequest unless snapshot_index() < index <= applied_index().
  Status compact(uint64_t index, Bytes data);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& ready);

  NodeId id() const { return config_.id; }
  bool is_voter() const { return is_voter_; }
  // Listed in neither the voter set nor the observers: announces itself
  // (ObserverHello).
  bool is_dynamic_observer() const { return !is_listed(config_.id); }
  // `node` is in the voter set in effect (any directory) or an observer.
  bool is_listed(NodeId node) const;
  // The voter set in effect: the latest configuration entry in the log, or
  // the snapshot's, or the static one. membership_version() counts changes.
  const Membership& membership() const { return membership_; }
  uint64_t membership_version() const { return membership_version_; }
  // Index of the configuration entry in effect; 0 if it came from a
  // snapshot or the static configuration.
  uint64_t membership_index() const;
  // Leader only: `node` is a dynamic observer this node replicates to.
  bool replicates_to_dynamic_observer(NodeId node) const;
  Role role() const { return role_; }
  uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return leader_; }
  uint64_t commit_index() const { return commit_; }
  uint64_t applied_index() const { return applied_; }
  const RaftLog& log() const { return log_; }
  const RaftConfig& config() const { return config_; }
  // Leader only; empty otherwise. Includes this node.
  std::vector<MemberStatus> members() const;

 private:
  RaftNode(const RaftConfig& config, PersistentState state);

  HardState hard_state() const { return {term_, vote_, commit_}; }
  size_t quorum() const { return membership_.quorum(); }
  // A voter's answers count (for commit and leadership checks) unless it
  // said it has another directory than the recorded one.
  bool counts(NodeId id, const Progress& progress) const;
  // The set in effect at `index` (at or after the snapshot index).
  Membership membership_at(uint64_t index) const;
  // Re-reads configuration entries from `from` to the end of the log.
  void rescan_memberships(uint64_t from);
  void refresh_membership();
  Result<Proposal> append_membership(Membership next);
  Status check_change_allowed() const;
  Status check_quorum_after(const Membership& next, NodeId joining) const;
  void maybe_record_voters();
  void maybe_step_down_removed();
  bool is_member(NodeId id) const;  // listed, or a dynamic observer this leader replicates to
  bool in_leader_lease() const;
  void reset_election_timer();
  void send(NodeId to, MessageBody body);

  void become_follower(uint64_t term, NodeId leader);
  void follow(NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void campaign();
  void tick_leader();
  void announce();
  void expire_dynamic_observers();

  void on_vote_request(NodeId from, const VoteRequest& request);
  void on_timeout_now(NodeId from, const TimeoutNow& request);
  void on_vote_response(NodeId from, const VoteResponse& response);
  void on_append_request(NodeId from, const AppendEntriesRequest& request);
  void on_append_response(NodeId from, const AppendEntriesResponse& response);
  void on_snapshot_request(NodeId from, const InstallSnapshotRequest& request);
  void on_snapshot_response(NodeId from, const InstallSnapshotResponse& response);
  Status on_observer_hello(NodeId from, const ObserverHello& hello);
  void reject_stale_leader(const Message& message);

  bool maybe_commit();
  void send_append(NodeId to, Progress& progress, bool as_heartbeat);
  void send_append_request(NodeId to, AppendEntriesRequest request);
  void send_heartbeat(NodeId to, const Progress& progress);
  void send_snapshot_chunk(NodeId to, Progress& progress);
  void broadcast_heartbeats();
  void flush_appends();

  RaftConfig config_;
  bool is_voter_ = false;
  std::mt19937_64 random_;

  Membership static_membership_;                    // from config_.voters
  std::optional<Membership> snapshot_membership_;   // recorded at or before the snapshot
  std::map<uint64_t, Membership> log_memberships_;  // configuration entries after it, by index
  Membership membership_;                           // in effect
  uint64_t membership_version_ = 0;

  Role role_ = Role::kFollower;
  uint64_t term_ = 0;
  NodeId vote_ = kNoNode;
  NodeId leader_ = kNoNode;
  uint64_t commit_ = 0;
  uint64_t applied_ = 0;
  RaftLog log_;
  std::optional<Snapshot> snapshot_;  // the latest one, sent to followers behind the log start

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_ticks_ = 0;
  // Dynamic observer: ticks since a leader's message or its last hello, and
  // whether it has announced itself since it started.
  int announce_elapsed_ = 0;
  bool announced_ = false;
  std::map<NodeId, bool> votes_;         // candidate / pre-candidate: who answered what
  std::map<NodeId, Progress> progress_;  // leader: every other member
  uint64_t append_requests_sent_ = 0;    // leader: request_id of the last append sent in its term

  // Snapshot being received from the leader, chunk by chunk.
  std::optional<Snapshot> incoming_snapshot_;

  // Not yet handed out in a Ready.
  HardState persisted_hard_state_;
  std::vector<Message> outbox_;
  bool snapshot_pending_ = false;
  bool restore_pending_ = false;
  bool flush_pending_ = false;             // leader: new entries or a new commit index to send
  bool commit_broadcast_pending_ = false;  // leader: the commit index moved
  bool ready_outstanding_ = false;         // between ready() and advance()
};

}  // namespace mq::raft
