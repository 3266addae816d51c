// libFuzzer target: the client's path for one received response. The header
// and the body decoder of every API must fail cleanly with CORRUPT_MESSAGE
// (or surface the header's error), and whatever decodes must re-encode to
// exactly the bytes received.
#include "tests/fuzz/fuzz_input.h"
#include "transport/message.h"
#include "transport/messages.h"

using namespace mq;
using namespace mq::transport;
using mq::transport::fuzzing::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Frames frames = fuzzing::split_frames(data, size);
  Result<InboundResponse> response = parse_response(frames);
  if (!response.is_ok()) {
    require(response.code() == ErrorCode::kCorruptMessage);
    return 0;
  }
  const ResponseHeader& header = response->header;
  visit_api(header.api_key, [&]<class Request>() {
    using Response = typename Request::Response;
    Result<Response> decoded = decode_response<Response>(*response);
    if (header.error_code != ErrorCode::kNone) {
      require(decoded.code() == header.error_code);
      return;
    }
    if (!decoded.is_ok()) {
      require(decoded.code() == ErrorCode::kCorruptMessage ||
              decoded.code() == ErrorCode::kUnsupportedVersion);
      return;
    }
    Result<Frames> again = encode_body(*decoded, header.api_version);
    require(again.is_ok());
    require((*again)[0] == response->body);
    require(again->size() == response->records.size() + 1);
    for (size_t i = 0; i < response->records.size(); ++i) {
      require((*again)[i + 1] == response->records[i]);
    }
  });
  return 0;
}
