// Delayed delivery in the log (store/schedule_index.h): what an append
// schedules, delivers or cancels, the checks a producer's scheduled records
// pass, and the index's snapshot and recovery.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "store/checkpoint.h"
#include "store/file.h"
#include "store/log.h"

namespace mq {
namespace {

constexpr std::string_view kScheduleSnapshot = "delayed-schedule.checkpoint";

}  // namespace

Status Log::check_schedule_locked(const std::vector<PlacedMark>& marks, int64_t now) const {
  if (compacted_.load(std::memory_order_relaxed)) {
    return Status(ErrorCode::kInvalidRecord,
                  "delayed delivery is not available on a compacted topic (cleanup.policy "
                  "compact): the cleaner could remove a message before its time");
  }
  const int64_t retention = config_.retention_ms;
  if (retention <= 0) return Status::ok();
  for (const PlacedMark& m : marks) {
    if (m.mark.deliver_at - now > retention) {
      return Status(ErrorCode::kInvalidRecord,
                    "record " + std::to_string(m.position) + " is due in " +
                        std::to_string((m.mark.deliver_at - now) / 1000) +
                        " s, beyond the topic's retention.ms (" + std::to_string(retention) +
                        "): it would be deleted before its time");
    }
  }
  return Status::ok();
}

void Log::apply_schedule_locked(const std::vector<PlacedMark>& marks, bool leader,
                                int64_t first_offset,
                                const std::vector<DuplicateRecord>& left_out) {
  std::unordered_set<int32_t> dropped;  // records the leader left out as duplicates
  for (const DuplicateRecord& d : left_out) dropped.insert(d.index);
  for (const PlacedMark& m : marks) {
    if (leader && dropped.contains(static_cast<int32_t>(m.position))) continue;
    const int64_t offset = leader ? first_offset + m.position : m.position;
    if (m.mark.kind == ScheduleMark::Kind::kScheduled) {
      schedule_.add({m.mark.deliver_at, offset});
    } else {
      schedule_.remove({m.mark.deliver_at, m.mark.target}, offset);
    }
  }
  schedule_.forget_removals_below(committed_.load(std::memory_order_relaxed));
  schedule_changed_locked();
}

std::vector<ScheduleIndex::Entry> Log::due_scheduled(int64_t now_ms, size_t limit) const {
  std::lock_guard lock(append_mu_);
  return schedule_.due(now_ms, limit);
}

std::optional<int64_t> Log::next_scheduled_at() const {
  int64_t at = next_scheduled_at_.load(std::memory_order_acquire);
  if (at == INT64_MAX) return std::nullopt;
  return at;
}

void Log::schedule_changed_locked() {
  schedule_changes_++;
  next_scheduled_at_.store(schedule_.next_at().value_or(INT64_MAX), std::memory_order_release);
}

std::vector<ScheduleIndex::Entry> Log::list_scheduled(size_t limit) const {
  std::lock_guard lock(append_mu_);
  return schedule_.list(limit);
}

std::optional<ScheduleIndex::Entry> Log::scheduled_entry(int64_t offset) const {
  // Its time is in its record: read that, then ask the index (no scan).
  Result<LogReadResult> read = this->read(offset, 1);
  if (!read.is_ok() || read->bytes.empty()) return std::nullopt;
  BatchCursor cursor(as_bytes(read->bytes));
  std::span<const uint8_t> batch = cursor.next();
  Result<BatchHeader> header = parse_batch_header(batch);
  if (!header.is_ok() || !header->is_scheduled()) return std::nullopt;
  RecordBatchReader reader;
  std::vector<ScheduleMark> marks;
  if (!reader.collect_schedule(batch, &marks).is_ok()) return std::nullopt;
  for (const ScheduleMark& m : marks) {
    if (header->base_offset + m.offset_delta != offset) continue;
    if (m.kind != ScheduleMark::Kind::kScheduled) return std::nullopt;
    ScheduleIndex::Entry entry{m.deliver_at, offset};
    std::lock_guard lock(append_mu_);
    if (schedule_.contains(entry)) return entry;
  }
  return std::nullopt;
}

bool Log::drop_scheduled(ScheduleIndex::Entry entry) {
  std::lock_guard lock(append_mu_);
  if (!schedule_.drop(entry)) return false;
  schedule_changed_locked();
  return true;
}

Status Log::check_own_marks_locked(const std::vector<PlacedMark>& marks) const {
  for (const PlacedMark& m : marks) {
    if (m.mark.kind == ScheduleMark::Kind::kScheduled) continue;
    if (!schedule_.contains({m.mark.deliver_at, m.mark.target})) {
      return Status(ErrorCode::kInvalidRecord,
                    "the delayed message at offset " + std::to_string(m.mark.target) +
                        " is no longer pending (delivered or cancelled meanwhile)");
    }
  }
  return Status::ok();
}

size_t Log::scheduled_count() const {
  std::lock_guard lock(append_mu_);
  return schedule_.size();
}

Status Log::restore_schedule(RecoveryReport* report) {
  const int64_t end = log_end_offset();
  int64_t from = log_start_offset();
  Result<ScheduleIndex::Covered> snapshot = schedule_.load_snapshot(path(kScheduleSnapshot));
  bool usable = snapshot.is_ok() && snapshot->offset <= end && snapshot->offset >= from &&
                snapshot->epoch == epochs_.epoch_holding(snapshot->offset - 1);
  if (usable) {
    from = snapshot->offset;
    schedule_.drop_below(log_start_offset());
  } else {
    if (!snapshot.is_ok() && snapshot.code() != ErrorCode::kNotFound) {
      report->notes.push_back(snapshot.status().message() +
                              "; delayed-message schedule read from the log");
    } else if (snapshot.is_ok()) {
      report->notes.push_back("delayed-message schedule snapshot at offset " +
                              std::to_string(snapshot->offset) +
                              " does not match the log; read from the log");
    }
    schedule_.clear();
  }
  // Replays the scheduled batches, copies and cancel records after `from`.
  RecordBatchReader reader;
  std::vector<ScheduleMark> marks;
  std::vector<PlacedMark> placed;
  for (const auto& segment : segments_from(from)) {
    std::vector<BatchHeader> touching;
    MQ_RETURN_IF_ERROR(segment->for_each_header(from, [&](const BatchHeader& h) {
      if (h.touches_schedule() && h.record_count > 0 && h.base_offset >= from) {
        touching.push_back(h);
      }
      return Status::ok();
    }));
    for (const BatchHeader& h : touching) {
      MQ_ASSIGN_OR_RETURN(LogReadResult read, this->read(h.base_offset, 1, h.next_offset()));
      BatchCursor cursor(as_bytes(read.bytes));
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty()) continue;
      marks.clear();
      if (!reader.collect_schedule(batch, &marks).is_ok()) continue;
      placed.clear();
      for (const ScheduleMark& m : marks) placed.push_back({h.base_offset + m.offset_delta, m});
      apply_schedule_locked(placed, false, 0, {});
    }
  }
  // Removals stay remembered until the high watermark passes them: a
  // truncation after a restart may still have to undo one.
  schedule_changed_locked();
  return Status::ok();
}

Status Log::write_schedule_snapshot(bool force) {
  std::vector<ScheduleIndex::Entry> entries;
  std::vector<ScheduleIndex::Removal> removals;
  ScheduleIndex::Covered covered;
  {
    std::lock_guard lock(append_mu_);
    // Unchanged and covering the whole log: nothing to replay after it.
    int64_t end = log_end_offset();
    if (!force && schedule_snapshot_changes_ == schedule_changes_ &&
        schedule_snapshot_end_ == end) {
      return Status::ok();
    }
    schedule_snapshot_changes_ = schedule_changes_;
    schedule_snapshot_end_ = end;
    entries = schedule_.list(schedule_.size());
    removals = schedule_.removals();
    covered = {.offset = end, .epoch = epochs_.epoch_holding(end - 1)};
  }
  return write_checkpoint(path(kScheduleSnapshot), kScheduleSnapshotKind, kScheduleSnapshotVersion,
                          ScheduleIndex::snapshot_lines(covered, entries, removals));
}

}  // namespace mq
