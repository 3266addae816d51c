// Parsing --from specs and turning them into offsets.
#include "ctl/start_position.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <string>

#include "ctl/duration.h"

namespace mq::ctl {
namespace {

Status bad_spec(std::string_view spec, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, "invalid --from \"" + std::string(spec) + "\": " + why);
}

// Parses exactly `digits` decimal digits at `at`, advancing it.
bool take_number(std::string_view text, size_t& at, size_t digits, int& out) {
  if (at + digits > text.size()) return false;
  auto [end, error] = std::from_chars(text.data() + at, text.data() + at + digits, out);
  if (error != std::errc() || end != text.data() + at + digits) return false;
  at += digits;
  return true;
}

bool take_char(std::string_view text, size_t& at, char c) {
  if (at >= text.size() || text[at] != c) return false;
  ++at;
  return true;
}

}  // namespace

Result<int64_t> parse_iso8601_ms(std::string_view text) {
  auto bad = [&] {
    return Status(ErrorCode::kInvalidConfig,
                  "\"" + std::string(text) +
                      "\" is not a date-time (expected e.g. 2026-11-25T10:00:00Z or 2026-11-25)");
  };
  std::tm tm{};
  size_t at = 0;
  int year = 0, month = 0, day = 0;
  if (!take_number(text, at, 4, year) || !take_char(text, at, '-') ||
      !take_number(text, at, 2, month) || !take_char(text, at, '-') ||
      !take_number(text, at, 2, day)) {
    return bad();
  }
  int hour = 0, minute = 0, second = 0, millis = 0;
  int64_t offset_minutes = 0;
  bool local_time = false;
  if (at < text.size()) {
    if (text[at] != 'T' && text[at] != ' ') return bad();
    ++at;
    if (!take_number(text, at, 2, hour) || !take_char(text, at, ':') ||
        !take_number(text, at, 2, minute)) {
      return bad();
    }
    if (take_char(text, at, ':') && !take_number(text, at, 2, second)) return bad();
    if (take_char(text, at, '.')) {
      // Fractions beyond milliseconds are cut off.
      size_t digits = 0;
      while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
        if (digits < 3) millis = millis * 10 + (text[at] - '0');
        ++digits;
        ++at;
      }
      if (digits == 0) return bad();
      for (; digits < 3; ++digits) millis *= 10;
    }
    if (take_char(text, at, 'Z')) {
      // UTC.
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
      int sign = text[at] == '-' ? -1 : 1;
      ++at;
      int zone_hours = 0, zone_minutes = 0;
      if (!take_number(text, at, 2, zone_hours)) return bad();
      take_char(text, at, ':');
      if (!take_number(text, at, 2, zone_minutes)) return bad();
      offset_minutes = sign * (zone_hours * 60 + zone_minutes);
    } else {
      local_time = true;  // no zone: the local time zone, as Kafka's tools read it
    }
  }
  if (at != text.size() || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return bad();
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  tm.tm_isdst = -1;  // mktime: whether daylight saving applies then
  time_t seconds = local_time ? std::mktime(&tm) : timegm(&tm);
  if (tm.tm_mday != day) return bad();  // normalized e.g. February 30
  return (static_cast<int64_t>(seconds) - offset_minutes * 60) * 1000 + millis;
}

Result<int64_t> parse_time_ms(std::string_view text, int64_t now_ms) {
  std::string_view time = text.starts_with('@') ? text.substr(1) : text;
  if (time.starts_with('-')) {
    Result<int64_t> ago = parse_duration_ms(time.substr(1));
    if (!ago.is_ok()) return ago.status();
    return now_ms - *ago;
  }
  int64_t epoch_ms = 0;
  auto [end, error] = std::from_chars(time.data(), time.data() + time.size(), epoch_ms);
  if (!time.empty() && error == std::errc() && end == time.data() + time.size()) return epoch_ms;
  return parse_iso8601_ms(time);
}

Result<StartPosition> parse_start_position(std::string_view spec, int64_t now_ms) {
  using Kind = StartPosition::Kind;
  if (spec == "beginning" || spec == "earliest") return StartPosition{Kind::kBeginning, 0};
  if (spec == "end" || spec == "latest") return StartPosition{Kind::kEnd, 0};
  if (spec.empty()) return bad_spec(spec, "empty");
  if (spec.front() == '@') {
    Result<int64_t> time = parse_time_ms(spec, now_ms);
    if (!time.is_ok()) return bad_spec(spec, time.status().message());
    return StartPosition{Kind::kTimestamp, *time};
  }
  int64_t number = 0;
  auto [end, error] = std::from_chars(spec.data(), spec.data() + spec.size(), number);
  if (error != std::errc() || end != spec.data() + spec.size()) {
    return bad_spec(spec, "expected beginning, end, OFFSET, -N, @TIME or @-DURATION");
  }
  if (spec.front() == '-') return StartPosition{Kind::kLastN, -number};
  return StartPosition{Kind::kOffset, number};
}

int64_t resolve_start_offset(const StartPosition& position, int64_t log_start, int64_t log_end,
                             int64_t offset_for_time) {
  using Kind = StartPosition::Kind;
  int64_t offset = log_end;
  switch (position.kind) {
    case Kind::kBeginning:
      offset = log_start;
      break;
    case Kind::kEnd:
      offset = log_end;
      break;
    case Kind::kOffset:
      offset = position.value;
      break;
    case Kind::kLastN:
      offset = log_end - position.value;
      break;
    case Kind::kTimestamp:
      offset = offset_for_time < 0 ? log_end : offset_for_time;
      break;
  }
  return std::clamp(offset, log_start, log_end);
}

}  // namespace mq::ctl
