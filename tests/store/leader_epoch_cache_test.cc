// LeaderEpochCache: assignment, lookups for followers, truncation, persistence.
#include "store/leader_epoch_cache.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;

TEST(LeaderEpochCache, AssignsOnlyNewerEpochsAndPersists) {
  TempDir dir;
  std::string path = dir.file("leader-epoch-checkpoint");
  {
    LeaderEpochCache cache(path);
    ASSERT_TRUE(cache.load().is_ok());
    ASSERT_TRUE(cache.assign(1, 0).is_ok());
    ASSERT_TRUE(cache.assign(1, 50).is_ok());  // same epoch: no new entry
    ASSERT_TRUE(cache.assign(3, 100).is_ok());
    EXPECT_EQ(cache.entries().size(), 2u);
  }
  LeaderEpochCache reloaded(path);
  ASSERT_TRUE(reloaded.load().is_ok());
  std::vector<EpochEntry> expected = {{1, 0}, {3, 100}};
  EXPECT_EQ(reloaded.entries(), expected);
}

TEST(LeaderEpochCache, EndOffsetForFollowsKip101) {
  TempDir dir;
  LeaderEpochCache cache(dir.file("c"));
  ASSERT_TRUE(cache.assign(2, 10).is_ok());
  ASSERT_TRUE(cache.assign(4, 30).is_ok());
  ASSERT_TRUE(cache.assign(7, 60).is_ok());
  EXPECT_EQ(*cache.end_offset_for(2, 100), (EpochEntry{2, 30}));
  EXPECT_EQ(*cache.end_offset_for(3, 100), (EpochEntry{2, 30})) << "largest epoch <= requested";
  EXPECT_EQ(*cache.end_offset_for(4, 100), (EpochEntry{4, 60}));
  EXPECT_EQ(*cache.end_offset_for(7, 100), (EpochEntry{7, 100})) << "latest ends at the log end";
  EXPECT_EQ(*cache.end_offset_for(9, 100), (EpochEntry{7, 100}));
}

// After an unclean election the leader's history can start at a later epoch
// than the one a follower asks about: the answer is that epoch ending where
// the leader's first epoch starts, so the follower cuts its tail there (as
// Kafka answers), not "unknown", which kept records the leader never had.
TEST(LeaderEpochCache, AnEpochOlderThanTheFirstEndsWhereTheFirstStarts) {
  TempDir dir;
  LeaderEpochCache cache(dir.file("c"));
  ASSERT_TRUE(cache.assign(5, 0).is_ok());
  ASSERT_TRUE(cache.assign(7, 40).is_ok());
  EXPECT_EQ(cache.end_offset_for(3, 100), (EpochEntry{3, 0}));
  EXPECT_EQ(cache.end_offset_for(0, 100), (EpochEntry{0, 0}));
  EXPECT_EQ(cache.end_offset_for(5, 100), (EpochEntry{5, 40})) << "the first epoch itself";
  // Retention moved the log start: the first epoch now starts there.
  ASSERT_TRUE(cache.truncate_from_start(60).is_ok());
  ASSERT_EQ(cache.entries(), (std::vector<EpochEntry>{{7, 60}}));
  EXPECT_EQ(cache.end_offset_for(5, 100), (EpochEntry{5, 60}));
  EXPECT_EQ(cache.end_offset_for(7, 100), (EpochEntry{7, 100}));
}

TEST(LeaderEpochCache, NoAnswerForAnUndefinedEpochOrAnEmptyHistory) {
  TempDir dir;
  LeaderEpochCache cache(dir.file("c"));
  EXPECT_FALSE(cache.end_offset_for(3, 100).has_value()) << "no epochs at all";
  ASSERT_TRUE(cache.assign(2, 10).is_ok());
  EXPECT_FALSE(cache.end_offset_for(-1, 100).has_value()) << "undefined epoch";
}

TEST(LeaderEpochCache, TruncationKeepsItConsistentWithTheLog) {
  TempDir dir;
  LeaderEpochCache cache(dir.file("c"));
  ASSERT_TRUE(cache.assign(1, 0).is_ok());
  ASSERT_TRUE(cache.assign(2, 40).is_ok());
  ASSERT_TRUE(cache.assign(3, 80).is_ok());
  ASSERT_TRUE(cache.truncate_from_end(80).is_ok());
  EXPECT_EQ(cache.latest()->epoch, 2);
  ASSERT_TRUE(cache.truncate_from_start(50).is_ok());
  std::vector<EpochEntry> expected = {{2, 50}};
  EXPECT_EQ(cache.entries(), expected);
  // An older epoch arriving after a newer one replaces the conflicting entries.
  ASSERT_TRUE(cache.assign(5, 90).is_ok());
  ASSERT_TRUE(cache.assign(4, 95).is_ok());
  expected = {{2, 50}, {4, 95}};
  EXPECT_EQ(cache.entries(), expected);
}

TEST(LeaderEpochCache, RejectsCorruptOrNonMonotonicFiles) {
  TempDir dir;
  std::string path = dir.file("c");
  {
    LeaderEpochCache cache(path);
    ASSERT_TRUE(cache.assign(1, 0).is_ok());
    ASSERT_TRUE(cache.assign(2, 10).is_ok());
  }
  std::string contents;
  {
    std::ifstream in(path);
    contents.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(path, std::ios::trunc);
    std::string flipped = contents;
    flipped[contents.find("10")] = '9';  // checksum no longer matches
    out << flipped;
  }
  LeaderEpochCache cache(path);
  EXPECT_EQ(cache.load().code(), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(cache.entries().empty());
  LeaderEpochCache missing(dir.file("absent"));
  EXPECT_TRUE(missing.load().is_ok()) << "no file: an empty history";
}

}  // namespace
}  // namespace mq
