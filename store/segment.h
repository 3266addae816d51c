// A segment: one `.log` file of whole record batches, named by the base offset
// of its first batch (20 zero-padded digits), with its sparse `.index` and
// `.timeindex` (store/index.h) and its `.keyindex` (store/key_index.h). Only the log's active
// segment is appended to. Batch offsets increase through the file; they are dense except where
// compaction removed records (store/log_cleaner.cc), which leaves gaps between
// batches but never before the first batch or after the last.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "store/file.h"
#include "store/index.h"
#include "store/key_index.h"
#include "store/record_batch.h"

namespace mq {

// Largest segment: positions in the index are 32-bit.
constexpr uint64_t kMaxSegmentBytes = uint64_t{2} * 1024 * 1024 * 1024 - 1;

// "dir/00000000000000012345" (add ".log", ".index", ".timeindex").
std::string segment_stem(const std::string& dir, int64_t base_offset);
// Parses a file name "00000000000000012345<ext>" (ext ".log", ".index", ...)
// into its base offset 12345; false for any other name.
bool parse_segment_name(const std::string& name, std::string_view ext, int64_t* base);

// Suffixes of a compacted segment on its way in (docs/storage-format.md §9.3):
// ".cleaned" while being written, ".swap" once complete and committed.
constexpr std::string_view kCleanedSuffix = ".cleaned";
constexpr std::string_view kSwapSuffix = ".swap";

// What recovery found in one segment.
struct SegmentRecovery {
  int batches = 0;
  uint64_t valid_bytes = 0;
  uint64_t truncated_bytes = 0;  // bytes cut from the end
  std::string reason;            // why, when truncated_bytes > 0
};

class Segment {
 public:
  using HeaderVisitor = std::function<Status(const BatchHeader&)>;
  using BatchVisitor = std::function<Status(const BatchHeader&, std::span<const uint8_t> batch)>;

  // Creates an empty segment (truncating any stale files of that name). With
  // a `suffix`, every file name gets it ("….log.cleaned"): a segment written
  // aside, which becomes part of a log only once renamed.
  static Result<std::shared_ptr<Segment>> create(const std::string& dir, int64_t base_offset,
                                                 uint32_t index_interval_bytes, int64_t now_ms,
                                                 std::string_view suffix = {});
  // Opens an existing segment without verifying its batches. Loads the indexes
  // (rebuilding them when invalid) and finds the end by scanning from the last
  // index entry. Fails with kCorruptMessage if that tail does not parse; the
  // caller then runs recover().
  static Result<std::shared_ptr<Segment>> open(const std::string& dir, int64_t base_offset,
                                               uint32_t index_interval_bytes,
                                               std::string* index_note);
  // Opens a segment and verifies every batch (header, CRC, dense offsets from
  // the base offset), truncating the file at the first bad byte and rebuilding
  // both indexes.
  static Result<std::shared_ptr<Segment>> recover(const std::string& dir, int64_t base_offset,
                                                  uint32_t index_interval_bytes,
                                                  SegmentRecovery* report);

  int64_t base_offset() const { return base_offset_; }
  int64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  uint64_t size_bytes() const { return size_bytes_.load(std::memory_order_acquire); }
  bool empty() const { return size_bytes() == 0; }
  // Largest batch max_timestamp in the segment (-1 when empty).
  int64_t max_timestamp() const { return max_timestamp_.load(std::memory_order_acquire); }
  // When the segment started: for age-based rolling.
  int64_t created_ms() const { return created_ms_; }
  const std::string& log_path() const { return log_file_.path(); }

  // Appends whole batches whose headers (offsets already assigned) are given,
  // with the key index entries of their records (append_key_entries) when the
  // caller decoded them already; without, the batches are decoded here. On a
  // failed write the file is cut back so no partial batch remains.
  Status append(std::span<const uint8_t> bytes, std::span<const BatchHeader> headers,
                const std::vector<KeyIndexEntry>* key_entries = nullptr);

  // Offsets of records whose key may be `key` (the key index's hash hits;
  // the caller checks the records), ascending.
  Result<std::vector<int64_t>> key_candidates(std::string_view key) const;

  // Whole batches starting with the one containing `offset`, up to `max_bytes`
  // (at least one batch if any), stopping before a batch whose last offset is
  // >= `max_offset`. Each batch's CRC is checked when `verify` is set; a
  // corrupt first batch is an error, a later one ends the read.
  struct ReadSlice {
    std::string bytes;
    int64_t next_offset = -1;  // offset after the last returned batch
  };
  Result<ReadSlice> read(int64_t offset, size_t max_bytes, int64_t max_offset, bool verify) const;

  // First batch whose max_timestamp >= `timestamp`, or nullopt.
  Result<std::optional<BatchHeader>> find_batch_by_timestamp(int64_t timestamp) const;
  // Header of the batch containing `offset` and its position, or nullopt.
  Result<std::optional<BatchHeader>> find_batch(int64_t offset, uint64_t* position) const;

  // Visits headers of batches with last_offset >= from_offset, in order.
  Status for_each_header(int64_t from_offset, const HeaderVisitor& visitor) const;
  // Visits every whole batch, CRC-checked, in order, up to the segment's end
  // when called, stopping before the first batch whose base offset is >=
  // `end_offset`. A corrupt batch is a kCorruptMessage naming file and position.
  Status for_each_batch(int64_t end_offset, const BatchVisitor& visitor) const;

  // Removes every batch with last_offset >= offset (whole batches only).
  Status truncate_to(int64_t offset);

  // fsyncs the log file and writes new index entries (synced if `sync_index`).
  Status flush(bool sync_index);
  // Called when the segment stops being active: final time index entry, synced indexes.
  Status seal();
  Status remove_files();

 private:
  // Visits the batch headers from the offset index's entry at or below
  // `relative` (the segment's start if none). An entry that does not point
  // at the batch it names is passed over with a warning, and the scan starts
  // at the segment's start instead.
  // `visit(header, position)` returns Result<bool>: false stops the scan.
  // A template (instantiated in segment.cc only): every fetch looks a batch
  // up through it, without a std::function allocation.
  template <typename Visit>
  Status scan_headers(uint32_t relative, const Visit& visit) const;
  Segment(std::string stem, int64_t base_offset, uint32_t index_interval_bytes, File log_file,
          std::string_view suffix = {});
  // Updates the running maximum and the sparse indexes for one appended batch.
  void note_batch(const BatchHeader& header, uint64_t position);
  // Scans headers from `start` to the end of the file, noting each batch.
  Status scan_tail(uint64_t start);
  // Adds the key index entries of one batch (decoding it).
  void index_keys(std::span<const uint8_t> batch, const BatchHeader& header);
  // Re-indexes keys from the batch holding `offset` to the end.
  Status index_keys_from(int64_t offset);

  std::string stem_;
  int64_t base_offset_;
  uint32_t index_interval_bytes_;
  File log_file_;
  SegmentIndex index_;
  KeyIndex keys_;
  std::atomic<int64_t> next_offset_;
  std::atomic<uint64_t> size_bytes_{0};
  std::atomic<int64_t> max_timestamp_{-1};
  int64_t created_ms_ = 0;
  uint64_t bytes_since_index_entry_ = 0;
};

}  // namespace mq
