// Splitting received frames into header, body and record frames.
#include "transport/message.h"

#include <cstdio>
#include <cstring>

namespace mq::transport {

Frames encode_error_response(const RequestHeader& request, ErrorCode code,
                             std::string_view message) {
  ResponseHeader header{.api_key = request.api_key,
                        .api_version = request.api_version,
                        .correlation_id = request.correlation_id,
                        .error_code = code,
                        .error_message = std::string(message.substr(0, kMaxStringBytes))};
  Result<Frame> frame = encode_response_header(header);
  // The message is clipped to the string limit, so encoding cannot fail.
  assert(frame.is_ok());
  return Frames{std::move(frame).value()};
}

Result<InboundRequest> parse_request(std::span<const Frame> frames) {
  if (frames.empty()) return Status(ErrorCode::kInvalidRequest, "request has no header frame");
  MQ_ASSIGN_OR_RETURN(RequestHeader header, decode_request_header(frames[0].bytes()));
  if ((header.flags & ~kKnownRequestFlags) != 0) {
    char flags[8];
    std::snprintf(flags, sizeof(flags), "0x%04x", static_cast<unsigned>(header.flags));
    return Status(ErrorCode::kInvalidRequest,
                  std::string("request header: unknown flags ") + flags);
  }
  std::optional<VersionRange> versions = supported_versions(header.api_key);
  if (!versions) {
    return Status(ErrorCode::kUnsupportedVersion,
                  "api key " + std::to_string(static_cast<int16_t>(header.api_key)) +
                      " is not supported; send ApiVersions v0 to list the supported APIs");
  }
  if (!versions->contains(header.api_version)) {
    return Status(
        ErrorCode::kUnsupportedVersion,
        std::string(api_name(header.api_key)) + " v" + std::to_string(header.api_version) +
            " is not supported; this broker speaks v" + std::to_string(versions->min_version) +
            " to v" + std::to_string(versions->max_version));
  }
  if (frames.size() < 2) {
    return Status(ErrorCode::kInvalidRequest, std::string(api_name(header.api_key)) +
                                                  " request has a header frame but no body frame");
  }
  InboundRequest request{.header = std::move(header), .body = frames[1]};
  request.records.assign(frames.begin() + 2, frames.end());
  return request;
}

Frames error_response_for(std::span<const Frame> frames, const Status& error) {
  RequestHeader echo{.correlation_id = kUnknownCorrelationId};
  if (!frames.empty()) {
    Result<RequestHeader> header = decode_request_header(frames[0].bytes());
    if (header.is_ok()) {
      echo = std::move(header).value();
    } else if (frames[0].size() >= 10) {
      // The fixed fields are readable even if the client id is not: echo them
      // so the client can match the error to its request.
      const uint8_t* p = frames[0].data();
      std::memcpy(&echo.api_key, p, 2);
      std::memcpy(&echo.api_version, p + 2, 2);
      std::memcpy(&echo.correlation_id, p + 4, 4);
      std::memcpy(&echo.flags, p + 8, 2);
      if (echo.correlation_id < 0) echo.correlation_id = kUnknownCorrelationId;
    }
  }
  if (!echo.expects_response()) return {};
  return encode_error_response(echo, error.code(), error.message());
}

Result<InboundResponse> parse_response(std::span<const Frame> frames) {
  if (frames.empty()) return Status(ErrorCode::kCorruptMessage, "response has no header frame");
  MQ_ASSIGN_OR_RETURN(ResponseHeader header, decode_response_header(frames[0].bytes()));
  if (header.error_code != ErrorCode::kNone) {
    if (frames.size() != 1) {
      return Status(ErrorCode::kCorruptMessage,
                    "error response for correlation id " + std::to_string(header.correlation_id) +
                        " carries " + std::to_string(frames.size() - 1) +
                        " frames after its header");
    }
    return InboundResponse{.header = std::move(header)};
  }
  if (frames.size() < 2) {
    return Status(ErrorCode::kCorruptMessage, "response for correlation id " +
                                                  std::to_string(header.correlation_id) +
                                                  " has no body frame");
  }
  InboundResponse response{.header = std::move(header), .body = frames[1]};
  response.records.assign(frames.begin() + 2, frames.end());
  return response;
}

}  // namespace mq::transport
