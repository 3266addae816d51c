// End-to-end tests of Connection against a Listener over real ZeroMQ TCP
// sockets on 127.0.0.1 with an ephemeral port.
#include "transport/connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "tests/transport/test_broker.h"

namespace mq::transport {
namespace {

using testing::expected_base_offset;
using testing::expected_fetch_bytes;
using testing::TestBroker;

constexpr int kTimeoutMs = 10'000;

ProduceRequest produce_request(size_t batch_bytes) {
  ProduceRequest request{.acks = kAcksLeader};
  request.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .records = Frame(std::string(batch_bytes, 'x'))},
                      {.partition_index = 1, .records = Frame(std::string(17, 'y'))}}});
  return request;
}

std::unique_ptr<Connection> connect_to(const TestBroker& broker) {
  EXPECT_TRUE(broker.status().is_ok()) << broker.status().to_string();
  Result<std::unique_ptr<Connection>> connection =
      Connection::connect(broker.endpoint(), {.client_id = "connection-test"});
  EXPECT_TRUE(connection.is_ok()) << connection.status().to_string();
  return connection.is_ok() ? std::move(connection).value() : nullptr;
}

TEST(ConnectionTest, ListenerReportsTheEphemeralPortItBound) {
  TestBroker broker;
  ASSERT_TRUE(broker.status().is_ok());
  EXPECT_EQ(broker.endpoint().rfind("tcp://127.0.0.1:", 0), 0u) << broker.endpoint();
  EXPECT_NE(broker.endpoint(), "tcp://127.0.0.1:*");
}

TEST(ConnectionTest, ManyPipelinedRequestsAreEachMatchedToTheirOwnResponse) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  constexpr int kRequests = 2000;
  ProduceRequest request = produce_request(1024);
  for (int i = 0; i < kRequests; ++i) {
    Result<int32_t> correlation_id = connection->send(request, 0);
    ASSERT_TRUE(correlation_id.is_ok()) << correlation_id.status().to_string();
    EXPECT_EQ(*correlation_id, i);
  }
  EXPECT_EQ(connection->in_flight(), static_cast<size_t>(kRequests));
  std::vector<bool> answered(kRequests, false);
  for (int i = 0; i < kRequests; ++i) {
    Result<InboundResponse> inbound = connection->receive(kTimeoutMs);
    ASSERT_TRUE(inbound.is_ok()) << inbound.status().to_string();
    int32_t correlation_id = inbound->header.correlation_id;
    ASSERT_GE(correlation_id, 0);
    ASSERT_LT(correlation_id, kRequests);
    EXPECT_FALSE(answered[correlation_id]) << "answered twice: " << correlation_id;
    answered[correlation_id] = true;
    Result<ProduceResponse> response = decode_response<ProduceResponse>(*inbound);
    ASSERT_TRUE(response.is_ok()) << response.status().to_string();
    ASSERT_EQ(response->topics.size(), 1u);
    ASSERT_EQ(response->topics[0].partitions.size(), 2u);
    EXPECT_EQ(response->topics[0].partitions[1].base_offset,
              expected_base_offset(correlation_id, 1));
    EXPECT_EQ(response->topics[0].partitions[0].log_start_offset, 1024);
  }
  EXPECT_EQ(connection->in_flight(), 0u);
}

TEST(ConnectionTest, ReceiveForKeepsOtherResponsesForLater) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  int32_t first = connection->send(produce_request(10), 0).value();
  int32_t second = connection->send(produce_request(10), 0).value();
  int32_t third = connection->send(produce_request(10), 0).value();

  Result<InboundResponse> response = connection->receive_for(third, kTimeoutMs);
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  EXPECT_EQ(response->header.correlation_id, third);
  response = connection->receive_for(first, kTimeoutMs);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->header.correlation_id, first);
  response = connection->receive(kTimeoutMs);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->header.correlation_id, second);
}

TEST(ConnectionTest, FetchRecordFramesArriveByteForByteIncludingEmptyAndLargeOnes) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  FetchRequest request;
  request.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .partition_max_bytes = 0},
                      {.partition_index = 1, .partition_max_bytes = 300},
                      {.partition_index = 2, .partition_max_bytes = 1 << 20}}});
  Result<FetchResponse> response = connection->call(request, 0, kTimeoutMs);
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  const auto& partitions = response->topics.at(0).partitions;
  ASSERT_EQ(partitions.size(), 3u);
  EXPECT_TRUE(partitions[0].records.empty());
  EXPECT_EQ(partitions[1].records.as_string_view(), expected_fetch_bytes(1, 300));
  EXPECT_EQ(partitions[2].records.as_string_view(), expected_fetch_bytes(2, 1 << 20));
}

TEST(ConnectionTest, CallUsesTheNegotiatedVersion) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->version_for(ApiKey::kMetadata).code(), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(connection->call(MetadataRequest{}, kTimeoutMs).code(), ErrorCode::kUnsupportedVersion);

  Result<ApiVersionsResponse> versions = connection->negotiate_versions(kTimeoutMs);
  ASSERT_TRUE(versions.is_ok()) << versions.status().to_string();
  EXPECT_EQ(versions->api_keys.size(), supported_apis().size());
  EXPECT_EQ(connection->version_for(ApiKey::kMetadata).value(), 0);
  EXPECT_EQ(connection->version_for(ApiKey::kVote).code(), ErrorCode::kUnsupportedVersion);

  Result<MetadataResponse> metadata = connection->call(MetadataRequest{}, kTimeoutMs);
  ASSERT_TRUE(metadata.is_ok()) << metadata.status().to_string();
  EXPECT_EQ(metadata->cluster_id, std::optional<std::string>("test"));
}

TEST(ConnectionTest, RequestsWithoutResponseAreNotTracked) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  ProduceRequest request = produce_request(100);
  request.acks = kAcksNone;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(connection->send(request, 0, /*expect_response=*/false).is_ok());
  }
  EXPECT_EQ(connection->in_flight(), 0u);
  // A later request's response proves the broker handled the earlier ones
  // (one connection, requests served in order) without answering them.
  Result<MetadataResponse> metadata = connection->call(MetadataRequest{}, 0, kTimeoutMs);
  ASSERT_TRUE(metadata.is_ok()) << metadata.status().to_string();
  EXPECT_EQ(broker.produce_requests(), 10);
  EXPECT_EQ(connection->stale_responses(), 0u);
}

TEST(ConnectionTest, ResponsesSetAsideByReceiveForStillCountAsInFlight) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  int32_t first = connection->send(MetadataRequest{}, 0).value();
  int32_t second = connection->send(MetadataRequest{}, 0).value();
  // Waiting for the second sets the first's answer aside...
  ASSERT_TRUE(connection->receive_for(second, kTimeoutMs).is_ok());
  // ...and a caller that only receives while something is in flight must still get it.
  EXPECT_EQ(connection->in_flight(), 1u);
  Result<InboundResponse> late = connection->receive(0);
  ASSERT_TRUE(late.is_ok()) << late.status().to_string();
  EXPECT_EQ(late->header.correlation_id, first);
  EXPECT_EQ(connection->in_flight(), 0u);
}

TEST(ConnectionTest, ReceiveTimesOutWhenTheBrokerDoesNotAnswer) {
  TestBroker silent(ListenerOptions{}, /*serve=*/false);
  std::unique_ptr<Connection> connection = connect_to(silent);
  ASSERT_NE(connection, nullptr);
  int32_t correlation_id = connection->send(MetadataRequest{}, 0).value();
  Result<InboundResponse> response = connection->receive_for(correlation_id, 100);
  EXPECT_EQ(response.code(), ErrorCode::kRequestTimedOut);
  EXPECT_EQ(connection->in_flight(), 1u);
  connection->forget(correlation_id);
  EXPECT_EQ(connection->in_flight(), 0u);
}

TEST(ConnectionTest, ReceiveWithNothingInFlightFailsAtOnce) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->receive(kTimeoutMs).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(connection->receive_for(99, kTimeoutMs).code(), ErrorCode::kInvalidRequest);
}

TEST(ConnectionTest, ABrokerThatGoesAwayFailsTheRequestsInFlightAtOnce) {
  auto silent = std::make_unique<TestBroker>(ListenerOptions{}, /*serve=*/false);
  std::unique_ptr<Connection> connection = connect_to(*silent);
  ASSERT_NE(connection, nullptr);
  int32_t correlation_id = connection->send(MetadataRequest{}, 0).value();
  // The request reaches the broker, which never answers; then it goes away.
  EXPECT_EQ(connection->receive_for(correlation_id, 300).code(), ErrorCode::kRequestTimedOut);
  silent.reset();
  auto start = std::chrono::steady_clock::now();
  Result<InboundResponse> response = connection->receive_for(correlation_id, 20'000);
  EXPECT_EQ(response.code(), ErrorCode::kNetworkError) << response.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "the loss must be seen long before the request timeout";
  EXPECT_NE(response.status().message().find("lost"), std::string::npos);
  // Broken for good: the owner opens a new connection.
  EXPECT_EQ(connection->send(MetadataRequest{}, 0).code(), ErrorCode::kNetworkError);
}

TEST(ConnectionTest, ARefusedFirstConnectFailsAtOnce) {
  // Nothing listens on port 1.
  Result<std::unique_ptr<Connection>> connection = Connection::connect("tcp://127.0.0.1:1");
  ASSERT_TRUE(connection.is_ok());
  auto start = std::chrono::steady_clock::now();
  Result<ApiVersionsResponse> versions = (*connection)->negotiate_versions(20'000);
  EXPECT_EQ(versions.code(), ErrorCode::kNetworkError);
  EXPECT_NE(versions.status().message().find("cannot connect to tcp://127.0.0.1:1"),
            std::string::npos)
      << versions.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ConnectionTest, ConnectingToAMalformedEndpointFailsWithAStatus) {
  Result<std::unique_ptr<Connection>> connection = Connection::connect("nonsense://x");
  ASSERT_FALSE(connection.is_ok());
  EXPECT_EQ(connection.code(), ErrorCode::kNetworkError);
}

}  // namespace
}  // namespace mq::transport
