// Round trips of ListGroups, DescribeGroups and DeleteGroups.
#include "transport/group_admin.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(GroupAdminTest, ListGroupsRoundTrips) {
  expect_request_round_trip(ListGroupsRequest{.states_filter = {"Stable", "Empty"}});
  expect_response_round_trip(ListGroupsResponse{
      .groups = {{.group_id = "billing", .protocol_type = "consumer", .group_state = "Stable"}}});
}

TEST(GroupAdminTest, DescribeGroupsRoundTrips) {
  expect_request_round_trip(DescribeGroupsRequest{.groups = {"billing", "audit"}});
  DescribeGroupsResponse response;
  response.groups.push_back({.group_id = "billing",
                             .group_state = "Stable",
                             .protocol_type = "consumer",
                             .protocol_data = "range",
                             .members = {{.member_id = "m-1",
                                          .client_id = "svc",
                                          .client_host = "/10.0.0.9",
                                          .member_metadata = {1},
                                          .member_assignment = {2, 3}}}});
  response.groups.push_back({.error_code = ErrorCode::kGroupIdNotFound, .group_id = "audit"});
  DescribeGroupsResponse decoded = expect_response_round_trip(response);
  EXPECT_EQ(decoded.groups[0].members[0].member_assignment, (Bytes{2, 3}));
}

TEST(GroupAdminTest, DeleteGroupsRoundTrips) {
  expect_request_round_trip(DeleteGroupsRequest{.groups_names = {"old"}});
  expect_response_round_trip(DeleteGroupsResponse{
      .results = {{.group_id = "old", .error_code = ErrorCode::kGroupNotEmpty}}});
}

}  // namespace
}  // namespace mq::transport
