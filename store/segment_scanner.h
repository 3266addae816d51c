// Sequential, buffered reader of the batches in a segment file. Internal to store/.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/status.h"
#include "store/file.h"
#include "store/record_batch.h"

namespace mq {

class SegmentScanner {
 public:
  enum class Step { kBatch, kEnd, kTruncated, kCorrupt, kIoError };

  // Reads [start, end) of `file`. With `whole_batches`, each batch is read in
  // full and its CRC verified; otherwise only headers are read.
  SegmentScanner(const File& file, uint64_t start, uint64_t end, bool whole_batches,
                 size_t chunk_bytes = 1 << 20)
      : file_(file), pos_(start), end_(end), whole_(whole_batches), chunk_(chunk_bytes) {}

  Step next();
  const BatchHeader& header() const { return header_; }
  // The whole current batch (only with whole_batches).
  std::span<const uint8_t> batch() const { return batch_; }
  // Position of the current batch after kBatch; of the bad bytes otherwise.
  uint64_t batch_position() const { return batch_pos_; }
  const Status& error() const { return error_; }

 private:
  // Makes [pos, pos+n) available in the buffer; false on I/O error.
  bool fill(uint64_t pos, size_t n);
  Step fail(Step step, std::string why);

  const File& file_;
  uint64_t pos_;
  uint64_t end_;
  bool whole_;
  size_t chunk_;
  std::string buf_;
  uint64_t buf_start_ = 0;  // file position of buf_[0]
  BatchHeader header_;
  std::span<const uint8_t> batch_;
  uint64_t batch_pos_ = 0;
  Status error_;
};

}  // namespace mq
