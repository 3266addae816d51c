// LogConfig validation and the fsync policy names.
#include "store/log_config.h"

#include <chrono>

#include "store/segment.h"

namespace mq {

std::string_view fsync_policy_name(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kNever:
      return "never";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kAlways:
      return "always";
  }
  return "unknown";
}

Result<FsyncPolicy> parse_fsync_policy(std::string_view name) {
  if (name == "never") return FsyncPolicy::kNever;
  if (name == "interval") return FsyncPolicy::kInterval;
  if (name == "always") return FsyncPolicy::kAlways;
  return Status(ErrorCode::kInvalidConfig, "unknown fsync policy '" + std::string(name) +
                                               "' (expected never, interval or always)");
}

std::string_view cleanup_policy_name(CleanupPolicy policy) {
  switch (policy) {
    case CleanupPolicy::kDelete:
      return "delete";
    case CleanupPolicy::kCompact:
      return "compact";
    case CleanupPolicy::kCompactDelete:
      return "compact,delete";
  }
  return "unknown";
}

Result<CleanupPolicy> parse_cleanup_policy(std::string_view name) {
  if (name == "delete") return CleanupPolicy::kDelete;
  if (name == "compact") return CleanupPolicy::kCompact;
  if (name == "compact,delete" || name == "delete,compact") return CleanupPolicy::kCompactDelete;
  return Status(ErrorCode::kInvalidConfig, "unknown cleanup policy '" + std::string(name) +
                                               "' (expected delete, compact or compact,delete)");
}

Status LogConfig::validate() const {
  auto bad = [](const std::string& what) { return Status(ErrorCode::kInvalidConfig, what); };
  if (segment_bytes < 1024 || segment_bytes > kMaxSegmentBytes) {
    return bad("segment.bytes must be between 1024 and " + std::to_string(kMaxSegmentBytes));
  }
  if (segment_ms < 1) return bad("segment.ms must be positive");
  if (retention_ms < -1) return bad("retention.ms must be -1 (forever) or >= 0");
  if (retention_bytes < -1) return bad("retention.bytes must be -1 (no limit) or >= 0");
  if (flush_interval_ms < 1) return bad("flush.interval.ms must be positive");
  if (index_interval_bytes < 1) return bad("index.interval.bytes must be positive");
  if (max_batch_bytes < static_cast<int32_t>(kBatchHeaderSize) ||
      max_batch_bytes > kMaxBatchBytes) {
    return bad("max.message.bytes must be between 61 and " + std::to_string(kMaxBatchBytes));
  }
  if (checkpoint_interval_ms < 1) return bad("checkpoint interval must be positive");
  if (producer_expiration_ms < 1) return bad("producer.id.expiration.ms must be positive");
  if (dedup_window_ms < 0) return bad("dedup.window.ms must be >= 0 (0: off)");
  if (delete_retention_ms < 0) return bad("delete.retention.ms must be >= 0");
  if (min_compaction_lag_ms < 0) return bad("min.compaction.lag.ms must be >= 0");
  if (!(min_cleanable_dirty_ratio >= 0.0 && min_cleanable_dirty_ratio <= 1.0)) {
    return bad("min.cleanable.dirty.ratio must be between 0 and 1");
  }
  return Status::ok();
}

int64_t LogConfig::now_ms() const {
  if (clock_ms) return clock_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mq
