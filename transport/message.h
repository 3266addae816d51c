// Whole messages: how a request or response struct becomes the frames of a
// ZeroMQ multipart message, and back.
//
//   request:   [header][body][record frame 1]...[record frame n]
//   response:  [header][body][record frame 1]...[record frame n]
//   error response (header error_code != 0): [header] only
//
// On the broker's ROUTER socket every message is preceded by the routing-id
// frame ZeroMQ adds; the DEALER side never sees it. Record frames carry
// record batches byte for byte as the log stores them; the body says which
// field each belongs to by the order of its `records` fields.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "transport/api.h"
#include "transport/codec.h"
#include "transport/frame.h"
#include "transport/header.h"

namespace mq::transport {

// A request as the broker receives it, before its body is decoded.
struct InboundRequest {
  std::string peer;          // ZeroMQ routing id of the sender; empty off the socket
  std::string peer_address;  // the sender's IP address, when the transport knows it
  std::string principal;     // who the sender authenticated as; empty when not asked
  RequestHeader header;
  Frame body;
  Frames records;
};

// A response as the client receives it, before its body is decoded.
struct InboundResponse {
  ResponseHeader header;
  Frame body;
  Frames records;
};

// Encodes `message` as [body][records...] at `version`.
template <class Message>
Result<Frames> encode_body(const Message& message, int16_t version) {
  if (!is_supported(Message::kApiKey, version)) {
    return Status(ErrorCode::kUnsupportedVersion, std::string(api_name(Message::kApiKey)) + " v" +
                                                      std::to_string(version) +
                                                      " is not supported by this build");
  }
  std::string body;
  Frames frames(1);
  BodyEncoder encoder(version, &body, &frames);
  Message::fields(message, encoder);
  MQ_RETURN_IF_ERROR(encoder.status());
  frames[0] = Frame(std::move(body));
  return frames;
}

// Decodes a body frame and its record frames; every byte and frame must be used.
template <class Message>
Result<Message> decode_body(const Frame& body, std::span<const Frame> records, int16_t version,
                            ErrorCode error_code) {
  std::string what = std::string(api_name(Message::kApiKey)) +
                     (error_code == ErrorCode::kInvalidRequest ? " request" : " response");
  if (!is_supported(Message::kApiKey, version)) {
    return Status(ErrorCode::kUnsupportedVersion,
                  what + " v" + std::to_string(version) + " is not supported by this build");
  }
  Message message;
  BodyDecoder decoder(version, body.bytes(), records, error_code, what);
  Message::fields(message, decoder);
  MQ_RETURN_IF_ERROR(decoder.finish());
  return message;
}

// The frames of a request: `header.api_key` is taken from the message type.
template <class Request>
Result<Frames> encode_request(const Request& request, RequestHeader header) {
  header.api_key = Request::kApiKey;
  MQ_ASSIGN_OR_RETURN(Frame header_frame, encode_request_header(header));
  MQ_ASSIGN_OR_RETURN(Frames body, encode_body(request, header.api_version));
  body.insert(body.begin(), std::move(header_frame));
  return body;
}

// The frames of a successful response to `request`, at the request's version.
template <class Response>
Result<Frames> encode_response(const Response& response, const RequestHeader& request) {
  ResponseHeader header{.api_key = request.api_key,
                        .api_version = request.api_version,
                        .correlation_id = request.correlation_id};
  MQ_ASSIGN_OR_RETURN(Frame header_frame, encode_response_header(header));
  MQ_ASSIGN_OR_RETURN(Frames body, encode_body(response, request.api_version));
  body.insert(body.begin(), std::move(header_frame));
  return body;
}

// A header-only response carrying a request-level error.
Frames encode_error_response(const RequestHeader& request, ErrorCode code,
                             std::string_view message);

// Server side: splits [header][body][records...], checks the header (api key
// known, version supported, flags known) and returns the request, or the
// error (kInvalidRequest, kUnsupportedVersion) to answer it with.
Result<InboundRequest> parse_request(std::span<const Frame> frames);

// The error response for frames that parse_request rejected: echoes as much
// of the header as is readable (correlation id -1 if none). Empty when the
// request asked for no response.
Frames error_response_for(std::span<const Frame> frames, const Status& error);

// Client side: splits [header][body][records...]; a response with a
// request-level error has no body.
Result<InboundResponse> parse_response(std::span<const Frame> frames);

template <class Request>
Result<Request> decode_request(const InboundRequest& request) {
  if (request.header.api_key != Request::kApiKey) {
    return Status(ErrorCode::kInvalidRequest,
                  "expected a " + std::string(api_name(Request::kApiKey)) + " request, got " +
                      std::string(api_name(request.header.api_key)));
  }
  return decode_body<Request>(request.body, request.records, request.header.api_version,
                              ErrorCode::kInvalidRequest);
}

// Returns the request-level error of the response as a Status, or the body.
template <class Response>
Result<Response> decode_response(const InboundResponse& response) {
  const ResponseHeader& header = response.header;
  if (header.error_code != ErrorCode::kNone) {
    return Status(header.error_code, header.error_message.value_or(""));
  }
  if (header.api_key != Response::kApiKey) {
    return Status(ErrorCode::kCorruptMessage,
                  "expected a " + std::string(api_name(Response::kApiKey)) + " response, got " +
                      std::string(api_name(header.api_key)));
  }
  return decode_body<Response>(response.body, response.records, header.api_version,
                               ErrorCode::kCorruptMessage);
}

}  // namespace mq::transport
