// In-memory RaftStorage with the same contract checks as the file storage.
#include "raft/memory_storage.h"

namespace mq::raft {

Status MemoryStorage::save_hard_state(const HardState& state) {
  state_.hard_state = state;
  return Status::ok();
}

Status MemoryStorage::append(std::span<const Entry> entries) {
  if (entries.empty()) return Status::ok();
  uint64_t base = state_.snapshot ? state_.snapshot->index : 0;
  uint64_t first = entries.front().index;
  uint64_t last = base + state_.entries.size();
  if (first <= base || first > last + 1) {
    return Status(ErrorCode::kInvalidRequest, "raft log append at " + std::to_string(first) +
                                                  " leaves a gap or overwrites the snapshot (log " +
                                                  std::to_string(base + 1) + ".." +
                                                  std::to_string(last) + ")");
  }
  state_.entries.resize(first - base - 1);
  state_.entries.insert(state_.entries.end(), entries.begin(), entries.end());
  return Status::ok();
}

Status MemoryStorage::save_snapshot(const Snapshot& snapshot) {
  uint64_t base = state_.snapshot ? state_.snapshot->index : 0;
  if (snapshot.index <= base) {
    return Status(ErrorCode::kInvalidRequest, "raft snapshot at " + std::to_string(snapshot.index) +
                                                  " is not newer than the stored one at " +
                                                  std::to_string(base));
  }
  std::vector<Entry> kept;
  if (snapshot.index > base && snapshot.index <= base + state_.entries.size() &&
      state_.entries[snapshot.index - base - 1].term == snapshot.term) {
    kept.assign(state_.entries.begin() + static_cast<ptrdiff_t>(snapshot.index - base),
                state_.entries.end());
  }
  state_.entries = std::move(kept);
  state_.snapshot = snapshot;
  return Status::ok();
}

}  // namespace mq::raft
