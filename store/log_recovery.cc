// Log::open: find the segments, verify what may be damaged, cut a torn or
// corrupt tail, and rebuild derived state (indexes, leader epochs, producers).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "store/checkpoint.h"
#include "store/log.h"
#include "store/segment_scanner.h"

namespace mq {

Result<LogState> read_log_state(const std::string& path) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> lines, read_checkpoint(path, "mq-log-state", 1));
  LogState state;
  bool have_rp = false, have_start = false;
  for (const auto& line : lines) {
    std::istringstream in(line);
    std::string key;
    int64_t value;
    if (!(in >> key >> value) || value < 0) continue;
    if (key == "recovery_point") state.recovery_point = value, have_rp = true;
    if (key == "log_start_offset") state.log_start_offset = value, have_start = true;
  }
  if (!have_rp || !have_start) return Status(ErrorCode::kCorruptMessage, path + ": missing fields");
  return state;
}

namespace {
constexpr std::string_view kDamagedKind = "mq-damaged";
constexpr const char* kDamagedFile = "damaged.checkpoint";
}  // namespace

Result<std::unique_ptr<Log>> Log::open(const std::string& dir, LogConfig config) {
  MQ_RETURN_IF_ERROR(config.validate());
  MQ_RETURN_IF_ERROR(create_directories(dir));
  std::unique_ptr<Log> log(new Log(dir, std::move(config)));
  Status recovered = log->recover();
  if (recovered.is_ok()) recovered = log->cut_marked_damage();
  if (!recovered.is_ok()) {
    log->closed_ = true;  // nothing to flush or mark clean: the log never opened
    return recovered;
  }
  return log;
}

Status Log::mark_damaged(int64_t offset) {
  return write_checkpoint(path(kDamagedFile), kDamagedKind, 1,
                          {"truncate_to " + std::to_string(offset)});
}

Status Log::cut_marked_damage() {
  const std::string marker = path(kDamagedFile);
  Result<std::vector<std::string>> lines = read_checkpoint(marker, kDamagedKind, 1);
  if (lines.code() == ErrorCode::kNotFound) return Status::ok();
  int64_t offset = -1;
  if (lines.is_ok() && lines->size() == 1) {
    std::istringstream in(lines->front());
    std::string key;
    if (!(in >> key >> offset) || key != "truncate_to" || offset < 0) offset = -1;
  }
  if (offset < 0) {
    // Unreadable: where the damage was is unknown. A read of it finds it
    // again and marks it again.
    std::string why = lines.is_ok() ? marker + ": not one line \"truncate_to <offset>\""
                                    : lines.status().message();
    recovery_.notes.push_back(why + "; ignored");
    spdlog::warn("{}: {}; ignored", dir_, why);
  } else if (offset < log_end_offset()) {
    const int64_t end = log_end_offset();
    MQ_RETURN_IF_ERROR(truncate_to(offset));
    std::string note = "a read found a batch failing its CRC at or after offset " +
                       std::to_string(offset) + " before the last stop: cut the log from " +
                       std::to_string(log_end_offset()) + " (it ended at " + std::to_string(end) +
                       "); the other replicas hold the rest";
    recovery_.notes.push_back(note);
    spdlog::warn("{}: {}", dir_, note);
  }
  return remove_file(marker);
}

Status Log::recover() {
  auto started = std::chrono::steady_clock::now();
  RecoveryReport& report = recovery_;
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(dir_));
  MQ_RETURN_IF_ERROR(finish_interrupted_swaps(names));
  MQ_ASSIGN_OR_RETURN(names, list_directory(dir_));
  std::vector<int64_t> bases;
  for (const auto& name : names) {
    int64_t base;
    if (name.size() > 4 && name.ends_with(".tmp")) {
      MQ_RETURN_IF_ERROR(remove_file(path(name)));  // an interrupted atomic write
    } else if (parse_segment_name(name, ".log", &base)) {
      bases.push_back(base);
    }
  }
  std::sort(bases.begin(), bases.end());
  for (const auto& name : names) {  // indexes whose log is gone are leftovers
    int64_t base;
    if ((parse_segment_name(name, ".index", &base) ||
         parse_segment_name(name, ".timeindex", &base) ||
         parse_segment_name(name, ".keyindex", &base)) &&
        !std::binary_search(bases.begin(), bases.end(), base)) {
      MQ_RETURN_IF_ERROR(remove_file(path(name)));
    }
  }

  report.clean_shutdown = file_exists(path(".clean-shutdown"));
  LogState state;
  Result<LogState> loaded = read_log_state(path("log-state.checkpoint"));
  if (loaded.is_ok()) {
    state = *loaded;
  } else {
    if (loaded.code() != ErrorCode::kNotFound) report.notes.push_back(loaded.status().message());
    // Without a recovery point nothing can be trusted: verify every segment.
    report.clean_shutdown =
        report.clean_shutdown && loaded.code() == ErrorCode::kNotFound && bases.empty();
    state.log_start_offset = bases.empty() ? 0 : bases.front();
  }
  Status cleaner_loaded = cleaner_.load(path("cleaner.checkpoint"));
  if (!cleaner_loaded.is_ok() && cleaner_loaded.code() != ErrorCode::kNotFound) {
    report.notes.push_back(cleaner_loaded.message() +
                           "; the next compaction treats the log as dirty");
  }
  bool rebuild_epochs = false;
  Status epochs_loaded = epochs_.load();
  if (!epochs_loaded.is_ok()) {
    report.notes.push_back(epochs_loaded.message() + "; rebuilt from the log");
    rebuild_epochs = true;
  }

  int64_t scan_start_offset = INT64_MAX;  // first offset verified batch by batch
  for (size_t i = 0; i < bases.size(); i++) {
    int64_t base = bases[i];
    bool below_recovery_point = i + 1 < bases.size() && bases[i + 1] <= state.recovery_point;
    std::shared_ptr<Segment> segment;
    if (report.clean_shutdown || below_recovery_point) {
      std::string index_note;
      Result<std::shared_ptr<Segment>> opened =
          Segment::open(dir_, base, config_.index_interval_bytes, &index_note);
      if (!index_note.empty()) {
        report.notes.push_back("segment " + std::to_string(base) + ": " + index_note +
                               "; index rebuilt");
      }
      if (opened.is_ok()) {
        segment = std::move(opened).value();
        report.segments_opened++;
      } else if (opened.code() != ErrorCode::kCorruptMessage) {
        return opened.status();
      } else {
        report.notes.push_back(opened.status().message() + "; verifying the segment");
      }
    }
    if (!segment) {
      SegmentRecovery seg_report;
      MQ_ASSIGN_OR_RETURN(segment,
                          Segment::recover(dir_, base, config_.index_interval_bytes, &seg_report));
      report.segments_scanned++;
      report.bytes_scanned += seg_report.valid_bytes + seg_report.truncated_bytes;
      scan_start_offset = std::min(scan_start_offset, base);
      if (seg_report.truncated_bytes > 0) {
        report.bytes_truncated += seg_report.truncated_bytes;
        report.notes.push_back("segment " + std::to_string(base) + ": cut " +
                               std::to_string(seg_report.truncated_bytes) + " bytes at position " +
                               std::to_string(seg_report.valid_bytes) + " (offset " +
                               std::to_string(segment->next_offset()) + "): " + seg_report.reason);
        if (i + 1 < bases.size()) {
          report.notes.push_back("removed " + std::to_string(bases.size() - i - 1) +
                                 " later segment(s): a log is a prefix, never a log with a hole");
        }
        for (size_t k = i + 1; k < bases.size(); k++) {
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".log"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".index"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".timeindex"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".keyindex"));
          report.segments_removed++;
        }
        bases.resize(i + 1);
      }
    }
    if (!segments_.empty()) {
      const auto& previous = segments_.rbegin()->second;
      if (previous->next_offset() != base) {
        // A hole between segments: the earlier one lost its tail. Keep the prefix.
        spdlog::error("{}: segment {} ends at offset {} but the next starts at {}", dir_,
                      previous->base_offset(), previous->next_offset(), base);
        report.notes.push_back("segment " + std::to_string(previous->base_offset()) + " ends at " +
                               std::to_string(previous->next_offset()) + " but segment " +
                               std::to_string(base) +
                               " follows; removed it and every later segment");
        for (size_t k = i; k < bases.size(); k++) {
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".log"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".index"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".timeindex"));
          MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, bases[k]) + ".keyindex"));
          report.segments_removed++;
        }
        break;
      }
    }
    segments_[base] = std::move(segment);
  }

  if (segments_.empty()) {
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                        Segment::create(dir_, state.log_start_offset, config_.index_interval_bytes,
                                        config_.now_ms()));
    segments_[state.log_start_offset] = std::move(segment);
  }
  int64_t end = segments_.rbegin()->second->next_offset();
  int64_t first_base = segments_.begin()->first;
  log_end_offset_ = end;
  log_start_offset_ = std::clamp(state.log_start_offset, first_base, end);

  // Derived state must match the log as it now is.
  if (rebuild_epochs) MQ_RETURN_IF_ERROR(epochs_.clear());
  MQ_RETURN_IF_ERROR(epochs_.truncate_from_end(end));
  MQ_RETURN_IF_ERROR(epochs_.truncate_from_start(log_start_offset()));
  int64_t snapshot_offset = log_start_offset();
  Result<int64_t> snapshot = producers_.load_snapshot(path("producer-state.checkpoint"));
  if (snapshot.is_ok() && *snapshot <= end && *snapshot >= log_start_offset()) {
    snapshot_offset = *snapshot;
  } else {
    if (!snapshot.is_ok() && snapshot.code() != ErrorCode::kNotFound) {
      report.notes.push_back(snapshot.status().message() + "; producer state rebuilt from the log");
    }
    producers_.clear();
  }
  int64_t replay_from = std::min(snapshot_offset, scan_start_offset);
  if (rebuild_epochs) replay_from = log_start_offset();
  MQ_RETURN_IF_ERROR(replay_headers(replay_from, snapshot_offset));
  report.producers_restored = static_cast<int64_t>(producers_.size());
  MQ_RETURN_IF_ERROR(restore_dedup_window(&report));
  MQ_RETURN_IF_ERROR(restore_schedule(&report));
  MQ_RETURN_IF_ERROR(restore_queue_state(&report));

  // Recovered bytes came from the page cache and may not be on disk yet.
  if (!report.clean_shutdown) {
    for (const auto& [base, segment] : segments_) {
      if (segment->next_offset() > state.recovery_point) MQ_RETURN_IF_ERROR(segment->flush(true));
    }
  }
  flushed_offset_ = end;
  int64_t now = config_.now_ms();
  last_flush_ms_ = now;
  if (cleaner_.truncate_to(end)) MQ_RETURN_IF_ERROR(write_cleaner_checkpoint());
  MQ_RETURN_IF_ERROR(write_checkpoints());
  // From here on a crash is an unclean shutdown again.
  MQ_RETURN_IF_ERROR(remove_file(path(".clean-shutdown")));
  MQ_RETURN_IF_ERROR(sync_directory(dir_));

  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count();
  std::string notes;
  for (const auto& n : report.notes) notes += "; " + n;
  if (report.bytes_truncated > 0 || !report.notes.empty()) {
    spdlog::warn(
        "{}: recovered offsets [{}, {}) in {} ms after {} shutdown: {} segment(s) "
        "verified, {} bytes cut{}",
        dir_, log_start_offset(), end, report.duration_ms,
        report.clean_shutdown ? "a clean" : "an unclean", report.segments_scanned,
        report.bytes_truncated, notes);
  } else if (report.segments_opened == 0 && report.segments_scanned == 0) {
    spdlog::info("{}: created an empty log at offset {}", dir_, end);
  } else {
    spdlog::info("{}: opened offsets [{}, {}) in {} ms ({} shutdown, {} segment(s) verified)", dir_,
                 log_start_offset(), end, report.duration_ms,
                 report.clean_shutdown ? "clean" : "unclean", report.segments_scanned);
  }
  return Status::ok();
}

// Compaction swaps (log_cleaner.cc) a crash interrupted. "<base>.log.swap"
// is a complete, synced segment replacing every segment in [base, its end):
// finish it. "*.cleaned" files were never committed: remove them.
Status Log::finish_interrupted_swaps(const std::vector<std::string>& names) {
  std::vector<int64_t> logs;
  for (const auto& name : names) {
    int64_t base;
    if (parse_segment_name(name, ".log", &base)) logs.push_back(base);
  }
  bool changed = false;
  for (const auto& name : names) {
    int64_t base;
    if (!parse_segment_name(name, std::string(".log") + std::string(kSwapSuffix), &base)) continue;
    std::string stem = segment_stem(dir_, base);
    std::string swap_path = path(name);
    int64_t end = -1;
    {
      MQ_ASSIGN_OR_RETURN(File file, File::open_read_only(swap_path));
      MQ_ASSIGN_OR_RETURN(uint64_t size, file.size());
      SegmentScanner scanner(file, 0, size, /*whole_batches=*/true);
      std::string why;
      while (why.empty()) {
        SegmentScanner::Step step = scanner.next();
        if (step == SegmentScanner::Step::kEnd) break;
        if (step != SegmentScanner::Step::kBatch) {
          why = scanner.error().message();
        } else if (end < 0 && scanner.header().base_offset != base) {
          why = "first batch has base offset " + std::to_string(scanner.header().base_offset);
        } else {
          end = scanner.header().next_offset();
        }
      }
      if (end < 0 && why.empty()) why = "no batches";
      if (!why.empty()) {
        // It was synced before its commit: this is damage, not a torn write.
        return Status(ErrorCode::kCorruptMessage,
                      swap_path + ": " + why +
                          "; cannot finish the interrupted compaction swap (restore this "
                          "partition from a replica or backup)");
      }
    }
    int replaced = 0;
    for (int64_t old : logs) {
      if (old <= base || old >= end) continue;
      MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, old) + ".log"));
      MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, old) + ".index"));
      MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, old) + ".timeindex"));
      MQ_RETURN_IF_ERROR(remove_file(segment_stem(dir_, old) + ".keyindex"));
      replaced++;
    }
    // Whichever indexes are there may be the old segment's: rebuilt on open.
    MQ_RETURN_IF_ERROR(remove_file(stem + ".index"));
    MQ_RETURN_IF_ERROR(remove_file(stem + ".timeindex"));
    MQ_RETURN_IF_ERROR(remove_file(stem + ".keyindex"));
    if (::rename(swap_path.c_str(), (stem + ".log").c_str()) != 0) {
      return io_error("rename", swap_path, errno);
    }
    recovery_.notes.push_back("finished an interrupted compaction swap: segment " +
                              std::to_string(base) + " now holds offsets [" + std::to_string(base) +
                              ", " + std::to_string(end) + "), replacing " +
                              std::to_string(replaced + 1) + " old segment(s)");
    changed = true;
  }
  for (const auto& name : names) {
    if (name.ends_with(kCleanedSuffix)) {
      MQ_RETURN_IF_ERROR(remove_file(path(name)));
      if (name.find(".log") != std::string::npos) {
        recovery_.notes.push_back("removed " + name + ": an uncommitted compaction output");
      }
      changed = true;
    }
  }
  return changed ? sync_directory(dir_) : Status::ok();
}

Status Log::replay_headers(int64_t from_offset, int64_t producer_snapshot_offset) {
  for (const auto& segment : segments_from(from_offset)) {
    MQ_RETURN_IF_ERROR(segment->for_each_header(from_offset, [&](const BatchHeader& h) {
      if (h.base_offset >= producer_snapshot_offset) producers_.update(h, h.max_timestamp);
      if (h.leader_epoch >= 0) {
        auto latest = epochs_.latest();
        if (!latest || h.leader_epoch > latest->epoch) {
          return epochs_.assign(h.leader_epoch, h.base_offset);
        }
      }
      return Status::ok();
    }));
  }
  return Status::ok();
}

// After a truncation: state from the snapshot when it is not past the new end,
// else from the beginning of the log. Append lock held.
Status Log::rebuild_producer_state() {
  int64_t end = log_end_offset();
  int64_t from = log_start_offset();
  Result<int64_t> snapshot = producers_.load_snapshot(path("producer-state.checkpoint"));
  if (snapshot.is_ok() && *snapshot <= end && *snapshot >= from) {
    from = *snapshot;
  } else {
    producers_.clear();
  }
  for (const auto& segment : segments_from(from)) {
    MQ_RETURN_IF_ERROR(segment->for_each_header(from, [&](const BatchHeader& h) {
      producers_.update(h, h.max_timestamp);
      return Status::ok();
    }));
  }
  return Status::ok();
}

}  // namespace mq
