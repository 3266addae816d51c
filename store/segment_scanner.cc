// SegmentScanner: chunked reads, header parsing, CRC checks.
#include "store/segment_scanner.h"

#include "store/coding.h"

namespace mq {

bool SegmentScanner::fill(uint64_t pos, size_t n) {
  if (pos >= buf_start_ && pos + n <= buf_start_ + buf_.size()) return true;
  size_t want = std::max(n, chunk_);
  want = static_cast<size_t>(std::min<uint64_t>(want, end_ - pos));
  buf_.resize(want);
  Result<size_t> got = file_.read_at(pos, as_writable_bytes(buf_));
  if (!got.is_ok()) {
    error_ = got.status();
    buf_.clear();
    return false;
  }
  buf_.resize(*got);
  buf_start_ = pos;
  return true;
}

SegmentScanner::Step SegmentScanner::fail(Step step, std::string why) {
  batch_pos_ = pos_;
  if (error_.is_ok()) error_ = Status(ErrorCode::kCorruptMessage, std::move(why));
  return step;
}

SegmentScanner::Step SegmentScanner::next() {
  if (pos_ >= end_) return Step::kEnd;
  uint64_t left = end_ - pos_;
  if (left < kBatchHeaderSize) {
    return fail(Step::kTruncated, std::to_string(left) + " bytes after the last batch, " +
                                      "fewer than a batch header (torn write)");
  }
  if (!fill(pos_, kBatchHeaderSize)) return Step::kIoError;
  if (buf_start_ + buf_.size() < pos_ + kBatchHeaderSize) {
    return fail(Step::kTruncated, "file shorter than expected");
  }
  auto header_bytes = std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(buf_.data()) + (pos_ - buf_start_), kBatchHeaderSize);
  Result<BatchHeader> parsed = parse_batch_header(header_bytes);
  if (!parsed.is_ok()) {
    bool zeros = true;
    for (uint8_t b : header_bytes) zeros = zeros && b == 0;
    return fail(Step::kCorrupt, zeros ? "zero-filled bytes where a batch header should be"
                                      : "bad batch header: " + parsed.status().message());
  }
  header_ = *parsed;
  uint64_t size = header_.total_size();
  if (size > left) {
    return fail(Step::kTruncated, "batch of " + std::to_string(size) + " bytes at offset " +
                                      std::to_string(header_.base_offset) + " but only " +
                                      std::to_string(left) + " bytes left (torn write)");
  }
  if (whole_) {
    if (!fill(pos_, size)) return Step::kIoError;
    batch_ = std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(buf_.data()) + (pos_ - buf_start_), size);
    if (compute_batch_crc(batch_) != header_.crc) {
      return fail(Step::kCorrupt,
                  "CRC mismatch in batch at offset " + std::to_string(header_.base_offset));
    }
  }
  batch_pos_ = pos_;
  pos_ += size;
  return Step::kBatch;
}

}  // namespace mq
