// Round trips of the Metadata messages.
#include "transport/metadata.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(MetadataTest, RequestForNamedTopicsRoundTrips) {
  MetadataRequest request{.topics = std::vector<std::string>{"orders", "payments"},
                          .allow_auto_topic_creation = true};
  MetadataRequest decoded = expect_request_round_trip(request);
  ASSERT_TRUE(decoded.topics.has_value());
  EXPECT_EQ(decoded.topics->at(1), "payments");
}

TEST(MetadataTest, NullTopicListMeaningAllTopicsSurvivesTheRoundTrip) {
  MetadataRequest decoded = expect_request_round_trip(MetadataRequest{});
  EXPECT_FALSE(decoded.topics.has_value());
  MetadataRequest none{.topics = std::vector<std::string>{}};
  EXPECT_TRUE(expect_request_round_trip(none).topics.has_value());
}

TEST(MetadataTest, ResponseRoundTrips) {
  MetadataResponse response;
  response.brokers = {{.node_id = 1, .host = "10.0.0.1", .port = 9092, .rack = "a"},
                      {.node_id = 2, .host = "10.0.0.2", .port = 9092}};
  response.cluster_id = "mq-test";
  response.controller_id = 1;
  MetadataResponse::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 0,
                              .leader_id = 1,
                              .leader_epoch = 4,
                              .replica_nodes = {1, 2},
                              .isr_nodes = {1},
                              .offline_replicas = {2}});
  topic.partitions.push_back({.error_code = ErrorCode::kLeaderNotAvailable, .partition_index = 1});
  response.topics.push_back(topic);
  response.topics.push_back({.error_code = ErrorCode::kUnknownTopicOrPartition, .name = "nope"});
  MetadataResponse decoded = expect_response_round_trip(response);
  EXPECT_EQ(decoded.topics[0].partitions[0].isr_nodes, std::vector<int32_t>{1});
  EXPECT_FALSE(decoded.brokers[1].rack.has_value());
}

}  // namespace
}  // namespace mq::transport
