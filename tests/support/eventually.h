// eventually(): waits, polling, until what a test observes holds, instead
// of sleeping a fixed time and hoping.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace mq::testing {

// The bound when a test names none: long enough for a loaded machine, short
// enough that a condition that never holds fails the test promptly.
inline constexpr std::chrono::milliseconds kEventuallyLimit = std::chrono::seconds(10);

// True once `condition` holds, checked every `poll` until `limit` has
// passed; then one last check.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = kEventuallyLimit,
                       std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace mq::testing
