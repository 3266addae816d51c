// Kafka's murmur2; see murmur2.h.
#include "base/murmur2.h"

namespace mq {

int32_t murmur2(std::string_view data) {
  // Unsigned arithmetic gives Java's wrapping int multiplication and >>>.
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<uint32_t>(data.size());
  uint32_t h = 0x9747b28c ^ length;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    const uint32_t i4 = i * 4;
    uint32_t k = uint32_t{bytes[i4]} | (uint32_t{bytes[i4 + 1]} << 8) |
                 (uint32_t{bytes[i4 + 2]} << 16) | (uint32_t{bytes[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint32_t tail = length & ~uint32_t{3};
  switch (length % 4) {
    case 3:
      h ^= uint32_t{bytes[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{bytes[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{bytes[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

}  // namespace mq
