// Tables, YAML and JSON rendering.
#include "ctl/output.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

TEST(Output, ParsesFormatNames) {
  EXPECT_EQ(*parse_output_format("table"), OutputFormat::kTable);
  EXPECT_EQ(*parse_output_format("json"), OutputFormat::kJson);
  EXPECT_EQ(*parse_output_format("yaml"), OutputFormat::kYaml);
  Result<OutputFormat> bad = parse_output_format("xml");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("\"xml\""), std::string::npos);
}

TEST(Output, TableAlignsColumnsWithoutTrailingBlanks) {
  Table table({"NAME", "PARTITIONS", "NOTE"});
  table.add_row({"orders", "12", ""});
  table.add_row({"a", "3", "x"});
  EXPECT_EQ(table.render(),
            "NAME    PARTITIONS  NOTE\n"
            "orders  12\n"
            "a       3           x\n");
}

TEST(Output, YamlOfNestedObjectsAndArrays) {
  json doc = {{"name", "t"},
              {"partitions", json::array({json{{"id", 0}, {"isr", {1, 2}}},
                                          json{{"id", 1}, {"isr", json::array()}}})},
              {"internal", false},
              {"rack", nullptr},
              {"configs", json::object()}};
  EXPECT_EQ(to_yaml(doc),
            "name: t\n"
            "partitions:\n"
            "  - id: 0\n"
            "    isr:\n"
            "      - 1\n"
            "      - 2\n"
            "  - id: 1\n"
            "    isr: []\n"
            "internal: false\n"
            "rack: null\n"
            "configs: {}\n");
  EXPECT_EQ(to_yaml(json::array()), "[]\n");
}

TEST(Output, YamlQuotesStringsThatWouldReadAsSomethingElse) {
  json doc = {{"a", "true"}, {"b", "123"},        {"c", "k: v"},
              {"d", ""},     {"e", "plain text"}, {"f", "line\nbreak"}};
  EXPECT_EQ(to_yaml(doc),
            "a: \"true\"\n"
            "b: \"123\"\n"
            "c: \"k: v\"\n"
            "d: \"\"\n"
            "e: plain text\n"
            "f: \"line\\nbreak\"\n");
}

TEST(Output, JsonLineReplacesInvalidUtf8InsteadOfFailing) {
  json doc = {{"value", std::string("a\xff"
                                    "b")}};
  EXPECT_EQ(to_json_line(doc),
            "{\"value\":\"a\xef\xbf\xbd"
            "b\"}");
}

TEST(Output, CellsPrintNullAsDashAndArraysJoined) {
  EXPECT_EQ(cell(json(nullptr)), "-");
  EXPECT_EQ(cell(json({1, 2, 3})), "1,2,3");
  EXPECT_EQ(cell(json("x")), "x");
  EXPECT_EQ(cell(json(true)), "true");
}

TEST(OutputTest, FormatsByteCountsForPeople) {
  EXPECT_EQ(format_bytes(-1), "-");
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(20 * 1024 * 1024), "20.0 MiB");
  EXPECT_EQ(format_bytes(int64_t{3} << 40), "3.0 TiB");
}

}  // namespace
}  // namespace mq::ctl
