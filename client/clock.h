// The clocks the client reads: monotonic milliseconds for deadlines and
// intervals, wall-clock milliseconds for record timestamps. Internal to client/.
#pragma once

#include <chrono>
#include <cstdint>

namespace mq::client {

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace mq::client
