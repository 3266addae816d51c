// key=value, partition lists, delimiters and acks.
#include "ctl/arguments.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

TEST(Arguments, KeyValueSplitsAtTheFirstEquals) {
  auto kv = parse_key_value("-c", "retention.ms=1000");
  EXPECT_EQ(kv->first, "retention.ms");
  EXPECT_EQ(kv->second, "1000");
  EXPECT_EQ(parse_key_value("-H", "a=b=c")->second, "b=c");
  EXPECT_EQ(parse_key_value("-H", "empty=")->second, "");
}

TEST(Arguments, KeyValueErrorsNameFlagAndText) {
  auto missing = parse_key_value("-c", "retention.ms");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().message(), "invalid -c \"retention.ms\": expected key=value");
  auto empty_key = parse_key_value("-H", "=v");
  ASSERT_FALSE(empty_key.is_ok());
  EXPECT_NE(empty_key.status().message().find("the key is empty"), std::string::npos);
}

TEST(Arguments, PartitionListsAndRanges) {
  EXPECT_EQ(*parse_partition_list("-p", "3,0,1"), (std::vector<int32_t>{0, 1, 3}));
  EXPECT_EQ(*parse_partition_list("-p", "0-2,5,1"), (std::vector<int32_t>{0, 1, 2, 5}));
  for (const char* bad : {"", "a", "1,", "-1", "3-1", "1-", "0-99999999"}) {
    EXPECT_FALSE(parse_partition_list("-p", bad).is_ok()) << bad;
  }
}

TEST(Arguments, DelimiterEscapes) {
  EXPECT_EQ(*parse_delimiter("--delimiter", "\\n"), "\n");
  EXPECT_EQ(*parse_delimiter("--delimiter", "\\0"), std::string(1, '\0'));
  EXPECT_EQ(*parse_delimiter("--delimiter", "||"), "||");
  EXPECT_EQ(*parse_delimiter("--delimiter", "\\t\\\\"), "\t\\");
  EXPECT_FALSE(parse_delimiter("--delimiter", "").is_ok());
  EXPECT_FALSE(parse_delimiter("--delimiter", "\\q").is_ok());
  EXPECT_FALSE(parse_delimiter("--delimiter", "x\\").is_ok());
}

TEST(Arguments, Acks) {
  EXPECT_EQ(*parse_acks("all"), -1);
  EXPECT_EQ(*parse_acks("-1"), -1);
  EXPECT_EQ(*parse_acks("1"), 1);
  EXPECT_EQ(*parse_acks("0"), 0);
  EXPECT_FALSE(parse_acks("2").is_ok());
  EXPECT_FALSE(parse_acks("").is_ok());
}

TEST(Arguments, ByteRates) {
  EXPECT_EQ(*parse_byte_rate("--throttle", "1048576"), 1048576);
  EXPECT_EQ(*parse_byte_rate("--throttle", "50MB"), 50'000'000);
  EXPECT_EQ(*parse_byte_rate("--throttle", "10MiB/s"), 10 * 1024 * 1024);
  EXPECT_EQ(*parse_byte_rate("--throttle", "2gib"), int64_t{2} * 1024 * 1024 * 1024);
  EXPECT_EQ(*parse_byte_rate("--throttle", "512kb"), 512'000);
  EXPECT_EQ(*parse_byte_rate("--throttle", "7B"), 7);
  for (const char* bad : {"", "MB", "0", "0MB", "-5", "10XB", "1.5MB", "99999999999999999999",
                          "9223372036854775807GiB"}) {
    Result<int64_t> rate = parse_byte_rate("--throttle", bad);
    EXPECT_FALSE(rate.is_ok()) << bad;
    if (!rate.is_ok()) {
      EXPECT_NE(rate.status().message().find("--throttle"), std::string::npos) << bad;
    }
  }
}

TEST(Arguments, NodeIds) {
  EXPECT_EQ(*parse_node_id("ID", "0"), 0);
  EXPECT_EQ(*parse_node_id("ID", "42"), 42);
  for (const char* bad : {"", "-1", "x", "4x", "99999999999"}) {
    EXPECT_EQ(parse_node_id("ID", bad).code(), ErrorCode::kInvalidConfig) << bad;
  }
}

}  // namespace
}  // namespace mq::ctl
