// The header frame that opens every request and response message.
//
// Request header frame (12 + n bytes, little-endian):
//   off size field
//     0    2 api_key          int16, see transport/api.h
//     2    2 api_version      int16, the version the body is encoded in
//     4    4 correlation_id   int32 >= 0, echoed in the response
//     8    2 flags            uint16; bit 0 = kNoResponse (Produce acks=0): the
//                             server sends nothing back. Other bits must be 0.
//    10    2 client_id length int16 n, 0..32767
//    12    n client_id        bytes, for logs and quotas
//
// Response header frame (14 + n bytes):
//     0    2 api_key          int16, echoed from the request
//     2    2 api_version      int16, echoed from the request
//     4    4 correlation_id   int32, echoed; -1 if the request header was unreadable
//     8    2 flags            uint16, 0 (no flags defined yet)
//    10    2 error_code       int16: request-level error (UNSUPPORTED_VERSION,
//                             INVALID_REQUEST, ...); 0 means a body follows
//    12    2 error message length, int16 n, -1 = null
//    14    n error message    UTF-8 text for people
//
// Neither frame may carry bytes after its last field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "transport/api.h"
#include "transport/frame.h"

namespace mq::transport {

enum RequestFlag : uint16_t {
  kNoResponse = 1 << 0,
};
constexpr uint16_t kKnownRequestFlags = kNoResponse;

struct RequestHeader {
  ApiKey api_key = ApiKey::kApiVersions;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  uint16_t flags = 0;
  std::string client_id;

  bool expects_response() const { return (flags & kNoResponse) == 0; }
  bool operator==(const RequestHeader&) const = default;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("api_key", m.api_key);
    c("api_version", m.api_version);
    c("correlation_id", m.correlation_id);
    c("flags", m.flags);
    c("client_id", m.client_id);
  }
};

struct ResponseHeader {
  ApiKey api_key = ApiKey::kApiVersions;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  uint16_t flags = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;

  bool operator==(const ResponseHeader&) const = default;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("api_key", m.api_key);
    c("api_version", m.api_version);
    c("correlation_id", m.correlation_id);
    c("flags", m.flags);
    c("error_code", m.error_code);
    c("error_message", m.error_message);
  }
};

constexpr int32_t kUnknownCorrelationId = -1;

Result<Frame> encode_request_header(const RequestHeader& header);
Result<Frame> encode_response_header(const ResponseHeader& header);

// Failures are kInvalidRequest for requests, kCorruptMessage for responses.
Result<RequestHeader> decode_request_header(std::span<const uint8_t> frame);
Result<ResponseHeader> decode_response_header(std::span<const uint8_t> frame);

}  // namespace mq::transport
