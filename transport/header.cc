// Encoding and decoding of the header frames.
#include "transport/header.h"

#include "transport/codec.h"

namespace mq::transport {
namespace {

template <class Header>
Result<Frame> encode_header(const Header& header) {
  std::string bytes;
  Frames no_records;
  BodyEncoder encoder(0, &bytes, &no_records);
  Header::fields(header, encoder);
  MQ_RETURN_IF_ERROR(encoder.status());
  return Frame(std::move(bytes));
}

template <class Header>
Result<Header> decode_header(std::span<const uint8_t> frame, ErrorCode error_code,
                             std::string_view what) {
  Header header;
  BodyDecoder decoder(0, frame, {}, error_code, what);
  Header::fields(header, decoder);
  MQ_RETURN_IF_ERROR(decoder.finish());
  return header;
}

}  // namespace

Result<Frame> encode_request_header(const RequestHeader& header) {
  return encode_header(header);
}

Result<Frame> encode_response_header(const ResponseHeader& header) {
  return encode_header(header);
}

Result<RequestHeader> decode_request_header(std::span<const uint8_t> frame) {
  MQ_ASSIGN_OR_RETURN(
      RequestHeader header,
      decode_header<RequestHeader>(frame, ErrorCode::kInvalidRequest, "request header"));
  if (header.correlation_id < 0) {
    return Status(
        ErrorCode::kInvalidRequest,
        "request header: correlation id " + std::to_string(header.correlation_id) + " is negative");
  }
  return header;
}

Result<ResponseHeader> decode_response_header(std::span<const uint8_t> frame) {
  return decode_header<ResponseHeader>(frame, ErrorCode::kCorruptMessage, "response header");
}

}  // namespace mq::transport
