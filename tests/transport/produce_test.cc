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

}  // namespace
}  // namespace mq::transport
