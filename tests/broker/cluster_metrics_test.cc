// ClusterCollector: the cluster, quorum and replication metrics. Most tests
// feed it a fake source (a quorum status, a metadata image built from
// records, real partitions in temporary logs) and read the text exposition
// back; the last one scrapes a real one-voter cluster member.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "broker/broker_metrics.h"
#include "broker/cluster_member.h"
#include "broker/replica_manager.h"
#include "tests/store/batches.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

using namespace std::chrono_literals;
using metadata::MetadataImage;

// "name{labels}" -> value for every sample of the text exposition.
std::map<std::string, double> samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string exposition(const ClusterCollector& collector) {
  return prometheus::TextSerializer().Serialize(collector.Collect());
}

using mq::testing::free_port;

class ClusterMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    apply({metadata::ClusterId{.cluster_id = "c1"}});
    for (int id = 1; id <= 3; id++) {
      apply({metadata::RegisterBroker{.broker_id = id,
                                      .incarnation_id = static_cast<uint64_t>(id),
                                      .endpoint = "tcp://127.0.0.1:" + std::to_string(9000 + id)}});
    }
    for (int id = 1; id <= 2; id++) {
      apply({metadata::UnfenceBroker{.broker_id = id,
                                     .broker_epoch = image_->broker(id)->broker_epoch}});
    }
    quorum_.id = 1;
    quorum_.voter = true;
    quorum_.running = true;
  }

  // Applies one batch to a copy of the image, as the metadata store does.
  void apply(metadata::RecordBatch batch) {
    auto next = std::make_shared<MetadataImage>(*image_);
    Status applied = next->apply(batch, ++index_);
    ASSERT_TRUE(applied.is_ok()) << applied.to_string();
    image_ = next;
  }
  void create_topic(const std::string& name, metadata::TopicId id,
                    std::vector<metadata::BrokerId> leaders) {
    metadata::RecordBatch batch;
    batch.push_back(metadata::Topic{
        .name = name, .topic_id = id, .partition_count = static_cast<int32_t>(leaders.size())});
    for (size_t i = 0; i < leaders.size(); i++) {
      std::vector<metadata::BrokerId> isr;
      if (leaders[i] != metadata::kNoLeader) isr = {leaders[i]};
      batch.push_back(metadata::Partition{.topic = name,
                                          .partition = static_cast<int32_t>(i),
                                          .replicas = {1, 2, 3},
                                          .isr = isr,
                                          .leader = leaders[i]});
    }
    apply(batch);
  }
  // A new leader for `topic`-`partition` (its leader epoch goes up by one).
  void elect(const std::string& topic, int32_t partition, metadata::BrokerId leader) {
    const metadata::PartitionState* p = image_->partition(topic, partition);
    ASSERT_NE(p, nullptr);
    apply({metadata::PartitionChange{.topic = topic,
                                     .partition = partition,
                                     .partition_epoch = p->partition_epoch,
                                     .leader = leader,
                                     .isr = std::vector<metadata::BrokerId>{leader}}});
  }

  std::shared_ptr<Partition> make_partition(const std::string& topic, int32_t index,
                                            int32_t min_insync_replicas) {
    Result<std::unique_ptr<Log>> log =
        Log::open(dir_.path() + "/" + partition_dir_name(topic, index), LogConfig{});
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return std::make_shared<Partition>(topic, index, std::move(log).value(), 0,
                                       min_insync_replicas);
  }

  std::unique_ptr<ClusterCollector> collector() {
    return std::make_unique<ClusterCollector>(
        ClusterMetricsSource{.broker_id = 1,
                             .quorum_status = [this] { return quorum_; },
                             .image = [this] { return image_; },
                             .fenced = [this] { return fenced_; },
                             .partitions = [this] { return partitions_; },
                             .followers = [this] { return followers_; }});
  }

  mq::testing::TempDir dir_;
  std::shared_ptr<const MetadataImage> image_ = std::make_shared<MetadataImage>();
  uint64_t index_ = 0;
  quorum::QuorumStatus quorum_;
  bool fenced_ = false;
  std::vector<std::shared_ptr<Partition>> partitions_;
  std::vector<FollowerPartitionStatus> followers_;
};

TEST_F(ClusterMetricsTest, ExportsEveryFamilyWithHelpAndType) {
  std::string text = exposition(*collector());
  for (const char* family : {"mq_cluster_active_controller gauge",
                             "mq_quorum_role gauge",
                             "mq_quorum_voter gauge",
                             "mq_quorum_term gauge",
                             "mq_quorum_leader gauge",
                             "mq_quorum_commit_index gauge",
                             "mq_quorum_applied_index gauge",
                             "mq_quorum_voter_lag gauge",
                             "mq_quorum_messages_dropped_total counter",
                             "mq_quorum_frames_rejected_total counter",
                             "mq_broker_fenced gauge",
                             "mq_cluster_brokers gauge",
                             "mq_partitions_leader gauge",
                             "mq_partitions_under_replicated gauge",
                             "mq_partitions_under_min_isr gauge",
                             "mq_partitions_offline gauge",
                             "mq_isr_shrinks_total counter",
                             "mq_isr_expands_total counter",
                             "mq_leader_elections_total counter",
                             "mq_follower_lag_messages gauge",
                             "mq_follower_fetched_bytes_total counter",
                             "mq_replica_lag_messages gauge",
                             "mq_replica_lag_bytes gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos)
        << family << " missing from\n"
        << text;
  }
  std::string name_only = "mq_cluster_active_controller";
  EXPECT_NE(text.find("# HELP " + name_only + " 1 on the broker that is the active controller"),
            std::string::npos);
}

TEST_F(ClusterMetricsTest, QuorumFiguresOfAFollower) {
  quorum_.role = raft::Role::kFollower;
  quorum_.term = 7;
  quorum_.leader = 2;
  quorum_.commit_index = 41;
  quorum_.applied_index = 40;
  quorum_.counters.messages_dropped = 3;
  quorum_.counters.frames_rejected = 2;
  create_topic("t", 10, {2, metadata::kNoLeader});
  auto s = samples(exposition(*collector()));
  EXPECT_EQ(s["mq_cluster_active_controller"], 0);
  EXPECT_EQ(s["mq_quorum_role{role=\"follower\"}"], 1);
  EXPECT_EQ(s["mq_quorum_role{role=\"leader\"}"], 0);
  EXPECT_EQ(s["mq_quorum_role{role=\"candidate\"}"], 0);
  EXPECT_EQ(s["mq_quorum_role{role=\"pre-candidate\"}"], 0);
  EXPECT_EQ(s["mq_quorum_voter"], 1);
  EXPECT_EQ(s["mq_quorum_term"], 7);
  EXPECT_EQ(s["mq_quorum_leader"], 2);
  EXPECT_EQ(s["mq_quorum_commit_index"], 41);
  EXPECT_EQ(s["mq_quorum_applied_index"], 40);
  EXPECT_EQ(s["mq_quorum_messages_dropped_total"], 3);
  EXPECT_EQ(s["mq_quorum_frames_rejected_total"], 2);
  EXPECT_EQ(s["mq_broker_fenced"], 0);
  EXPECT_EQ(s["mq_cluster_brokers{state=\"alive\"}"], 2);
  EXPECT_EQ(s["mq_cluster_brokers{state=\"fenced\"}"], 1);
  for (const auto& [series, value] : s) {
    EXPECT_EQ(series.rfind("mq_quorum_voter_lag", 0), std::string::npos)
        << "voter lag only on the leader: " << series;
    EXPECT_NE(series, "mq_partitions_offline") << "offline partitions only on the controller";
  }
}

TEST_F(ClusterMetricsTest, NoLeaderIsMinusOneAndAStoppedQuorumHasNoRole) {
  quorum_.leader = raft::kNoNode;
  quorum_.running = false;
  fenced_ = true;
  auto s = samples(exposition(*collector()));
  EXPECT_EQ(s["mq_quorum_leader"], -1);
  EXPECT_EQ(s["mq_quorum_role{role=\"follower\"}"], 0);
  EXPECT_EQ(s["mq_broker_fenced"], 1);
}

TEST_F(ClusterMetricsTest, TheControllerExportsVoterLagAndOfflinePartitions) {
  quorum_.role = raft::Role::kLeader;
  quorum_.leader = 1;
  quorum_.am_controller = true;
  quorum_.members = {{.id = 1, .voter = true, .match_index = 50, .lag = 0},
                     {.id = 2, .voter = true, .match_index = 45, .lag = 5},
                     {.id = 3, .voter = true, .match_index = 20, .lag = 30},
                     {.id = 4, .voter = false, .match_index = 10, .lag = 40}};
  create_topic("t", 10, {1, metadata::kNoLeader, 2});
  create_topic("u", 11, {metadata::kNoLeader});
  auto s = samples(exposition(*collector()));
  EXPECT_EQ(s["mq_cluster_active_controller"], 1);
  EXPECT_EQ(s["mq_quorum_role{role=\"leader\"}"], 1);
  EXPECT_EQ(s["mq_quorum_voter_lag{voter=\"1\"}"], 0);
  EXPECT_EQ(s["mq_quorum_voter_lag{voter=\"2\"}"], 5);
  EXPECT_EQ(s["mq_quorum_voter_lag{voter=\"3\"}"], 30);
  EXPECT_EQ(s.count("mq_quorum_voter_lag{voter=\"4\"}"), 0u) << "observers are not voters";
  EXPECT_EQ(s["mq_partitions_offline"], 2);
}

TEST_F(ClusterMetricsTest, CountsThePartitionsThisBrokerLeadsByHealth) {
  // Leads with a full ISR.
  auto healthy = make_partition("t", 0, 2);
  ASSERT_TRUE(healthy
                  ->become_leader({.leader_epoch = 1,
                                   .partition_epoch = 1,
                                   .replicas = {1, 2, 3},
                                   .isr = {1, 2, 3},
                                   .local_broker_id = 1})
                  .is_ok());
  // Leads with one replica out of the ISR, still at min.insync.replicas 2.
  auto under_replicated = make_partition("t", 1, 2);
  ASSERT_TRUE(under_replicated
                  ->become_leader({.leader_epoch = 1,
                                   .partition_epoch = 1,
                                   .replicas = {1, 2, 3},
                                   .isr = {1, 2},
                                   .local_broker_id = 1})
                  .is_ok());
  // Leads alone, below min.insync.replicas 2.
  auto under_min_isr = make_partition("t", 2, 2);
  ASSERT_TRUE(under_min_isr
                  ->become_leader({.leader_epoch = 1,
                                   .partition_epoch = 1,
                                   .replicas = {1, 3},
                                   .isr = {1},
                                   .local_broker_id = 1})
                  .is_ok());
  // Follows broker 2: none of these counts.
  auto follower = make_partition("t", 3, 2);
  ASSERT_TRUE(follower
                  ->become_follower(
                      {.leader_epoch = 1, .partition_epoch = 1, .leader_id = 2, .replicas = {1, 2}})
                  .is_ok());
  // Opened, no role yet: the single-node default leader is not counted either.
  auto unassigned = make_partition("t", 4, 2);
  partitions_ = {healthy, under_replicated, under_min_isr, follower, unassigned};
  followers_ = {{.topic = "t",
                 .partition = 3,
                 .leader_epoch = 1,
                 .phase = FollowPhase::kFetching,
                 .log_end_offset = 10,
                 .leader_log_end_offset = 25,
                 .lag_messages = 15,
                 .bytes_fetched = 4096}};

  auto s = samples(exposition(*collector()));
  EXPECT_EQ(s["mq_partitions_leader"], 3);
  EXPECT_EQ(s["mq_partitions_under_replicated"], 2);
  EXPECT_EQ(s["mq_partitions_under_min_isr"], 1);
  EXPECT_EQ(s["mq_follower_lag_messages{topic=\"t\",partition=\"3\"}"], 15);
  EXPECT_EQ(s["mq_follower_fetched_bytes_total{topic=\"t\",partition=\"3\"}"], 4096);
  EXPECT_EQ(s.count("mq_follower_lag_messages{topic=\"t\",partition=\"0\"}"), 0u);
}

TEST_F(ClusterMetricsTest, TheLeaderExportsEachFollowersLagInMessagesAndBytes) {
  auto p = make_partition("t", 0, 1);
  ASSERT_TRUE(p->become_leader({.leader_epoch = 1,
                                .partition_epoch = 1,
                                .replicas = {1, 2, 3, 4},
                                .isr = {1, 2, 3, 4},
                                .local_broker_id = 1})
                  .is_ok());
  for (int i = 0; i < 10; i++) {
    std::string batch = testing::make_sized_batch(500);
    ASSERT_TRUE(p->append_as_leader(as_writable_bytes(batch), 1).is_ok());
  }
  int64_t end = p->log().log_end_offset();
  ASSERT_EQ(end, 10);
  EXPECT_EQ(p->record_follower_fetch(2, 4), ErrorCode::kNone);    // behind by 6 batches
  EXPECT_EQ(p->record_follower_fetch(3, end), ErrorCode::kNone);  // caught up
  // Broker 4 has not fetched in this epoch: its position is unknown, no series.
  partitions_ = {p};
  auto s = samples(exposition(*collector()));
  uint64_t batch_bytes = p->log().size_bytes() / 10;
  EXPECT_EQ(s["mq_replica_lag_messages{topic=\"t\",partition=\"0\",replica=\"2\"}"], 6);
  EXPECT_EQ(s["mq_replica_lag_bytes{topic=\"t\",partition=\"0\",replica=\"2\"}"],
            static_cast<double>(6 * batch_bytes));
  EXPECT_EQ(s["mq_replica_lag_messages{topic=\"t\",partition=\"0\",replica=\"3\"}"], 0);
  EXPECT_EQ(s["mq_replica_lag_bytes{topic=\"t\",partition=\"0\",replica=\"3\"}"], 0);
  EXPECT_EQ(s.count("mq_replica_lag_bytes{topic=\"t\",partition=\"0\",replica=\"4\"}"), 0u);
}

TEST_F(ClusterMetricsTest, IsrShrinksAndExpandsNeverGoDown) {
  auto p = make_partition("t", 0, 1);
  auto q = make_partition("t", 1, 1);
  auto leader = [](int32_t epoch, int32_t partition_epoch, std::vector<int32_t> isr) {
    return LeaderState{.leader_epoch = epoch,
                       .partition_epoch = partition_epoch,
                       .replicas = {1, 2, 3},
                       .isr = std::move(isr),
                       .local_broker_id = 1};
  };
  // Becoming leader with a partial ISR is not a shrink.
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2})).is_ok());
  ASSERT_TRUE(q->become_leader(leader(1, 1, {1, 2, 3})).is_ok());
  partitions_ = {p, q};
  auto c = collector();
  auto s = samples(exposition(*c));
  EXPECT_EQ(s["mq_isr_shrinks_total"], 0);
  EXPECT_EQ(s["mq_isr_expands_total"], 0);

  ASSERT_TRUE(p->become_leader(leader(1, 2, {1})).is_ok());     // shrink
  ASSERT_TRUE(p->become_leader(leader(1, 3, {1, 3})).is_ok());  // expand
  ASSERT_TRUE(q->become_leader(leader(1, 2, {1, 3})).is_ok());  // shrink
  ASSERT_TRUE(q->become_leader(leader(2, 3, {1, 2})).is_ok());  // new epoch, same leader: both
  ASSERT_TRUE(q->become_leader(leader(2, 3, {1, 2})).is_ok());  // the same state again: none
  EXPECT_EQ(p->isr_shrinks(), 1u);
  EXPECT_EQ(p->isr_expands(), 1u);
  EXPECT_EQ(q->isr_shrinks(), 2u);
  EXPECT_EQ(q->isr_expands(), 1u);
  s = samples(exposition(*c));
  EXPECT_EQ(s["mq_isr_shrinks_total"], 3);
  EXPECT_EQ(s["mq_isr_expands_total"], 2);

  // q moves away from this broker: its counts stay in the totals.
  partitions_ = {p};
  s = samples(exposition(*c));
  EXPECT_EQ(s["mq_isr_shrinks_total"], 3);
  EXPECT_EQ(s["mq_isr_expands_total"], 2);

  // A new replica of the same partition starts from zero; the totals go on.
  auto again = make_partition("t", 2, 1);
  ASSERT_TRUE(again->become_leader(leader(5, 5, {1, 2, 3})).is_ok());
  ASSERT_TRUE(again->become_leader(leader(5, 6, {1, 2})).is_ok());
  partitions_ = {p, again};
  s = samples(exposition(*c));
  EXPECT_EQ(s["mq_isr_shrinks_total"], 4);
  EXPECT_EQ(s["mq_isr_expands_total"], 2);
}

TEST_F(ClusterMetricsTest, FollowingAndLeadingAgainIsNotAnIsrChange) {
  auto p = make_partition("t", 0, 1);
  ASSERT_TRUE(p->become_leader({.leader_epoch = 1,
                                .partition_epoch = 1,
                                .replicas = {1, 2},
                                .isr = {1, 2},
                                .local_broker_id = 1})
                  .is_ok());
  ASSERT_TRUE(p->become_follower(
                   {.leader_epoch = 2, .partition_epoch = 2, .leader_id = 2, .replicas = {1, 2}})
                  .is_ok());
  ASSERT_TRUE(p->become_leader({.leader_epoch = 3,
                                .partition_epoch = 3,
                                .replicas = {1, 2},
                                .isr = {1},
                                .local_broker_id = 1})
                  .is_ok());
  EXPECT_EQ(p->isr_shrinks(), 0u);
  EXPECT_EQ(p->isr_expands(), 0u);
}

TEST_F(ClusterMetricsTest, LeaderElectionsCountEpochIncreasesAfterTheFirstScrape) {
  create_topic("t", 10, {1, 2});
  elect("t", 0, 2);  // history before the first scrape: not counted
  auto c = collector();
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 0);

  elect("t", 0, 1);
  elect("t", 0, 2);  // two elections between scrapes: both counted
  elect("t", 1, 1);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 3);

  // A topic created later counts from its epoch 0.
  create_topic("u", 11, {1});
  elect("u", 0, 2);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 4);

  // Deleting a topic does not take its elections back; an ISR-only change is no election.
  apply({metadata::RemoveTopic{.name = "t", .topic_id = 10}});
  const metadata::PartitionState* u = image_->partition("u", 0);
  apply({metadata::PartitionChange{.topic = "u",
                                   .partition = 0,
                                   .partition_epoch = u->partition_epoch,
                                   .isr = std::vector<metadata::BrokerId>{2, 3}}});
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 4);

  // A topic recreated under the same name is a new topic (new id).
  create_topic("t", 12, {1});
  elect("t", 0, 3);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 5);
}

TEST_F(ClusterMetricsTest, LeaderElectionsStartCountingWhenTheBrokerIsFirstUnfenced) {
  // While fenced the image may still be catching up with the log: what it
  // replays is history.
  fenced_ = true;
  auto c = collector();
  create_topic("t", 10, {1});
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 0);
  elect("t", 0, 2);
  elect("t", 0, 1);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 0);
  fenced_ = false;
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 0);
  elect("t", 0, 2);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 1);
  // Being fenced again later changes nothing.
  fenced_ = true;
  elect("t", 0, 1);
  EXPECT_EQ(samples(exposition(*c))["mq_leader_elections_total"], 2);
}

// One broker that is the whole quorum: it becomes the active controller,
// registers and is unfenced; the collector reads it through ClusterMember.
TEST(ClusterCollectorMember, ScrapesARealOneVoterClusterMember) {
  mq::testing::TempDir dir;
  BrokerConfig config;
  config.node_id = 1;
  config.data_dir = dir.path();
  config.cluster.voters = {{1, "127.0.0.1", free_port()}};
  config.cluster.quorum_tick_ms = 10;
  config.cluster.quorum_election_timeout_ms = 200;
  config.cluster.broker_heartbeat_interval_ms = 50;
  config.cluster.broker_session_timeout_ms = 600;
  Result<std::unique_ptr<ReplicaManager>> replicas = ReplicaManager::open(config);
  ASSERT_TRUE(replicas.is_ok()) << replicas.status().to_string();
  ClusterMember member(config, ClusterMemberOptions{.client_endpoint = "tcp://127.0.0.1:9001"});
  ASSERT_TRUE(member.start().is_ok());
  ClusterCollector collector(member, **replicas,
                             [] { return std::vector<FollowerPartitionStatus>{}; });

  std::map<std::string, double> s;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    s = samples(exposition(collector));
    if (s["mq_broker_fenced"] == 0 && s["mq_cluster_brokers{state=\"alive\"}"] == 1) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(s["mq_broker_fenced"], 0);
  EXPECT_EQ(s["mq_cluster_brokers{state=\"alive\"}"], 1);
  EXPECT_EQ(s["mq_cluster_brokers{state=\"fenced\"}"], 0);
  EXPECT_EQ(s["mq_cluster_active_controller"], 1);
  EXPECT_EQ(s["mq_quorum_role{role=\"leader\"}"], 1);
  EXPECT_EQ(s["mq_quorum_leader"], 1);
  EXPECT_GE(s["mq_quorum_term"], 1);
  EXPECT_GE(s["mq_quorum_commit_index"], 2) << "at least the registration and the unfencing";
  EXPECT_EQ(s["mq_quorum_voter_lag{voter=\"1\"}"], 0);
  EXPECT_EQ(s["mq_partitions_offline"], 0);
  EXPECT_EQ(s["mq_partitions_leader"], 0);
  member.stop();
  EXPECT_EQ(samples(exposition(collector))["mq_quorum_role{role=\"leader\"}"], 0)
      << "a stopped quorum reports no role";
  ASSERT_TRUE((*replicas)->close().is_ok());
}

}  // namespace
}  // namespace mq::broker
