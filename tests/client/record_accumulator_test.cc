// Tests of batching (linger, size, per partition), sequence numbering, the
// order of retries and flush bookkeeping in the producer's accumulator.
#include "client/record_accumulator.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/record_batch.h"

namespace mq::client {
namespace {

const TopicPartition kP0{"t", 0};
const TopicPartition kP1{"t", 1};

int64_t g_now_ms = 0;
int64_t fake_now() {
  return g_now_ms;
}

AccumulatorOptions options(int64_t batch_size = 1000, int linger = 10, int in_flight = 5) {
  return {.batch_size_bytes = batch_size,
          .linger_ms = linger,
          .max_in_flight_per_partition = in_flight,
          .idempotent = true,
          .steady_now_ms = &fake_now,
          .wall_now_ms = &fake_now};
}

class Accumulator : public ::testing::Test {
 protected:
  void SetUp() override { g_now_ms = 0; }

  void make(AccumulatorOptions o) {
    accumulator_ = std::make_unique<RecordAccumulator>(o);
    accumulator_->set_partition_count("t", 2);
    accumulator_->end_publication();
  }
  RecordAccumulator::Appended append(const TopicPartition& tp, size_t value_bytes,
                                     int64_t at_ms = 0,
                                     std::vector<Result<RecordMetadata>>* results = nullptr) {
    g_now_ms = at_ms;
    std::string value(value_bytes, 'v');
    RecordView view{.value = value};
    SendCallback callback;
    if (results != nullptr) {
      callback = [results](const Result<RecordMetadata>& r) { results->push_back(r); };
    }
    return accumulator_->append(tp.topic, tp.partition, view, estimate_record_size(view),
                                std::move(callback));
  }
  // Seals what lingered by `now_ms`, then takes what may be sent.
  std::vector<std::unique_ptr<ProducerBatch>> drain(int64_t now_ms, bool flushing = false) {
    accumulator_->seal_lingering(now_ms, flushing);
    return accumulator_->drain(now_ms, [](const TopicPartition&) { return true; });
  }
  std::unique_ptr<ProducerBatch> drain_one(const TopicPartition& tp, int64_t now_ms = 0) {
    accumulator_->seal_lingering(now_ms, true);
    auto batches = accumulator_->drain(
        now_ms, [&](const TopicPartition& candidate) { return candidate == tp; });
    return batches.empty() ? nullptr : std::move(batches.front());
  }

  std::unique_ptr<RecordAccumulator> accumulator_;
};

TEST_F(Accumulator, WaitsForLingerBeforeSendingAPartialBatch) {
  make(options(1000, 10));
  EXPECT_EQ(append(kP0, 10, 100), RecordAccumulator::Appended::kNewBatch);
  EXPECT_EQ(accumulator_->seal_lingering(105, false), 5);
  EXPECT_TRUE(drain(105).empty());
  auto batches = drain(110);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches.front()->partition, kP0);
}

TEST_F(Accumulator, SealsAFullBatchWithoutWaiting) {
  make(options(400, 1000));
  EXPECT_EQ(append(kP0, 100), RecordAccumulator::Appended::kNewBatch);
  EXPECT_EQ(append(kP0, 100), RecordAccumulator::Appended::kToOpenBatch);
  EXPECT_TRUE(drain(0).empty());
  // The third record would pass 400 bytes: it starts a second batch, the first is sealed.
  EXPECT_EQ(append(kP0, 100), RecordAccumulator::Appended::kSealedBatch);
  EXPECT_EQ(accumulator_->queued_batches(), 2u);
  auto batches = drain(0);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches.front()->record_count, 2);
}

TEST_F(Accumulator, KeepsOneOpenBatchPerPartition) {
  make(options(10'000, 10));
  append(kP0, 10, 0);
  append(kP1, 10, 5);
  append(kP0, 10, 6);
  auto first = drain(10);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first.front()->partition, kP0);
  EXPECT_EQ(first.front()->record_count, 2);
  auto second = drain(15);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second.front()->partition, kP1);
}

TEST_F(Accumulator, FlushIgnoresLinger) {
  make(options(10'000, 60'000));
  append(kP0, 10);
  EXPECT_TRUE(drain(1).empty());
  EXPECT_EQ(drain(1, /*flushing=*/true).size(), 1u);
}

TEST_F(Accumulator, ALingeredBatchKeepsFillingWhileItsPartitionCannotSend) {
  make(options(10'000, 0, /*in_flight=*/1));
  append(kP0, 10);
  auto first = drain_one(kP0);
  ASSERT_NE(first, nullptr);
  // Lingered (linger 0), but the one slot in flight is taken: not sealed, so
  // the backlog goes out as one batch, not one batch per record.
  for (int i = 0; i < 5; ++i) append(kP0, 10, 100);
  EXPECT_TRUE(drain(200).empty());
  accumulator_->on_complete(*first);
  auto batches = drain(200);
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches.front()->record_count, 5);
}

TEST_F(Accumulator, RecordLargerThanABatchGetsABatchOfItsOwn) {
  make(options(100, 1000));
  EXPECT_EQ(append(kP0, 500), RecordAccumulator::Appended::kSealedBatch);
  EXPECT_EQ(drain(0).size(), 1u);
}

TEST_F(Accumulator, AnUnknownTopicOrPartitionIsNotAppended) {
  make(options());
  std::string value = "v";
  RecordView view{.value = value};
  EXPECT_EQ(accumulator_->append("other", std::nullopt, view, 40, {}),
            RecordAccumulator::Appended::kUnknownTopic);
  EXPECT_EQ(accumulator_->append("t", 2, view, 40, {}), RecordAccumulator::Appended::kUnknownTopic);
  EXPECT_EQ(accumulator_->partition_count("t"), 2);
  EXPECT_EQ(accumulator_->partition_count("other"), 0);
}

TEST_F(Accumulator, EncodesRecordsAsTheBatchBuilderDoes) {
  make(options(10'000, 0));
  Header header{"h", "hv"};
  std::string key = "k", value = "value";
  RecordView view{.key = key, .value = value, .headers = {&header, 1}, .timestamp_ms = 1234};
  accumulator_->append("t", 0, view, estimate_record_size(view), {});
  RecordView tombstone{.key = key, .timestamp_ms = 1240};
  accumulator_->append("t", 0, tombstone, estimate_record_size(tombstone), {});
  auto batch = drain_one(kP0);
  ASSERT_NE(batch, nullptr);
  Result<transport::Frame> frame = batch->encode({}, Compression::kNone);
  ASSERT_TRUE(frame.is_ok());
  ASSERT_TRUE(verify_batch(frame->bytes()).is_ok());
  RecordBatchReader reader;
  std::vector<Record> records;
  ASSERT_TRUE(reader.decode(frame->bytes(), &records).is_ok());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].key, "k");
  EXPECT_EQ(records[0].value, "value");
  EXPECT_EQ(records[0].timestamp, 1234);
  ASSERT_EQ(records[0].headers.size(), 1u);
  EXPECT_EQ(records[0].headers[0].key, "h");
  EXPECT_EQ(records[0].headers[0].value, "hv");
  EXPECT_EQ(records[1].offset, 1);
  EXPECT_FALSE(records[1].value.has_value());
  EXPECT_EQ(records[1].timestamp, 1240);
}

TEST_F(Accumulator, RecordsWithoutATimestampGetTheirBatchsOpeningTime) {
  make(options(10'000, 100));
  append(kP0, 10, 500);
  append(kP0, 10, 530);
  auto batch = drain_one(kP0, 600);
  Result<transport::Frame> frame = batch->encode({}, Compression::kNone);
  ASSERT_TRUE(frame.is_ok());
  RecordBatchReader reader;
  std::vector<Record> records;
  ASSERT_TRUE(reader.decode(frame->bytes(), &records).is_ok());
  EXPECT_EQ(records[0].timestamp, 500);
  EXPECT_EQ(records[1].timestamp, 500);
}

TEST_F(Accumulator, AssignsConsecutiveSequencesPerPartition) {
  make(options(10'000, 0));
  for (int i = 0; i < 3; ++i) append(kP0, 10);
  auto first = drain_one(kP0);
  for (int i = 0; i < 2; ++i) append(kP0, 10);
  append(kP1, 10);
  auto second = drain_one(kP0);
  auto other = drain_one(kP1);
  EXPECT_EQ(first->base_sequence, 0);
  EXPECT_EQ(second->base_sequence, 3);
  EXPECT_EQ(other->base_sequence, 0);
  EXPECT_EQ(accumulator_->next_sequence(kP0), 5);
  EXPECT_EQ(accumulator_->in_flight(kP0), 2);
}

TEST_F(Accumulator, EncodedBatchCarriesProducerIdEpochAndSequence) {
  make(options(10'000, 0));
  append(kP0, 10);
  drain_one(kP0);
  append(kP0, 10);
  append(kP0, 10);
  auto batch = drain_one(kP0);
  Result<transport::Frame> encoded =
      batch->encode({.producer_id = 77, .epoch = 3}, Compression::kLz4);
  ASSERT_TRUE(encoded.is_ok()) << encoded.status().to_string();
  Result<BatchHeader> header = verify_batch(encoded->bytes());
  ASSERT_TRUE(header.is_ok()) << header.status().to_string();
  EXPECT_EQ(header->producer_id, 77);
  EXPECT_EQ(header->producer_epoch, 3);
  EXPECT_EQ(header->base_sequence, 1);
  EXPECT_EQ(header->record_count, 2);
  EXPECT_EQ(header->compression(), Compression::kLz4);
}

TEST_F(Accumulator, ARetryReusesTheEncodedBytesAndRestampsANewIdentityOnACopy) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto batch = drain_one(kP0);
  Result<transport::Frame> first =
      batch->encode({.producer_id = 5, .epoch = 0}, Compression::kNone);
  Result<transport::Frame> again =
      batch->encode({.producer_id = 5, .epoch = 0}, Compression::kNone);
  ASSERT_TRUE(first.is_ok() && again.is_ok());
  EXPECT_EQ(first->data(), again->data()) << "the same bytes, not encoded again";
  batch->base_sequence = 0;  // as after reset_sequences() and a new drain
  Result<transport::Frame> restamped =
      batch->encode({.producer_id = 9, .epoch = 1}, Compression::kNone);
  ASSERT_TRUE(restamped.is_ok());
  EXPECT_NE(restamped->data(), first->data()) << "the first send may still be reading its bytes";
  EXPECT_EQ(verify_batch(restamped->bytes())->producer_id, 9);
  EXPECT_EQ(verify_batch(first->bytes())->producer_id, 5);
}

TEST_F(Accumulator, WrapsSequencesAfterInt32MaxAsKafkaDoes) {
  EXPECT_EQ(increment_sequence(5, 3), 8);
  EXPECT_EQ(increment_sequence(2147483647 - 1, 1), 2147483647);
  EXPECT_EQ(increment_sequence(2147483647, 1), 0);
  EXPECT_EQ(increment_sequence(2147483647 - 1, 5), 3);
}

TEST_F(Accumulator, NonIdempotentBatchesHaveNoSequence) {
  AccumulatorOptions o = options(10'000, 0);
  o.idempotent = false;
  make(o);
  append(kP0, 10);
  auto batch = drain_one(kP0);
  EXPECT_FALSE(batch->base_sequence.has_value());
  Result<transport::Frame> encoded =
      batch->encode({.producer_id = 77, .epoch = 3}, Compression::kNone);
  ASSERT_TRUE(encoded.is_ok());
  EXPECT_EQ(verify_batch(encoded->bytes())->producer_id, -1);
}

TEST_F(Accumulator, LimitsBatchesInFlightPerPartition) {
  make(options(10'000, 0, 5));
  std::vector<std::unique_ptr<ProducerBatch>> sent;
  for (int i = 0; i < 6; ++i) {
    append(kP0, 10);
    auto batch = drain_one(kP0);
    if (i < 5) {
      ASSERT_NE(batch, nullptr);
      sent.push_back(std::move(batch));
    } else {
      EXPECT_EQ(batch, nullptr) << "a sixth batch must wait";
    }
  }
  accumulator_->on_complete(*sent.front());
  EXPECT_NE(drain_one(kP0), nullptr);
}

TEST_F(Accumulator, RetriedBatchKeepsItsSequenceAndGoesFirst) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto first = drain_one(kP0);  // sequence 0
  append(kP0, 10);
  auto second = drain_one(kP0);  // sequence 1
  append(kP0, 10);               // not sent yet
  accumulator_->seal_lingering(0, true);

  // Both fail (the second because the first did); they come back in sequence
  // order, whatever order their answers arrived in.
  accumulator_->requeue(std::move(second), 50);
  accumulator_->requeue(std::move(first), 50);
  EXPECT_EQ(drain_one(kP0, 49), nullptr) << "backoff not over";
  auto retry = drain_one(kP0, 50);
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ(retry->base_sequence, 0);
  EXPECT_EQ(retry->attempts, 2);
  // The next retry waits until the first one is answered.
  EXPECT_EQ(drain_one(kP0, 50), nullptr);
  accumulator_->on_complete(*retry);
  auto retry2 = drain_one(kP0, 50);
  EXPECT_EQ(retry2->base_sequence, 1);
  accumulator_->on_complete(*retry2);
  auto fresh = drain_one(kP0, 50);
  EXPECT_EQ(fresh->base_sequence, 2);
}

TEST_F(Accumulator, RetryWaitsForEveryBatchInFlight) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto first = drain_one(kP0);
  append(kP0, 10);
  auto second = drain_one(kP0);
  accumulator_->requeue(std::move(first), 0);
  EXPECT_EQ(drain_one(kP0, 100), nullptr) << "sequence 1 still in flight";
  EXPECT_FALSE(accumulator_->seal_lingering(100, false).has_value());
  accumulator_->on_complete(*second);
  EXPECT_NE(drain_one(kP0, 100), nullptr);
}

TEST_F(Accumulator, WhileACountIsPublishedOnlyRecordsThatWaitedForItAreAppended) {
  make(options(10'000, 0));
  accumulator_->set_partition_count("new", 1);
  std::string value = "v";
  RecordView view{.value = value};
  SendCallback callback = [](const Result<RecordMetadata>&) {};
  EXPECT_EQ(accumulator_->try_append("new", std::nullopt, view, 40, callback),
            RecordAccumulator::Appended::kUnknownTopic)
      << "a send() must not overtake the records that waited";
  EXPECT_TRUE(callback) << "not appended: the callback stays with the caller";
  uint64_t waited = accumulator_->reserve_id();
  EXPECT_NE(accumulator_->append("new", std::nullopt, view, 40, {}, waited),
            RecordAccumulator::Appended::kUnknownTopic);
  accumulator_->end_publication();
  EXPECT_EQ(accumulator_->try_append("new", std::nullopt, view, 40, callback),
            RecordAccumulator::Appended::kToOpenBatch);
}

TEST_F(Accumulator, ARetryWhosePartitionHasANewLeaderSkipsItsBackoff) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto batch = drain_one(kP0);
  ASSERT_NE(batch, nullptr);
  batch->sent_to = 1;
  accumulator_->requeue(std::move(batch), 1'000);
  // The metadata still names broker 1: the backoff stands.
  accumulator_->expedite_retries(10, [](const TopicPartition&) { return 1; });
  EXPECT_EQ(drain_one(kP0, 10), nullptr);
  // Unknown leader: nothing to expedite to.
  accumulator_->expedite_retries(10, [](const TopicPartition&) { return -1; });
  EXPECT_EQ(drain_one(kP0, 10), nullptr);
  // Broker 2 leads now: the retry goes at once.
  accumulator_->expedite_retries(20, [](const TopicPartition&) { return 2; });
  auto retry = drain_one(kP0, 20);
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ(retry->attempts, 2);
}

TEST_F(Accumulator, OutOfOrderBehindAnEarlierFailureCountsAsRetriable) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto first = drain_one(kP0);
  append(kP0, 10);
  auto second = drain_one(kP0);
  EXPECT_TRUE(accumulator_->has_earlier_unacknowledged(kP0, 1)) << "sequence 0 in flight";
  EXPECT_FALSE(accumulator_->has_earlier_unacknowledged(kP0, 0));
  accumulator_->requeue(std::move(first), 0);
  EXPECT_TRUE(accumulator_->has_earlier_unacknowledged(kP0, 1)) << "sequence 0 queued for retry";
  accumulator_->on_complete(*second);
  auto retried = drain_one(kP0);
  accumulator_->on_complete(*retried);
  EXPECT_FALSE(accumulator_->has_earlier_unacknowledged(kP0, 1));
  EXPECT_FALSE(accumulator_->has_earlier_unacknowledged(kP1, 1));
}

TEST_F(Accumulator, ResetSequencesStartsAgainAtZeroAndHandsBackWhatWasSent) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto first = drain_one(kP0);
  append(kP0, 10);  // queued behind it, never sent
  accumulator_->requeue(std::move(first), 0);
  // The retry may be stored under the old id: handed back to be failed,
  // not sent again under the new one (which would store it twice).
  auto sent_before = accumulator_->reset_sequences();
  ASSERT_EQ(sent_before.size(), 1u);
  EXPECT_EQ(sent_before.front()->attempts, 1);
  EXPECT_EQ(accumulator_->next_sequence(kP0), 0);
  auto again = drain_one(kP0);
  EXPECT_EQ(again->attempts, 1) << "the batch never sent, now sent first";
  EXPECT_EQ(again->base_sequence, 0);
  EXPECT_EQ(accumulator_->next_sequence(kP0), 1);
}

TEST_F(Accumulator, ExpiresOnlyBatchesCreatedBeforeTheDeadline) {
  make(options(10'000, 1000));
  append(kP0, 10, 0);
  append(kP1, 10, 500);
  auto expired = accumulator_->expire_created_before(100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired.front()->partition, kP0);
  EXPECT_EQ(accumulator_->queued_batches(), 1u);
}

TEST_F(Accumulator, CallbacksGetConsecutiveOffsetsOrTheError) {
  make(options(10'000, 0));
  std::vector<Result<RecordMetadata>> results;
  append(kP1, 10, 0, nullptr);
  for (int i = 0; i < 3; ++i) append(kP1, 10, 0, &results);
  auto batch = drain_one(kP1);
  batch->complete(Status::ok(), 40, -1);
  ASSERT_EQ(results.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(results[i].is_ok());
    EXPECT_EQ(results[i]->offset, 41 + i) << "the first record had no callback";
    EXPECT_EQ(results[i]->partition, 1);
  }
  append(kP1, 10, 0, &results);
  results.clear();
  drain_one(kP1)->complete(Status(ErrorCode::kMessageTooLarge, "big"), -1, -1);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].code(), ErrorCode::kMessageTooLarge);
}

TEST_F(Accumulator, FlushIdsCoverBatchesAndWaitingRecords) {
  make(options(10'000, 0));
  append(kP0, 10);
  auto batch = drain_one(kP0);
  uint64_t waiting = accumulator_->reserve_id();
  uint64_t flush_start = accumulator_->next_id();
  EXPECT_EQ(accumulator_->oldest_incomplete(), batch->id);
  accumulator_->release_id(batch->id);
  EXPECT_EQ(accumulator_->oldest_incomplete(), waiting);
  // The waiting record lands in a batch opened after the flush began: the
  // batch takes its older id, so the flush still waits for it.
  std::string value = "v";
  RecordView view{.value = value};
  accumulator_->append("t", 1, view, 40, {}, waiting);
  EXPECT_LT(accumulator_->oldest_incomplete(), flush_start);
  auto landed = drain_one(kP1);
  EXPECT_EQ(landed->id, waiting);
  accumulator_->release_id(landed->id);
  EXPECT_EQ(accumulator_->oldest_incomplete(), accumulator_->next_id());
}

TEST_F(Accumulator, ConcurrentAppendsLoseNoRecord) {
  make(options(2'000, 0));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5'000;
  std::atomic<int> acknowledged{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::string value(20, 'x');
      for (int i = 0; i < kPerThread; ++i) {
        RecordView view{.value = value};
        accumulator_->append("t", std::nullopt, view, estimate_record_size(view),
                             [&](const Result<RecordMetadata>&) { ++acknowledged; });
      }
      ++finished;
    });
  }
  int records = 0;
  auto take = [&](bool flushing) -> size_t {
    accumulator_->seal_lingering(0, flushing);
    auto batches = accumulator_->drain(0, [](const TopicPartition&) { return true; });
    for (auto& batch : batches) {
      EXPECT_TRUE(verify_batch(batch->encode({}, Compression::kNone)->bytes()).is_ok());
      records += batch->record_count;
      batch->complete(Status::ok(), 0, -1);
      accumulator_->on_complete(*batch);
    }
    return batches.size();
  };
  // Batches are sealed and taken while the threads append.
  while (finished.load() < kThreads) take(false);
  for (auto& thread : threads) thread.join();
  while (take(true) > 0) {
  }
  EXPECT_EQ(records, kThreads * kPerThread);
  EXPECT_EQ(acknowledged.load(), kThreads * kPerThread);
}

}  // namespace
}  // namespace mq::client
