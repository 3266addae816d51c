// End-to-end tests of how the Listener screens requests it cannot serve:
// the sender gets an error response and its connection stays usable.
#include "transport/listener.h"

#include <gtest/gtest.h>

#include "tests/transport/test_broker.h"
#include "transport/connection.h"

namespace mq::transport {
namespace {

using testing::TestBroker;

constexpr int kTimeoutMs = 10'000;

std::unique_ptr<Connection> connect_to(const TestBroker& broker) {
  EXPECT_TRUE(broker.status().is_ok()) << broker.status().to_string();
  Result<std::unique_ptr<Connection>> connection = Connection::connect(broker.endpoint());
  EXPECT_TRUE(connection.is_ok()) << connection.status().to_string();
  return connection.is_ok() ? std::move(connection).value() : nullptr;
}

// Sends a Metadata body under a hand-made header and returns the decoded
// outcome of its response.
Result<MetadataResponse> send_with_header(Connection& connection, ApiKey api_key,
                                          int16_t api_version) {
  RequestHeader header{.api_key = api_key,
                       .api_version = api_version,
                       .correlation_id = connection.next_correlation_id()};
  Frames frames{encode_request_header(header).value(),
                encode_body(MetadataRequest{}, 0).value()[0]};
  MQ_ASSIGN_OR_RETURN(int32_t correlation_id,
                      connection.send_frames(api_key, std::move(frames), true));
  MQ_ASSIGN_OR_RETURN(InboundResponse response, connection.receive_for(correlation_id, kTimeoutMs));
  return decode_response<MetadataResponse>(response);
}

void expect_connection_still_works(Connection& connection) {
  Result<MetadataResponse> metadata = connection.call(MetadataRequest{}, 0, kTimeoutMs);
  EXPECT_TRUE(metadata.is_ok()) << metadata.status().to_string();
}

TEST(ListenerTest, UnsupportedVersionIsAnsweredAndTheConnectionStaysUsable) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  Result<MetadataResponse> response = send_with_header(*connection, ApiKey::kMetadata, 42);
  ASSERT_EQ(response.code(), ErrorCode::kUnsupportedVersion) << response.status().to_string();
  EXPECT_NE(response.status().message().find("Metadata v42"), std::string::npos);
  expect_connection_still_works(*connection);
}

TEST(ListenerTest, UnknownApiKeyIsAnsweredWithUnsupportedVersion) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  Result<MetadataResponse> response = send_with_header(*connection, static_cast<ApiKey>(4242), 0);
  EXPECT_EQ(response.code(), ErrorCode::kUnsupportedVersion);
  response = send_with_header(*connection, ApiKey::kAppendEntries, 0);
  EXPECT_EQ(response.code(), ErrorCode::kUnsupportedVersion);
  expect_connection_still_works(*connection);
}

TEST(ListenerTest, UndecodableBodyIsAnsweredWithInvalidRequest) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  RequestHeader header{.api_key = ApiKey::kMetadata,
                       .correlation_id = connection->next_correlation_id()};
  Frames frames{encode_request_header(header).value(), Frame(std::string("\xFF\xFF\xFF\x7F"))};
  int32_t correlation_id = connection->send_frames(ApiKey::kMetadata, frames, true).value();
  Result<InboundResponse> response = connection->receive_for(correlation_id, kTimeoutMs);
  ASSERT_TRUE(response.is_ok()) << response.status().to_string();
  Result<MetadataResponse> decoded = decode_response<MetadataResponse>(*response);
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(decoded.status().message().find("field topics"), std::string::npos)
      << decoded.status().message();
  expect_connection_still_works(*connection);
}

TEST(ListenerTest, UnreadableHeaderIsAnsweredAndTheConnectionStaysUsable) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  int32_t correlation_id =
      connection->send_frames(ApiKey::kMetadata, Frames{Frame(std::string("junk"))}, true).value();
  Result<InboundResponse> response = connection->receive(kTimeoutMs);
  ASSERT_FALSE(response.is_ok());
  EXPECT_EQ(response.code(), ErrorCode::kInvalidRequest);
  connection->forget(correlation_id);
  expect_connection_still_works(*connection);
}

TEST(ListenerTest, RequestOverTheSizeLimitGetsMessageTooLargeAndTheConnectionStaysUsable) {
  TestBroker broker(ListenerOptions{.max_message_bytes = 64 * 1024});
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  // Each frame is under the limit (so ZeroMQ keeps the peer), their sum is not.
  ProduceRequest request;
  request.topics.push_back(
      {.name = "big",
       .partitions = {{.partition_index = 0, .records = Frame(std::string(40 * 1024, 'a'))},
                      {.partition_index = 1, .records = Frame(std::string(40 * 1024, 'b'))}}});
  Result<ProduceResponse> response = connection->call(request, 0, kTimeoutMs);
  EXPECT_EQ(response.code(), ErrorCode::kMessageTooLarge) << response.status().to_string();
  expect_connection_still_works(*connection);
  EXPECT_EQ(broker.produce_requests(), 0);
}

TEST(ListenerTest, ResponseTheBrokerCannotEncodeBecomesAnUnknownServerError) {
  TestBroker broker;
  std::unique_ptr<Connection> connection = connect_to(broker);
  ASSERT_NE(connection, nullptr);
  MetadataRequest request{.topics = std::vector<std::string>{TestBroker::kUnencodable}};
  Result<MetadataResponse> response = connection->call(request, 0, kTimeoutMs);
  EXPECT_EQ(response.code(), ErrorCode::kUnknown) << response.status().to_string();
  EXPECT_NE(response.status().message().find("cluster_id"), std::string::npos);
  expect_connection_still_works(*connection);
}

TEST(ListenerTest, ReplyToAPeerThatIsGoneFailsWithAStatus) {
  TestBroker broker(ListenerOptions{}, /*serve=*/false);
  ASSERT_TRUE(broker.status().is_ok());
  Status status = broker.listener().send_to("no-such-peer", Frames{Frame(std::string("x"))});
  EXPECT_EQ(status.code(), ErrorCode::kNetworkError);
  EXPECT_EQ(broker.listener().stats().replies_failed, 1u);
}

TEST(ListenerTest, BindingAnEndpointInUseFailsWithAStatus) {
  TestBroker first(ListenerOptions{}, /*serve=*/false);
  ASSERT_TRUE(first.status().is_ok());
  Result<std::unique_ptr<Listener>> second =
      Listener::bind(ListenerOptions{.endpoint = first.endpoint()});
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.code(), ErrorCode::kNetworkError);
}

TEST(ListenerTest, ReceiveReturnsNothingWhenNoRequestArrives) {
  TestBroker broker(ListenerOptions{}, /*serve=*/false);
  ASSERT_TRUE(broker.status().is_ok());
  Result<std::optional<InboundRequest>> request = broker.listener().receive(10);
  ASSERT_TRUE(request.is_ok());
  EXPECT_FALSE(request->has_value());
}

}  // namespace
}  // namespace mq::transport
