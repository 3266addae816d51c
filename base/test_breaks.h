// Deliberate defects for the fault harness to find (docs/faults.md, "Does
// the checker catch anything?"): MQ_TEST_BREAK=NAME[,NAME] in mqd's
// environment turns them on. Tests only; unset, each check is a comparison
// of a flag read once.
//
//   truncation  a follower keeps the divergent tail it should cut when it
//               reconciles with a new leader (replica_fetcher.cc)
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>

namespace mq {

inline bool test_break(std::string_view name) {
  static const std::string breaks = [] {
    const char* value = std::getenv("MQ_TEST_BREAK");
    return value == nullptr ? std::string() : "," + std::string(value) + ",";
  }();
  return !breaks.empty() && breaks.find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace mq
