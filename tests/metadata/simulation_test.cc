// A seeded random run of broker crashes (clean and unclean), restarts,
// controlled shutdowns, produces, ISR changes and elections against the
// controller, checking after every step that no partition breaks its
// invariants or elects a replica missing committed data while a clean
// option exists: such a replica leads only when every replica that held
// the committed data (the ISR and ELR before) restarted uncleanly since.
#include <gtest/gtest.h>

#include <random>

#include "tests/metadata/controller_fixture.h"

namespace mq::metadata {
namespace {

constexpr BrokerId kBrokers = 5;

struct Sim {
  explicit Sim(uint64_t seed) : random(seed) {
    ControllerConfig config;
    config.broker_session_timeout_ms = 3000;
    config.leader_rebalance_interval_ms = 5000;
    config.seed = seed;
    h = std::make_unique<ControllerHarness>(config);
  }

  std::mt19937_64 random;
  std::unique_ptr<ControllerHarness> h;
  std::map<BrokerId, bool> alive;
  // Per partition ("topic-index"): each broker's log end, and the committed offset.
  std::map<std::string, std::map<BrokerId, int64_t>> leo;
  std::map<std::string, int64_t> hw;
  std::map<std::string, PartitionState> last;
  // Per partition: replicas that restarted uncleanly since they last joined
  // the ISR caught up (their unsynced tail may be gone).
  std::map<std::string, std::set<BrokerId>> lost;

  int64_t pick(int64_t n) { return static_cast<int64_t>(random() % static_cast<uint64_t>(n)); }
  bool chance(int percent) { return pick(100) < percent; }
  static std::string key(const std::string& topic, size_t p) {
    return topic + "-" + std::to_string(p);
  }

  void setup() {
    for (BrokerId id = 1; id <= kBrokers; ++id) {
      h->start_broker(id);
      alive[id] = true;
    }
    h->commit(h->controller().create_topic({"strict", 6, 3, {{"min.insync.replicas", "2"}}}));
    h->commit(h->controller().create_topic({"loose", 3, 3}));
    h->commit(h->controller().create_topic(
        {"unclean", 2, 2, {{"unclean.leader.election.enable", "true"}}}));
    for_each_partition([&](const std::string& k, const TopicState&, const PartitionState& p) {
      for (BrokerId id : p.replicas) leo[k][id] = 0;
      hw[k] = 0;
      last[k] = p;
    });
  }

  template <class F>
  void for_each_partition(F f) {
    for (const auto& [name, topic] : h->image().topics()) {
      for (size_t i = 0; i < topic.partitions.size(); ++i)
        f(key(name, i), topic, topic.partitions[i]);
    }
  }

  int32_t min_isr(const TopicState& topic) { return h->controller().min_insync_replicas(topic); }

  void produce() {
    for_each_partition([&](const std::string& k, const TopicState& topic, const PartitionState& p) {
      if (p.leader == kNoLeader || !alive[p.leader] || !chance(40)) return;
      auto& logs = leo[k];
      logs[p.leader] += 1 + pick(3);
      for (BrokerId id : p.replicas) {
        if (id == p.leader || !alive[id] || !chance(70)) continue;
        logs[id] = logs[p.leader];  // fetched up to the leader's end (truncating any divergence)
      }
      if (static_cast<int32_t>(p.isr.size()) >= min_isr(topic)) {
        int64_t low = INT64_MAX;
        for (BrokerId id : p.isr) low = std::min(low, logs[id]);
        hw[k] = std::max(hw[k], low);
      }
    });
  }

  void change_isr() {
    std::vector<std::pair<std::string, int32_t>> candidates;
    for (const auto& [name, topic] : h->image().topics()) {
      for (size_t i = 0; i < topic.partitions.size(); ++i) {
        const PartitionState& p = topic.partitions[i];
        if (p.leader != kNoLeader && alive[p.leader]) candidates.push_back({name, i});
      }
    }
    if (candidates.empty()) return;
    auto [topic, index] = candidates[static_cast<size_t>(pick(candidates.size()))];
    const PartitionState p = h->partition(topic, index);
    auto& logs = leo[key(topic, static_cast<size_t>(index))];
    std::vector<BrokerId> isr;
    for (BrokerId id : p.replicas) {
      bool in = std::find(p.isr.begin(), p.isr.end(), id) != p.isr.end();
      bool caught_up = alive[id] && logs[id] == logs[p.leader] && !h->image().broker(id)->fenced &&
                       !h->image().broker(id)->in_controlled_shutdown;
      if (id == p.leader || (in && (caught_up || chance(50))) || (!in && caught_up)) {
        isr.push_back(id);
      }
    }
    // Out-of-ISR followers that are still in it but behind get dropped.
    std::vector<BrokerId> kept;
    for (BrokerId id : isr) {
      if (id == p.leader || logs[id] == logs[p.leader] || !alive[id]) {
        if (id == p.leader || alive[id]) kept.push_back(id);
      }
    }
    auto result = h->alter_isr(topic, index, kept);
    ASSERT_TRUE(result.is_ok()) << result.status().to_string();
    h->commit(result->records);
    for (BrokerId id : h->partition(topic, index).isr) {
      if (logs[id] == logs[p.leader]) lost[key(topic, static_cast<size_t>(index))].erase(id);
    }
  }

  void crash() {
    std::vector<BrokerId> up;
    for (auto [id, a] : alive) {
      if (a) up.push_back(id);
    }
    if (up.size() <= 1) return;
    BrokerId id = up[static_cast<size_t>(pick(up.size()))];
    if (chance(30)) {
      auto shutdown = h->controller().controlled_shutdown(id, h->image().broker(id)->broker_epoch);
      ASSERT_TRUE(shutdown.is_ok()) << shutdown.status().to_string();
      h->commit(shutdown->records);
      crashed_clean[id] = true;
    } else {
      crashed_clean[id] = chance(50);
    }
    alive[id] = false;
    h->stop_heartbeating(id);
  }

  void restart() {
    std::vector<BrokerId> down;
    for (auto [id, a] : alive) {
      if (!a) down.push_back(id);
    }
    if (down.empty()) return;
    BrokerId id = down[static_cast<size_t>(pick(down.size()))];
    bool clean = crashed_clean[id];
    if (!clean) {
      // Unflushed data is gone: each log loses a random tail.
      for (auto& [k, logs] : leo) {
        if (!logs.contains(id)) continue;
        logs[id] = pick(logs[id] + 1);
        lost[k].insert(id);
      }
    }
    h->register_only(id, clean);
    alive[id] = true;
    if (chance(70)) h->heartbeat(id);  // caught up at once, or on a later heartbeat
  }

  void check() {
    for_each_partition([&](const std::string& k, const TopicState& topic, const PartitionState& p) {
      SCOPED_TRACE(k);
      ASSERT_EQ(partition_problem(p), "");
      const PartitionState& before = last[k];
      ASSERT_GE(p.leader_epoch, before.leader_epoch);
      ASSERT_GE(p.partition_epoch, before.partition_epoch);
      if (p.leader != before.leader) {
        ASSERT_GT(p.leader_epoch, before.leader_epoch);
      }
      bool clean_topic = !h->controller().unclean_leader_election(topic);
      // A leader that is up serves its log: it must hold everything committed.
      if (p.leader != kNoLeader && alive[p.leader]) {
        if (clean_topic && leo[k][p.leader] < hw[k]) {
          // Only the last holder: the ISR and ELR it was chosen from all
          // lost data, so no replica is known to hold more.
          bool no_clean_holder = lost[k].contains(p.leader);
          for (const auto* ids : {&before.isr, &before.elr}) {
            for (BrokerId id : *ids) no_clean_holder &= lost[k].contains(id);
          }
          ASSERT_TRUE(no_clean_holder) << "leader " << p.leader << " epoch " << p.leader_epoch
                                       << " lacks committed data while a clean holder exists";
          ++last_holder_elections;
          hw[k] = leo[k][p.leader];  // every copy of the rest was lost
          lost[k].erase(p.leader);
        } else if (!clean_topic && leo[k][p.leader] < hw[k]) {
          ++unclean_elections;
          hw[k] = leo[k][p.leader];  // data loss accepted by configuration
        }
      }
      last[k] = p;
    });
  }

  void step() {
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
        produce();
        break;
      case 3:
      case 4:
        change_isr();
        break;
      case 5:
        if (chance(40)) crash();
        break;
      case 6:
        restart();
        break;
      case 7:
        h->commit(h->controller().auto_rebalance(h->now));
        break;
      default:
        h->advance(500);
        break;
    }
  }

  std::map<BrokerId, bool> crashed_clean;
  int unclean_elections = 0;
  int last_holder_elections = 0;
};

TEST(SimulationTest, RandomFailuresKeepEveryPartitionSafe) {
  int elections = 0;
  int last_holder_elections = 0;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Sim sim(seed);
    sim.setup();
    for (int i = 0; i < 1500 && !::testing::Test::HasFatalFailure(); ++i) {
      sim.step();
      sim.check();
    }
    if (::testing::Test::HasFatalFailure()) return;
    for (const auto& [k, p] : sim.last) elections += p.leader_epoch;
    last_holder_elections += sim.last_holder_elections;
  }
  EXPECT_GT(elections, 100) << "the run should exercise failovers";
  EXPECT_GT(last_holder_elections, 0) << "and partitions whose every holder lost data";
}

}  // namespace
}  // namespace mq::metadata
