// End-to-end tests of the producer against the fake broker over tcp://127.0.0.1.
#include "client/producer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "client/partitioner.h"
#include "tests/client/fake_broker.h"

namespace mq::client {
namespace {

using testing::FakeBroker;

class ProducerEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string(); }

  ProducerConfig config() {
    return ProducerConfig{.bootstrap_servers = broker_.bootstrap(),
                          .linger_ms = 1,
                          .max_block_ms = 5'000,
                          .request_timeout_ms = 5'000,
                          .delivery_timeout_ms = 20'000};
  }
  // acks=0: nothing is answered, so no idempotence either.
  ProducerConfig acks_none_config() {
    ProducerConfig c = config();
    c.acks = 0;
    c.enable_idempotence = false;
    return c;
  }
  // Nothing answers acks=0: true once the broker has appended `count` records.
  bool appended(const std::string& topic, int64_t count) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (broker_.log_end_offset(topic, 0) < count &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return broker_.log_end_offset(topic, 0) == count;
  }
  std::unique_ptr<Producer> make(const ProducerConfig& c) {
    Result<std::unique_ptr<Producer>> producer = Producer::create(c);
    EXPECT_TRUE(producer.is_ok()) << producer.status().to_string();
    return producer.is_ok() ? std::move(producer).value() : nullptr;
  }

  FakeBroker broker_;
};

TEST_F(ProducerEndToEnd, AcksAllReturnsDenseOffsetsInSendOrder) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  auto producer = make(config());
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 300; ++i) {
    futures.push_back(producer->send(ProducerRecord{.topic = "t", .value = std::to_string(i)}));
  }
  for (int i = 0; i < 300; ++i) {
    Result<RecordMetadata> result = futures[i].get();
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(result->offset, i);
    EXPECT_EQ(result->partition, 0);
  }
  auto values = broker_.values("t", 0);
  ASSERT_EQ(values.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(values[i].second, std::to_string(i));
}

TEST_F(ProducerEndToEnd, AcksLeaderAndSyncSend) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.acks = 1;
  auto producer = make(c);
  for (int i = 0; i < 20; ++i) {
    Result<RecordMetadata> result =
        producer->send_sync(ProducerRecord{.topic = "t", .key = "k", .value = "v"});
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(result->offset, i);
  }
  EXPECT_EQ(broker_.log_end_offset("t", 0), 20);
}

TEST_F(ProducerEndToEnd, AcksNoneDeliversWithoutOffsets) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  auto producer = make(acks_none_config());
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 50; ++i) futures.push_back(producer->send(ProducerRecord{.topic = "t"}));
  for (auto& f : futures) {
    Result<RecordMetadata> result = f.get();
    ASSERT_TRUE(result.is_ok());
    EXPECT_EQ(result->offset, -1);
  }
  EXPECT_TRUE(appended("t", 50)) << broker_.log_end_offset("t", 0);
}

TEST_F(ProducerEndToEnd, OnewayRecordsAreDeliveredAndNeverReported) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  auto producer = make(acks_none_config());
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(producer->send_oneway(ProducerRecord{.topic = "t", .value = "v"}).is_ok());
    std::string value = "w" + std::to_string(i);
    ASSERT_TRUE(
        producer->send_oneway_view(ProducerRecordView{.topic = "t", .value = value}).is_ok());
  }
  // Closing delivers what is queued (the connections linger for acks=0).
  ASSERT_TRUE(producer->close(10'000).is_ok());
  EXPECT_TRUE(appended("t", 60)) << broker_.log_end_offset("t", 0);
  EXPECT_EQ(producer->stats().records_failed, 0u);
  // Queueing errors are still returned.
  EXPECT_FALSE(producer->send_oneway(ProducerRecord{.topic = "t"}).is_ok()) << "closed";
}

TEST_F(ProducerEndToEnd, KeysLandOnTheirMurmur2Partition) {
  ASSERT_TRUE(broker_.create_topic("t", 4).is_ok());
  auto producer = make(config());
  for (int i = 0; i < 40; ++i) {
    std::string key = "user-" + std::to_string(i % 10);
    Result<RecordMetadata> result =
        producer->send(ProducerRecord{.topic = "t", .key = key, .value = key}).get();
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(result->partition, partition_for_key(key, 4)) << key;
  }
  for (int32_t p = 0; p < 4; ++p) {
    for (const auto& [offset, value] : broker_.values("t", p)) {
      EXPECT_EQ(partition_for_key(value, 4), p);
    }
  }
}

TEST_F(ProducerEndToEnd, ExplicitPartitionIsUsed) {
  ASSERT_TRUE(broker_.create_topic("t", 3).is_ok());
  auto producer = make(config());
  Result<RecordMetadata> result =
      producer->send_sync(ProducerRecord{.topic = "t", .key = "k", .partition = 2});
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->partition, 2);
  EXPECT_EQ(broker_.log_end_offset("t", 2), 1);
}

TEST_F(ProducerEndToEnd, RetriedBatchWhoseResponseWasLostIsNotDuplicated) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.request_timeout_ms = 300;  // the lost response turns into a retry quickly
  auto producer = make(c);
  broker_.drop_produce_responses(1);
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 10; ++i) {
    futures.push_back(producer->send(ProducerRecord{.topic = "t", .value = std::to_string(i)}));
  }
  ASSERT_TRUE(producer->flush(10'000).is_ok());
  for (int i = 0; i < 10; ++i) {
    Result<RecordMetadata> result = futures[i].get();
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    EXPECT_EQ(result->offset, i) << "the retry is acknowledged with the original offsets";
  }
  EXPECT_GE(producer->stats().retries, 1u);
  EXPECT_GE(broker_.produce_requests(), 2);
  auto values = broker_.values("t", 0);
  ASSERT_EQ(values.size(), 10u) << "appended once, not twice";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(values[i].second, std::to_string(i));
}

TEST_F(ProducerEndToEnd, RefreshesMetadataAndRetriesOnNotLeader) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.retry_backoff_ms = 10;
  auto producer = make(c);
  ASSERT_TRUE(producer->send_sync(ProducerRecord{.topic = "t", .value = "a"}).is_ok());
  int metadata_before = broker_.metadata_requests();
  broker_.fail_produce_requests(2, ErrorCode::kNotLeader);
  Result<RecordMetadata> result = producer->send_sync(ProducerRecord{.topic = "t", .value = "b"});
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(result->offset, 1);
  EXPECT_GT(broker_.metadata_requests(), metadata_before);
  EXPECT_GE(producer->stats().retries, 2u);
}

TEST_F(ProducerEndToEnd, BatchesBehindAFailedFirstBatchAreRetriedNotFailed) {
  // The partition's first batch fails (NOT_LEADER) while later ones are in
  // flight: the leader has no state for the producer when they arrive and
  // answers UNKNOWN_PRODUCER_ID; they go back behind the first one.
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.batch_size_bytes = 64;  // a batch per record or two
  c.linger_ms = 0;
  c.retry_backoff_ms = 10;
  auto producer = make(c);
  broker_.fail_produce_requests(1, ErrorCode::kNotLeader);
  std::vector<std::future<Result<RecordMetadata>>> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back(producer->send(
        ProducerRecord{.topic = "t", .value = std::string(40, 'a') + std::to_string(i)}));
  }
  for (int i = 0; i < 20; ++i) {
    Result<RecordMetadata> result = sent[i].get();
    ASSERT_TRUE(result.is_ok()) << i << ": " << result.status().to_string();
    EXPECT_EQ(result->offset, i) << "in send order, once";
  }
  EXPECT_GE(producer->stats().retries, 1u);
}

TEST_F(ProducerEndToEnd, NonRetriableErrorFailsTheRecord) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  auto producer = make(config());
  broker_.fail_produce_requests(1, ErrorCode::kInvalidRecord);
  Result<RecordMetadata> result = producer->send_sync(ProducerRecord{.topic = "t", .value = "x"});
  EXPECT_EQ(result.code(), ErrorCode::kInvalidRecord);
  // The failed batch left a sequence gap: the producer takes a new id and goes on.
  Result<RecordMetadata> next = producer->send_sync(ProducerRecord{.topic = "t", .value = "y"});
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  EXPECT_EQ(next->offset, 0);
}

TEST_F(ProducerEndToEnd, ARecordRetriedUntilItsDeliveryTimeoutFailsWithTheCause) {
  // NOT_ENOUGH_REPLICAS is retriable (the ISR may grow back); when the
  // delivery timeout ends the retries, the user learns why, not just "timeout".
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.retry_backoff_ms = 20;
  c.retry_backoff_max_ms = 100;
  c.request_timeout_ms = 300;
  c.delivery_timeout_ms = 800;
  auto producer = make(c);
  ASSERT_NE(producer, nullptr);
  broker_.fail_produce_requests(1'000'000, ErrorCode::kNotEnoughReplicas);
  auto start = std::chrono::steady_clock::now();
  Result<RecordMetadata> result = producer->send_sync(ProducerRecord{.topic = "t", .value = "x"});
  EXPECT_EQ(result.code(), ErrorCode::kNotEnoughReplicas) << result.status().to_string();
  EXPECT_NE(result.status().message().find("delivery_timeout_ms"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // Backed off, not spinning: well under one attempt per millisecond.
  EXPECT_LT(producer->stats().retries, 100u) << producer->stats().retries;
}

TEST_F(ProducerEndToEnd, UnknownTopicFailsAfterMaxBlock) {
  ProducerConfig c = config();
  c.max_block_ms = 200;
  auto producer = make(c);
  auto start = std::chrono::steady_clock::now();
  Result<RecordMetadata> result = producer->send_sync(ProducerRecord{.topic = "missing"});
  EXPECT_EQ(result.code(), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(result.status().message().find("missing"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ProducerEndToEnd, SendFailsClearlyWhenBufferMemoryStaysFull) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.buffer_memory_bytes = 4096;
  c.max_request_size_bytes = 4096;
  c.batch_size_bytes = 1024;
  c.max_block_ms = 200;
  auto producer = make(c);
  broker_.drop_produce_responses(1'000'000);  // nothing is ever acknowledged
  Status status;
  int accepted = 0;
  for (; accepted < 100; ++accepted) {
    status = producer->send(ProducerRecord{.topic = "t", .value = std::string(200, 'x')}, {});
    if (!status.is_ok()) break;
  }
  EXPECT_LT(accepted, 100);
  EXPECT_EQ(status.code(), ErrorCode::kRequestTimedOut);
  EXPECT_NE(status.message().find("buffer_memory_bytes"), std::string::npos);
  EXPECT_EQ(producer->close(100).code(), ErrorCode::kRequestTimedOut);
}

TEST_F(ProducerEndToEnd, FlushSendsLingeringRecordsAtOnce) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  ProducerConfig c = config();
  c.linger_ms = 60'000;
  c.delivery_timeout_ms = 120'000;
  auto producer = make(c);
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 5; ++i) futures.push_back(producer->send(ProducerRecord{.topic = "t"}));
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(producer->flush(10'000).is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  for (auto& f : futures) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_TRUE(f.get().is_ok());
  }
}

TEST_F(ProducerEndToEnd, CloseDrainsAndThenRefusesSends) {
  ASSERT_TRUE(broker_.create_topic("t", 2).is_ok());
  ProducerConfig c = config();
  c.linger_ms = 50;
  auto producer = make(c);
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 100; ++i) {
    futures.push_back(producer->send(ProducerRecord{.topic = "t", .value = "v"}));
  }
  ASSERT_TRUE(producer->close(10'000).is_ok());
  for (auto& f : futures) EXPECT_TRUE(f.get().is_ok());
  EXPECT_EQ(broker_.log_end_offset("t", 0) + broker_.log_end_offset("t", 1), 100);
  EXPECT_EQ(producer->send_sync(ProducerRecord{.topic = "t"}).code(), ErrorCode::kInvalidRequest);
}

TEST_F(ProducerEndToEnd, KeylessRecordsFillBatchesOnOnePartition) {
  ASSERT_TRUE(broker_.create_topic("t", 4).is_ok());
  ProducerConfig c = config();
  c.linger_ms = 60'000;
  c.delivery_timeout_ms = 120'000;
  auto producer = make(c);
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(producer->send(ProducerRecord{.topic = "t"}));
  ASSERT_TRUE(producer->flush(10'000).is_ok());
  int32_t partition = futures[0].get()->partition;
  for (size_t i = 1; i < futures.size(); ++i) EXPECT_EQ(futures[i].get()->partition, partition);
}

TEST_F(ProducerEndToEnd, RejectsRecordsLargerThanTheRequestLimit) {
  auto producer = make(config());
  Status status =
      producer->send(ProducerRecord{.topic = "t", .value = std::string(2 << 20, 'x')}, {});
  EXPECT_EQ(status.code(), ErrorCode::kMessageTooLarge);
}

TEST(ProducerCreate, RefusesAnInvalidConfig) {
  EXPECT_EQ(Producer::create(ProducerConfig{.bootstrap_servers = "nohost"}).code(),
            ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace mq::client
