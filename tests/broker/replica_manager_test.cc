// ReplicaManager: the clean-shutdown marker, and cluster mode, where the
// metadata log owns the topic list and the broker holds only its replicas.
#include "broker/replica_manager.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "store/checkpoint.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;

BrokerConfig config_in(const std::string& dir, bool cluster) {
  BrokerConfig config;
  config.data_dir = dir;
  if (cluster) config.cluster.voters = {{1, "127.0.0.1", 9193}};
  return config;
}

TEST(ReplicaManager, RemembersWhetherThePreviousRunClosedCleanly) {
  testing::TempDir dir;
  BrokerConfig config = config_in(dir.path(), false);
  {
    auto manager = ReplicaManager::open(config);
    ASSERT_TRUE(manager.is_ok()) << manager.status().to_string();
    EXPECT_FALSE((*manager)->previous_shutdown_clean());  // a new data_dir
    ASSERT_TRUE((*manager)->create_topic("t", 2, 1, {}, false).is_ok());
    ASSERT_TRUE((*manager)->close().is_ok());
  }
  EXPECT_TRUE(fs::exists(dir.file("clean_shutdown")));
  // A run that crashes: a child process opens the state and dies without
  // closing (no destructor, so no close() and no marker).
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto manager = ReplicaManager::open(config);
    // Running again: a crash from here on is unclean.
    bool ok = manager.is_ok() && (*manager)->previous_shutdown_clean() &&
              !fs::exists(dir.file("clean_shutdown"));
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  auto after_crash = ReplicaManager::open(config);
  ASSERT_TRUE(after_crash.is_ok());
  EXPECT_FALSE((*after_crash)->previous_shutdown_clean());
}

TEST(ReplicaManager, ClusterModeOpensOnlyTheReplicasTheMetadataNames) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path(), true));
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  ReplicaManager& manager = **opened;
  EXPECT_TRUE(manager.cluster_mode());

  // The single-node calls refuse: topics change through the controller.
  Status refused = manager.create_topic("t", 1, 1, {}, false);
  EXPECT_EQ(refused.code(), ErrorCode::kNotController) << refused.to_string();
  EXPECT_EQ(manager.delete_topic("t").code(), ErrorCode::kNotController);

  // A replica of an unknown topic or partition is an error, not a new log.
  EXPECT_EQ(manager.open_replica("t", 0).code(), ErrorCode::kUnknownTopicOrPartition);
  ASSERT_TRUE(manager.put_topic({"t", 3, 3, {{"retention.ms", "60000"}}}).is_ok());
  EXPECT_EQ(manager.open_replica("t", 3).code(), ErrorCode::kUnknownTopicOrPartition);
  auto p1 = manager.open_replica("t", 1);
  ASSERT_TRUE(p1.is_ok()) << p1.status().to_string();
  auto again = manager.open_replica("t", 1);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(p1->get(), again->get());  // opened once
  EXPECT_EQ(manager.partitions().size(), 1u);
  EXPECT_TRUE(fs::exists(dir.file("t-1")));
  EXPECT_FALSE(fs::exists(dir.file("t-0")));
  EXPECT_FALSE(fs::exists(dir.file("topics.checkpoint")));

  // Bad settings from the metadata are refused, the old ones stay.
  EXPECT_FALSE(manager.put_topic({"t", 3, 3, {{"retention.ms", "soon"}}}).is_ok());
  EXPECT_EQ(manager.topic("t")->configs.at("retention.ms"), "60000");

  ASSERT_TRUE(manager.remove_replica("t", 1).is_ok());
  EXPECT_FALSE(fs::exists(dir.file("t-1")));
  EXPECT_EQ(manager.partition("t", 1), nullptr);
  EXPECT_TRUE(manager.remove_replica("t", 1).is_ok());  // already gone: fine

  ASSERT_TRUE(manager.open_replica("t", 2).is_ok());
  ASSERT_TRUE(manager.remove_topic("t").is_ok());
  EXPECT_FALSE(fs::exists(dir.file("t-2")));
  EXPECT_FALSE(manager.topic("t").has_value());
}

TEST(ReplicaManager, ClusterProducerIdsComeFromTheControllersBlocks) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path(), true));
  ASSERT_TRUE(opened.is_ok());
  int blocks = 0;
  (*opened)->set_producer_id_block_source([&]() -> Result<std::pair<int64_t, int64_t>> {
    blocks++;
    if (blocks == 3) return Status(ErrorCode::kNotController, "no controller");
    return std::pair<int64_t, int64_t>{blocks * 1000, blocks * 1000 + 2};
  });
  EXPECT_EQ(*(*opened)->allocate_producer_id(), 1000);
  EXPECT_EQ(*(*opened)->allocate_producer_id(), 1001);
  EXPECT_EQ(*(*opened)->allocate_producer_id(), 2000);
  EXPECT_EQ(*(*opened)->allocate_producer_id(), 2001);
  EXPECT_EQ((*opened)->allocate_producer_id().code(), ErrorCode::kNotController);
  EXPECT_EQ(*(*opened)->allocate_producer_id(), 4000);
}

TEST(ReplicaManager, SingleNodeBumpsEpochsAndKeepsThemAcrossARestart) {
  testing::TempDir dir;
  BrokerConfig config = config_in(dir.path(), false);
  int64_t id = 0;
  {
    auto opened = ReplicaManager::open(config);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    ReplicaManager& manager = **opened;
    id = *manager.allocate_producer_id();
    EXPECT_EQ(manager.producer_epoch(id), 0);
    Result<ProducerIdAndEpoch> bumped = manager.bump_producer_epoch(id, 0);
    ASSERT_TRUE(bumped.is_ok()) << bumped.status().to_string();
    EXPECT_EQ(bumped->producer_id, id);
    EXPECT_EQ(bumped->producer_epoch, 1);
    EXPECT_EQ(manager.producer_epoch(id), 1) << "produces at epoch 0 are fenced now";
    EXPECT_EQ(manager.bump_producer_epoch(id, 1)->producer_epoch, 2);
    EXPECT_EQ(manager.bump_producer_epoch(id, 1)->producer_epoch, 2) << "a retry";
    EXPECT_EQ(manager.bump_producer_epoch(id, 0).code(), ErrorCode::kInvalidProducerEpoch);
    EXPECT_EQ(manager.bump_producer_epoch(id, 5).code(), ErrorCode::kInvalidProducerEpoch);
    EXPECT_EQ(manager.bump_producer_epoch(5000, 0).code(), ErrorCode::kUnknownProducerId)
        << "an id never handed out";
    EXPECT_EQ(manager.producer_epoch(id + 1), 0) << "other ids are untouched";
  }
  auto reopened = ReplicaManager::open(config);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  EXPECT_EQ((*reopened)->producer_epoch(id), 2);
  EXPECT_EQ((*reopened)->bump_producer_epoch(id, 1)->producer_epoch, 2);
  EXPECT_EQ((*reopened)->bump_producer_epoch(id, 2)->producer_epoch, 3);
}

TEST(ReplicaManager, AProducerWhoseEpochsAreUsedUpGetsANewId) {
  testing::TempDir dir;
  BrokerConfig config = config_in(dir.path(), false);
  auto opened = ReplicaManager::open(config);
  ASSERT_TRUE(opened.is_ok());
  int64_t id = *(*opened)->allocate_producer_id();
  ASSERT_TRUE((*opened)->close().is_ok());
  opened->reset();
  // Epoch 32766, as the checkpoint holds it after that many bumps.
  ASSERT_TRUE(write_checkpoint(
                  dir.file("broker.checkpoint"), "mq-broker", 1,
                  {std::string("cluster_id x"), "producer_id_block " + std::to_string(id + 1000),
                   "producer_epoch " + std::to_string(id) + " 32766"})
                  .is_ok());
  auto manager = ReplicaManager::open(config);
  ASSERT_TRUE(manager.is_ok()) << manager.status().to_string();
  EXPECT_EQ((*manager)->producer_epoch(id), 32766);
  EXPECT_EQ((*manager)->bump_producer_epoch(id, 32766)->producer_epoch, 32767);
  Result<ProducerIdAndEpoch> renewed = (*manager)->bump_producer_epoch(id, 32767);
  ASSERT_TRUE(renewed.is_ok()) << renewed.status().to_string();
  EXPECT_NE(renewed->producer_id, id);
  EXPECT_EQ(renewed->producer_epoch, 0);

  // A damaged epoch line is refused at start, not guessed at.
  ASSERT_TRUE(write_checkpoint(dir.file("broker.checkpoint"), "mq-broker", 1,
                               {std::string("cluster_id x"), std::string("producer_epoch 7 0")})
                  .is_ok());
  manager->reset();
  auto damaged = ReplicaManager::open(config);
  ASSERT_FALSE(damaged.is_ok());
  EXPECT_NE(damaged.status().message().find("bad line 'producer_epoch 7 0'"), std::string::npos)
      << damaged.status().message();
}

TEST(ReplicaManager, ClusterProducerEpochsComeFromTheSource) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path(), true));
  ASSERT_TRUE(opened.is_ok());
  ReplicaManager& manager = **opened;
  manager.set_producer_id_block_source([]() -> Result<std::pair<int64_t, int64_t>> {
    return std::pair<int64_t, int64_t>{50, 60};
  });
  std::map<int64_t, int16_t> controller{{7, 3}};
  manager.set_producer_epoch_source(
      {.bump = [&](int64_t id, int16_t epoch) -> Result<std::optional<int16_t>> {
         if (epoch == 32767) return std::optional<int16_t>();
         if (controller[id] != epoch) return Status(ErrorCode::kInvalidProducerEpoch, "fenced");
         return std::optional<int16_t>(++controller[id]);
       },
       .current = [&](int64_t id) { return controller.contains(id) ? controller[id] : 0; }});
  EXPECT_EQ(manager.producer_epoch(7), 3);
  EXPECT_EQ(manager.bump_producer_epoch(7, 3)->producer_epoch, 4);
  EXPECT_EQ(manager.producer_epoch(7), 4);
  EXPECT_EQ(manager.bump_producer_epoch(7, 3).code(), ErrorCode::kInvalidProducerEpoch);
  controller[8] = 32767;
  Result<ProducerIdAndEpoch> renewed = manager.bump_producer_epoch(8, 32767);
  ASSERT_TRUE(renewed.is_ok());
  EXPECT_EQ(renewed->producer_id, 50) << "a new id from this broker's block";
  EXPECT_EQ(renewed->producer_epoch, 0);
  EXPECT_FALSE(fs::exists(dir.file("broker.checkpoint")) && [&] {
    std::ifstream in(dir.file("broker.checkpoint"));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("producer_epoch") != std::string::npos;
  }()) << "a cluster keeps epochs in the metadata log, not here";
}

TEST(ReplicaManager, DataDirsDoNotSwitchModes) {
  testing::TempDir single;
  {
    auto manager = ReplicaManager::open(config_in(single.path(), false));
    ASSERT_TRUE(manager.is_ok());
    ASSERT_TRUE((*manager)->create_topic("t", 1, 1, {}, false).is_ok());
  }
  auto as_cluster = ReplicaManager::open(config_in(single.path(), true));
  ASSERT_FALSE(as_cluster.is_ok());
  EXPECT_NE(as_cluster.status().message().find("belongs to a single-node broker"),
            std::string::npos)
      << as_cluster.status().to_string();

  testing::TempDir member;
  fs::create_directories(member.file("__quorum"));
  auto as_single = ReplicaManager::open(config_in(member.path(), false));
  ASSERT_FALSE(as_single.is_ok());
  EXPECT_NE(as_single.status().message().find("belongs to a cluster member"), std::string::npos)
      << as_single.status().to_string();
}

}  // namespace
}  // namespace mq::broker
