// Log::compact: Kafka-style compaction of the closed segments. One pass:
//
//  1. Under the append lock, a snapshot: the segments, the log end, the settings.
//  2. The compactable part: the closed segments before the first one holding a
//     record younger than min.compaction.lag.ms. Its dirty part (from the
//     cleaner checkpoint's first dirty offset on) must be at least
//     min.cleanable.dirty.ratio of it.
//  3. The key map: every batch of the log up to the snapshot's end is read
//     (CRC-checked, records decoded) into key -> offset of its latest record,
//     and each idempotent producer's last batch.
//  4. The compactable segments, in groups of consecutive ones up to
//     segment.bytes, are rewritten into "<base>.log.cleaned" and its indexes,
//     fsynced. Nothing is visible yet: any error removes them and the log is
//     unchanged.
//  5. Group by group, under the append lock: the commit (".log.cleaned" ->
//     ".log.swap"), the old segments' files deleted, the new files renamed to
//     their final names and the segments replaced in memory. A crash before
//     the commit leaves the old segments, after it recovery finishes the swap
//     (log_recovery.cc): never both, never neither.
//  6. The cleaner checkpoint records the pass.
//
// Record by record, a covered record stays when it is:
//  - without a key (such a record can only predate cleanup.policy=compact:
//    appends refuse them);
//  - the latest of its key, unless it is a tombstone (null value) first
//    covered by a pass delete.retention.ms ago, and no older record of the
//    key had to stay (dropping the tombstone would resurrect that one);
//  - the first or last record of a group, so a cleaned segment spans exactly
//    the offsets of the segments it replaces: segments stay contiguous and
//    recovery can tell from the swap file alone which old segments it replaces;
//  - the last record of an idempotent producer's last batch, unless the
//    producer has expired (producer.id.expiration.ms past that batch's
//    max_timestamp), so that producer state rebuilt from the log (no snapshot,
//    or a truncation past it) still knows the producer's epoch and last sequence.
// Offsets never change. Removed records split a batch into one batch per run
// of kept records: each keeps the original's leader epoch, producer id and
// epoch, compression and timestamp type, with its base sequence advanced to
// its first record and timestamps from its records (a log-append-time batch
// keeps its append time), so every batch is dense and passes verify_batch.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "store/log.h"

namespace mq {
namespace {

struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
using KeySet = std::unordered_set<std::string, KeyHash, std::equal_to<>>;

// What a pass learns from reading the whole log.
struct KeyMap {
  std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>> latest;  // key -> offset
  std::unordered_map<int64_t, BatchHeader> last_batch_of_producer;
};

// The settings a pass runs with, copied under the append lock.
struct CleanerSettings {
  int64_t delete_retention_ms;
  int64_t producer_expiration_ms;
  uint64_t segment_bytes;
  uint32_t index_interval_bytes;
};

Status rename_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename", from, errno);
  return Status::ok();
}

// Decides the records of the batches of one pass, in offset order, and
// writes the ones that stay into the current group's cleaned segment.
class BatchFilter {
 public:
  BatchFilter(const KeyMap& map, const CleanerCheckpoint& passes, const CleanerSettings& settings,
              int64_t now_ms)
      : map_(map), passes_(passes), settings_(settings), now_ms_(now_ms) {}

  // Starts a group whose cleaned segment is `out`, replacing offsets
  // [first_offset, end_offset).
  void start_group(Segment* out, int64_t first_offset, int64_t end_offset) {
    out_ = out;
    group_first_offset_ = first_offset;
    group_end_offset_ = end_offset;
    removed_in_group_ = 0;
  }
  Status filter(const BatchHeader& h, std::span<const uint8_t> batch);
  // Writes what is buffered; call at the end of a group.
  Status flush();

  int64_t removed_in_group() const { return removed_in_group_; }
  int64_t records_removed() const { return records_removed_; }
  int64_t tombstones_removed() const { return tombstones_removed_; }

 private:
  bool keep(const Record& r, bool pinned);
  bool tombstone_expired(int64_t offset) const {
    int64_t covered = passes_.first_covered_ms(offset).value_or(now_ms_);
    return now_ms_ - covered >= settings_.delete_retention_ms;
  }
  Status append_run(const BatchHeader& h, size_t first, size_t count);
  Status buffer(std::span<const uint8_t> batch, const BatchHeader& h);

  const KeyMap& map_;
  const CleanerCheckpoint& passes_;
  const CleanerSettings& settings_;
  int64_t now_ms_;
  KeySet pinned_keys_;  // keys an older record of which stays
  RecordBatchReader reader_;
  std::vector<Record> records_;
  std::vector<char> keep_;
  Segment* out_ = nullptr;
  int64_t group_first_offset_ = 0;
  int64_t group_end_offset_ = 0;
  std::string pending_;  // whole batches not yet written to out_
  std::vector<BatchHeader> pending_headers_;
  int64_t removed_in_group_ = 0;
  int64_t records_removed_ = 0;
  int64_t tombstones_removed_ = 0;
};

bool BatchFilter::keep(const Record& r, bool pinned) {
  if (!r.key) return true;
  auto latest = map_.latest.find(*r.key);
  if (latest == map_.latest.end() || latest->second == r.offset) {
    bool drop =
        !r.value && !pinned && tombstone_expired(r.offset) && !pinned_keys_.contains(*r.key);
    if (drop) tombstones_removed_++;
    return !drop;
  }
  if (pinned) pinned_keys_.emplace(*r.key);
  return pinned;
}

Status BatchFilter::filter(const BatchHeader& h, std::span<const uint8_t> batch) {
  MQ_RETURN_IF_ERROR(reader_.decode(batch, &records_));
  int64_t producer_pin = -1;
  if (h.is_idempotent()) {
    auto last = map_.last_batch_of_producer.find(h.producer_id);
    bool expired = h.max_timestamp < now_ms_ - settings_.producer_expiration_ms;
    if (last != map_.last_batch_of_producer.end() && last->second.base_offset == h.base_offset &&
        !expired) {
      producer_pin = h.last_offset();
    }
  }
  keep_.assign(records_.size(), 0);
  size_t kept = 0;
  for (size_t i = 0; i < records_.size(); i++) {
    const Record& r = records_[i];
    bool pinned = r.offset == group_first_offset_ || r.offset == group_end_offset_ - 1 ||
                  r.offset == producer_pin;
    keep_[i] = keep(r, pinned) ? 1 : 0;
    kept += keep_[i];
  }
  int64_t removed = static_cast<int64_t>(records_.size() - kept);
  records_removed_ += removed;
  removed_in_group_ += removed;
  if (kept == records_.size()) return buffer(batch, h);  // unchanged: the original bytes
  for (size_t i = 0; i < records_.size();) {
    if (!keep_[i]) {
      i++;
      continue;
    }
    size_t run = i;
    while (run < records_.size() && keep_[run]) run++;
    MQ_RETURN_IF_ERROR(append_run(h, i, run - i));
    i = run;
  }
  return Status::ok();
}

Status BatchFilter::append_run(const BatchHeader& h, size_t first, size_t count) {
  MQ_ASSIGN_OR_RETURN(
      std::string bytes,
      rebuild_records(h, std::span<const Record>(records_).subspan(first, count), h.compression()));
  std::span<uint8_t> batch = as_writable_bytes(bytes);
  MQ_ASSIGN_OR_RETURN(BatchHeader rebuilt, verify_batch(batch));
  return buffer(batch, rebuilt);
}

Status BatchFilter::buffer(std::span<const uint8_t> batch, const BatchHeader& h) {
  if (out_->size_bytes() + pending_.size() + batch.size() > kMaxSegmentBytes) {
    return Status(ErrorCode::kStorageError, out_->log_path() + ": cleaned segment would pass " +
                                                std::to_string(kMaxSegmentBytes) +
                                                " bytes; lower segment.bytes");
  }
  pending_.append(reinterpret_cast<const char*>(batch.data()), batch.size());
  pending_headers_.push_back(h);
  if (pending_.size() >= (1 << 20)) return flush();
  return Status::ok();
}

Status BatchFilter::flush() {
  if (pending_.empty()) return Status::ok();
  Status st = out_->append(as_bytes(pending_), pending_headers_);
  pending_.clear();
  pending_headers_.clear();
  return st;
}

// Consecutive segments whose cleaned copy becomes one segment: up to
// segment.bytes together (Kafka's grouping) and 2^31 offsets.
std::vector<std::vector<std::shared_ptr<Segment>>> group_segments(
    std::span<const std::shared_ptr<Segment>> segments, uint64_t segment_bytes) {
  std::vector<std::vector<std::shared_ptr<Segment>>> groups;
  uint64_t bytes = 0;
  for (const auto& segment : segments) {
    bool fits = !groups.empty() && bytes + segment->size_bytes() <= segment_bytes &&
                segment->next_offset() - groups.back().front()->base_offset() <= INT32_MAX;
    if (!fits) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(segment);
    bytes += segment->size_bytes();
  }
  return groups;
}

}  // namespace

struct Log::CleanedGroup {
  std::vector<std::shared_ptr<Segment>> sources;
  std::shared_ptr<Segment> cleaned;  // null: left as it is
};

int64_t Log::first_dirty_offset() const {
  std::lock_guard lock(append_mu_);
  return cleaner_.first_dirty_offset();
}

bool Log::compacted() const {
  return compacted_.load(std::memory_order_relaxed);
}

Status Log::write_cleaner_checkpoint() {
  std::lock_guard file_lock(cleaner_file_mu_);
  CleanerCheckpoint copy;
  {
    std::lock_guard lock(append_mu_);
    copy = cleaner_;
  }
  return copy.write(path("cleaner.checkpoint"));
}

Result<CompactionReport> Log::compact(const CompactionOptions& options) {
  std::lock_guard pass_lock(cleaner_mu_);
  auto started = std::chrono::steady_clock::now();
  CompactionReport report;

  // 1. The snapshot.
  std::vector<std::shared_ptr<Segment>> segments;
  CleanerCheckpoint passes;
  CleanerSettings settings{};
  int64_t end, now, lag_ms;
  double min_dirty_ratio;
  uint64_t truncations;
  {
    std::lock_guard lock(append_mu_);
    if (closed_) return Status(ErrorCode::kStorageError, dir_ + ": log is closed");
    if (failed()) return Status(ErrorCode::kStorageError, dir_ + ": log is offline");
    if (!config_.compacted()) {
      return Status(ErrorCode::kInvalidRequest,
                    dir_ + ": not a compacted log (cleanup.policy=" +
                        std::string(cleanup_policy_name(config_.cleanup_policy)) + ")");
    }
    settings = {config_.delete_retention_ms, config_.producer_expiration_ms, config_.segment_bytes,
                config_.index_interval_bytes};
    lag_ms = config_.min_compaction_lag_ms;
    min_dirty_ratio = config_.min_cleanable_dirty_ratio;
    now = config_.now_ms();
    end = log_end_offset();
    truncations = truncations_;
    passes = cleaner_;
    std::shared_lock segments_lock(segments_mu_);
    for (const auto& [base, segment] : segments_) segments.push_back(segment);
  }

  // 2. The compactable part and its dirty ratio. The active segment never
  // is; with a lag, neither is any segment from the first one too young.
  size_t cleanable = 0;
  while (cleanable + 1 < segments.size() &&
         (lag_ms == 0 || segments[cleanable]->max_timestamp() <= now - lag_ms)) {
    cleanable++;
  }
  if (cleanable == 0) return report;
  int64_t cleanable_end = segments[cleanable]->base_offset();
  report.first_dirty_offset = std::max(passes.first_dirty_offset(), segments[0]->base_offset());
  report.cleaned_end_offset = cleanable_end;
  uint64_t dirty_bytes = 0;
  for (size_t i = 0; i < cleanable; i++) {
    report.bytes_before += segments[i]->size_bytes();
    if (segments[i]->base_offset() >= report.first_dirty_offset) {
      dirty_bytes += segments[i]->size_bytes();
    }
  }
  report.segments_before = static_cast<int>(cleanable);
  report.dirty_ratio =
      report.bytes_before == 0 ? 0.0 : static_cast<double>(dirty_bytes) / report.bytes_before;
  if (!options.ignore_dirty_ratio && (dirty_bytes == 0 || report.dirty_ratio < min_dirty_ratio)) {
    return report;
  }

  // 3. The key map, over the whole log.
  KeyMap map;
  {
    RecordBatchReader reader;
    std::vector<Record> records;
    for (const auto& segment : segments) {
      Status st = segment->for_each_batch(end, [&](const BatchHeader& h, auto batch) {
        report.bytes_read += batch.size();
        if (h.is_idempotent()) map.last_batch_of_producer[h.producer_id] = h;
        Status decoded = reader.decode(batch, &records);
        if (!decoded.is_ok()) {
          return Status(decoded.code(), segment->log_path() + " offset " +
                                            std::to_string(h.base_offset) + ": " +
                                            decoded.message());
        }
        for (const Record& r : records) {
          if (!r.key) continue;
          auto it = map.latest.find(*r.key);
          if (it == map.latest.end()) {
            map.latest.emplace(std::string(*r.key), r.offset);
          } else {
            it->second = r.offset;
          }
        }
        return Status::ok();
      });
      if (!st.is_ok()) {
        std::lock_guard lock(append_mu_);
        if (truncations_ != truncations) {
          // The active segment was cut while being read: not corruption.
          report.groups_abandoned = 1;
          return report;
        }
        return Status(st.code(), "compaction stopped, log unchanged: " + st.message());
      }
    }
  }

  // 4. The cleaned segments, written aside.
  std::vector<CleanedGroup> groups;
  BatchFilter filter(map, passes, settings, now);
  auto remove_cleaned = [&groups] {
    for (auto& g : groups) {
      if (g.cleaned) (void)g.cleaned->remove_files();
      g.cleaned.reset();
    }
  };
  for (auto& sources :
       group_segments(std::span(segments).first(cleanable), settings.segment_bytes)) {
    CleanedGroup& group = groups.emplace_back();
    group.sources = std::move(sources);
    Status st = [&]() -> Status {
      MQ_ASSIGN_OR_RETURN(group.cleaned,
                          Segment::create(dir_, group.sources.front()->base_offset(),
                                          settings.index_interval_bytes, now, kCleanedSuffix));
      filter.start_group(group.cleaned.get(), group.sources.front()->base_offset(),
                         group.sources.back()->next_offset());
      for (const auto& source : group.sources) {
        MQ_RETURN_IF_ERROR(source->for_each_batch(INT64_MAX, [&](const BatchHeader& h, auto batch) {
          report.bytes_read += batch.size();
          Status filtered = filter.filter(h, batch);
          if (filtered.is_ok()) return filtered;
          return Status(filtered.code(), source->log_path() + " offset " +
                                             std::to_string(h.base_offset) + ": " +
                                             filtered.message());
        }));
      }
      MQ_RETURN_IF_ERROR(filter.flush());
      if (group.sources.size() == 1 && filter.removed_in_group() == 0) {
        // Nothing to drop and nothing to merge: leave the segment alone.
        MQ_RETURN_IF_ERROR(group.cleaned->remove_files());
        group.cleaned.reset();
        return Status::ok();
      }
      return group.cleaned->seal();  // final time index entry; data and indexes synced
    }();
    if (!st.is_ok()) {
      remove_cleaned();
      return Status(st.code(), "compaction stopped, log unchanged: " + st.message());
    }
  }
  MQ_RETURN_IF_ERROR(sync_directory(dir_));

  // 5. The swaps, one group at a time, in offset order.
  for (size_t i = 0; i < groups.size(); i++) {
    CleanedGroup& group = groups[i];
    if (!group.cleaned) continue;
    std::lock_guard lock(append_mu_);
    bool unchanged = !closed_ && truncations_ == truncations;
    if (!unchanged) {
      // Truncated or closed meanwhile: the key map may name records that are
      // gone, so no later group may go in either.
      for (size_t k = i; k < groups.size(); k++) {
        if (groups[k].cleaned) {
          (void)groups[k].cleaned->remove_files();
          groups[k].cleaned.reset();
          report.groups_abandoned++;
        }
      }
      break;
    }
    bool present = true;
    {
      std::shared_lock segments_lock(segments_mu_);
      for (const auto& source : group.sources) {
        auto it = segments_.find(source->base_offset());
        present = present && it != segments_.end() && it->second == source;
      }
    }
    if (!present) {
      // Retention or delete-records removed part of it: keep what is left as it is.
      (void)group.cleaned->remove_files();
      group.cleaned.reset();
      report.groups_abandoned++;
      continue;
    }
    Status swapped = swap_in_locked(group);
    if (!swapped.is_ok()) {
      remove_cleaned();  // the groups not swapped in yet
      return swapped;
    }
  }

  // 6. The checkpoint.
  {
    std::lock_guard lock(append_mu_);
    // Closed meanwhile: nothing was swapped, and no file may change after the
    // clean-shutdown marker.
    if (closed_) return report;
    if (truncations_ == truncations) {
      cleaner_.record_pass(cleanable_end, now, settings.delete_retention_ms);
    }
    std::shared_lock segments_lock(segments_mu_);
    for (auto it = segments_.begin(); it != segments_.end() && it->first < cleanable_end; ++it) {
      report.segments_after++;
      report.bytes_after += it->second->size_bytes();
    }
  }
  MQ_RETURN_IF_ERROR(write_cleaner_checkpoint());
  report.compacted = true;
  report.records_removed = filter.records_removed();
  report.tombstones_removed = filter.tombstones_removed();
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  spdlog::info(
      "{}: compacted offsets below {} in {} ms: {} -> {} segment(s), {} -> {} bytes, {} "
      "record(s) removed ({} tombstone(s)), dirty ratio was {:.2f}{}",
      dir_, cleanable_end, report.duration_ms, report.segments_before, report.segments_after,
      report.bytes_before, report.bytes_after, report.records_removed, report.tombstones_removed,
      report.dirty_ratio,
      report.groups_abandoned > 0
          ? ", " + std::to_string(report.groups_abandoned) + " group(s) left: the log changed"
          : std::string());
  return report;
}

// Append lock held. See docs/storage-format.md §9.3 for the protocol.
Status Log::swap_in_locked(CleanedGroup& group) {
  int64_t base = group.sources.front()->base_offset();
  std::string stem = segment_stem(dir_, base);
  std::string cleaned = std::string(kCleanedSuffix);
  // The commit: once "<base>.log.swap" exists, recovery finishes this swap.
  Status committed = rename_file(stem + ".log" + cleaned, stem + ".log" + std::string(kSwapSuffix));
  if (committed.is_ok()) committed = sync_directory(dir_);
  if (!committed.is_ok()) {
    (void)remove_file(stem + ".log" + std::string(kSwapSuffix));
    (void)group.cleaned->remove_files();
    return committed;
  }
  Status st = [&]() -> Status {
    // Newest first, so the new segment never sits beside an old one it overlaps.
    for (size_t k = group.sources.size(); k-- > 1;) {
      MQ_RETURN_IF_ERROR(group.sources[k]->remove_files());
    }
    MQ_RETURN_IF_ERROR(rename_file(stem + ".index" + cleaned, stem + ".index"));
    MQ_RETURN_IF_ERROR(rename_file(stem + ".timeindex" + cleaned, stem + ".timeindex"));
    MQ_RETURN_IF_ERROR(rename_file(stem + ".keyindex" + cleaned, stem + ".keyindex"));
    MQ_RETURN_IF_ERROR(rename_file(stem + ".log" + std::string(kSwapSuffix), stem + ".log"));
    MQ_RETURN_IF_ERROR(sync_directory(dir_));
    std::string index_note;
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                        Segment::open(dir_, base, config_.index_interval_bytes, &index_note));
    std::unique_lock segments_lock(segments_mu_);
    for (const auto& source : group.sources) segments_.erase(source->base_offset());
    segments_[base] = std::move(segment);
    group.cleaned.reset();  // its files now carry the final names
    return Status::ok();
  }();
  if (!st.is_ok()) {
    // Half swapped on disk: only recovery can finish it. Readers keep the old
    // segments they hold; appends stop until the log is reopened.
    failed_.store(true, std::memory_order_release);
    spdlog::error(
        "{}: compaction swap of segment {} failed after its commit, log offline until "
        "reopened (recovery finishes the swap): {}",
        dir_, base, st.to_string());
  }
  return st;
}

}  // namespace mq
