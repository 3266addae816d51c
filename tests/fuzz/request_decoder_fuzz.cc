// libFuzzer target: the broker's path for one received request. Screening
// (header, api key, version) and the body decoder of every API must fail
// cleanly with INVALID_REQUEST or UNSUPPORTED_VERSION, and whatever decodes
// must re-encode to exactly the bytes received.
#include "tests/fuzz/fuzz_input.h"
#include "transport/message.h"
#include "transport/messages.h"

using namespace mq;
using namespace mq::transport;
using mq::transport::fuzzing::require;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Frames frames = fuzzing::split_frames(data, size);
  Result<InboundRequest> request = parse_request(frames);
  if (!request.is_ok()) {
    require(request.code() == ErrorCode::kInvalidRequest ||
            request.code() == ErrorCode::kUnsupportedVersion);
    Frames reply = error_response_for(frames, request.status());
    if (!reply.empty()) {
      Result<InboundResponse> response = parse_response(reply);
      require(response.is_ok() && response->header.error_code == request.code());
    }
    return 0;
  }
  bool known = visit_api(request->header.api_key, [&]<class Request>() {
    Result<Request> decoded = decode_request<Request>(*request);
    if (!decoded.is_ok()) {
      require(decoded.code() == ErrorCode::kInvalidRequest);
      require(!decoded.status().message().empty());
      return;
    }
    Result<Frames> again = encode_body(*decoded, request->header.api_version);
    require(again.is_ok());
    require((*again)[0] == request->body);
    require(again->size() == request->records.size() + 1);
    for (size_t i = 0; i < request->records.size(); ++i) {
      require((*again)[i + 1] == request->records[i]);
    }
  });
  // parse_request only passes api keys this build implements.
  require(known);
  return 0;
}
