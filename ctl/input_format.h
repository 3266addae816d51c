// How `mqctl produce` reads records when a line is not simply a value:
//
//   -f TEMPLATE   the syntax of consume -f (ctl/record_format.h), read back:
//                 {key} {value} {header.NAME} with :text :hex :base64,
//                 {partition}, {timestamp} (ms since the epoch). The
//                 template ends with a literal, the record delimiter, and
//                 fields are separated by literals: the input is split into
//                 records at the delimiter, and each field is read up to the
//                 next literal (the last one to the end of its record).
//   --input json  one object per line in the shape `consume -o json` prints:
//                 {"key", "value", "headers": [{"key", "value"}],
//                 "partition", "timestamp"}; other members are ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/record.h"
#include "ctl/record_format.h"

namespace mq::ctl {

// One record read from the input. The key and value are views into the text
// read or into the record's own buffers below: valid until the next read
// into the same record, which reuses the buffers.
struct InputRecord {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<client::Header> headers;
  std::optional<int32_t> partition;
  std::optional<int64_t> timestamp_ms;

  std::string key_bytes;  // a decoded key (hex, base64, JSON)
  std::string value_bytes;
};

class InputFormat {
 public:
  // Refuses templates that cannot be read: no literal at the end, two
  // fields with nothing between them, output-only placeholders ({offset},
  // {topic}, {headers}, sizes, {timestamp:iso}), a field given twice, no
  // field at all, or the delimiter inside an earlier literal (records are
  // split at it before they are read).
  static Result<InputFormat> parse(std::string_view spec);

  // The template's last literal: what ends each record.
  const std::string& delimiter() const { return delimiter_; }

  // Reads one record's text (without its delimiter) into `record`. The
  // error says which literal is missing or which field is bad. A template
  // without {value} gives an empty value; without {key}, a null key.
  Status read(std::string_view text, InputRecord& record) const;

 private:
  // A field and the literal that ends it; the last field's is empty (it
  // reads to the end of the record).
  struct Step {
    TemplatePart field;
    std::string separator;
  };
  std::string prefix_;  // a literal before the first field
  std::vector<Step> steps_;
  std::string delimiter_;
};

// Reads one line of --input json into `record`. The error says what is
// wrong: not JSON, not an object, or a member of the wrong type.
Status read_json_record(std::string_view line, InputRecord& record);

// Whether a line of --input json is only white space: such lines are skipped.
bool is_blank_line(std::string_view line);

}  // namespace mq::ctl
