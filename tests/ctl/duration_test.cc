// Durations as typed on the command line.
#include "ctl/duration.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

TEST(Duration, ParsesEachUnitAndSums) {
  EXPECT_EQ(*parse_duration_ms("500ms"), 500);
  EXPECT_EQ(*parse_duration_ms("5s"), 5000);
  EXPECT_EQ(*parse_duration_ms("2m"), 120'000);
  EXPECT_EQ(*parse_duration_ms("1h"), 3'600'000);
  EXPECT_EQ(*parse_duration_ms("1d"), 86'400'000);
  EXPECT_EQ(*parse_duration_ms("1m30s"), 90'000);
  EXPECT_EQ(*parse_duration_ms("0s"), 0);
}

TEST(Duration, RejectsBareNumbersUnknownUnitsAndJunk) {
  for (const char* bad : {"", "5", "5x", "s", "-5s", "5 s", "1.5s", "5sec"}) {
    Result<int64_t> parsed = parse_duration_ms(bad);
    EXPECT_FALSE(parsed.is_ok()) << bad;
    EXPECT_NE(parsed.status().message().find("invalid duration"), std::string::npos) << bad;
  }
  EXPECT_NE(parse_duration_ms("5").status().message().find("needs a unit"), std::string::npos);
  EXPECT_FALSE(parse_duration_ms("99999999999999999d").is_ok()) << "overflow";
}

TEST(Duration, FormatsTheShortestExactSpelling) {
  EXPECT_EQ(format_duration_ms(1500), "1500ms");
  EXPECT_EQ(format_duration_ms(5000), "5s");
  EXPECT_EQ(format_duration_ms(0), "0ms");
}

}  // namespace
}  // namespace mq::ctl
