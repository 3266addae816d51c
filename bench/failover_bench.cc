// failover-bench: what a producer with default settings sees when partition
// leaders die. Starts three mqd processes (a cluster on 127.0.0.1), creates a
// topic with one partition, replication factor 3 and min.insync.replicas 2,
// and sends to it at a steady rate (100 k msg/s) through one idempotent
// acks=all producer with the library's defaults. Then, one after the other:
// KILLS times SIGKILL the partition leader, and TERMS times SIGTERM it
// (controlled shutdown), restarting it and waiting for the ISR to be whole
// after each. For each, it prints the longest time without an
// acknowledgement around it (the stall). At the end it reads the partition
// back and checks every acknowledged message is there once: failed sends,
// lost and duplicated messages must all be 0.
//
// Usage: failover-bench [--kills 20] [--terms 20] [--rate 100000]
//                       [--session-timeout-ms 0 (the broker default)]
// (runs the mqd built beside it)

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  return Clock::now().time_since_epoch().count();
}

class Nodes {
 public:
  Nodes(const std::string& dir, int session_timeout_ms)
      : nodes_(dir, 3, cluster_toml(session_timeout_ms)) {}

  bool start() {
    std::string why;
    if (nodes_.start(&why)) return true;
    std::fprintf(stderr, "%s did not start\n", why.c_str());
    return false;
  }
  std::string bootstrap() { return nodes_.bootstrap(); }
  // The partition as a broker sees it now; nullopt if no broker answered.
  std::optional<mq::client::PartitionInfo> partition() {
    mq::client::AdminConfig config{.bootstrap_servers = bootstrap(),
                                   .request_timeout_ms = 2000,
                                   .default_api_timeout_ms = 2000};
    auto admin = mq::client::Admin::create(config);
    if (!admin.is_ok()) return std::nullopt;
    auto described = (*admin)->describe_cluster(std::vector<std::string>{"failover"});
    if (!described.is_ok()) return std::nullopt;
    brokers_ = described->brokers.size();
    const mq::client::PartitionInfo* p = described->partition("failover", 0);
    if (p == nullptr) return std::nullopt;
    return *p;
  }
  // Registered brokers, as a broker answers now.
  size_t brokers() {
    (void)partition();
    return brokers_;
  }
  int leader() {
    auto p = partition();
    return p ? p->leader_id : -1;
  }
  bool whole() {
    auto p = partition();
    return p && brokers_ == 3 && p->isr.size() == 3 && p->leader_id > 0;
  }
  mq::testing::MqdProcess& node(int id) { return nodes_.node(id); }

 private:
  static std::string cluster_toml(int session_timeout_ms) {
    std::string toml = "auto_leader_rebalance = false\n";
    if (session_timeout_ms > 0) {
      toml +=
          "broker_heartbeat_interval_ms = " + std::to_string(std::max(session_timeout_ms / 8, 10)) +
          "\nbroker_session_timeout_ms = " + std::to_string(session_timeout_ms) + "\n";
    }
    return toml;
  }

  mq::testing::MqdCluster nodes_;
  size_t brokers_ = 0;
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

// What the producer's callbacks record (they run on its I/O thread).
struct Tally {
  std::mutex mu;
  std::vector<uint8_t> acked;  // by message number, guarded by mu
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> failed{0};
  std::string first_error;  // guarded by mu
  std::atomic<int64_t> last_ack_ns{0};
  std::atomic<int64_t> longest_gap_ns{0};  // since the last reset

  void on_ack(uint64_t number) {
    int64_t now = now_ns();
    int64_t gap = now - last_ack_ns.exchange(now);
    int64_t longest = longest_gap_ns.load();
    while (gap > longest && !longest_gap_ns.compare_exchange_weak(longest, gap)) {
    }
    std::lock_guard lock(mu);
    if (acked.size() <= number) acked.resize(number + 1 + 1'000'000, 0);
    acked[number] = 1;
    acknowledged.fetch_add(1);
  }
  void on_error(const mq::Status& status) {
    if (failed.fetch_add(1) == 0) {
      std::lock_guard lock(mu);
      first_error = status.to_string();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"failover-bench: a default producer against leaders that die"};
  int kills = 20;
  int terms = 20;
  double rate = 100'000;
  int session_timeout_ms = 0;
  app.add_option("--kills", kills, "Leaders SIGKILLed, one after the other")
      ->check(CLI::Range(0, 1000));
  app.add_option("--terms", terms, "Leaders stopped with SIGTERM, one after the other")
      ->check(CLI::Range(0, 1000));
  app.add_option("--rate", rate, "Messages per second")->check(CLI::Range(1.0, 10'000'000.0));
  app.add_option("--session-timeout-ms", session_timeout_ms,
                 "cluster.broker_session_timeout_ms of the three nodes (0: the default)")
      ->check(CLI::Range(0, 600000));
  CLI11_PARSE(app, argc, argv);

  mq::testing::TempDir dir;
  Nodes nodes(dir.path(), session_timeout_ms);
  if (!nodes.start()) return 1;
  if (!wait_until([&] { return nodes.brokers() == 3; }, 60s)) {
    std::fprintf(stderr, "the three brokers never registered\n");
    return 1;
  }
  {
    auto admin = mq::client::Admin::create({.bootstrap_servers = nodes.bootstrap()});
    if (!admin.is_ok()) return 1;
    auto created = (*admin)->create_topics({{.name = "failover",
                                             .num_partitions = 1,
                                             .replication_factor = 3,
                                             .configs = {{"min.insync.replicas", "2"}}}});
    if (!created.is_ok() || !(*created)[0].status.is_ok()) {
      std::fprintf(stderr, "cannot create the topic: %s\n",
                   created.is_ok() ? (*created)[0].status.to_string().c_str()
                                   : created.status().to_string().c_str());
      return 1;
    }
  }
  if (!wait_until([&] { return nodes.whole(); }, 60s)) {
    std::fprintf(stderr, "the cluster never became whole\n");
    return 1;
  }

  // The library's defaults: idempotent, acks=all, 30 s request timeout,
  // 120 s delivery timeout. Only the brokers are set.
  auto producer = mq::client::Producer::create({.bootstrap_servers = nodes.bootstrap()});
  if (!producer.is_ok()) {
    std::fprintf(stderr, "producer: %s\n", producer.status().to_string().c_str());
    return 1;
  }
  Tally tally;
  tally.last_ack_ns = now_ns();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0};
  std::thread sender([&] {
    auto start = Clock::now();
    uint64_t i = 0;
    std::string value;
    while (!stop.load()) {
      // Steady: message i goes out at start + i / rate.
      auto due = start + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / rate));
      if (due > Clock::now()) std::this_thread::sleep_until(due);
      value = std::to_string(i);
      uint64_t number = i;
      mq::Status status = (*producer)->send_view(
          {.topic = "failover", .value = value},
          [&tally, number](const mq::Result<mq::client::RecordMetadata>& result) {
            if (result.is_ok()) {
              tally.on_ack(number);
            } else {
              tally.on_error(result.status());
            }
          });
      if (!status.is_ok()) tally.on_error(status);
      sent = ++i;
    }
  });
  if (!wait_until([&] { return tally.acknowledged.load() > 1000; }, 30s)) {
    std::fprintf(stderr, "the producer never got going\n");
    stop = true;
    sender.join();
    return 1;
  }

  // Each failure: reset the longest gap, stop the leader, restart it, wait
  // until the ISR is whole, then read the longest gap around it.
  auto series = [&](const char* what, int count, bool kill) {
    std::vector<double> stalls_ms;
    for (int k = 0; k < count; k++) {
      int victim = nodes.leader();
      if (victim <= 0) {
        std::fprintf(stderr, "%s %d: no leader to stop\n", what, k + 1);
        break;
      }
      std::this_thread::sleep_for(500ms);
      tally.longest_gap_ns = 0;
      if (kill) {
        nodes.node(victim).kill_now();
      } else {
        nodes.node(victim).stop(SIGTERM, 60'000);
      }
      if (!nodes.node(victim).start() || !wait_until([&] { return nodes.whole(); }, 120s)) {
        std::string log = nodes.node(victim).log();
        std::fprintf(stderr, "node %d did not rejoin; its log ends:\n%s\n", victim,
                     log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
        break;
      }
      std::this_thread::sleep_for(1s);  // acknowledgements flow again
      double stall = static_cast<double>(tally.longest_gap_ns.load()) / 1e6;
      stalls_ms.push_back(stall);
      mq::client::ProducerStats stats = (*producer)->stats();
      std::printf(
          "%s %2d: leader %d, longest stall %.1f ms (acknowledged %llu, batches sent %llu, "
          "retries %llu, metadata refreshes %llu)\n",
          what, k + 1, victim, stall, static_cast<unsigned long long>(tally.acknowledged.load()),
          static_cast<unsigned long long>(stats.batches_sent),
          static_cast<unsigned long long>(stats.retries),
          static_cast<unsigned long long>(stats.metadata_refreshes));
      std::fflush(stdout);
    }
    return stalls_ms;
  };
  std::vector<double> kill_stalls = series("sigkill", kills, true);
  std::vector<double> term_stalls = series("sigterm", terms, false);

  stop = true;
  sender.join();
  (void)(*producer)->flush();
  (void)(*producer)->close(10'000);

  // Read everything back: each acknowledged number once.
  uint64_t total = sent.load();
  std::vector<uint32_t> seen(total, 0);
  uint64_t foreign = 0;
  {
    auto consumer =
        mq::client::Consumer::create({.bootstrap_servers = nodes.bootstrap(),
                                      .auto_offset_reset = mq::client::OffsetReset::kEarliest});
    if (!consumer.is_ok() || !(*consumer)->assign({{"failover", 0}}).is_ok()) {
      std::fprintf(stderr, "cannot read the partition back\n");
      return 1;
    }
    auto end = (*consumer)->offset_for({"failover", 0}, -1);
    int64_t position = 0;
    auto deadline = Clock::now() + 300s;
    while (end.is_ok() && position < *end && Clock::now() < deadline) {
      auto polled = (*consumer)->poll_each(500, [&](const mq::client::ConsumerRecordView& r) {
        position = r.offset + 1;
        uint64_t number =
            r.value ? std::strtoull(std::string(*r.value).c_str(), nullptr, 10) : UINT64_MAX;
        if (number < total) {
          ++seen[number];
        } else {
          ++foreign;
        }
      });
      if (!polled.is_ok()) {
        std::fprintf(stderr, "reading back: %s\n", polled.status().to_string().c_str());
        break;
      }
    }
  }
  uint64_t lost = 0, duplicates = 0;
  {
    std::lock_guard lock(tally.mu);
    for (uint64_t i = 0; i < total; ++i) {
      if (i < tally.acked.size() && tally.acked[i] && seen[i] == 0) ++lost;
      if (seen[i] > 1) duplicates += seen[i] - 1;
    }
    if (!tally.first_error.empty()) {
      std::fprintf(stderr, "first failed send: %s\n", tally.first_error.c_str());
    }
  }
  auto report = [&](const char* mode, const std::vector<double>& stalls) {
    if (stalls.empty()) return;
    std::printf("RESULT mode=%s count=%zu stall_p50_ms=%.1f stall_max_ms=%.1f\n", mode,
                stalls.size(), percentile(stalls, 0.5),
                *std::max_element(stalls.begin(), stalls.end()));
  };
  report("sigkill", kill_stalls);
  report("sigterm", term_stalls);
  std::printf(
      "RESULT rate=%.0f sent=%llu acknowledged=%llu failed=%llu lost=%llu duplicates=%llu\n", rate,
      static_cast<unsigned long long>(total),
      static_cast<unsigned long long>(tally.acknowledged.load()),
      static_cast<unsigned long long>(tally.failed.load()), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(duplicates));
  bool complete = static_cast<int>(kill_stalls.size()) == kills &&
                  static_cast<int>(term_stalls.size()) == terms;
  return complete && tally.failed == 0 && lost == 0 && duplicates == 0 && foreign == 0 ? 0 : 1;
}
