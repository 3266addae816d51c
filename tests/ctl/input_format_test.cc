// produce -f templates and --input json lines, read into records.
#include "ctl/input_format.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

InputFormat format_of(const std::string& spec) {
  Result<InputFormat> format = InputFormat::parse(spec);
  EXPECT_TRUE(format.is_ok()) << spec << ": " << format.status().message();
  return format.is_ok() ? *format : *InputFormat::parse("{value}\\n");
}

// The record in `text`, which must read.
InputRecord read(const InputFormat& format, std::string_view text) {
  InputRecord record;
  Status status = format.read(text, record);
  EXPECT_TRUE(status.is_ok()) << text << ": " << status.message();
  return record;
}

std::string error_reading(const InputFormat& format, std::string_view text) {
  InputRecord record;
  Status status = format.read(text, record);
  EXPECT_FALSE(status.is_ok()) << text;
  return status.message();
}

std::string parse_error(const std::string& spec) {
  Result<InputFormat> format = InputFormat::parse(spec);
  EXPECT_FALSE(format.is_ok()) << spec;
  if (format.is_ok()) return "";
  EXPECT_EQ(format.status().message().rfind("invalid -f \"" + spec + "\": ", 0), 0u)
      << format.status().message();
  return format.status().message();
}

TEST(InputFormat, ReadsEachFieldUpToTheNextLiteral) {
  InputFormat format = format_of("{key}\\t{value}\\n");
  EXPECT_EQ(format.delimiter(), "\n");
  InputRecord record = read(format, "user1\talice\tand bob");
  EXPECT_EQ(record.key, "user1");
  EXPECT_EQ(record.value, "alice\tand bob") << "the last field reads to the end of the record";
  EXPECT_TRUE(record.headers.empty());
  EXPECT_FALSE(record.partition);
  EXPECT_FALSE(record.timestamp_ms);
  record = read(format, "\t");
  EXPECT_EQ(record.key, "") << "empty, not null: text cannot tell them apart";
  EXPECT_EQ(record.value, "");
}

TEST(InputFormat, MatchesAPrefixAndMultiCharacterLiterals) {
  InputFormat format = format_of("[{key}] => {value};;\\n");
  EXPECT_EQ(format.delimiter(), ";;\n");
  InputRecord record = read(format, "[k1] => v => w");
  EXPECT_EQ(record.key, "k1");
  EXPECT_EQ(record.value, "v => w");
  EXPECT_EQ(error_reading(format, "k1] => v"), "does not start with \"[\"");
  EXPECT_EQ(error_reading(format, "[k1]=>v"), "no \"] => \" after {key}");
}

TEST(InputFormat, ReadsHeadersPartitionAndTimestampDecodingEncodedFields) {
  InputFormat format = format_of(
      "{header.trace:hex},{partition},{timestamp},{key:base64},{header.src},{value:hex}\\n");
  InputRecord record = read(format, "7431,2,1700000000000,AP8=,shell,666f6f");
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_EQ(record.headers[0], (client::Header{"trace", "t1"}));
  EXPECT_EQ(record.headers[1], (client::Header{"src", "shell"}));
  EXPECT_EQ(record.partition, 2);
  EXPECT_EQ(record.timestamp_ms, 1700000000000);
  EXPECT_EQ(record.key, std::string_view("\x00\xff", 2));
  EXPECT_EQ(record.value, "foo");
}

TEST(InputFormat, AMissingKeyIsNullAndAMissingValueEmpty) {
  InputRecord record = read(format_of("{value}\\n"), "v");
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, "v");
  record = read(format_of("{key}\\n"), "k");
  EXPECT_EQ(record.key, "k");
  ASSERT_TRUE(record.value);
  EXPECT_EQ(*record.value, "");
}

TEST(InputFormat, ReadingAgainStartsFromAnEmptyRecord) {
  InputFormat with_headers = format_of("{header.h}|{partition}|{key}|{value}\\n");
  InputRecord record;
  ASSERT_TRUE(with_headers.read("x|1|k|v", record).is_ok());
  InputFormat bare = format_of("{value}\\n");
  ASSERT_TRUE(bare.read("only", record).is_ok());
  EXPECT_TRUE(record.headers.empty());
  EXPECT_FALSE(record.partition);
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, "only");
}

TEST(InputFormat, ReportsRecordsThatDoNotMatchSayingWhy) {
  InputFormat format = format_of("{key:hex}\\t{value:base64}\\t{partition}\\t{timestamp}\\n");
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"6b", "no \"\\t\" after {key:hex}"},
      {"6b\tdg==", "no \"\\t\" after {value:base64}"},
      {"6b6\tdg==\t0\t1", "{key:hex}: odd length: 3 hex digits"},
      {"zz\tdg==\t0\t1", "{key:hex}: 'z' at position 0 is not a hex digit"},
      {"6b\tdg=\t0\t1", "{value:base64}: bad padding: length 3 is not a multiple of 4"},
      {"6b\td!==\t0\t1", "{value:base64}: '!' at position 1 is not a base64 character"},
      {"6b\tdg==\tx\t1", "{partition}: \"x\" is not a partition number"},
      {"6b\tdg==\t-1\t1", "{partition}: \"-1\" is not a partition number"},
      {"6b\tdg==\t\t1", "{partition}: \"\" is not a partition number"},
      {"6b\tdg==\t99999999999\t1", "{partition}: \"99999999999\" is not a partition number"},
      {"6b\tdg==\t0\tsoon", "{timestamp}: \"soon\" is not a time in ms since the epoch"},
      {"6b\tdg==\t0\t12ms", "{timestamp}: \"12ms\" is not a time in ms since the epoch"},
      {"6b\tdg==\t0\t-5", "{timestamp}: \"-5\" is not a time in ms since the epoch"},
  };
  for (const Case& c : cases) EXPECT_EQ(error_reading(format, c.text), c.says) << c.text;
  InputRecord record = read(format, "6b\tdg==\t3\t1700000000000");
  EXPECT_EQ(record.key, "k");
  EXPECT_EQ(record.value, "v");
}

TEST(InputFormat, ReadsBackWhatConsumeFormatPrints) {
  const std::string spec =
      "{key:hex} {header.trace:base64} {header.src} {timestamp} {value:base64}\\n";
  client::ConsumerRecord record{.topic = "t",
                                .partition = 0,
                                .offset = 9,
                                .timestamp_ms = 1796551200250,
                                .key = std::string("\x00 \n", 3),
                                .value = std::string("bin\x00\xff ary\n", 10),
                                .headers = {{"trace", std::string("\t\x01", 2)}, {"src", "cli"}}};
  Result<RecordFormat> printer = RecordFormat::parse(spec);
  ASSERT_TRUE(printer.is_ok());
  std::string printed;
  printer->render(record, printed);
  InputFormat format = format_of(spec);
  ASSERT_TRUE(printed.ends_with(format.delimiter())) << printed;
  printed.resize(printed.size() - format.delimiter().size());
  InputRecord read_back = read(format, printed);
  EXPECT_EQ(read_back.key, *record.key);
  EXPECT_EQ(read_back.value, *record.value);
  EXPECT_EQ(read_back.headers, record.headers);
  EXPECT_EQ(read_back.timestamp_ms, record.timestamp_ms);
}

TEST(InputFormat, RefusesTemplatesItCannotRead) {
  struct Case {
    const char* spec;
    const char* says;
  } cases[] = {
      {"{key}\\t{value}", "produce -f must end with a literal that ends each record"},
      {"", "produce -f must end with a literal"},
      {"{key}{value}\\n", "{key}{value}: two fields need a literal between them"},
      {"{key}\\t{value}{header.h}\\n", "{value}{header.h}: two fields need a literal"},
      {"{offset}\\t{value}\\n", "{offset} is output-only: produce -f reads {key} {value}"},
      {"{topic}:{value}\\n", "{topic} is output-only"},
      {"{headers}:{value}\\n", "{headers} is output-only"},
      {"{key_size}:{value}\\n", "{key_size} is output-only"},
      {"{value}:{value_size}\\n", "{value_size} is output-only"},
      {"{timestamp:iso} {value}\\n", "{timestamp:iso} is output-only"},
      {"{nope}\\n", "unknown placeholder {nope}"},
      {"{value:rot13}\\n", "unknown encoding \"rot13\" in {value:rot13}"},
      {"{partition:hex} {value}\\n", "{partition} takes no encoding"},
      {"{key}\\n{value}\\n", "the record delimiter \"\\n\" (the last literal) is also in \"\\n\""},
      {"\\n{value}\\n", "the record delimiter \"\\n\" (the last literal) is also in"},
      {"{key}\\t{key}\\n", "{key} appears twice"},
      {"{partition} {value} {partition}\\n", "{partition} appears twice"},
      {"\\n", "produce -f reads no field"},
      {"just text\\n", "produce -f reads no field"},
  };
  for (const Case& c : cases) {
    EXPECT_NE(parse_error(c.spec).find(c.says), std::string::npos)
        << c.spec << ": " << parse_error(c.spec);
  }
  // The same header twice is two headers.
  InputRecord record = read(format_of("{header.h},{header.h},{value}\\n"), "a,b,v");
  EXPECT_EQ(record.headers.size(), 2u);
}

TEST(InputJson, ReadsTheShapeConsumePrints) {
  InputRecord record;
  ASSERT_TRUE(read_json_record(R"({"topic":"a","partition":2,"offset":41,)"
                               R"("timestamp":1700000000000,"key":"k","value":"v",)"
                               R"("headers":[{"key":"x","value":"1"},{"key":"y","value":null}]})",
                               record)
                  .is_ok());
  EXPECT_EQ(record.key, "k");
  EXPECT_EQ(record.value, "v");
  EXPECT_EQ(record.partition, 2);
  EXPECT_EQ(record.timestamp_ms, 1700000000000);
  ASSERT_EQ(record.headers.size(), 2u);
  EXPECT_EQ(record.headers[0], (client::Header{"x", "1"}));
  EXPECT_EQ(record.headers[1], (client::Header{"y", std::nullopt}));
}

TEST(InputJson, NullOrAbsentMembersAreNullAndUnicodeIsDecoded) {
  InputRecord record;
  ASSERT_TRUE(
      read_json_record(R"({"key":null,"value":null,"headers":null,"partition":null})", record)
          .is_ok());
  EXPECT_FALSE(record.key);
  EXPECT_FALSE(record.value) << "a tombstone";
  EXPECT_FALSE(record.partition);
  ASSERT_TRUE(read_json_record(R"( {"value":"caf\u00e9 \"q\"\n"} )", record).is_ok());
  EXPECT_FALSE(record.key);
  EXPECT_EQ(record.value, "caf\xc3\xa9 \"q\"\n");
  EXPECT_TRUE(record.headers.empty());
  EXPECT_FALSE(record.timestamp_ms);
  ASSERT_TRUE(read_json_record("{}\r", record).is_ok()) << "a CRLF line";
}

TEST(InputJson, ReportsLinesOfTheWrongShapeSayingWhy) {
  struct Case {
    const char* line;
    const char* says;
  } cases[] = {
      {"not json", "not valid JSON"},
      {R"({"key":"k")", "not valid JSON"},
      {"[1,2]", "not a JSON object but array"},
      {"\"v\"", "not a JSON object but string"},
      {R"({"key":5})", "\"key\" must be a string or null, not number"},
      {R"({"value":{"a":1}})", "\"value\" must be a string or null, not object"},
      {R"({"headers":{"a":"1"}})",
       "\"headers\" must be an array of {\"key\", \"value\"}, not object"},
      {R"({"headers":[1]})", "headers[0] must be an object {\"key\", \"value\"}"},
      {R"({"headers":[{"key":"a"},{"value":"x"}]})", "headers[1]: \"key\" must be a string"},
      {R"({"headers":[{"key":"a","value":1}]})",
       "headers[0]: \"value\" must be a string or null, not number"},
      {R"({"partition":-1})", "\"partition\" must be a partition number (>= 0), not -1"},
      {R"({"partition":"1"})", "\"partition\" must be a partition number (>= 0), not \"1\""},
      {R"({"partition":1.5})", "\"partition\" must be a partition number (>= 0), not 1.5"},
      {R"({"partition":4294967296})", "\"partition\" must be a partition number"},
      {R"({"timestamp":-5})", "\"timestamp\" must be ms since the epoch (>= 0), not -5"},
      {R"({"timestamp":"2026-12-06"})", "\"timestamp\" must be ms since the epoch"},
  };
  for (const Case& c : cases) {
    InputRecord record;
    Status status = read_json_record(c.line, record);
    ASSERT_FALSE(status.is_ok()) << c.line;
    EXPECT_NE(status.message().find(c.says), std::string::npos)
        << c.line << ": " << status.message();
  }
}

TEST(InputJson, BlankLinesAreOnlyWhiteSpace) {
  EXPECT_TRUE(is_blank_line(""));
  EXPECT_TRUE(is_blank_line(" \t\r"));
  EXPECT_FALSE(is_blank_line(" {}"));
}

}  // namespace
}  // namespace mq::ctl
