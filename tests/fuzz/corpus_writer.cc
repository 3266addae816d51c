// Writes the seed corpus of the decoder fuzzers: for every API, valid
// encoded requests and responses (seeded random contents), one file each,
// in the fuzzers' input layout. Usage: fuzz_corpus_writer <corpus dir>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "tests/fuzz/fuzz_input.h"
#include "tests/transport/random_messages.h"
#include "transport/message.h"
#include "transport/messages.h"

using namespace mq;
using namespace mq::transport;

namespace {

constexpr int kSeedsPerMessage = 3;

bool write_file(const std::filesystem::path& path, const Frames& frames) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string bytes = fuzzing::join_frames(frames);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <corpus dir>\n";
    return 2;
  }
  std::filesystem::path root = argv[1];
  std::filesystem::create_directories(root / "request_decoder");
  std::filesystem::create_directories(root / "response_decoder");
  std::mt19937_64 rng(20240611);
  bool ok = true;
  for (const SupportedApi& api : supported_apis()) {
    std::string name(api_name(api.api_key));
    visit_api(api.api_key, [&]<class Request>() {
      using Response = typename Request::Response;
      for (int i = 0; i < kSeedsPerMessage; ++i) {
        RequestHeader header{
            .api_version = api.versions.max_version, .correlation_id = i, .client_id = "corpus"};
        Result<Frames> request = encode_request(
            transport::testing::random_message<Request>(rng, header.api_version), header);
        header.api_key = api.api_key;
        Result<Frames> response = encode_response(
            transport::testing::random_message<Response>(rng, header.api_version), header);
        if (!request.is_ok() || !response.is_ok()) {
          std::cerr << name << ": cannot encode a sample\n";
          ok = false;
          return;
        }
        std::string file = name + "_" + std::to_string(i);
        ok &= write_file(root / "request_decoder" / file, *request);
        ok &= write_file(root / "response_decoder" / file, *response);
      }
    });
  }
  // A request at an unsupported version, and the error response it gets.
  RequestHeader unsupported{.api_key = ApiKey::kFetch, .api_version = 99};
  ok &= write_file(root / "request_decoder" / "unsupported_version",
                   Frames{encode_request_header(unsupported).value(), Frame(std::string())});
  ok &= write_file(root / "response_decoder" / "error_response",
                   encode_error_response(unsupported, ErrorCode::kUnsupportedVersion,
                                         "Fetch v99 is not supported"));
  if (!ok) return 1;
  std::cout << "wrote the corpus under " << root << "\n";
  return 0;
}
