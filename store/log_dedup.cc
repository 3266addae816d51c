// De-duplication by message id (store/dedup_window.h): what a leader append
// leaves out, what every append remembers, and the window's recovery.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_map>

#include "store/checkpoint.h"
#include "store/file.h"
#include "store/log.h"

namespace mq {
namespace {

using KeyHashes = std::vector<std::pair<uint32_t, int32_t>>;

constexpr std::string_view kDedupSnapshot = "dedup-window.checkpoint";

// One piece of a rewritten batch: records [first, first + count) of it, kept
// (re-encoded) or left out (a batch without records in their place).
struct Piece {
  int32_t first;
  int32_t count;
  bool kept;
};

}  // namespace

Status Log::drop_duplicates_locked(std::span<uint8_t> batches, std::vector<BatchHeader>* headers,
                                   std::vector<KeyHashes>* key_hashes,
                                   std::vector<std::vector<MessageId>>* message_ids,
                                   std::string* rewritten,
                                   std::vector<DuplicateRecord>* duplicates) {
  // The common case, batches without message ids, allocates nothing.
  if (std::ranges::all_of(*message_ids, [](const auto& ids) { return ids.empty(); })) {
    return Status::ok();
  }
  // Which records repeat an id: one in the window, or one earlier in this
  // append (its offset is known once offsets are assigned: the append's
  // records take consecutive offsets, duplicates included).
  std::vector<std::vector<bool>> dropped(headers->size());
  std::unordered_map<std::string_view, int32_t> first_in_append;
  std::vector<std::pair<size_t, int32_t>> repeats_in_append;  // (duplicates index, record index)
  int32_t index_base = 0;
  for (size_t i = 0; i < headers->size(); ++i) {
    const BatchHeader& h = (*headers)[i];
    for (const MessageId& m : (*message_ids)[i]) {
      int32_t index = index_base + m.offset_delta;
      std::optional<int64_t> earlier = dedup_.find(m.id);
      auto [it, first] = first_in_append.try_emplace(m.id, index);
      if (!earlier && first) continue;
      if (dropped[i].empty())
        dropped[i].assign(static_cast<size_t>(h.last_offset_delta) + 1, false);
      dropped[i][static_cast<size_t>(m.offset_delta)] = true;
      if (!earlier) repeats_in_append.emplace_back(duplicates->size(), it->second);
      duplicates->push_back({index, earlier.value_or(-1)});
    }
    index_base += h.last_offset_delta + 1;
  }
  if (duplicates->empty()) return Status::ok();
  // Offsets are assigned later: an id repeated inside the append resolves
  // to base + index, which the caller adds (marked with -1 - index here).
  for (auto [at, index] : repeats_in_append) (*duplicates)[at].offset = -1 - index;

  std::vector<BatchHeader> new_headers;
  std::vector<KeyHashes> new_key_hashes;
  std::vector<std::vector<MessageId>> new_ids;
  RecordBatchReader reader;
  std::vector<Record> records;
  size_t position = 0;
  for (size_t i = 0; i < headers->size(); ++i) {
    const BatchHeader& h = (*headers)[i];
    auto batch = batches.subspan(position, h.total_size());
    position += h.total_size();
    if (dropped[i].empty()) {
      rewritten->append(reinterpret_cast<const char*>(batch.data()), batch.size());
      new_headers.push_back(h);
      new_key_hashes.push_back(std::move((*key_hashes)[i]));
      new_ids.push_back(std::move((*message_ids)[i]));
      continue;
    }
    MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
    std::vector<Piece> pieces;
    for (int32_t r = 0; r <= h.last_offset_delta; ++r) {
      bool kept = !dropped[i][static_cast<size_t>(r)];
      if (pieces.empty() || pieces.back().kept != kept) {
        pieces.push_back({r, 0, kept});
      }
      pieces.back().count++;
    }
    for (const Piece& piece : pieces) {
      std::string bytes;
      if (piece.kept) {
        MQ_ASSIGN_OR_RETURN(bytes, rebuild_records(h,
                                                   std::span<const Record>(records).subspan(
                                                       static_cast<size_t>(piece.first),
                                                       static_cast<size_t>(piece.count)),
                                                   h.compression()));
      } else {
        bytes = empty_batch(h, piece.first, piece.count);
      }
      MQ_ASSIGN_OR_RETURN(BatchHeader piece_header, parse_batch_header(as_bytes(bytes)));
      KeyHashes& hashes = new_key_hashes.emplace_back();
      std::vector<MessageId>& ids = new_ids.emplace_back();
      if (piece.kept) {
        for (const auto& [hash, delta] : (*key_hashes)[i]) {
          if (delta >= piece.first && delta < piece.first + piece.count) {
            hashes.emplace_back(hash, delta - piece.first);
          }
        }
        for (const MessageId& m : (*message_ids)[i]) {
          if (m.offset_delta >= piece.first && m.offset_delta < piece.first + piece.count) {
            ids.push_back({m.id, m.offset_delta - piece.first});
          }
        }
      }
      new_headers.push_back(piece_header);
      rewritten->append(bytes);
    }
  }
  *headers = std::move(new_headers);
  *key_hashes = std::move(new_key_hashes);
  *message_ids = std::move(new_ids);
  return Status::ok();
}

void Log::remember_ids_locked(const std::vector<BatchHeader>& headers,
                              const std::vector<std::vector<MessageId>>& message_ids, int64_t now) {
  if (config_.dedup_window_ms <= 0) return;
  for (size_t i = 0; i < headers.size(); ++i) {
    // A delivered copy's id stays the scheduled record's (same on every replica).
    if (headers[i].is_delivered_copy()) continue;
    for (const MessageId& m : message_ids[i]) {
      dedup_.add(m.id, headers[i].base_offset + m.offset_delta, now);
    }
  }
}

size_t Log::dedup_window_size() const {
  std::lock_guard lock(append_mu_);
  return dedup_.size();
}

std::optional<int64_t> Log::dedup_offset(std::string_view message_id) const {
  std::lock_guard lock(append_mu_);
  return dedup_.find(message_id);
}

Status Log::restore_dedup_window(RecoveryReport* report) {
  int64_t now = config_.now_ms();
  int64_t window = config_.dedup_window_ms;
  int64_t end = log_end_offset();
  int64_t from = log_start_offset();
  // A snapshot is trusted when this log still holds what it covered: the
  // batch ending there has the epoch it had (a truncation and a re-fetch
  // from a new leader since would show another).
  Result<DedupWindow::Covered> snapshot = dedup_.load_snapshot(path(kDedupSnapshot));
  bool usable = snapshot.is_ok() && snapshot->offset <= end && snapshot->offset >= from &&
                snapshot->epoch == epochs_.epoch_holding(snapshot->offset - 1);
  if (usable) {
    from = snapshot->offset;
  } else {
    if (!snapshot.is_ok() && snapshot.code() != ErrorCode::kNotFound) {
      report->notes.push_back(snapshot.status().message() +
                              "; de-duplication window read from the log");
    } else if (snapshot.is_ok()) {
      report->notes.push_back("de-duplication window snapshot at offset " +
                              std::to_string(snapshot->offset) +
                              " does not match the log; read from the log");
    }
    dedup_.clear();
    if (window <= 0) return Status::ok();
    // Only the part of the log written inside the window can hold its ids.
    MQ_ASSIGN_OR_RETURN(std::optional<int64_t> recent, offset_for_timestamp(now - window));
    from = recent.value_or(end);
  }
  if (window <= 0) {
    dedup_.clear();
    return Status::ok();
  }
  RecordBatchReader reader;
  std::vector<MessageId> ids;
  KeyHashes unused;
  for (const auto& segment : segments_from(from)) {
    std::vector<BatchHeader> with_ids;
    MQ_RETURN_IF_ERROR(segment->for_each_header(from, [&](const BatchHeader& h) {
      if (h.has_message_ids() && !h.is_delivered_copy() && h.base_offset >= from)
        with_ids.push_back(h);
      return Status::ok();
    }));
    for (const BatchHeader& h : with_ids) {
      MQ_ASSIGN_OR_RETURN(LogReadResult read, this->read(h.base_offset, 1, h.next_offset()));
      BatchCursor cursor(as_bytes(read.bytes));
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty()) continue;
      ids.clear();
      unused.clear();
      if (!reader.collect_key_hashes(batch, &unused, &ids).is_ok()) continue;
      for (const MessageId& m : ids) {
        // Timed as if appended now: the window never ends early for ids
        // that carried old timestamps.
        dedup_.add(m.id, h.base_offset + m.offset_delta, now);
      }
    }
  }
  dedup_.expire(now, window);
  return Status::ok();
}

Status Log::write_dedup_snapshot() {
  std::string file = path(kDedupSnapshot);
  std::vector<std::string> lines;
  {
    std::lock_guard lock(append_mu_);
    if (config_.dedup_window_ms > 0) dedup_.expire(config_.now_ms(), config_.dedup_window_ms);
    if (dedup_.size() == 0) return remove_file(file);
    int64_t end = log_end_offset();
    lines = dedup_.snapshot_lines({.offset = end, .epoch = epochs_.epoch_holding(end - 1)});
  }
  return write_checkpoint(file, kDedupSnapshotKind, kDedupSnapshotVersion, lines);
}

}  // namespace mq
