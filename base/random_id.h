// Random ids for things that must not collide across processes and restarts
// (broker incarnations, topic ids, cluster ids, seeds): drawn from the OS's
// entropy, never 0 (0 means "none" wherever such an id is stored).
#pragma once

#include <cstdint>
#include <string>

namespace mq {

uint64_t random_id();
// `digits` random lowercase hex digits.
std::string random_hex(int digits);

}  // namespace mq
