// CRC32C against the RFC 3720 (iSCSI) test vectors, both implementations.
#include "store/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mq {
namespace {

struct Vector {
  std::vector<uint8_t> data;
  uint32_t crc;
};

std::vector<Vector> known_vectors() {
  std::vector<Vector> v;
  v.push_back({std::vector<uint8_t>(32, 0x00), 0x8A9136AA});
  v.push_back({std::vector<uint8_t>(32, 0xFF), 0x62A8AB43});
  std::vector<uint8_t> ascending(32), descending(32);
  for (int i = 0; i < 32; i++) {
    ascending[i] = static_cast<uint8_t>(i);
    descending[i] = static_cast<uint8_t>(31 - i);
  }
  v.push_back({ascending, 0x46DD794E});
  v.push_back({descending, 0x113FDB5C});
  std::string digits = "123456789";
  v.push_back({std::vector<uint8_t>(digits.begin(), digits.end()), 0xE3069283});
  v.push_back({{}, 0x00000000});
  return v;
}

TEST(Crc32c, PortableMatchesKnownVectors) {
  for (const auto& v : known_vectors()) {
    EXPECT_EQ(crc32c::extend_portable(0, v.data.data(), v.data.size()), v.crc);
  }
}

TEST(Crc32c, HardwareMatchesKnownVectors) {
  if (!crc32c::hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  for (const auto& v : known_vectors()) {
    EXPECT_EQ(crc32c::extend_hardware(0, v.data.data(), v.data.size()), v.crc);
  }
}

TEST(Crc32c, ExtendingInPiecesEqualsOneShot) {
  std::mt19937 rng(42);
  std::vector<uint8_t> data(10000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  uint32_t whole = crc32c::value(data.data(), data.size());
  for (size_t split : {0UL, 1UL, 7UL, 8UL, 9UL, 4999UL, 9999UL}) {
    uint32_t a = crc32c::extend(0, data.data(), split);
    EXPECT_EQ(crc32c::extend(a, data.data() + split, data.size() - split), whole) << split;
  }
}

TEST(Crc32c, ImplementationsAgreeOnRandomInput) {
  if (!crc32c::hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937 rng(7);
  for (int round = 0; round < 200; round++) {
    std::vector<uint8_t> data(rng() % 3000);
    for (auto& b : data) b = static_cast<uint8_t>(rng());
    size_t skip = data.empty() ? 0 : rng() % data.size();  // unaligned starts
    EXPECT_EQ(crc32c::extend_portable(0, data.data() + skip, data.size() - skip),
              crc32c::extend_hardware(0, data.data() + skip, data.size() - skip));
  }
}

// The hardware path cuts inputs of 768 bytes and more into three lanes
// (24 KiB lanes, then 768-byte ones): sizes around and across those edges,
// from every alignment.
TEST(Crc32c, InterleavedLanesAgreeWithThePortableCode) {
  if (!crc32c::hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::mt19937 rng(11);
  std::vector<uint8_t> data(200'000);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t size : {767UL, 768UL, 769UL, 1535UL, 1536UL, 24'575UL, 24'576UL, 24'577UL, 25'344UL,
                      49'152UL, 65'536UL, 100'003UL, 199'990UL}) {
    for (size_t skip = 0; skip < 8; skip++) {
      EXPECT_EQ(crc32c::extend_portable(0x1234567, data.data() + skip, size),
                crc32c::extend_hardware(0x1234567, data.data() + skip, size))
          << size << " bytes from offset " << skip;
    }
  }
  for (int round = 0; round < 50; round++) {
    size_t size = rng() % data.size();
    size_t skip = rng() % (data.size() - size + 1);
    EXPECT_EQ(crc32c::extend_portable(0, data.data() + skip, size),
              crc32c::extend_hardware(0, data.data() + skip, size))
        << size << " bytes from offset " << skip;
  }
}

}  // namespace
}  // namespace mq
