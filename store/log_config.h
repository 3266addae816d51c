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

  // Milliseconds since the Unix epoch; tests substitute their own clock.
  std::function<int64_t()> clock_ms;
  // Called with the duration of every data fsync, for metrics.
  std::function<void(int64_t nanos)> fsync_observer;

  // Checks ranges; the message names the offending setting.
  Status validate() const;
  int64_t now_ms() const;
};

}  // namespace mq
