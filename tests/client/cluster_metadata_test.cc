// ClusterMetadata::merge: a Metadata answer from a broker that has not
// applied the latest leadership change yet does not take the client back to
// the previous leader for a while; re-created topics and later answers do.
#include <gtest/gtest.h>

#include "client/metadata.h"

namespace mq::client {
namespace {

transport::MetadataResponse answer(int32_t partitions, int32_t leader, int32_t epoch) {
  transport::MetadataResponse response;
  response.brokers = {{1, "127.0.0.1", 9001, std::nullopt}, {2, "127.0.0.1", 9002, std::nullopt}};
  auto& topic = response.topics.emplace_back();
  topic.name = "t";
  for (int32_t p = 0; p < partitions; ++p) {
    auto& out = topic.partitions.emplace_back();
    out.partition_index = p;
    out.leader_id = leader;
    out.leader_epoch = epoch;
    out.replica_nodes = {1, 2};
    out.isr_nodes = {1, 2};
  }
  return response;
}

TEST(ClusterMetadataTest, AnOlderLeaderEpochDoesNotReplaceANewerOneForAWhile) {
  ClusterMetadata metadata;
  metadata.merge(answer(2, 2, 5), 1'000);
  // A lagging broker still names the leader of epoch 4.
  metadata.merge(answer(2, 1, 4), 1'500);
  ASSERT_NE(metadata.partition("t", 0), nullptr);
  EXPECT_EQ(metadata.partition("t", 0)->leader_id, 2);
  EXPECT_EQ(metadata.partition("t", 0)->leader_epoch, 5);
  EXPECT_EQ(metadata.partition("t", 0)->leader_learned_ms, 1'000);
  // A newer epoch replaces it at once.
  metadata.merge(answer(2, 1, 6), 1'600);
  EXPECT_EQ(metadata.partition("t", 1)->leader_id, 1);
  EXPECT_EQ(metadata.partition("t", 1)->leader_epoch, 6);
  // Past the window an older epoch is taken: the topic may have been re-created.
  metadata.merge(answer(2, 2, 0), 1'600 + ClusterMetadata::kKeepNewerLeaderMs);
  EXPECT_EQ(metadata.partition("t", 1)->leader_id, 2);
  EXPECT_EQ(metadata.partition("t", 1)->leader_epoch, 0);
}

TEST(ClusterMetadataTest, AnotherPartitionCountIsTakenAsItIs) {
  ClusterMetadata metadata;
  metadata.merge(answer(2, 2, 5), 1'000);
  // Re-created with three partitions: its epochs start again.
  metadata.merge(answer(3, 1, 0), 1'100);
  ASSERT_EQ(metadata.partition_count("t"), 3);
  EXPECT_EQ(metadata.partition("t", 0)->leader_id, 1);
  EXPECT_EQ(metadata.partition("t", 0)->leader_epoch, 0);
}

}  // namespace
}  // namespace mq::client
