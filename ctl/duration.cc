// Parsing and printing of human durations.
#include "ctl/duration.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace mq::ctl {

Result<int64_t> parse_duration_ms(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status(ErrorCode::kInvalidConfig,
                  "invalid duration \"" + std::string(text) + "\": " + why);
  };
  if (text.empty()) return bad("empty (examples: 500ms, 5s, 1m30s, 2h)");
  int64_t total_ms = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    int64_t number = 0;
    auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (error != std::errc() || number < 0)
      return bad("expected a number at \"" + std::string(rest) + "\"");
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    size_t unit_length = 0;
    while (unit_length < rest.size() &&
           std::isalpha(static_cast<unsigned char>(rest[unit_length]))) {
      ++unit_length;
    }
    std::string_view unit = rest.substr(0, unit_length);
    rest.remove_prefix(unit_length);
    int64_t scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 3600 * 1000;
    } else if (unit == "d") {
      scale = 24 * 3600 * 1000;
    } else if (unit.empty()) {
      return bad("a number needs a unit (ms, s, m, h or d)");
    } else {
      return bad("unknown unit \"" + std::string(unit) + "\" (use ms, s, m, h or d)");
    }
    if (number > (std::numeric_limits<int64_t>::max() - total_ms) / scale) return bad("too long");
    total_ms += number * scale;
  }
  return total_ms;
}

std::string format_duration_ms(int64_t ms) {
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

Result<int64_t> delay_level_ms(int level) {
  static constexpr int64_t kLevels[] = {1,   5,   10,  30,  60,  120,  180,  240,  300,
                                        360, 420, 480, 540, 600, 1200, 1800, 3600, 7200};
  if (level < 1 || level > 18) {
    return Status(
        ErrorCode::kInvalidConfig,
        "delay level " + std::to_string(level) +
            " is not one of RocketMQ's 1..18 (1s 5s 10s 30s 1m 2m ... 10m 20m 30m 1h 2h)");
  }
  return kLevels[level - 1] * 1000;
}

}  // namespace mq::ctl
