// The -f templates of mqctl: `consume -f` renders each record with one
// (RecordFormat, below) and `produce -f` reads records back with the same
// syntax (ctl/input_format.h), so what one prints the other reads.
//
// A template is literal text with placeholders; \n \t \\ are escapes and
// {{ }} are literal braces.
//   {key} {value}            the bytes; a null key or value is nothing
//   {header.NAME}            the value of the first header NAME; nothing if
//                            there is none or it is null
//   {headers}                every header as k1=v1,k2=v2
//   {key_size} {value_size}  bytes; -1 for null (kcat's %K and %S)
//   {topic} {partition} {offset}
//   {timestamp}              ms since the epoch
//   {timestamp:iso}          ISO 8601 UTC with ms: 2026-12-06T10:00:00.250Z
// {key} {value} {header.NAME} and {headers} (each header value) take an
// encoding: :text (as is, the default), :hex (lowercase) or :base64 (RFC
// 4648, padded), e.g. {value:base64} {header.trace:hex}. A header NAME with
// a ':' in it needs the encoding spelled out: {header.a:b:text}.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/record.h"

namespace mq::ctl {

enum class TemplateField {
  kLiteral,
  kKey,
  kValue,
  kHeader,
  kHeaders,
  kKeySize,
  kValueSize,
  kTopic,
  kPartition,
  kOffset,
  kTimestamp,
  kTimestampIso,
};

// How a placeholder writes (or reads) bytes.
enum class ByteEncoding { kText, kHex, kBase64 };

struct TemplatePart {
  TemplateField field = TemplateField::kLiteral;
  ByteEncoding encoding = ByteEncoding::kText;
  // The literal text, or the NAME of {header.NAME}.
  std::string text;
  // The placeholder as written ("{value:hex}"), for messages; empty for a literal.
  std::string placeholder;
};

// A record as `consume -o json` prints it: {"topic", "partition", "offset",
// "timestamp", "key", "value", "headers": [{"key", "value"}]}, nulls as null.
nlohmann::ordered_json record_json(const client::ConsumerRecord& record);

class Context;
class RecordFormat;
// Appends `record` to `out` as -o and -f ask (consume, message find): one
// record_json line (-o json), one YAML document (-o yaml), or the template.
void render_record(const Context& ctx, const RecordFormat& format,
                   const client::ConsumerRecord& record, std::string& out);

// A template's parts in order, adjacent literals merged. The error names the
// offending placeholder or escape.
Result<std::vector<TemplatePart>> parse_template(std::string_view spec);

// "invalid -f "SPEC": WHY": the error of every template problem.
Status template_error(std::string_view spec, const std::string& why);

class RecordFormat {
 public:
  static Result<RecordFormat> parse(std::string_view spec);

  // Appends `record` rendered by the template to `out`. It runs per message,
  // so it allocates nothing beyond what `out` grows by.
  void render(const client::ConsumerRecord& record, std::string& out) const;

 private:
  std::vector<TemplatePart> parts_;
};

// "2026-12-05T10:00:00.000Z": milliseconds since the epoch as {timestamp:iso} prints them.
std::string format_iso_time(int64_t timestamp_ms);

}  // namespace mq::ctl
