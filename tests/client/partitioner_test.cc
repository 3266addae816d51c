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
  Partitioner partitioner(1);
  for (int i = 0; i < 100; ++i) {
    std::string key = "key-" + std::to_string(i);
    EXPECT_EQ(partitioner.partition("t", key, 6), partition_for_key(key, 6));
    EXPECT_EQ(partitioner.partition("t", key, 6), partitioner.partition("t", key, 6));
  }
}

TEST(PartitionerSticky, KeylessRecordsStickUntilABatchIsSent) {
  Partitioner partitioner(7);
  int32_t first = partitioner.partition("t", std::nullopt, 8);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(partitioner.partition("t", std::nullopt, 8), first);
  partitioner.on_batch_sent("t", first, 8);
  int32_t second = partitioner.partition("t", std::nullopt, 8);
  EXPECT_NE(second, first);
  EXPECT_EQ(partitioner.sticky_partition("t"), second);
}

TEST(PartitionerSticky, OnlyTheStickyPartitionsBatchMovesIt) {
  Partitioner partitioner(3);
  int32_t sticky = partitioner.partition("t", std::nullopt, 4);
  partitioner.on_batch_sent("t", (sticky + 1) % 4, 4);  // a keyed batch elsewhere
  EXPECT_EQ(partitioner.partition("t", std::nullopt, 4), sticky);
  partitioner.on_batch_sent("other", sticky, 4);
  EXPECT_EQ(partitioner.partition("t", std::nullopt, 4), sticky);
}

TEST(PartitionerSticky, SpreadsOverEveryPartitionInTime) {
  Partitioner partitioner(11);
  std::set<int32_t> seen;
  for (int i = 0; i < 200; ++i) {
    int32_t p = partitioner.partition("t", std::nullopt, 5);
    ASSERT_GE(p, 0);
    ASSERT_LT(p, 5);
    seen.insert(p);
    partitioner.on_batch_sent("t", p, 5);
  }
  EXPECT_EQ(seen.size(), 5u);
}

TEST(PartitionerSticky, SinglePartitionTopicAlwaysGetsZero) {
  Partitioner partitioner(5);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(partitioner.partition("t", std::nullopt, 1), 0);
    partitioner.on_batch_sent("t", 0, 1);
  }
}

TEST(PartitionerSticky, TopicsStickIndependently) {
  Partitioner partitioner(9);
  int32_t a = partitioner.partition("a", std::nullopt, 100);
  int32_t b = partitioner.partition("b", std::nullopt, 100);
  partitioner.on_batch_sent("a", a, 100);
  EXPECT_EQ(partitioner.partition("b", std::nullopt, 100), b);
}

}  // namespace
}  // namespace mq::client
