// failover-bench: how long writes stop when a partition leader dies. Starts
// three mqd processes (a cluster on 127.0.0.1), creates a topic with one
// partition, a replication factor of 3 and min.insync.replicas 2, and keeps
// one idempotent acks=all producer sending one message at a time. KILLS
// times: SIGKILL the partition leader, measure from the kill to the first
// acknowledgement of a message sent after it, restart the dead node and wait
// until the ISR is whole again. Prints each failover and p50 / max.
//
// Usage: failover-bench [--kills 20] [--session-timeout-ms 1500]   (runs the mqd built beside it)

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "client/admin.h"
#include "client/producer.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using mq::testing::MqdProcess;

class Cluster {
 public:
  Cluster(const std::string& dir, int session_timeout_ms)
      : nodes_(dir, 3,
               "broker_heartbeat_interval_ms = " +
                   std::to_string(std::max(session_timeout_ms / 10, 10)) +
                   "\nbroker_session_timeout_ms = " + std::to_string(session_timeout_ms) +
                   "\nauto_leader_rebalance = false\n") {}
  bool start() {
    std::string why;
    if (nodes_.start(&why)) return true;
    std::fprintf(stderr, "%s did not start\n", why.c_str());
    return false;
  }
  std::string bootstrap() { return nodes_.bootstrap(); }
  const mq::client::PartitionInfo* partition(mq::client::ClusterMetadata& m) {
    mq::client::AdminConfig config;
    config.bootstrap_servers = bootstrap();
    config.request_timeout_ms = 2000;
    auto admin = mq::client::Admin::create(config);
    if (!admin.is_ok()) return nullptr;
    auto described = (*admin)->describe_cluster(std::vector<std::string>{"failover"});
    if (!described.is_ok()) return nullptr;
    m = std::move(described).value();
    return m.partition("failover", 0);
  }
  int leader() {
    mq::client::ClusterMetadata m;
    const mq::client::PartitionInfo* p = partition(m);
    return p != nullptr ? p->leader_id : -1;
  }
  bool whole() {
    mq::client::ClusterMetadata m;
    const mq::client::PartitionInfo* p = partition(m);
    return m.brokers.size() == 3 && p != nullptr && p->isr.size() == 3 && p->leader_id > 0;
  }
  MqdProcess& node(int id) { return nodes_.node(id); }

 private:
  mq::testing::MqdCluster nodes_;
};

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"failover-bench: time without acknowledged writes when a partition leader dies"};
  int kills = 20;
  int session_timeout_ms = 1500;
  app.add_option("--kills", kills, "Leaders killed, one after the other")
      ->check(CLI::Range(1, 1000));
  app.add_option("--session-timeout-ms", session_timeout_ms,
                 "cluster.broker_session_timeout_ms of the three nodes")
      ->check(CLI::Range(100, 600000));
  CLI11_PARSE(app, argc, argv);

  mq::testing::TempDir dir;
  Cluster cluster(dir.path(), session_timeout_ms);
  if (!cluster.start()) return 1;
  if (!wait_until(
          [&] {
            mq::client::ClusterMetadata m;
            (void)cluster.partition(m);
            return m.brokers.size() == 3;
          },
          30s)) {
    std::fprintf(stderr, "the three brokers never registered\n");
    return 1;
  }
  {
    mq::client::AdminConfig config;
    config.bootstrap_servers = cluster.bootstrap();
    auto admin = mq::client::Admin::create(config);
    if (!admin.is_ok()) return 1;
    auto created = (*admin)->create_topics({{.name = "failover",
                                             .num_partitions = 1,
                                             .replication_factor = 3,
                                             .configs = {{"min.insync.replicas", "2"}}}});
    if (!created.is_ok() || !(*created)[0].status.is_ok()) {
      std::fprintf(stderr, "cannot create the topic\n");
      return 1;
    }
  }
  if (!wait_until([&] { return cluster.whole(); }, 30s)) {
    std::fprintf(stderr, "the cluster never became whole\n");
    return 1;
  }

  // One message at a time: the last acknowledgement's time is exact.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<int64_t> last_sent_acked_ns{0};  // when the last acknowledged message was sent
  std::atomic<uint64_t> acked{0};
  std::thread producer_thread([&] {
    mq::client::ProducerConfig config;
    config.bootstrap_servers = cluster.bootstrap();
    config.acks = -1;
    config.enable_idempotence = true;
    config.request_timeout_ms = 1000;
    config.delivery_timeout_ms = 120000;
    config.linger_ms = 0;
    auto producer = mq::client::Producer::create(config);
    if (!producer.is_ok()) return;
    uint64_t i = 0;
    while (!stop.load()) {
      int64_t sent_ns = Clock::now().time_since_epoch().count();
      auto sent = (*producer)->send_sync({.topic = "failover", .value = std::to_string(i++)});
      if (sent.is_ok()) {
        // Counts only for a failover if it was sent after the kill: an answer
        // in flight across the kill says nothing about the new leader.
        last_sent_acked_ns = sent_ns;
        last_ack_ns = Clock::now().time_since_epoch().count();
        acked++;
      }
    }
  });
  if (!wait_until([&] { return acked.load() > 100; }, 30s)) {
    std::fprintf(stderr, "the producer never got going\n");
    stop = true;
    producer_thread.join();
    return 1;
  }

  std::vector<double> seconds;
  for (int k = 0; k < kills; k++) {
    int victim = cluster.leader();
    if (victim <= 0) break;
    int64_t killed_ns = Clock::now().time_since_epoch().count();
    cluster.node(victim).kill_now();
    if (!wait_until([&] { return last_sent_acked_ns.load() > killed_ns; }, 60s)) {
      std::fprintf(stderr, "kill %d: no write acknowledged within 60 s\n", k + 1);
      break;
    }
    double gap = static_cast<double>(last_ack_ns.load() - killed_ns) / 1e9;
    seconds.push_back(gap);
    std::printf("kill %2d: leader %d, writes acknowledged again after %.3f s\n", k + 1, victim,
                gap);
    std::fflush(stdout);
    if (gap > 10 && std::getenv("FB_DEBUG")) {
      std::printf("DEBUG kill at wall %lld ms\n",
                  (long long)std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      (long long)(gap * 1000));
      for (int id = 1; id <= 3; id++) {
        std::string log = cluster.node(id).log();
        std::printf("==== node %d log (last 20000)\n%s\n", id,
                    log.substr(log.size() > 20000 ? log.size() - 20000 : 0).c_str());
      }
      std::fflush(stdout);
    }
    if (!cluster.node(victim).start() || !wait_until([&] { return cluster.whole(); }, 60s)) {
      std::string log = cluster.node(victim).log();
      std::fprintf(stderr, "node %d did not rejoin; its log ends:\n%s\n", victim,
                   log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
      break;
    }
  }
  stop = true;
  producer_thread.join();
  if (seconds.empty()) return 1;
  std::printf(
      "RESULT kills=%zu session_timeout_ms=%d failover_p50_s=%.3f failover_max_s=%.3f "
      "acked=%llu\n",
      seconds.size(), session_timeout_ms, percentile(seconds, 0.5),
      *std::max_element(seconds.begin(), seconds.end()),
      static_cast<unsigned long long>(acked.load()));
  return static_cast<int>(seconds.size()) == kills ? 0 : 1;
}
