// mqctl's record formats with a real mqd: produce -f templates (with hex and
// base64 fields, headers, partitions and timestamps) read back with consume
// -f, a topic copied through consume -o json | produce --input json, records
// that do not match reported while the others are sent, templates refused.
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/mqctl_fixture.h"

namespace mq {
namespace {

using json = nlohmann::json;
using mq::testing::MqctlTest;
using mq::testing::Shell;

class MqctlFormatsTest : public MqctlTest {
 protected:
  // Writes `text` to `name` in the test's directory (the commands' working directory).
  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
  }

  // consume -o json output, one object per line.
  static std::vector<json> json_lines(const std::string& out) {
    std::vector<json> records;
    size_t start = 0;
    while (start < out.size()) {
      size_t end = out.find('\n', start);
      records.push_back(json::parse(out.substr(start, end - start)));
      start = end + 1;
    }
    return records;
  }
};

TEST_F(MqctlFormatsTest, ProduceTemplatesReadBackWithConsumeTemplates) {
  ok("$MQCTL topic create f -p 1");
  write_file("tabs.txt", "user1\talice\nuser2\tbob\tand more\n");
  ok(R"($MQCTL produce f -f "{key}\t{value}\n" --file tabs.txt)");
  EXPECT_EQ(
      ok(R"($MQCTL consume f --from beginning -e -f "{offset}:{key}={value}|{key_size}/{value_size}\n")")
          .out,
      "0:user1=alice|5/5\n1:user2=bob\tand more|5/12\n");

  // Binary key and value, a header, the partition and the time from the input;
  // -H adds its header after the template's.
  write_file("encoded.txt", "00ff Zm9vYmFy 7431 0 1796551200250\n");
  ok(R"($MQCTL produce f -H src=test --file encoded.txt )"
     R"(-f "{key:hex} {value:base64} {header.trace:hex} {partition} {timestamp}\n")");
  EXPECT_EQ(ok(R"($MQCTL consume f --from 2 -e -f "{key:hex}|{key:base64}|{value}|{value:hex}|)"
               R"({header.trace}|{header.src}|{header.nope}|{headers}|{headers:hex}|)"
               R"({timestamp}|{timestamp:iso}|{key_size}\n")")
                .out,
            "00ff|AP8=|foobar|666f6f626172|t1|test||trace=t1,src=test|trace=7431,src=74657374|"
            "1796551200250|2026-12-06T10:00:00.250Z|2\n");

  // What consume -f prints, produce -f reads unchanged.
  ok("$MQCTL topic create copy -p 1");
  const std::string both = R"(-f "{key:hex}\t{value:base64}\t{timestamp}\n")";
  ok("$MQCTL consume f --from beginning -e " + both + " | $MQCTL produce copy " + both);
  std::string original = ok("$MQCTL consume f --from beginning -e " + both).out;
  EXPECT_EQ(ok("$MQCTL consume copy --from beginning -e " + both).out, original);
  EXPECT_EQ(std::count(original.begin(), original.end(), '\n'), 3) << original;
}

TEST_F(MqctlFormatsTest, JsonLinesCopyATopicWithKeysHeadersAndTimestamps) {
  ok("$MQCTL topic create src -p 3");
  ok("$MQCTL topic create dst -p 3");
  write_file("records.json",
             R"({"key":"user1","value":"alice","headers":[{"key":"h","value":"1"}]})"
             "\n"
             R"({"key":null,"value":"no key","timestamp":1700000000000})"
             "\n\n"  // a blank line is skipped
             R"({"key":"gone","value":null,"headers":[{"key":"n","value":null}]})"
             "\n"
             R"({"key":"k2","value":"caf\u00e9 \"quoted\"","partition":2,"topic":"ignored"})"
             "\n");
  Shell produced = ok("$MQCTL produce src --input json --file records.json -o json");
  EXPECT_EQ(json::parse(produced.out),
            json::parse(R"({"topic":"src","count":4,"failed":0,"bad":0,"duplicates":0})"));

  ok("$MQCTL consume src --from beginning -e -o json | $MQCTL produce dst --input json");
  auto by_position = [](std::vector<json> records) {
    for (json& r : records) r.erase("topic");
    std::sort(records.begin(), records.end(), [](const json& a, const json& b) {
      return std::pair(a["partition"].get<int>(), a["offset"].get<int64_t>()) <
             std::pair(b["partition"].get<int>(), b["offset"].get<int64_t>());
    });
    return records;
  };
  std::vector<json> source =
      by_position(json_lines(ok("$MQCTL consume src --from beginning -e -o json").out));
  std::vector<json> copied =
      by_position(json_lines(ok("$MQCTL consume dst --from beginning -e -o json").out));
  ASSERT_EQ(source.size(), 4u);
  EXPECT_EQ(copied, source) << "same partitions, offsets, timestamps, keys, values and headers";

  bool seen_null_key = false, seen_tombstone = false;
  for (const json& r : source) {
    if (r["value"] == "no key") {
      seen_null_key = r["key"].is_null();
      EXPECT_EQ(r["timestamp"], 1700000000000);
    }
    if (r["key"] == "gone") {
      seen_tombstone = r["value"].is_null();
      EXPECT_EQ(r["headers"], json::parse(R"([{"key":"n","value":null}])"));
    }
    if (r["key"] == "k2") {
      EXPECT_EQ(r["partition"], 2);
      EXPECT_EQ(r["value"], "caf\xc3\xa9 \"quoted\"");
    }
  }
  EXPECT_TRUE(seen_null_key);
  EXPECT_TRUE(seen_tombstone);
}

TEST_F(MqctlFormatsTest, BadRecordsAreReportedByNumberAndTheOthersSent) {
  ok("$MQCTL topic create b -p 2");
  write_file("missing.txt", "k1\tv1\nno separator\nk3\tv3");  // the last without its \n
  Shell missing = sh(R"($MQCTL produce b -p 0 -f "{key}\t{value}\n" --file missing.txt)");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("mqctl: record 2 not sent: no \"\\t\" after {key}\n"),
            std::string::npos)
      << missing.err;
  EXPECT_NE(missing.err.find("mqctl: 1 of 3 records could not be read and were not sent"),
            std::string::npos)
      << missing.err;
  EXPECT_EQ(ok(R"($MQCTL consume b -p 0 --from beginning -e -f "{key}={value}\n")").out,
            "k1=v1\nk3=v3\n");

  write_file("fields.txt", "6b\t1\tok\nzz\t1\tbad hex\n6b\t5\tno partition\n6b\tx\tbad number\n");
  Shell fields =
      sh(R"($MQCTL produce b -f "{key:hex}\t{partition}\t{value}\n" --file fields.txt -o json)");
  EXPECT_EQ(fields.code, 1);
  for (const char* says : {"record 2 not sent: {key:hex}: 'z' at position 0 is not a hex digit",
                           "record 3 not sent: partition 5 of topic \"b\" not found: it has 2 "
                           "partitions",
                           "record 4 not sent: {partition}: \"x\" is not a partition number",
                           "3 of 4 records could not be read"}) {
    EXPECT_NE(fields.err.find(says), std::string::npos) << says << "\n" << fields.err;
  }
  EXPECT_EQ(json::parse(fields.out),
            json::parse(R"({"topic":"b","count":4,"failed":0,"bad":3,"duplicates":0})"));
  EXPECT_EQ(ok(R"($MQCTL consume b -p 1 --from beginning -e -f "{key}={value}\n")").out, "k=ok\n");

  write_file(
      "bad.json",
      "{\"value\":\"first\"}\noops\n{\"value\":5}\n\n{\"value\":\"last\",\"partition\":1}\n");
  Shell lines = sh("$MQCTL produce b --input json --file bad.json");
  EXPECT_EQ(lines.code, 1);
  for (const char* says : {"mqctl: line 2 not sent: not valid JSON",
                           "mqctl: line 3 not sent: \"value\" must be a string or null, not number",
                           "2 of 4 lines could not be read"}) {
    EXPECT_NE(lines.err.find(says), std::string::npos) << says << "\n" << lines.err;
  }
  EXPECT_EQ(lines.err.find("line 4"), std::string::npos) << "a blank line is skipped";
  EXPECT_EQ(ok("$MQCTL consume b -p 1 --from -1 -e").out, "last\n");
}

TEST_F(MqctlFormatsTest, BadTemplatesAndFlagMixesAreUsageErrors) {
  struct Case {
    const char* command;
    const char* says;
  } cases[] = {
      {R"(produce t -f "{key}\t{value}")", "must end with a literal"},
      {R"(produce t -f "{key}{value}\n")", "{key}{value}: two fields need a literal between them"},
      {R"(produce t -f "{offset}\t{value}\n")", "{offset} is output-only"},
      {R"(produce t -f "{value}\t{timestamp:iso}\n")", "{timestamp:iso} is output-only"},
      {R"(produce t -f "{nope}\n")", "unknown placeholder {nope}"},
      {R"(produce t -f "{value:rot13}\n")", "unknown encoding \"rot13\" in {value:rot13}"},
      {R"(produce t -f "{key}\n{value}\n")", "the record delimiter"},
      {R"(produce t -f "{value}\n" -k k)", "-f and -k exclude each other"},
      {R"(produce t -f "{value}\n" --delimiter ";")", "-f and --delimiter exclude each other"},
      {R"(produce t -f "{value}\n" --key-separator =)", "-f and --key-separator exclude"},
      {R"(produce t -f "{value}\n" --input json)", "-f and --input exclude each other"},
      {"produce t --input json -k k", "--input json and -k exclude each other"},
      {"produce t --input json --delimiter x", "--input json and --delimiter exclude"},
      {"produce t --input xml", "--input: \"xml\" is not lines or json"},
      {R"(consume t -f "{offset:hex}\n")", "{offset:hex}: {offset} takes no encoding"},
      {R"(consume t -f "{timestamp:utc}\n")", "{timestamp} takes only :iso"},
      {R"(consume t -f "{header.}\n")", "{header.} needs a header name"},
  };
  for (const Case& c : cases) {
    Shell r = sh(std::string("$MQCTL ") + c.command);
    EXPECT_EQ(r.code, 2) << c.command << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.command << "\n" << r.err;
  }
}

// `tail -f | mqctl produce -f ...` and `... | mqctl produce --input json`:
// each record reaches the broker when its delimiter arrives, not at the end.
TEST_F(MqctlFormatsTest, TemplateAndJsonInputStreamRecordByRecord) {
  ok("$MQCTL topic create live");
  auto open_pipe = [&](const std::string& command, const char* mode) {
    std::string full = "cd " + dir_.path() + " && MQ_BROKERS=" + brokers_ + " exec timeout 60 " +
                       MQ_MQCTL_BINARY + " " + command;
    return ::popen(full.c_str(), mode);
  };
  FILE* consumer = open_pipe("consume live --from beginning -n 4 -f '{key}={value}\\n'", "r");
  ASSERT_NE(consumer, nullptr);
  struct Mode {
    const char* args;
    const char* first;
    const char* second;
  } modes[] = {
      {"-f '{key},{value:base64}\\n'", "a,MQ==\n", "b,Mg==\n"},
      {"--input json", "{\"key\":\"c\",\"value\":\"3\"}\n", "{\"key\":\"d\",\"value\":\"4\"}\n"}};
  for (const Mode& mode : modes) {
    FILE* producer = open_pipe(std::string("produce live ") + mode.args, "w");
    ASSERT_NE(producer, nullptr);
    for (const char* record : {mode.first, mode.second}) {
      std::fputs(record, producer);
      std::fflush(producer);
      pollfd readable{.fd = ::fileno(consumer), .events = POLLIN, .revents = 0};
      ASSERT_EQ(::poll(&readable, 1, 10'000), 1)
          << mode.args << ": " << record << " never reached the consumer";
      char got[256] = {};
      ASSERT_NE(std::fgets(got, sizeof(got), consumer), nullptr);
      EXPECT_EQ(std::string(got).size(), 4u) << got;
    }
    EXPECT_EQ(::pclose(producer), 0) << mode.args;
  }
  EXPECT_EQ(::pclose(consumer), 0);
}

}  // namespace
}  // namespace mq
