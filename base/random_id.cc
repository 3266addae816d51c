#include "base/random_id.h"

#include <random>

namespace mq {

uint64_t random_id() {
  std::random_device rd;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return id;
}

std::string random_hex(int digits) {
  const char* hex = "0123456789abcdef";
  std::string out;
  uint64_t bits = 0;
  for (int i = 0; i < digits; ++i) {
    if (i % 16 == 0) bits = random_id();
    out.push_back(hex[bits & 0xf]);
    bits >>= 4;
  }
  return out;
}

}  // namespace mq
