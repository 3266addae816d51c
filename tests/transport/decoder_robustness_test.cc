// Every decoder, at every version it supports, against hostile input: truncated, oversized, mutated
// and random bodies. A decoder must fail cleanly with the right error code, or succeed on input
// that re-encodes to exactly the same bytes. Seeded: set MQ_TEST_SEED to reproduce a failure (the
// seed is printed with it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "tests/transport/random_messages.h"
#include "transport/message.h"
#include "transport/messages.h"

namespace mq::transport {
namespace {

uint64_t base_seed() {
  const char* env = std::getenv("MQ_TEST_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20240611;
}

constexpr int kMessagesPerType = 24;

// Decodes `body` (+ `records`) as a Message; on success it must re-encode to
// the same body and records.
template <class Message>
void expect_clean_decode(int16_t version, std::span<const uint8_t> body, const Frames& records,
                         ErrorCode expected_error) {
  Frame body_frame = Frame::copy_of(body);
  Result<Message> decoded = decode_body<Message>(body_frame, records, version, expected_error);
  if (!decoded.is_ok()) {
    ASSERT_EQ(decoded.code(), expected_error) << decoded.status().to_string();
    ASSERT_FALSE(decoded.status().message().empty());
    return;
  }
  Result<Frames> again = encode_body(*decoded, version);
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  ASSERT_EQ((*again)[0], body_frame) << "a decodable body did not re-encode to the same bytes";
  ASSERT_EQ(again->size(), records.size() + 1);
}

template <class Message>
void exercise(uint64_t seed, int16_t version, ErrorCode expected_error) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kMessagesPerType; ++i) {
    Message message = testing::random_message<Message>(rng, version);
    Result<Frames> frames = encode_body(message, version);
    ASSERT_TRUE(frames.is_ok()) << frames.status().to_string();
    Frames records(frames->begin() + 1, frames->end());
    std::span<const uint8_t> body = (*frames)[0].bytes();

    // Round trip.
    Result<Message> decoded = decode_body<Message>((*frames)[0], records, version, expected_error);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    ASSERT_TRUE(*decoded == message);

    // Truncated: every proper prefix fails.
    for (size_t length = 0; length < body.size(); ++length) {
      Frame prefix = Frame::copy_of(body.subspan(0, length));
      Result<Message> truncated = decode_body<Message>(prefix, records, version, expected_error);
      ASSERT_FALSE(truncated.is_ok()) << "prefix of " << length << " of " << body.size();
      ASSERT_EQ(truncated.code(), expected_error);
    }

    // Oversized: trailing bytes fail.
    std::string longer(reinterpret_cast<const char*>(body.data()), body.size());
    longer.append(1 + rng() % 8, '\x01');
    ASSERT_EQ(decode_body<Message>(Frame(longer), records, version, expected_error).code(),
              expected_error);

    // Inflated lengths: a huge count or length at every offset.
    for (size_t offset = 0; offset + 4 <= body.size(); ++offset) {
      std::string inflated(reinterpret_cast<const char*>(body.data()), body.size());
      uint32_t huge = (rng() & 1) ? 0x7FFFFFFF : 0x7FFF7FFF;
      std::memcpy(inflated.data() + offset, &huge, 4);
      expect_clean_decode<Message>(version, Frame(inflated).bytes(), records, expected_error);
    }

    // Mutated: a few random bytes changed.
    for (int round = 0; round < 16 && !body.empty(); ++round) {
      std::string mutated(reinterpret_cast<const char*>(body.data()), body.size());
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        mutated[rng() % mutated.size()] = static_cast<char>(rng());
      }
      expect_clean_decode<Message>(version, Frame(mutated).bytes(), records, expected_error);
    }
  }
  // Random bodies, with and without record frames.
  for (int i = 0; i < 64; ++i) {
    std::string noise(rng() % 64, '\0');
    for (char& byte : noise) byte = static_cast<char>(rng());
    Frames records(rng() % 3, Frame(std::string("r")));
    expect_clean_decode<Message>(version, Frame(noise).bytes(), records, expected_error);
  }
}

TEST(DecoderRobustnessTest, EveryRequestDecoderFailsCleanlyOnHostileInput) {
  uint64_t seed = base_seed();
  SCOPED_TRACE("MQ_TEST_SEED=" + std::to_string(seed));
  for (const SupportedApi& api : supported_apis()) {
    SCOPED_TRACE(std::string(api_name(api.api_key)) + " request");
    for (int16_t v = api.versions.min_version; v <= api.versions.max_version; ++v) {
      SCOPED_TRACE("v" + std::to_string(v));
      visit_api(api.api_key, [&]<class Request>() {
        exercise<Request>(seed + static_cast<uint64_t>(api.api_key), v, ErrorCode::kInvalidRequest);
      });
    }
  }
}

TEST(DecoderRobustnessTest, EveryResponseDecoderFailsCleanlyOnHostileInput) {
  uint64_t seed = base_seed();
  SCOPED_TRACE("MQ_TEST_SEED=" + std::to_string(seed));
  for (const SupportedApi& api : supported_apis()) {
    SCOPED_TRACE(std::string(api_name(api.api_key)) + " response");
    for (int16_t v = api.versions.min_version; v <= api.versions.max_version; ++v) {
      SCOPED_TRACE("v" + std::to_string(v));
      visit_api(api.api_key, [&]<class Request>() {
        exercise<typename Request::Response>(seed + 1000 + static_cast<uint64_t>(api.api_key), v,
                                             ErrorCode::kCorruptMessage);
      });
    }
  }
}

TEST(DecoderRobustnessTest, RandomHeaderFramesNeverCrashTheRequestScreen) {
  uint64_t seed = base_seed();
  SCOPED_TRACE("MQ_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 2000; ++i) {
    Frames frames(rng() % 4);
    for (Frame& frame : frames) {
      std::string bytes(rng() % 24, '\0');
      for (char& byte : bytes) byte = static_cast<char>(rng() % 8);  // small values hit real keys
      frame = Frame(bytes);
    }
    Result<InboundRequest> request = parse_request(frames);
    if (request.is_ok()) continue;
    ASSERT_TRUE(request.code() == ErrorCode::kInvalidRequest ||
                request.code() == ErrorCode::kUnsupportedVersion)
        << request.status().to_string();
    Frames reply = error_response_for(frames, request.status());
    if (reply.empty()) continue;
    Result<InboundResponse> response = parse_response(reply);
    ASSERT_TRUE(response.is_ok()) << response.status().to_string();
    ASSERT_EQ(response->header.error_code, request.code());
  }
}

}  // namespace
}  // namespace mq::transport
