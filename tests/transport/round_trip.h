// Test support: encodes a request or response into frames, parses and decodes
// them back, and checks the result equals the original and re-encodes to the
// same bytes.
#pragma once

#include <gtest/gtest.h>

#include "transport/message.h"

namespace mq::transport::testing {

inline std::string concatenate(const Frames& frames) {
  std::string bytes;
  for (const Frame& frame : frames) {
    bytes += std::to_string(frame.size()) + ":";
    bytes += frame.as_string_view();
  }
  return bytes;
}

template <class Request>
Request expect_request_round_trip(const Request& request, int16_t version = 0) {
  RequestHeader header{.api_version = version, .correlation_id = 7, .client_id = "round-trip"};
  Result<Frames> frames = encode_request(request, header);
  EXPECT_TRUE(frames.is_ok()) << frames.status().to_string();
  if (!frames.is_ok()) return {};
  Result<InboundRequest> inbound = parse_request(*frames);
  EXPECT_TRUE(inbound.is_ok()) << inbound.status().to_string();
  if (!inbound.is_ok()) return {};
  EXPECT_EQ(inbound->header.api_key, Request::kApiKey);
  EXPECT_EQ(inbound->header.correlation_id, 7);
  Result<Request> decoded = decode_request<Request>(*inbound);
  EXPECT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  if (!decoded.is_ok()) return {};
  EXPECT_TRUE(*decoded == request);
  Result<Frames> again = encode_request(*decoded, header);
  EXPECT_TRUE(again.is_ok());
  if (again.is_ok()) {
    EXPECT_EQ(concatenate(*again), concatenate(*frames));
  }
  return std::move(decoded).value();
}

template <class Response>
Response expect_response_round_trip(const Response& response, int16_t version = 0) {
  RequestHeader request{.api_key = Response::kApiKey, .api_version = version, .correlation_id = 9};
  Result<Frames> frames = encode_response(response, request);
  EXPECT_TRUE(frames.is_ok()) << frames.status().to_string();
  if (!frames.is_ok()) return {};
  Result<InboundResponse> inbound = parse_response(*frames);
  EXPECT_TRUE(inbound.is_ok()) << inbound.status().to_string();
  if (!inbound.is_ok()) return {};
  EXPECT_EQ(inbound->header.correlation_id, 9);
  Result<Response> decoded = decode_response<Response>(*inbound);
  EXPECT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  if (!decoded.is_ok()) return {};
  EXPECT_TRUE(*decoded == response);
  Result<Frames> again = encode_response(*decoded, request);
  EXPECT_TRUE(again.is_ok());
  if (again.is_ok()) {
    EXPECT_EQ(concatenate(*again), concatenate(*frames));
  }
  return std::move(decoded).value();
}

}  // namespace mq::transport::testing
