// What a Raft node keeps on stable storage, and the interface that keeps it.
// RaftNode never calls storage itself: it hands the caller a Ready batch and
// persist_ready() (raft/raft_node.h) writes it through this interface.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "raft/messages.h"

namespace mq::raft {

// Term, vote and commit index: written (and fsynced) before the node acts on
// a new term or vote, so a restarted node never votes twice in one term.
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;

  bool operator==(const HardState&) const = default;
};

// The application's state up to and including entry `index` of term `term`.
struct Snapshot {
  uint64_t index = 0;
  uint64_t term = 0;
  Bytes data;
  // The voter set in effect at `index` (raft/membership.h, encoded); empty
  // while the log has recorded none and the static configuration rules.
  Bytes membership;

  bool operator==(const Snapshot&) const = default;
};

// Everything a node restarts from: the latest snapshot (if any) and the log
// entries after it, consecutive from snapshot.index + 1.
struct PersistentState {
  HardState hard_state;
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
};

class RaftStorage {
 public:
  virtual ~RaftStorage() = default;

  virtual Result<PersistentState> load() = 0;
  // Each call is durable when it returns.
  virtual Status save_hard_state(const HardState& state) = 0;
  // Appends consecutive entries. Persisted entries at or after
  // entries.front().index are replaced (a conflicting suffix is truncated);
  // the first entry may follow the last persisted one or the snapshot, no gap.
  virtual Status append(std::span<const Entry> entries) = 0;
  // Replaces the snapshot. Entries after snapshot.index are kept only if the
  // stored log holds entry snapshot.index with snapshot.term (Raft §7);
  // otherwise the whole log is discarded.
  virtual Status save_snapshot(const Snapshot& snapshot) = 0;
};

}  // namespace mq::raft
