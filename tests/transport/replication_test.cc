// Round trips of the replication RPCs.
#include "transport/replication.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

TEST(ReplicationTest, OffsetForLeaderEpochRoundTrips) {
  OffsetForLeaderEpochRequest request{.replica_id = 2};
  request.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .current_leader_epoch = 5, .leader_epoch = 3}}});
  OffsetForLeaderEpochRequest decoded = testing::expect_request_round_trip(request);
  EXPECT_EQ(decoded.topics[0].partitions[0].leader_epoch, 3);

  OffsetForLeaderEpochResponse response;
  response.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .leader_epoch = 3, .end_offset = 1000},
                      {.error_code = ErrorCode::kUnknownLeaderEpoch, .partition_index = 1}}});
  testing::expect_response_round_trip(response);
}

}  // namespace
}  // namespace mq::transport
