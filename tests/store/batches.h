// Builders of record batches for store tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

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

}  // namespace mq::testing
