// Converting an old single-node data directory into a cluster of one: what
// the snapshot holds, and what a failed or refused conversion leaves.
#include "broker/single_node_conversion.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "metadata/image.h"
#include "raft/file_storage.h"
#include "store/checkpoint.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;

BrokerConfig config_in(const std::string& dir) {
  BrokerConfig config;
  config.node_id = 4;
  config.data_dir = dir;
  return config;
}

// The checkpoints the single-node broker of the previous release wrote.
void write_legacy(const testing::TempDir& dir, std::vector<std::string> topics,
                  std::vector<std::string> broker) {
  ASSERT_TRUE(write_checkpoint(dir.file("topics.checkpoint"), "mq-topics", 1, topics).is_ok());
  ASSERT_TRUE(write_checkpoint(dir.file("broker.checkpoint"), "mq-broker", 1, broker).is_ok());
}

metadata::MetadataImage converted_image(const testing::TempDir& dir) {
  auto storage = raft::FileStorage::open(dir.file("__quorum"));
  EXPECT_TRUE(storage.is_ok()) << storage.status().to_string();
  auto state = (*storage)->load();
  EXPECT_TRUE(state.is_ok());
  EXPECT_TRUE(state->snapshot.has_value());
  EXPECT_EQ(state->hard_state.commit, 1u);
  auto image = metadata::MetadataImage::decode_snapshot(state->snapshot->data);
  EXPECT_TRUE(image.is_ok()) << image.status().to_string();
  return std::move(image).value();
}

TEST(SingleNodeConversion, TopicsConfigsProducerIdsAndTheClusterIdMoveIntoTheSnapshot) {
  testing::TempDir dir;
  write_legacy(dir,
               {"orders 3 1 cleanup.policy=compact retention.ms=60000", "__consumer_offsets 2 1"},
               {"cluster_id abc123", "producer_id_block 2000", "producer_epoch 1500 3"});
  Result<std::string> summary = convert_single_node_data_dir(config_in(dir.path()));
  ASSERT_TRUE(summary.is_ok()) << summary.status().to_string();
  EXPECT_NE(summary->find("2 topic(s), 5 partition(s)"), std::string::npos) << *summary;
  EXPECT_FALSE(fs::exists(dir.file("topics.checkpoint")));
  EXPECT_FALSE(fs::exists(dir.file("broker.checkpoint")));
  EXPECT_FALSE(fs::exists(dir.file("__quorum.converting")));

  metadata::MetadataImage image = converted_image(dir);
  EXPECT_EQ(image.cluster_id(), "abc123");
  EXPECT_EQ(image.next_producer_id(), 2000) << "ids handed out before are never reused";
  EXPECT_EQ(image.producer_epoch(1500), 3) << "older epochs stay fenced";
  const metadata::TopicState* orders = image.topic("orders");
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ(orders->partitions.size(), 3u);
  EXPECT_EQ(orders->partitions[2].leader, 4);
  EXPECT_EQ(orders->partitions[2].replicas, std::vector<int32_t>{4});
  EXPECT_EQ(orders->partitions[2].isr, std::vector<int32_t>{4});
  ASSERT_NE(orders->config("retention.ms"), nullptr);
  EXPECT_EQ(*orders->config("retention.ms"), "60000");
  EXPECT_EQ(*orders->config("cleanup.policy"), "compact");
  ASSERT_NE(image.topic("__consumer_offsets"), nullptr);
  EXPECT_EQ(image.topic("__consumer_offsets")->partitions.size(), 2u);

  // Once done, nothing more to do.
  Result<std::string> again = convert_single_node_data_dir(config_in(dir.path()));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, "");
}

TEST(SingleNodeConversion, ADamagedCheckpointLeavesTheDirectoryAsItWas) {
  testing::TempDir dir;
  write_legacy(dir, {"orders three 1"}, {"cluster_id abc"});
  Result<std::string> summary = convert_single_node_data_dir(config_in(dir.path()));
  ASSERT_FALSE(summary.is_ok());
  EXPECT_NE(summary.status().message().find("bad line 'orders three 1'"), std::string::npos)
      << summary.status().to_string();
  EXPECT_NE(summary.status().message().find("was not converted"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.file("topics.checkpoint")));
  EXPECT_TRUE(fs::exists(dir.file("broker.checkpoint")));
  EXPECT_FALSE(fs::exists(dir.file("__quorum")));

  // A bad producer epoch line too, and a config without '='.
  write_legacy(dir, {"orders 1 1"}, {"producer_epoch 7 0"});
  EXPECT_FALSE(convert_single_node_data_dir(config_in(dir.path())).is_ok());
  write_legacy(dir, {"orders 1 1 retention"}, {});
  EXPECT_FALSE(convert_single_node_data_dir(config_in(dir.path())).is_ok());
  EXPECT_FALSE(fs::exists(dir.file("__quorum")));
}

TEST(SingleNodeConversion, AnInterruptedAttemptIsRedoneAndAFinishedOneCompleted) {
  testing::TempDir dir;
  write_legacy(dir, {"t 1 1"}, {"cluster_id c1"});
  // A crash while writing the snapshot left a partial staging directory.
  fs::create_directories(dir.file("__quorum.converting"));
  std::ofstream(dir.file("__quorum.converting/garbage")) << "half";
  ASSERT_TRUE(convert_single_node_data_dir(config_in(dir.path())).is_ok());
  EXPECT_NE(converted_image(dir).topic("t"), nullptr);
  EXPECT_FALSE(fs::exists(dir.file("__quorum.converting")));

  // A crash after the rename, before the old checkpoint was removed.
  write_legacy(dir, {"other 1 1"}, {});
  ASSERT_TRUE(convert_single_node_data_dir(config_in(dir.path())).is_ok());
  EXPECT_FALSE(fs::exists(dir.file("topics.checkpoint")));
  EXPECT_EQ(converted_image(dir).topic("other"), nullptr) << "the finished conversion stands";
}

TEST(SingleNodeConversion, IsRefusedWhenOtherVotersAreNamed) {
  testing::TempDir dir;
  write_legacy(dir, {"t 1 1"}, {});
  BrokerConfig config = config_in(dir.path());
  config.cluster.voters = {{4, "127.0.0.1", 9493}, {5, "127.0.0.1", 9593}, {6, "127.0.0.1", 9693}};
  Result<std::string> refused = convert_single_node_data_dir(config);
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(refused.status().message().find("Start it once alone"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir.file("topics.checkpoint")));
  EXPECT_FALSE(fs::exists(dir.file("__quorum")));

  // Named as the only voter, it converts.
  config.cluster.voters = {{4, "127.0.0.1", 9493}};
  EXPECT_TRUE(convert_single_node_data_dir(config).is_ok());
}

}  // namespace
}  // namespace mq::broker
