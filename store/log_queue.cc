// Per-message acknowledgement in the log (store/queue_state.h): the ops of
// kAttrQueueState batches, the queue state's snapshot and its recovery.
#include <spdlog/spdlog.h>

#include "store/checkpoint.h"
#include "store/file.h"
#include "store/log.h"

namespace mq {
namespace {

constexpr std::string_view kQueueSnapshot = "queue-state.checkpoint";

}  // namespace

Status Log::collect_queue_ops(std::span<const uint8_t> batch, RecordBatchReader& reader,
                              std::vector<QueueOp>* ops) {
  std::vector<Record> records;
  MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
  for (const Record& r : records) {
    if (!r.value) return Status(ErrorCode::kInvalidRecord, "queue-state record without a value");
    MQ_ASSIGN_OR_RETURN(QueueOp op, decode_queue_op(as_bytes(*r.value)));
    ops->push_back(std::move(op));
  }
  return Status::ok();
}

void Log::apply_queue_ops_locked(const std::vector<QueueOp>& ops) {
  for (const QueueOp& op : ops) queue_.apply(op);
}

void Log::read_queue_state(const std::function<void(const QueueState&)>& read) const {
  std::lock_guard lock(append_mu_);
  read(queue_);
}

uint64_t Log::queue_state_version() const {
  std::lock_guard lock(append_mu_);
  return queue_.version();
}

Status Log::restore_queue_state(RecoveryReport* report) {
  const int64_t end = log_end_offset();
  int64_t from = log_start_offset();
  Result<QueueState::Covered> snapshot = queue_.load_snapshot(path(kQueueSnapshot));
  bool usable = snapshot.is_ok() && snapshot->offset <= end && snapshot->offset >= from &&
                snapshot->epoch == epochs_.epoch_holding(snapshot->offset - 1);
  if (usable) {
    from = snapshot->offset;
  } else {
    if (report != nullptr && !snapshot.is_ok() && snapshot.code() != ErrorCode::kNotFound) {
      report->notes.push_back(snapshot.status().message() + "; queue state read from the log");
    } else if (report != nullptr && snapshot.is_ok()) {
      report->notes.push_back("queue state snapshot at offset " + std::to_string(snapshot->offset) +
                              " does not match the log; read from the log");
    }
    queue_.clear();
  }
  RecordBatchReader reader;
  std::vector<QueueOp> ops;
  for (const auto& segment : segments_from(from)) {
    std::vector<BatchHeader> holding;
    MQ_RETURN_IF_ERROR(segment->for_each_header(from, [&](const BatchHeader& h) {
      if (h.is_queue_state() && h.record_count > 0 && h.base_offset >= from) holding.push_back(h);
      return Status::ok();
    }));
    for (const BatchHeader& h : holding) {
      MQ_ASSIGN_OR_RETURN(LogReadResult read, this->read(h.base_offset, 1, h.next_offset()));
      BatchCursor cursor(as_bytes(read.bytes));
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty()) continue;
      ops.clear();
      Status collected = collect_queue_ops(batch, reader, &ops);
      if (!collected.is_ok()) {
        // The leader checked it before appending: a damaged batch in the
        // log; what it did is lost (its messages may be handed out again).
        spdlog::error("{}: queue-state batch at offset {} skipped: {}", dir_, h.base_offset,
                      collected.to_string());
        continue;
      }
      apply_queue_ops_locked(ops);
    }
  }
  queue_.drop_below(log_start_offset());
  return Status::ok();
}

Status Log::write_queue_snapshot(bool force) {
  QueueState::Groups groups;
  QueueState::Covered covered;
  {
    std::lock_guard lock(append_mu_);
    int64_t end = log_end_offset();
    if (!force && queue_snapshot_version_ == queue_.version() && queue_snapshot_end_ == end) {
      return Status::ok();
    }
    // Nothing to remember and never was: no file.
    if (queue_.groups().empty() && queue_snapshot_end_ < 0 && !file_exists(path(kQueueSnapshot))) {
      queue_snapshot_version_ = queue_.version();
      return Status::ok();
    }
    queue_snapshot_version_ = queue_.version();
    queue_snapshot_end_ = end;
    groups = queue_.groups();
    covered = {.offset = end, .epoch = epochs_.epoch_holding(end - 1)};
  }
  return write_checkpoint(path(kQueueSnapshot), kQueueSnapshotKind, kQueueSnapshotVersion,
                          QueueState::snapshot_lines(covered, groups));
}

}  // namespace mq
