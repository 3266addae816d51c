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
//   offset <O>                    covers the records below O
//   <offset> <time_ms> <id in hex>   one line per id, oldest first
//   crc32c <hex>
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"

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
  DedupWindow(const DedupWindow&) = delete;  // entries point into its own map
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
  size_t size() const { return ids_.size(); }
  // The remembered ids in offset order.
  std::vector<DedupEntry> entries() const;

  // The snapshot's body lines; written with write_checkpoint (store/checkpoint.h).
  std::vector<std::string> snapshot_lines(int64_t offset) const;
  Status write_snapshot(const std::string& path, int64_t offset) const;
  // Replaces the contents with the snapshot's; returns the offset it covers.
  Result<int64_t> load_snapshot(const std::string& path);

 private:
  struct Entry {
    const std::string* id;  // the key of its ids_ element (node-stable)
    int64_t offset;
    int64_t time_ms;
  };
  std::unordered_map<std::string, int64_t> ids_;  // id -> offset
  std::deque<Entry> order_;                       // in append (= offset) order
};

}  // namespace mq
