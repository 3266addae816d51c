// Round trips of the ListOffsets messages.
#include "transport/list_offsets.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(ListOffsetsTest, RequestWithEarliestLatestAndTimestampRoundTrips) {
  ListOffsetsRequest request;
  request.topics.push_back({.name = "orders",
                            .partitions = {{.partition_index = 0, .timestamp = kEarliestTimestamp},
                                           {.partition_index = 1, .timestamp = kLatestTimestamp},
                                           {.partition_index = 2, .timestamp = 1700000000000}}});
  ListOffsetsRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.topics[0].partitions[0].timestamp, -2);
  EXPECT_EQ(decoded.topics[0].partitions[2].timestamp, 1700000000000);
}

TEST(ListOffsetsTest, ResponseRoundTrips) {
  ListOffsetsResponse response;
  response.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .timestamp = -1, .offset = 42, .leader_epoch = 3},
                      {.partition_index = 1, .error_code = ErrorCode::kFencedLeaderEpoch}}});
  expect_response_round_trip(response);
}

}  // namespace
}  // namespace mq::transport
