// The partition log: an ordered list of segments in one directory, with
// offsets assigned on append, reads of whole batches, lookups by time,
// truncation, retention, an fsync policy with group commit, and crash recovery.
//
// Directory layout (docs/storage-format.md):
//   00000000000000000000.log / .index / .timeindex   one trio per segment
//   log-state.checkpoint        recovery point and log start offset
//   leader-epoch-checkpoint     leader epoch -> first offset
//   producer-state.checkpoint   idempotent producer snapshot
//   dedup-window.checkpoint     message ids of the de-duplication window
//   delayed-schedule.checkpoint pending delayed messages (store/schedule_index.h)
//   queue-state.checkpoint      queue groups' in-flight messages (store/queue_state.h)
//   cleaner.checkpoint          compaction progress (store/cleaner_checkpoint.h)
//   .clean-shutdown             present only while the log is closed cleanly
//
// Thread safety: any number of readers run concurrently with one writer at a
// time; appends, truncation and retention serialize on the append lock; fsync
// happens outside it, so appends continue while a group commit is in flight.
// Compaction reads and writes its files outside the append lock and takes it
// only to swap the cleaned segments in.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/cleaner_checkpoint.h"
#include "store/dedup_window.h"
#include "store/leader_epoch_cache.h"
#include "store/log_config.h"
#include "store/producer_state.h"
#include "store/queue_state.h"
#include "store/schedule_index.h"
#include "store/segment.h"

namespace mq {

struct AppendOptions {
  // Leader appends: the log assigns offsets and stamps this epoch.
  // Follower appends (assign_offsets = false): batches keep their offsets and
  // epochs; each must start at or after the log end (a gap is offsets the
  // leader's compaction removed), never below it.
  bool assign_offsets = true;
  int32_t leader_epoch = 0;
  // A leader append of the broker's own delivered copies and cancel records
  // (store/record_batch.h, delayed delivery); producers may send neither.
  bool internal = false;
  // A leader's queue-state batch (kAttrQueueState, internal only) is refused
  // with FENCED_LEADER_EPOCH unless the queue state is still at this version
  // (QueueState::version(); 0: unchecked): what the leader decided from is
  // what the records change.
  uint64_t queue_version = 0;
};

// Records found by their key (Log::find_by_key).
struct KeyLookup {
  std::string batches;      // whole batches holding only the matching records, offsets kept
  size_t matches = 0;       // records in `batches`
  bool more = false;        // older matches were left out for the limit
  uint64_t candidates = 0;  // records looked at: the key index's hash hits
};

// A record an append left out: its message id was in the de-duplication window.
struct DuplicateRecord {
  int32_t index = 0;    // its position among the append's records (0 = the first)
  int64_t offset = -1;  // the offset of the record that carried the id first
};

struct AppendResult {
  int64_t base_offset = -1;
  int64_t last_offset = -1;
  int64_t log_append_time = -1;  // set when the log stamps timestamps
  int32_t record_count = 0;
  bool duplicate = false;  // a retried idempotent batch; offsets are the original ones
  // Records not appended because their message id was in the window; the
  // others keep their offsets (base_offset + index), the duplicates' offsets
  // are taken by batches without records (store/record_batch.h).
  std::vector<DuplicateRecord> duplicates;
};

struct LogReadResult {
  std::string bytes;         // whole batches as stored; the first may start before `offset`
  int64_t next_offset = -1;  // where the next read continues (-1 when nothing returned)
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
};

// The contents of "log-state.checkpoint" (docs/storage-format.md §6.1).
struct LogState {
  int64_t recovery_point = 0;    // every batch below it was fsynced
  int64_t log_start_offset = 0;  // the first offset served
};

// Reads "log-state.checkpoint": kNotFound if absent, kCorruptMessage if its
// kind, version or checksum do not match or a field is missing.
Result<LogState> read_log_state(const std::string& path);

// What opening the log found and did, for the operator (logged as one line).
struct RecoveryReport {
  bool clean_shutdown = false;
  int segments_opened = 0;
  int segments_scanned = 0;  // verified batch by batch
  uint64_t bytes_scanned = 0;
  uint64_t bytes_truncated = 0;
  int segments_removed = 0;  // later segments dropped after a truncation
  int64_t producers_restored = 0;
  std::vector<std::string> notes;  // what was cut or rebuilt, and why
  int64_t duration_ms = 0;
};

struct CompactionOptions {
  // Compact even when the dirty part is below min.cleanable.dirty.ratio (tests,
  // operators): expired tombstones then go without waiting for new data.
  bool ignore_dirty_ratio = false;
};

// What one compaction pass did.
struct CompactionReport {
  bool compacted = false;          // false: below the dirty ratio or nothing cleanable
  double dirty_ratio = 0;          // dirty bytes / compactable bytes when the pass started
  int64_t first_dirty_offset = 0;  // where the previous pass had stopped
  int64_t cleaned_end_offset = 0;  // this pass covered the offsets below this
  int segments_before = 0;         // segments in the covered part, before and after
  int segments_after = 0;
  uint64_t bytes_before = 0;  // bytes of the covered part, before and after
  uint64_t bytes_after = 0;
  uint64_t bytes_read = 0;  // by the key map and the cleaning, together
  int64_t records_removed = 0;
  int64_t tombstones_removed = 0;
  int groups_abandoned = 0;  // segment groups left as they were: the log changed under them
  int64_t duration_ms = 0;
};

class Log {
 public:
  // Opens (creating if needed) the log in `dir`, recovering it if it was not
  // closed cleanly.
  static Result<std::unique_ptr<Log>> open(const std::string& dir, LogConfig config);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  // Appends whole batches (rewriting base offsets, epochs and, with
  // log-append time, timestamps in `batches`). Returns once the batches are
  // readable and, under fsync=always, synced. An append may carry at most one
  // batch per producer id. A leader append leaves out the records whose
  // message id is in the de-duplication window (dedup.window.ms) and says
  // which; every append remembers the ids it stores.
  Result<AppendResult> append(std::span<uint8_t> batches, const AppendOptions& options = {});

  // Whole batches from the one containing `offset`, about `max_bytes` (always
  // at least one batch when there is one), none whose last offset is >= `max_offset`.
  Result<LogReadResult> read(int64_t offset, size_t max_bytes,
                             int64_t max_offset = INT64_MAX) const;

  // The latest `limit` records whose key is exactly `key`, below `max_offset`,
  // in offset order, each returned as a batch of its own (uncompressed, like
  // a filtered fetch). Looks up the segments' key indexes, then reads and
  // checks each candidate.
  Result<KeyLookup> find_by_key(std::string_view key, int64_t max_offset, size_t limit) const;

  // Offset of the first record with timestamp >= `timestamp`, or nullopt.
  Result<std::optional<int64_t>> offset_for_timestamp(int64_t timestamp) const;

  int64_t log_start_offset() const { return log_start_offset_.load(std::memory_order_acquire); }
  int64_t log_end_offset() const { return log_end_offset_.load(std::memory_order_acquire); }
  // Everything below this offset has been fsynced.
  int64_t recovery_point() const { return flushed_offset_.load(std::memory_order_acquire); }
  uint64_t size_bytes() const;
  // Bytes of the log from the batch holding `offset` (the log start if it is
  // older) to the log end; 0 at or past the end. A replica at `offset` has
  // this much to copy.
  Result<uint64_t> bytes_from(int64_t offset) const;
  size_t segment_count() const;
  std::vector<int64_t> segment_base_offsets() const;
  const std::string& dir() const { return dir_; }
  const RecoveryReport& recovery_report() const { return recovery_; }
  // Reads that found a corrupt batch (each also logged as an error).
  uint64_t corrupt_reads() const { return corrupt_reads_.load(std::memory_order_relaxed); }
  // Damage to repair at the next open (storage-format.md §6.6): writes
  // damaged.checkpoint, and the next Log::open cuts the log at `offset`
  // (truncate_to) before anything reads it, then removes the file. For a
  // replica whose other in-sync replicas hold what is cut: it fetches it
  // again. The caller stops using the log (the process exits) after this.
  Status mark_damaged(int64_t offset);
  // True once an fsync failed: appends are refused until the log is reopened.
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // max.message.bytes: the largest batch an append takes.
  int32_t max_batch_bytes() const { return max_batch_bytes_.load(std::memory_order_relaxed); }

  LeaderEpochCache& leader_epochs() { return epochs_; }
  // The producer's state, for tests and the broker's introspection.
  std::optional<ProducerEntry> producer(int64_t producer_id) const;
  // Message ids in the de-duplication window, and the offset of one of them.
  size_t dedup_window_size() const;
  std::optional<int64_t> dedup_offset(std::string_view message_id) const;

  // Delayed delivery (log_schedule.cc). The pending scheduled records every
  // replica tracks: those due at `now_ms` (earliest first), the earliest
  // time (without the lock: the delivery loop polls it), the first `limit`,
  // one by offset, and how many.
  std::vector<ScheduleIndex::Entry> due_scheduled(int64_t now_ms, size_t limit) const;
  std::optional<int64_t> next_scheduled_at() const;
  std::vector<ScheduleIndex::Entry> list_scheduled(size_t limit) const;
  std::optional<ScheduleIndex::Entry> scheduled_entry(int64_t offset) const;
  // Drops a pending entry whose scheduled record cannot be read (this
  // replica only: every replica finds the same record unreadable).
  bool drop_scheduled(ScheduleIndex::Entry entry);
  size_t scheduled_count() const;
  // The partition's high watermark: removals of pending entries by records
  // below it can no longer be truncated away, so they are forgotten.
  void note_committed(int64_t offset) { committed_.store(offset, std::memory_order_relaxed); }

  // Per-message acknowledgement (log_queue.cc, store/queue_state.h): the
  // queue groups' state every replica builds from kAttrQueueState batches.
  // `read` is called with the append lock held (keep it short); it sees the
  // state as of the log end.
  void read_queue_state(const std::function<void(const QueueState&)>& read) const;
  uint64_t queue_state_version() const;

  // Removes every batch containing an offset >= `offset` (whole batches, so
  // the end may land below `offset`). Below the log start, empties the log.
  Status truncate_to(int64_t offset);
  // Deletes everything and continues at `offset` (a follower far behind).
  Status truncate_fully_and_start_at(int64_t offset);
  // Moves the log start forward to `offset` (<= end), deleting whole
  // segments below it. Returns the number of segments deleted. Any policy:
  // a follower mirrors its leader's log start with it.
  Result<int> delete_records_before(int64_t offset);
  // DeleteRecords on the leader: the same, refused (INVALID_REQUEST) with
  // cleanup.policy=compact.
  Result<int> delete_records(int64_t offset);
  // Deletes segments past retention.ms / retention.bytes. Returns how many.
  // Does nothing with cleanup.policy=compact.
  Result<int> apply_retention();

  // One compaction pass (cleanup.policy compact or compact,delete; see
  // store/log_cleaner.cc): over the closed segments older than
  // min.compaction.lag.ms, keeps the latest record of every key in the whole
  // log and drops older ones and tombstones past delete.retention.ms, keeping
  // offsets; merges small segments. Runs beside appends and reads. Fails with
  // kInvalidRequest for cleanup.policy=delete, and with kCorruptMessage (log
  // unchanged) when a batch it reads is corrupt.
  Result<CompactionReport> compact(const CompactionOptions& options = {});
  // Where the last compaction pass stopped (the cleaner checkpoint).
  int64_t first_dirty_offset() const;
  bool compacted() const;

  // Applies the settings that may change at run time: segment size and age,
  // retention, fsync policy and interval, max batch size, timestamp type.
  Status reconfigure(const LogConfig& config);

  // fsyncs everything appended so far.
  Status flush();
  // Periodic work: the interval fsync and the checkpoints, when due.
  Status maybe_flush();
  // Flushes, checkpoints and marks the shutdown clean. Further calls fail.
  Status close();

 private:
  Log(std::string dir, LogConfig config);
  Status recover();  // log_recovery.cc
  Status replay_headers(int64_t from_offset, int64_t producer_snapshot_offset);
  Status rebuild_producer_state();
  // De-duplication (log_dedup.cc). With the append lock held: leaves the
  // records whose id is in the window (or earlier in the append) out of the
  // batches, which are then in `*rewritten` with their headers, key hashes
  // and ids redone; `*rewritten` stays empty when nothing was left out.
  Status drop_duplicates_locked(std::span<uint8_t> batches, std::vector<BatchHeader>* headers,
                                std::vector<std::vector<std::pair<uint32_t, int32_t>>>* key_hashes,
                                std::vector<std::vector<MessageId>>* message_ids,
                                std::string* rewritten, std::vector<DuplicateRecord>* duplicates);
  void remember_ids_locked(const std::vector<BatchHeader>& headers,
                           const std::vector<std::vector<MessageId>>& message_ids, int64_t now);
  // Loads the window's snapshot and reads the ids appended after it (recovery).
  Status restore_dedup_window(RecoveryReport* report);
  Status write_dedup_snapshot();
  // Delayed delivery (log_schedule.cc). A leader append of scheduled
  // batches is checked against the topic (not compacted, delivery inside
  // retention.ms); `marks` are the schedule marks of the append, each with its
  // record's position (the index among the append's records for a leader
  // append, its offset for a follower append).
  struct PlacedMark {
    int64_t position;
    ScheduleMark mark;
  };
  Status check_schedule_locked(const std::vector<PlacedMark>& marks, int64_t now) const;
  // The leader's own copies and cancel records: each names a pending entry.
  Status check_own_marks_locked(const std::vector<PlacedMark>& marks) const;
  void apply_schedule_locked(const std::vector<PlacedMark>& marks, bool leader,
                             int64_t first_offset, const std::vector<DuplicateRecord>& left_out);
  Status restore_schedule(RecoveryReport* report);
  // After every change of schedule_: the snapshot is due, next_scheduled_at_ follows.
  void schedule_changed_locked();
  Status write_schedule_snapshot(bool force);
  // Queue state (log_queue.cc): the ops of an append's kAttrQueueState
  // batches, applied once the batches are in the log; rebuilt from the
  // snapshot and the log at recovery and after a truncation.
  static Status collect_queue_ops(std::span<const uint8_t> batch, RecordBatchReader& reader,
                                  std::vector<QueueOp>* ops);
  void apply_queue_ops_locked(const std::vector<QueueOp>& ops);
  Status restore_queue_state(RecoveryReport* report);
  Status write_queue_snapshot(bool force);
  Status flush_to(int64_t offset);
  Status write_checkpoints();
  Status write_log_state();
  // Rolls to a new active segment at `base_offset`; append lock held.
  Status roll_locked(int64_t base_offset, int64_t now_ms);
  // Removes the oldest `count` segments; append lock held.
  Status delete_oldest_locked(size_t count, const char* why);
  // Compaction (log_cleaner.cc).
  struct CleanedGroup;
  Status swap_in_locked(CleanedGroup& group);
  Status write_cleaner_checkpoint();
  // Recovery of an interrupted compaction swap (log_recovery.cc).
  Status finish_interrupted_swaps(const std::vector<std::string>& names);
  std::shared_ptr<Segment> active_locked() const;
  std::vector<std::shared_ptr<Segment>> segments_from(int64_t offset) const;
  std::string path(std::string_view name) const { return dir_ + "/" + std::string(name); }

  std::string dir_;
  LogConfig config_;  // fields reconfigure() changes are read under append_mu_ or flush_mu_
  RecoveryReport recovery_;
  // Log::open: applies and removes damaged.checkpoint (mark_damaged).
  Status cut_marked_damage();
  LeaderEpochCache epochs_;
  ProducerStateTable producers_;             // guarded by append_mu_
  DedupWindow dedup_;                        // guarded by append_mu_
  ScheduleIndex schedule_;                   // guarded by append_mu_
  uint64_t schedule_changes_ = 0;            // guarded by append_mu_
  uint64_t schedule_snapshot_changes_ = -1;  // guarded by append_mu_: as of the last snapshot
  int64_t schedule_snapshot_end_ = -1;       // guarded by append_mu_: the log end it covered
  QueueState queue_;                         // guarded by append_mu_
  uint64_t queue_snapshot_version_ = 0;      // guarded by append_mu_: as of the last snapshot
  int64_t queue_snapshot_end_ = -1;          // guarded by append_mu_
  std::atomic<int64_t> committed_{0};
  std::atomic<int64_t> next_scheduled_at_{INT64_MAX};  // lock-free copy of schedule_.next_at()

  mutable std::mutex append_mu_;
  mutable std::shared_mutex segments_mu_;
  std::map<int64_t, std::shared_ptr<Segment>> segments_;  // by base offset

  std::atomic<int64_t> log_start_offset_{0};
  std::atomic<int64_t> log_end_offset_{0};

  std::mutex flush_mu_;
  std::condition_variable flush_cv_;
  bool flush_in_progress_ = false;
  std::atomic<int64_t> flushed_offset_{0};
  std::atomic<bool> failed_{false};
  int64_t last_flush_ms_ = 0;       // guarded by flush_mu_
  int64_t last_checkpoint_ms_ = 0;  // guarded by flush_mu_
  bool closed_ = false;

  std::mutex cleaner_mu_;       // one compaction pass at a time
  std::mutex cleaner_file_mu_;  // one writer of cleaner.checkpoint at a time
  CleanerCheckpoint cleaner_;   // guarded by append_mu_
  uint64_t truncations_ = 0;    // guarded by append_mu_; a pass aborts if it moves

  mutable std::atomic<uint64_t> corrupt_reads_{0};
  std::atomic<int32_t> max_batch_bytes_;  // read before the append lock is taken
  std::atomic<bool> compacted_;           // likewise: cleanup.policy includes compact
};

}  // namespace mq
