// --from specs and how they become offsets.
#include "ctl/start_position.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <string>

namespace mq::ctl {
namespace {

using Kind = StartPosition::Kind;
constexpr int64_t kNow = 1'800'000'000'000;

TEST(StartPosition, ParsesEveryForm) {
  EXPECT_EQ(parse_start_position("beginning", kNow)->kind, Kind::kBeginning);
  EXPECT_EQ(parse_start_position("end", kNow)->kind, Kind::kEnd);
  auto offset = parse_start_position("42", kNow);
  EXPECT_EQ(offset->kind, Kind::kOffset);
  EXPECT_EQ(offset->value, 42);
  auto last = parse_start_position("-10", kNow);
  EXPECT_EQ(last->kind, Kind::kLastN);
  EXPECT_EQ(last->value, 10);
  auto epoch = parse_start_position("@1700000000000", kNow);
  EXPECT_EQ(epoch->kind, Kind::kTimestamp);
  EXPECT_EQ(epoch->value, 1'700'000'000'000);
  auto ago = parse_start_position("@-5m", kNow);
  EXPECT_EQ(ago->kind, Kind::kTimestamp);
  EXPECT_EQ(ago->value, kNow - 300'000);
  EXPECT_EQ(parse_start_position("@2023-11-14T22:13:20Z", kNow)->value, 1'700'000'000'000);
}

TEST(StartPosition, ParsesIso8601WithFractionsAndZones) {
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T22:13:20.250Z"), 1'700'000'000'250);
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T23:13:20+01:00"), 1'700'000'000'000);
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T21:13:20-0100"), 1'700'000'000'000);
  EXPECT_EQ(*parse_iso8601_ms("1970-01-02"), 86'400'000);
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T22:13Z"), 1'699'999'980'000);
}

// Kafka's tools read a date-time without a zone in the local time zone.
TEST(StartPosition, AZonelessTimeIsLocal) {
  const char* saved = std::getenv("TZ");
  std::string restore = saved ? saved : "";
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T22:13:20"), 1'700'000'000'000);
  setenv("TZ", "EST5", 1);  // five hours behind UTC, no daylight saving
  tzset();
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T17:13:20"), 1'700'000'000'000);
  EXPECT_EQ(*parse_iso8601_ms("2023-11-14T17:13:20.5"), 1'700'000'000'500);
  if (saved) {
    setenv("TZ", restore.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

// Every time option (consume --from @TIME, group reset-offsets
// --to-datetime) takes the same forms, with or without the '@'.
TEST(StartPosition, TimesTakeEveryForm) {
  for (const char* text :
       {"@1700000000000", "1700000000000", "@2023-11-14T22:13:20Z", "2023-11-14T23:13:20+01:00"}) {
    Result<int64_t> parsed = parse_time_ms(text, kNow);
    ASSERT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
    EXPECT_EQ(*parsed, 1'700'000'000'000) << text;
  }
  EXPECT_EQ(*parse_time_ms("-5m", kNow), kNow - 300'000);
  EXPECT_EQ(*parse_time_ms("@-1h", kNow), kNow - 3'600'000);
  for (const char* bad : {"", "@", "yesterday", "-5", "2023-11-14T22"}) {
    EXPECT_FALSE(parse_time_ms(bad, kNow).is_ok()) << bad;
  }
}

TEST(StartPosition, RejectsBadSpecsNamingThem) {
  for (const char* bad : {"", "start", "12abc", "@", "@yesterday", "@-5", "@-5x", "@2023-13-01",
                          "@2023-02-30", "@2023-11-14T22:13:20x", "@2023-11-14T25:00:00", "--5"}) {
    Result<StartPosition> parsed = parse_start_position(bad, kNow);
    ASSERT_FALSE(parsed.is_ok()) << bad;
    EXPECT_NE(parsed.status().message().find("invalid --from \"" + std::string(bad) + "\""),
              std::string::npos)
        << parsed.status().message();
  }
}

TEST(StartPosition, ResolvesIntoTheLog) {
  EXPECT_EQ(resolve_start_offset({Kind::kBeginning, 0}, 10, 100), 10);
  EXPECT_EQ(resolve_start_offset({Kind::kEnd, 0}, 10, 100), 100);
  EXPECT_EQ(resolve_start_offset({Kind::kOffset, 50}, 10, 100), 50);
  EXPECT_EQ(resolve_start_offset({Kind::kOffset, 5}, 10, 100), 10) << "below the log start";
  EXPECT_EQ(resolve_start_offset({Kind::kOffset, 500}, 10, 100), 100) << "past the end";
  EXPECT_EQ(resolve_start_offset({Kind::kLastN, 3}, 10, 100), 97);
  EXPECT_EQ(resolve_start_offset({Kind::kLastN, 300}, 10, 100), 10);
  EXPECT_EQ(resolve_start_offset({Kind::kTimestamp, 0}, 10, 100, 42), 42);
  EXPECT_EQ(resolve_start_offset({Kind::kTimestamp, 0}, 10, 100, -1), 100)
      << "nothing that recent: the end";
}

}  // namespace
}  // namespace mq::ctl
