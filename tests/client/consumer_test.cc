// End-to-end tests of the consumer against the fake broker: produced records
// come back in order, seeks (offset, timestamp, ends) and offset resets.
#include "client/consumer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "client/producer.h"
#include "tests/client/fake_broker.h"
#include "transport/list_offsets.h"

namespace mq::client {
namespace {

using testing::FakeBroker;

class ConsumerEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string(); }

  // Sends `count` records "<first + i>" and waits for all of them.
  void produce(const std::string& topic, int first, int count, ProducerConfig c = {},
               std::optional<int32_t> partition = std::nullopt,
               std::optional<int64_t> timestamp_base = std::nullopt) {
    c.bootstrap_servers = broker_.bootstrap();
    Result<std::unique_ptr<Producer>> producer = Producer::create(c);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::vector<std::future<Result<RecordMetadata>>> futures;
    for (int i = first; i < first + count; ++i) {
      ProducerRecord record{.topic = topic,
                            .key = "key-" + std::to_string(i % 7),
                            .value = std::to_string(i),
                            .headers = {{"h", std::to_string(i)}, {"null", std::nullopt}},
                            .partition = partition};
      if (timestamp_base) record.timestamp_ms = *timestamp_base + i;
      futures.push_back((*producer)->send(std::move(record)));
    }
    for (auto& f : futures) ASSERT_TRUE(f.get().is_ok());
  }

  std::unique_ptr<Consumer> consumer(OffsetReset reset = OffsetReset::kEarliest,
                                     int max_poll_records = 500) {
    Result<std::unique_ptr<Consumer>> consumer =
        Consumer::create(ConsumerConfig{.bootstrap_servers = broker_.bootstrap(),
                                        .auto_offset_reset = reset,
                                        .fetch_max_wait_ms = 50,
                                        .max_poll_records = max_poll_records,
                                        .request_timeout_ms = 5'000});
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    return consumer.is_ok() ? std::move(consumer).value() : nullptr;
  }

  // Polls until `count` records arrived or 10 s passed.
  std::vector<ConsumerRecord> consume(Consumer& consumer, size_t count) {
    std::vector<ConsumerRecord> all;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
      Result<std::vector<ConsumerRecord>> records = consumer.poll(100);
      EXPECT_TRUE(records.is_ok()) << records.status().to_string();
      if (!records.is_ok()) break;
      for (auto& r : *records) all.push_back(std::move(r));
    }
    return all;
  }

  FakeBroker broker_;
};

void expect_in_order_per_partition(const std::vector<ConsumerRecord>& records) {
  std::map<int32_t, int64_t> next;
  for (const ConsumerRecord& r : records) {
    auto [it, inserted] = next.try_emplace(r.partition, r.offset);
    EXPECT_EQ(r.offset, it->second) << "partition " << r.partition;
    it->second = r.offset + 1;
  }
}

TEST_F(ConsumerEndToEnd, ConsumesEverythingProducedWithAcksAllInOrder) {
  ASSERT_TRUE(broker_.create_topic("t", 3).is_ok());
  produce("t", 0, 600);
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}, {"t", 1}, {"t", 2}}).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 600);
  ASSERT_EQ(records.size(), 600u);
  expect_in_order_per_partition(records);
  std::map<std::string, int> seen;
  for (const ConsumerRecord& r : records) {
    ++seen[*r.value];
    EXPECT_EQ(r.key, "key-" + std::to_string(std::stoi(*r.value) % 7));
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[0], (Header{"h", *r.value}));
    EXPECT_EQ(r.headers[1], (Header{"null", std::nullopt}));
    EXPECT_EQ(r.topic, "t");
  }
  EXPECT_EQ(seen.size(), 600u);
}

TEST_F(ConsumerEndToEnd, ConsumesRecordsProducedWithAcksLeaderAndCompression) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 100, ProducerConfig{.acks = 1, .compression = Compression::kLz4});
  produce("t", 100, 100, ProducerConfig{.acks = 1, .compression = Compression::kZstd});
  auto c = consumer(OffsetReset::kEarliest, 64);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 200);
  ASSERT_EQ(records.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(records[i].offset, i);
    EXPECT_EQ(records[i].value, std::to_string(i));
  }
  Result<int64_t> position = c->position({"t", 0});
  ASSERT_TRUE(position.is_ok());
  EXPECT_EQ(*position, 200);
}

TEST_F(ConsumerEndToEnd, NextFetchIsInFlightWhileTheApplicationHandlesRecords) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 10);
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 10);
  ASSERT_EQ(records.size(), 10u);
  // No poll() from here on: the fetch for offset 10 must already be on its way.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (broker_.fetch_requests() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int fetches = broker_.fetch_requests();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // and no more for a while
  EXPECT_GE(fetches, 2) << "the fetch that brought the records, and the next one";
  EXPECT_EQ(broker_.fetch_requests(), fetches) << "one fetch in flight, not a stream of them";
}

TEST_F(ConsumerEndToEnd, PollReturnsAtMostMaxPollRecords) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 50);
  auto c = consumer(OffsetReset::kEarliest, 7);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  size_t total = 0;
  while (total < 50 && std::chrono::steady_clock::now() < deadline) {
    Result<std::vector<ConsumerRecord>> records = c->poll(100);
    ASSERT_TRUE(records.is_ok());
    EXPECT_LE(records->size(), 7u);
    total += records->size();
  }
  EXPECT_EQ(total, 50u);
}

TEST_F(ConsumerEndToEnd, SeekInsideABatchSkipsTheRecordsBeforeIt) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  // One batch of 10: a long linger and a flush put them together.
  produce("t", 0, 10, ProducerConfig{.linger_ms = 1'000});
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(c->seek({"t", 0}, 6).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 4);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records.front().offset, 6);
  EXPECT_EQ(records.front().value, "6");
  EXPECT_EQ(records.back().offset, 9);
}

TEST_F(ConsumerEndToEnd, SeeksBackAfterReading) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 30);
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_EQ(consume(*c, 30).size(), 30u);
  ASSERT_TRUE(c->seek({"t", 0}, 3).is_ok());
  EXPECT_EQ(*c->position({"t", 0}), 3);
  std::vector<ConsumerRecord> again = consume(*c, 27);
  ASSERT_EQ(again.size(), 27u);
  EXPECT_EQ(again.front().offset, 3);
}

TEST_F(ConsumerEndToEnd, SeeksByTimestamp) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  const int64_t base = 1'700'000'000'000;
  produce("t", 0, 20, ProducerConfig{}, 0, base);  // record i has timestamp base + i
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(c->seek_to_timestamp({"t", 0}, base + 12).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 8);
  ASSERT_EQ(records.size(), 8u);
  EXPECT_EQ(records.front().offset, 12);
  EXPECT_EQ(records.front().timestamp_ms, base + 12);
  // Later than every record: the end of the partition.
  ASSERT_TRUE(c->seek_to_timestamp({"t", 0}, base + 1'000'000).is_ok());
  EXPECT_EQ(*c->position({"t", 0}), 20);
  EXPECT_EQ(*c->offset_for({"t", 0}, base + 5), 5);
}

TEST_F(ConsumerEndToEnd, SeekToBeginningAndEnd) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 10);
  auto c = consumer(OffsetReset::kLatest);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(c->seek_to_beginning().is_ok());
  EXPECT_EQ(*c->position({"t", 0}), 0);
  ASSERT_TRUE(c->seek_to_end().is_ok());
  EXPECT_EQ(*c->position({"t", 0}), 10);
}

TEST_F(ConsumerEndToEnd, LatestResetSeesOnlyNewRecords) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 10);
  auto c = consumer(OffsetReset::kLatest);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  EXPECT_EQ(*c->position({"t", 0}), 10);
  Result<std::vector<ConsumerRecord>> none = c->poll(100);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  produce("t", 10, 5);
  std::vector<ConsumerRecord> records = consume(*c, 5);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records.front().offset, 10);
}

TEST_F(ConsumerEndToEnd, OutOfRangePositionResetsToEarliest) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 10);
  auto c = consumer(OffsetReset::kEarliest);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(c->seek({"t", 0}, 1'000).is_ok());
  std::vector<ConsumerRecord> records = consume(*c, 10);
  ASSERT_EQ(records.size(), 10u);
  EXPECT_EQ(records.front().offset, 0);
}

TEST_F(ConsumerEndToEnd, OutOfRangeWithResetNoneIsAnError) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  produce("t", 0, 10);
  auto c = consumer(OffsetReset::kNone);
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  EXPECT_EQ(c->position({"t", 0}).code(), ErrorCode::kOffsetOutOfRange) << "no position yet";
  ASSERT_TRUE(c->seek({"t", 0}, 1'000).is_ok());
  Result<std::vector<ConsumerRecord>> records = c->poll(2'000);
  EXPECT_EQ(records.code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_NE(records.status().message().find("t-0"), std::string::npos);
  ASSERT_TRUE(c->seek({"t", 0}, 4).is_ok());
  EXPECT_EQ(consume(*c, 6).size(), 6u);
}

TEST_F(ConsumerEndToEnd, UnknownTopicIsReported) {
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"missing", 0}}).is_ok());
  Result<std::vector<ConsumerRecord>> records = c->poll(500);
  EXPECT_EQ(records.code(), ErrorCode::kUnknownTopicOrPartition);
}

TEST(ConsumerAssign, RefusesAnUnnamedPartition) {
  Result<std::unique_ptr<Consumer>> consumer =
      Consumer::create(ConsumerConfig{.bootstrap_servers = "127.0.0.1:1"});
  ASSERT_TRUE(consumer.is_ok());
  EXPECT_EQ((*consumer)->assign({{"", 0}}).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ((*consumer)->seek({"t", 0}, 1).code(), ErrorCode::kInvalidRequest) << "not assigned";
}

}  // namespace
}  // namespace mq::client
