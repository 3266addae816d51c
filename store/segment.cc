// Segment: append, read, look up, truncate, recover.
#include "store/segment.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "store/segment_scanner.h"

namespace mq {
namespace {

// Header-only scans read small chunks: a few batches' headers at a time.
constexpr size_t kHeaderScanChunk = 16 * 1024;

// Whether a batch at `base_offset` may follow a previous one ending at
// `expected` (-1: unknown). The first batch of a segment starts exactly at its
// base offset; later ones may leave a gap (records removed by compaction) but
// never go back.
bool offset_follows(int64_t base_offset, int64_t expected, bool first_batch) {
  if (expected < 0) return true;
  return first_batch ? base_offset == expected : base_offset >= expected;
}

std::string offset_mismatch(const BatchHeader& h, uint64_t position, int64_t expected) {
  return "batch at position " + std::to_string(position) + " has base offset " +
         std::to_string(h.base_offset) + ", expected " + std::to_string(expected) +
         (position == 0 ? "" : " or more");
}

}  // namespace

std::string segment_stem(const std::string& dir, int64_t base_offset) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020" PRId64, base_offset);
  return dir + "/" + name;
}

bool parse_segment_name(const std::string& name, std::string_view ext, int64_t* base) {
  if (name.size() != 20 + ext.size() || name.compare(20, ext.size(), ext) != 0) return false;
  int64_t v = 0;
  for (int i = 0; i < 20; i++) {
    if (name[i] < '0' || name[i] > '9') return false;
    if (v > (INT64_MAX - (name[i] - '0')) / 10) return false;
    v = v * 10 + (name[i] - '0');
  }
  *base = v;
  return true;
}

Segment::Segment(std::string stem, int64_t base_offset, uint32_t index_interval_bytes,
                 File log_file, std::string_view suffix)
    : stem_(std::move(stem)),
      base_offset_(base_offset),
      index_interval_bytes_(index_interval_bytes),
      log_file_(std::move(log_file)),
      index_(stem_ + ".index" + std::string(suffix), stem_ + ".timeindex" + std::string(suffix)),
      keys_(stem_ + ".keyindex" + std::string(suffix)),
      next_offset_(base_offset) {}

Result<std::shared_ptr<Segment>> Segment::create(const std::string& dir, int64_t base_offset,
                                                 uint32_t index_interval_bytes, int64_t now_ms,
                                                 std::string_view suffix) {
  std::string stem = segment_stem(dir, base_offset);
  MQ_ASSIGN_OR_RETURN(File file, File::open(stem + ".log" + std::string(suffix), /*create=*/true));
  MQ_RETURN_IF_ERROR(file.truncate(0));
  std::shared_ptr<Segment> segment(
      new Segment(stem, base_offset, index_interval_bytes, std::move(file), suffix));
  MQ_RETURN_IF_ERROR(segment->index_.flush(/*sync=*/false));  // empty index files
  MQ_RETURN_IF_ERROR(segment->keys_.clear());
  segment->created_ms_ = now_ms;
  return segment;
}

Result<std::shared_ptr<Segment>> Segment::open(const std::string& dir, int64_t base_offset,
                                               uint32_t index_interval_bytes,
                                               std::string* index_note) {
  std::string stem = segment_stem(dir, base_offset);
  MQ_ASSIGN_OR_RETURN(File file, File::open(stem + ".log", /*create=*/false));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file.size());
  if (size > kMaxSegmentBytes) {
    return Status(ErrorCode::kCorruptMessage, file.path() + " is larger than a segment can be");
  }
  std::shared_ptr<Segment> segment(
      new Segment(stem, base_offset, index_interval_bytes, std::move(file)));
  std::string why;
  if (!segment->index_.load(size, &why)) {
    // Rebuild from the log: a full scan of the segment's headers.
    index_note->assign(why);
    segment->index_.clear();
    MQ_RETURN_IF_ERROR(segment->scan_tail(0));
    MQ_RETURN_IF_ERROR(segment->index_.flush(/*sync=*/true));
  } else {
    auto last = segment->index_.last_offset_entry();
    auto last_time = segment->index_.last_time_entry();
    if (last_time) segment->max_timestamp_ = last_time->timestamp;
    MQ_RETURN_IF_ERROR(segment->scan_tail(last ? last->position : 0));
    if (last_time && last_time->relative_offset >= segment->next_offset() - base_offset) {
      index_note->assign("time index points past the end of the log");
      segment->index_.clear();
      segment->max_timestamp_ = -1;
      segment->size_bytes_ = 0;
      segment->next_offset_ = base_offset;
      MQ_RETURN_IF_ERROR(segment->scan_tail(0));
      MQ_RETURN_IF_ERROR(segment->index_.flush(/*sync=*/true));
    }
  }
  // The key index covers up to its last entry's batch, which may be indexed
  // only in part: from there on it is indexed again.
  MQ_ASSIGN_OR_RETURN(
      uint32_t resume,
      segment->keys_.load(static_cast<uint32_t>(segment->next_offset() - base_offset)));
  MQ_RETURN_IF_ERROR(segment->index_keys_from(base_offset + resume));
  if (!segment->empty()) {
    // Age-based rolling counts from the first batch's timestamp.
    uint8_t header[kBatchHeaderSize];
    MQ_ASSIGN_OR_RETURN(size_t n, segment->log_file_.read_at(0, header));
    if (n == kBatchHeaderSize) {
      Result<BatchHeader> first = parse_batch_header(header);
      if (first.is_ok()) segment->created_ms_ = first->max_timestamp;
    }
  }
  return segment;
}

Status Segment::scan_tail(uint64_t start) {
  uint64_t end = log_file_.size().is_ok() ? *log_file_.size() : 0;
  // Re-noting the batch at `start` only re-adds an index entry that is already
  // there; note_batch skips entries that would not be strictly increasing.
  SegmentScanner scanner(log_file_, start, end, /*whole_batches=*/false, kHeaderScanChunk);
  int64_t expected = start == 0 ? base_offset_ : -1;
  while (true) {
    SegmentScanner::Step step = scanner.next();
    if (step == SegmentScanner::Step::kEnd) break;
    if (step != SegmentScanner::Step::kBatch) {
      return Status(scanner.error().code() == ErrorCode::kNone ? ErrorCode::kCorruptMessage
                                                               : scanner.error().code(),
                    log_file_.path() + ": " + scanner.error().message());
    }
    const BatchHeader& h = scanner.header();
    if (!offset_follows(h.base_offset, expected, scanner.batch_position() == 0)) {
      return Status(
          ErrorCode::kCorruptMessage,
          log_file_.path() + ": " + offset_mismatch(h, scanner.batch_position(), expected));
    }
    expected = h.next_offset();
    note_batch(h, scanner.batch_position());
    size_bytes_.store(scanner.batch_position() + h.total_size(), std::memory_order_release);
    next_offset_.store(h.next_offset(), std::memory_order_release);
  }
  return Status::ok();
}

Result<std::shared_ptr<Segment>> Segment::recover(const std::string& dir, int64_t base_offset,
                                                  uint32_t index_interval_bytes,
                                                  SegmentRecovery* report) {
  std::string stem = segment_stem(dir, base_offset);
  MQ_ASSIGN_OR_RETURN(File file, File::open(stem + ".log", /*create=*/false));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file.size());
  std::shared_ptr<Segment> segment(
      new Segment(stem, base_offset, index_interval_bytes, std::move(file)));
  uint64_t scan_end = std::min(size, kMaxSegmentBytes);
  MQ_RETURN_IF_ERROR(segment->keys_.clear());
  SegmentScanner scanner(segment->log_file_, 0, scan_end, /*whole_batches=*/true);
  int64_t expected = base_offset;
  uint64_t valid = 0;
  while (true) {
    SegmentScanner::Step step = scanner.next();
    if (step == SegmentScanner::Step::kEnd) break;
    if (step == SegmentScanner::Step::kIoError) return scanner.error();
    if (step != SegmentScanner::Step::kBatch) {
      report->reason = scanner.error().message();
      break;
    }
    const BatchHeader& h = scanner.header();
    if (!offset_follows(h.base_offset, expected, valid == 0)) {
      report->reason = offset_mismatch(h, scanner.batch_position(), expected);
      break;
    }
    segment->index_keys(scanner.batch(), h);
    if (valid == 0) segment->created_ms_ = h.max_timestamp;
    segment->note_batch(h, scanner.batch_position());
    expected = h.next_offset();
    valid = scanner.batch_position() + h.total_size();
    report->batches++;
  }
  if (scan_end < size && report->reason.empty()) report->reason = "segment larger than 2 GiB";
  report->valid_bytes = valid;
  report->truncated_bytes = size - valid;
  if (valid < size) MQ_RETURN_IF_ERROR(segment->log_file_.truncate(valid));
  segment->next_offset_.store(expected, std::memory_order_release);
  segment->size_bytes_.store(valid, std::memory_order_release);
  MQ_RETURN_IF_ERROR(segment->index_.flush(/*sync=*/true));
  MQ_RETURN_IF_ERROR(segment->keys_.flush(/*sync=*/true));
  return segment;
}

void Segment::index_keys(std::span<const uint8_t> batch, const BatchHeader& header) {
  RecordBatchReader reader;
  std::vector<std::pair<uint32_t, int32_t>> hashes;
  // Records that do not decode (appended with validate_records off) are
  // served as stored but cannot be found by key: the batch gets a marker.
  if (!reader.collect_key_hashes(batch, &hashes).is_ok()) hashes.clear();
  std::vector<KeyIndexEntry> entries;
  append_key_entries(header, base_offset_, hashes, &entries);
  for (const KeyIndexEntry& e : entries) keys_.add(e.key_hash, e.relative_offset);
}

Status Segment::index_keys_from(int64_t offset) {
  uint64_t position = 0;
  MQ_ASSIGN_OR_RETURN(std::optional<BatchHeader> first, find_batch(offset, &position));
  if (!first) return Status::ok();
  MQ_RETURN_IF_ERROR(keys_.truncate_to(static_cast<uint32_t>(first->base_offset - base_offset_)));
  SegmentScanner scanner(log_file_, position, size_bytes(), /*whole_batches=*/true);
  while (true) {
    SegmentScanner::Step step = scanner.next();
    if (step == SegmentScanner::Step::kEnd) break;
    if (step != SegmentScanner::Step::kBatch) {
      return Status(scanner.error().code() == ErrorCode::kNone ? ErrorCode::kCorruptMessage
                                                               : scanner.error().code(),
                    log_file_.path() + ": " + scanner.error().message());
    }
    index_keys(scanner.batch(), scanner.header());
  }
  return keys_.flush(/*sync=*/false);
}

Result<std::vector<int64_t>> Segment::key_candidates(std::string_view key) const {
  MQ_ASSIGN_OR_RETURN(std::vector<uint32_t> relative, keys_.find(key_index_hash(key)));
  std::vector<int64_t> out;
  out.reserve(relative.size());
  for (uint32_t r : relative) out.push_back(base_offset_ + r);
  return out;
}

void Segment::note_batch(const BatchHeader& header, uint64_t position) {
  int64_t running_max =
      std::max(max_timestamp_.load(std::memory_order_relaxed), header.max_timestamp);
  max_timestamp_.store(running_max, std::memory_order_release);
  bytes_since_index_entry_ += header.total_size();
  if (bytes_since_index_entry_ >= index_interval_bytes_) {
    auto relative = static_cast<uint32_t>(header.base_offset - base_offset_);
    auto last = index_.last_offset_entry();
    if (position > 0 && (!last || last->relative_offset < relative)) {
      index_.add_offset_entry(relative, static_cast<uint32_t>(position));
      index_.add_time_entry(running_max, relative);
    }
    bytes_since_index_entry_ = 0;
  }
}

Status Segment::append(std::span<const uint8_t> bytes, std::span<const BatchHeader> headers,
                       const std::vector<KeyIndexEntry>* key_entries) {
  uint64_t start = size_bytes();
  Status written = log_file_.write_at(start, bytes);
  if (!written.is_ok()) {
    // Cut back whatever part of the write landed: no partial batch may remain.
    Status cut = log_file_.truncate(start);
    if (!cut.is_ok()) {
      return Status(ErrorCode::kStorageError,
                    written.message() + "; and cutting the partial write failed: " + cut.message());
    }
    return written;
  }
  // Publish the size before the end offset (a reader that sees an offset must
  // find its bytes) and before the index entries that point into it.
  size_bytes_.store(start + bytes.size(), std::memory_order_release);
  next_offset_.store(headers.back().next_offset(), std::memory_order_release);
  uint64_t position = start;
  for (const BatchHeader& h : headers) {
    note_batch(h, position);
    if (key_entries == nullptr) index_keys(bytes.subspan(position - start, h.total_size()), h);
    position += h.total_size();
  }
  if (key_entries != nullptr) {
    for (const KeyIndexEntry& e : *key_entries) keys_.add(e.key_hash, e.relative_offset);
  }
  return Status::ok();
}

template <typename Visit>
Status Segment::scan_headers(uint32_t relative, const Visit& visit) const {
  const uint64_t end = size_bytes();
  std::optional<OffsetIndexEntry> entry = index_.entry_for(relative);
  if (entry && entry->position >= end) entry.reset();
  uint64_t start = entry ? entry->position : 0;
  while (true) {
    SegmentScanner scanner(log_file_, start, end, /*whole_batches=*/false, kHeaderScanChunk);
    bool first = true;
    bool entry_wrong = false;
    while (true) {
      SegmentScanner::Step step = scanner.next();
      if (first && start > 0) {
        first = false;
        // The entry must point at the batch it names: a damaged entry that
        // load()'s order checks let through would start the scan inside a
        // batch, or at a later one (skipping records).
        entry_wrong = step != SegmentScanner::Step::kBatch || scanner.batch_position() != start ||
                      scanner.header().base_offset != base_offset_ + entry->relative_offset;
        if (entry_wrong) break;
      }
      if (step == SegmentScanner::Step::kEnd) return Status::ok();
      if (step != SegmentScanner::Step::kBatch) {
        return Status(scanner.error().code(), log_file_.path() + ": " + scanner.error().message());
      }
      MQ_ASSIGN_OR_RETURN(bool more, visit(scanner.header(), scanner.batch_position()));
      if (!more) return Status::ok();
    }
    // Every lookup through that entry meets it again until the segment is
    // indexed anew: one warning a minute, whatever the segment.
    static std::atomic<int64_t> last_warning_s{-60};
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
    int64_t last = last_warning_s.load(std::memory_order_relaxed);
    if (now_s - last >= 60 && last_warning_s.compare_exchange_strong(last, now_s)) {
      spdlog::warn(
          "{}: the index entry for offset {} does not point at its batch (position {}); "
          "scanning the segment from its start (said at most once a minute)",
          log_file_.path(), base_offset_ + entry->relative_offset, start);
    }
    start = 0;
  }
}

Result<std::optional<BatchHeader>> Segment::find_batch(int64_t offset, uint64_t* position) const {
  if (offset < base_offset_ || offset >= next_offset()) return std::optional<BatchHeader>();
  std::optional<BatchHeader> found;
  MQ_RETURN_IF_ERROR(scan_headers(static_cast<uint32_t>(offset - base_offset_),
                                  [&](const BatchHeader& h, uint64_t at) -> Result<bool> {
                                    if (h.last_offset() < offset) return true;
                                    found = h;
                                    *position = at;
                                    return false;
                                  }));
  return found;
}

Result<Segment::ReadSlice> Segment::read(int64_t offset, size_t max_bytes, int64_t max_offset,
                                         bool verify) const {
  ReadSlice slice;
  uint64_t start = 0;
  MQ_ASSIGN_OR_RETURN(std::optional<BatchHeader> first, find_batch(offset, &start));
  if (!first || first->last_offset() >= max_offset) return slice;
  uint64_t end = size_bytes();
  size_t want = static_cast<size_t>(
      std::min<uint64_t>(end - start, std::max<uint64_t>(max_bytes, first->total_size())));
  slice.bytes.resize(want);
  MQ_ASSIGN_OR_RETURN(size_t got, log_file_.read_at(start, as_writable_bytes(slice.bytes)));
  slice.bytes.resize(got);

  BatchCursor cursor(as_bytes(slice.bytes));
  size_t keep = 0;
  while (true) {
    std::span<const uint8_t> batch = cursor.next();
    if (batch.empty()) break;
    Result<BatchHeader> header = verify ? verify_batch(batch) : parse_batch_header(batch);
    if (!header.is_ok()) {
      spdlog::error(
          "CORRUPT DATA in {} at position {}: {}; not serving it (restore this "
          "partition from a replica or backup)",
          log_file_.path(), start + keep, header.status().message());
      if (keep == 0) {
        return Status(ErrorCode::kCorruptMessage, log_file_.path() + " position " +
                                                      std::to_string(start) + ": " +
                                                      header.status().message());
      }
      break;
    }
    if (header->last_offset() >= max_offset) break;
    if (keep > 0 && keep + batch.size() > max_bytes) break;
    keep += batch.size();
    slice.next_offset = header->next_offset();
  }
  slice.bytes.resize(keep);
  return slice;
}

Result<std::optional<BatchHeader>> Segment::find_batch_by_timestamp(int64_t timestamp) const {
  if (max_timestamp() < timestamp) return std::optional<BatchHeader>();
  std::optional<BatchHeader> found;
  MQ_RETURN_IF_ERROR(scan_headers(index_.start_for_timestamp(timestamp),
                                  [&](const BatchHeader& h, uint64_t) -> Result<bool> {
                                    if (h.max_timestamp < timestamp) return true;
                                    found = h;
                                    return false;
                                  }));
  return found;
}

Status Segment::for_each_header(int64_t from_offset, const HeaderVisitor& visitor) const {
  const auto relative =
      from_offset > base_offset_
          ? static_cast<uint32_t>(std::min<int64_t>(from_offset - base_offset_, UINT32_MAX))
          : 0u;
  return scan_headers(relative, [&](const BatchHeader& h, uint64_t) -> Result<bool> {
    if (h.last_offset() < from_offset) return true;
    MQ_RETURN_IF_ERROR(visitor(h));
    return true;
  });
}

Status Segment::for_each_batch(int64_t end_offset, const BatchVisitor& visitor) const {
  SegmentScanner scanner(log_file_, 0, size_bytes(), /*whole_batches=*/true);
  while (true) {
    SegmentScanner::Step step = scanner.next();
    if (step == SegmentScanner::Step::kEnd) return Status::ok();
    if (step != SegmentScanner::Step::kBatch) {
      return Status(scanner.error().code(), log_file_.path() + " position " +
                                                std::to_string(scanner.batch_position()) + ": " +
                                                scanner.error().message());
    }
    if (scanner.header().base_offset >= end_offset) return Status::ok();
    MQ_RETURN_IF_ERROR(visitor(scanner.header(), scanner.batch()));
  }
}

Status Segment::truncate_to(int64_t offset) {
  if (offset >= next_offset()) return Status::ok();
  uint64_t position = 0;
  int64_t cut_offset = base_offset_;  // base offset of the first batch removed
  if (offset > base_offset_) {
    MQ_ASSIGN_OR_RETURN(std::optional<BatchHeader> batch, find_batch(offset, &position));
    if (!batch) return Status::ok();
    cut_offset = batch->base_offset;
  }
  MQ_RETURN_IF_ERROR(log_file_.truncate(position));
  size_bytes_.store(position, std::memory_order_release);
  index_.truncate_to(static_cast<uint32_t>(cut_offset - base_offset_),
                     static_cast<uint32_t>(std::min<uint64_t>(position, UINT32_MAX)));
  MQ_RETURN_IF_ERROR(keys_.truncate_to(static_cast<uint32_t>(cut_offset - base_offset_)));
  // Recompute the running maximum timestamp and the end from what remains.
  // The end is the last kept batch's: when `offset` falls in a compaction gap
  // it lies below the first batch removed.
  auto last_time = index_.last_time_entry();
  auto last_entry = index_.last_offset_entry();
  max_timestamp_.store(last_time ? last_time->timestamp : -1, std::memory_order_release);
  bytes_since_index_entry_ = 0;
  int64_t new_next = base_offset_;
  uint64_t from = last_entry ? last_entry->position : 0;
  SegmentScanner scanner(log_file_, from, position, /*whole_batches=*/false, kHeaderScanChunk);
  while (scanner.next() == SegmentScanner::Step::kBatch) {
    int64_t ts = std::max(max_timestamp(), scanner.header().max_timestamp);
    max_timestamp_.store(ts, std::memory_order_release);
    bytes_since_index_entry_ += scanner.header().total_size();
    new_next = scanner.header().next_offset();
  }
  next_offset_.store(new_next, std::memory_order_release);
  return Status::ok();
}

Status Segment::flush(bool sync_index) {
  MQ_RETURN_IF_ERROR(log_file_.sync());
  MQ_RETURN_IF_ERROR(index_.flush(sync_index));
  return keys_.flush(sync_index);
}

Status Segment::seal() {
  auto last_time = index_.last_time_entry();
  int64_t max_ts = max_timestamp();
  if (!empty() && (!last_time || last_time->timestamp < max_ts)) {
    // Final entry so the segment's maximum timestamp survives a restart. Its
    // relative offset is the last batch's: "everything up to here is <= max_ts".
    uint64_t unused = 0;
    Result<std::optional<BatchHeader>> last = find_batch(next_offset() - 1, &unused);
    if (last.is_ok() && *last) {
      index_.add_time_entry(max_ts, static_cast<uint32_t>((*last)->base_offset - base_offset_));
    }
  }
  return flush(/*sync_index=*/true);
}

Status Segment::remove_files() {
  MQ_RETURN_IF_ERROR(remove_file(log_file_.path()));
  MQ_RETURN_IF_ERROR(keys_.remove_file());
  return index_.remove_files();
}

}  // namespace mq
