// The quorum endpoint's frames: round trips and malformed input.
#include "quorum/wire.h"

#include <gtest/gtest.h>

#include "transport/header.h"

namespace mq::quorum {
namespace {

using transport::ApiKey;
using transport::Frame;
using transport::Frames;

raft::Message append_request() {
  raft::AppendEntriesRequest request{
      .term = 3, .prev_log_index = 7, .prev_log_term = 2, .leader_commit = 6};
  request.entries.push_back({8, 3, raft::EntryType::kCommand, {1, 2, 3}});
  return raft::Message{1, 2, request};
}

TEST(WireTest, RaftMessagesRoundTripOnTheirApiKeys) {
  std::vector<raft::Message> messages = {
      {1, 2, raft::VoteRequest{4, 10, 3, true}},
      {2, 1, raft::VoteResponse{4, true, true}},
      append_request(),
      {2, 1, raft::AppendEntriesResponse{3, true, 8, 7, 0, 0}},
      {1, 3, raft::InstallSnapshotRequest{3, 100, 2, 0, {9, 9}, true}},
      {3, 1, raft::InstallSnapshotResponse{3, 100, 2, true}},
  };
  for (const raft::Message& message : messages) {
    Frames frames = encode_raft_frames(message);
    ASSERT_EQ(frames.size(), 2u);
    auto header = transport::decode_request_header(frames[0].bytes());
    ASSERT_TRUE(header);
    EXPECT_EQ(header->api_key, raft::api_key(message));
    EXPECT_EQ(header->flags, transport::kNoResponse);
    EXPECT_EQ(header->client_id, "quorum-" + std::to_string(message.from));
    EXPECT_EQ(header->api_version, raft::kMessageVersion);
    EXPECT_EQ(sender_endpoint(frames[0]), "");
    auto decoded = decode_inbound(frames);
    ASSERT_TRUE(decoded) << decoded.status().to_string();
    EXPECT_EQ(std::get<raft::Message>(decoded.value()), message);
  }
}

TEST(WireTest, ControllerCallsRoundTrip) {
  Frames request = encode_call_request(42, {.from = 3, .request = {5, 6, 7}});
  auto decoded = decode_inbound(request);
  ASSERT_TRUE(decoded) << decoded.status().to_string();
  const auto& call = std::get<InboundCall>(decoded.value());
  EXPECT_EQ(call.correlation_id, 42);
  EXPECT_EQ(call.request, (ControllerCallRequest{3, {5, 6, 7}}));

  ControllerCallResponse response{.error_code = ErrorCode::kNotController,
                                  .error_message = "not the controller (leader: 2)",
                                  .leader_id = 2};
  auto reply = decode_reply(encode_call_response(42, response));
  ASSERT_TRUE(reply) << reply.status().to_string();
  EXPECT_EQ(reply->correlation_id, 42);
  EXPECT_EQ(reply->response, response);
}

TEST(WireTest, AHeaderOnlyErrorResponseBecomesAnErrorReply) {
  Frames frames;
  frames.push_back(transport::encode_response_header({.api_key = ApiKey::kControllerCall,
                                                      .correlation_id = 5,
                                                      .error_code = ErrorCode::kInvalidRequest,
                                                      .error_message = "bad"})
                       .value());
  auto reply = decode_reply(frames);
  ASSERT_TRUE(reply) << reply.status().to_string();
  EXPECT_EQ(reply->response.error_code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(reply->response.error_message, "bad");
}

TEST(WireTest, TheHeaderCarriesTheSendersEndpointAndVersionZeroStillDecodes) {
  raft::Message vote{1, 2, raft::VoteRequest{4, 10, 3, true, "dir-1"}};
  Frames frames = encode_raft_frames(vote, "tcp://127.0.0.1:9193");
  EXPECT_EQ(sender_endpoint(frames[0]), "tcp://127.0.0.1:9193");
  auto decoded = decode_inbound(frames);
  ASSERT_TRUE(decoded) << decoded.status().to_string();
  EXPECT_EQ(std::get<raft::Message>(decoded.value()), vote);
  // Not an endpoint: ignored.
  EXPECT_EQ(sender_endpoint(encode_raft_frames(vote, "somewhere")[0]), "");
  // Version 0 (before directory ids): decoded without them.
  Frames old = encode_raft_frames(vote, {}, 0);
  decoded = decode_inbound(old);
  ASSERT_TRUE(decoded) << decoded.status().to_string();
  EXPECT_EQ(std::get<raft::VoteRequest>(std::get<raft::Message>(decoded.value()).body).directory_id,
            "");
  // A version above the one served is refused.
  Frames newer = encode_raft_frames(vote, {}, raft::kMessageVersion + 1);
  decoded = decode_inbound(newer);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.status().message().find("is not served"), std::string::npos);
}

// The body a build from before request_id sends: the version 0 encoding
// without its last 8 bytes (request_id is the last field of both messages).
Frames without_request_id(const raft::Message& message) {
  Frames frames = encode_raft_frames(message, {}, 0);
  std::string_view body = frames[1].as_string_view();
  frames[1] = Frame::copy_of(body.substr(0, body.size() - sizeof(uint64_t)));
  return frames;
}

TEST(WireTest, AppendEntriesFromBeforeRequestIdDecodeWithRequestIdZero) {
  raft::Message request = append_request();
  std::get<raft::AppendEntriesRequest>(request.body).request_id = 77;
  raft::Message response{2, 1, raft::AppendEntriesResponse{3, false, 0, 7, 5, 2, 77, ""}};
  for (raft::Message message : {request, response}) {
    auto decoded = decode_inbound(without_request_id(message));
    ASSERT_TRUE(decoded) << raft::describe(message) << ": " << decoded.status().to_string();
    std::visit(
        [](auto& body) {
          if constexpr (requires { body.request_id; }) body.request_id = 0;
        },
        message.body);
    EXPECT_EQ(std::get<raft::Message>(decoded.value()), message);
  }
  // A heartbeat (no entries) and a request with several entries, too.
  raft::Message heartbeat{1, 2, raft::AppendEntriesRequest{.term = 4, .prev_log_index = 9}};
  auto decoded = decode_inbound(without_request_id(heartbeat));
  ASSERT_TRUE(decoded) << decoded.status().to_string();
  EXPECT_EQ(std::get<raft::Message>(decoded.value()), heartbeat);
  raft::Message batch = append_request();
  auto& entries = std::get<raft::AppendEntriesRequest>(batch.body).entries;
  entries.push_back({9, 3, raft::EntryType::kNoop, {}});
  entries.push_back({10, 3, raft::EntryType::kCommand, std::vector<uint8_t>(40, 7)});
  decoded = decode_inbound(without_request_id(batch));
  ASSERT_TRUE(decoded) << decoded.status().to_string();
  EXPECT_EQ(std::get<raft::Message>(decoded.value()), batch);
}

TEST(WireTest, OnlyAppendEntriesAreAcceptedWithoutTheirLastEightBytes) {
  // The other kinds never had a request_id: 8 bytes short is truncated.
  for (const raft::Message& message : std::vector<raft::Message>{
           {1, 2, raft::VoteRequest{4, 10, 3, true}},
           {1, 3, raft::InstallSnapshotRequest{3, 100, 2, 0, std::vector<uint8_t>(16, 9), true}},
           {3, 1, raft::InstallSnapshotResponse{3, 100, 2, true}}}) {
    auto decoded = decode_inbound(without_request_id(message));
    EXPECT_FALSE(decoded) << raft::describe(message);
    EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage) << raft::describe(message);
  }
  // Neither is an append missing more than its request_id.
  Frames frames = without_request_id(append_request());
  std::string_view body = frames[1].as_string_view();
  EXPECT_FALSE(decode_inbound(Frames{frames[0], Frame::copy_of(body.substr(0, body.size() - 1))}));
}

void expect_rejected(const Frames& frames, const std::string& fragment) {
  auto decoded = decode_inbound(frames);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(decoded.status().message().find(fragment), std::string::npos)
      << decoded.status().message();
}

TEST(WireTest, MalformedInboundMessagesAreRejectedWithTheReason) {
  Frames good = encode_raft_frames(append_request());
  expect_rejected({good[0]}, "1 frames, not 2");
  expect_rejected({good[0], good[1], good[1]}, "3 frames, not 2");
  expect_rejected({Frame::copy_of(std::string_view("\x01\x02")), good[1]}, "request header");

  // Every truncation of the body fails, none crashes, except the one that
  // drops exactly the trailing request_id: that is the layout of builds from
  // before it (AppendEntriesFromBeforeRequestIdDecodeWithRequestIdZero).
  std::string_view body = good[1].as_string_view();
  const size_t legacy_size = body.size() - sizeof(uint64_t);
  for (size_t size = 0; size < body.size(); ++size) {
    if (size == legacy_size) continue;
    EXPECT_FALSE(decode_inbound(Frames{good[0], Frame::copy_of(body.substr(0, size))})) << size;
  }
  std::string trailing(body);
  trailing.push_back('\0');
  EXPECT_FALSE(decode_inbound(Frames{good[0], Frame(trailing)}));

  // The right body on the wrong key.
  Frames vote = encode_raft_frames({1, 2, raft::VoteRequest{4, 10, 3, false}});
  expect_rejected({vote[0], good[1]}, "arrived on api key 200");

  auto header = [](ApiKey key, int16_t version, uint16_t flags) {
    return transport::encode_request_header(
               {.api_key = key, .api_version = version, .flags = flags, .client_id = "x"})
        .value();
  };
  expect_rejected({header(ApiKey::kAppendEntries, 2, transport::kNoResponse), good[1]},
                  "version 2 is not served");
  expect_rejected({header(ApiKey::kControllerCall, 1, 0), good[1]}, "version 1 is not served");
  expect_rejected({header(ApiKey::kAppendEntries, 0, 0), good[1]}, "kNoResponse");
  expect_rejected({header(ApiKey::kProduce, 0, 0), good[1]}, "api key 2 is not served");
  expect_rejected({header(ApiKey::kControllerCall, 0, 0), Frame::copy_of(std::string_view("xy"))},
                  "ControllerCall");
  expect_rejected({header(ApiKey::kControllerCall, 0, transport::kNoResponse), good[1]}, "flags");
}

TEST(WireTest, MalformedRepliesAreRejected) {
  Frames good = encode_call_response(1, {.response = {1}});
  EXPECT_FALSE(decode_reply(Frames{}));
  EXPECT_FALSE(decode_reply(Frames{good[0]}));
  EXPECT_FALSE(decode_reply(Frames{good[0], good[1], good[1]}));
  EXPECT_FALSE(decode_reply(Frames{good[0], Frame::copy_of(std::string_view("\x00"))}));
  Frames wrong_key = encode_raft_frames(append_request());  // a request header, not a response
  EXPECT_EQ(decode_reply(wrong_key).code(), ErrorCode::kCorruptMessage);
}

}  // namespace
}  // namespace mq::quorum
