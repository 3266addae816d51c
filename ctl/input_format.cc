// Reading produce -f templates and --input json lines into records.
#include "ctl/input_format.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "ctl/text_codec.h"

namespace mq::ctl {
namespace {

using InputJson = nlohmann::json;

Status bad_record(const std::string& why) {
  return Status(ErrorCode::kInvalidRecord, why);
}

// A literal for a message, quoted, in the template's own escapes.
std::string printable(std::string_view literal) {
  std::string text = "\"";
  for (char c : literal) {
    if (c == '\n') {
      text += "\\n";
    } else if (c == '\t') {
      text += "\\t";
    } else if (c == '\\') {
      text += "\\\\";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      text += escaped;
    } else {
      text += c;
    }
  }
  return text + "\"";
}

bool readable(TemplateField field) {
  switch (field) {
    case TemplateField::kKey:
    case TemplateField::kValue:
    case TemplateField::kHeader:
    case TemplateField::kPartition:
    case TemplateField::kTimestamp:
      return true;
    default:
      return false;
  }
}

// The bytes of a field: `text` itself, or decoded into `buffer`.
Result<std::string_view> decode_field(const TemplatePart& part, std::string_view text,
                                      std::string& buffer) {
  if (part.encoding == ByteEncoding::kText) return text;
  Result<std::string> decoded =
      part.encoding == ByteEncoding::kHex ? decode_hex(text) : decode_base64(text);
  if (!decoded.is_ok()) return bad_record(part.placeholder + ": " + decoded.status().message());
  buffer = std::move(*decoded);
  return std::string_view(buffer);
}

// A whole decimal number in [0, max], or nullopt.
template <class Integer>
std::optional<Integer> parse_non_negative(std::string_view text) {
  Integer number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || end != text.data() + text.size() || number < 0) return std::nullopt;
  return number;
}

Status store_field(const TemplatePart& part, std::string_view text, InputRecord& record) {
  switch (part.field) {
    case TemplateField::kKey: {
      Result<std::string_view> key = decode_field(part, text, record.key_bytes);
      if (!key.is_ok()) return key.status();
      record.key = *key;
      return Status::ok();
    }
    case TemplateField::kValue: {
      Result<std::string_view> value = decode_field(part, text, record.value_bytes);
      if (!value.is_ok()) return value.status();
      record.value = *value;
      return Status::ok();
    }
    case TemplateField::kHeader: {
      std::string buffer;
      Result<std::string_view> value = decode_field(part, text, buffer);
      if (!value.is_ok()) return value.status();
      record.headers.push_back({part.text, std::string(*value)});
      return Status::ok();
    }
    case TemplateField::kPartition:
      record.partition = parse_non_negative<int32_t>(text);
      if (!record.partition) {
        return bad_record(part.placeholder + ": " + printable(text) + " is not a partition number");
      }
      return Status::ok();
    case TemplateField::kTimestamp:
      record.timestamp_ms = parse_non_negative<int64_t>(text);
      if (!record.timestamp_ms) {
        return bad_record(part.placeholder + ": " + printable(text) +
                          " is not a time in ms since the epoch");
      }
      return Status::ok();
    default:
      // parse() admits only the fields above.
      return bad_record(part.placeholder + " cannot be read");
  }
}

void reset(InputRecord& record) {
  record.key.reset();
  record.value.reset();
  record.headers.clear();
  record.partition.reset();
  record.timestamp_ms.reset();
}

// "key" or "value" of a JSON record: a string, or null when absent or null.
Status read_json_bytes(InputJson& object, const char* name, std::optional<std::string_view>& into,
                       std::string& buffer) {
  auto member = object.find(name);
  if (member == object.end() || member->is_null()) return Status::ok();
  if (!member->is_string()) {
    return bad_record(std::string("\"") + name + "\" must be a string or null, not " +
                      member->type_name());
  }
  buffer = std::move(member->get_ref<std::string&>());
  into = buffer;
  return Status::ok();
}

Status read_json_headers(InputJson& object, std::vector<client::Header>& headers) {
  auto member = object.find("headers");
  if (member == object.end() || member->is_null()) return Status::ok();
  if (!member->is_array()) {
    return bad_record(std::string("\"headers\" must be an array of {\"key\", \"value\"}, not ") +
                      member->type_name());
  }
  for (size_t i = 0; i < member->size(); ++i) {
    InputJson& header = (*member)[i];
    std::string where = "headers[" + std::to_string(i) + "]";
    if (!header.is_object()) return bad_record(where + " must be an object {\"key\", \"value\"}");
    auto key = header.find("key");
    if (key == header.end() || !key->is_string()) {
      return bad_record(where + ": \"key\" must be a string");
    }
    auto value = header.find("value");
    if (value == header.end() || value->is_null()) {
      headers.push_back({std::move(key->get_ref<std::string&>()), std::nullopt});
    } else if (value->is_string()) {
      headers.push_back(
          {std::move(key->get_ref<std::string&>()), std::move(value->get_ref<std::string&>())});
    } else {
      return bad_record(where + ": \"value\" must be a string or null, not " + value->type_name());
    }
  }
  return Status::ok();
}

// A JSON integer in [0, max] (JSON reads those as unsigned), or nullopt
// (absent or null) in `into`; anything else is an error naming `name`.
template <class Integer>
Status read_json_number(const InputJson& object, const char* name, const char* what,
                        std::optional<Integer>& into) {
  auto member = object.find(name);
  if (member == object.end() || member->is_null()) return Status::ok();
  if (!member->is_number_unsigned() ||
      member->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<Integer>::max())) {
    return bad_record(std::string("\"") + name + "\" must be " + what + ", not " + member->dump());
  }
  into = static_cast<Integer>(member->get<uint64_t>());
  return Status::ok();
}

}  // namespace

Result<InputFormat> InputFormat::parse(std::string_view spec) {
  Result<std::vector<TemplatePart>> parsed = parse_template(spec);
  if (!parsed.is_ok()) return parsed.status();
  const std::vector<TemplatePart>& parts = *parsed;
  if (parts.empty() || parts.back().field != TemplateField::kLiteral) {
    return template_error(spec,
                          "produce -f must end with a literal that ends each record, "
                          "e.g. {key}\\t{value}\\n");
  }
  InputFormat format;
  format.delimiter_ = parts.back().text;
  auto check_literal = [&](const std::string& literal) -> Status {
    if (literal.find(format.delimiter_) == std::string::npos) return Status::ok();
    return template_error(spec, "the record delimiter " + printable(format.delimiter_) +
                                    " (the last literal) is also in " + printable(literal) +
                                    " before it: records are split at the delimiter first, "
                                    "so no record could match");
  };
  size_t i = 0;
  if (parts.size() > 1 && parts[0].field == TemplateField::kLiteral) {
    format.prefix_ = parts[0].text;
    MQ_RETURN_IF_ERROR(check_literal(format.prefix_));
    i = 1;
  }
  std::vector<TemplateField> seen;
  // Literals are merged, so from here fields and literals alternate unless
  // two fields touch; the last part is the delimiter.
  for (; i + 1 < parts.size(); i += 2) {
    const TemplatePart& field = parts[i];
    if (!readable(field.field)) {
      return template_error(spec, field.placeholder +
                                      " is output-only: produce -f reads {key} {value} "
                                      "{header.NAME} {partition} {timestamp}");
    }
    if (field.field != TemplateField::kHeader) {
      if (std::ranges::find(seen, field.field) != seen.end()) {
        return template_error(spec, field.placeholder + " appears twice");
      }
      seen.push_back(field.field);
    }
    const TemplatePart& next = parts[i + 1];
    if (next.field != TemplateField::kLiteral) {
      return template_error(spec, field.placeholder + next.placeholder +
                                      ": two fields need a literal between them (where would " +
                                      field.placeholder + " end?)");
    }
    bool last = i + 2 == parts.size();
    if (!last) MQ_RETURN_IF_ERROR(check_literal(next.text));
    format.steps_.push_back({field, last ? std::string() : next.text});
  }
  if (format.steps_.empty()) {
    return template_error(spec,
                          "produce -f reads no field: give at least one of {key} {value} "
                          "{header.NAME} {partition} {timestamp}");
  }
  return format;
}

Status InputFormat::read(std::string_view text, InputRecord& record) const {
  reset(record);
  record.value = std::string_view();  // no {value}: an empty value, as an empty line sends
  if (!text.starts_with(prefix_)) return bad_record("does not start with " + printable(prefix_));
  size_t at = prefix_.size();
  for (const Step& step : steps_) {
    std::string_view field = text.substr(at);
    if (!step.separator.empty()) {
      size_t end = text.find(step.separator, at);
      if (end == std::string_view::npos) {
        return bad_record("no " + printable(step.separator) + " after " + step.field.placeholder);
      }
      field = text.substr(at, end - at);
      at = end + step.separator.size();
    }
    MQ_RETURN_IF_ERROR(store_field(step.field, field, record));
  }
  return Status::ok();
}

Status read_json_record(std::string_view line, InputRecord& record) {
  reset(record);
  InputJson object =
      InputJson::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return bad_record("not valid JSON");
  if (!object.is_object()) {
    return bad_record(std::string("not a JSON object but ") + object.type_name());
  }
  MQ_RETURN_IF_ERROR(read_json_bytes(object, "key", record.key, record.key_bytes));
  MQ_RETURN_IF_ERROR(read_json_bytes(object, "value", record.value, record.value_bytes));
  MQ_RETURN_IF_ERROR(read_json_headers(object, record.headers));
  MQ_RETURN_IF_ERROR(
      read_json_number(object, "partition", "a partition number (>= 0)", record.partition));
  MQ_RETURN_IF_ERROR(
      read_json_number(object, "timestamp", "ms since the epoch (>= 0)", record.timestamp_ms));
  return Status::ok();
}

bool is_blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

}  // namespace mq::ctl
