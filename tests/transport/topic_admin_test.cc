// Round trips of CreateTopics, DeleteTopics and CreatePartitions.
#include "transport/topic_admin.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(TopicAdminTest, CreateTopicsWithConfigsAndAssignmentsRoundTrips) {
  CreateTopicsRequest request{.timeout_ms = 5000, .validate_only = true};
  request.topics.push_back({.name = "orders",
                            .num_partitions = 6,
                            .replication_factor = 3,
                            .configs = {{.name = "retention.ms", .value = "86400000"},
                                        {.name = "cleanup.policy", .value = std::nullopt}}});
  request.topics.push_back({.name = "manual",
                            .assignments = {{.partition_index = 0, .broker_ids = {1, 2}},
                                            {.partition_index = 1, .broker_ids = {2, 3}}}});
  CreateTopicsRequest decoded = expect_request_round_trip(request);
  EXPECT_TRUE(decoded.validate_only);
  EXPECT_FALSE(decoded.topics[0].configs[1].value.has_value());
  EXPECT_EQ(decoded.topics[1].assignments[1].broker_ids, (std::vector<int32_t>{2, 3}));

  CreateTopicsResponse response;
  response.topics.push_back({.name = "orders", .num_partitions = 6, .replication_factor = 3});
  response.topics.push_back({.name = "manual",
                             .error_code = ErrorCode::kInvalidReplicaAssignment,
                             .error_message = "broker 3 is not registered"});
  expect_response_round_trip(response);
}

TEST(TopicAdminTest, DeleteTopicsRoundTrips) {
  expect_request_round_trip(DeleteTopicsRequest{.topic_names = {"a", "b"}, .timeout_ms = 100});
  DeleteTopicsResponse response;
  response.responses.push_back({.name = "a"});
  response.responses.push_back({.name = "b", .error_code = ErrorCode::kUnknownTopicOrPartition});
  expect_response_round_trip(response);
}

TEST(TopicAdminTest, CreatePartitionsWithAndWithoutAssignmentsRoundTrips) {
  CreatePartitionsRequest request;
  request.topics.push_back({.name = "auto", .count = 12});
  request.topics.push_back({.name = "manual",
                            .count = 3,
                            .assignments = std::vector<CreatePartitionsRequest::Topic::Assignment>{
                                {.broker_ids = {1}}}});
  CreatePartitionsRequest decoded = expect_request_round_trip(request);
  EXPECT_FALSE(decoded.topics[0].assignments.has_value());
  EXPECT_EQ(decoded.topics[1].assignments->size(), 1u);

  CreatePartitionsResponse response;
  response.results.push_back({.name = "auto", .error_code = ErrorCode::kInvalidPartitions});
  expect_response_round_trip(response);
}

}  // namespace
}  // namespace mq::transport
