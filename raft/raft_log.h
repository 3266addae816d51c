// A node's view of its log: the entries after the latest snapshot, held in
// memory (the metadata log is small and snapshots bound it), and how much of
// it is already on stable storage.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "raft/messages.h"

namespace mq::raft {

class RaftLog {
 public:
  RaftLog() = default;
  // A log restored from storage: everything in it is persisted.
  RaftLog(uint64_t snapshot_index, uint64_t snapshot_term, std::vector<Entry> entries);

  uint64_t snapshot_index() const { return snapshot_index_; }
  uint64_t snapshot_term() const { return snapshot_term_; }
  uint64_t first_index() const { return snapshot_index_ + 1; }
  uint64_t last_index() const { return snapshot_index_ + entries_.size(); }
  uint64_t last_term() const;
  // Term of entry `index`: known from the snapshot index to the last index.
  std::optional<uint64_t> term_at(uint64_t index) const;
  bool matches(uint64_t index, uint64_t term) const;
  // first_index() <= index <= last_index().
  const Entry& at(uint64_t index) const;

  // Entries from `from` on, at most `max_entries` and `max_bytes` of data
  // (but at least one entry when there is one).
  std::vector<Entry> slice(uint64_t from, size_t max_entries, size_t max_bytes) const;
  // The last index at or before `index` whose term is at most `term`, never
  // below `floor` (an index whose term is known to agree).
  uint64_t last_index_not_newer(uint64_t index, uint64_t term, uint64_t floor) const;

  // Leader: appends at last_index() + 1.
  void append(Entry entry);
  // Follower: adds entries that follow a matching prev entry, skipping those
  // already present and truncating from the first one whose term differs.
  // Returns the first truncated index, or 0.
  uint64_t merge(const std::vector<Entry>& entries);
  // Drops everything up to `index` (a snapshot of entry index/term). Entries
  // after it stay only if the log holds `index` with `term`.
  void compact_to(uint64_t index, uint64_t term);

  uint64_t persisted_index() const { return persisted_index_; }
  std::vector<Entry> unpersisted() const;
  void mark_persisted(uint64_t index);

 private:
  uint64_t snapshot_index_ = 0;
  uint64_t snapshot_term_ = 0;
  std::vector<Entry> entries_;    // entries_[i].index == snapshot_index_ + 1 + i
  uint64_t persisted_index_ = 0;  // entries up to here are on stable storage
};

}  // namespace mq::raft
