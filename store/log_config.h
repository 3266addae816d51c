// Settings of one partition log. The broker maps topic configs onto this.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "base/status.h"
#include "store/record_batch.h"

namespace mq {

// When the log fsyncs its data:
//   never    - only when a segment rolls and at clean shutdown; durability
//              comes from replication (Kafka's default)
//   interval - at most `flush_interval_ms` after an append
//   always   - before an append returns; concurrent appends share one fsync
enum class FsyncPolicy : uint8_t { kNever, kInterval, kAlways };

std::string_view fsync_policy_name(FsyncPolicy policy);
Result<FsyncPolicy> parse_fsync_policy(std::string_view name);

// What happens to old data (Kafka's cleanup.policy):
//   delete          - whole segments past retention.ms / retention.bytes are deleted
//   compact         - Log::compact keeps the latest record of each key; nothing
//                     is deleted by age or size
//   compact,delete  - both
enum class CleanupPolicy : uint8_t { kDelete, kCompact, kCompactDelete };

// "delete", "compact" or "compact,delete".
std::string_view cleanup_policy_name(CleanupPolicy policy);
// Also accepts "delete,compact" (the same set, as Kafka does).
Result<CleanupPolicy> parse_cleanup_policy(std::string_view name);

struct LogConfig {
  uint64_t segment_bytes = 1024 * 1024 * 1024;    // roll when the active segment would pass this
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;    // roll when the active segment is this old
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // delete segments older than this; -1: never
  int64_t retention_bytes = -1;                   // keep at most this much; -1: no limit
  FsyncPolicy fsync_policy = FsyncPolicy::kInterval;
  int64_t flush_interval_ms = 1000;
  uint32_t index_interval_bytes = 4096;         // one index entry per this many log bytes
  int32_t max_batch_bytes = 1024 * 1024 + 512;  // largest batch accepted (max.message.bytes)
  bool validate_records = true;                 // decode every appended record
  bool verify_reads = true;                     // check each batch's CRC when reading
  TimestampType timestamp_type = TimestampType::kCreateTime;
  int64_t checkpoint_interval_ms = 60 * 1000;  // recovery point and producer snapshot
  int64_t producer_expiration_ms = 7LL * 24 * 3600 * 1000;
  // Message ids are remembered this long for de-duplication; 0: off.
  int64_t dedup_window_ms = 2 * 60 * 1000;

  CleanupPolicy cleanup_policy = CleanupPolicy::kDelete;
  // Compaction: how long a tombstone (a record with a null value) survives
  // once a compaction pass has first covered it (delete.retention.ms).
  int64_t delete_retention_ms = 24LL * 3600 * 1000;
  // Segments holding a record younger than this are not compacted yet.
  int64_t min_compaction_lag_ms = 0;
  // Compact only when the part written since the last pass is at least this
  // fraction of the compactable log (min.cleanable.dirty.ratio).
  double min_cleanable_dirty_ratio = 0.5;

  // Milliseconds since the Unix epoch; tests substitute their own clock.
  std::function<int64_t()> clock_ms;
  // Called with the duration of every data fsync, for metrics.
  std::function<void(int64_t nanos)> fsync_observer;
  // Called when a read finds a batch failing its CRC at or after `offset`
  // (the read's start), from the reading thread, with the log's directory.
  std::function<void(const std::string& dir, int64_t offset)> corrupt_read_observer;

  // Checks ranges; the message names the offending setting.
  Status validate() const;
  int64_t now_ms() const;
  bool compacted() const { return cleanup_policy != CleanupPolicy::kDelete; }
  bool deletes_by_retention() const { return cleanup_policy != CleanupPolicy::kCompact; }
};

}  // namespace mq
