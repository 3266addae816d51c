// Consumer groups on a three-node cluster (three real mqd processes on
// 127.0.0.1): group coordinators move with the __consumer_offsets
// partitions. Two members of a group read an RF=3 topic and commit; the
// broker coordinating the group is SIGKILLed; the committed offsets are at
// the new coordinator (the leader the controller elected for the group's
// offsets partition) before anyone commits again, the members find it and
// go on from their commits without re-reading anything below them, and
// `mqctl group describe` answers against the cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "base/murmur2.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"

namespace mq::client {
namespace {

using namespace std::chrono_literals;
using mq::testing::kQuickQuorumToml;
using mq::testing::MqdCluster;
using mq::testing::quick_cluster_toml;
using mq::testing::TempDir;

constexpr const char* kTopic = "events";
constexpr const char* kGroup = "workers";
constexpr int kPartitions = 4;

using mq::testing::eventually;

using mq::testing::Shell;

class ClusterGroupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<MqdCluster>(
        dir_.path(), 3, quick_cluster_toml(1500),
        std::string(kQuickQuorumToml) +
            "[group]\noffsets_topic_partitions = 4\ninitial_rebalance_delay_ms = 0\n"
            "min_session_timeout_ms = 100\n");
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    // __consumer_offsets is created by the brokers themselves, RF 3 once
    // all three registered; every partition gets a leader.
    ASSERT_TRUE(eventually(
        [&] {
          Result<ClusterMetadata> m = describe({"__consumer_offsets"});
          if (!m.is_ok() || m->brokers.size() != 3) return false;
          for (int p = 0; p < kPartitions; p++) {
            const PartitionInfo* info = m->partition("__consumer_offsets", p);
            if (info == nullptr || info->leader_id < 0 || info->replicas.size() != 3) return false;
          }
          return true;
        },
        30s))
        << "__consumer_offsets never got 4 partitions with 3 replicas and a leader each";
    AdminConfig config;
    config.bootstrap_servers = bootstrap();
    auto admin = Admin::create(config);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    auto created = (*admin)->create_topics({{.name = kTopic,
                                             .num_partitions = kPartitions,
                                             .replication_factor = 3,
                                             .configs = {{"min.insync.replicas", "2"}}}});
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs(4000);
  }

  std::string bootstrap() { return cluster_->bootstrap(); }

  Result<ClusterMetadata> describe(const std::vector<std::string>& topics) {
    AdminConfig config;
    config.bootstrap_servers = bootstrap();
    config.request_timeout_ms = 2000;
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::create(config));
    return admin->describe_cluster(topics);
  }

  Result<GroupDescription> describe_group() {
    AdminConfig config;
    config.bootstrap_servers = bootstrap();
    config.request_timeout_ms = 2000;
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::create(config));
    return admin->describe_group(kGroup);
  }

  std::map<int32_t, int64_t> committed() {
    std::map<int32_t, int64_t> out;
    Result<GroupDescription> group = describe_group();
    if (!group.is_ok()) return out;
    for (const auto& p : group->partitions) {
      if (p.committed_offset >= 0) out[p.partition.partition] = p.committed_offset;
    }
    return out;
  }

  void produce(int from, int count) {
    ProducerConfig config;
    config.bootstrap_servers = bootstrap();
    config.acks = -1;
    config.enable_idempotence = true;
    config.request_timeout_ms = 5000;
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::vector<std::future<Result<RecordMetadata>>> futures;
    for (int i = from; i < from + count; i++) {
      ProducerRecord record;
      record.topic = kTopic;
      record.partition = i % kPartitions;
      record.value = "m" + std::to_string(i);
      futures.push_back((*producer)->send(std::move(record)));
    }
    for (auto& f : futures) {
      Result<RecordMetadata> sent = f.get();
      ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    }
  }

  std::unique_ptr<Consumer> member(const std::string& client_id) {
    ConsumerConfig c;
    c.bootstrap_servers = bootstrap();
    c.client_id = client_id;
    c.group_id = kGroup;
    c.auto_offset_reset = OffsetReset::kEarliest;
    c.fetch_max_wait_ms = 100;
    c.request_timeout_ms = 3000;
    c.session_timeout_ms = 3000;
    c.heartbeat_interval_ms = 200;
    c.max_poll_interval_ms = 30000;
    c.enable_auto_commit = false;
    auto consumer = Consumer::create(c);
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    if (!consumer.is_ok()) return nullptr;
    EXPECT_TRUE((*consumer)->subscribe({kTopic}).is_ok());
    return std::move(consumer).value();
  }

  // Polls both members, committing what each read after every poll, until
  // `done` or `limit`. Every record read lands in `read` (partition ->
  // offsets). A record may be read again when its commit failed (during a
  // rebalance or a failover): at-least-once.
  bool consume(const std::vector<Consumer*>& members, std::map<int32_t, std::set<int64_t>>& read,
               const std::function<bool()>& done, std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      for (Consumer* c : members) {
        auto records = c->poll(50);
        if (!records.is_ok()) continue;  // a coordinator or leader moving: the client retries
        for (const ConsumerRecord& r : *records) read[r.partition].insert(r.offset);
        (void)c->commit_sync();  // may fail in a rebalance or failover: retried next poll
      }
    }
    return true;
  }

  static size_t total(const std::map<int32_t, std::set<int64_t>>& read) {
    size_t n = 0;
    for (const auto& [p, offsets] : read) n += offsets.size();
    return n;
  }

  // Runs mqctl against the whole cluster: its exit code, stdout and stderr in `out`.
  int mqctl(const std::string& args, std::string* out) {
    Shell shell = mq::testing::mqctl(dir_, bootstrap(), args);
    *out = shell.out + shell.err;
    return shell.code;
  }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
};

TEST_F(ClusterGroupsTest, CoordinatorFailoverKeepsCommitsAndMembersContinue) {
  produce(0, 200);
  auto a = member("member-a");
  auto b = member("member-b");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);

  // Phase 1: read (and commit) about half, with both members holding partitions.
  std::map<int32_t, std::set<int64_t>> before;
  ASSERT_TRUE(consume(
      {a.get(), b.get()}, before,
      [&] { return total(before) >= 100 && !a->assignment().empty() && !b->assignment().empty(); },
      60s))
      << "the two members did not share the work (read " << total(before) << ")";
  ASSERT_TRUE(a->commit_sync().is_ok());
  ASSERT_TRUE(b->commit_sync().is_ok());
  std::map<int32_t, int64_t> at_kill = committed();
  ASSERT_FALSE(at_kill.empty());
  // Each commit is at most what was read: a partition read just before the
  // second member's join moved it may have no commit yet (its owner's commit
  // failed with the rebalance and the new owner has not read it), and its
  // records are read again later, as at-least-once delivery allows.
  for (const auto& [p, offsets] : before) {
    ASSERT_LE(at_kill[p], *offsets.rbegin() + 1) << "partition " << p << " committed";
  }

  Result<GroupDescription> group = describe_group();
  ASSERT_TRUE(group.is_ok()) << group.status().to_string();
  EXPECT_EQ(group->state, "Stable");
  EXPECT_EQ(group->members.size(), 2u);
  const int coordinator = group->coordinator_id;
  ASSERT_TRUE(cluster_->nodes().count(coordinator)) << "coordinator " << coordinator;

  std::string out;
  ASSERT_EQ(mqctl("group describe " + std::string(kGroup), &out), 0) << out;
  EXPECT_NE(out.find("member-a"), std::string::npos) << out;
  EXPECT_NE(out.find("member-b"), std::string::npos) << out;

  // The coordinator dies; the controller elects another leader for the
  // group's offsets partition, which loads the group with its commits.
  cluster_->node(coordinator).kill_now();  // SIGKILL
  int new_coordinator = -1;
  ASSERT_TRUE(eventually(
      [&] {
        Result<GroupDescription> g = describe_group();
        if (!g.is_ok() || g->coordinator_id == coordinator) return false;
        new_coordinator = g->coordinator_id;
        return true;
      },
      30s))
      << "no new coordinator";
  EXPECT_NE(new_coordinator, coordinator);
  // Nobody committed since: what the new coordinator has is what the old
  // one acknowledged (it may answer LOAD_IN_PROGRESS for a moment).
  EXPECT_TRUE(eventually([&] { return committed() == at_kill; }, 30s))
      << "the commits did not survive the failover";

  // Phase 2: more messages; the members find the new coordinator and go on.
  produce(200, 100);
  std::map<int32_t, std::set<int64_t>> after;
  auto all_read = [&] {
    size_t want = 300;
    size_t have = 0;
    for (int p = 0; p < kPartitions; p++) {
      have += before[p].size();
      for (int64_t o : after[p]) {
        if (!before[p].count(o)) have++;
      }
    }
    return have >= want;
  };
  // Done when everything was read, the group is Stable with both members
  // again and every partition's commit is at its end (75 each).
  auto next_check = std::chrono::steady_clock::now();
  auto settled = [&] {
    if (!all_read() || std::chrono::steady_clock::now() < next_check) return false;
    next_check = std::chrono::steady_clock::now() + 300ms;
    Result<GroupDescription> g = describe_group();
    if (!g.is_ok() || g->state != "Stable" || g->members.size() != 2) return false;
    std::map<int32_t, int64_t> commits = committed();
    for (int p = 0; p < kPartitions; p++) {
      if (commits[p] != 75) return false;
    }
    return true;
  };
  ASSERT_TRUE(consume({a.get(), b.get()}, after, settled, 90s))
      << "consumption did not continue after the failover: read " << total(after) << ", committed "
      << committed().size() << " partition(s)";
  for (const auto& [p, offsets] : after) {
    ASSERT_FALSE(offsets.empty());
    EXPECT_GE(*offsets.begin(), at_kill[p])
        << "partition " << p << " re-read below its commit " << at_kill[p];
  }

  ASSERT_EQ(mqctl("-o json group describe " + std::string(kGroup), &out), 0) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("\"total_lag\":\\s*0\\b"))) << out;
  EXPECT_NE(out.find("member-a"), std::string::npos) << out;
  ASSERT_TRUE(a->close().is_ok());
  ASSERT_TRUE(b->close().is_ok());
}

TEST_F(ClusterGroupsTest, FindCoordinatorNamesTheOffsetsPartitionLeader) {
  // Each group's coordinator is the leader of its offsets partition, and a
  // broker that is not it answers NOT_COORDINATOR (the client follows).
  Result<ClusterMetadata> m = describe({"__consumer_offsets"});
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  std::set<int> coordinators;
  for (int i = 0; i < 12; i++) {
    std::string id = "group-" + std::to_string(i);
    const PartitionInfo* offsets =
        m->partition("__consumer_offsets", to_positive(murmur2(id)) % kPartitions);
    ASSERT_NE(offsets, nullptr);
    ConsumerConfig c;
    c.bootstrap_servers = bootstrap();
    c.group_id = id;
    c.enable_auto_commit = false;
    auto consumer = Consumer::create(c);
    ASSERT_TRUE(consumer.is_ok());
    // The offsets partitions' leaders may still be loading right after the
    // cluster formed (COORDINATOR_LOAD_IN_PROGRESS, or the commit waiting for
    // a follower's first fetch): the first commit is retried until it lands.
    Status commit;
    ASSERT_TRUE(eventually(
        [&] {
          commit = (*consumer)->commit_sync({{{kTopic, 0}, 1}});
          return commit.is_ok();
        },
        30s))
        << id << ": " << commit.to_string();
    AdminConfig config;
    config.bootstrap_servers = bootstrap();
    auto admin = Admin::create(config);
    ASSERT_TRUE(admin.is_ok());
    Result<GroupDescription> g = (*admin)->describe_group(id);
    ASSERT_TRUE(g.is_ok()) << g.status().to_string();
    EXPECT_EQ(g->coordinator_id, offsets->leader_id) << id;
    coordinators.insert(g->coordinator_id);
    ASSERT_EQ(g->partitions.size(), 1u);
    EXPECT_EQ(g->partitions[0].committed_offset, 1);
  }
  // Twelve groups over four offsets partitions whose leaders the controller
  // spreads over the three brokers: more than one broker coordinates.
  EXPECT_GT(coordinators.size(), 1u);
}

}  // namespace
}  // namespace mq::client
