// consume -f templates.
#include "ctl/record_format.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

client::ConsumerRecord sample() {
  return {.topic = "orders",
          .partition = 2,
          .offset = 41,
          .timestamp_ms = 1700000000000,
          .key = "k",
          .value = "v",
          .headers = {{"a", "1"}, {"b", std::nullopt}}};
}

std::string render(const std::string& spec, const client::ConsumerRecord& record = sample()) {
  Result<RecordFormat> format = RecordFormat::parse(spec);
  EXPECT_TRUE(format.is_ok()) << format.status().message();
  std::string out;
  if (format.is_ok()) format->render(record, out);
  return out;
}

TEST(RecordFormat, FillsEveryPlaceholder) {
  EXPECT_EQ(render("{topic}/{partition}@{offset} {timestamp} {key}={value} [{headers}]"),
            "orders/2@41 1700000000000 k=v [a=1,b=]");
}

TEST(RecordFormat, TranslatesEscapesAndDoubledBraces) {
  EXPECT_EQ(render("{key}\\t{value}\\n"), "k\tv\n");
  EXPECT_EQ(render("\\\\{{key}}"), "\\{key}");
}

TEST(RecordFormat, NullKeyAndValuePrintNothing) {
  client::ConsumerRecord record = sample();
  record.key.reset();
  record.value.reset();
  record.headers.clear();
  EXPECT_EQ(render("<{key}|{value}|{headers}>", record), "<||>");
}

TEST(RecordFormat, RejectsUnknownPlaceholdersAndBadEscapesNamingThem) {
  struct Case {
    const char* spec;
    const char* says;
  } cases[] = {{"{nope}", "unknown placeholder {nope}"},
               {"{value", "unclosed {"},
               {"value}", "a } without {"},
               {"\\x", "unknown escape \\x"},
               {"abc\\", "a lone \\"},
               {"%s", nullptr}};
  for (const Case& c : cases) {
    Result<RecordFormat> format = RecordFormat::parse(c.spec);
    if (c.says == nullptr) {
      EXPECT_TRUE(format.is_ok()) << c.spec << ": kcat syntax is plain text here";
      continue;
    }
    ASSERT_FALSE(format.is_ok()) << c.spec;
    EXPECT_NE(format.status().message().find(c.says), std::string::npos)
        << format.status().message();
  }
}

}  // namespace
}  // namespace mq::ctl
