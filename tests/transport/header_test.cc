// Tests of the request and response header frames.
#include "transport/header.h"

#include <gtest/gtest.h>

namespace mq::transport {
namespace {

TEST(HeaderTest, RequestHeaderHasTheDocumentedLayout) {
  RequestHeader header{.api_key = ApiKey::kFetch,
                       .api_version = 2,
                       .correlation_id = 0x01020304,
                       .flags = kNoResponse,
                       .client_id = "cli"};
  Result<Frame> frame = encode_request_header(header);
  ASSERT_TRUE(frame.is_ok());
  const std::string expected(
      "\x03\x00\x02\x00\x04\x03\x02\x01\x01\x00\x03\x00"
      "cli",
      15);
  EXPECT_EQ(frame->as_string_view(), expected);
  Result<RequestHeader> decoded = decode_request_header(frame->bytes());
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, header);
  EXPECT_FALSE(decoded->expects_response());
}

TEST(HeaderTest, ResponseHeaderHasTheDocumentedLayout) {
  ResponseHeader header{.api_key = ApiKey::kProduce,
                        .api_version = 0,
                        .correlation_id = 5,
                        .error_code = ErrorCode::kUnsupportedVersion,
                        .error_message = "no"};
  Result<Frame> frame = encode_response_header(header);
  ASSERT_TRUE(frame.is_ok());
  const std::string expected("\x02\x00\x00\x00\x05\x00\x00\x00\x00\x00\x05\x00\x02\x00no", 16);
  EXPECT_EQ(frame->as_string_view(), expected);
  Result<ResponseHeader> decoded = decode_response_header(frame->bytes());
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, header);
}

TEST(HeaderTest, TruncatedRequestHeaderIsAnInvalidRequest) {
  Result<Frame> frame = encode_request_header(RequestHeader{.client_id = "abc"});
  ASSERT_TRUE(frame.is_ok());
  for (size_t length = 0; length < frame->size(); ++length) {
    Result<RequestHeader> decoded = decode_request_header(frame->bytes().subspan(0, length));
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  }
}

TEST(HeaderTest, TruncatedResponseHeaderIsACorruptMessage) {
  Result<Frame> frame = encode_response_header(ResponseHeader{.error_message = "x"});
  ASSERT_TRUE(frame.is_ok());
  Result<ResponseHeader> decoded = decode_response_header(frame->bytes().subspan(0, 13));
  EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
}

TEST(HeaderTest, NegativeCorrelationIdIsRejected) {
  Result<Frame> frame = encode_request_header(RequestHeader{.correlation_id = -4});
  ASSERT_TRUE(frame.is_ok());
  EXPECT_EQ(decode_request_header(frame->bytes()).code(), ErrorCode::kInvalidRequest);
}

TEST(HeaderTest, BytesAfterTheClientIdAreRejected) {
  Result<Frame> frame = encode_request_header(RequestHeader{.client_id = "a"});
  ASSERT_TRUE(frame.is_ok());
  std::string padded(frame->as_string_view());
  padded += '!';
  Frame longer(std::move(padded));
  EXPECT_EQ(decode_request_header(longer.bytes()).code(), ErrorCode::kInvalidRequest);
}

}  // namespace
}  // namespace mq::transport
