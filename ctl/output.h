// How mqctl prints results: every command builds one JSON value (the stable
// schema that -o json prints and docs/mqctl.md documents); -o yaml prints the
// same value as YAML, and -o table (the default) prints an aligned table for
// people.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq::ctl {

enum class OutputFormat { kTable, kJson, kYaml };

Result<OutputFormat> parse_output_format(std::string_view name);
std::string_view output_format_name(OutputFormat format);

// Columns padded to their widest cell, two spaces apart, header in capitals.
class Table {
 public:
  explicit Table(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  std::string render() const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Block-style YAML of a JSON value. Strings are double-quoted when YAML
// would read them as something else (numbers, booleans, null, special
// characters); JSON's quoting is valid YAML, so that is what they get.
std::string to_yaml(const nlohmann::ordered_json& value);

// Compact one-line JSON; invalid UTF-8 in strings becomes U+FFFD rather than an error.
std::string to_json_line(const nlohmann::ordered_json& value);

// A cell for a table: strings as they are, null as "-", the rest as JSON.
std::string cell(const nlohmann::ordered_json& value);

// A byte count for people: "512 B", "1.5 KiB", "20.0 MiB", ...; "-" when negative (unknown).
std::string format_bytes(int64_t bytes);

}  // namespace mq::ctl
