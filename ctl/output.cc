// Tables, JSON and YAML rendering.
#include "ctl/output.h"

#include <algorithm>
#include <cstdio>

namespace mq::ctl {

Result<OutputFormat> parse_output_format(std::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return Status(ErrorCode::kInvalidConfig,
                "invalid output format \"" + std::string(name) + "\" (use table, json or yaml)");
}

std::string_view output_format_name(OutputFormat format) {
  switch (format) {
    case OutputFormat::kTable:
      return "table";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kYaml:
      return "yaml";
  }
  return "table";
}

std::string Table::render() const {
  std::vector<size_t> widths(columns_.size());
  for (size_t c = 0; c < columns_.size(); ++c) widths[c] = columns_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string& value = c < cells.size() ? cells[c] : std::string();
      text += value;
      if (c + 1 < widths.size()) text.append(widths[c] - value.size() + 2, ' ');
    }
    // No trailing blanks from an empty last column.
    text.erase(text.find_last_not_of(' ') + 1);
    out += text;
    out += '\n';
  };
  line(columns_);
  for (const auto& row : rows_) line(row);
  return out;
}

namespace {

std::string dump(const nlohmann::ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

bool needs_quotes(const std::string& text) {
  if (text.empty()) return true;
  static const char* kWords[] = {"true", "false", "null", "yes",  "no",  "on", "off", "~",
                                 "True", "False", "Null", "NULL", "Yes", "No", "On",  "Off"};
  for (const char* word : kWords) {
    if (text == word) return true;
  }
  char first = text.front();
  if (std::isdigit(static_cast<unsigned char>(first)) || first == '-' || first == '+' ||
      first == '.' || first == ' ' || text.back() == ' ') {
    return true;
  }
  for (char c : text) {
    if (std::string_view(":#{}[],&*!|>'\"%@`\n\t\\").find(c) != std::string_view::npos) return true;
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

std::string scalar(const nlohmann::ordered_json& value) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    return needs_quotes(text) ? dump(value) : text;
  }
  return dump(value);  // numbers, booleans, null print the same in YAML
}

bool is_empty_container(const nlohmann::ordered_json& value) {
  return (value.is_object() || value.is_array()) && value.empty();
}

void yaml(const nlohmann::ordered_json& value, int indent, std::string& out) {
  std::string pad(static_cast<size_t>(indent), ' ');
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      out += pad + scalar(nlohmann::ordered_json(key)) + ":";
      if (is_empty_container(child) || !child.is_structured()) {
        out += " " + (is_empty_container(child) ? dump(child) : scalar(child)) + "\n";
      } else {
        out += "\n";
        yaml(child, indent + 2, out);
      }
    }
  } else if (value.is_array()) {
    for (const auto& child : value) {
      if (is_empty_container(child) || !child.is_structured()) {
        out += pad + "- " + (is_empty_container(child) ? dump(child) : scalar(child)) + "\n";
      } else {
        // The first line of the child goes after "- ", the rest indented under it.
        std::string nested;
        yaml(child, indent + 2, nested);
        out += pad + "- " + nested.substr(static_cast<size_t>(indent) + 2);
      }
    }
  } else {
    out += pad + scalar(value) + "\n";
  }
}

}  // namespace

std::string to_yaml(const nlohmann::ordered_json& value) {
  if (is_empty_container(value)) return dump(value) + "\n";
  std::string out;
  yaml(value, 0, out);
  return out;
}

std::string to_json_line(const nlohmann::ordered_json& value) {
  return dump(value);
}

std::string format_bytes(int64_t bytes) {
  if (bytes < 0) return "-";
  if (bytes < 1024) return std::to_string(bytes) + " B";
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f %s", value, kUnits[unit]);
  return text;
}

std::string cell(const nlohmann::ordered_json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "-";
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) {
      if (!joined.empty()) joined += ",";
      joined += cell(item);
    }
    return joined;
  }
  return dump(value);
}

}  // namespace mq::ctl
