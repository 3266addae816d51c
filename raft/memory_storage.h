// RaftStorage in memory: for tests, the simulation (a "crash" drops the node
// but keeps this object, so exactly what was persisted survives) and benchmarks.
#pragma once

#include "raft/storage.h"

namespace mq::raft {

class MemoryStorage : public RaftStorage {
 public:
  Result<PersistentState> load() override { return state_; }
  Status save_hard_state(const HardState& state) override;
  Status append(std::span<const Entry> entries) override;
  Status save_snapshot(const Snapshot& snapshot) override;

  const PersistentState& state() const { return state_; }

 private:
  PersistentState state_;
};

}  // namespace mq::raft
