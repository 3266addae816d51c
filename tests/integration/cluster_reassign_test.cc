// Moving partitions and retiring brokers, against three real mqd processes:
// mqctl partition reassign with a plan generated to move every replica off
// broker 1 (decommissioning it), checked, executed while an acks=all
// producer keeps writing, followed with --verify until done, and every
// acknowledged message then read back once from the new replicas, broker 1
// holding none; a move slowed by the throttle seen in progress and
// cancelled; bad plans refused. And controlled shutdown: a leader stopped
// with SIGTERM hands its leaderships over before it exits, long before its
// session would have expired.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/producer.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"

namespace mq::client {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using mq::testing::MqdCluster;
using mq::testing::MqdProcess;
using mq::testing::TempDir;

using mq::testing::eventually;
using mq::testing::Shell;

// The waits run mqctl or ask the cluster: every 100 ms is often enough.
constexpr std::chrono::milliseconds kPoll = 100ms;

constexpr const char* kTopic = "moves";
constexpr int kPartitions = 3;

class ClusterReassignTest : public ::testing::Test {
 protected:
  virtual int session_timeout_ms() const { return 1500; }

  void SetUp() override {
    cluster_toml_ = "broker_heartbeat_interval_ms = 100\nbroker_session_timeout_ms = " +
                    std::to_string(session_timeout_ms()) + "\nauto_leader_rebalance = false\n";
    more_toml_ =
        "[quorum]\ntick_ms = 20\nelection_timeout_ms = 400\n"
        "[replication]\nlag_time_max_ms = 3000\nfetch_max_wait_ms = 100\n";
    cluster_ = std::make_unique<MqdCluster>(dir_.path(), 3, cluster_toml_, more_toml_);
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    AdminConfig config;
    config.bootstrap_servers = cluster_->bootstrap();
    auto admin = Admin::create(config);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(*admin);
    ASSERT_TRUE(eventually([&] { return live_brokers() == 3; }, 30s, kPoll))
        << "the three brokers never registered";
    auto created = admin_->create_topics(
        {{.name = kTopic, .num_partitions = kPartitions, .replication_factor = 2}});
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
    ASSERT_TRUE(eventually([&] { return full_isrs(); }, 20s, kPoll)) << "ISRs never complete";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs();
  }

  int live_brokers() {
    auto metadata = admin_->describe_cluster(std::vector<std::string>{});
    return metadata.is_ok() ? static_cast<int>(metadata->brokers.size()) : 0;
  }

  std::map<int32_t, PartitionInfo> partitions() {
    std::map<int32_t, PartitionInfo> out;
    auto metadata = admin_->describe_cluster(std::vector<std::string>{kTopic});
    if (!metadata.is_ok()) return out;
    const TopicInfo* topic = metadata->topic(kTopic);
    if (topic == nullptr) return out;
    for (const PartitionInfo& p : topic->partitions) out[p.partition] = p;
    return out;
  }

  bool full_isrs() {
    auto ps = partitions();
    if (ps.size() != kPartitions) return false;
    for (const auto& [i, p] : ps) {
      if (p.leader_id < 0 || p.isr.size() != p.replicas.size()) return false;
    }
    return true;
  }

  // mqctl `args` against the cluster, `stdin_text` on its input; `timeout 60` bounds it.
  Shell mqctl(const std::string& args, const std::string& stdin_text = "") {
    return mq::testing::mqctl(dir_, cluster_->bootstrap(), args, stdin_text);
  }

  json parse(const Shell& shell) {
    json doc = mq::testing::json_of(shell);
    EXPECT_FALSE(doc.is_discarded()) << "not JSON: " << shell.out << "\n" << shell.err;
    return doc;
  }

  std::string write_file(const std::string& name, const std::string& text) {
    std::string path = dir_.file(name);
    std::ofstream(path) << text;
    return path;
  }

  // Every value of the topic, read with mqctl to the end of each partition.
  std::multiset<std::string> consume_all() {
    Shell read = mqctl(std::string("consume ") + kTopic + " --from beginning -e -f '{value}\\n'");
    EXPECT_EQ(read.code, 0) << read.err;
    std::multiset<std::string> values;
    size_t start = 0;
    while (start < read.out.size()) {
      size_t end = read.out.find('\n', start);
      if (end == std::string::npos) end = read.out.size();
      values.insert(read.out.substr(start, end - start));
      start = end + 1;
    }
    return values;
  }

  TempDir dir_;
  std::string cluster_toml_;
  std::string more_toml_;
  std::unique_ptr<MqdCluster> cluster_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(ClusterReassignTest, DecommissionABrokerWhileProducing) {
  // Some history before the move.
  ProducerConfig config;
  config.bootstrap_servers = cluster_->bootstrap();
  config.acks = -1;
  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> failures{0};
  std::string first_failure;
  auto send = [&](int i) {
    std::string value = "m" + std::to_string(i) + "-" + std::string(200, 'x');
    Status sent = (*producer)->send({.topic = kTopic, .value = value},
                                    [&, value](const Result<RecordMetadata>& r) {
                                      if (r.is_ok()) {
                                        std::lock_guard lock(mu);
                                        acknowledged.insert(value);
                                      } else {
                                        std::lock_guard lock(mu);
                                        if (failures++ == 0) first_failure = r.status().to_string();
                                      }
                                    });
    if (!sent.is_ok()) failures++;
  };
  for (int i = 0; i < 3000; i++) send(i);
  ASSERT_TRUE((*producer)->flush(30000).is_ok());

  // Every topic cannot leave broker 1: __consumer_offsets (created by the
  // brokers once three registered) has three replicas.
  ASSERT_TRUE(eventually(
      [&] {
        auto metadata = admin_->describe_cluster(std::vector<std::string>{"__consumer_offsets"});
        if (!metadata.is_ok()) return false;
        const TopicInfo* offsets = metadata->topic("__consumer_offsets");
        return offsets != nullptr && offsets->error == ErrorCode::kNone &&
               !offsets->partitions.empty();
      },
      30s, kPoll));
  Shell everything = mqctl("partition reassign --generate --brokers 2,3");
  EXPECT_EQ(everything.code, 1) << everything.out;
  EXPECT_NE(everything.err.find("needs 3 replicas but only 2 brokers are given"), std::string::npos)
      << everything.err;
  // The plan: every replica of the topic off broker 1.
  Shell generated = mqctl(std::string("partition reassign --generate --brokers 2,3 ") + kTopic);
  ASSERT_EQ(generated.code, 0) << generated.err;
  json plan = parse(generated);
  ASSERT_EQ(plan["version"], 1);
  ASSERT_FALSE(plan["partitions"].empty()) << generated.out;
  for (const auto& p : plan["partitions"]) {
    for (const auto& id : p["replicas"]) EXPECT_NE(id.get<int>(), 1) << generated.out;
  }
  std::string plan_path = write_file("plan.json", generated.out);

  Shell dry = mqctl("-o json partition reassign --plan " + plan_path + " --dry-run");
  ASSERT_EQ(dry.code, 0) << dry.out << dry.err;
  for (const auto& item : parse(dry)) {
    EXPECT_TRUE(item["status"] == "valid" || item["status"] == "unchanged") << dry.out;
  }
  EXPECT_EQ(partitions().at(0).replicas.size(), 2u) << "a dry run moves nothing";

  // Keep producing through the move.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 3000; !stop; i++) {
      send(i);
      if (i % 100 == 0) std::this_thread::sleep_for(5ms);
    }
  });
  Shell executed = mqctl("-o json partition reassign --plan " + plan_path + " --execute --yes");
  EXPECT_EQ(executed.code, 0) << executed.out << executed.err;
  for (const auto& item : parse(executed)) {
    EXPECT_TRUE(item["status"] == "started" || item["status"] == "unchanged") << executed.out;
  }
  Shell verified;
  bool done = eventually(
      [&] {
        verified = mqctl("-o json partition reassign --plan " + plan_path + " --verify");
        return verified.code == 0;
      },
      60s, kPoll);
  stop = true;
  writer.join();
  ASSERT_TRUE(done) << verified.out << verified.err;
  for (const auto& item : parse(verified)) EXPECT_EQ(item["status"], "done") << verified.out;
  ASSERT_TRUE((*producer)->flush(60000).is_ok());
  EXPECT_TRUE((*producer)->close(10000).is_ok());

  // Nothing on broker 1 any more, in the metadata or on its disk.
  for (const auto& [i, p] : partitions()) {
    for (int32_t id : p.replicas) EXPECT_NE(id, 1) << "partition " << i;
    EXPECT_NE(p.leader_id, 1);
  }
  namespace fs = std::filesystem;
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& entry : fs::recursive_directory_iterator(dir_.file("node1"))) {
          if (entry.is_directory() && entry.path().filename().string().starts_with(kTopic)) {
            return false;
          }
        }
        return true;
      },
      10s, kPoll))
      << "broker 1 still holds a replica directory";
  // Every acknowledged message once, from the new replicas.
  EXPECT_EQ(failures.load(), 0) << first_failure;
  std::multiset<std::string> read = consume_all();
  size_t missing = 0, repeated = 0;
  for (const std::string& value : acknowledged) {
    size_t n = read.count(value);
    if (n == 0) ++missing;
    if (n > 1) ++repeated;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged, " << read.size()
                         << " read";
  EXPECT_EQ(repeated, 0u);
  EXPECT_GE(acknowledged.size(), 3000u);
  // With broker 1 stopped the topic is whole: it was decommissioned.
  cluster_->node(1).stop(SIGTERM);
  AdminConfig survivors;
  survivors.bootstrap_servers = cluster_->bootstrap();
  auto admin = Admin::create(survivors);
  ASSERT_TRUE(admin.is_ok());
  admin_ = std::move(*admin);
  EXPECT_TRUE(eventually([&] { return full_isrs(); }, 20s, kPoll));
}

TEST_F(ClusterReassignTest, AThrottledMoveIsSeenInProgressAndCancelled) {
  // ~600 KB in partition 0, moved onto the broker without a replica of it at
  // 16 KiB/s: about 40 s, time enough to watch it and cancel it.
  auto before = partitions();
  ASSERT_EQ(before.size(), static_cast<size_t>(kPartitions));
  std::vector<int32_t> original = before.at(0).replicas;
  int32_t outsider = 1;
  while (std::find(original.begin(), original.end(), outsider) != original.end()) ++outsider;
  ProducerConfig config;
  config.bootstrap_servers = cluster_->bootstrap();
  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.is_ok());
  for (int i = 0; i < 600; i++) {
    (void)(*producer)->send(
        {.topic = kTopic, .value = std::string(1000, 'a' + i % 26), .partition = 0},
        [](const Result<RecordMetadata>&) {});
  }
  ASSERT_TRUE((*producer)->flush(30000).is_ok());

  std::vector<int32_t> target = {original[0], outsider};
  std::string plan_path =
      write_file("slow.json",
                 json{{"version", 1},
                      {"partitions", {{{"topic", kTopic}, {"partition", 0}, {"replicas", target}}}}}
                     .dump());
  Shell executed =
      mqctl("-o json partition reassign --plan " + plan_path + " --execute --throttle 16KiB -y");
  ASSERT_EQ(executed.code, 0) << executed.out << executed.err;
  EXPECT_EQ(parse(executed)[0]["status"], "started") << executed.out;

  Shell listed = mqctl("-o json partition reassign --list");
  ASSERT_EQ(listed.code, 0) << listed.err;
  json listing = parse(listed);
  EXPECT_EQ(listing["throttle_bytes_per_sec"], 16384) << listed.out;
  ASSERT_EQ(listing["partitions"].size(), 1u) << listed.out;
  EXPECT_EQ(listing["partitions"][0]["adding"], json::array({outsider})) << listed.out;

  Shell verified = mqctl("-o json partition reassign --plan " + plan_path + " --verify");
  EXPECT_EQ(verified.code, 4) << verified.out << verified.err;
  EXPECT_EQ(parse(verified)[0]["status"], "in-progress") << verified.out;
  EXPECT_NE(verified.err.find("throttle in force: 16384"), std::string::npos) << verified.err;

  // The same plan again with another throttle: the move goes on, the rate changes.
  Shell faster =
      mqctl("-o json partition reassign --plan " + plan_path + " --execute --throttle 20KB -y");
  ASSERT_EQ(faster.code, 0) << faster.out << faster.err;
  EXPECT_EQ(parse(faster)[0]["status"], "in-progress") << faster.out;
  EXPECT_NE(faster.err.find("throttle: 20000 bytes/s"), std::string::npos) << faster.err;
  listed = mqctl("-o json partition reassign --list");
  EXPECT_EQ(parse(listed)["throttle_bytes_per_sec"], 20000) << listed.out;

  // A second reassignment of the same partition is refused while this one runs.
  std::string other = write_file(
      "other.json",
      json{{"version", 1},
           {"partitions", {{{"topic", kTopic}, {"partition", 0}, {"replicas", original}}}}}
          .dump());
  Shell refused = mqctl("partition reassign --plan " + other + " --execute -y");
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("REASSIGNMENT_IN_PROGRESS"), std::string::npos) << refused.err;

  Shell cancelled = mqctl("-o json partition reassign --plan " + plan_path + " --cancel -y");
  ASSERT_EQ(cancelled.code, 0) << cancelled.out << cancelled.err;
  EXPECT_EQ(parse(cancelled)[0]["status"], "cancelled") << cancelled.out;
  auto after = partitions().at(0).replicas;
  EXPECT_EQ(std::set<int32_t>(after.begin(), after.end()),
            std::set<int32_t>(original.begin(), original.end()));
  // Nothing moves now: the controller drops the throttle.
  EXPECT_TRUE(eventually(
      [&] {
        Shell l = mqctl("-o json partition reassign --list");
        json doc = mq::testing::json_of(l);
        return !doc.is_discarded() && doc["throttle_bytes_per_sec"] == 0 &&
               doc["partitions"].empty();
      },
      10s, kPoll));
  Shell again = mqctl("-o json partition reassign --plan " + plan_path + " --cancel -y");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(parse(again)[0]["status"], "not-in-progress") << again.out;
}

TEST_F(ClusterReassignTest, BadPlansAndArgumentsAreRefused) {
  std::string unknown_broker = write_file(
      "b.json",
      R"({"version": 1, "partitions": [{"topic": "moves", "partition": 0, "replicas": [1, 9]}]})");
  Shell dry = mqctl("partition reassign --plan " + unknown_broker + " --dry-run");
  EXPECT_EQ(dry.code, 1) << dry.out << dry.err;
  EXPECT_NE(dry.err.find("broker 9 is not registered"), std::string::npos) << dry.err;

  std::string no_topic = write_file(
      "t.json",
      R"({"version": 1, "partitions": [{"topic": "nope", "partition": 0, "replicas": [1]}]})");
  Shell missing = mqctl("partition reassign --plan " + no_topic + " --execute -y");
  EXPECT_EQ(missing.code, 3) << missing.err;
  EXPECT_NE(missing.err.find("topic \"nope\" not found"), std::string::npos) << missing.err;

  std::string no_partition = write_file(
      "p.json",
      R"({"version": 1, "partitions": [{"topic": "moves", "partition": 7, "replicas": [1]}]})");
  EXPECT_EQ(mqctl("partition reassign --plan " + no_partition + " --dry-run").code, 3);

  std::string broken = write_file("x.json", R"({"version": 1, "partitions": [{"topic": )");
  Shell bad = mqctl("partition reassign --plan " + broken + " --dry-run");
  EXPECT_EQ(bad.code, 2) << bad.err;
  EXPECT_NE(bad.err.find("not valid JSON"), std::string::npos) << bad.err;

  EXPECT_EQ(mqctl("partition reassign --plan /does/not/exist --dry-run").code, 1);
  EXPECT_EQ(mqctl("partition reassign --plan " + broken).code, 2) << "no mode";
  EXPECT_EQ(mqctl("partition reassign --plan " + broken + " --execute --verify").code, 2);
  EXPECT_EQ(mqctl("partition reassign --plan " + unknown_broker + " --dry-run --throttle 1MB").code,
            2);
  EXPECT_EQ(
      mqctl("partition reassign --plan " + unknown_broker + " --execute --throttle fast -y").code,
      2);
  EXPECT_EQ(mqctl("partition reassign --generate").code, 2) << "no --brokers";
  Shell off = mqctl("partition reassign --generate --brokers 1,9");
  EXPECT_EQ(off.code, 3) << off.err;
  Shell small = mqctl("partition reassign --generate --brokers 2");
  EXPECT_EQ(small.code, 1) << small.err;
  EXPECT_NE(small.err.find("only 1 brokers"), std::string::npos) << small.err;

  // The plan from stdin, and --verify of a plan never executed.
  std::string plan =
      R"({"version": 1, "partitions": [{"topic": "moves", "partition": 0, "replicas": [3, 2, 1]}]})";
  Shell verify = mqctl("-o json partition reassign --plan - --verify", plan);
  EXPECT_EQ(verify.code, 4) << verify.out << verify.err;
  EXPECT_EQ(parse(verify)[0]["status"], "not-started") << verify.out;
}

TEST_F(ClusterReassignTest, ABrokerAddedToTheRunningClusterTakesItsShare) {
  ProducerConfig config;
  config.bootstrap_servers = cluster_->bootstrap();
  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.is_ok());
  std::mutex mu;
  std::set<std::string> acknowledged;
  for (int i = 0; i < 1500; i++) {
    std::string value = "a" + std::to_string(i);
    ASSERT_TRUE((*producer)
                    ->send({.topic = kTopic, .value = value},
                           [&, value](const Result<RecordMetadata>& r) {
                             std::lock_guard lock(mu);
                             if (r.is_ok()) acknowledged.insert(value);
                           })
                    .is_ok());
  }
  ASSERT_TRUE((*producer)->flush(30000).is_ok());
  EXPECT_TRUE((*producer)->close(10000).is_ok());

  // Node 4 is in nobody's config: it joins the quorum as a dynamic observer
  // and registers as a broker.
  MqdProcess& added = cluster_->add_unlisted(dir_.path(), 4, cluster_toml_, more_toml_);
  ASSERT_TRUE(added.start()) << added.log();
  EXPECT_TRUE(added.wait_for_log("joining the metadata quorum as dynamic observer 4", 5000));
  ASSERT_TRUE(eventually([&] { return live_brokers() == 4; }, 30s, kPoll))
      << "the added broker never registered\n"
      << added.log();
  Shell quorum = mqctl("-o json cluster quorum");
  ASSERT_EQ(quorum.code, 0) << quorum.err;
  bool listed = false;
  json members = parse(quorum)["members"];
  for (const auto& m : members) {
    if (m["node"] == 4) listed = m["voter"] == false && m["role"] == "observer";
  }
  EXPECT_TRUE(listed) << quorum.out;

  Shell generated = mqctl(std::string("partition reassign --generate --brokers 1,2,3,4 ") + kTopic);
  ASSERT_EQ(generated.code, 0) << generated.err;
  json plan = parse(generated);
  bool onto_4 = false;
  for (const auto& p : plan["partitions"]) {
    for (const auto& id : p["replicas"]) onto_4 |= id == 4;
  }
  ASSERT_TRUE(onto_4) << generated.out;
  std::string plan_path = write_file("grow.json", generated.out);
  Shell executed = mqctl("partition reassign --plan " + plan_path + " --execute -y");
  ASSERT_EQ(executed.code, 0) << executed.out << executed.err;
  Shell verified;
  ASSERT_TRUE(eventually(
      [&] {
        verified = mqctl("partition reassign --plan " + plan_path + " --verify");
        return verified.code == 0;
      },
      60s, kPoll))
      << verified.out << verified.err;
  int on_4 = 0;
  for (const auto& [i, p] : partitions()) {
    on_4 += std::count(p.replicas.begin(), p.replicas.end(), 4);
    EXPECT_EQ(p.isr.size(), p.replicas.size()) << "partition " << i;
  }
  EXPECT_GE(on_4, 1);
  // Everything acknowledged is read back once after the moves.
  std::multiset<std::string> read = consume_all();
  size_t missing = 0;
  for (const std::string& value : acknowledged) missing += read.count(value) == 1 ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  EXPECT_EQ(acknowledged.size(), 1500u);
}

// A session long enough that only a controlled shutdown can move the
// leaderships within the test's time.
class ClusterControlledShutdownTest : public ClusterReassignTest {
 protected:
  int session_timeout_ms() const override { return 120000; }
};

TEST_F(ClusterControlledShutdownTest, AStoppingLeaderHandsOverItsLeadershipsFirst) {
  auto before = partitions();
  ASSERT_EQ(before.size(), static_cast<size_t>(kPartitions));
  int32_t leader = before.at(0).leader_id;
  ASSERT_GE(leader, 1);
  ProducerConfig config;
  config.bootstrap_servers = cluster_->bootstrap();
  config.acks = -1;
  config.delivery_timeout_ms = 60000;
  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.is_ok());
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; i++) {
      std::string value = "c" + std::to_string(i);
      Status sent = (*producer)->send({.topic = kTopic, .value = value},
                                      [&, value](const Result<RecordMetadata>& r) {
                                        std::lock_guard lock(mu);
                                        if (r.is_ok()) acknowledged.insert(value);
                                        if (!r.is_ok()) failures++;
                                      });
      if (!sent.is_ok()) failures++;
      if (i % 50 == 0) std::this_thread::sleep_for(5ms);
    }
  });
  // The stop lands mid-stream: records are being acknowledged.
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return acknowledged.size() >= 100;
      },
      30s, kPoll));
  int status = cluster_->node(leader).stop(SIGTERM, 60000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << status;
  std::string log = cluster_->node(leader).log();
  EXPECT_NE(log.find("controlled shutdown: moving the leadership of"), std::string::npos);
  EXPECT_NE(log.find("leadership(s) moved"), std::string::npos) << log.substr(log.size() - 2000);

  // The survivors lead everything long before the 120 s session ends, and
  // the producer's records all get through.
  AdminConfig survivors;
  survivors.bootstrap_servers = cluster_->bootstrap();
  auto admin = Admin::create(survivors);
  ASSERT_TRUE(admin.is_ok());
  admin_ = std::move(*admin);
  EXPECT_TRUE(eventually(
      [&] {
        auto ps = partitions();
        if (ps.size() != kPartitions) return false;
        for (const auto& [i, p] : ps) {
          if (p.leader_id < 0 || p.leader_id == leader) return false;
        }
        return true;
      },
      10s, kPoll));
  // Pacing: the writer keeps sending to the new leaders for a while.
  std::this_thread::sleep_for(500ms);
  stop = true;
  writer.join();
  EXPECT_TRUE((*producer)->flush(30000).is_ok()) << "records still waiting for a leader";
  EXPECT_TRUE((*producer)->close(10000).is_ok());
  EXPECT_EQ(failures.load(), 0);
  std::multiset<std::string> read = consume_all();
  size_t missing = 0;
  for (const std::string& value : acknowledged) missing += read.count(value) == 1 ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
}

}  // namespace
}  // namespace mq::client
