// Growing and shrinking a cluster with real mqd processes and mqctl, as
// docs/cluster.md tells an operator to:
// - the walk-through: one node (no cluster.voters) with topics, messages and
//   a group's committed offsets; two nodes join as observers, become voters
//   (cluster add-voter), the topics go to three replicas (partition reassign
//   --generate --replication-factor 3); the first node stops, and producing
//   and consuming go on through the others with nothing lost;
// - remove-voter (the controller itself) and unregister of a retired broker,
//   with the refusals an operator meets on the way;
// - a voter whose quorum directory was wiped: it does not vote under its
//   old identity (with the only other live voter it elects nobody), and is
//   taken back with its new directory once it has caught up.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/free_port.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace mq::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// Fast elections and fencing, so a stopped node's absence shows in seconds.
constexpr const char* kClusterTuning =
    "broker_heartbeat_interval_ms = 100\n"
    "broker_session_timeout_ms = 1500\n"
    "controlled_shutdown_timeout_ms = 5000\n";
constexpr const char* kMoreTuning =
    "[quorum]\ntick_ms = 20\nelection_timeout_ms = 400\n"
    "[replication]\nlag_time_max_ms = 3000\nfetch_max_wait_ms = 100\n";

std::string lines(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i) out += "m" + std::to_string(i) + "\n";
  return out;
}

std::multiset<std::string> split_lines(const std::string& text) {
  std::multiset<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.insert(line);
  return out;
}

std::multiset<std::string> expected(int from, int to) {
  return split_lines(lines(from, to));
}

class ClusterMembershipTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) std::cerr << cluster_->logs(4000);
  }

  // Nodes 1..`nodes`, the voters; more join through add_node.
  void make_cluster(int nodes) {
    cluster_ = std::make_unique<MqdCluster>(dir_.path(), nodes, kClusterTuning, kMoreTuning);
  }

  // Node `id`, listed in no config: a dynamic observer with its quorum
  // listener on a fixed port, naming the cluster's voters.
  MqdProcess& add_node(int id) {
    return cluster_->add_unlisted(dir_.path(), id, kClusterTuning, kMoreTuning);
  }

  MqdProcess& node(int id) { return cluster_->node(id); }

  std::string quorum_member(int id) { return cluster_->quorum_member(id); }

  std::string bootstrap(int except = 0) { return cluster_->bootstrap(except); }

  Shell run(const std::string& args, const std::string& stdin_text = "", int except = 0) {
    return mqctl(dir_, bootstrap(except), args, stdin_text);
  }

  json quorum(int except = 0) {
    Shell shell = run("-o json cluster quorum", "", except);
    return shell.code == 0 ? json_of(shell) : json();
  }

  std::set<int> voters(const json& q) {
    std::set<int> out;
    if (!q.is_object()) return out;
    for (const auto& v : q["voter_set"]["voters"]) out.insert(v["node"].get<int>());
    return out;
  }

  // The broker ids `cluster brokers` lists: the active ones, or all.
  std::set<int> brokers(int except = 0, bool active_only = true) {
    Shell shell = run("-o json cluster brokers", "", except);
    std::set<int> out;
    json doc = json_of(shell);
    if (shell.code != 0 || !doc.is_array()) return out;
    for (const auto& b : doc) {
      bool active = !b["fenced"].get<bool>() && !b["in_controlled_shutdown"].get<bool>();
      if (active || !active_only) out.insert(b["id"].get<int>());
    }
    return out;
  }
  std::set<int> active_brokers(int except = 0) { return brokers(except, true); }
  std::set<int> registered_brokers(int except = 0) { return brokers(except, false); }

  // add-voter, retried while the node has not caught up (REPLICA_NOT_AVAILABLE).
  bool add_voter(int id) {
    Shell last;
    bool added = eventually(
        [&] {
          last = run("cluster add-voter " + quorum_member(id));
          return last.code == 0;
        },
        30s, 200ms);
    EXPECT_TRUE(added) << last.err;
    return added;
  }

  // Executes a reassignment plan and waits until --verify says done.
  void reassign(const std::string& generate_args, int except = 0) {
    Shell plan = run("partition reassign --generate " + generate_args, "", except);
    ASSERT_EQ(plan.code, 0) << plan.err;
    std::string plan_file = dir_.file("plan.json");
    std::ofstream(plan_file) << plan.out;
    Shell execute = run("partition reassign --plan " + plan_file + " --execute -y", "", except);
    ASSERT_EQ(execute.code, 0) << execute.out << execute.err;
    Shell verify;
    EXPECT_TRUE(eventually(
        [&] {
          verify = run("partition reassign --plan " + plan_file + " --verify", "", except);
          return verify.code == 0;
        },
        60s, 200ms))
        << verify.out << verify.err;
  }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
};

TEST_F(ClusterMembershipTest, ASingleNodeGrowsToThreeVotersAndOutlivesItsFirstNode) {
  // Node 1 is the voter the others will name, but started as a single node
  // usually is: no cluster.voters and no quorum listener configured, so its
  // quorum takes a free loopback port.
  make_cluster(1);
  MqdProcess& first = node(1);
  first.set_extra_toml(std::string("[cluster]\n") + kClusterTuning + kMoreTuning);
  ASSERT_TRUE(first.start()) << first.log();
  json one = quorum();
  EXPECT_EQ(voters(one), (std::set<int>{1})) << one.dump();
  EXPECT_EQ(one["leader_id"], 1);
  ASSERT_EQ(one["voter_set"]["voters"].size(), 1u);
  EXPECT_NE(one["voter_set"]["voters"][0]["endpoint"], "tcp://" + quorum_member(1).substr(2));

  ASSERT_EQ(run("topic create orders -p 3").code, 0);
  Shell produced = run("produce orders", lines(0, 100));
  ASSERT_EQ(produced.code, 0) << produced.err;
  Shell half = run("consume orders -g billing --from beginning -n 50");
  ASSERT_EQ(half.code, 0) << half.err;
  ASSERT_EQ(split_lines(half.out).size(), 50u);

  // Step 1: restarted with a quorum listener the others can reach, it
  // records its new address as it leads again.
  ASSERT_EQ(first.stop(), 0);
  first.set_listeners_toml("quorum = \"tcp://" + quorum_member(1).substr(2) + "\"");
  ASSERT_TRUE(first.start()) << first.log();
  json moved;
  ASSERT_TRUE(eventually(
      [&] {
        moved = quorum();
        return moved.is_object() && moved["voter_set"]["voters"].size() == 1 &&
               moved["voter_set"]["voters"][0]["endpoint"] == "tcp://" + quorum_member(1).substr(2);
      },
      10s))
      << moved.dump();

  // Two nodes join: their config names node 1 as the voter it is.
  for (int id : {2, 3}) {
    MqdProcess& joined = add_node(id);
    ASSERT_TRUE(joined.start()) << joined.log();
  }
  ASSERT_TRUE(eventually(
      [&] {
        return active_brokers() == std::set<int>{1, 2, 3};
      },
      30s))
      << run("cluster brokers").out;
  json observed = quorum();
  EXPECT_EQ(voters(observed), (std::set<int>{1})) << "observers until promoted";

  ASSERT_TRUE(add_voter(2));
  ASSERT_TRUE(add_voter(3));
  json three = quorum();
  EXPECT_EQ(voters(three), (std::set<int>{1, 2, 3})) << three.dump();
  EXPECT_FALSE(three["voter_set"]["recorded_at"].is_null());
  for (const auto& v : three["voter_set"]["voters"]) {
    EXPECT_TRUE(v["directory_id"].is_string()) << "every voter recorded with its directory";
    EXPECT_EQ(v["endpoint"], "tcp://" + quorum_member(v["node"].get<int>()).substr(2));
  }
  Shell again = run("cluster add-voter " + quorum_member(2));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("DUPLICATE_VOTER"), std::string::npos) << again.err;

  // Every topic, __consumer_offsets included, to three replicas.
  ASSERT_NO_FATAL_FAILURE(reassign("--brokers 1,2,3 --replication-factor 3"));
  Shell described = run("-o json topic describe orders");
  ASSERT_EQ(described.code, 0);
  json topics = json_of(described);
  ASSERT_TRUE(topics.is_array() && topics.size() == 1) << described.out;
  for (const auto& p : topics[0]["partitions"]) {
    EXPECT_EQ(p["replicas"].size(), 3u) << p.dump();
  }

  // The first node stops for good; the other two go on.
  EXPECT_EQ(first.stop(), 0);
  ASSERT_TRUE(eventually(
      [&] {
        json q = quorum(1);
        return q.is_object() && (q["leader_id"] == 2 || q["leader_id"] == 3);
      },
      20s));
  produced = run("produce orders", lines(100, 200), 1);
  ASSERT_EQ(produced.code, 0) << produced.err;
  Shell rest = run("consume orders -g billing --from beginning -e", "", 1);
  ASSERT_EQ(rest.code, 0) << rest.err;
  std::multiset<std::string> seen = split_lines(half.out);
  for (const std::string& line : split_lines(rest.out)) seen.insert(line);
  EXPECT_EQ(seen, expected(0, 200)) << "the group resumed where it committed, nothing lost";
  Shell all = run("consume orders --from beginning -e", "", 1);
  EXPECT_EQ(split_lines(all.out), expected(0, 200));
}

class ThreeVotersTest : public ClusterMembershipTest {
 protected:
  void SetUp() override {
    make_cluster(3);
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    ASSERT_TRUE(eventually([&] { return active_brokers() == std::set<int>{1, 2, 3}; }, 30s));
  }
};

TEST_F(ThreeVotersTest, RemoveVoterThenUnregisterARetiredBroker) {
  MqdProcess& fourth = add_node(4);
  ASSERT_TRUE(fourth.start()) << fourth.log();
  ASSERT_TRUE(eventually([&] { return active_brokers().contains(4); }, 30s));
  ASSERT_TRUE(add_voter(4));
  ASSERT_EQ(voters(quorum()), (std::set<int>{1, 2, 3, 4}));

  // Bad arguments and unknown voters are refused with what is wrong.
  Shell bad = run("cluster add-voter 5");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("ID@HOST:PORT"), std::string::npos) << bad.err;
  Shell unknown = run("cluster remove-voter 9");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("VOTER_NOT_FOUND"), std::string::npos) << unknown.err;
  Shell stranger = run("cluster add-voter 9@127.0.0.1:" + std::to_string(free_port()));
  EXPECT_EQ(stranger.code, 1);
  EXPECT_NE(stranger.err.find("REPLICA_NOT_AVAILABLE"), std::string::npos) << stranger.err;

  // The controller removes itself: it hands over, and follows as an observer.
  int controller = quorum()["leader_id"].get<int>();
  Shell removed = run("cluster remove-voter " + std::to_string(controller));
  ASSERT_EQ(removed.code, 0) << removed.err;
  // It announces itself to the new leader as any node listed nowhere.
  json after;
  auto observes = [&] {
    for (const auto& m : after["members"]) {
      if (m["node"] == controller) return m["role"] == "observer";
    }
    return false;
  };
  ASSERT_TRUE(eventually(
      [&] {
        after = quorum();
        return after.is_object() && !after["leader_id"].is_null() &&
               after["leader_id"] != controller && voters(after).size() == 3 && observes();
      },
      20s))
      << after.dump();
  EXPECT_FALSE(voters(after).contains(controller));

  // Retire it: refused while it runs, while it holds replicas; then done.
  ASSERT_EQ(run("topic create audit -p 2 -r 3").code, 0);
  std::string id = std::to_string(controller);
  Shell alive = run("cluster unregister -y " + id);
  EXPECT_EQ(alive.code, 1);
  EXPECT_NE(alive.err.find("alive"), std::string::npos) << alive.err;
  std::string others;
  for (int n : {1, 2, 3, 4}) {
    if (n != controller) others += (others.empty() ? "" : ",") + std::to_string(n);
  }
  ASSERT_EQ(node(controller).stop(), 0);
  ASSERT_TRUE(eventually([&] { return !active_brokers(controller).contains(controller); }, 20s));
  Shell holding = mqctl(dir_, bootstrap(controller), "cluster unregister -y " + id);
  EXPECT_EQ(holding.code, 1);
  EXPECT_NE(holding.err.find("still holds"), std::string::npos) << holding.err;
  ASSERT_NO_FATAL_FAILURE(reassign("--brokers " + others, controller));
  Shell done = mqctl(dir_, bootstrap(controller), "cluster unregister -y " + id);
  ASSERT_EQ(done.code, 0) << done.err;
  EXPECT_FALSE(registered_brokers(controller).contains(controller));
  Shell twice = mqctl(dir_, bootstrap(controller), "cluster unregister -y " + id);
  EXPECT_EQ(twice.code, 3) << twice.err;
  Shell health = mqctl(dir_, bootstrap(controller), "-o json cluster health");
  EXPECT_EQ(health.code, 0) << health.out << health.err;

  // A stopped voter cannot be unregistered either.
  int voter = *voters(quorum(controller)).begin();
  ASSERT_EQ(node(voter).stop(), 0);
  std::string rest = bootstrap(controller);
  Shell is_voter = mqctl(dir_, rest, "cluster unregister -y " + std::to_string(voter));
  EXPECT_EQ(is_voter.code, 1);
  EXPECT_NE(is_voter.err.find("remove-voter"), std::string::npos) << is_voter.err;
}

TEST_F(ThreeVotersTest, AVoterWithAWipedQuorumDirectoryDoesNotVoteUntilTakenBack) {
  json before = quorum();
  std::string old_directory;
  for (const auto& v : before["voter_set"]["voters"]) {
    if (v["node"] == 3) old_directory = v["directory_id"].is_string() ? v["directory_id"] : "";
  }
  ASSERT_FALSE(old_directory.empty()) << before.dump();
  int leader = before["leader_id"].get<int>();
  if (leader == 3) {
    // Let another voter lead: node 3 restarts as a follower.
    ASSERT_EQ(node(3).stop(), 0);
    ASSERT_TRUE(node(3).start());
    ASSERT_TRUE(eventually([&] { return quorum()["leader_id"] != 3; }, 20s));
  }
  // Node 3 loses its quorum directory and, with the leader down too, only
  // node 3 and one up-to-date voter are up: node 3 must not vote it in
  // under the identity it lost.
  ASSERT_EQ(node(3).stop(), 0);
  std::filesystem::remove_all(dir_.file("node3") + "/__quorum");
  leader = quorum(3)["leader_id"].get<int>();
  int other = leader == 1 ? 2 : 1;
  ASSERT_EQ(node(leader).stop(), 0);
  ASSERT_TRUE(node(3).start(MqdProcess::WaitFor::kHttp)) << node(3).log();
  std::string via = node(other).endpoint().substr(6);
  // A leader other than the stopped one: `other` goes on naming the stopped
  // leader until its election timeout passes without hearing from it.
  auto leader_seen = [&] {
    json q = json_of(mqctl(dir_, via, "--timeout 2s -o json cluster quorum"));
    return q.is_object() && !q["leader_id"].is_null() && q["leader_id"] != leader;
  };
  // Many election timeouts (400 ms) pass without a leader.
  EXPECT_FALSE(eventually(leader_seen, 5s)) << "a leader was elected with the wiped voter's vote";

  // The old leader returns: a leader is elected without node 3, node 3
  // is recorded with its new directory and catches up. The record of the
  // new directory is itself an entry node 3 replicates after it is
  // appended, so the lag is awaited, not read at the moment of recording.
  ASSERT_TRUE(node(leader).start(MqdProcess::WaitFor::kHttp)) << node(leader).log();
  json q;
  ASSERT_TRUE(eventually(
      [&] {
        q = quorum();
        if (!q.is_object()) return false;
        for (const auto& v : q["voter_set"]["voters"]) {
          if (v["node"] == 3) {
            return v["directory_id"].is_string() && v["directory_id"] != old_directory;
          }
        }
        return false;
      },
      30s))
      << q.dump();
  auto node3_lag = [&]() -> json {
    q = quorum();
    if (!q.is_object()) return nullptr;
    for (const auto& m : q["members"]) {
      if (m["node"] == 3) return m["lag"];
    }
    return nullptr;
  };
  EXPECT_TRUE(eventually([&] { return node3_lag() == 0; }, 10s)) << q.dump();
  ASSERT_TRUE(eventually([&] { return active_brokers() == std::set<int>{1, 2, 3}; }, 30s));
}

}  // namespace
}  // namespace mq::testing
