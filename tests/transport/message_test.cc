// Tests of whole-message framing: request screening, error responses and
// response parsing.
#include "transport/message.h"

#include <gtest/gtest.h>

#include "transport/messages.h"

namespace mq::transport {
namespace {

Frames heartbeat_frames(RequestHeader header) {
  Result<Frames> frames =
      encode_request(HeartbeatRequest{.group_id = "g", .member_id = "m"}, header);
  EXPECT_TRUE(frames.is_ok());
  return std::move(frames).value();
}

TEST(MessageTest, ParsesAServableRequest) {
  Frames frames = heartbeat_frames({.correlation_id = 3, .client_id = "c"});
  Result<InboundRequest> request = parse_request(frames);
  ASSERT_TRUE(request.is_ok()) << request.status().to_string();
  EXPECT_EQ(request->header.api_key, ApiKey::kHeartbeat);
  EXPECT_EQ(request->header.client_id, "c");
  EXPECT_TRUE(request->records.empty());
}

TEST(MessageTest, UnknownApiKeyIsUnsupportedVersion) {
  Frames frames = heartbeat_frames({.correlation_id = 3});
  Frame header = encode_request_header({.api_key = static_cast<ApiKey>(777)}).value();
  frames[0] = header;
  EXPECT_EQ(parse_request(frames).code(), ErrorCode::kUnsupportedVersion);
}

TEST(MessageTest, ReservedApiKeyIsUnsupportedVersion) {
  Frames frames = heartbeat_frames({});
  frames[0] = encode_request_header({.api_key = ApiKey::kVote}).value();
  EXPECT_EQ(parse_request(frames).code(), ErrorCode::kUnsupportedVersion);
}

TEST(MessageTest, VersionOutsideTheSupportedRangeIsUnsupportedVersion) {
  Frames frames = heartbeat_frames({});
  frames[0] = encode_request_header({.api_key = ApiKey::kHeartbeat, .api_version = 9}).value();
  Result<InboundRequest> request = parse_request(frames);
  EXPECT_EQ(request.code(), ErrorCode::kUnsupportedVersion);
  EXPECT_NE(request.status().message().find("Heartbeat v9"), std::string::npos);
}

TEST(MessageTest, UnknownFlagsAreAnInvalidRequest) {
  Frames frames = heartbeat_frames({.flags = 0x8000});
  Result<InboundRequest> request = parse_request(frames);
  EXPECT_EQ(request.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(request.status().message().find("0x8000"), std::string::npos);
}

TEST(MessageTest, RequestWithoutABodyFrameIsAnInvalidRequest) {
  Frames frames = heartbeat_frames({});
  frames.resize(1);
  EXPECT_EQ(parse_request(frames).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(parse_request({}).code(), ErrorCode::kInvalidRequest);
}

TEST(MessageTest, EncodingAtAnUnsupportedVersionFails) {
  Result<Frames> frames = encode_request(HeartbeatRequest{}, RequestHeader{.api_version = 4});
  EXPECT_EQ(frames.code(), ErrorCode::kUnsupportedVersion);
}

TEST(MessageTest, ErrorResponseEchoesTheRequestHeader) {
  Frames frames = heartbeat_frames({.api_version = 0, .correlation_id = 41});
  Frames reply = error_response_for(frames, Status(ErrorCode::kUnsupportedVersion, "nope"));
  ASSERT_EQ(reply.size(), 1u);
  Result<InboundResponse> response = parse_response(reply);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->header.correlation_id, 41);
  EXPECT_EQ(response->header.api_key, ApiKey::kHeartbeat);
  EXPECT_EQ(response->header.error_code, ErrorCode::kUnsupportedVersion);
  Result<HeartbeatResponse> decoded = decode_response<HeartbeatResponse>(*response);
  EXPECT_EQ(decoded.code(), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(decoded.status().message(), "nope");
}

TEST(MessageTest, ErrorResponseToAHeaderWithABadClientIdStillEchoesTheCorrelationId) {
  Frame header = encode_request_header({.correlation_id = 12, .client_id = "abc"}).value();
  std::string bytes(header.as_string_view());
  bytes[10] = 100;  // client id length now runs past the frame
  Frames reply = error_response_for(Frames{Frame(bytes)}, Status(ErrorCode::kInvalidRequest, ""));
  Result<InboundResponse> response = parse_response(reply);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->header.correlation_id, 12);
}

TEST(MessageTest, ErrorResponseToAnUnreadableHeaderUsesCorrelationIdMinusOne) {
  Frames reply = error_response_for(Frames{Frame(std::string("xy"))},
                                    Status(ErrorCode::kInvalidRequest, "short"));
  Result<InboundResponse> response = parse_response(reply);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->header.correlation_id, kUnknownCorrelationId);
}

TEST(MessageTest, NoErrorResponseForARequestThatAskedForNone) {
  Frames frames = heartbeat_frames({.flags = kNoResponse});
  EXPECT_TRUE(error_response_for(frames, Status(ErrorCode::kInvalidRequest, "x")).empty());
}

TEST(MessageTest, ErrorResponseWithABodyIsCorrupt) {
  Frames reply = encode_error_response({}, ErrorCode::kUnknown, "x");
  reply.push_back(Frame(std::string("body")));
  EXPECT_EQ(parse_response(reply).code(), ErrorCode::kCorruptMessage);
}

TEST(MessageTest, SuccessfulResponseWithoutABodyIsCorrupt) {
  Frames reply{encode_response_header({}).value()};
  EXPECT_EQ(parse_response(reply).code(), ErrorCode::kCorruptMessage);
}

TEST(MessageTest, DecodingARequestAsTheWrongTypeFails) {
  Result<InboundRequest> request = parse_request(heartbeat_frames({}));
  ASSERT_TRUE(request.is_ok());
  EXPECT_EQ(decode_request<JoinGroupRequest>(*request).code(), ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace mq::transport
