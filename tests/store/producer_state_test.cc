// ProducerStateTable: sequence rules, fencing, history and snapshots.
#include "store/producer_state.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace mq {
namespace {

BatchHeader batch(int64_t pid, int16_t epoch, int32_t seq, int32_t count, int64_t base_offset) {
  BatchHeader h;
  h.producer_id = pid;
  h.producer_epoch = epoch;
  h.base_sequence = seq;
  h.record_count = count;
  h.last_offset_delta = count - 1;
  h.base_offset = base_offset;
  return h;
}

TEST(ProducerState, AcceptsSequencesInOrderAndFindsRetries) {
  ProducerStateTable table;
  auto first = batch(1, 0, 0, 3, 100);
  ASSERT_TRUE(table.check(first).is_ok());
  EXPECT_FALSE(table.check(first)->has_value());
  table.update(first, 0);
  auto second = batch(1, 0, 3, 2, 103);
  ASSERT_FALSE(table.check(second)->has_value());
  table.update(second, 0);
  auto retry = table.check(batch(1, 0, 0, 3, -1));
  ASSERT_TRUE(retry.is_ok() && retry->has_value());
  EXPECT_EQ((*retry)->base_offset, 100);
  EXPECT_EQ((*retry)->last_offset, 102);
  EXPECT_EQ(table.check(batch(1, 0, 9, 1, -1)).code(), ErrorCode::kOutOfOrderSequence);
}

TEST(ProducerState, KeepsOnlyTheLastFiveBatches) {
  ProducerStateTable table;
  for (int i = 0; i < 8; i++) table.update(batch(1, 0, i, 1, i), 0);
  EXPECT_EQ(table.find(1)->batches.size(), kProducerHistory);
  EXPECT_TRUE(table.check(batch(1, 0, 4, 1, -1))->has_value());
  EXPECT_EQ(table.check(batch(1, 0, 1, 1, -1)).code(), ErrorCode::kDuplicateSequence);
}

TEST(ProducerState, EpochsFenceAndReset) {
  ProducerStateTable table;
  table.update(batch(1, 2, 0, 1, 0), 0);
  EXPECT_EQ(table.check(batch(1, 1, 1, 1, -1)).code(), ErrorCode::kInvalidProducerEpoch);
  EXPECT_FALSE(table.check(batch(1, 3, 0, 1, -1))->has_value()) << "a new epoch starts at 0";
  EXPECT_EQ(table.check(batch(1, 3, 5, 1, -1)).code(), ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(table.check(batch(2, 0, 5, 1, -1)).code(), ErrorCode::kUnknownProducerId);
  EXPECT_EQ(table.check(batch(2, -1, 0, 1, -1)).code(), ErrorCode::kInvalidRequest)
      << "a producer id without an epoch";
  EXPECT_EQ(table.check(batch(2, 0, -1, 1, -1)).code(), ErrorCode::kInvalidRequest)
      << "a producer id without a sequence";
  EXPECT_FALSE(table.check(batch(-1, -1, -1, 1, -1))->has_value()) << "not idempotent";
}

TEST(ProducerState, SequencesWrapAtInt32Max) {
  ProducerStateTable table;
  table.update(batch(1, 0, 0, 1, 0), 0);
  auto& entry = const_cast<ProducerEntry&>(*table.find(1));
  entry.batches.back().last_sequence = INT32_MAX;
  EXPECT_FALSE(table.check(batch(1, 0, 0, 1, -1))->has_value());
}

TEST(ProducerState, SnapshotRoundTripsAndRejectsGarbage) {
  testing::TempDir dir;
  ProducerStateTable table;
  table.update(batch(1, 0, 0, 3, 0), 5000);
  table.update(batch(1, 0, 3, 3, 3), 5000);
  table.update(batch(77, 4, 10, 1, 6), 6000);
  ASSERT_TRUE(table.write_snapshot(dir.file("p"), 7).is_ok());
  ProducerStateTable loaded;
  Result<int64_t> offset = loaded.load_snapshot(dir.file("p"));
  ASSERT_TRUE(offset.is_ok());
  EXPECT_EQ(*offset, 7);
  ASSERT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.find(77)->epoch, 4);
  EXPECT_EQ(loaded.find(1)->batches.size(), 2u);
  EXPECT_TRUE(loaded.check(batch(1, 0, 3, 3, -1))->has_value());
  loaded.expire(5050, 100);
  EXPECT_EQ(loaded.size(), 2u);
  loaded.expire(6050, 100);
  EXPECT_EQ(loaded.size(), 1u);
  EXPECT_NE(loaded.find(77), nullptr);
  EXPECT_EQ(loaded.load_snapshot(dir.file("absent")).code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace mq
