// Durations as people type them on a command line: "500ms", "5s", "1m30s",
// "2h", "7d". Used by --timeout, --from @-DURATION, --interval and profiles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mq::ctl {

// One or more NUMBER UNIT pairs (units ms, s, m, h, d), summed. A bare
// number is rejected: "5" could mean seconds or milliseconds.
Result<int64_t> parse_duration_ms(std::string_view text);

// The shortest exact spelling: 1500 -> "1500ms", 5000 -> "5s", 90000 -> "90s".
std::string format_duration_ms(int64_t ms);

// RocketMQ's delay levels 1..18 (1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m
// 10m 20m 30m 1h 2h) in milliseconds; kInvalidConfig outside them.
Result<int64_t> delay_level_ms(int level);

}  // namespace mq::ctl
