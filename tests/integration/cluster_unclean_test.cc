// KIP-966 with real processes: a replica whose log came back shorter after an
// unclean shutdown (log.fsync = "never", then a simulated power loss) must not
// be elected over a replica that holds every committed message, so the "last
// replica standing" crashing never truncates acknowledged messages
// cluster-wide.
//
// Brokers 1, 2, 3 (A, B, C) hold an RF=3 partition (replicas [1, 2, 3],
// min.insync.replicas = 2); broker 4 is the metadata quorum's only voter (the
// controller) and holds no replica, so the controller survives A, B and C all
// being down at once (with A, B, C as the voters, losing two of them stops
// every metadata change and nothing would ever be fenced). Every broker runs
// with MQ_TEST_POWER_LOSS_JOURNAL, so bin/mq-power-loss can cut a SIGKILLed
// broker's data dir back to what it fsynced.
//
// The scenario: acks=all messages while all three are in sync; C is SIGKILLed
// (it leaves the ISR with two still in it, so it is not an eligible leader
// replica; its restart is unclean anyway); more acks=all messages, on A and B
// only; B is stopped cleanly (SIGTERM): the ISR falls to {A} below min ISR, so
// B becomes an eligible leader replica (ELR) holding everything committed. A
// is SIGKILLed and its data dir power-cut: its log is now shorter than what
// was acknowledged. A restarts first, uncleanly: it registers and is
// unfenced but must not be elected (it left the ELR by restarting uncleanly),
// so the partition stays leaderless for several session timeouts. B restarts
// cleanly and is elected from the ELR; C restarts; every acknowledged message
// is then in the log exactly once, offsets dense.
//
// The control case runs the same with unclean election enabled
// (cluster.unclean_leader_election = true, the default of the topic setting
// unclean.leader.election.enable; brokers do not accept that setting on a
// topic yet): A is elected as soon as it is back, and the partition is its
// shortened log, without the acknowledged messages its power loss took. That
// is the documented cost of unclean election (availability over durability),
// and it shows that the first case depends on the ELR rule. B and C are not
// restarted there: a follower whose log is longer than an uncleanly elected
// leader's never truncates to it (broker/replica_fetcher.cc: the leader has
// no epoch as old as the follower's, so the follower keeps up to its high
// watermark, its fetch from there is out of range, it reconciles again, and
// so on forever), so the ISR would never heal.
//
// A's whole partition directory is lost in the power loss, not only the
// unsynced tail: directory creation is not fsynced (store/file.cc
// create_directories), so "orders-0" never made it into a durable listing of
// A's data dir. The test asserts only that A comes back shorter.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/support/eventually.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace mq::client {
namespace {

using namespace std::chrono_literals;
using mq::testing::MqdCluster;
using mq::testing::MqdProcess;
using mq::testing::TempDir;
namespace fs = std::filesystem;

using mq::testing::eventually;

constexpr const char* kTopic = "orders";
constexpr int kSessionTimeoutMs = 3000;
constexpr int kA = 1, kB = 2, kC = 3, kController = 4;
constexpr int kFirstPart = 2000;   // acknowledged by A, B and C
constexpr int kSecondPart = 1000;  // acknowledged by A and B (C is down)

// Values identify the message and are large enough to fill several 64 KiB
// segments, so segments roll (and are fsynced) and the active one is not.
std::string value_of(int i) {
  return "m" + std::to_string(i) + "-" + std::string(100, 'x');
}

class ClusterUncleanTest : public ::testing::Test {
 protected:
  // Four brokers, then the topic. `unclean`: the cluster default of
  // unclean.leader.election.enable (cluster.unclean_leader_election). The
  // topic setting itself cannot be used: brokers refuse a topic carrying it
  // (broker/topic_config.cc does not know the key).
  void start(bool unclean) {
    std::string cluster_toml =
        "broker_heartbeat_interval_ms = 200\n"
        "broker_session_timeout_ms = " +
        std::to_string(kSessionTimeoutMs) +
        "\n"
        "auto_leader_rebalance = false\n"
        "unclean_leader_election = " +
        std::string(unclean ? "true" : "false") + "\n";
    std::string more_toml =
        "[quorum]\ntick_ms = 20\nelection_timeout_ms = 400\n"
        "[replication]\nfetch_max_wait_ms = 100\n"
        // Durability from replication only: appends are never fsynced,
        // segments only when they roll.
        "[log]\nfsync = \"never\"\nsegment_bytes = 65536\n"
        // A scrub pass every second (the damage tests below).
        "scrub_interval_ms = 1000\nscrub_bytes_per_second = 67108864\n";
    // The controller is the only voter; A, B and C are static observers.
    cluster_ = std::make_unique<MqdCluster>(dir_.path(), 4, cluster_toml, more_toml,
                                            std::set<int>{kController});
    for (auto& [id, node] : cluster_->nodes()) node->set_env("MQ_TEST_POWER_LOSS_JOURNAL", "1");
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    ASSERT_TRUE(eventually([&] { return live_brokers().size() == 4; }, 30s))
        << "the four brokers never registered";
    // A clean restart of A makes the directories it created at its first
    // start durable: its clean stop and its start fsync the data dir, and
    // nothing else does (store/file.cc create_directories does not fsync the
    // parent). Without it the power loss below deletes A's __quorum/ as a
    // whole, and A, its metadata log gone, never catches up with the
    // controller (whose Raft progress for it never moves back below the
    // match index it had) and stays fenced.
    ASSERT_EQ(node(kA).stop(SIGTERM), 0) << node(kA).log();
    ASSERT_TRUE(node(kA).start()) << node(kA).log();
    // Ready = its new incarnation is registered and unfenced (the old one,
    // still unfenced until its session ends, would otherwise be counted).
    ASSERT_TRUE(eventually([&] { return ready(kA); }, 30s)) << "A did not come back";
    ASSERT_NO_FATAL_FAILURE(create_topic());
  }

  void TearDown() override {
    if (HasFailure() && cluster_ != nullptr) std::cerr << cluster_->logs();
  }

  MqdProcess& node(int id) { return cluster_->node(id); }

  // Replicas exactly on A, B, C (A preferred): the client Admin has no
  // manual assignment, so this is CreateTopics on the wire.
  void create_topic() {
    auto connection = transport::Connection::connect(node(kController).endpoint());
    ASSERT_TRUE(connection.is_ok()) << connection.status().to_string();
    ASSERT_TRUE((*connection)->negotiate_versions(10000).is_ok());
    transport::CreateTopicsRequest request;
    auto& topic = request.topics.emplace_back();
    topic.name = kTopic;
    topic.assignments.push_back({.partition_index = 0, .broker_ids = {kA, kB, kC}});
    topic.configs.push_back({.name = "min.insync.replicas", .value = "2"});
    auto response = (*connection)->call(request, 20000);
    ASSERT_TRUE(response.is_ok()) << response.status().to_string();
    ASSERT_EQ(response->topics.size(), 1u);
    ASSERT_EQ(response->topics[0].error_code, ErrorCode::kNone)
        << response->topics[0].error_message.value_or("");
    ASSERT_TRUE(eventually(
        [&] {
          return isr() == std::vector<int32_t>{kA, kB, kC};
        },
        20s))
        << "ISR never complete";
    ASSERT_EQ(leader(), kA);
  }

  // Metadata as the controller's node sees it (it never goes down).
  Result<ClusterMetadata> describe() {
    AdminConfig config;
    config.bootstrap_servers = node(kController).endpoint().substr(6);  // without tcp://
    config.request_timeout_ms = 2000;
    MQ_ASSIGN_OR_RETURN(std::unique_ptr<Admin> admin, Admin::create(config));
    return admin->describe_cluster(std::vector<std::string>{kTopic});
  }

  std::set<int32_t> live_brokers() {
    Result<ClusterMetadata> m = describe();
    std::set<int32_t> out;
    if (m.is_ok()) {
      for (const BrokerInfo& b : m->brokers) out.insert(b.node_id);
    }
    return out;
  }

  std::optional<PartitionInfo> partition() {
    Result<ClusterMetadata> m = describe();
    if (!m.is_ok() || m->partition(kTopic, 0) == nullptr) return std::nullopt;
    return *m->partition(kTopic, 0);
  }

  std::string describe_partition() {
    auto p = partition();
    if (!p) return "no metadata";
    std::string out = "leader " + std::to_string(p->leader_id) + ", ISR {";
    for (int32_t id : p->isr) out += " " + std::to_string(id);
    return out + " }";
  }

  int leader() {
    auto p = partition();
    return p ? p->leader_id : -2;
  }

  std::vector<int32_t> isr() {
    auto p = partition();
    return p ? p->isr : std::vector<int32_t>{};
  }

  std::string bootstrap() { return cluster_->bootstrap(); }

  // Produces values [from, to) with acks=all; every one must be acknowledged.
  void produce(int from, int to) {
    ProducerConfig config;
    config.bootstrap_servers = bootstrap();
    config.acks = -1;
    config.enable_idempotence = true;
    config.request_timeout_ms = 3000;
    config.delivery_timeout_ms = 30000;
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::atomic<int> acked{0}, failed{0};
    for (int i = from; i < to; i++) {
      Status sent = (*producer)->send(
          {.topic = kTopic, .value = value_of(i)},
          [&](const Result<RecordMetadata>& r) { (r.is_ok() ? acked : failed)++; });
      ASSERT_TRUE(sent.is_ok()) << sent.to_string();
    }
    ASSERT_TRUE((*producer)->flush(60000).is_ok());
    (void)(*producer)->close(10000);
    ASSERT_EQ(failed.load(), 0);
    ASSERT_EQ(acked.load(), to - from);
  }

  // Bytes in the partition's segment files (*.log) in a node's data dir.
  uint64_t segment_bytes(int id) {
    fs::path dir = fs::path(dir_.file("node" + std::to_string(id))) / (std::string(kTopic) + "-0");
    uint64_t total = 0;
    std::error_code ec;
    if (!fs::exists(dir, ec)) return 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file() && entry.path().extension() == ".log") {
        total += entry.file_size();
      }
    }
    return total;
  }

  // Flips one bit in the middle (1/`part` in) of `id`'s first segment of
  // the partition, which must be sealed: bit rot in a trusted segment.
  void damage_first_segment(int id, int part) {
    const std::string first =
        dir_.file("node" + std::to_string(id)) + "/" + kTopic + "-0/00000000000000000000.log";
    ASSERT_TRUE(fs::exists(first));
    ASSERT_GT(segment_bytes(id), fs::file_size(first)) << "the first segment is sealed";
    const auto at = static_cast<std::streamoff>(fs::file_size(first) / part);
    std::fstream f(first, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(at);
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x10);
    f.seekp(at);
    f.write(&byte, 1);
  }

  bool isr_is_whole() {
    std::vector<int32_t> in_sync = isr();
    std::sort(in_sync.begin(), in_sync.end());
    return in_sync == std::vector<int32_t>{kA, kB, kC};
  }

  bool ready(int id) {
    httplib::Client http("127.0.0.1", node(id).http_port());
    http.set_connection_timeout(2);
    http.set_read_timeout(2);
    auto response = http.Get("/readyz");
    return response && response->status == 200;
  }

  // The partition's log end offset as the node reports it (/v1/status), -1
  // until the replica is open there.
  int64_t log_end_offset(int id) {
    httplib::Client http("127.0.0.1", node(id).http_port());
    http.set_connection_timeout(2);
    http.set_read_timeout(2);
    auto response = http.Get("/v1/status");
    if (!response || response->status != 200) return -1;
    auto status = nlohmann::json::parse(response->body, nullptr, false);
    if (status.is_discarded() || !status.contains("partitions")) return -1;
    for (const auto& p : status["partitions"]) {
      if (p.value("topic", "") == kTopic && p.value("partition", -1) == 0) {
        return p.value("log_end_offset", int64_t{-1});
      }
    }
    return -1;
  }

  // The whole log from the current leader: up to its high watermark.
  std::vector<ConsumerRecord> read_all() {
    ConsumerConfig config;
    config.bootstrap_servers = bootstrap();
    config.auto_offset_reset = OffsetReset::kEarliest;
    auto consumer = Consumer::create(config);
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    if (!consumer.is_ok()) return {};
    EXPECT_TRUE((*consumer)->assign({{kTopic, 0}}).is_ok());
    int64_t end = -1;
    EXPECT_TRUE(eventually(
        [&] {
          auto e = (*consumer)->offset_for({kTopic, 0}, -1);
          if (e.is_ok()) end = *e;
          return e.is_ok();
        },
        20s));
    std::vector<ConsumerRecord> out;
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (static_cast<int64_t>(out.size()) < end && std::chrono::steady_clock::now() < deadline) {
      auto batch = (*consumer)->poll(200);
      if (!batch.is_ok()) continue;
      out.insert(out.end(), batch->begin(), batch->end());
    }
    EXPECT_EQ(static_cast<int64_t>(out.size()), end) << "could not read up to the end";
    return out;
  }

  // Up to A's restart after its power loss; returns A's log end offset then.
  int64_t lose_the_last_replica_standing() {
    produce(0, kFirstPart);
    if (HasFatalFailure()) return -1;

    // C dies while A and B keep min ISR: it leaves the ISR, not into the ELR.
    node(kC).kill_now();
    EXPECT_TRUE(eventually(
        [&] {
          return isr() == std::vector<int32_t>{kA, kB};
        },
        std::chrono::milliseconds(kSessionTimeoutMs * 5)))
        << "C was not dropped from the ISR: " << describe_partition();
    produce(kFirstPart, kFirstPart + kSecondPart);
    if (HasFatalFailure()) return -1;

    // B stops cleanly: the ISR falls below min ISR, so B (holding everything
    // committed) becomes an eligible leader replica.
    EXPECT_EQ(node(kB).stop(SIGTERM), 0) << node(kB).log();
    EXPECT_TRUE(fs::exists(dir_.file("node2/clean_shutdown"))) << "B's stop was not clean";
    EXPECT_TRUE(eventually([&] { return isr() == std::vector<int32_t>{kA}; },
                           std::chrono::milliseconds(kSessionTimeoutMs * 5)))
        << "B was not dropped from the ISR: " << describe_partition();
    EXPECT_EQ(leader(), kA);

    // The last replica standing loses power: everything not fsynced is gone.
    uint64_t before = segment_bytes(kA);
    node(kA).kill_now();
    EXPECT_TRUE(eventually([&] { return leader() == -1; },
                           std::chrono::milliseconds(kSessionTimeoutMs * 5)))
        << "A's death left leader " << leader();
    std::string command = std::string(MQ_POWER_LOSS_BINARY) + " " + dir_.file("node1");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    uint64_t after = segment_bytes(kA);
    std::cerr << "A's segments: " << before << " bytes before the power loss, " << after
              << " after\n";
    EXPECT_LT(after, before) << "the power loss took nothing: fsync was not off";
    EXPECT_FALSE(fs::exists(dir_.file("node1/clean_shutdown")));

    // A comes back first, with the shorter log.
    EXPECT_TRUE(node(kA).start()) << node(kA).log();
    EXPECT_TRUE(eventually([&] { return live_brokers().count(kA) == 1; }, 20s))
        << "A was never unfenced";
    int64_t end = -1;
    EXPECT_TRUE(eventually(
        [&] {
          end = log_end_offset(kA);
          return end >= 0;
        },
        20s))
        << "A never opened its replica";
    std::cerr << "A's log end offset after the power loss: " << end << " of "
              << kFirstPart + kSecondPart << " acknowledged\n";
    EXPECT_LT(end, kFirstPart + kSecondPart) << "A's log did not come back shorter";
    return end;
  }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
};

TEST_F(ClusterUncleanTest, AShortenedLastReplicaIsNotElectedOverAnEligibleLeaderReplica) {
  ASSERT_NO_FATAL_FAILURE(start(/*unclean=*/false));
  int64_t a_end = lose_the_last_replica_standing();
  ASSERT_FALSE(HasFailure());
  ASSERT_GE(a_end, 0);

  // A is alive and unfenced, but left the ELR by restarting uncleanly: the
  // partition stays leaderless for several session timeouts.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(kSessionTimeoutMs * 3);
  int checks = 0;
  while (std::chrono::steady_clock::now() < until) {
    auto p = partition();
    ASSERT_TRUE(p.has_value());
    ASSERT_EQ(p->leader_id, -1) << "A, with a shortened log, was elected";
    ASSERT_EQ(p->error, ErrorCode::kLeaderNotAvailable);
    ASSERT_TRUE(p->isr.empty());
    checks++;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(live_brokers().count(kA), 1u) << "A was fenced: the check above proved nothing";
  EXPECT_GT(checks, 10);

  // B, stopped cleanly with everything committed, is elected from the ELR.
  ASSERT_TRUE(node(kB).start()) << node(kB).log();
  ASSERT_TRUE(eventually([&] { return leader() == kB; }, 20s))
      << "B was not elected; leader " << leader();
  ASSERT_TRUE(node(kC).start()) << node(kC).log();
  ASSERT_TRUE(eventually([&] { return isr().size() == 3; }, 30s)) << "the ISR never healed";

  std::vector<ConsumerRecord> log = read_all();
  ASSERT_EQ(log.size(), static_cast<size_t>(kFirstPart + kSecondPart));
  std::set<std::string> values;
  for (size_t i = 0; i < log.size(); i++) {
    ASSERT_EQ(log[i].offset, static_cast<int64_t>(i)) << "offsets are not dense";
    EXPECT_TRUE(values.insert(log[i].value.value_or("")).second)
        << "duplicate at offset " << log[i].offset;
  }
  for (int i = 0; i < kFirstPart + kSecondPart; i++) {
    EXPECT_EQ(values.count(value_of(i)), 1u) << "acknowledged m" << i << " is missing";
  }
  // A truncated nothing: it caught up from B.
  EXPECT_TRUE(eventually([&] { return log_end_offset(kA) == kFirstPart + kSecondPart; }, 20s));
}

// The control: with unclean election the shortened replica is elected and
// acknowledged messages are lost for good — the expected cost of
// unclean leader election, and why the ELR rule matters.
TEST_F(ClusterUncleanTest, WithUncleanElectionTheShortenedReplicaIsElectedAndMessagesAreLost) {
  ASSERT_NO_FATAL_FAILURE(start(/*unclean=*/true));
  int64_t a_end = lose_the_last_replica_standing();
  ASSERT_FALSE(HasFailure());
  ASSERT_GE(a_end, 0);

  ASSERT_TRUE(
      eventually([&] { return leader() == kA; }, std::chrono::milliseconds(kSessionTimeoutMs * 5)))
      << "A was not elected uncleanly; leader " << leader();
  EXPECT_EQ(isr(), std::vector<int32_t>{kA});

  // The partition is now A's shortened log: a prefix of what was
  // acknowledged; the rest is gone from it.
  std::vector<ConsumerRecord> log = read_all();
  ASSERT_EQ(static_cast<int64_t>(log.size()), a_end);
  ASSERT_LT(log.size(), static_cast<size_t>(kFirstPart + kSecondPart));
  for (size_t i = 0; i < log.size(); i++) {
    ASSERT_EQ(log[i].offset, static_cast<int64_t>(i)) << "offsets are not dense";
    ASSERT_EQ(log[i].value.value_or(""), value_of(static_cast<int>(i)));
  }
  std::cerr << "unclean election lost " << kFirstPart + kSecondPart - log.size()
            << " acknowledged messages, as documented\n";
}

// A leader that finds a batch failing its CRC in a sealed segment (bit rot
// the start did not look for: sealed segments are trusted) while other
// in-sync replicas hold it: mqd exits with status 75, the partition moves to
// another in-sync replica, and the restarted broker (systemd restarts it)
// cuts its log at the damage and fetches the rest again. Every message is
// read back intact, and the repaired replica rejoins the ISR.
TEST_F(ClusterUncleanTest, ALeaderFindingADamagedBatchHandsOverAndRepairsItsReplica) {
  ASSERT_NO_FATAL_FAILURE(start(/*unclean=*/false));
  ASSERT_NO_FATAL_FAILURE(produce(0, kFirstPart));
  ASSERT_EQ(leader(), kA);
  ASSERT_NO_FATAL_FAILURE(damage_first_segment(kA, 2));
  // A consumer reading from the start meets the damage on A (or A's scrub
  // does first).
  int status = -1;
  {
    ConsumerConfig config;
    config.bootstrap_servers = bootstrap();
    config.auto_offset_reset = OffsetReset::kEarliest;
    auto consumer = Consumer::create(config);
    ASSERT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    ASSERT_TRUE((*consumer)->assign({{kTopic, 0}}).is_ok());
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (status == -1 && std::chrono::steady_clock::now() < deadline) {
      (void)(*consumer)->poll(100);
      status = node(kA).wait_exit(1);
    }
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 75)
      << "A did not exit to repair (status " << status << "):\n"
      << node(kA).log();
  EXPECT_NE(node(kA).log().find("fails its CRC here"), std::string::npos) << node(kA).log();
  ASSERT_TRUE(eventually([&] { return leader() == kB || leader() == kC; },
                         std::chrono::milliseconds(kSessionTimeoutMs * 5)))
      << "the partition stayed with A: " << describe_partition();

  // systemd's Restart=on-failure.
  ASSERT_TRUE(node(kA).start()) << node(kA).log();
  EXPECT_TRUE(
      eventually([&] { return node(kA).log().find("cut the log from") != std::string::npos; }, 10s))
      << node(kA).log();
  std::vector<ConsumerRecord> log = read_all();
  ASSERT_EQ(log.size(), static_cast<size_t>(kFirstPart));
  for (size_t i = 0; i < log.size(); i++) {
    ASSERT_EQ(log[i].offset, static_cast<int64_t>(i));
    ASSERT_EQ(log[i].value.value_or(""), value_of(static_cast<int>(i)));
  }
  EXPECT_TRUE(eventually([&] { return isr_is_whole(); }, 30s))
      << "A never caught up again: " << describe_partition();
  EXPECT_EQ(log_end_offset(kA), kFirstPart);
}

// Bit rot in a follower's sealed segment: nothing reads it there but the
// scrub, which finds it, and the follower repairs its replica the same way.
TEST_F(ClusterUncleanTest, TheScrubFindsAFollowersDamagedBatchAndTheFollowerRepairs) {
  ASSERT_NO_FATAL_FAILURE(start(/*unclean=*/false));
  ASSERT_NO_FATAL_FAILURE(produce(0, kFirstPart));
  ASSERT_EQ(leader(), kA);
  ASSERT_NO_FATAL_FAILURE(damage_first_segment(kB, 3));
  int status = node(kB).wait_exit(30000);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 75)
      << "B's scrub did not find the damage (status " << status << "):\n"
      << node(kB).log();
  EXPECT_EQ(leader(), kA) << "the leader's replica is whole: it keeps leading";
  ASSERT_TRUE(node(kB).start()) << node(kB).log();
  EXPECT_TRUE(
      eventually([&] { return node(kB).log().find("cut the log from") != std::string::npos; }, 10s))
      << node(kB).log();
  EXPECT_TRUE(eventually([&] { return isr_is_whole(); }, 30s))
      << "B never caught up again: " << describe_partition();
  EXPECT_EQ(log_end_offset(kB), kFirstPart);
  // Its next scrub passes find nothing more.
  ASSERT_TRUE(eventually(
      [&] { return node(kB).log().find("with a batch failing its CRC") != std::string::npos; },
      30s))
      << node(kB).log();
  EXPECT_NE(node(kB).log().find(", 0 with a batch failing its CRC"), std::string::npos)
      << node(kB).log();
  EXPECT_EQ(node(kB).wait_exit(1), -1) << "B runs on";
  std::vector<ConsumerRecord> log = read_all();
  ASSERT_EQ(log.size(), static_cast<size_t>(kFirstPart));
}

}  // namespace
}  // namespace mq::client
