// Round trips of the Produce messages, and the zero-copy path of their batches.
#include "transport/produce.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

ProduceRequest two_partition_request() {
  ProduceRequest request{.acks = kAcksAll, .timeout_ms = 1500};
  ProduceRequest::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 0, .records = Frame(std::string(200, 'a'))});
  topic.partitions.push_back({.partition_index = 3, .records = Frame(std::string(5000, 'b'))});
  request.topics.push_back(std::move(topic));
  return request;
}

TEST(ProduceTest, RequestRoundTrips) {
  expect_request_round_trip(two_partition_request());
}

TEST(ProduceTest, EachPartitionsBatchesTravelInTheirOwnRecordFrame) {
  ProduceRequest request = two_partition_request();
  Result<Frames> frames = encode_request(request, RequestHeader{});
  ASSERT_TRUE(frames.is_ok());
  // [header][body][partition 0 records][partition 3 records]
  ASSERT_EQ(frames->size(), 4u);
  EXPECT_EQ((*frames)[2].size(), 200u);
  EXPECT_EQ((*frames)[3].size(), 5000u);
  // The encoder shares the batch bytes rather than copying them.
  EXPECT_EQ((*frames)[3].data(), request.topics[0].partitions[1].records.data());
}

TEST(ProduceTest, DecodedRecordsViewTheReceivedFrameWithoutCopying) {
  Result<Frames> frames = encode_request(two_partition_request(), RequestHeader{});
  ASSERT_TRUE(frames.is_ok());
  Result<InboundRequest> inbound = parse_request(*frames);
  ASSERT_TRUE(inbound.is_ok());
  Result<ProduceRequest> decoded = decode_request<ProduceRequest>(*inbound);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->topics[0].partitions[1].records.data(), (*frames)[3].data());
}

TEST(ProduceTest, RequestWithAFrameMissingIsRejected) {
  Result<Frames> frames = encode_request(two_partition_request(), RequestHeader{});
  ASSERT_TRUE(frames.is_ok());
  frames->pop_back();
  Result<InboundRequest> inbound = parse_request(*frames);
  ASSERT_TRUE(inbound.is_ok());
  Result<ProduceRequest> decoded = decode_request<ProduceRequest>(*inbound);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(decoded.status().message().find("record frame"), std::string::npos)
      << decoded.status().message();
}

TEST(ProduceTest, RequestWithAnExtraFrameIsRejected) {
  Result<Frames> frames = encode_request(two_partition_request(), RequestHeader{});
  ASSERT_TRUE(frames.is_ok());
  frames->push_back(Frame(std::string("stray")));
  Result<InboundRequest> inbound = parse_request(*frames);
  ASSERT_TRUE(inbound.is_ok());
  EXPECT_EQ(decode_request<ProduceRequest>(*inbound).code(), ErrorCode::kInvalidRequest);
}

TEST(ProduceTest, ResponseRoundTrips) {
  ProduceResponse response;
  ProduceResponse::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 0, .base_offset = 1200, .log_start_offset = 0});
  topic.partitions.push_back({.partition_index = 3,
                              .error_code = ErrorCode::kNotLeader,
                              .error_message = "leader is node 2"});
  response.topics.push_back(topic);
  ProduceResponse decoded = expect_response_round_trip(response);
  EXPECT_EQ(decoded.topics[0].partitions[1].error_code, ErrorCode::kNotLeader);
}

TEST(ProduceTest, V1NamesTheCurrentLeaderAndV0LeavesItOut) {
  ProduceResponse response;
  ProduceResponse::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 3,
                              .error_code = ErrorCode::kNotLeader,
                              .current_leader_id = 2,
                              .current_leader_epoch = 7});
  response.topics.push_back(topic);
  ProduceResponse v1 = expect_response_round_trip(response, 1);
  EXPECT_EQ(v1.topics[0].partitions[0].current_leader_id, 2);
  EXPECT_EQ(v1.topics[0].partitions[0].current_leader_epoch, 7);

  // v0 has no such fields: 8 bytes fewer, and a v0 reader sees -1.
  RequestHeader h0{.api_key = ApiKey::kProduce, .api_version = 0, .correlation_id = 1};
  RequestHeader h1{.api_key = ApiKey::kProduce, .api_version = 1, .correlation_id = 1};
  Result<Frames> f0 = encode_response(response, h0);
  Result<Frames> f1 = encode_response(response, h1);
  ASSERT_TRUE(f0.is_ok() && f1.is_ok());
  EXPECT_EQ(total_size(*f1), total_size(*f0) + 8);
  Result<InboundResponse> inbound = parse_response(*f0);
  ASSERT_TRUE(inbound.is_ok());
  Result<ProduceResponse> v0 = decode_response<ProduceResponse>(*inbound);
  ASSERT_TRUE(v0.is_ok()) << v0.status().to_string();
  EXPECT_EQ(v0->topics[0].partitions[0].current_leader_id, -1);
  EXPECT_EQ(v0->topics[0].partitions[0].current_leader_epoch, -1);
}

}  // namespace
}  // namespace mq::transport
