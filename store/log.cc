// Log: append, read, flush (group commit), truncation and retention.
#include "store/log.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unordered_set>

#include "store/checkpoint.h"

namespace mq {

Log::Log(std::string dir, LogConfig config)
    : dir_(std::move(dir)),
      config_(std::move(config)),
      epochs_(dir_ + "/leader-epoch-checkpoint"),
      max_batch_bytes_(config_.max_batch_bytes),
      compacted_(config_.compacted()) {}

Log::~Log() {
  if (!closed_) {
    Status st = close();
    if (!st.is_ok()) spdlog::error("closing log {}: {}", dir_, st.to_string());
  }
}

std::shared_ptr<Segment> Log::active_locked() const {
  std::shared_lock lock(segments_mu_);
  return segments_.rbegin()->second;
}

std::vector<std::shared_ptr<Segment>> Log::segments_from(int64_t offset) const {
  std::shared_lock lock(segments_mu_);
  std::vector<std::shared_ptr<Segment>> out;
  auto it = segments_.upper_bound(offset);
  if (it != segments_.begin()) --it;
  for (; it != segments_.end(); ++it) out.push_back(it->second);
  return out;
}

uint64_t Log::size_bytes() const {
  std::shared_lock lock(segments_mu_);
  uint64_t total = 0;
  for (const auto& [base, segment] : segments_) total += segment->size_bytes();
  return total;
}

Result<uint64_t> Log::bytes_from(int64_t offset) const {
  if (offset >= log_end_offset()) return uint64_t{0};
  offset = std::max(offset, log_start_offset());
  uint64_t total = 0;
  bool first = true;
  for (const auto& segment : segments_from(offset)) {
    uint64_t size = segment->size_bytes();
    if (!first) {
      total += size;
      continue;
    }
    first = false;
    if (segment->next_offset() <= offset) continue;
    uint64_t position = 0;
    MQ_ASSIGN_OR_RETURN(std::optional<BatchHeader> batch, segment->find_batch(offset, &position));
    if (batch && position < size) total += size - position;
  }
  return total;
}

size_t Log::segment_count() const {
  std::shared_lock lock(segments_mu_);
  return segments_.size();
}

std::vector<int64_t> Log::segment_base_offsets() const {
  std::shared_lock lock(segments_mu_);
  std::vector<int64_t> out;
  for (const auto& [base, segment] : segments_) out.push_back(base);
  return out;
}

std::optional<ProducerEntry> Log::producer(int64_t producer_id) const {
  std::lock_guard lock(append_mu_);
  const ProducerEntry* e = producers_.find(producer_id);
  if (e == nullptr) return std::nullopt;
  return *e;
}

Result<AppendResult> Log::append(std::span<uint8_t> batches, const AppendOptions& options) {
  if (failed()) {
    return Status(ErrorCode::kStorageError, dir_ + ": log is offline after an fsync failure");
  }
  // Validate outside the lock: CRC and record decoding are the costly part.
  // The key index entries come out of the same decoding: (hash, offset delta)
  // per keyed record, per batch.
  std::vector<BatchHeader> headers;
  std::vector<std::vector<std::pair<uint32_t, int32_t>>> key_hashes;
  std::vector<std::vector<MessageId>> message_ids;
  std::vector<PlacedMark> schedule_marks;
  std::vector<QueueOp> queue_ops;
  {
    int64_t position = 0;  // the append's records so far (leader), or the batch's offset
    std::vector<ScheduleMark> marks;
    BatchCursor cursor(batches);
    RecordBatchReader reader;
    std::unordered_set<int64_t> producer_ids;
    // Kafka's rule: a leader refuses unkeyed records for a compacted topic
    // (followers copy what the leader accepted).
    bool require_keys = options.assign_offsets && compacted_.load(std::memory_order_relaxed);
    while (true) {
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty()) break;
      int32_t max_batch_bytes = max_batch_bytes_.load(std::memory_order_relaxed);
      if (batch.size() > static_cast<size_t>(max_batch_bytes)) {
        return Status(ErrorCode::kMessageTooLarge, "batch of " + std::to_string(batch.size()) +
                                                       " bytes exceeds max.message.bytes " +
                                                       std::to_string(max_batch_bytes));
      }
      MQ_ASSIGN_OR_RETURN(BatchHeader header, verify_batch(batch));
      // A batch without records is one a leader wrote in place of
      // de-duplicated records: followers copy it, producers may not send one.
      if (options.assign_offsets && header.record_count < 1) {
        return Status(ErrorCode::kInvalidRecord, "batch with no records");
      }
      auto& hashes = key_hashes.emplace_back();
      auto& ids = message_ids.emplace_back();
      auto* ids_out = header.has_message_ids() ? &ids : nullptr;
      if (config_.validate_records || require_keys) {
        MQ_RETURN_IF_ERROR(reader.validate(batch, require_keys, &hashes, ids_out));
      } else if (!reader.collect_key_hashes(batch, &hashes, ids_out).is_ok()) {
        hashes.clear();  // not validated, not findable by key: stored as sent
        ids.clear();
      }
      if (header.touches_schedule() && header.record_count > 0) {
        marks.clear();
        Status marked = reader.collect_schedule(batch, &marks);
        if (options.assign_offsets) {
          MQ_RETURN_IF_ERROR(marked);
          bool own = header.is_delivered_copy() ||
                     (!marks.empty() && marks.front().kind == ScheduleMark::Kind::kCancelled);
          if (own && !options.internal) {
            return Status(ErrorCode::kInvalidRecord,
                          "delivered copies and cancel records are written by the leader only");
          }
        }
        if (marked.is_ok()) {
          int64_t base = options.assign_offsets ? position : header.base_offset;
          for (const ScheduleMark& m : marks) schedule_marks.push_back({base + m.offset_delta, m});
        }
      }
      if (header.is_queue_state() && header.record_count > 0) {
        if (options.assign_offsets && !options.internal) {
          return Status(ErrorCode::kInvalidRecord,
                        "queue-state records are written by the partition leader only");
        }
        Status collected = collect_queue_ops(batch, reader, &queue_ops);
        if (options.assign_offsets) {
          MQ_RETURN_IF_ERROR(collected);
        } else if (!collected.is_ok()) {
          spdlog::error("{}: queue-state batch at offset {} from the leader not applied: {}", dir_,
                        header.base_offset, collected.to_string());
        }
      }
      position += header.last_offset_delta + 1;
      if (options.assign_offsets && header.is_idempotent() &&
          !producer_ids.insert(header.producer_id).second) {
        return Status(ErrorCode::kInvalidRequest, "more than one batch of producer " +
                                                      std::to_string(header.producer_id) +
                                                      " in one append");
      }
      headers.push_back(header);
    }
    if (cursor.position() != batches.size()) {
      return Status(ErrorCode::kCorruptMessage,
                    "append ends with " + std::to_string(batches.size() - cursor.position()) +
                        " bytes that are not a whole batch");
    }
    if (headers.empty()) return Status(ErrorCode::kInvalidRequest, "append without batches");
  }

  AppendResult result;
  int64_t rolled_at = -1;
  bool sync_before_return = false;
  {
    std::lock_guard lock(append_mu_);
    if (closed_) return Status(ErrorCode::kStorageError, dir_ + ": log is closed");
    int64_t now = config_.now_ms();
    const bool dedup = config_.dedup_window_ms > 0;
    if (dedup) dedup_.expire(now, config_.dedup_window_ms);
    if (options.assign_offsets) {
      for (const BatchHeader& h : headers) {
        MQ_ASSIGN_OR_RETURN(std::optional<ProducerBatch> original, producers_.check(h));
        if (original) {
          if (headers.size() != 1) {
            return Status(ErrorCode::kDuplicateSequence, "retried batch inside a larger append");
          }
          result.base_offset = original->base_offset;
          result.last_offset = original->last_offset;
          result.record_count = h.record_count;
          result.duplicate = true;
          // Its records left out the first time are reported again.
          for (const MessageId& m : message_ids.front()) {
            std::optional<int64_t> at = dedup_.find(m.id);
            if (at && *at != original->base_offset + m.offset_delta) {
              result.duplicates.push_back({m.offset_delta, *at});
            }
          }
          return result;
        }
      }
    }
    if (options.assign_offsets && options.queue_version != 0 && !queue_ops.empty() &&
        options.queue_version != queue_.version()) {
      return Status(ErrorCode::kFencedLeaderEpoch,
                    "the queue state changed since the leader looked at it");
    }
    if (options.assign_offsets && !schedule_marks.empty()) {
      MQ_RETURN_IF_ERROR(options.internal ? check_own_marks_locked(schedule_marks)
                                          : check_schedule_locked(schedule_marks, now));
    }
    std::string rewritten;  // the batches without their duplicates, when there are some
    // Delivered copies repeat their scheduled record's id on purpose.
    if (options.assign_offsets && dedup && !options.internal) {
      MQ_RETURN_IF_ERROR(drop_duplicates_locked(batches, &headers, &key_hashes, &message_ids,
                                                &rewritten, &result.duplicates));
      if (!rewritten.empty()) batches = as_writable_bytes(rewritten);
    }
    int64_t next = log_end_offset();
    size_t position = 0;
    for (BatchHeader& h : headers) {
      auto batch = batches.subspan(position, h.total_size());
      if (options.assign_offsets) {
        h.base_offset = next;
        h.leader_epoch = options.leader_epoch;
        set_base_offset(batch, next);
        set_leader_epoch(batch, options.leader_epoch);
        if (config_.timestamp_type == TimestampType::kLogAppendTime) {
          set_log_append_time(batch, now);
          h.max_timestamp = now;
          h.attributes |= 0x8;
          result.log_append_time = now;
        }
      } else if (h.base_offset < next) {
        // At or past the end: a gap is offsets the leader's compaction
        // removed with their whole batches (Kafka's followers take it too).
        return Status(ErrorCode::kOffsetOutOfRange,
                      "follower append at offset " + std::to_string(h.base_offset) +
                          " overlaps the log, which ends at " + std::to_string(next));
      }
      next = h.next_offset();
      position += h.total_size();
      result.record_count += h.record_count;
    }

    std::shared_ptr<Segment> active = active_locked();
    int64_t first = headers.front().base_offset;
    bool too_big = active->size_bytes() + batches.size() > config_.segment_bytes;
    bool too_old = now - std::min(active->created_ms(), now) >= config_.segment_ms;
    bool offsets_overflow = headers.back().last_offset() - active->base_offset() > INT32_MAX;
    if (!active->empty() && (too_big || too_old || offsets_overflow)) {
      MQ_RETURN_IF_ERROR(roll_locked(first, now));
      rolled_at = first;
      active = active_locked();
    }
    std::vector<KeyIndexEntry> key_entries;
    for (size_t i = 0; i < headers.size(); ++i) {
      append_key_entries(headers[i], active->base_offset(), key_hashes[i], &key_entries);
    }
    MQ_RETURN_IF_ERROR(active->append(batches, headers, &key_entries));
    for (const BatchHeader& h : headers) {
      producers_.update(h, now);
      if (h.leader_epoch >= 0) {
        auto latest = epochs_.latest();
        if (!latest || h.leader_epoch > latest->epoch) {
          MQ_RETURN_IF_ERROR(epochs_.assign(h.leader_epoch, h.base_offset));
        }
      }
    }
    remember_ids_locked(headers, message_ids, now);
    if (!schedule_marks.empty()) {
      apply_schedule_locked(schedule_marks, options.assign_offsets, first, result.duplicates);
    }
    if (!queue_ops.empty()) apply_queue_ops_locked(queue_ops);
    log_end_offset_.store(next, std::memory_order_release);
    sync_before_return = config_.fsync_policy == FsyncPolicy::kAlways;
    result.base_offset = first;
    result.last_offset = next - 1;
    for (DuplicateRecord& d : result.duplicates) {
      if (d.offset < 0) d.offset = first + (-1 - d.offset);  // an id repeated in the append
    }
  }

  if (rolled_at >= 0) {
    // The sealed segment is synced outside the lock, so the recovery point
    // passes it whatever the policy.
    MQ_RETURN_IF_ERROR(flush_to(rolled_at));
    MQ_RETURN_IF_ERROR(write_checkpoints());
  }
  if (sync_before_return) {
    MQ_RETURN_IF_ERROR(flush_to(result.last_offset + 1));
  }
  return result;
}

Status Log::roll_locked(int64_t base_offset, int64_t now_ms) {
  std::shared_ptr<Segment> old = active_locked();
  MQ_RETURN_IF_ERROR(old->seal());
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                      Segment::create(dir_, base_offset, config_.index_interval_bytes, now_ms));
  {
    std::unique_lock lock(segments_mu_);
    segments_[base_offset] = std::move(segment);
  }
  return sync_directory(dir_);
}

Result<LogReadResult> Log::read(int64_t offset, size_t max_bytes, int64_t max_offset) const {
  LogReadResult result;
  result.log_start_offset = log_start_offset();
  result.log_end_offset = log_end_offset();
  if (offset < result.log_start_offset || offset > result.log_end_offset) {
    return Status(ErrorCode::kOffsetOutOfRange, "offset " + std::to_string(offset) +
                                                    " is outside [" +
                                                    std::to_string(result.log_start_offset) + ", " +
                                                    std::to_string(result.log_end_offset) + "]");
  }
  if (offset == result.log_end_offset || offset >= max_offset) return result;
  for (const auto& segment : segments_from(offset)) {
    if (segment->next_offset() <= offset) continue;
    Result<Segment::ReadSlice> slice =
        segment->read(offset, max_bytes, max_offset, config_.verify_reads);
    if (!slice.is_ok()) {
      if (slice.code() == ErrorCode::kCorruptMessage) {
        corrupt_reads_++;
        if (config_.corrupt_read_observer) config_.corrupt_read_observer(dir_, offset);
      }
      return slice.status();
    }
    if (!slice->bytes.empty()) {
      result.bytes = std::move(slice->bytes);
      result.next_offset = slice->next_offset;
    }
    break;
  }
  return result;
}

Result<std::optional<int64_t>> Log::offset_for_timestamp(int64_t timestamp) const {
  int64_t start = log_start_offset();
  RecordBatchReader reader;
  std::vector<Record> records;
  for (const auto& segment : segments_from(start)) {
    MQ_ASSIGN_OR_RETURN(std::optional<BatchHeader> header,
                        segment->find_batch_by_timestamp(timestamp));
    if (!header) continue;
    // Exact answer: the first record at or after `timestamp` from that batch
    // on. The batch may hold none: a batch without records (de-duplicated
    // ones) carries its original's max_timestamp, so the search goes on
    // through the segment's later batches.
    int64_t from = header->base_offset;
    while (from < segment->next_offset()) {
      MQ_ASSIGN_OR_RETURN(Segment::ReadSlice slice,
                          segment->read(from, 1 << 20, INT64_MAX, /*verify=*/true));
      if (slice.bytes.empty() || slice.next_offset <= from) break;
      BatchCursor cursor(as_bytes(slice.bytes));
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
        bool append_time = h.timestamp_type() == TimestampType::kLogAppendTime;
        if (h.next_offset() <= from || h.record_count == 0 || h.max_timestamp < timestamp) {
          continue;
        }
        MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
        for (const Record& r : records) {
          if ((append_time || r.timestamp >= timestamp) && r.offset >= start) {
            return std::optional<int64_t>(r.offset);
          }
        }
      }
      from = slice.next_offset;
    }
  }
  return std::optional<int64_t>();
}

Status Log::reconfigure(const LogConfig& config) {
  MQ_RETURN_IF_ERROR(config.validate());
  std::lock_guard append_lock(append_mu_);
  std::lock_guard flush_lock(flush_mu_);
  config_.segment_bytes = config.segment_bytes;
  config_.segment_ms = config.segment_ms;
  config_.retention_ms = config.retention_ms;
  config_.retention_bytes = config.retention_bytes;
  config_.fsync_policy = config.fsync_policy;
  config_.flush_interval_ms = config.flush_interval_ms;
  config_.max_batch_bytes = config.max_batch_bytes;
  config_.timestamp_type = config.timestamp_type;
  config_.cleanup_policy = config.cleanup_policy;
  config_.delete_retention_ms = config.delete_retention_ms;
  config_.min_compaction_lag_ms = config.min_compaction_lag_ms;
  config_.min_cleanable_dirty_ratio = config.min_cleanable_dirty_ratio;
  config_.dedup_window_ms = config.dedup_window_ms;
  if (config_.dedup_window_ms <= 0) dedup_.clear();
  max_batch_bytes_.store(config.max_batch_bytes, std::memory_order_relaxed);
  compacted_.store(config.compacted(), std::memory_order_relaxed);
  return Status::ok();
}

Status Log::flush() {
  return flush_to(log_end_offset());
}

Status Log::flush_to(int64_t offset) {
  std::unique_lock lock(flush_mu_);
  while (true) {
    if (failed())
      return Status(ErrorCode::kStorageError, dir_ + ": log is offline after an fsync failure");
    if (flushed_offset_.load() >= offset) return Status::ok();
    if (!flush_in_progress_) break;
    flush_cv_.wait(lock);
  }
  // This caller syncs for everyone waiting: one fsync covers every append
  // written before it starts (group commit).
  flush_in_progress_ = true;
  int64_t from = flushed_offset_.load();
  lock.unlock();

  int64_t target = log_end_offset();
  Status status;
  for (const auto& segment : segments_from(from)) {
    if (segment->base_offset() > target) break;
    auto started = std::chrono::steady_clock::now();
    status = segment->flush(/*sync_index=*/false);
    if (config_.fsync_observer) {
      config_.fsync_observer(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count());
    }
    if (!status.is_ok()) break;
  }

  lock.lock();
  flush_in_progress_ = false;
  if (status.is_ok()) {
    if (target > flushed_offset_.load()) flushed_offset_.store(target);
    last_flush_ms_ = config_.now_ms();
  } else {
    // After a failed fsync the page cache may have dropped the dirty pages; the
    // only safe state is to stop accepting writes (PostgreSQL's lesson).
    failed_.store(true, std::memory_order_release);
    spdlog::error("{}: fsync failed, log taken offline: {}", dir_, status.to_string());
  }
  flush_cv_.notify_all();
  return status;
}

Status Log::maybe_flush() {
  int64_t now = config_.now_ms();
  bool flush_due, checkpoint_due;
  {
    std::lock_guard lock(flush_mu_);
    flush_due = config_.fsync_policy == FsyncPolicy::kInterval &&
                now - last_flush_ms_ >= config_.flush_interval_ms;
    checkpoint_due = now - last_checkpoint_ms_ >= config_.checkpoint_interval_ms;
  }
  if (flush_due && recovery_point() < log_end_offset()) MQ_RETURN_IF_ERROR(flush());
  if (checkpoint_due) MQ_RETURN_IF_ERROR(write_checkpoints());
  return Status::ok();
}

Status Log::write_log_state() {
  return write_checkpoint(path("log-state.checkpoint"), "mq-log-state", 1,
                          {"recovery_point " + std::to_string(recovery_point()),
                           "log_start_offset " + std::to_string(log_start_offset())});
}

Status Log::write_checkpoints() {
  ProducerStateTable snapshot;
  int64_t end;
  {
    std::lock_guard lock(append_mu_);
    producers_.expire(config_.now_ms(), config_.producer_expiration_ms);
    snapshot = producers_;
    end = log_end_offset();
  }
  MQ_RETURN_IF_ERROR(snapshot.write_snapshot(path("producer-state.checkpoint"), end));
  MQ_RETURN_IF_ERROR(write_dedup_snapshot());
  MQ_RETURN_IF_ERROR(write_schedule_snapshot(false));
  MQ_RETURN_IF_ERROR(write_queue_snapshot(false));
  MQ_RETURN_IF_ERROR(write_log_state());
  std::lock_guard lock(flush_mu_);
  last_checkpoint_ms_ = config_.now_ms();
  return Status::ok();
}

Status Log::close() {
  {
    std::lock_guard lock(append_mu_);
    if (closed_) return Status(ErrorCode::kStorageError, dir_ + ": already closed");
    closed_ = true;
  }
  if (failed()) return Status(ErrorCode::kStorageError, dir_ + ": closed after an fsync failure");
  MQ_RETURN_IF_ERROR(flush());
  MQ_RETURN_IF_ERROR(active_locked()->seal());
  MQ_RETURN_IF_ERROR(write_checkpoints());
  // The marker goes last: it vouches for everything above.
  return write_file_atomically(path(".clean-shutdown"), "");
}

Status Log::delete_oldest_locked(size_t count, const char* why) {
  std::vector<std::shared_ptr<Segment>> doomed;
  {
    std::unique_lock lock(segments_mu_);
    while (count-- > 0 && segments_.size() > 1) {
      doomed.push_back(segments_.begin()->second);
      segments_.erase(segments_.begin());
    }
    int64_t first = segments_.begin()->first;
    if (log_start_offset() < first) log_start_offset_.store(first, std::memory_order_release);
  }
  // Delayed messages whose records went with the segments cannot be delivered.
  if (size_t gone = schedule_.drop_below(log_start_offset()); gone > 0) {
    schedule_changed_locked();
    spdlog::warn("{}: {} delayed message(s) deleted before their time ({})", dir_, gone, why);
  }
  // So were in-flight and not yet redelivered messages of queue groups.
  if (size_t gone = queue_.drop_below(log_start_offset()); gone > 0) {
    spdlog::warn("{}: {} unacknowledged message(s) of queue groups deleted ({})", dir_, gone, why);
  }
  for (const auto& segment : doomed) {
    spdlog::info("{}: deleting segment {} ({} bytes, offsets {}..{}): {}", dir_,
                 segment->base_offset(), segment->size_bytes(), segment->base_offset(),
                 segment->next_offset() - 1, why);
    // Readers holding the segment keep their open descriptor.
    MQ_RETURN_IF_ERROR(segment->remove_files());
  }
  MQ_RETURN_IF_ERROR(epochs_.truncate_from_start(log_start_offset()));
  return write_log_state();
}

Result<int> Log::delete_records(int64_t offset) {
  {
    std::lock_guard lock(append_mu_);
    if (!config_.deletes_by_retention()) {
      // A compacted log keeps the latest record of every key, whatever its
      // offset (Kafka refuses DeleteRecords on it too).
      return Status(ErrorCode::kInvalidRequest,
                    "cleanup.policy is compact: records are removed by compaction, not by offset");
    }
  }
  return delete_records_before(offset);
}

Result<int> Log::delete_records_before(int64_t offset) {
  std::lock_guard lock(append_mu_);
  if (offset > log_end_offset()) {
    return Status(ErrorCode::kOffsetOutOfRange,
                  "cannot delete past the log end offset " + std::to_string(log_end_offset()));
  }
  if (offset <= log_start_offset()) return 0;
  log_start_offset_.store(offset, std::memory_order_release);
  size_t count = 0;
  {
    std::shared_lock segments_lock(segments_mu_);
    for (const auto& [base, segment] : segments_) {
      if (segment->next_offset() > offset) break;
      count++;
    }
  }
  if (count > 0 && count == segment_count()) {
    MQ_RETURN_IF_ERROR(roll_locked(log_end_offset(), config_.now_ms()));
  }
  MQ_RETURN_IF_ERROR(delete_oldest_locked(count, "below the new log start offset"));
  return static_cast<int>(count);
}

Result<int> Log::apply_retention() {
  std::lock_guard lock(append_mu_);
  if (!config_.deletes_by_retention()) return 0;
  int64_t now = config_.now_ms();
  std::vector<std::shared_ptr<Segment>> segments;
  {
    std::shared_lock segments_lock(segments_mu_);
    for (const auto& [base, segment] : segments_) segments.push_back(segment);
  }
  size_t by_age = 0;
  if (config_.retention_ms >= 0) {
    while (by_age < segments.size() && !segments[by_age]->empty() &&
           segments[by_age]->max_timestamp() < now - config_.retention_ms) {
      by_age++;
    }
  }
  size_t by_size = 0;
  if (config_.retention_bytes >= 0) {
    uint64_t total = 0;
    for (const auto& s : segments) total += s->size_bytes();
    auto excess = static_cast<int64_t>(total) - config_.retention_bytes;
    while (by_size + 1 < segments.size() &&
           excess >= static_cast<int64_t>(segments[by_size]->size_bytes())) {
      excess -= static_cast<int64_t>(segments[by_size]->size_bytes());
      by_size++;
    }
  }
  size_t count = std::max(by_age, by_size);
  if (count == 0) return 0;
  if (count == segments.size()) {
    // Everything expired, the active segment too: roll so it can go.
    MQ_RETURN_IF_ERROR(roll_locked(log_end_offset(), now));
  }
  MQ_RETURN_IF_ERROR(delete_oldest_locked(
      count, by_age >= by_size ? "older than retention.ms" : "over retention.bytes"));
  return static_cast<int>(count);
}

Status Log::truncate_to(int64_t offset) {
  if (offset < log_start_offset()) return truncate_fully_and_start_at(offset);
  bool cleaner_changed = false;
  {
    std::lock_guard lock(append_mu_);
    if (offset >= log_end_offset()) return Status::ok();
    std::vector<std::shared_ptr<Segment>> doomed;
    {
      std::unique_lock segments_lock(segments_mu_);
      while (segments_.size() > 1 && segments_.rbegin()->first >= offset) {
        doomed.push_back(segments_.rbegin()->second);
        segments_.erase(std::prev(segments_.end()));
      }
    }
    for (const auto& segment : doomed) MQ_RETURN_IF_ERROR(segment->remove_files());
    std::shared_ptr<Segment> last = active_locked();
    MQ_RETURN_IF_ERROR(last->truncate_to(offset));
    int64_t end = last->next_offset();
    log_end_offset_.store(end, std::memory_order_release);
    if (log_start_offset() > end) log_start_offset_.store(end, std::memory_order_release);
    {
      std::lock_guard flush_lock(flush_mu_);
      if (flushed_offset_.load() > end) flushed_offset_.store(end);
    }
    spdlog::info("{}: truncated to offset {} (requested {})", dir_, end, offset);
    MQ_RETURN_IF_ERROR(epochs_.truncate_from_end(end));
    MQ_RETURN_IF_ERROR(rebuild_producer_state());
    // The window's snapshot may name ids cut here: the next checkpoint
    // writes the window as it now is.
    dedup_.truncate_from(end);
    MQ_RETURN_IF_ERROR(remove_file(path("dedup-window.checkpoint")));
    schedule_.truncate_from(end);
    schedule_changed_locked();
    // What the cut queue-state records did is undone by rebuilding the state.
    MQ_RETURN_IF_ERROR(restore_queue_state(nullptr));
    // A truncation below the high watermark (an unclean election): what the
    // partition called committed past the end is not any more.
    if (committed_.load(std::memory_order_relaxed) > end) {
      committed_.store(end, std::memory_order_relaxed);
    }
    truncations_++;
    cleaner_changed = cleaner_.truncate_to(end);
  }
  if (cleaner_changed) MQ_RETURN_IF_ERROR(write_cleaner_checkpoint());
  // The schedule's snapshot may name entries cut here or miss ones put back.
  MQ_RETURN_IF_ERROR(write_schedule_snapshot(true));
  MQ_RETURN_IF_ERROR(write_queue_snapshot(true));
  return write_log_state();
}

Status Log::truncate_fully_and_start_at(int64_t offset) {
  {
    std::lock_guard lock(append_mu_);
    std::vector<std::shared_ptr<Segment>> doomed;
    {
      std::unique_lock segments_lock(segments_mu_);
      for (auto& [base, segment] : segments_) doomed.push_back(segment);
      segments_.clear();
    }
    for (const auto& segment : doomed) MQ_RETURN_IF_ERROR(segment->remove_files());
    MQ_ASSIGN_OR_RETURN(
        std::shared_ptr<Segment> segment,
        Segment::create(dir_, offset, config_.index_interval_bytes, config_.now_ms()));
    {
      std::unique_lock segments_lock(segments_mu_);
      segments_[offset] = std::move(segment);
    }
    log_start_offset_.store(offset, std::memory_order_release);
    log_end_offset_.store(offset, std::memory_order_release);
    {
      std::lock_guard flush_lock(flush_mu_);
      flushed_offset_.store(offset);
    }
    producers_.clear();
    dedup_.clear();
    MQ_RETURN_IF_ERROR(remove_file(path("dedup-window.checkpoint")));
    schedule_.clear();
    schedule_changed_locked();
    queue_.clear();
    committed_.store(offset, std::memory_order_relaxed);
    MQ_RETURN_IF_ERROR(epochs_.clear());
    MQ_RETURN_IF_ERROR(sync_directory(dir_));
    truncations_++;
    cleaner_.reset(offset);
    spdlog::info("{}: emptied, continuing at offset {}", dir_, offset);
  }
  MQ_RETURN_IF_ERROR(write_cleaner_checkpoint());
  return write_checkpoints();
}

}  // namespace mq
