// Compiling and rendering consume -f templates.
#include "ctl/record_format.h"

#include <algorithm>
#include <array>
#include <utility>

namespace mq::ctl {
namespace {

Status bad_format(std::string_view spec, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, "invalid -f \"" + std::string(spec) + "\": " + why);
}

}  // namespace

Result<RecordFormat> RecordFormat::parse(std::string_view spec) {
  static constexpr std::array<std::pair<std::string_view, Field>, 7> kPlaceholders{{
      {"key", Field::kKey},
      {"value", Field::kValue},
      {"headers", Field::kHeaders},
      {"topic", Field::kTopic},
      {"partition", Field::kPartition},
      {"offset", Field::kOffset},
      {"timestamp", Field::kTimestamp},
  }};
  RecordFormat format;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) format.parts_.push_back({Field::kLiteral, std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c == '\\') {
      if (i + 1 >= spec.size()) return bad_format(spec, "a lone \\ at the end");
      char escaped = spec[++i];
      if (escaped == 'n') {
        literal += '\n';
      } else if (escaped == 't') {
        literal += '\t';
      } else if (escaped == '\\') {
        literal += '\\';
      } else {
        return bad_format(spec,
                          std::string("unknown escape \\") + escaped + " (use \\n, \\t or \\\\)");
      }
    } else if (c == '{' && i + 1 < spec.size() && spec[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < spec.size() && spec[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      size_t close = spec.find('}', i);
      if (close == std::string_view::npos) return bad_format(spec, "unclosed {");
      std::string_view name = spec.substr(i + 1, close - i - 1);
      auto known =
          std::ranges::find(kPlaceholders, name, &std::pair<std::string_view, Field>::first);
      if (known == kPlaceholders.end()) {
        return bad_format(spec, "unknown placeholder {" + std::string(name) +
                                    "} (known: {key} {value} {headers} {topic} {partition} "
                                    "{offset} {timestamp})");
      }
      flush_literal();
      format.parts_.push_back({known->second, {}});
      i = close;
    } else if (c == '}') {
      return bad_format(spec, "a } without { (write }} for a literal brace)");
    } else {
      literal += c;
    }
  }
  flush_literal();
  return format;
}

void RecordFormat::render(const client::ConsumerRecord& record, std::string& out) const {
  for (const Part& part : parts_) {
    switch (part.field) {
      case Field::kLiteral:
        out += part.literal;
        break;
      case Field::kKey:
        if (record.key) out += *record.key;
        break;
      case Field::kValue:
        if (record.value) out += *record.value;
        break;
      case Field::kHeaders:
        for (size_t h = 0; h < record.headers.size(); ++h) {
          if (h > 0) out += ',';
          out += record.headers[h].key;
          out += '=';
          if (record.headers[h].value) out += *record.headers[h].value;
        }
        break;
      case Field::kTopic:
        out += record.topic;
        break;
      case Field::kPartition:
        out += std::to_string(record.partition);
        break;
      case Field::kOffset:
        out += std::to_string(record.offset);
        break;
      case Field::kTimestamp:
        out += std::to_string(record.timestamp_ms);
        break;
    }
  }
}

}  // namespace mq::ctl
