// Tests of murmur2 (against Kafka's own test vectors) and the sticky partitioner.
#include "client/partitioner.h"

#include <gtest/gtest.h>

#include <limits>
#include <set>

namespace mq::client {
namespace {

// org.apache.kafka.common.utils.UtilsTest#testMurmur2, cross-checked against a
// transcription of the reference algorithm.
TEST(PartitionerMurmur2, MatchesKafkaTestVectors) {
  EXPECT_EQ(murmur2("21"), -973932308);
  EXPECT_EQ(murmur2("foobar"), -790332482);
  EXPECT_EQ(murmur2("a-little-bit-long-string"), -985981536);
  EXPECT_EQ(murmur2("a-little-bit-longer-string"), -1486304829);
  EXPECT_EQ(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971);
  EXPECT_EQ(murmur2("abc"), 479470107);
}

TEST(PartitionerMurmur2, HashesTheEmptyKey) {
  EXPECT_EQ(murmur2(""), 275646681);
}

TEST(PartitionerMurmur2, ToPositiveClearsOnlyTheSignBit) {
  EXPECT_EQ(to_positive(std::numeric_limits<int32_t>::min()), 0);
  EXPECT_EQ(to_positive(-1), std::numeric_limits<int32_t>::max());
  EXPECT_EQ(to_positive(42), 42);
}

TEST(PartitionerKeyHash, KeyedRecordsGoWhereKafkaPutsThem) {
  EXPECT_EQ(partition_for_key("21", 10), (-973932308 & 0x7fffffff) % 10);
  EXPECT_EQ(partition_for_key("foobar", 7), (-790332482 & 0x7fffffff) % 7);
  for (int i = 0; i < 100; ++i) {
    std::string key = "key-" + std::to_string(i);
    int32_t p = partition_for_key(key, 6);
    EXPECT_EQ(p, to_positive(murmur2(key)) % 6);
    EXPECT_EQ(partition_for_key(key, 6), p);
  }
}

TEST(PartitionerSticky, KeylessRecordsStickUntilABatchIsSealed) {
  StickyPartition sticky(7);
  int32_t first = sticky.current(8);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sticky.current(8), first);
  sticky.on_batch_sealed(first, 8);
  int32_t second = sticky.current(8);
  EXPECT_NE(second, first);
  EXPECT_EQ(sticky.current(8), second);
}

TEST(PartitionerSticky, OnlyTheStickyPartitionsBatchMovesIt) {
  StickyPartition sticky(3);
  int32_t chosen = sticky.current(4);
  sticky.on_batch_sealed((chosen + 1) % 4, 4);  // a keyed batch elsewhere
  EXPECT_EQ(sticky.current(4), chosen);
}

TEST(PartitionerSticky, SpreadsOverEveryPartitionInTime) {
  StickyPartition sticky(11);
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) {
    int32_t p = sticky.current(5);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 5);
    seen.insert(p);
    sticky.on_batch_sealed(p, 5);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(PartitionerSticky, SinglePartitionTopicAlwaysGetsZero) {
  StickyPartition sticky(5);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(sticky.current(1), 0);
    sticky.on_batch_sealed(0, 1);
  }
}

TEST(PartitionerSticky, AChoiceBeyondAShrunkPartitionCountIsMadeAgain) {
  StickyPartition sticky(9);
  for (int i = 0; i < 20; ++i) {
    int32_t p = sticky.current(100);
    if (p >= 3) {
      EXPECT_LT(sticky.current(3), 3);
      return;
    }
    sticky.on_batch_sealed(p, 100);
  }
  FAIL() << "no choice above 2 in 20 tries over 100 partitions";
}

}  // namespace
}  // namespace mq::client
