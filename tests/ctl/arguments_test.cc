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

}  // namespace
}  // namespace mq::ctl
