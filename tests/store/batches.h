// Builders of record batches for store tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/log.h"
#include "store/record_batch.h"

namespace mq::testing {

// A batch of `count` records "<prefix>-<i>" with timestamps ts, ts+1, ...
inline std::string make_batch(int count, int64_t timestamp_ms = 1000,
                              const std::string& prefix = "value",
                              Compression codec = Compression::kNone) {
  RecordBatchBuilder builder(codec);
  for (int i = 0; i < count; i++) {
    std::string value = prefix + "-" + std::to_string(i);
    builder.add(timestamp_ms + i, std::nullopt, value);
  }
  Result<std::string> batch = builder.build();
  EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
  return batch.is_ok() ? *batch : std::string();
}

inline std::string make_idempotent_batch(int count, int64_t producer_id, int16_t epoch,
                                         int32_t base_sequence, int64_t timestamp_ms = 1000) {
  RecordBatchBuilder builder;
  builder.set_producer(producer_id, epoch, base_sequence);
  for (int i = 0; i < count; i++) builder.add(timestamp_ms, std::nullopt, "v" + std::to_string(i));
  Result<std::string> batch = builder.build();
  EXPECT_TRUE(batch.is_ok());
  return batch.is_ok() ? *batch : std::string();
}

// A batch whose single record's value is `bytes` long: for size-driven tests.
inline std::string make_sized_batch(size_t bytes, int64_t timestamp_ms = 1000) {
  RecordBatchBuilder builder;
  builder.add(timestamp_ms, std::nullopt, std::string(bytes, 'x'));
  Result<std::string> batch = builder.build();
  EXPECT_TRUE(batch.is_ok());
  return batch.is_ok() ? *batch : std::string();
}

// Visits every record readable from the log start to the end, in order,
// checking each batch's CRC and records on the way.
inline void for_each_record(const Log& log, const std::function<void(const Record&)>& visit) {
  RecordBatchReader reader;
  std::vector<Record> records;
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    Result<LogReadResult> r = log.read(offset, 1 << 16);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (!r.is_ok() || r->bytes.empty()) break;
    BatchCursor cursor(as_bytes(r->bytes));
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      EXPECT_TRUE(verify_batch(batch).is_ok());
      EXPECT_TRUE(reader.decode(batch, &records).is_ok());
      for (const Record& record : records) {
        if (record.offset >= offset) visit(record);
      }
    }
    offset = r->next_offset;
  }
}

// Keyed records for compaction tests: a null value is a tombstone.
using KeyedRecords = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct KeyedBatchOptions {
  int64_t timestamp_ms = 1000;  // of the first record; the i-th gets + i
  Compression codec = Compression::kNone;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

inline std::string make_keyed_batch(const KeyedRecords& records,
                                    const KeyedBatchOptions& options = {}) {
  RecordBatchBuilder builder(options.codec);
  builder.set_producer(options.producer_id, options.producer_epoch, options.base_sequence);
  int64_t ts = options.timestamp_ms;
  for (const auto& [key, value] : records) {
    builder.add(ts++, key, value ? std::optional<std::string_view>(*value) : std::nullopt);
  }
  Result<std::string> batch = builder.build();
  EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
  return batch.is_ok() ? *batch : std::string();
}

}  // namespace mq::testing
