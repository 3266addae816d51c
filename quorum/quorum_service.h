// QuorumService: one member of the metadata quorum. It runs a raft::RaftNode
// on its own thread over ZeroMQ — a ROUTER bound on the quorum endpoint, a
// DEALER to every other member — persists with raft::FileStorage, applies
// the committed log to the application's StateMachine, takes proposals from
// any thread and carries "controller calls" (application bytes in and out) to
// whichever member currently leads. docs/raft.md ("The quorum service")
// describes the thread and its guarantees; docs/protocol.md §16 the frames.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "quorum/quorum_config.h"
#include "quorum/state_machine.h"
#include "raft/membership.h"
#include "raft/progress.h"
#include "raft/raft_node.h"

namespace mq::quorum {

// A leader's view of one member (itself included).
struct MemberProgress {
  NodeId id = raft::kNoNode;
  bool voter = false;
  std::string directory_id;         // as it last said; empty if not heard yet
  bool directory_mismatch = false;  // a voter back with another directory: not counted yet
  bool dynamic = false;             // an observer listed nowhere that announced itself
  uint64_t match_index = 0;         // highest index known to be in its log
  uint64_t lag = 0;                 // entries behind the leader's last index
  raft::ReplicationState state = raft::ReplicationState::kProbe;
  bool recent_active = false;  // heard from within the current check-quorum round
  // Since its last answer to this leader; -1 if it has not answered in this term.
  int64_t heard_ms_ago = -1;
};

struct QuorumCounters {
  uint64_t messages_sent = 0;      // raft messages handed to ZeroMQ
  uint64_t messages_dropped = 0;   // raft messages not sent: peer unreachable or its queue full
  uint64_t messages_received = 0;  // raft messages stepped
  uint64_t frames_rejected = 0;    // malformed, or from an unknown member: logged and dropped
  uint64_t snapshots_taken = 0;    // StateMachine::snapshot() calls
  uint64_t snapshots_restored = 0;
  uint64_t calls_sent = 0;     // controller calls forwarded to the leader
  uint64_t calls_handled = 0;  // controller calls given to this node's handler
};

struct QuorumStatus {
  NodeId id = raft::kNoNode;
  bool voter = false;               // in the voter set in effect, with this directory
  std::string directory_id;         // of this node's quorum directory
  std::vector<raft::Voter> voters;  // the voter set in effect, by id
  uint64_t voters_recorded_at = 0;  // its configuration entry; 0: static or from a snapshot
  bool running = false;  // the quorum thread is up (false before start, after stop or a failure)
  raft::Role role = raft::Role::kFollower;
  uint64_t term = 0;
  NodeId leader = raft::kNoNode;
  bool am_controller = false;  // as last passed to StateMachine::on_leader_change
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t snapshot_index = 0;
  uint64_t last_log_index = 0;
  std::vector<MemberProgress> members;  // on the leader: every member, by id; else empty
  QuorumCounters counters;
  // The last other node this one followed as leader, and how long ago (as of
  // status()) its last message reached this node; raft::kNoNode and -1 before
  // any. A new controller starts that node's broker session there: its
  // heartbeats went to itself, so this is the last sign of life the quorum has.
  NodeId last_leader_heard = raft::kNoNode;
  int64_t last_leader_silence_ms = -1;
};

// The application's handler of controller calls, registered on every member;
// the leader's is the one used. Called on the quorum thread, only while this
// node is the controller (am_controller); it must not block. `reply` may be
// called later from any thread (e.g. once a proposal commits), once; later
// calls are ignored, and a reply dropped without being called answers the
// caller UNKNOWN ("the controller dropped the request").
using ReplyFn = std::function<void(Result<Bytes>)>;
// `from` is the calling member's node id (this node's own for its own calls;
// with authentication on, the quorum checked it against the caller's key).
using ControllerHandler = std::function<void(NodeId from, Bytes request, ReplyFn reply)>;

// Errors that name a leader (NOT_CONTROLLER) end in "(leader: <id>)" or
// "(leader: none)"; this reads the id back, raft::kNoNode if there is none.
NodeId leader_in(const Status& status);

class QuorumService {
 public:
  // `state_machine` must outlive the service.
  QuorumService(QuorumConfig config, StateMachine& state_machine);
  ~QuorumService();  // stop()
  QuorumService(const QuorumService&) = delete;
  QuorumService& operator=(const QuorumService&) = delete;

  // Before start(); without one, calls reaching this node while it leads are
  // answered UNKNOWN ("no controller handler").
  void set_controller_handler(ControllerHandler handler);

  // Validates the config, opens the storage, restores the state machine from
  // the stored snapshot (if any), binds the ROUTER, connects a DEALER to
  // every other member and starts the quorum thread. Once only.
  Status start();
  // Stops the thread (within one poll interval, at most tick_ms), fails
  // every pending proposal and call, closes the sockets. Idempotent. Called
  // from a callback on the quorum thread it only asks the thread to stop;
  // a later stop() or the destructor joins it.
  void stop();

  NodeId id() const;
  // The bound endpoint (with the actual port when port 0 was asked); empty
  // before start().
  const std::string& endpoint() const;

  // Appends `data` to the log. Resolved on the quorum thread with the entry's
  // index once this node, the leader, has applied it (StateMachine::apply
  // returned), or failed: NOT_CONTROLLER naming the leader if this node does
  // not lead, or stops leading before the entry commits (the entry may still
  // commit under the new leader: the outcome is unknown, as after any lost
  // connection); MESSAGE_TOO_LARGE above config.max_entry_bytes();
  // NOT_CONTROLLER "(leader: none)" once stopped. Callable from any thread.
  void propose(Bytes data, std::function<void(Result<uint64_t>)> done);
  std::future<Result<uint64_t>> propose(Bytes data);

  // Leader only: adds node `id`, which must run as an observer of this
  // quorum and have caught up, to the voters (reached at `endpoint`,
  // "tcp://host:port"), or removes a voter; one change at a time
  // (raft::RaftNode::add_voter). Resolved like propose(): with the index of
  // the configuration entry once applied, or NOT_CONTROLLER naming the
  // leader, VOTER_CHANGE_IN_PROGRESS, DUPLICATE_VOTER, VOTER_NOT_FOUND,
  // REPLICA_NOT_AVAILABLE (not an observer here, or not caught up),
  // NOT_ENOUGH_REPLICAS (the new set's answering voters are no quorum) or
  // INVALID_REQUEST (a bad endpoint, or not the one the node announced).
  void add_voter(NodeId id, std::string endpoint, std::function<void(Result<uint64_t>)> done);
  void remove_voter(NodeId id, std::function<void(Result<uint64_t>)> done);

  // Sends `request` to the controller handler of the current leader (this
  // node's own if it is the controller) and waits for its reply. A member
  // that is not the controller answers NOT_CONTROLLER naming the leader, and
  // the call is retried there; so is a call in flight to a leader that lost
  // leadership. REQUEST_TIMED_OUT if no reply came within `timeout`. The
  // handler may therefore see a request more than once: make requests
  // idempotent. Callable from any thread except the quorum thread.
  Result<Bytes> call_leader(Bytes request, std::chrono::milliseconds timeout);

  // A copy of the state as of the quorum thread's last loop iteration.
  QuorumStatus status() const;
  // ok, or what stopped the quorum thread (storage failure, restore failure).
  Status failure() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::quorum
