// What a leader knows about each other member's log, and how it paces
// replication to it (etcd's probe / replicate / snapshot states).
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "raft/messages.h"

namespace mq::raft {

enum class ReplicationState : int8_t {
  kProbe,      // one append at a time until the follower accepts one
  kReplicate,  // appends pipelined, up to max_inflight_appends unacknowledged
  kSnapshot,   // the follower is behind the log start: sending the snapshot in chunks
};

struct Progress {
  bool voter = false;
  std::string directory_id;  // as the member last said (AppendEntriesResponse, ObserverHello)
  // A voter's address as it announced it (ObserverHello of a voter that hears
  // no leader: it may have moved); empty if it has not.
  std::string address;
  uint64_t match = 0;  // highest index known to be in the member's log
  // The leader's last request_id when `match` last rose: a request numbered
  // above it reached the member after it had acknowledged `match`, so its
  // refusal at or below `match` means the member lost its log.
  uint64_t match_request_id = 0;
  uint64_t next = 1;  // next index to send
  ReplicationState state = ReplicationState::kProbe;
  bool probe_sent = false;        // kProbe: an append is out; wait for its answer or a heartbeat
  std::deque<uint64_t> inflight;  // kReplicate: last index of each unacknowledged append
  bool recent_active = false;     // answered since the last check-quorum round
  int ticks_since_progress = 0;   // ticks without match or snapshot offset moving
  // Ticks since its last answer; a member not heard from in this term yet
  // counts as heard from long ago (a leader elected a moment ago must not
  // take a member that has stopped for one that answers).
  int ticks_since_heard = kNeverHeard;
  static constexpr int kNeverHeard = 1 << 24;
  bool sent_this_round = false;  // an append went out in the current flush
  uint64_t snapshot_index = 0;   // kSnapshot: which snapshot is being sent
  uint64_t snapshot_offset = 0;  // kSnapshot: bytes the member has acknowledged
  // A dynamic observer: listed nowhere, added when its ObserverHello
  // arrived, and forgotten once silent for RaftConfig::dynamic_observer_expiry_ticks().
  bool dynamic = false;
  int silent_ticks = 0;  // dynamic: ticks since its last message

  void become_probe() {
    state = ReplicationState::kProbe;
    probe_sent = false;
    inflight.clear();
    next = match + 1;
  }
  void become_replicate() {
    state = ReplicationState::kReplicate;
    inflight.clear();
    next = match + 1;
  }
  void acknowledge(uint64_t index) {
    while (!inflight.empty() && inflight.front() <= index) inflight.pop_front();
  }
};

}  // namespace mq::raft
