// Round trips of OffsetCommit, OffsetFetch and OffsetDelete.
#include "transport/group_offsets.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(GroupOffsetsTest, OffsetCommitRoundTrips) {
  OffsetCommitRequest request{.group_id = "billing", .generation_id = 4, .member_id = "m-1"};
  request.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .committed_offset = 500, .committed_leader_epoch = 2},
                      {.partition_index = 1, .committed_offset = 7, .committed_metadata = "ok"}}});
  OffsetCommitRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.topics[0].partitions[1].committed_metadata, std::optional<std::string>("ok"));

  OffsetCommitResponse response;
  response.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0},
                      {.partition_index = 1, .error_code = ErrorCode::kIllegalGeneration}}});
  expect_response_round_trip(response);
}

TEST(GroupOffsetsTest, OffsetFetchForAllOrSomePartitionsRoundTrips) {
  OffsetFetchRequest all = expect_request_round_trip(OffsetFetchRequest{.group_id = "billing"});
  EXPECT_FALSE(all.topics.has_value());
  OffsetFetchRequest some{.group_id = "billing",
                          .topics = std::vector<OffsetFetchRequest::Topic>{
                              {.name = "orders", .partition_indexes = {0, 1, 2}}}};
  expect_request_round_trip(some);

  OffsetFetchResponse response;
  response.topics.push_back({.name = "orders",
                             .partitions = {{.partition_index = 0,
                                             .committed_offset = 500,
                                             .committed_leader_epoch = 2,
                                             .metadata = ""},
                                            {.partition_index = 1}}});
  expect_response_round_trip(response);
}

TEST(GroupOffsetsTest, OffsetDeleteRoundTrips) {
  expect_request_round_trip(OffsetDeleteRequest{
      .group_id = "billing", .topics = {{.name = "orders", .partition_indexes = {3}}}});
  expect_response_round_trip(OffsetDeleteResponse{
      .topics = {{.name = "orders",
                  .partitions = {
                      {.partition_index = 3, .error_code = ErrorCode::kGroupSubscribedToTopic}}}}});
}

}  // namespace
}  // namespace mq::transport
