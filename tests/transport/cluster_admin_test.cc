// Round trips and malformed bodies of the cluster admin APIs: ElectLeaders,
// DescribeQuorum, the partition reassignments, DescribeCluster, the voter
// changes and UnregisterBroker.
#include "transport/cluster_admin.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"
#include "transport/message.h"

namespace mq::transport {
namespace {

template <class Message>
std::vector<uint8_t> body_of(const Message& message) {
  Result<Frames> frames = encode_body(message, 0);
  EXPECT_TRUE(frames.is_ok());
  auto bytes = (*frames)[0].bytes();
  return {bytes.begin(), bytes.end()};
}

template <class Message>
Result<Message> decode(const std::vector<uint8_t>& body, ErrorCode error) {
  Frame frame = Frame::copy_of(body);
  return decode_body<Message>(frame, {}, 0, error);
}

TEST(ClusterAdminTest, ElectLeadersForNamedPartitionsRoundTrips) {
  ElectLeadersRequest request{.election_type = ElectionType::kUnclean, .timeout_ms = 5000};
  request.topics = std::vector<ElectLeadersRequest::Topic>{{"orders", {0, 2}}, {"audit", {1}}};
  ElectLeadersRequest decoded = testing::expect_request_round_trip(request);
  EXPECT_EQ(decoded.election_type, ElectionType::kUnclean);
  ASSERT_TRUE(decoded.topics.has_value());
  EXPECT_EQ(decoded.topics->at(0).partitions, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(decoded.timeout_ms, 5000);
}

TEST(ClusterAdminTest, ElectLeadersNullTopicsDiffersFromEmpty) {
  ElectLeadersRequest all;
  ElectLeadersRequest none;
  none.topics = std::vector<ElectLeadersRequest::Topic>{};
  EXPECT_FALSE(testing::expect_request_round_trip(all).topics.has_value());
  ElectLeadersRequest decoded = testing::expect_request_round_trip(none);
  ASSERT_TRUE(decoded.topics.has_value());
  EXPECT_TRUE(decoded.topics->empty());
  EXPECT_NE(body_of(all), body_of(none));
}

TEST(ClusterAdminTest, ElectLeadersResponseRoundTrips) {
  ElectLeadersResponse response;
  response.results.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .elected = true, .leader_id = 1},
                      {.partition_index = 1,
                       .error_message = "election not needed: orders-1 is led by its preferred "
                                        "replica",
                       .leader_id = 2},
                      {.partition_index = 2,
                       .error_code = ErrorCode::kLeaderNotAvailable,
                       .error_message = "PREFERRED_LEADER_NOT_AVAILABLE"}}});
  ElectLeadersResponse decoded = testing::expect_response_round_trip(response);
  EXPECT_TRUE(decoded.results[0].partitions[0].elected);
  EXPECT_EQ(decoded.results[0].partitions[2].error_code, ErrorCode::kLeaderNotAvailable);

  ElectLeadersResponse failed{.error_code = ErrorCode::kNotController,
                              .error_message = "no controller"};
  testing::expect_response_round_trip(failed);
}

TEST(ClusterAdminTest, DescribeQuorumRoundTrips) {
  testing::expect_request_round_trip(DescribeQuorumRequest{});
  EXPECT_TRUE(body_of(DescribeQuorumRequest{}).empty());

  DescribeQuorumResponse response{.node_id = 2,
                                  .voter = true,
                                  .role = QuorumRole::kLeader,
                                  .leader_id = 2,
                                  .term = 7,
                                  .commit_index = 1234,
                                  .applied_index = 1234,
                                  .last_log_index = 1240};
  response.members = {{.node_id = 1, .voter = true, .match_index = 1230, .lag = 10},
                      {.node_id = 2, .voter = true, .match_index = 1240, .recent_active = true},
                      {.node_id = 4, .voter = false, .match_index = 0, .lag = 1240}};
  DescribeQuorumResponse decoded = testing::expect_response_round_trip(response);
  EXPECT_EQ(decoded.role, QuorumRole::kLeader);
  EXPECT_EQ(decoded.members[2].lag, 1240);
  EXPECT_FALSE(decoded.members[2].voter);

  DescribeQuorumResponse single{.single_node = true, .node_id = 1, .leader_id = 1};
  EXPECT_TRUE(testing::expect_response_round_trip(single).single_node);
}

TEST(ClusterAdminTest, DescribeQuorumV1AddsTheVoterSetAndDirectoriesWhichV0LeavesOut) {
  DescribeQuorumResponse response{.node_id = 1, .voter = true, .leader_id = 1, .term = 3};
  response.members = {
      {.node_id = 1, .voter = true, .match_index = 9, .directory_id = "dir-a", .heard_ms_ago = 0},
      {.node_id = 2, .match_index = 4, .heard_ms_ago = -1}};
  response.directory_id = "dir-a";
  response.voters_recorded_at = 8;
  response.voters = {{.node_id = 1, .directory_id = "dir-a", .endpoint = "tcp://10.0.0.1:9093"}};
  DescribeQuorumResponse v1 = testing::expect_response_round_trip(response, 1);
  ASSERT_EQ(v1.voters.size(), 1u);
  EXPECT_EQ(v1.voters[0].endpoint, "tcp://10.0.0.1:9093");
  EXPECT_EQ(v1.members[0].directory_id, "dir-a");
  EXPECT_EQ(v1.voters_recorded_at, 8);

  // A v0 client gets the v0 fields only.
  Result<Frames> v0_frames = encode_body(response, 0);
  ASSERT_TRUE(v0_frames.is_ok());
  Result<DescribeQuorumResponse> v0 =
      decode_body<DescribeQuorumResponse>((*v0_frames)[0], {}, 0, ErrorCode::kCorruptMessage);
  ASSERT_TRUE(v0.is_ok()) << v0.status().to_string();
  EXPECT_TRUE(v0->voters.empty());
  EXPECT_TRUE(v0->directory_id.empty());
  EXPECT_TRUE(v0->members[0].directory_id.empty());
  EXPECT_EQ(v0->members[0].heard_ms_ago, -1);
  EXPECT_EQ(v0->members[0].match_index, 9);
  // And the v1 body is the v0 body plus the new fields, in the documented order.
  DescribeQuorumResponse empty{.node_id = 1};
  Result<Frames> empty_v0 = encode_body(empty, 0);
  Result<Frames> empty_v1 = encode_body(empty, 1);
  ASSERT_TRUE(empty_v0.is_ok() && empty_v1.is_ok());
  EXPECT_EQ((*empty_v1)[0].size(), (*empty_v0)[0].size() + 2 + 8 + 4)
      << "directory_id string, voters_recorded_at int64, voters array";
  // Version 2 is not spoken.
  EXPECT_EQ(encode_body(response, 2).code(), ErrorCode::kUnsupportedVersion);
}

TEST(ClusterAdminTest, VoterChangesAndUnregisterBrokerRoundTripWithTheDocumentedLayout) {
  AddRaftVoterRequest add{.voter_id = 4, .endpoint = "10.0.0.4:9093", .timeout_ms = 5000};
  EXPECT_EQ(testing::expect_request_round_trip(add).endpoint, "10.0.0.4:9093");
  std::vector<uint8_t> add_body = body_of(add);
  // Little-endian, as every integer on the wire.
  std::vector<uint8_t> expected = {4, 0, 0, 0, 13, 0};
  for (char c : std::string("10.0.0.4:9093")) expected.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : {0x88, 0x13, 0, 0}) expected.push_back(b);
  EXPECT_EQ(add_body, expected);

  RemoveRaftVoterRequest remove{.voter_id = 2, .timeout_ms = 1000};
  EXPECT_EQ(testing::expect_request_round_trip(remove).voter_id, 2);
  EXPECT_EQ(body_of(remove), (std::vector<uint8_t>{2, 0, 0, 0, 0xE8, 0x03, 0, 0}));

  UnregisterBrokerRequest unregister{.broker_id = 7, .timeout_ms = 1000};
  EXPECT_EQ(testing::expect_request_round_trip(unregister).broker_id, 7);
  EXPECT_EQ(body_of(unregister), (std::vector<uint8_t>{7, 0, 0, 0, 0xE8, 0x03, 0, 0}));

  AddRaftVoterResponse refused{.error_code = ErrorCode::kVoterChangeInProgress,
                               .error_message = "one change at a time"};
  EXPECT_EQ(testing::expect_response_round_trip(refused).error_message, "one change at a time");
  EXPECT_EQ(body_of(RemoveRaftVoterResponse{}), (std::vector<uint8_t>{0, 0, 0xFF, 0xFF}))
      << "error_code 0, error_message null";
  EXPECT_EQ(testing::expect_response_round_trip(UnregisterBrokerResponse{}).error_code,
            ErrorCode::kNone);
  // A truncated request is refused, not misread.
  add_body.pop_back();
  EXPECT_EQ(decode<AddRaftVoterRequest>(add_body, ErrorCode::kInvalidRequest).code(),
            ErrorCode::kInvalidRequest);
}

TEST(ClusterAdminTest, AlterPartitionReassignmentsRoundTrips) {
  AlterPartitionReassignmentsRequest request{
      .timeout_ms = 4000, .throttle_bytes_per_sec = 50'000'000, .validate_only = true};
  request.topics.push_back({.name = "orders",
                            .partitions = {{.partition_index = 0, .replicas = {{2, 3, 4}}},
                                           {.partition_index = 1, .replicas = std::nullopt}}});
  AlterPartitionReassignmentsRequest decoded = testing::expect_request_round_trip(request);
  EXPECT_EQ(decoded.throttle_bytes_per_sec, 50'000'000);
  EXPECT_TRUE(decoded.validate_only);
  ASSERT_TRUE(decoded.topics[0].partitions[0].replicas.has_value());
  EXPECT_EQ(*decoded.topics[0].partitions[0].replicas, (std::vector<int32_t>{2, 3, 4}));
  EXPECT_FALSE(decoded.topics[0].partitions[1].replicas.has_value());  // cancel

  AlterPartitionReassignmentsResponse response;
  response.results.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0},
                      {.partition_index = 1,
                       .error_code = ErrorCode::kInvalidReplicaAssignment,
                       .error_message = "orders-1: broker 9 is not registered"}}});
  AlterPartitionReassignmentsResponse back = testing::expect_response_round_trip(response);
  EXPECT_EQ(back.results[0].partitions[1].error_code, ErrorCode::kInvalidReplicaAssignment);
}

TEST(ClusterAdminTest, ListPartitionReassignmentsRoundTrips) {
  ListPartitionReassignmentsRequest all;
  EXPECT_FALSE(testing::expect_request_round_trip(all).topics.has_value());
  ListPartitionReassignmentsRequest some;
  some.topics = std::vector<ListPartitionReassignmentsRequest::Topic>{{"orders", {0, 3}}};
  EXPECT_EQ(testing::expect_request_round_trip(some).topics->at(0).partitions,
            (std::vector<int32_t>{0, 3}));

  ListPartitionReassignmentsResponse response{.throttle_bytes_per_sec = 1024};
  response.topics.push_back({.name = "orders",
                             .partitions = {{.partition_index = 0,
                                             .replicas = {2, 3, 1},
                                             .adding_replicas = {3},
                                             .removing_replicas = {1},
                                             .isr = {2, 1},
                                             .leader_id = 2}}});
  ListPartitionReassignmentsResponse back = testing::expect_response_round_trip(response);
  EXPECT_EQ(back.throttle_bytes_per_sec, 1024);
  EXPECT_EQ(back.topics[0].partitions[0].removing_replicas, (std::vector<int32_t>{1}));
}

TEST(ClusterAdminTest, TruncatedReassignmentBodiesAreRejected) {
  AlterPartitionReassignmentsRequest request;
  request.topics.push_back(
      {.name = "t", .partitions = {{.partition_index = 0, .replicas = {{1}}}}});
  std::vector<uint8_t> body = body_of(request);
  for (size_t length = 0; length < body.size(); ++length) {
    std::vector<uint8_t> prefix(body.begin(), body.begin() + static_cast<ptrdiff_t>(length));
    Result<AlterPartitionReassignmentsRequest> decoded =
        decode<AlterPartitionReassignmentsRequest>(prefix, ErrorCode::kInvalidRequest);
    ASSERT_FALSE(decoded.is_ok()) << "a " << length << "-byte prefix decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  }
}

TEST(ClusterAdminTest, TruncatedBodiesFailWithTheFieldNamed) {
  ElectLeadersRequest request;
  request.topics = std::vector<ElectLeadersRequest::Topic>{{"orders", {0, 1, 2}}};
  std::vector<uint8_t> body = body_of(request);
  for (size_t length = 0; length < body.size(); ++length) {
    std::vector<uint8_t> prefix(body.begin(), body.begin() + static_cast<ptrdiff_t>(length));
    Result<ElectLeadersRequest> decoded =
        decode<ElectLeadersRequest>(prefix, ErrorCode::kInvalidRequest);
    ASSERT_FALSE(decoded.is_ok()) << "a " << length << "-byte prefix decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  }
  DescribeQuorumResponse response{.node_id = 1};
  response.members.push_back({.node_id = 1, .voter = true});
  std::vector<uint8_t> rbody = body_of(response);
  rbody.pop_back();
  Result<DescribeQuorumResponse> decoded =
      decode<DescribeQuorumResponse>(rbody, ErrorCode::kCorruptMessage);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(decoded.status().message().find("members"), std::string::npos)
      << decoded.status().message();
}

TEST(ClusterAdminTest, MalformedBodiesAreRejected) {
  // A partition count larger than the bytes left.
  ElectLeadersRequest request;
  request.topics = std::vector<ElectLeadersRequest::Topic>{{"t", {0}}};
  std::vector<uint8_t> body = body_of(request);
  // election_type (1) + topics count (4) + name length (2) + "t" (1): partitions count next.
  body[8] = 0xff;
  body[9] = 0xff;
  body[10] = 0xff;
  body[11] = 0x7f;
  Result<ElectLeadersRequest> decoded =
      decode<ElectLeadersRequest>(body, ErrorCode::kInvalidRequest);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);

  // A topics count below -1.
  std::vector<uint8_t> negative = body_of(ElectLeadersRequest{});
  negative[1] = 0xfe;  // -2 as int32 little-endian: fe ff ff ff
  EXPECT_FALSE(decode<ElectLeadersRequest>(negative, ErrorCode::kInvalidRequest).is_ok());

  // A bool that is neither 0 nor 1 (single_node, after error_code and the null message).
  std::vector<uint8_t> quorum = body_of(DescribeQuorumResponse{});
  quorum[4] = 2;
  Result<DescribeQuorumResponse> bad_bool =
      decode<DescribeQuorumResponse>(quorum, ErrorCode::kCorruptMessage);
  ASSERT_FALSE(bad_bool.is_ok());
  EXPECT_NE(bad_bool.status().message().find("single_node"), std::string::npos)
      << bad_bool.status().message();

  // Bytes left over after the last field.
  std::vector<uint8_t> trailing = body_of(DescribeQuorumRequest{});
  trailing.push_back(0);
  EXPECT_FALSE(decode<DescribeQuorumRequest>(trailing, ErrorCode::kInvalidRequest).is_ok());
}

TEST(ClusterAdminTest, DescribeClusterRoundTripsWithFencedBrokers) {
  testing::expect_request_round_trip(DescribeClusterRequest{});
  EXPECT_TRUE(body_of(DescribeClusterRequest{}).empty());

  DescribeClusterResponse response{.cluster_id = "c-1", .controller_id = 1};
  response.brokers = {{.node_id = 1, .host = "10.0.0.1", .port = 9092, .rack = "a"},
                      {.node_id = 2, .host = "10.0.0.2", .port = 9092, .fenced = true},
                      {.node_id = 3,
                       .host = "10.0.0.3",
                       .port = 9093,
                       .rack = "c",
                       .in_controlled_shutdown = true}};
  DescribeClusterResponse decoded = testing::expect_response_round_trip(response);
  ASSERT_EQ(decoded.brokers.size(), 3u);
  EXPECT_FALSE(decoded.brokers[0].fenced);
  EXPECT_TRUE(decoded.brokers[1].fenced);
  EXPECT_FALSE(decoded.brokers[1].rack.has_value());
  EXPECT_TRUE(decoded.brokers[2].in_controlled_shutdown);

  DescribeClusterResponse failed{.error_code = ErrorCode::kNotController,
                                 .error_message = "the metadata is not loaded yet"};
  testing::expect_response_round_trip(failed);
}

// The bytes docs/protocol.md describes, field by field, for a client written
// from the document alone.
TEST(ClusterAdminTest, DescribeClusterResponseHasTheDocumentedLayout) {
  DescribeClusterResponse response{.controller_id = 2};
  response.brokers = {{.node_id = 3, .host = "h", .port = 9092, .rack = "r", .fenced = true}};
  std::vector<uint8_t> expected = {
      0x00, 0x00,              // error_code 0
      0xff, 0xff,              // error_message null
      0xff, 0xff,              // cluster_id null
      0x02, 0x00, 0x00, 0x00,  // controller_id 2
      0x01, 0x00, 0x00, 0x00,  // one broker
      0x03, 0x00, 0x00, 0x00,  // node_id 3
      0x01, 0x00, 'h',         // host "h"
      0x84, 0x23, 0x00, 0x00,  // port 9092
      0x01, 0x00, 'r',         // rack "r"
      0x01,                    // fenced
      0x00,                    // in_controlled_shutdown
  };
  EXPECT_EQ(body_of(response), expected);

  // Every truncation is refused, naming what is missing.
  for (size_t length = 0; length < expected.size(); ++length) {
    std::vector<uint8_t> prefix(expected.begin(),
                                expected.begin() + static_cast<ptrdiff_t>(length));
    Result<DescribeClusterResponse> decoded =
        decode<DescribeClusterResponse>(prefix, ErrorCode::kCorruptMessage);
    ASSERT_FALSE(decoded.is_ok()) << "a " << length << "-byte prefix decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
  }
  // fenced must be 0 or 1.
  std::vector<uint8_t> bad_bool = expected;
  bad_bool[bad_bool.size() - 2] = 2;
  Result<DescribeClusterResponse> decoded =
      decode<DescribeClusterResponse>(bad_bool, ErrorCode::kCorruptMessage);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("fenced"), std::string::npos)
      << decoded.status().message();
}

}  // namespace
}  // namespace mq::transport
