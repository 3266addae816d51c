// Tests of batching (linger, size, per partition), sequence numbering and the
// order of retries in the producer's accumulator.
#include "client/record_accumulator.h"

#include <gtest/gtest.h>

#include "store/record_batch.h"

namespace mq::client {
namespace {

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

PendingRecord record_of(size_t value_bytes,
                        std::vector<Result<RecordMetadata>>* results = nullptr) {
  PendingRecord record;
  record.value = std::string(value_bytes, 'v');
  record.size_bytes = estimate_record_size(record.key, record.value, record.headers);
  if (results != nullptr) {
    record.on_done = [results](const Result<RecordMetadata>& r) { results->push_back(r); };
  }
  return record;
}

AccumulatorOptions options(int64_t batch_size = 1000, int linger = 10, int in_flight = 5) {
  return {.batch_size_bytes = batch_size,
          .linger_ms = linger,
          .max_in_flight_per_partition = in_flight,
          .idempotent = true};
}

TEST(RecordAccumulatorBatching, WaitsForLingerBeforeSendingAPartialBatch) {
  RecordAccumulator accumulator(options(1000, 10));
  accumulator.append(kP0, record_of(10), 100);
  EXPECT_TRUE(accumulator.ready(105, false).empty());
  EXPECT_EQ(accumulator.next_ready_delay_ms(105, false), 5);
  EXPECT_EQ(accumulator.ready(110, false), std::vector<TopicPartition>{kP0});
}

TEST(RecordAccumulatorBatching, SendsAFullBatchWithoutWaiting) {
  RecordAccumulator accumulator(options(400, 1000));
  EXPECT_TRUE(accumulator.append(kP0, record_of(100), 0));
  EXPECT_FALSE(accumulator.append(kP0, record_of(100), 0));
  EXPECT_TRUE(accumulator.ready(0, false).empty());
  // The third record would pass 400 bytes (61 + 3 * 136): it starts a second batch, the first is
  // full.
  EXPECT_TRUE(accumulator.append(kP0, record_of(100), 0));
  EXPECT_EQ(accumulator.ready(0, false), std::vector<TopicPartition>{kP0});
  EXPECT_EQ(accumulator.queued_batches(), 2u);
  EXPECT_EQ(accumulator.drain(kP0)->record_count(), 2);
}

TEST(RecordAccumulatorBatching, KeepsOneOpenBatchPerPartition) {
  RecordAccumulator accumulator(options(10'000, 10));
  EXPECT_TRUE(accumulator.append(kP0, record_of(10), 0));
  EXPECT_TRUE(accumulator.append(kP1, record_of(10), 5));
  EXPECT_FALSE(accumulator.append(kP0, record_of(10), 6));
  EXPECT_EQ(accumulator.ready(10, false), std::vector<TopicPartition>{kP0});
  EXPECT_EQ(accumulator.ready(15, false), (std::vector<TopicPartition>{kP0, kP1}));
  EXPECT_EQ(accumulator.drain(kP0)->record_count(), 2);
  EXPECT_EQ(accumulator.drain(kP1)->record_count(), 1);
}

TEST(RecordAccumulatorBatching, FlushIgnoresLinger) {
  RecordAccumulator accumulator(options(10'000, 60'000));
  accumulator.append(kP0, record_of(10), 0);
  EXPECT_TRUE(accumulator.ready(1, false).empty());
  EXPECT_EQ(accumulator.ready(1, true), std::vector<TopicPartition>{kP0});
}

TEST(RecordAccumulatorBatching, RecordLargerThanABatchGetsABatchOfItsOwn) {
  RecordAccumulator accumulator(options(100, 1000));
  accumulator.append(kP0, record_of(500), 0);
  EXPECT_EQ(accumulator.ready(0, false), std::vector<TopicPartition>{kP0});
}

TEST(RecordAccumulatorSequence, AssignsConsecutiveSequencesPerPartition) {
  RecordAccumulator accumulator(options(10'000, 0));
  for (int i = 0; i < 3; ++i) accumulator.append(kP0, record_of(10), 0);
  auto first = accumulator.drain(kP0);
  for (int i = 0; i < 2; ++i) accumulator.append(kP0, record_of(10), 0);
  accumulator.append(kP1, record_of(10), 0);
  auto second = accumulator.drain(kP0);
  auto other = accumulator.drain(kP1);
  EXPECT_EQ(first->base_sequence, 0);
  EXPECT_EQ(second->base_sequence, 3);
  EXPECT_EQ(other->base_sequence, 0);
  EXPECT_EQ(accumulator.next_sequence(kP0), 5);
  EXPECT_EQ(accumulator.in_flight(kP0), 2);
}

TEST(RecordAccumulatorSequence, EncodedBatchCarriesProducerIdEpochAndSequence) {
  RecordAccumulator accumulator(options(10'000, 0));
  accumulator.append(kP0, record_of(10), 0);
  accumulator.drain(kP0);
  accumulator.append(kP0, record_of(10), 0);
  accumulator.append(kP0, record_of(10), 0);
  auto batch = accumulator.drain(kP0);
  Result<std::string> encoded = batch->encode({.producer_id = 77, .epoch = 3}, Compression::kLz4);
  ASSERT_TRUE(encoded.is_ok()) << encoded.status().to_string();
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(encoded->data()),
                                 encoded->size());
  Result<BatchHeader> header = verify_batch(bytes);
  ASSERT_TRUE(header.is_ok()) << header.status().to_string();
  EXPECT_EQ(header->producer_id, 77);
  EXPECT_EQ(header->producer_epoch, 3);
  EXPECT_EQ(header->base_sequence, 1);
  EXPECT_EQ(header->record_count, 2);
  EXPECT_EQ(header->compression(), Compression::kLz4);
}

TEST(RecordAccumulatorSequence, WrapsAfterInt32MaxAsKafkaDoes) {
  EXPECT_EQ(increment_sequence(5, 3), 8);
  EXPECT_EQ(increment_sequence(2147483647 - 1, 1), 2147483647);
  EXPECT_EQ(increment_sequence(2147483647, 1), 0);
  EXPECT_EQ(increment_sequence(2147483647 - 1, 5), 3);
}

TEST(RecordAccumulatorSequence, NonIdempotentBatchesHaveNoSequence) {
  AccumulatorOptions o = options(10'000, 0);
  o.idempotent = false;
  RecordAccumulator accumulator(o);
  accumulator.append(kP0, record_of(10), 0);
  auto batch = accumulator.drain(kP0);
  EXPECT_FALSE(batch->base_sequence.has_value());
  Result<std::string> encoded = batch->encode({.producer_id = 77, .epoch = 3}, Compression::kNone);
  ASSERT_TRUE(encoded.is_ok());
  std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(encoded->data()),
                                 encoded->size());
  EXPECT_EQ(verify_batch(bytes)->producer_id, -1);
}

TEST(RecordAccumulatorInFlight, LimitsBatchesInFlightPerPartition) {
  RecordAccumulator accumulator(options(10'000, 0, 5));
  std::vector<std::unique_ptr<ProducerBatch>> sent;
  for (int i = 0; i < 6; ++i) {
    accumulator.append(kP0, record_of(10), 0);
    if (i < 5) {
      ASSERT_EQ(accumulator.ready(0, false), std::vector<TopicPartition>{kP0});
      sent.push_back(accumulator.drain(kP0));
    }
  }
  EXPECT_TRUE(accumulator.ready(0, false).empty()) << "a sixth batch must wait";
  accumulator.on_complete(*sent.front());
  EXPECT_EQ(accumulator.ready(0, false), std::vector<TopicPartition>{kP0});
}

TEST(RecordAccumulatorRetry, RetriedBatchKeepsItsSequenceAndGoesFirst) {
  RecordAccumulator accumulator(options(10'000, 0));
  accumulator.append(kP0, record_of(10), 0);
  auto first = accumulator.drain(kP0);  // sequence 0
  accumulator.append(kP0, record_of(10), 0);
  auto second = accumulator.drain(kP0);       // sequence 1
  accumulator.append(kP0, record_of(10), 0);  // not sent yet

  // Both fail (the second because the first did); they come back in sequence
  // order, whatever order their answers arrived in.
  accumulator.requeue(std::move(second), 50);
  accumulator.requeue(std::move(first), 50);
  EXPECT_TRUE(accumulator.ready(49, false).empty()) << "backoff not over";
  ASSERT_EQ(accumulator.ready(50, false), std::vector<TopicPartition>{kP0});
  auto retry = accumulator.drain(kP0);
  EXPECT_EQ(retry->base_sequence, 0);
  EXPECT_EQ(retry->attempts, 2);
  // The next retry waits until the first one is answered.
  EXPECT_TRUE(accumulator.ready(50, false).empty());
  accumulator.on_complete(*retry);
  auto retry2 = accumulator.drain(kP0);
  EXPECT_EQ(retry2->base_sequence, 1);
  accumulator.on_complete(*retry2);
  auto fresh = accumulator.drain(kP0);
  EXPECT_EQ(fresh->base_sequence, 2);
}

TEST(RecordAccumulatorRetry, RetryWaitsForEveryBatchInFlight) {
  RecordAccumulator accumulator(options(10'000, 0));
  accumulator.append(kP0, record_of(10), 0);
  auto first = accumulator.drain(kP0);
  accumulator.append(kP0, record_of(10), 0);
  auto second = accumulator.drain(kP0);
  accumulator.requeue(std::move(first), 0);
  EXPECT_TRUE(accumulator.ready(100, false).empty()) << "sequence 1 still in flight";
  EXPECT_FALSE(accumulator.next_ready_delay_ms(100, false).has_value());
  accumulator.on_complete(*second);
  EXPECT_EQ(accumulator.ready(100, false), std::vector<TopicPartition>{kP0});
}

TEST(RecordAccumulatorRetry, OutOfOrderBehindAnEarlierFailureCountsAsRetriable) {
  RecordAccumulator accumulator(options(10'000, 0));
  accumulator.append(kP0, record_of(10), 0);
  auto first = accumulator.drain(kP0);
  accumulator.append(kP0, record_of(10), 0);
  auto second = accumulator.drain(kP0);
  EXPECT_TRUE(accumulator.has_earlier_unacknowledged(kP0, 1)) << "sequence 0 in flight";
  EXPECT_FALSE(accumulator.has_earlier_unacknowledged(kP0, 0));
  accumulator.requeue(std::move(first), 0);
  EXPECT_TRUE(accumulator.has_earlier_unacknowledged(kP0, 1)) << "sequence 0 queued for retry";
  auto retried = accumulator.drain(kP0);
  accumulator.on_complete(*retried);
  EXPECT_FALSE(accumulator.has_earlier_unacknowledged(kP0, 1));
  EXPECT_FALSE(accumulator.has_earlier_unacknowledged(kP1, 1));
}

TEST(RecordAccumulatorRetry, ResetSequencesStartsAgainAtZero) {
  RecordAccumulator accumulator(options(10'000, 0));
  accumulator.append(kP0, record_of(10), 0);
  auto first = accumulator.drain(kP0);
  accumulator.requeue(std::move(first), 0);
  accumulator.reset_sequences();
  EXPECT_EQ(accumulator.next_sequence(kP0), 0);
  auto again = accumulator.drain(kP0);
  EXPECT_EQ(again->base_sequence, 0);
  EXPECT_EQ(accumulator.next_sequence(kP0), 1);
}

TEST(RecordAccumulatorExpiry, ExpiresOnlyBatchesCreatedBeforeTheDeadline) {
  RecordAccumulator accumulator(options(10'000, 1000));
  accumulator.append(kP0, record_of(10), 0);
  accumulator.append(kP1, record_of(10), 500);
  auto expired = accumulator.expire_created_before(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired.front()->partition, kP0);
  EXPECT_EQ(accumulator.queued_batches(), 1u);
}

TEST(RecordAccumulatorCompletion, CallbacksGetConsecutiveOffsetsOrTheError) {
  std::vector<Result<RecordMetadata>> results;
  RecordAccumulator accumulator(options(10'000, 0));
  for (int i = 0; i < 3; ++i) accumulator.append(kP1, record_of(10, &results), 0);
  auto batch = accumulator.drain(kP1);
  batch->complete(Status::ok(), 40, -1);
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].is_ok());
    EXPECT_EQ(results[i]->offset, 40 + i);
    EXPECT_EQ(results[i]->partition, 1);
  }
  results.clear();
  batch->complete(Status(ErrorCode::kMessageTooLarge, "big"), -1, -1);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].code(), ErrorCode::kMessageTooLarge);
}

}  // namespace
}  // namespace mq::client
