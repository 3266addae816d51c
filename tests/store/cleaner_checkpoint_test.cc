// CleanerCheckpoint: tombstone ages from the pass history, truncation, the file.
#include "store/cleaner_checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;

constexpr int64_t kDay = 24LL * 3600 * 1000;

TEST(CleanerCheckpoint, AnOffsetIsFirstCoveredByTheFirstPassReachingPastIt) {
  CleanerCheckpoint c;
  EXPECT_EQ(c.first_covered_ms(0), std::nullopt);
  c.record_pass(100, 1000, kDay);
  c.record_pass(250, 2000, kDay);
  c.record_pass(250, 3000, kDay);  // nothing new covered: no entry
  EXPECT_EQ(c.first_dirty_offset(), 250);
  EXPECT_EQ(c.first_covered_ms(0), 1000);
  EXPECT_EQ(c.first_covered_ms(99), 1000);
  EXPECT_EQ(c.first_covered_ms(100), 2000);
  EXPECT_EQ(c.first_covered_ms(249), 2000);
  EXPECT_EQ(c.first_covered_ms(250), std::nullopt);
}

TEST(CleanerCheckpoint, ExpiredPassesFoldAndTheHistoryStaysBounded) {
  CleanerCheckpoint c;
  c.record_pass(10, 1000, 5000);
  c.record_pass(20, 2000, 5000);
  c.record_pass(30, 8000, 5000);  // the first two are past delete retention now
  EXPECT_LE(*c.first_covered_ms(5), 8000 - 5000) << "still expired";
  EXPECT_LE(*c.first_covered_ms(15), 8000 - 5000);
  EXPECT_EQ(*c.first_covered_ms(25), 8000);
  for (int i = 0; i < 500; i++) c.record_pass(40 + i * 10, 9000 + i, kDay);
  // Merging only ever makes a pass later: tombstones live longer, never shorter.
  for (int64_t offset = 30; offset < 40 + 499 * 10; offset += 7) {
    int64_t exact = offset < 40 ? 9000 : 9000 + (offset - 40) / 10 + 1;
    std::optional<int64_t> t = c.first_covered_ms(offset);
    ASSERT_TRUE(t.has_value()) << offset;
    EXPECT_GE(*t, exact) << offset;
    EXPECT_LE(*t, 9000 + 499) << offset;
  }
  TempDir dir;
  ASSERT_TRUE(c.write(dir.file("c")).is_ok());
  std::ifstream in(dir.file("c"));
  int lines = 0;
  for (std::string line; std::getline(in, line);) lines++;
  EXPECT_LE(lines, static_cast<int>(CleanerCheckpoint::kMaxPasses) + 3);
}

TEST(CleanerCheckpoint, TruncationForgetsWhatLiesPastTheCut) {
  CleanerCheckpoint c;
  c.record_pass(100, 1000, kDay);
  c.record_pass(200, 2000, kDay);
  c.record_pass(300, 3000, kDay);
  EXPECT_TRUE(c.truncate_to(150));
  EXPECT_EQ(c.first_dirty_offset(), 150);
  EXPECT_EQ(c.first_covered_ms(120), 2000);
  EXPECT_EQ(c.first_covered_ms(150), std::nullopt);
  EXPECT_FALSE(c.truncate_to(400));
  c.record_pass(400, 4000, kDay);
  EXPECT_EQ(c.first_covered_ms(160), 4000) << "new data past the cut is new to the cleaner";
}

TEST(CleanerCheckpoint, RoundTripsThroughItsFileAndRejectsGarbage) {
  TempDir dir;
  CleanerCheckpoint c;
  c.record_pass(100, 1000, kDay);
  c.record_pass(200, 2000, kDay);
  ASSERT_TRUE(c.write(dir.file("cleaner.checkpoint")).is_ok());
  CleanerCheckpoint loaded;
  ASSERT_TRUE(loaded.load(dir.file("cleaner.checkpoint")).is_ok());
  EXPECT_EQ(loaded.first_dirty_offset(), 200);
  EXPECT_EQ(loaded.first_covered_ms(150), 2000);
  EXPECT_EQ(loaded.load(dir.file("missing")).code(), ErrorCode::kNotFound);
  std::ofstream(dir.file("garbage")) << "mq-cleaner 1\nfirst_dirty_offset x\ncrc32c 00000000\n";
  EXPECT_EQ(loaded.load(dir.file("garbage")).code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(loaded.first_dirty_offset(), 0) << "a failed load leaves an empty state";
}

}  // namespace
}  // namespace mq
