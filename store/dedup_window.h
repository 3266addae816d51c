// The de-duplication window of one partition: the message ids
// (kMessageIdHeader) appended in the last dedup.window.ms, each with the
// offset of its record, so a record re-sent with an id already in the window
// is acknowledged with that offset instead of being appended again
// (docs/messaging.md). Every replica keeps one, from its own appends, so a new
// leader knows the ids its predecessor accepted. Snapshot
// "dedup-window.checkpoint" (store/checkpoint.h), written with the other
// checkpoints; what was appended after it is replayed from the log on open:
//
//   mq-dedup-window 1
//   offset <O> epoch <E>          covers the records below O; E is the leader
//                                 epoch of the batch ending at O (-1: none)
//   <offset> <time_ms> <id in hex>   one line per id, oldest first
//   crc32c <hex>
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/checkpoint.h"

namespace mq {
inline constexpr std::string_view kDedupSnapshotKind = "mq-dedup-window";
inline constexpr int kDedupSnapshotVersion = 1;
}  // namespace mq

namespace mq {

// One remembered id, for tools that print the window.
struct DedupEntry {
  std::string id;
  int64_t offset = -1;
  int64_t time_ms = 0;
};

// Not thread-safe: the log calls it under its append lock.
class DedupWindow {
 public:
  DedupWindow() = default;
  DedupWindow(const DedupWindow&) = delete;  // big: never copied by accident
  DedupWindow& operator=(const DedupWindow&) = delete;

  // The offset of the record that carried `id`, while it is in the window.
  std::optional<int64_t> find(std::string_view id) const;
  // Remembers `id` at `offset`, appended at `time_ms`; a later offset
  // replaces an earlier one.
  void add(std::string_view id, int64_t offset, int64_t time_ms);
  // Forgets the ids added before `now_ms - window_ms`.
  void expire(int64_t now_ms, int64_t window_ms);
  // Forgets the ids at offsets >= `offset` (the log was truncated there).
  void truncate_from(int64_t offset);
  void clear();
  size_t size() const { return live_; }
  // The remembered ids in offset order.
  std::vector<DedupEntry> entries() const;

  // Where a snapshot ends (store/checkpoint.h).
  using Covered = SnapshotCoverage;
  // The snapshot's body lines; written with write_checkpoint (store/checkpoint.h).
  std::vector<std::string> snapshot_lines(Covered covered) const;
  Status write_snapshot(const std::string& path, Covered covered) const;
  // Replaces the contents with the snapshot's; returns what it covers.
  Result<Covered> load_snapshot(const std::string& path);

 private:
  // Every id added, in append (= offset) order; `live` is false once a
  // later entry of the same id replaced it.
  struct Entry {
    std::string id;
    int64_t offset;
    int64_t time_ms;
    uint64_t hash;
    bool live;
  };
  // An open-addressing table (linear probing, at most half full) of the live
  // entries: the id's hash, and the entry's sequence number + 1 (0: empty).
  struct Slot {
    uint64_t hash = 0;
    uint64_t entry = 0;
  };

  static uint64_t hash_of(std::string_view id);
  Entry& entry(uint64_t sequence) { return order_[sequence - front_sequence_]; }
  const Entry& entry(uint64_t sequence) const { return order_[sequence - front_sequence_]; }
  // The slot of the live entry with `id`, or the empty slot where it would go.
  size_t probe(std::string_view id, uint64_t hash) const;
  void insert_slot(uint64_t hash, uint64_t sequence);
  void erase_slot(size_t slot);    // backward-shift deletion
  void forget(uint64_t sequence);  // the entry's slot, if it is live
  void grow();

  std::deque<Entry> order_;
  uint64_t front_sequence_ = 0;  // sequence number of order_.front()
  std::vector<Slot> slots_;      // size a power of two, or empty
  size_t live_ = 0;
};

}  // namespace mq
