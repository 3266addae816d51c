// Byte-level encoding used by the on-disk formats: fixed-width little-endian
// integers and zig-zag varints (protobuf's, as Kafka uses in records).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace mq {

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::span<uint8_t> as_writable_bytes(std::string& s) {
  return {reinterpret_cast<uint8_t*>(s.data()), s.size()};
}

}  // namespace mq

namespace mq::coding {

template <typename T>
inline void put_fixed(uint8_t* dst, T v) {
  std::memcpy(dst, &v, sizeof(T));  // little-endian host (static_assert in coding.cc)
}
template <typename T>
inline T get_fixed(const uint8_t* src) {
  T v;
  std::memcpy(&v, src, sizeof(T));
  return v;
}

inline uint64_t zigzag_encode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t zigzag_decode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

constexpr size_t kMaxVarintBytes = 10;

// Appends the zig-zag varint of `v` to `out`.
inline void append_varint(std::string& out, int64_t v) {
  uint64_t u = zigzag_encode(v);
  while (u >= 0x80) {
    out.push_back(static_cast<char>((u & 0x7F) | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<char>(u));
}

// Writes the zig-zag varint of `v` at `out` (room for kMaxVarintBytes);
// returns the byte after it.
inline uint8_t* put_varint(uint8_t* out, int64_t v) {
  uint64_t u = zigzag_encode(v);
  while (u >= 0x80) {
    *out++ = static_cast<uint8_t>((u & 0x7F) | 0x80);
    u >>= 7;
  }
  *out++ = static_cast<uint8_t>(u);
  return out;
}

inline size_t varint_size(int64_t v) {
  uint64_t u = zigzag_encode(v);
  size_t n = 1;
  while (u >= 0x80) {
    u >>= 7;
    n++;
  }
  return n;
}

// Reads a zig-zag varint from [*p, end). Advances *p and returns true on
// success; returns false (leaving *p unspecified) on truncated or overlong input.
inline bool read_varint(const uint8_t** p, const uint8_t* end, int64_t* out) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    uint8_t byte = *(*p)++;
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *out = zigzag_decode(result);
      return true;
    }
  }
  return false;
}

}  // namespace mq::coding
