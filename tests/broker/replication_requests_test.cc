// The broker's replication paths over the wire: acks=all completion and its
// errors, follower fetches (positions, HW, hostile requests), consumers on a
// follower, OffsetForLeaderEpoch and FindMessages from the leader only.
#include <gtest/gtest.h>

#include "tests/broker/leader_node.h"
#include "tests/store/batches.h"
#include "transport/fetch.h"
#include "transport/find_messages.h"
#include "transport/produce.h"
#include "transport/replication.h"

namespace mq::broker {
namespace {

using namespace mq::transport;
constexpr int kTimeoutMs = 10000;

ProduceRequest produce_request(const std::string& topic, int16_t acks, int32_t timeout_ms,
                               int records = 1) {
  ProduceRequest req;
  req.acks = acks;
  req.timeout_ms = timeout_ms;
  auto& p = req.topics.emplace_back(ProduceRequest::Topic{.name = topic}).partitions.emplace_back();
  p.partition_index = 0;
  p.records = Frame(mq::testing::make_batch(records));
  return req;
}

FetchRequest fetch_request(const std::string& topic, int32_t replica_id, int64_t offset,
                           int32_t current_leader_epoch = -1) {
  FetchRequest req;
  req.replica_id = replica_id;
  req.max_wait_ms = 0;
  auto& p = req.topics.emplace_back(FetchRequest::Topic{.name = topic}).partitions.emplace_back();
  p.partition_index = 0;
  p.fetch_offset = offset;
  p.current_leader_epoch = current_leader_epoch;
  return req;
}

class ReplicationRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.start("t");
    partition_ = node_.partition("t");
    ASSERT_TRUE(partition_
                    ->become_leader({.leader_epoch = 3,
                                     .partition_epoch = 1,
                                     .replicas = {1, 2, 3},
                                     .isr = {1, 2},
                                     .local_broker_id = 1})
                    .is_ok());
    conn_ = node_.connect();
  }
  FetchResponse::Topic::Partition fetch(const FetchRequest& req) {
    auto resp = conn_->call(req, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok()) << resp.status().to_string();
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0) : FetchResponse::Topic::Partition{};
  }

  mq::testing::LeaderNode node_;
  std::shared_ptr<Partition> partition_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(ReplicationRequestsTest, AcksAllAnswersOnceTheFollowerFetchedPastTheBatch) {
  auto sent = conn_->send(produce_request("t", kAcksAll, kTimeoutMs, 3), 0);
  ASSERT_TRUE(sent.is_ok());
  // Not answered while follower 2 has not fetched (nothing is timed: the
  // wait below only proves there is no answer yet).
  EXPECT_EQ(conn_->receive_for(*sent, 200).code(), ErrorCode::kRequestTimedOut);
  EXPECT_EQ(partition_->log().log_end_offset(), 3) << "appended before waiting";
  auto second = node_.connect();
  // The follower fetches from 0 (has nothing), then from 3 (has it all).
  auto first_fetch = second->call(fetch_request("t", 2, 0), kTimeoutMs);
  ASSERT_TRUE(first_fetch.is_ok());
  EXPECT_FALSE(first_fetch->topics[0].partitions[0].records.empty());
  EXPECT_EQ(first_fetch->topics[0].partitions[0].high_watermark, 0);
  auto caught_up = second->call(fetch_request("t", 2, 3), kTimeoutMs);
  ASSERT_TRUE(caught_up.is_ok());
  EXPECT_EQ(caught_up->topics[0].partitions[0].high_watermark, 3) << "the HW moved with it";
  auto answered = conn_->receive_for(*sent, kTimeoutMs);
  ASSERT_TRUE(answered.is_ok()) << answered.status().to_string();
  auto response = decode_response<ProduceResponse>(*answered);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->topics[0].partitions[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(response->topics[0].partitions[0].base_offset, 0);
}

TEST_F(ReplicationRequestsTest, AcksAllTimesOutWhenTheIsrDoesNotCatchUp) {
  auto resp = conn_->call(produce_request("t", kAcksAll, 50), kTimeoutMs);
  ASSERT_TRUE(resp.is_ok());
  const auto& p = resp->topics[0].partitions[0];
  EXPECT_EQ(p.error_code, ErrorCode::kRequestTimedOut);
  EXPECT_EQ(p.base_offset, -1);
  EXPECT_NE(p.error_message.value_or("").find("not replicated"), std::string::npos);
  auto leader_only = conn_->call(produce_request("t", kAcksLeader, 50), kTimeoutMs);
  ASSERT_TRUE(leader_only.is_ok());
  EXPECT_EQ(leader_only->topics[0].partitions[0].error_code, ErrorCode::kNone)
      << "acks=1 answers after the local append";
  EXPECT_EQ(leader_only->topics[0].partitions[0].base_offset, 1);
}

TEST_F(ReplicationRequestsTest, AcksAllRefusedBelowMinInsyncReplicas) {
  partition_->set_min_insync_replicas(3);
  auto resp = conn_->call(produce_request("t", kAcksAll, kTimeoutMs), kTimeoutMs);
  ASSERT_TRUE(resp.is_ok());
  EXPECT_EQ(resp->topics[0].partitions[0].error_code, ErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(partition_->log().log_end_offset(), 0);
}

TEST_F(ReplicationRequestsTest, AcksAllFailsWithNotLeaderWhenLeadershipMoves) {
  auto sent = conn_->send(produce_request("t", kAcksAll, kTimeoutMs), 0);
  ASSERT_TRUE(sent.is_ok());
  EXPECT_EQ(conn_->receive_for(*sent, 200).code(), ErrorCode::kRequestTimedOut);
  ASSERT_TRUE(partition_->become_follower({.leader_epoch = 4, .partition_epoch = 2, .leader_id = 2})
                  .is_ok());
  auto answered = conn_->receive_for(*sent, kTimeoutMs);
  ASSERT_TRUE(answered.is_ok());
  auto response = decode_response<ProduceResponse>(*answered);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->topics[0].partitions[0].error_code, ErrorCode::kNotLeader);
  // A follower refuses producers and consumers.
  auto again = conn_->call(produce_request("t", kAcksLeader, kTimeoutMs), kTimeoutMs);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again->topics[0].partitions[0].error_code, ErrorCode::kNotLeader);
  EXPECT_EQ(fetch(fetch_request("t", kConsumerReplicaId, 0)).error_code, ErrorCode::kNotLeader);
}

TEST_F(ReplicationRequestsTest, ConsumersReadUpToTheHighWatermarkFollowersToTheEnd) {
  ASSERT_TRUE(conn_->call(produce_request("t", kAcksLeader, kTimeoutMs, 4), kTimeoutMs).is_ok());
  auto consumer = fetch(fetch_request("t", kConsumerReplicaId, 0));
  EXPECT_EQ(consumer.error_code, ErrorCode::kNone);
  EXPECT_TRUE(consumer.records.empty()) << "nothing is committed yet";
  EXPECT_EQ(consumer.high_watermark, 0);
  EXPECT_EQ(consumer.log_end_offset, 4);
  auto follower = fetch(fetch_request("t", 2, 0, 3));
  EXPECT_EQ(follower.error_code, ErrorCode::kNone);
  EXPECT_EQ(follower.records.as_string_view(), mq::testing::log_bytes(partition_->log()));
  ASSERT_EQ(fetch(fetch_request("t", 2, 4, 3)).high_watermark, 4);
  EXPECT_FALSE(fetch(fetch_request("t", kConsumerReplicaId, 0)).records.empty());
}

TEST_F(ReplicationRequestsTest, HostileReplicaFetchesGetClearErrors) {
  ASSERT_TRUE(conn_->call(produce_request("t", kAcksLeader, kTimeoutMs, 2), kTimeoutMs).is_ok());
  EXPECT_EQ(fetch(fetch_request("t", 7, 0)).error_code, ErrorCode::kReplicaNotAvailable)
      << "not a replica";
  EXPECT_EQ(fetch(fetch_request("t", 1, 0)).error_code, ErrorCode::kReplicaNotAvailable)
      << "the leader itself";
  EXPECT_EQ(fetch(fetch_request("t", 2, 0, 2)).error_code, ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(fetch(fetch_request("t", 2, 0, 9)).error_code, ErrorCode::kUnknownLeaderEpoch);
  auto beyond = fetch(fetch_request("t", 2, 99, 3));
  EXPECT_EQ(beyond.error_code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(beyond.log_end_offset, 2) << "the answer tells where the log ends";
  EXPECT_EQ(fetch(fetch_request("t", 2, -1, 3)).error_code, ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(partition_->high_watermark(), 0) << "no rejected fetch moved the HW";
  auto missing = fetch(fetch_request("nope", 2, 0));
  EXPECT_EQ(missing.error_code, ErrorCode::kUnknownTopicOrPartition);
  // A replica id that is neither -1 nor a broker id fails the whole request.
  auto bad = conn_->call(fetch_request("t", -7, 0), kTimeoutMs);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.status().message().find("replica_id -7"), std::string::npos);
}

TEST_F(ReplicationRequestsTest, OffsetForLeaderEpochIsAnsweredByTheLeaderOnly) {
  ASSERT_TRUE(conn_->call(produce_request("t", kAcksLeader, kTimeoutMs, 2), kTimeoutMs).is_ok());
  auto ask = [&](int32_t current, int32_t epoch) {
    OffsetForLeaderEpochRequest req;
    req.replica_id = 2;
    req.topics.push_back({.name = "t", .partitions = {{0, current, epoch}}});
    auto resp = conn_->call(req, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok());
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0)
                        : OffsetForLeaderEpochResponse::Topic::Partition{};
  };
  // The log was empty when epoch 3 began there: it knows no older epoch, so
  // an older one ends where its history starts, and a follower holding
  // records of epoch 0 drops them all.
  auto old = ask(3, 0);
  EXPECT_EQ(old.error_code, ErrorCode::kNone);
  EXPECT_EQ(old.leader_epoch, 0);
  EXPECT_EQ(old.end_offset, 0);
  auto undefined = ask(3, -1);
  EXPECT_EQ(undefined.error_code, ErrorCode::kNone);
  EXPECT_EQ(undefined.leader_epoch, -1);
  EXPECT_EQ(undefined.end_offset, -1);
  auto current = ask(3, 3);
  EXPECT_EQ(current.leader_epoch, 3);
  EXPECT_EQ(current.end_offset, 2) << "a follower learns the log end, not the HW";
  EXPECT_EQ(ask(2, 3).error_code, ErrorCode::kFencedLeaderEpoch);
  ASSERT_TRUE(partition_->become_follower({.leader_epoch = 4, .partition_epoch = 2, .leader_id = 2})
                  .is_ok());
  EXPECT_EQ(ask(4, 3).error_code, ErrorCode::kNotLeader);
}

// The (offset, value) of each record of a FindMessages records frame, which
// holds one uncompressed batch per record.
std::vector<std::pair<int64_t, std::string>> found_records(const Frame& records) {
  std::vector<std::pair<int64_t, std::string>> out;
  RecordBatchReader reader;
  std::vector<Record> decoded;
  BatchCursor cursor(records.bytes());
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> header = verify_batch(batch);
    EXPECT_TRUE(header.is_ok()) << header.status().to_string();
    if (!header.is_ok()) break;
    EXPECT_EQ(header->record_count, 1);
    EXPECT_EQ(header->compression(), Compression::kNone);
    EXPECT_TRUE(reader.decode(batch, &decoded).is_ok());
    for (const Record& r : decoded) out.emplace_back(r.offset, std::string(r.value.value_or("")));
  }
  return out;
}

TEST_F(ReplicationRequestsTest, FindMessagesSearchesCommittedRecordsOnTheLeaderOnly) {
  ProduceRequest produce = produce_request("t", kAcksLeader, kTimeoutMs);
  produce.topics[0].partitions[0].records = Frame(mq::testing::make_keyed_batch(
      {{"k", "a"}, {"x", "b"}, {"k", "c"}, {"kk", "d"}}, {.codec = Compression::kLz4}));
  ASSERT_TRUE(conn_->call(produce, kTimeoutMs).is_ok());
  auto find = [&](int32_t max_messages, int32_t current_leader_epoch = -1,
                  const std::string& topic = "t") {
    FindMessagesRequest req{.key = {'k'}, .max_messages = max_messages};
    req.topics.push_back(
        {.name = topic,
         .partitions = {{.partition_index = 0, .current_leader_epoch = current_leader_epoch}}});
    auto resp = conn_->call(req, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok()) << resp.status().to_string();
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0)
                        : FindMessagesResponse::Topic::Partition{};
  };
  auto uncommitted = find(10);
  EXPECT_EQ(uncommitted.error_code, ErrorCode::kNone);
  EXPECT_EQ(uncommitted.high_watermark, 0);
  EXPECT_TRUE(uncommitted.records.empty()) << "nothing is committed yet";

  ASSERT_EQ(fetch(fetch_request("t", 2, 0, 3)).error_code, ErrorCode::kNone);
  ASSERT_EQ(fetch(fetch_request("t", 2, 4, 3)).high_watermark, 4);
  auto all = find(10, 3);
  EXPECT_EQ(all.error_code, ErrorCode::kNone);
  EXPECT_EQ(all.high_watermark, 4);
  EXPECT_FALSE(all.more);
  EXPECT_GE(all.candidates, 2);
  using Found = std::vector<std::pair<int64_t, std::string>>;
  EXPECT_EQ(found_records(all.records), (Found{{0, "a"}, {2, "c"}}));
  auto latest = find(1);
  EXPECT_TRUE(latest.more);
  EXPECT_EQ(found_records(latest.records), (Found{{2, "c"}}));

  EXPECT_EQ(find(10, 2).error_code, ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(find(10, 9).error_code, ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(find(10, -1, "nope").error_code, ErrorCode::kUnknownTopicOrPartition);
  for (int32_t bad : {0, -1, 10001}) {
    FindMessagesRequest req{.key = {'k'}, .max_messages = bad};
    req.topics.push_back({.name = "t", .partitions = {{.partition_index = 0}}});
    auto refused = conn_->call(req, kTimeoutMs);
    ASSERT_FALSE(refused.is_ok()) << bad;
    EXPECT_EQ(refused.code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(refused.status().message().find("max_messages"), std::string::npos);
  }

  ASSERT_TRUE(partition_->become_follower({.leader_epoch = 4, .partition_epoch = 2, .leader_id = 2})
                  .is_ok());
  EXPECT_EQ(find(10).error_code, ErrorCode::kNotLeader);
}

}  // namespace
}  // namespace mq::broker
