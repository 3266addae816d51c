// mqctl cluster quorum and partition elect-leaders against real mqd
// processes: a three-node cluster (three voters, one leader, lags; a
// preferred leader SIGKILLed and restarted gets its leadership back only on
// demand, with cluster.auto_leader_rebalance off) and a single node, a
// cluster of one voter (partition reassign finds nothing to move and
// refuses other brokers), including one started on a data directory the
// previous release's single-node broker wrote. The operator's views during an incident: with
// a broker SIGKILLed, topic describe still shows every partition, cluster
// health names the fenced broker and the partitions it took down, cluster
// brokers lists it as fenced; healthy again once it is back. topic trim
// deletes on every in-sync replica before it answers (log dirs shows it),
// so a leader elected afterwards does not serve the deleted messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/admin.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace mq::client {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using mq::testing::kQuickQuorumToml;
using mq::testing::mqctl;
using mq::testing::MqdCluster;
using mq::testing::MqdProcess;
using mq::testing::quick_cluster_toml;
using mq::testing::Shell;
using mq::testing::TempDir;

using mq::testing::eventually;

json parse(const Shell& shell) {
  json doc = json::parse(shell.out, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << shell.out << "\n" << shell.err;
  return doc;
}

constexpr const char* kTopic = "orders";
constexpr int kSessionTimeoutMs = 1500;

class ClusterAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<MqdCluster>(dir_.path(), 3, quick_cluster_toml(kSessionTimeoutMs),
                                            kQuickQuorumToml);
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    ASSERT_TRUE(eventually([&] { return live_brokers() == 3; }, 30s))
        << "the three brokers never registered";
    AdminConfig config;
    config.bootstrap_servers = bootstrap();
    auto admin = Admin::create(config);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    auto created =
        (*admin)->create_topics({{.name = kTopic, .num_partitions = 1, .replication_factor = 3}});
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
    ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s)) << "ISR never complete";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs();
  }

  std::string bootstrap(int except = 0) { return cluster_->bootstrap(except); }
  MqdProcess& node(int id) { return cluster_->node(id); }

  Result<ClusterMetadata> describe(int except = 0) {
    AdminConfig config;
    config.bootstrap_servers = bootstrap(except);
    config.request_timeout_ms = 2000;
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::create(config));
    return admin->describe_cluster(std::vector<std::string>{kTopic});
  }

  int live_brokers() {
    Result<ClusterMetadata> m = describe();
    return m.is_ok() ? static_cast<int>(m->brokers.size()) : 0;
  }

  PartitionInfo partition(int except = 0) {
    Result<ClusterMetadata> m = describe(except);
    const PartitionInfo* p = m.is_ok() ? m->partition(kTopic, 0) : nullptr;
    return p != nullptr ? *p : PartitionInfo{};
  }

  int isr_size() { return static_cast<int>(partition().isr.size()); }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
};

TEST_F(ClusterAdminTest, QuorumShowsThreeVotersOneLeaderAndTheirLag) {
  json quorum;
  // The controller answers with every member's progress; all three caught up.
  ASSERT_TRUE(eventually(
      [&] {
        Shell shell = mqctl(dir_, bootstrap(), "-o json cluster quorum");
        if (shell.code != 0) return false;
        quorum = parse(shell);
        if (!quorum.is_object() || quorum["members"].size() != 3) return false;
        for (const auto& m : quorum["members"]) {
          if (m["lag"].get<int64_t>() != 0) return false;
        }
        return true;
      },
      20s))
      << quorum.dump();
  EXPECT_FALSE(quorum.contains("single_node"));
  ASSERT_TRUE(quorum["leader_id"].is_number());
  int leader = quorum["leader_id"].get<int>();
  EXPECT_EQ(quorum["answered_by"].get<int>(), leader) << "the controller answers";
  EXPECT_GE(quorum["term"].get<int64_t>(), 1);
  EXPECT_GT(quorum["commit_index"].get<int64_t>(), 0);
  int leaders = 0;
  std::set<int> ids;
  for (const auto& m : quorum["members"]) {
    ids.insert(m["node"].get<int>());
    EXPECT_TRUE(m["voter"].get<bool>());
    EXPECT_EQ(m["match_index"].get<int64_t>() > 0, true) << m.dump();
    if (m["role"] == "leader") {
      ++leaders;
      EXPECT_EQ(m["node"].get<int>(), leader);
    } else {
      EXPECT_EQ(m["role"], "follower");
    }
  }
  EXPECT_EQ(leaders, 1);
  EXPECT_EQ(ids, (std::set<int>{1, 2, 3}));

  Shell table = mqctl(dir_, bootstrap(), "cluster quorum");
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("LEADER        " + std::to_string(leader)), std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("MATCH INDEX"), std::string::npos) << table.out;

  // Asked through a follower only, the answer still comes from the leader.
  int follower = leader == 1 ? 2 : 1;
  Shell via = mqctl(dir_, node(follower).endpoint().substr(6), "-o json cluster quorum");
  ASSERT_EQ(via.code, 0) << via.err;
  EXPECT_EQ(parse(via)["members"].size(), 3u) << via.out;
}

TEST_F(ClusterAdminTest, PreferredElectionMovesLeadershipBackAfterARestart) {
  PartitionInfo before = partition();
  ASSERT_EQ(before.replicas.size(), 3u);
  int preferred = before.replicas.front();
  ASSERT_EQ(before.leader_id, preferred) << "a new partition is led by its preferred replica";

  // Nothing to do while the preferred replica leads.
  Shell idle = mqctl(dir_, bootstrap(), "-o json partition elect-leaders --preferred orders");
  ASSERT_EQ(idle.code, 0) << idle.err;
  json idle_doc = parse(idle);
  ASSERT_EQ(idle_doc.size(), 1u) << idle.out;
  EXPECT_EQ(idle_doc[0]["status"], "not-needed") << idle.out;
  EXPECT_EQ(idle_doc[0]["leader"].get<int>(), preferred);

  node(preferred).kill_now();
  ASSERT_TRUE(eventually(
      [&] {
        int l = partition(preferred).leader_id;
        return l > 0 && l != preferred;
      },
      std::chrono::milliseconds(kSessionTimeoutMs * 6)))
      << "no new leader after the preferred leader died";
  // While it is down the preferred replica cannot lead: that partition fails.
  Shell down =
      mqctl(dir_, bootstrap(preferred), "-o json partition elect-leaders --preferred orders:0");
  EXPECT_EQ(down.code, 1) << down.out << down.err;
  json down_doc = parse(down);
  ASSERT_EQ(down_doc.size(), 1u);
  EXPECT_EQ(down_doc[0]["status"], "failed");
  EXPECT_EQ(down_doc[0]["error_code"], "LEADER_NOT_AVAILABLE") << down.out;

  ASSERT_TRUE(node(preferred).start()) << node(preferred).log();
  ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 30s)) << "it never rejoined the ISR";
  int moved_to = partition().leader_id;
  ASSERT_NE(moved_to, preferred) << "leadership came back without being asked";

  Shell elect = mqctl(dir_, bootstrap(), "-o json partition elect-leaders --preferred orders");
  ASSERT_EQ(elect.code, 0) << elect.out << elect.err;
  json elected = parse(elect);
  ASSERT_EQ(elected.size(), 1u) << elect.out;
  EXPECT_EQ(elected[0]["status"], "elected") << elect.out;
  EXPECT_EQ(elected[0]["leader"].get<int>(), preferred) << elect.out;

  // Every broker's metadata shows it soon (the answering broker's at once).
  json described;
  EXPECT_TRUE(eventually(
      [&] {
        Shell shell = mqctl(dir_, bootstrap(), "-o json topic describe orders");
        if (shell.code != 0) return false;
        described = parse(shell);
        return described[0]["partitions"][0]["leader"] == preferred;
      },
      10s))
      << described.dump();

  // Every partition of the cluster (null = all): __consumer_offsets' replicas
  // on the restarted broker may still be catching up, so that can take a few
  // tries; orders needs nothing any more.
  Shell all;
  EXPECT_TRUE(eventually(
      [&] {
        all = mqctl(dir_, bootstrap(), "-o json partition elect-leaders");
        return all.code == 0;
      },
      30s))
      << all.out << all.err;
  json orders_result;
  for (const auto& item : parse(all)) {
    EXPECT_NE(item["status"], "failed") << item.dump();
    if (item["topic"] == kTopic) orders_result = item;
  }
  EXPECT_EQ(orders_result["status"], "not-needed") << all.out;
  EXPECT_EQ(orders_result["leader"], preferred) << all.out;

  // Unclean elections only touch leaderless partitions: nothing to do here.
  Shell unclean = mqctl(dir_, bootstrap(), "-o json partition elect-leaders --unclean -y orders");
  ASSERT_EQ(unclean.code, 0) << unclean.err;
  EXPECT_EQ(parse(unclean)[0]["status"], "not-needed") << unclean.out;
}

TEST_F(ClusterAdminTest, TrimDeletesOnEveryInSyncReplicaAndSurvivesAFailover) {
  std::string lines;
  for (int i = 1; i <= 100; i++) lines += std::to_string(i) + "\n";
  Shell produced = mqctl(dir_, bootstrap(), "produce orders", lines);
  ASSERT_EQ(produced.code, 0) << produced.err;

  Shell planned = mqctl(dir_, bootstrap(), "-o json topic trim orders --before 60 --dry-run");
  ASSERT_EQ(planned.code, 0) << planned.err;
  json plan = parse(planned);
  EXPECT_EQ(plan["dry_run"], true);
  EXPECT_EQ(plan["partitions"][0]["status"], "planned") << planned.out;
  EXPECT_EQ(plan["partitions"][0]["messages"], 60) << planned.out;

  Shell trimmed = mqctl(dir_, bootstrap(), "-o json topic trim orders --before 60");
  ASSERT_EQ(trimmed.code, 0) << trimmed.out << trimmed.err;
  EXPECT_EQ(parse(trimmed)["partitions"][0]["status"], "trimmed") << trimmed.out;

  // Answered once every in-sync replica deleted too: each broker's log
  // starts at 60 now, and says so in log dirs.
  Shell dirs = mqctl(dir_, bootstrap(), "-o json log dirs --topic orders");
  ASSERT_EQ(dirs.code, 0) << dirs.err;
  json brokers = parse(dirs);
  ASSERT_EQ(brokers.size(), 3u) << dirs.out;
  int leaders = 0;
  for (const auto& b : brokers) {
    ASSERT_EQ(b["partitions"].size(), 1u) << b.dump();
    const json& p = b["partitions"][0];
    EXPECT_EQ(p["log_start_offset"], 60) << b.dump();
    EXPECT_EQ(p["log_end_offset"], 100) << b.dump();
    EXPECT_GT(p["size_bytes"].get<int64_t>(), 0) << b.dump();
    EXPECT_GT(b["total_bytes"].get<int64_t>(), 0) << b.dump();
    leaders += p["leader"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(leaders, 1) << dirs.out;

  // A leader elected after the trim does not serve the deleted messages.
  int leader = partition().leader_id;
  node(leader).kill_now();
  ASSERT_TRUE(eventually(
      [&] {
        int l = partition(leader).leader_id;
        return l > 0 && l != leader;
      },
      std::chrono::milliseconds(kSessionTimeoutMs * 6)))
      << "no new leader";
  Shell read = mqctl(dir_, bootstrap(leader), "consume orders --from beginning -e");
  ASSERT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(read.out.substr(0, 3), "61\n") << read.out;
  EXPECT_EQ(std::count(read.out.begin(), read.out.end(), '\n'), 40);

  // Past the high watermark: refused, nothing deleted.
  Shell past = mqctl(dir_, bootstrap(leader), "-o json topic trim orders --before 500");
  EXPECT_EQ(past.code, 1) << past.out << past.err;
  EXPECT_EQ(parse(past)["partitions"][0]["error_code"], "OFFSET_OUT_OF_RANGE") << past.out;
  // Bad input: usage errors and missing topics or partitions, nothing deleted.
  EXPECT_EQ(mqctl(dir_, bootstrap(leader), "topic trim orders --before soon").code, 2);
  EXPECT_EQ(mqctl(dir_, bootstrap(leader), "topic trim orders --before beginning").code, 2);
  EXPECT_EQ(mqctl(dir_, bootstrap(leader), "topic trim orders").code, 2) << "--before required";
  EXPECT_EQ(mqctl(dir_, bootstrap(leader), "topic trim nope --before 1").code, 3);
  EXPECT_EQ(mqctl(dir_, bootstrap(leader), "topic trim orders:5 --before 1").code, 3);
  Shell compacted =
      mqctl(dir_, bootstrap(leader), "topic create keyed -r 2 -c cleanup.policy=compact");
  ASSERT_EQ(compacted.code, 0) << compacted.err;
  Shell keyed = mqctl(dir_, bootstrap(leader), "produce keyed --key-separator :", "k:v\n");
  ASSERT_EQ(keyed.code, 0) << keyed.err;
  Shell refused = mqctl(dir_, bootstrap(leader), "-o json topic trim keyed --before end");
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("compact"), std::string::npos) << refused.err;
  Shell after = mqctl(dir_, bootstrap(leader), "-o json offsets orders --at earliest");
  EXPECT_EQ(parse(after)[0]["offset"], 60) << after.out;

  // Only live brokers are asked; one named that is down is reported, the
  // others still are.
  Shell live = mqctl(dir_, bootstrap(leader), "-o json log dirs");
  EXPECT_EQ(live.code, 0) << live.err;
  EXPECT_EQ(parse(live).size(), 2u) << live.out;
  int other = leader == 1 ? 2 : 1;
  Shell partial = mqctl(
      dir_, bootstrap(leader),
      "-o json log dirs --broker " + std::to_string(leader) + " --broker " + std::to_string(other));
  EXPECT_EQ(partial.code, 4) << partial.out << partial.err;
  EXPECT_EQ(parse(partial).size(), 1u) << partial.out;
  EXPECT_NE(partial.err.find("broker " + std::to_string(leader)), std::string::npos) << partial.err;
}

TEST_F(ClusterAdminTest, ElectLeadersReportsMissingTopicsAndPartitions) {
  Shell missing = mqctl(dir_, bootstrap(), "partition elect-leaders --preferred nosuch");
  EXPECT_EQ(missing.code, 3) << missing.out << missing.err;
  EXPECT_NE(missing.err.find("topic \"nosuch\" not found"), std::string::npos) << missing.err;

  // One partition exists, one does not: a partial failure.
  Shell partial = mqctl(dir_, bootstrap(), "-o json partition elect-leaders orders:0,7");
  EXPECT_EQ(partial.code, 4) << partial.out << partial.err;
  json doc = parse(partial);
  ASSERT_EQ(doc.size(), 2u) << partial.out;
  EXPECT_EQ(doc[0]["status"], "not-needed");
  EXPECT_EQ(doc[1]["status"], "failed");
  EXPECT_EQ(doc[1]["error_code"], "UNKNOWN_TOPIC_OR_PARTITION");
  EXPECT_NE(partial.err.find("orders-7"), std::string::npos) << partial.err;

  Shell only_missing = mqctl(dir_, bootstrap(), "partition elect-leaders orders:7");
  EXPECT_EQ(only_missing.code, 3) << only_missing.out << only_missing.err;

  Shell both = mqctl(dir_, bootstrap(), "partition elect-leaders --preferred --unclean");
  EXPECT_EQ(both.code, 2) << both.err;
  Shell bad = mqctl(dir_, bootstrap(), "partition elect-leaders orders:x");
  EXPECT_EQ(bad.code, 2) << bad.err;
}

// The findings of kind `kind` in a `cluster health -o json` document.
std::vector<json> findings_of(const json& health, const std::string& kind) {
  std::vector<json> out;
  for (const auto& f : health["findings"]) {
    if (f["kind"] == kind) out.push_back(f);
  }
  return out;
}

TEST_F(ClusterAdminTest, HealthyClusterExitsZeroWithNoFindings) {
  // __consumer_offsets' replicas may still be joining their ISRs at first.
  Shell health;
  ASSERT_TRUE(eventually(
      [&] {
        health = mqctl(dir_, bootstrap(), "-o json cluster health");
        return health.code == 0;
      },
      30s))
      << health.out << health.err;
  json doc = parse(health);
  EXPECT_EQ(doc["healthy"], true);
  EXPECT_TRUE(doc["findings"].empty()) << health.out;
  EXPECT_TRUE(doc["controller_id"].is_number()) << health.out;
  ASSERT_EQ(doc["brokers"].size(), 3u) << health.out;
  for (const auto& b : doc["brokers"]) {
    EXPECT_EQ(b["fenced"], false) << b.dump();
    EXPECT_EQ(b["reachable"], true) << b.dump();
  }
  // orders; the offsets topic too once a broker has created it (not waited for here).
  EXPECT_GE(doc["partitions"]["total"].get<int>(), 1);
  EXPECT_EQ(doc["partitions"]["under_replicated"], 0);

  Shell table = mqctl(dir_, bootstrap(), "cluster health");
  EXPECT_EQ(table.code, 0) << table.out << table.err;
  EXPECT_EQ(table.out.rfind("HEALTHY     yes\n", 0), 0u) << table.out;
  EXPECT_EQ(table.out.find("PROBLEM"), std::string::npos) << table.out;

  Shell brokers = mqctl(dir_, bootstrap(), "-o json cluster brokers");
  ASSERT_EQ(brokers.code, 0) << brokers.err;
  json listed = parse(brokers);
  ASSERT_EQ(listed.size(), 3u) << brokers.out;
  for (const auto& b : listed) EXPECT_EQ(b["fenced"], false) << b.dump();
}

TEST_F(ClusterAdminTest, ViewsStayTruthfulWhileABrokerIsDown) {
  Shell created = mqctl(dir_, bootstrap(), "topic create rf1 -p 3 -r 1");
  ASSERT_EQ(created.code, 0) << created.err;
  json before;
  ASSERT_TRUE(eventually(
      [&] {
        Shell shell = mqctl(dir_, bootstrap(), "-o json topic describe rf1");
        if (shell.code != 0) return false;
        before = parse(shell);
        return before[0]["partitions"].size() == 3u;
      },
      10s))
      << before.dump();
  int dead = before[0]["partitions"][0]["leader"].get<int>();
  std::set<int> on_dead;  // the rf1 partitions that go down with it
  for (const auto& p : before[0]["partitions"]) {
    if (p["leader"] == dead) on_dead.insert(p["partition"].get<int>());
  }
  node(dead).kill_now();
  std::string alive = bootstrap(dead);

  // Fenced once its session runs out, and still listed.
  json brokers;
  ASSERT_TRUE(eventually(
      [&] {
        Shell shell = mqctl(dir_, alive, "-o json cluster brokers");
        if (shell.code != 0) return false;
        brokers = parse(shell);
        for (const auto& b : brokers) {
          if (b["id"] == dead) return b["fenced"].get<bool>();
        }
        return false;
      },
      std::chrono::milliseconds(kSessionTimeoutMs * 10)))
      << brokers.dump();
  ASSERT_EQ(brokers.size(), 3u) << brokers.dump();
  for (const auto& b : brokers) {
    EXPECT_EQ(b["fenced"], b["id"] == dead) << b.dump();
    EXPECT_EQ(b["host"], "127.0.0.1") << b.dump();
    EXPECT_EQ(std::to_string(b["port"].get<int>()), node(b["id"].get<int>()).endpoint().substr(16))
        << b.dump();
  }
  Shell brokers_table = mqctl(dir_, alive, "cluster brokers");
  ASSERT_EQ(brokers_table.code, 0) << brokers_table.err;
  std::string dead_row = std::to_string(dead) + "   127.0.0.1";
  size_t row = brokers_table.out.find("\n" + dead_row);
  ASSERT_NE(row, std::string::npos) << brokers_table.out;
  std::string line = brokers_table.out.substr(row + 1, brokers_table.out.find('\n', row + 1) - row);
  EXPECT_NE(line.find("fenced"), std::string::npos) << brokers_table.out;

  // Every partition, the dead one's as "none" / null with offsets unknown; exit 4 (partial).
  // (The broker answering may apply the fencing a moment after the one that listed it.)
  Shell described;
  ASSERT_TRUE(eventually(
      [&] {
        described = mqctl(dir_, alive, "-o json topic describe rf1");
        json doc = json::parse(described.out, nullptr, false);
        return !doc.is_discarded() && doc[0]["partitions"][0]["leader"].is_null();
      },
      5s))
      << described.out << described.err;
  EXPECT_EQ(described.code, 4) << described.out << described.err;
  json topic = parse(described);
  ASSERT_EQ(topic.size(), 1u) << described.out;
  ASSERT_EQ(topic[0]["partitions"].size(), 3u) << described.out;
  for (const auto& p : topic[0]["partitions"]) {
    if (on_dead.contains(p["partition"].get<int>())) {
      EXPECT_TRUE(p["leader"].is_null()) << p.dump();
      EXPECT_TRUE(p["log_start_offset"].is_null()) << p.dump();
      EXPECT_TRUE(p["high_watermark"].is_null()) << p.dump();
      EXPECT_EQ(p["offline_replicas"], json::array({dead})) << p.dump();
    } else {
      EXPECT_TRUE(p["leader"].is_number()) << p.dump();
      EXPECT_EQ(p["high_watermark"], 0) << p.dump();
    }
  }
  EXPECT_FALSE(topic[0]["configs"].is_null()) << described.out;
  EXPECT_NE(described.err.find("rf1-0 has no leader"), std::string::npos) << described.err;
  Shell described_table = mqctl(dir_, alive, "topic describe rf1");
  EXPECT_EQ(described_table.code, 4) << described_table.err;
  size_t partition_0 = described_table.out.find("\n0          none");
  EXPECT_NE(partition_0, std::string::npos) << described_table.out;

  // Health: unhealthy (4), naming the fenced broker and what it took down.
  Shell health;
  json doc;
  ASSERT_TRUE(eventually(
      [&] {
        health = mqctl(dir_, alive, "--timeout 2s -o json cluster health");
        if (health.code != 4) return false;
        doc = parse(health);
        return !findings_of(doc, "partition-under-replicated").empty();
      },
      20s))
      << health.out << health.err;
  EXPECT_EQ(doc["healthy"], false);
  std::vector<json> fenced = findings_of(doc, "broker-fenced");
  ASSERT_EQ(fenced.size(), 1u) << health.out;
  EXPECT_EQ(fenced[0]["broker"], dead);
  EXPECT_NE(fenced[0]["detail"].get<std::string>().find("does not answer mqctl"), std::string::npos)
      << fenced[0].dump();
  for (const auto& b : doc["brokers"]) {
    EXPECT_EQ(b["fenced"], b["id"] == dead) << b.dump();
    EXPECT_EQ(b["reachable"], b["id"] != dead) << b.dump();
  }
  std::set<int> offline;
  for (const auto& f : findings_of(doc, "partition-offline")) {
    if (f["topic"] == "rf1") offline.insert(f["partition"].get<int>());
    EXPECT_TRUE(f["leader"].is_null()) << f.dump();
  }
  EXPECT_EQ(offline, on_dead) << health.out;
  EXPECT_EQ(doc["partitions"]["offline"].get<size_t>(), on_dead.size()) << health.out;
  EXPECT_EQ(doc["leaderless_partitions"].size(), on_dead.size()) << health.out;
  bool orders_under_replicated = false;
  for (const auto& f : findings_of(doc, "partition-under-replicated")) {
    if (f["topic"] == kTopic) {
      orders_under_replicated = true;
      EXPECT_EQ(f["isr"].size(), 2u) << f.dump();
      EXPECT_EQ(f["offline_replicas"], json::array({dead})) << f.dump();
    }
  }
  EXPECT_TRUE(orders_under_replicated) << health.out;
  EXPECT_GE(doc["partitions"]["under_replicated"].get<int>(), 1) << health.out;
  Shell health_table = mqctl(dir_, alive, "--timeout 2s cluster health");
  EXPECT_EQ(health_table.code, 4) << health_table.err;
  EXPECT_NE(health_table.out.find("broker-fenced"), std::string::npos) << health_table.out;
  EXPECT_NE(health_table.out.find("partition-offline"), std::string::npos) << health_table.out;
  EXPECT_NE(health_table.out.find("rf1-0"), std::string::npos) << health_table.out;

  // Back and unfenced: the rf1 partitions it alone held lead again (it
  // stayed their last in-sync replica), with no unclean election, and
  // health clears by itself.
  ASSERT_TRUE(node(dead).start()) << node(dead).log();
  ASSERT_TRUE(eventually(
      [&] {
        health = mqctl(dir_, bootstrap(), "-o json cluster health");
        return health.code == 0;
      },
      30s))
      << health.out << health.err;
  EXPECT_TRUE(parse(health)["findings"].empty()) << health.out;
  Shell whole = mqctl(dir_, bootstrap(), "-o json topic describe rf1");
  EXPECT_EQ(whole.code, 0) << whole.err;
}

// A broker without cluster.voters is a cluster of one: its quorum has one
// voter, and the cluster's elections and reassignments work as anywhere.
TEST(SingleNodeAdminTest, ASingleNodeIsAClusterOfOneVoter) {
  TempDir dir;
  MqdProcess broker(dir.file("data"), "");
  ASSERT_TRUE(broker.start()) << broker.log();
  std::string brokers = broker.endpoint().substr(6);
  ASSERT_EQ(mqctl(dir, brokers, "topic create orders -p 2").code, 0);

  Shell quorum = mqctl(dir, brokers, "-o json cluster quorum");
  ASSERT_EQ(quorum.code, 0) << quorum.err;
  json doc = parse(quorum);
  ASSERT_EQ(doc["members"].size(), 1u) << quorum.out;
  EXPECT_EQ(doc["members"][0]["role"], "leader");
  EXPECT_TRUE(doc["members"][0]["voter"].get<bool>()) << quorum.out;
  EXPECT_EQ(doc["leader_id"], doc["answered_by"]);

  Shell elect = mqctl(dir, brokers, "-o json partition elect-leaders");
  ASSERT_EQ(elect.code, 0) << elect.err;
  json results = parse(elect);
  int of_orders = 0;
  for (const auto& r : results) {  // every partition, __consumer_offsets' too
    of_orders += r["topic"] == "orders" ? 1 : 0;
    EXPECT_EQ(r["status"], "not-needed");
    EXPECT_NE(r["note"].get<std::string>().find("led by its preferred replica"), std::string::npos)
        << r;
  }
  EXPECT_EQ(of_orders, 2) << elect.out;
  Shell text = mqctl(dir, brokers, "partition elect-leaders --unclean -y orders");
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(mqctl(dir, brokers, "partition elect-leaders orders:5").code, 3);

  // Reassignment: every partition lives on the one broker; nothing moves.
  Shell listed_brokers = mqctl(dir, brokers, "-o json cluster brokers");
  ASSERT_EQ(listed_brokers.code, 0) << listed_brokers.err;
  int id = parse(listed_brokers)[0]["id"].get<int>();
  std::string same = dir.file("same.json");
  std::ofstream(same) << R"({"version": 1, "partitions": [{"topic": "orders", "partition": 0, )"
                      << R"("replicas": [)" << id << "]}]}";
  Shell unchanged = mqctl(dir, brokers, "-o json partition reassign --plan " + same + " --dry-run");
  ASSERT_EQ(unchanged.code, 0) << unchanged.err;
  EXPECT_EQ(parse(unchanged)[0]["status"], "unchanged") << unchanged.out;
  Shell done = mqctl(dir, brokers, "-o json partition reassign --plan " + same + " --verify");
  EXPECT_EQ(done.code, 0) << done.err;
  EXPECT_EQ(parse(done)[0]["status"], "done") << done.out;
  std::string elsewhere = dir.file("elsewhere.json");
  std::ofstream(elsewhere)
      << R"({"version": 1, "partitions": [{"topic": "orders", "partition": 1, "replicas": [)"
      << id + 1 << "]}]}";
  Shell refused =
      mqctl(dir, brokers, "-o json partition reassign --plan " + elsewhere + " --dry-run");
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_EQ(parse(refused)[0]["status"], "invalid") << refused.out;
  EXPECT_NE(refused.err.find("not registered"), std::string::npos) << refused.err;
  Shell list = mqctl(dir, brokers, "-o json partition reassign --list");
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(parse(list)["throttle_bytes_per_sec"], 0);
  EXPECT_TRUE(parse(list)["partitions"].empty()) << list.out;
  Shell generated =
      mqctl(dir, brokers, "partition reassign --generate --brokers " + std::to_string(id));
  EXPECT_EQ(generated.code, 0) << generated.err;
  EXPECT_TRUE(parse(generated)["partitions"].empty()) << generated.out;
  EXPECT_NE(generated.err.find("empty plan"), std::string::npos) << generated.err;
}

// tests/integration/data/single-node-0.1.0.tar.gz is a data directory the
// single-node broker of release 0.1.0 wrote (topics.checkpoint era), made
// with its mqctl: `topic create orders -p 3 --config retention.ms=604800000`,
// `topic create accounts -p 1 --config cleanup.policy=compact`, order-1 ..
// order-30 produced to orders (all on partition 1), a:1 b:2 a:3 to accounts,
// 12 of them consumed and committed by group billing, offsets topic of 4
// partitions, then a clean stop.
TEST(SingleNodeAdminTest, ADataDirectoryOfTheSingleNodeReleaseIsConvertedWithEverythingInIt) {
  TempDir dir;
  std::string tarball =
      std::string(MQ_SOURCE_DIR) + "/tests/integration/data/single-node-0.1.0.tar.gz";
  ASSERT_EQ(std::system(("tar -C " + dir.path() + " -xzf " + tarball).c_str()), 0);
  ASSERT_TRUE(std::ifstream(dir.file("data/topics.checkpoint")).good());
  MqdProcess broker(dir.file("data"), "[group]\noffsets_topic_partitions = 4\n");
  ASSERT_TRUE(broker.start()) << broker.log();
  std::string brokers = broker.endpoint().substr(6);
  EXPECT_NE(broker.log().find("converted the single-node data directory: 3 topic(s), 8 "
                              "partition(s)"),
            std::string::npos)
      << broker.log();
  EXPECT_FALSE(std::ifstream(dir.file("data/topics.checkpoint")).good());

  auto check = [&](int last_order) {
    Shell topics = mqctl(dir, brokers, "-o json topic list");
    ASSERT_EQ(topics.code, 0) << topics.err;
    json listed = parse(topics);
    std::map<std::string, int> partitions;
    for (const auto& t : listed) partitions[t["name"]] = t["partitions"].get<int>();
    EXPECT_EQ(partitions["orders"], 3) << topics.out;
    EXPECT_EQ(partitions["accounts"], 1) << topics.out;

    Shell orders = mqctl(dir, brokers, "consume orders -p 1 --from beginning -e");
    ASSERT_EQ(orders.code, 0) << orders.err;
    std::string expected;
    for (int i = 1; i <= last_order; ++i) expected += "order-" + std::to_string(i) + "\n";
    EXPECT_EQ(orders.out, expected);
    Shell accounts =
        mqctl(dir, brokers, "consume accounts --from beginning -e -f '{key}={value}\\n'");
    ASSERT_EQ(accounts.code, 0) << accounts.err;
    EXPECT_NE(accounts.out.find("a=3"), std::string::npos) << accounts.out;
    EXPECT_NE(accounts.out.find("b=2"), std::string::npos) << accounts.out;

    Shell config = mqctl(dir, brokers, "-o json config get --topic orders retention.ms");
    ASSERT_EQ(config.code, 0) << config.err;
    EXPECT_NE(config.out.find("604800000"), std::string::npos) << config.out;
    Shell compact = mqctl(dir, brokers, "-o json config get --topic accounts cleanup.policy");
    EXPECT_NE(compact.out.find("compact"), std::string::npos) << compact.out;

    Shell group = mqctl(dir, brokers, "-o json group describe billing");
    ASSERT_EQ(group.code, 0) << group.err;
    EXPECT_NE(group.out.find("\"committed_offset\": 12"), std::string::npos) << group.out;

    Shell quorum = mqctl(dir, brokers, "-o json cluster quorum");
    ASSERT_EQ(quorum.code, 0) << quorum.err;
    EXPECT_EQ(parse(quorum)["members"].size(), 1u) << quorum.out;
  };
  check(30);
  // The cluster id stays the one the old broker made.
  Shell brokers_json = mqctl(dir, brokers, "-o json cluster info");
  EXPECT_NE(brokers_json.out.find("10faeaf98dd72f2a944e7c"), std::string::npos)
      << brokers_json.out << brokers_json.err;

  // New writes, then a restart: everything is still there, nothing converted twice.
  Shell produced = mqctl(dir, brokers, "produce orders -p 1", "order-31\n");
  ASSERT_EQ(produced.code, 0) << produced.err;
  ASSERT_EQ(broker.stop(SIGTERM), 0);
  ASSERT_TRUE(broker.start()) << broker.log();
  brokers = broker.endpoint().substr(6);
  Shell orders = mqctl(dir, brokers, "consume orders -p 1 --from 30 -e");
  EXPECT_EQ(orders.out, "order-31\n") << orders.err;
  check(31);
}

}  // namespace
}  // namespace mq::client
