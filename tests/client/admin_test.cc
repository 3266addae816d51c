// End-to-end tests of the admin client against the fake broker.
#include "client/admin.h"

#include <gtest/gtest.h>

#include <chrono>

#include "client/producer.h"
#include "tests/client/fake_broker.h"
#include "transport/list_offsets.h"

namespace mq::client {
namespace {

using testing::FakeBroker;

class AdminEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string();
    Result<std::unique_ptr<Admin>> admin = Admin::create(AdminConfig{
        .bootstrap_servers = "tcp://" + broker_.bootstrap(), .request_timeout_ms = 5'000});
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(admin).value();
  }

  FakeBroker broker_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(AdminEndToEnd, CreatesTopicsAndReportsPerTopicErrors) {
  Result<std::vector<ItemResult>> created = admin_->create_topics(
      {{.name = "a", .num_partitions = 3}, {.name = "b", .configs = {{"retention.ms", "1000"}}}});
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  ASSERT_EQ(created->size(), 2u);
  EXPECT_TRUE((*created)[0].status.is_ok());
  EXPECT_TRUE((*created)[1].status.is_ok());
  Result<std::vector<ItemResult>> again = admin_->create_topics({{.name = "a"}});
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ((*again)[0].status.code(), ErrorCode::kTopicAlreadyExists);
  Result<std::vector<ItemResult>> dry = admin_->create_topics({{.name = "c"}}, true);
  ASSERT_TRUE(dry.is_ok());
  EXPECT_TRUE((*dry)[0].status.is_ok());
  EXPECT_EQ(broker_.log_end_offset("c", 0), -1) << "validate_only creates nothing";
}

TEST_F(AdminEndToEnd, DescribesTheCluster) {
  ASSERT_TRUE(broker_.create_topic("t", 2).is_ok());
  Result<ClusterMetadata> cluster = admin_->describe_cluster();
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  ASSERT_EQ(cluster->brokers.size(), 1u);
  EXPECT_EQ(cluster->brokers[0].node_id, FakeBroker::kNodeId);
  EXPECT_EQ("127.0.0.1:" + std::to_string(cluster->brokers[0].port), broker_.bootstrap());
  EXPECT_EQ(cluster->controller_id, FakeBroker::kNodeId);
  EXPECT_EQ(cluster->partition_count("t"), 2);
  EXPECT_EQ(cluster->partition("t", 1)->leader_id, FakeBroker::kNodeId);
  Result<ClusterMetadata> missing = admin_->describe_cluster(std::vector<std::string>{"nope"});
  ASSERT_TRUE(missing.is_ok());
  EXPECT_EQ(missing->topic("nope")->error, ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(AdminEndToEnd, GrowsAndDeletesTopics) {
  ASSERT_TRUE(broker_.create_topic("t", 1).is_ok());
  Result<std::vector<ItemResult>> grown = admin_->create_partitions({{"t", 4}});
  ASSERT_TRUE(grown.is_ok());
  EXPECT_TRUE((*grown)[0].status.is_ok()) << (*grown)[0].status.to_string();
  EXPECT_EQ(admin_->describe_cluster()->partition_count("t"), 4);
  Result<std::vector<ItemResult>> shrink = admin_->create_partitions({{"t", 2}});
  ASSERT_TRUE(shrink.is_ok());
  EXPECT_EQ((*shrink)[0].status.code(), ErrorCode::kInvalidPartitions);

  Result<std::vector<ItemResult>> deleted = admin_->delete_topics({"t", "nope"});
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_TRUE((*deleted)[0].status.is_ok());
  EXPECT_EQ((*deleted)[1].status.code(), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(admin_->describe_cluster()->partition_count("t"), 0);
}

TEST_F(AdminEndToEnd, DescribesAndAltersConfigs) {
  ASSERT_TRUE(
      admin_->create_topics({{.name = "t", .configs = {{"retention.ms", "1000"}}}}).is_ok());
  ConfigResource topic{.name = "t"};
  ASSERT_TRUE(
      admin_->alter_configs(topic, {{"cleanup.policy", "compact"}, {"retention.ms", std::nullopt}})
          .is_ok());
  Result<std::vector<ConfigEntry>> configs = admin_->describe_configs(topic);
  ASSERT_TRUE(configs.is_ok()) << configs.status().to_string();
  ASSERT_EQ(configs->size(), 1u);
  EXPECT_EQ((*configs)[0].name, "cleanup.policy");
  EXPECT_EQ((*configs)[0].value, "compact");
  EXPECT_EQ(admin_->describe_configs({.name = "nope"}).code(), ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(AdminEndToEnd, ListsOffsetsEarliestLatestAndByTime) {
  ASSERT_TRUE(broker_.create_topic("t", 2).is_ok());
  Result<std::unique_ptr<Producer>> producer =
      Producer::create(ProducerConfig{.bootstrap_servers = broker_.bootstrap()});
  ASSERT_TRUE(producer.is_ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        (*producer)
            ->send_sync(ProducerRecord{.topic = "t", .partition = 1, .timestamp_ms = 100 + i})
            .is_ok());
  }
  Result<std::map<TopicPartition, ListedOffset>> offsets = admin_->list_offsets(
      {{{"t", 0}, transport::kLatestTimestamp}, {{"t", 1}, transport::kLatestTimestamp}});
  ASSERT_TRUE(offsets.is_ok()) << offsets.status().to_string();
  EXPECT_EQ((offsets->at({"t", 0}).offset), 0);
  EXPECT_EQ((offsets->at({"t", 1}).offset), 5);
  offsets = admin_->list_offsets(
      {{{"t", 1}, transport::kEarliestTimestamp}, {{"t", 0}, transport::kEarliestTimestamp}});
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ((offsets->at({"t", 1}).offset), 0);
  offsets = admin_->list_offsets({{{"t", 1}, 103}});
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ((offsets->at({"t", 1}).offset), 3);
  EXPECT_EQ(admin_->list_offsets({{{"t", 9}, -1}}).code(), ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(AdminEndToEnd, ListsOffsetsPartitionByPartition) {
  ASSERT_TRUE(broker_.create_topic("t", 2).is_ok());
  // t-9 does not exist: it fails alone, the others are read.
  Result<std::map<TopicPartition, Result<ListedOffset>>> offsets =
      admin_->list_offsets_each({{{"t", 0}, transport::kLatestTimestamp},
                                 {{"t", 1}, transport::kEarliestTimestamp},
                                 {{"t", 9}, transport::kLatestTimestamp}});
  ASSERT_TRUE(offsets.is_ok()) << offsets.status().to_string();
  ASSERT_EQ(offsets->size(), 3u);
  ASSERT_TRUE(offsets->at({"t", 0}).is_ok());
  EXPECT_EQ(offsets->at({"t", 0})->offset, 0);
  ASSERT_TRUE(offsets->at({"t", 1}).is_ok());
  EXPECT_EQ(offsets->at({"t", 9}).code(), ErrorCode::kUnknownTopicOrPartition);
  // The all-or-nothing call still fails as a whole.
  EXPECT_EQ(admin_->list_offsets({{{"t", 0}, -1}, {{"t", 9}, -1}}).code(),
            ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(AdminEndToEnd, DescribesTheConfigsOfSeveralTopicsInOneCall) {
  Result<std::vector<ItemResult>> created =
      admin_->create_topics({{.name = "a", .configs = {{"min.insync.replicas", "2"}}}});
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  auto configs = admin_->describe_topic_configs({"a", "nope"});
  ASSERT_TRUE(configs.is_ok()) << configs.status().to_string();
  ASSERT_EQ(configs->size(), 2u);
  ASSERT_TRUE(configs->at("a").is_ok());
  ASSERT_EQ(configs->at("a")->size(), 1u);
  EXPECT_EQ(configs->at("a")->front().name, "min.insync.replicas");
  EXPECT_EQ(configs->at("a")->front().value, "2");
  EXPECT_EQ(configs->at("nope").code(), ErrorCode::kUnknownTopicOrPartition);
  auto none = admin_->describe_topic_configs({});
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(AdminEndToEnd, DescribeBrokersFromABrokerWithoutTheApiIsUnsupported) {
  // The fake broker does not serve DescribeCluster, as brokers older than it.
  EXPECT_EQ(admin_->describe_brokers().code(), ErrorCode::kUnsupportedVersion);
}

TEST(AdminCreate, RefusesAnInvalidConfig) {
  EXPECT_EQ(Admin::create(AdminConfig{.bootstrap_servers = "host-without-port"}).code(),
            ErrorCode::kInvalidConfig);
}

TEST(AdminUnreachable, ARefusedConnectionIsRetriedUntilTheCallsTimeNamingTheBroker) {
  // Nothing listens on port 1 of 127.0.0.1: each refused connect is seen by
  // the connection's monitor at once (not after the 20 s request timeout),
  // and retried until default_api_timeout_ms is up.
  Result<std::unique_ptr<Admin>> admin =
      Admin::create(AdminConfig{.bootstrap_servers = "127.0.0.1:1",
                                .request_timeout_ms = 20'000,
                                .default_api_timeout_ms = 1'000});
  ASSERT_TRUE(admin.is_ok());
  auto start = std::chrono::steady_clock::now();
  Result<ClusterMetadata> cluster = (*admin)->describe_cluster();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(cluster.code(), ErrorCode::kBrokerNotAvailable);
  EXPECT_NE(cluster.status().message().find("cannot connect to tcp://127.0.0.1:1"),
            std::string::npos)
      << cluster.status().message();
}

}  // namespace
}  // namespace mq::client
