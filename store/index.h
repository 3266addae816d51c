// Sparse per-segment indexes. Both files are flat arrays of fixed-size
// little-endian entries, sorted, with offsets relative to the segment's base:
//
//   .index      8 bytes/entry: relative_offset u32, position u32
//               "the batch whose base offset is base+relative_offset starts
//                at byte `position` of the .log file"
//   .timeindex 12 bytes/entry: timestamp i64, relative_offset u32
//               "every batch up to and including the one at base+relative_offset
//                has max_timestamp <= timestamp" (a running maximum)
//
// One entry is added per `index_interval_bytes` of log. Indexes are derived
// data: when one is missing or fails validation it is rebuilt from the log.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/file.h"

namespace mq {

struct OffsetIndexEntry {
  uint32_t relative_offset;
  uint32_t position;
};

struct TimeIndexEntry {
  int64_t timestamp;
  uint32_t relative_offset;
};

// The two indexes of a segment, kept in memory and appended to their files
// on flush. Thread-safe: one appender, many concurrent lookups.
class SegmentIndex {
 public:
  SegmentIndex(std::string offset_path, std::string time_path)
      : offset_path_(std::move(offset_path)), time_path_(std::move(time_path)) {}

  // Loads both files and validates them against the log's size. Returns
  // false (and leaves the index empty) when either is missing or invalid,
  // with `why` saying what was wrong; the caller then rebuilds.
  bool load(uint64_t log_size_bytes, std::string* why);

  void add_offset_entry(uint32_t relative_offset, uint32_t position);
  void add_time_entry(int64_t timestamp, uint32_t relative_offset);

  // Position to start scanning from for `relative_offset`: the largest entry <= it.
  uint32_t position_for(uint32_t relative_offset) const;
  // That entry itself (nullopt when none is <= it: scan from the start).
  std::optional<OffsetIndexEntry> entry_for(uint32_t relative_offset) const;
  // Relative offset to start scanning from for batches with max_timestamp >= ts:
  // the last entry with timestamp < ts (0 if none).
  uint32_t start_for_timestamp(int64_t timestamp) const;
  std::optional<TimeIndexEntry> last_time_entry() const;
  std::optional<OffsetIndexEntry> last_offset_entry() const;

  // Drops entries at or past `relative_offset` (and positions >= `position`).
  void truncate_to(uint32_t relative_offset, uint32_t position);
  void clear();

  // Writes entries not yet on disk; rewrites the files if they were truncated.
  Status flush(bool sync);
  Status remove_files();
  size_t memory_bytes() const;

 private:
  std::string offset_path_;
  std::string time_path_;
  mutable std::shared_mutex mu_;
  std::vector<OffsetIndexEntry> offsets_;
  std::vector<TimeIndexEntry> times_;
  size_t offsets_on_disk_ = 0;  // entries already written to the file
  size_t times_on_disk_ = 0;
  bool rewrite_ = true;  // the files do not match a prefix of the vectors
};

constexpr size_t kOffsetIndexEntryBytes = 8;
constexpr size_t kTimeIndexEntryBytes = 12;

}  // namespace mq
