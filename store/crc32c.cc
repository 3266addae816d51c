// CRC32C: runtime dispatch between the SSE4.2 instruction and slicing-by-8.
#include "store/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace mq::crc32c {
namespace {

constexpr uint32_t kPolyReflected = 0x82F63B78;

struct Tables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPolyReflected : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
      for (int s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};
constexpr Tables kTables;

uint32_t load_le32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // mq targets little-endian hosts; see docs/storage-format.md
}

}  // namespace

uint32_t extend_portable(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (size >= 8) {
    uint32_t lo = load_le32(p) ^ c;
    uint32_t hi = load_le32(p + 4);
    c = kTables.t[7][lo & 0xFF] ^ kTables.t[6][(lo >> 8) & 0xFF] ^ kTables.t[5][(lo >> 16) & 0xFF] ^
        kTables.t[4][lo >> 24] ^ kTables.t[3][hi & 0xFF] ^ kTables.t[2][(hi >> 8) & 0xFF] ^
        kTables.t[1][(hi >> 16) & 0xFF] ^ kTables.t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) c = kTables.t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
namespace {

// The crc32 instruction takes 3 cycles but can start one every cycle, so
// one dependency chain uses a third of it. Long inputs are cut into three
// lanes computed side by side, then joined: the CRC register of A||B is the
// register of A advanced over |B| zero bytes, XOR the register of B started
// from 0 (a CRC is linear). Advancing over a fixed number of zero bytes is a
// 32x32 matrix over GF(2), applied a byte of the register at a time through
// four 256-entry tables (the method of Mark Adler's crc32c.c).
constexpr size_t kLongLane = 8192;  // bytes per lane while three long lanes fit
constexpr size_t kShortLane = 256;  // then lanes this long

uint32_t gf2_times(const std::array<uint32_t, 32>& matrix, uint32_t vector) {
  uint32_t sum = 0;
  for (int i = 0; vector != 0; i++, vector >>= 1) {
    if (vector & 1) sum ^= matrix[i];
  }
  return sum;
}

std::array<uint32_t, 32> gf2_square(const std::array<uint32_t, 32>& matrix) {
  std::array<uint32_t, 32> square{};
  for (int i = 0; i < 32; i++) square[i] = gf2_times(matrix, matrix[i]);
  return square;
}

// Tables advancing a register over `bytes` zero bytes; `bytes` a power of 2.
struct ZeroShift {
  std::array<std::array<uint32_t, 256>, 4> t{};
  explicit ZeroShift(size_t bytes) {
    std::array<uint32_t, 32> op{};  // one zero bit
    op[0] = kPolyReflected;
    for (int i = 1; i < 32; i++) op[i] = 1u << (i - 1);
    for (int bits = 1; bits < 8; bits *= 2) op = gf2_square(op);  // one zero byte
    for (size_t n = 1; n < bytes; n *= 2) op = gf2_square(op);
    for (uint32_t i = 0; i < 256; i++) {
      for (int b = 0; b < 4; b++) t[b][i] = gf2_times(op, i << (8 * b));
    }
  }
  uint32_t operator()(uint32_t crc) const {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^ t[3][crc >> 24];
  }
};

uint64_t load_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Three lanes of `lane` bytes each from `p` into `crc`; returns the register.
template <size_t lane>
__attribute__((target("sse4.2"))) uint64_t three_lanes(uint64_t crc, const uint8_t* p,
                                                       const ZeroShift& shift) {
  uint64_t c1 = 0, c2 = 0;
  for (const uint8_t* end = p + lane; p < end; p += 8) {
    crc = _mm_crc32_u64(crc, load_u64(p));
    c1 = _mm_crc32_u64(c1, load_u64(p + lane));
    c2 = _mm_crc32_u64(c2, load_u64(p + 2 * lane));
  }
  crc = shift(static_cast<uint32_t>(crc)) ^ c1;
  return shift(static_cast<uint32_t>(crc)) ^ c2;
}

}  // namespace

__attribute__((target("sse4.2"))) uint32_t extend_hardware(uint32_t crc, const void* data,
                                                           size_t size) {
  static const ZeroShift long_shift(kLongLane);
  static const ZeroShift short_shift(kShortLane);
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = ~crc;
  // Up to an 8-byte boundary, so the lanes read aligned words.
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    size--;
  }
  while (size >= 3 * kLongLane) {
    c = three_lanes<kLongLane>(c, p, long_shift);
    p += 3 * kLongLane;
    size -= 3 * kLongLane;
  }
  while (size >= 3 * kShortLane) {
    c = three_lanes<kShortLane>(c, p, short_shift);
    p += 3 * kShortLane;
    size -= 3 * kShortLane;
  }
  while (size >= 8) {
    c = _mm_crc32_u64(c, load_u64(p));
    p += 8;
    size -= 8;
  }
  auto c32 = static_cast<uint32_t>(c);
  while (size-- > 0) c32 = _mm_crc32_u8(c32, *p++);
  return ~c32;
}

bool hardware_available() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}
#else
uint32_t extend_hardware(uint32_t crc, const void* data, size_t size) {
  return extend_portable(crc, data, size);
}
bool hardware_available() {
  return false;
}
#endif

uint32_t extend(uint32_t crc, const void* data, size_t size) {
  return hardware_available() ? extend_hardware(crc, data, size) : extend_portable(crc, data, size);
}

}  // namespace mq::crc32c
