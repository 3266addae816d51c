// Printing `mqctl log dump` as it is read: text lines for people (-o table),
// or one JSON or YAML document written piece by piece, so that a segment of
// any size is never held in memory. All three print the same values.
#include <string>

#include "ctl/log_dump.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

std::string_view items_key(DumpItems items) {
  switch (items) {
    case DumpItems::kBatches:
      return "batches";
    case DumpItems::kEntries:
      return "entries";
    case DumpItems::kContents:
      return "contents";
    case DumpItems::kNone:
      break;
  }
  return "";
}

std::string dump(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

// Prefixes every line of `text` but the first with `pad`.
std::string indent_rest(const std::string& text, const std::string& pad) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '\n' && i + 1 < text.size()) out += pad;
  }
  return out;
}

// Prefixes every line of `text` with `pad`.
std::string indent_all(const std::string& text, const std::string& pad) {
  std::string out;
  out.reserve(text.size());
  bool line_start = true;
  for (char c : text) {
    if (line_start && c != '\n') out += pad;
    out += c;
    line_start = c == '\n';
  }
  return out;
}

// Text: one line per file, batch, record, entry or problem, as key=value
// pairs named as in the JSON.
class TextPrinter : public DumpSink {
 public:
  explicit TextPrinter(FILE* out) : out_(out) {}

  void begin_file(const json& file, DumpItems items) override {
    items_ = items;
    kind_ = file["kind"].get<std::string>();
    write("file" + pairs(file) + "\n");
  }

  void item(const json& item) override {
    std::string text;
    lines(items_ == DumpItems::kBatches   ? "batch"
          : items_ == DumpItems::kEntries ? "entry"
                                          : kind_,
          item, 0, text);
    write(text);
  }

  void problem(const json& problem) override {
    std::string where =
        problem["position"].is_null() ? "" : " at position " + dump(problem["position"], -1);
    write("problem" + where + ": " + problem["message"].get<std::string>() + "\n");
  }

  void end_file(const json& summary) override {
    write("summary" + pairs(summary) + "\n\n");
    std::fflush(out_);
  }

  void finish(const json& summary) override {
    write("total" + pairs(summary) + "\n");
    std::fflush(out_);
  }

 private:
  static std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
      if (c == '"') out += '\\';
      out += c;
    }
    return out + "\"";
  }

  static std::string text_of(const json& value) {
    if (value.is_null()) return "null";
    if (!value.is_string()) return dump(value, -1);
    const std::string& text = value.get_ref<const std::string&>();
    bool plain = !text.empty() && text.find_first_of(" \"=") == std::string::npos;
    return plain ? text : quoted(text);
  }

  // Key, value and header bytes are always quoted: "null" the text is not null.
  static std::string data_of(const json& value) {
    return value.is_null() ? "null" : quoted(value.get<std::string>());
  }

  // " k=v k=v" for the scalar members of `object`; a CRC verdict as one word.
  static std::string pairs(const json& object) {
    std::string out;
    for (const auto& [key, value] : object.items()) {
      if (value.is_array()) continue;
      out += " " + key + "=";
      if (key == "crc" && value.is_object()) {
        out += value["valid"].get<bool>() ? "valid"
                                          : "mismatch(expected=" + text_of(value["expected"]) +
                                                ",actual=" + text_of(value["actual"]) + ")";
      } else {
        out += text_of(value);
      }
    }
    return out;
  }

  static std::string_view element_label(const std::string& key) {
    static constexpr std::pair<std::string_view, std::string_view> kLabels[] = {
        {"batches", "batch"}, {"epochs", "epoch"}, {"producers", "producer"}, {"passes", "pass"}};
    for (const auto& [plural, singular] : kLabels) {
      if (key == plural) return singular;
    }
    return key;
  }

  static void record_line(const json& record, const std::string& pad, std::string& out) {
    out += pad + "record offset=" + text_of(record["offset"]) +
           " timestamp=" + text_of(record["timestamp"]) + " key=" + data_of(record["key"]) +
           " value=" + data_of(record["value"]) + " headers=[";
    bool first = true;
    for (const json& header : record["headers"]) {
      out += (first ? "" : ",") + data_of(header["key"]) + "=" + data_of(header["value"]);
      first = false;
    }
    out += "]\n";
  }

  // `label` and the scalars of `object` on one line, then each element of
  // its arrays on lines of their own, indented under it.
  static void lines(std::string_view label, const json& object, int indent, std::string& out) {
    std::string pad(static_cast<size_t>(indent), ' ');
    out += pad + std::string(label) + pairs(object) + "\n";
    for (const auto& [key, value] : object.items()) {
      if (!value.is_array()) continue;
      for (const json& element : value) {
        if (key == "records") {
          record_line(element, pad + "  ", out);
        } else {
          lines(element_label(key), element, indent + 2, out);
        }
      }
    }
  }

  void write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }

  FILE* out_;
  DumpItems items_ = DumpItems::kNone;
  std::string kind_;
};

// One JSON document, {"files": [...], "summary": {...}}, indented like
// every -o json of mqctl, written as each piece is known. Problems are kept
// until their file ends: they follow its batches in the document.
class JsonPrinter : public DumpSink {
 public:
  explicit JsonPrinter(FILE* out) : out_(out) {}

  void begin_file(const json& file, DumpItems items) override {
    write(files_ == 0 ? "{\n  \"files\": [\n    {\n" : ",\n    {\n");
    ++files_;
    for (const auto& [key, value] : file.items()) member(key, value);
    items_ = items;
    item_count_ = 0;
    contents_ = nullptr;
    problems_ = json::array();
  }

  void item(const json& item) override {
    if (items_ == DumpItems::kContents) {
      contents_ = item;
      return;
    }
    write(item_count_++ == 0 ? "      \"" + std::string(items_key(items_)) + "\": [\n        "
                             : ",\n        ");
    write(indent_rest(dump(item, 2), "        "));
  }

  void problem(const json& problem) override { problems_.push_back(problem); }

  void end_file(const json& summary) override {
    if (items_ == DumpItems::kBatches || items_ == DumpItems::kEntries) {
      if (item_count_ > 0) {
        write("\n      ],\n");
      } else {
        member(std::string(items_key(items_)), json::array());
      }
    } else if (items_ == DumpItems::kContents) {
      member("contents", contents_);
    }
    member("problems", problems_);
    write("      \"summary\": " + indent_rest(dump(summary, 2), "      ") + "\n    }");
    std::fflush(out_);
  }

  void finish(const json& summary) override {
    write(files_ == 0 ? "{\n  \"files\": [],\n" : "\n  ],\n");
    write("  \"summary\": " + indent_rest(dump(summary, 2), "  ") + "\n}\n");
    std::fflush(out_);
  }

 private:
  // A member of a file's object, which always has a later member.
  void member(const std::string& key, const json& value) {
    write("      " + dump(json(key), -1) + ": " + indent_rest(dump(value, 2), "      ") + ",\n");
  }

  void write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }

  FILE* out_;
  int64_t files_ = 0;
  DumpItems items_ = DumpItems::kNone;
  int64_t item_count_ = 0;
  json contents_;
  json problems_;
};

// The same document as YAML, block style, as to_yaml() prints it.
class YamlPrinter : public DumpSink {
 public:
  explicit YamlPrinter(FILE* out) : out_(out) {}

  void begin_file(const json& file, DumpItems items) override {
    if (files_++ == 0) write("files:\n");
    // The file's first line goes after "- ", the rest under it.
    write(indent_rest("  - " + to_yaml(file), "    "));
    items_ = items;
    item_count_ = 0;
    contents_ = nullptr;
    problems_ = json::array();
  }

  void item(const json& item) override {
    if (items_ == DumpItems::kContents) {
      contents_ = item;
      return;
    }
    if (item_count_++ == 0) write("    " + std::string(items_key(items_)) + ":\n");
    write(indent_all(to_yaml(json::array({item})), "      "));
  }

  void problem(const json& problem) override { problems_.push_back(problem); }

  void end_file(const json& summary) override {
    json rest = json::object();
    if ((items_ == DumpItems::kBatches || items_ == DumpItems::kEntries) && item_count_ == 0) {
      rest[std::string(items_key(items_))] = json::array();
    } else if (items_ == DumpItems::kContents) {
      rest["contents"] = contents_;
    }
    rest["problems"] = problems_;
    rest["summary"] = summary;
    write(indent_all(to_yaml(rest), "    "));
    std::fflush(out_);
  }

  void finish(const json& summary) override {
    if (files_ == 0) write("files: []\n");
    write(to_yaml(json{{"summary", summary}}));
    std::fflush(out_);
  }

 private:
  void write(const std::string& text) { std::fwrite(text.data(), 1, text.size(), out_); }

  FILE* out_;
  int64_t files_ = 0;
  DumpItems items_ = DumpItems::kNone;
  int64_t item_count_ = 0;
  json contents_;
  json problems_;
};

}  // namespace

std::unique_ptr<DumpSink> make_dump_printer(OutputFormat format, FILE* out) {
  switch (format) {
    case OutputFormat::kJson:
      return std::make_unique<JsonPrinter>(out);
    case OutputFormat::kYaml:
      return std::make_unique<YamlPrinter>(out);
    case OutputFormat::kTable:
      break;
  }
  return std::make_unique<TextPrinter>(out);
}

}  // namespace mq::ctl
