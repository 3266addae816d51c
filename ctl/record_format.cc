// Parsing -f templates, and rendering consume -f's.
#include "ctl/record_format.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <optional>

#include "ctl/context.h"
#include "ctl/output.h"
#include "ctl/text_codec.h"

namespace mq::ctl {

void render_record(const Context& ctx, const RecordFormat& format,
                   const client::ConsumerRecord& record, std::string& out) {
  if (ctx.output == OutputFormat::kJson) {
    out += to_json_line(record_json(record));
    out += '\n';
  } else if (ctx.output == OutputFormat::kYaml) {
    out += "---\n" + to_yaml(record_json(record));
  } else {
    format.render(record, out);
  }
}

nlohmann::ordered_json record_json(const client::ConsumerRecord& record) {
  using json = nlohmann::ordered_json;
  json headers = json::array();
  for (const client::Header& h : record.headers) {
    headers.push_back({{"key", h.key}, {"value", h.value ? json(*h.value) : json(nullptr)}});
  }
  return {{"topic", record.topic},
          {"partition", record.partition},
          {"offset", record.offset},
          {"timestamp", record.timestamp_ms},
          {"key", record.key ? json(*record.key) : json(nullptr)},
          {"value", record.value ? json(*record.value) : json(nullptr)},
          {"headers", headers}};
}
namespace {

constexpr std::string_view kKnownPlaceholders =
    "known: {key} {value} {header.NAME} {headers} {key_size} {value_size} {topic} {partition} "
    "{offset} {timestamp} {timestamp:iso}; :text :hex :base64 after key, value, header.NAME "
    "and headers";

struct Placeholder {
  std::string_view name;
  TemplateField field;
  bool takes_encoding;
};

constexpr std::array<Placeholder, 10> kPlaceholders{{
    {"key", TemplateField::kKey, true},
    {"value", TemplateField::kValue, true},
    {"headers", TemplateField::kHeaders, true},
    {"key_size", TemplateField::kKeySize, false},
    {"value_size", TemplateField::kValueSize, false},
    {"topic", TemplateField::kTopic, false},
    {"partition", TemplateField::kPartition, false},
    {"offset", TemplateField::kOffset, false},
    {"timestamp", TemplateField::kTimestamp, false},
    {"header.", TemplateField::kHeader, true},  // matched as a prefix, below
}};

std::optional<ByteEncoding> parse_encoding(std::string_view name) {
  if (name == "text") return ByteEncoding::kText;
  if (name == "hex") return ByteEncoding::kHex;
  if (name == "base64") return ByteEncoding::kBase64;
  return std::nullopt;
}

// The placeholder between braces: `inside` is "value:hex", "header.trace", ...
Result<TemplatePart> parse_placeholder(std::string_view spec, std::string_view inside) {
  TemplatePart part;
  part.placeholder.append("{").append(inside).append("}");
  std::string_view name = inside;
  std::optional<std::string_view> suffix;
  constexpr std::string_view kHeaderPrefix = "header.";
  if (inside.starts_with(kHeaderPrefix)) {
    // The last ':' splits, so a header name may hold ':' when an encoding follows.
    std::string_view rest = inside.substr(kHeaderPrefix.size());
    size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos) suffix = rest.substr(colon + 1);
    part.text = rest.substr(0, colon);
    if (part.text.empty()) {
      return template_error(spec, part.placeholder + " needs a header name: {header.NAME}");
    }
    name = kHeaderPrefix;
  } else if (size_t colon = inside.find(':'); colon != std::string_view::npos) {
    name = inside.substr(0, colon);
    suffix = inside.substr(colon + 1);
  }
  auto known = std::ranges::find(kPlaceholders, name, &Placeholder::name);
  if (known == kPlaceholders.end()) {
    return template_error(spec, "unknown placeholder " + part.placeholder + " (" +
                                    std::string(kKnownPlaceholders) + ")");
  }
  part.field = known->field;
  if (!suffix) return part;
  std::string bare = "{" + std::string(name == kHeaderPrefix ? "header.NAME" : name) + "}";
  if (known->field == TemplateField::kTimestamp) {
    if (*suffix != "iso") {
      return template_error(spec, part.placeholder + ": " + bare + " takes only :iso");
    }
    part.field = TemplateField::kTimestampIso;
    return part;
  }
  if (!known->takes_encoding) {
    return template_error(spec, part.placeholder + ": " + bare +
                                    " takes no encoding (only {key} {value} {header.NAME} "
                                    "{headers} do)");
  }
  std::optional<ByteEncoding> encoding = parse_encoding(*suffix);
  if (!encoding) {
    return template_error(spec, "unknown encoding \"" + std::string(*suffix) + "\" in " +
                                    part.placeholder + " (known: :text :hex :base64)");
  }
  part.encoding = *encoding;
  return part;
}

void append_bytes(std::string_view bytes, ByteEncoding encoding, std::string& out) {
  switch (encoding) {
    case ByteEncoding::kText:
      out += bytes;
      break;
    case ByteEncoding::kHex:
      append_hex(bytes, out);
      break;
    case ByteEncoding::kBase64:
      append_base64(bytes, out);
      break;
  }
}

void append_integer(int64_t number, std::string& out) {
  char text[24];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), number);
  out.append(text, end);
}

void append_size(const std::optional<std::string>& bytes, std::string& out) {
  append_integer(bytes ? static_cast<int64_t>(bytes->size()) : -1, out);
}

// Days since 1970-01-01 as a proleptic Gregorian date (Howard Hinnant's
// civil_from_days), in 64 bits: any int64 timestamp converts without overflow.
struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate civil_from_days(int64_t days) {
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  auto day_of_era = static_cast<uint64_t>(days - era * 146097);
  uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  uint64_t shifted_month = (5 * day_of_year + 2) / 153;
  auto day = static_cast<unsigned>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  auto month = static_cast<unsigned>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

void append_iso_time(int64_t timestamp_ms, std::string& out) {
  constexpr int64_t kMsPerDay = 86'400'000;
  int64_t days = timestamp_ms / kMsPerDay;
  int64_t ms_of_day = timestamp_ms % kMsPerDay;
  if (ms_of_day < 0) {  // before 1970: the time of day still counts forward
    ms_of_day += kMsPerDay;
    --days;
  }
  CivilDate date = civil_from_days(days);
  char text[64];
  int n = std::snprintf(text, sizeof(text), "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                        static_cast<long long>(date.year), date.month, date.day,
                        static_cast<long long>(ms_of_day / 3'600'000),
                        static_cast<long long>(ms_of_day / 60'000 % 60),
                        static_cast<long long>(ms_of_day / 1'000 % 60),
                        static_cast<long long>(ms_of_day % 1'000));
  out.append(text, static_cast<size_t>(n));
}

}  // namespace

std::string format_iso_time(int64_t timestamp_ms) {
  std::string out;
  append_iso_time(timestamp_ms, out);
  return out;
}

Status template_error(std::string_view spec, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, "invalid -f \"" + std::string(spec) + "\": " + why);
}

Result<std::vector<TemplatePart>> parse_template(std::string_view spec) {
  std::vector<TemplatePart> parts;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) parts.push_back({.text = std::move(literal)});
    literal.clear();
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    char c = spec[i];
    if (c == '\\') {
      if (i + 1 >= spec.size()) return template_error(spec, "a lone \\ at the end");
      char escaped = spec[++i];
      if (escaped == 'n') {
        literal += '\n';
      } else if (escaped == 't') {
        literal += '\t';
      } else if (escaped == '\\') {
        literal += '\\';
      } else {
        return template_error(
            spec, std::string("unknown escape \\") + escaped + " (use \\n, \\t or \\\\)");
      }
    } else if (c == '{' && i + 1 < spec.size() && spec[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < spec.size() && spec[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      size_t close = spec.find('}', i);
      if (close == std::string_view::npos) return template_error(spec, "unclosed {");
      Result<TemplatePart> part = parse_placeholder(spec, spec.substr(i + 1, close - i - 1));
      if (!part.is_ok()) return part.status();
      flush_literal();
      parts.push_back(std::move(*part));
      i = close;
    } else if (c == '}') {
      return template_error(spec, "a } without { (write }} for a literal brace)");
    } else {
      literal += c;
    }
  }
  flush_literal();
  return parts;
}

Result<RecordFormat> RecordFormat::parse(std::string_view spec) {
  Result<std::vector<TemplatePart>> parts = parse_template(spec);
  if (!parts.is_ok()) return parts.status();
  RecordFormat format;
  format.parts_ = std::move(*parts);
  return format;
}

void RecordFormat::render(const client::ConsumerRecord& record, std::string& out) const {
  for (const TemplatePart& part : parts_) {
    switch (part.field) {
      case TemplateField::kLiteral:
        out += part.text;
        break;
      case TemplateField::kKey:
        if (record.key) append_bytes(*record.key, part.encoding, out);
        break;
      case TemplateField::kValue:
        if (record.value) append_bytes(*record.value, part.encoding, out);
        break;
      case TemplateField::kHeader: {
        auto header = std::ranges::find(record.headers, part.text, &client::Header::key);
        if (header != record.headers.end() && header->value) {
          append_bytes(*header->value, part.encoding, out);
        }
        break;
      }
      case TemplateField::kHeaders:
        for (size_t h = 0; h < record.headers.size(); ++h) {
          if (h > 0) out += ',';
          out += record.headers[h].key;
          out += '=';
          if (record.headers[h].value) append_bytes(*record.headers[h].value, part.encoding, out);
        }
        break;
      case TemplateField::kKeySize:
        append_size(record.key, out);
        break;
      case TemplateField::kValueSize:
        append_size(record.value, out);
        break;
      case TemplateField::kTopic:
        out += record.topic;
        break;
      case TemplateField::kPartition:
        append_integer(record.partition, out);
        break;
      case TemplateField::kOffset:
        append_integer(record.offset, out);
        break;
      case TemplateField::kTimestamp:
        append_integer(record.timestamp_ms, out);
        break;
      case TemplateField::kTimestampIso:
        append_iso_time(record.timestamp_ms, out);
        break;
    }
  }
}

}  // namespace mq::ctl
