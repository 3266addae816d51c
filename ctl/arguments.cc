// Shared argument parsers.
#include "ctl/arguments.h"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <set>

namespace mq::ctl {
namespace {

Status bad(std::string_view flag, std::string_view text, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig,
                "invalid " + std::string(flag) + " \"" + std::string(text) + "\": " + why);
}

bool parse_int32(std::string_view text, int32_t& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<std::pair<std::string, std::string>> parse_key_value(std::string_view flag,
                                                            std::string_view text) {
  size_t equals = text.find('=');
  if (equals == std::string_view::npos) return bad(flag, text, "expected key=value");
  if (equals == 0) return bad(flag, text, "the key is empty");
  return std::pair<std::string, std::string>(text.substr(0, equals), text.substr(equals + 1));
}

Result<std::vector<int32_t>> parse_partition_list(std::string_view flag, std::string_view text) {
  std::set<int32_t> partitions;
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t dash = item.find('-');
    int32_t first = 0, last = 0;
    if (dash == std::string_view::npos) {
      if (!parse_int32(item, first) || first < 0) {
        return bad(flag, text, "\"" + std::string(item) + "\" is not a partition number");
      }
      last = first;
    } else if (!parse_int32(item.substr(0, dash), first) ||
               !parse_int32(item.substr(dash + 1), last) || first < 0 || last < first) {
      return bad(flag, text, "\"" + std::string(item) + "\" is not a range FIRST-LAST");
    }
    if (last - first > 100'000) return bad(flag, text, "range too large");
    for (int32_t p = first; p <= last; ++p) partitions.insert(p);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return std::vector<int32_t>(partitions.begin(), partitions.end());
}

Result<std::string> parse_delimiter(std::string_view flag, std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 1 == text.size()) return bad(flag, text, "a lone \\ at the end");
    switch (text[++i]) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      default:
        return bad(flag, text, std::string("unknown escape \\") + text[i]);
    }
  }
  if (out.empty()) return bad(flag, text, "must not be empty");
  return out;
}

Result<int64_t> parse_byte_rate(std::string_view flag, std::string_view text) {
  std::string_view rest = text;
  if (rest.ends_with("/s")) rest.remove_suffix(2);
  size_t digits = 0;
  while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
  if (digits == 0) return bad(flag, text, "expected a number of bytes per second, like 50MB");
  int64_t number = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + digits, number);
  if (ec != std::errc() || end != rest.data() + digits) return bad(flag, text, "number too large");
  std::string unit;
  for (char c : rest.substr(digits))
    unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"", 1},
      {"b", 1},
      {"kb", 1000},
      {"mb", 1000 * 1000},
      {"gb", 1000 * 1000 * 1000},
      {"kib", 1024},
      {"mib", 1024 * 1024},
      {"gib", int64_t{1024} * 1024 * 1024}};
  for (const auto& [name, scale] : kUnits) {
    if (unit != name) continue;
    if (number < 1) return bad(flag, text, "must be at least 1 byte per second");
    if (number > INT64_MAX / scale) return bad(flag, text, "number too large");
    return number * scale;
  }
  return bad(flag, text, "unknown unit (use B, KB, MB, GB, KiB, MiB or GiB)");
}

Result<int> parse_acks(std::string_view text) {
  if (text == "all" || text == "-1") return -1;
  if (text == "1") return 1;
  if (text == "0") return 0;
  return bad("--acks", text, "use 0, 1 or all");
}

Result<int32_t> parse_node_id(std::string_view what, std::string_view text) {
  int32_t id = 0;
  if (!parse_int32(text, id) || id < 0) {
    return bad(what, text, "a node id is an integer >= 0");
  }
  return id;
}

}  // namespace mq::ctl
