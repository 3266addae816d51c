// libFuzzer target: the authentication path a peer reaches before any
// request is read. The input is either a principals file's text (first byte
// even) or the frames of a ZAP request (odd; fuzz_input.h's layout). A
// principals file parses or fails with INVALID_CONFIG naming its line; a ZAP
// request always gets a well-formed reply (six frames, version 1.0, the
// request id back, status 200, 400 or 500), and 200 with a User-Id only for a
// key the domain's principals hold.
#include <zmq.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_input.h"
#include "transport/principals.h"
#include "transport/zap.h"

using namespace mq;
using namespace mq::transport;
using mq::transport::fuzzing::require;

namespace {

// A fixed principal for the fuzzed requests to find: the all-zero key.
const std::string& known_key() {
  static const std::string key = [] {
    uint8_t zeros[32] = {};
    char z85[41] = {};
    zmq_z85_encode(z85, zeros, sizeof zeros);
    return std::string(z85);
  }();
  return key;
}

class OneKey final : public Authenticator {
 public:
  std::optional<std::string> principal_of(std::string_view key) const override {
    if (key == known_key()) return "alice";
    return std::nullopt;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0) {
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    Result<PrincipalTable> table = PrincipalTable::parse(text, "principals");
    if (!table.is_ok()) {
      require(table.code() == ErrorCode::kInvalidConfig);
      require(table.status().message().starts_with("principals:"));
    } else {
      require(table->principal_of(known_key()) == nullptr ||
              check_principal_name(*table->principal_of(known_key())).is_ok());
    }
    return 0;
  }
  Frames frames = fuzzing::split_frames(data + 1, size - 1);
  std::vector<std::string> request;
  for (const Frame& frame : frames) request.emplace_back(frame.as_string_view());
  static const OneKey authenticator;
  std::vector<std::string> reply =
      answer_zap_request(request, [](std::string_view domain) -> const Authenticator* {
        return domain == "mq-0" ? &authenticator : nullptr;
      });
  require(reply.size() == 6);
  require(reply[0] == "1.0");
  require(reply[1] == (request.size() > 1 ? request[1] : ""));
  require(reply[2] == "200" || reply[2] == "400" || reply[2] == "500");
  if (reply[2] == "200") {
    require(request.size() >= 6 && request[0] == "1.0");
    if (request[2].empty()) {
      require(reply[4].empty());
    } else {
      require(request[2] == "mq-0" && request[5] == "CURVE" && reply[4] == known_key());
    }
  } else {
    require(reply[4].empty());
  }
  return 0;
}
