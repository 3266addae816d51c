// ReplicaManager: the clean-shutdown marker, the replicas the metadata log
// names, and producer ids and epochs from the controller.
#include "broker/replica_manager.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;

BrokerConfig config_in(const std::string& dir) {
  BrokerConfig config;
  config.data_dir = dir;
  return config;
}

TEST(ReplicaManager, RemembersWhetherThePreviousRunClosedCleanly) {
  testing::TempDir dir;
  BrokerConfig config = config_in(dir.path());
  {
    auto manager = ReplicaManager::open(config);
    ASSERT_TRUE(manager.is_ok()) << manager.status().to_string();
    EXPECT_FALSE((*manager)->previous_shutdown_clean());  // a new data_dir
    ASSERT_TRUE((*manager)->put_topic({"t", 2, 1, {}}).is_ok());
    ASSERT_TRUE((*manager)->open_replica("t", 0).is_ok());
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

TEST(ReplicaManager, OpensOnlyTheReplicasTheMetadataNames) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path()));
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  ReplicaManager& manager = **opened;

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

TEST(ReplicaManager, ProducerIdsComeFromTheControllersBlocks) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path()));
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

TEST(ReplicaManager, ProducerEpochsComeFromTheSource) {
  testing::TempDir dir;
  auto opened = ReplicaManager::open(config_in(dir.path()));
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
  EXPECT_FALSE(fs::exists(dir.file("broker.checkpoint")))
      << "epochs live in the metadata log, not in data_dir";
}

}  // namespace
}  // namespace mq::broker
