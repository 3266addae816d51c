// Round trips of FindCoordinator, JoinGroup, SyncGroup, Heartbeat and LeaveGroup.
#include "transport/group_membership.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(GroupMembershipTest, FindCoordinatorRoundTrips) {
  expect_request_round_trip(FindCoordinatorRequest{.key = "billing"});
  expect_response_round_trip(
      FindCoordinatorResponse{.node_id = 2, .host = "broker-2", .port = 9092});
  expect_response_round_trip(FindCoordinatorResponse{
      .error_code = ErrorCode::kCoordinatorNotAvailable, .error_message = "offsets topic loading"});
}

TEST(GroupMembershipTest, JoinGroupRoundTrips) {
  JoinGroupRequest request{
      .group_id = "billing",
      .session_timeout_ms = 10000,
      .rebalance_timeout_ms = 60000,
      .member_id = "",
      .group_instance_id = "host-7",
      .protocol_type = "consumer",
      .protocols = {{.name = "range", .metadata = {1, 2, 3}}, {.name = "sticky", .metadata = {}}}};
  JoinGroupRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.protocols[0].metadata, (Bytes{1, 2, 3}));

  JoinGroupResponse response{.generation_id = 4,
                             .protocol_type = "consumer",
                             .protocol_name = "range",
                             .leader = "m-1",
                             .member_id = "m-1",
                             .members = {{.member_id = "m-1", .metadata = {9}},
                                         {.member_id = "m-2", .group_instance_id = "host-7"}}};
  expect_response_round_trip(response);
  expect_response_round_trip(
      JoinGroupResponse{.error_code = ErrorCode::kMemberIdRequired, .member_id = "m-3"});
}

TEST(GroupMembershipTest, SyncGroupRoundTrips) {
  SyncGroupRequest request{.group_id = "billing",
                           .generation_id = 4,
                           .member_id = "m-1",
                           .protocol_type = "consumer",
                           .protocol_name = "range",
                           .assignments = {{.member_id = "m-1", .assignment = {0, 0, 0, 1}},
                                           {.member_id = "m-2", .assignment = {0, 0, 0, 2}}}};
  expect_request_round_trip(request);
  SyncGroupResponse decoded = expect_response_round_trip(
      SyncGroupResponse{.protocol_type = "consumer", .assignment = {0, 0, 0, 1}});
  EXPECT_FALSE(decoded.protocol_name.has_value());
}

TEST(GroupMembershipTest, HeartbeatAndLeaveGroupRoundTrip) {
  expect_request_round_trip(
      HeartbeatRequest{.group_id = "billing", .generation_id = 4, .member_id = "m-1"});
  expect_response_round_trip(HeartbeatResponse{.error_code = ErrorCode::kRebalanceInProgress});
  expect_request_round_trip(LeaveGroupRequest{
      .group_id = "billing",
      .members = {{.member_id = "m-1"}, {.member_id = "m-2", .group_instance_id = "host-7"}}});
  expect_response_round_trip(LeaveGroupResponse{
      .members = {{.member_id = "m-1"},
                  {.member_id = "m-9", .error_code = ErrorCode::kUnknownMemberId}}});
}

}  // namespace
}  // namespace mq::transport
