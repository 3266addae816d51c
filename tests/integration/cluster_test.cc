// Three mqd processes forming a cluster on 127.0.0.1, an RF=3 topic with
// min.insync.replicas=2, and an idempotent acks=all producer running while
// the partition leader is SIGKILLed, the active controller is SIGKILLed, or
// the leader is paused (SIGSTOP) past its session and resumed, and while
// nodes restart. Afterwards every acknowledged message is in the log exactly
// once, offsets are dense, and every message a consumer saw during the
// disruption is still there at the offset it was seen at.
//
// MQ_CLUSTER_TEST_ITERATIONS (default 1) repeats each scenario: `make
// cluster-soak` runs many.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "client/queue_consumer.h"
#include "store/record_batch.h"
#include "tests/support/eventually.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"

namespace mq::client {
namespace {

using namespace std::chrono_literals;
using mq::testing::kQuickQuorumToml;
using mq::testing::MqdCluster;
using mq::testing::quick_cluster_toml;
using mq::testing::TempDir;

int iterations() {
  const char* n = std::getenv("MQ_CLUSTER_TEST_ITERATIONS");
  return n != nullptr && std::atoi(n) > 0 ? std::atoi(n) : 1;
}

using mq::testing::eventually;

constexpr const char* kTopic = "orders";
constexpr int kSessionTimeoutMs = 1500;

class ClusterTest : public ::testing::Test {
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
    auto created = (*admin)->create_topics({{.name = kTopic,
                                             .num_partitions = 1,
                                             .replication_factor = 3,
                                             .configs = {{"min.insync.replicas", "2"}}}});
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
    ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s)) << "ISR never complete";
  }

  void TearDown() override {
    for (auto& [id, node] : cluster_->nodes()) {
      if (node->pid() > 0) ::kill(node->pid(), SIGCONT);
    }
    if (HasFailure()) std::cerr << cluster_->logs();
  }

  std::string bootstrap(int except = 0) { return cluster_->bootstrap(except); }

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

  const PartitionInfo* partition_of(const Result<ClusterMetadata>& m) {
    return m.is_ok() ? m->partition(kTopic, 0) : nullptr;
  }

  int leader(int except = 0) {
    Result<ClusterMetadata> m = describe(except);
    const PartitionInfo* p = partition_of(m);
    return p != nullptr ? p->leader_id : -1;
  }

  int isr_size() {
    Result<ClusterMetadata> m = describe();
    const PartitionInfo* p = partition_of(m);
    return p != nullptr ? static_cast<int>(p->isr.size()) : 0;
  }

  // SIGKILLs the partition's leader and waits for another to lead it.
  // Returns the killed node, or -1 (the failure recorded) when there was no
  // leader or no other took over.
  int kill_leader() {
    int victim = leader();
    EXPECT_GT(victim, 0) << "no leader to kill";
    if (victim <= 0) return -1;
    cluster_->node(victim).kill_now();
    bool moved = eventually([&] { return leader(victim) > 0 && leader(victim) != victim; },
                            std::chrono::milliseconds(kSessionTimeoutMs * 5));
    EXPECT_TRUE(moved) << "no new leader after the leader died";
    return moved ? victim : -1;
  }

  // Produces "job-0" ... to partition 0 of kTopic, acks=all.
  void produce_jobs(int count) {
    ProducerConfig config;
    config.bootstrap_servers = bootstrap();
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::vector<std::future<Result<RecordMetadata>>> futures;
    for (int i = 0; i < count; i++) {
      futures.push_back((*producer)->send(
          ProducerRecord{.topic = kTopic, .value = "job-" + std::to_string(i), .partition = 0}));
    }
    for (auto& f : futures) ASSERT_TRUE(f.get().is_ok());
    ASSERT_TRUE((*producer)->close(5000).is_ok());
  }

  int controller(int except = 0) {
    Result<ClusterMetadata> m = describe(except);
    return m.is_ok() ? m->controller_id : -1;
  }

  // Produces `count` distinct values with acks=all while `disrupt` runs on
  // this thread once `disrupt_after` were acknowledged, with a consumer
  // reading alongside; then checks the whole log.
  void run(int count, int disrupt_after, const std::function<void()>& disrupt) {
    round_++;  // values differ between rounds: the log keeps every round's
    std::mutex mu;
    std::set<std::string> acked;
    std::atomic<int> failed{0};
    std::atomic<bool> producing{true};
    std::map<int64_t, std::string> seen;  // by the concurrent consumer

    struct Joiner {
      std::atomic<bool>& producing;
      std::thread& thread;
      ~Joiner() {
        producing = false;
        if (thread.joinable()) thread.join();
      }
    };
    std::thread reader;
    Joiner joiner{producing, reader};
    reader = std::thread([&] {
      ConsumerConfig config;
      config.bootstrap_servers = bootstrap();
      config.auto_offset_reset = OffsetReset::kEarliest;
      config.request_timeout_ms = 2000;
      auto consumer = Consumer::create(config);
      if (!consumer.is_ok()) return;
      if (!(*consumer)->assign({{kTopic, 0}}).is_ok()) return;
      while (producing.load()) {
        auto batch = (*consumer)->poll(100);
        if (!batch.is_ok()) continue;
        std::lock_guard lock(mu);
        for (const ConsumerRecord& r : *batch) seen[r.offset] = r.value.value_or("");
      }
    });

    ProducerConfig config;
    config.bootstrap_servers = bootstrap();
    config.acks = -1;
    config.enable_idempotence = true;
    config.request_timeout_ms = 3000;
    config.delivery_timeout_ms = 60000;
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::atomic<int> acked_count{0};
    bool disrupted = false;
    for (int i = 0; i < count; i++) {
      std::string value = "r" + std::to_string(round_) + "-m" + std::to_string(i);
      Status sent = (*producer)->send({.topic = kTopic, .value = value},
                                      [&, value](const Result<RecordMetadata>& r) {
                                        if (r.is_ok()) {
                                          std::lock_guard lock(mu);
                                          acked.insert(value);
                                          acked_count++;
                                        } else {
                                          failed++;
                                        }
                                      });
      ASSERT_TRUE(sent.is_ok()) << sent.to_string();
      if (!disrupted && i >= disrupt_after) {
        ASSERT_TRUE((*producer)->flush(60000).is_ok());
        disrupt();
        disrupted = true;
      }
      if (i % 500 == 499) std::this_thread::sleep_for(5ms);  // spread over the disruption
    }
    ASSERT_TRUE((*producer)->flush(90000).is_ok());
    (void)(*producer)->close(10000);
    // The live consumer follows the partition to its new leader and catches
    // up with everything acknowledged so far, this round's and earlier ones'.
    {
      std::lock_guard lock(mu);
      acked_total_ += acked.size();
    }
    bool caught_up = eventually(
        [&] {
          std::lock_guard lock(mu);
          return seen.size() >= acked_total_;
        },
        30s);
    producing = false;
    reader.join();
    EXPECT_TRUE(caught_up) << "the consumer reading during the disruption stopped at "
                           << seen.size() << " messages";
    EXPECT_GE(acked_count.load(), disrupt_after) << "the first part was not acknowledged";

    // The whole log, read from the current leader through any live broker.
    std::vector<ConsumerRecord> log = read_all();
    std::set<std::string> values;
    for (size_t i = 0; i < log.size(); i++) {
      ASSERT_EQ(log[i].offset, static_cast<int64_t>(i)) << "offsets are not dense";
      EXPECT_TRUE(values.insert(log[i].value.value_or("")).second)
          << "duplicate " << log[i].value.value_or("") << " at offset " << log[i].offset;
    }
    std::lock_guard lock(mu);
    for (const std::string& v : acked) {
      EXPECT_TRUE(values.count(v) == 1) << "acknowledged " << v << " is missing";
    }
    for (const auto& [offset, value] : seen) {
      ASSERT_LT(offset, static_cast<int64_t>(log.size()))
          << "a consumer saw offset " << offset << " that is gone";
      EXPECT_EQ(log[offset].value.value_or(""), value)
          << "a consumer saw " << value << " at " << offset << ", which later changed";
    }
    std::cerr << "acked " << acked.size() << " of " << count << ", failed " << failed.load()
              << ", log " << log.size() << ", seen by the live consumer " << seen.size() << "\n";
  }

  std::vector<ConsumerRecord> read_all() {
    ConsumerConfig config;
    config.bootstrap_servers = bootstrap();
    config.auto_offset_reset = OffsetReset::kEarliest;
    auto consumer = Consumer::create(config);
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    if (!consumer.is_ok()) return {};
    EXPECT_TRUE((*consumer)->assign({{kTopic, 0}}).is_ok());
    // The end: the high watermark as the leader reports it.
    int64_t end = -1;
    eventually(
        [&] {
          auto e = (*consumer)->offset_for({kTopic, 0}, -1);
          if (e.is_ok()) end = *e;
          return e.is_ok();
        },
        20s);
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

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
  int round_ = 0;
  size_t acked_total_ = 0;  // over every round: the log holds them all
};

TEST_F(ClusterTest, KillingThePartitionLeaderLosesNoAcknowledgedMessage) {
  for (int round = 0; round < iterations(); round++) {
    run(6000, 2000, [&] {
      int victim = kill_leader();
      ASSERT_GT(victim, 0);
      // It comes back and catches up while the rest is produced.
      ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();
    });
    ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 30s)) << "the ISR never healed";
  }
}

// What an application gets with every client setting left at its default:
// a producer, a consumer assigned the partition and a group member, running
// while the partition leader is SIGKILLed and restarted. None of them sees
// an error; both consumers read every acknowledged message.
TEST_F(ClusterTest, DefaultClientsRideThroughALeaderKillWithoutAnError) {
  constexpr int kCount = 20'000;
  std::mutex mu;
  std::vector<std::string> errors;
  auto error = [&](const std::string& what) {
    std::lock_guard lock(mu);
    if (errors.size() < 20) errors.push_back(what);
  };
  std::set<std::string> acked;
  std::atomic<bool> reading{true};
  // One reader per kind of consumer; each records the values it was given.
  auto read = [&](ConsumerConfig config, bool grouped, std::set<std::string>& seen) {
    auto consumer = Consumer::create(config);
    if (!consumer.is_ok()) return error("consumer: " + consumer.status().to_string());
    Status started =
        grouped ? (*consumer)->subscribe({kTopic}) : (*consumer)->assign({{kTopic, 0}});
    if (!started.is_ok()) return error("consumer start: " + started.to_string());
    while (reading.load()) {
      auto batch = (*consumer)->poll(100);
      if (!batch.is_ok()) {
        error(std::string(grouped ? "group" : "assigned") + " poll: " + batch.status().to_string());
        continue;
      }
      std::lock_guard lock(mu);
      for (const ConsumerRecord& r : *batch) seen.insert(r.value.value_or(""));
    }
    Status closed = (*consumer)->close();
    if (!closed.is_ok()) error("consumer close: " + closed.to_string());
  };
  ConsumerConfig plain;
  plain.bootstrap_servers = bootstrap();
  plain.auto_offset_reset = OffsetReset::kEarliest;
  ConsumerConfig grouped = plain;
  grouped.group_id = "riders";
  std::set<std::string> seen_assigned, seen_grouped;
  std::thread assigned_reader(read, plain, false, std::ref(seen_assigned));
  std::thread group_reader(read, grouped, true, std::ref(seen_grouped));
  struct Stop {
    std::atomic<bool>& reading;
    std::thread& a;
    std::thread& b;
    ~Stop() {
      reading = false;
      if (a.joinable()) a.join();
      if (b.joinable()) b.join();
    }
  } stop{reading, assigned_reader, group_reader};

  ProducerConfig config;
  config.bootstrap_servers = bootstrap();
  auto producer = Producer::create(config);
  ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
  int victim = -1;
  for (int i = 0; i < kCount; i++) {
    std::string value = "d" + std::to_string(i);
    Status sent = (*producer)->send(
        {.topic = kTopic, .value = value}, [&, value](const Result<RecordMetadata>& r) {
          if (!r.is_ok()) return error("send " + value + ": " + r.status().to_string());
          std::lock_guard lock(mu);
          acked.insert(value);
        });
    if (!sent.is_ok()) error("send() " + value + ": " + sent.to_string());
    if (i == kCount / 4) {
      victim = leader();
      ASSERT_GT(victim, 0);
      cluster_->node(victim).kill_now();
    }
    if (i == kCount / 2) {
      ASSERT_TRUE(eventually([&] { return leader(victim) > 0 && leader(victim) != victim; },
                             std::chrono::milliseconds(kSessionTimeoutMs * 5)))
          << "no new leader after the leader died";
      ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();
    }
    if (i % 100 == 99) std::this_thread::sleep_for(2ms);  // a steady stream across the kill
  }
  ASSERT_TRUE((*producer)->flush(120'000).is_ok());
  ASSERT_TRUE((*producer)->close(10'000).is_ok());
  auto have_all = [&](const std::set<std::string>& seen) {
    std::lock_guard lock(mu);
    return std::ranges::includes(seen, acked);
  };
  EXPECT_TRUE(eventually([&] { return have_all(seen_assigned); }, 60s))
      << "the assigned consumer missed acknowledged messages";
  EXPECT_TRUE(eventually([&] { return have_all(seen_grouped); }, 60s))
      << "the group member missed acknowledged messages";
  reading = false;
  assigned_reader.join();
  group_reader.join();
  std::lock_guard lock(mu);
  EXPECT_EQ(acked.size(), static_cast<size_t>(kCount));
  std::string all;
  for (const std::string& e : errors) all += e + "\n";
  EXPECT_TRUE(errors.empty()) << "errors with default settings:\n" << all;
}

TEST_F(ClusterTest, KillingTheActiveControllerLosesNoAcknowledgedMessage) {
  for (int round = 0; round < iterations(); round++) {
    run(6000, 2000, [&] {
      int victim = controller();
      ASSERT_GT(victim, 0);
      cluster_->node(victim).kill_now();
      ASSERT_TRUE(eventually(
          [&] {
            int c = controller(victim);
            return c > 0 && c != victim;
          },
          10s))
          << "no new controller";
      ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();
    });
    ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 30s)) << "the ISR never healed";
  }
}

TEST_F(ClusterTest, APausedLeaderThatResumesCannotAcknowledgeUnderItsOldEpoch) {
  for (int round = 0; round < iterations(); round++) {
    run(6000, 2000, [&] {
      int victim = leader();
      ASSERT_GT(victim, 0);
      ::kill(cluster_->node(victim).pid(), SIGSTOP);
      ASSERT_TRUE(eventually([&] { return leader(victim) > 0 && leader(victim) != victim; },
                             std::chrono::milliseconds(kSessionTimeoutMs * 5)))
          << "no new leader while the old one was paused";
      ::kill(cluster_->node(victim).pid(), SIGCONT);
    });
    ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 30s)) << "the ISR never healed";
  }
}

TEST_F(ClusterTest, RestartingEveryNodeInTurnKeepsEverything) {
  run(6000, 1000, [&] {
    for (int id = 1; id <= 3; id++) {
      ASSERT_EQ(cluster_->node(id).stop(SIGTERM), 0) << cluster_->node(id).log();
      ASSERT_TRUE(cluster_->node(id).start()) << cluster_->node(id).log();
      ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 30s))
          << "node " << id << " did not rejoin the ISR";
    }
  });
}

// A message re-sent by a new producer instance after its partition's leader
// was SIGKILLed, with the message id it had: the new leader knows the id
// (followers keep the window from their own appends) and acknowledges it
// with the first offset; the log holds each id once.
TEST_F(ClusterTest, AMessageIdSurvivesItsLeadersKill) {
  auto send_all = [&](int from, int to, const std::string& tag,
                      std::map<int, RecordMetadata>* out) {
    ProducerConfig config;
    config.bootstrap_servers = bootstrap();
    config.linger_ms = 20;  // several records per batch: duplicates and new ones mixed
    auto producer = Producer::create(config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    std::vector<std::future<Result<RecordMetadata>>> futures;
    for (int i = from; i < to; i++) {
      futures.push_back((*producer)->send(
          ProducerRecord{.topic = kTopic,
                         .value = tag + std::to_string(i),
                         .headers = {{std::string(kMessageIdHeader), "id-" + std::to_string(i)}},
                         .partition = 0}));
    }
    for (int i = from; i < to; i++) {
      Result<RecordMetadata> sent = futures[static_cast<size_t>(i - from)].get();
      ASSERT_TRUE(sent.is_ok()) << i << ": " << sent.status().to_string();
      (*out)[i] = *sent;
    }
  };
  std::map<int, RecordMetadata> first, second;
  send_all(0, 100, "first-", &first);
  for (const auto& [i, meta] : first) ASSERT_FALSE(meta.duplicate) << i;
  ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s));
  int victim = kill_leader();
  ASSERT_GT(victim, 0);
  send_all(50, 150, "second-", &second);
  for (int i = 50; i < 150; i++) {
    EXPECT_EQ(second[i].duplicate, i < 100) << i;
    if (i < 100) {
      EXPECT_EQ(second[i].offset, first[i].offset) << i;
    }
  }
  ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();

  // Every id once, each at the offset its send was acknowledged with.
  ConsumerConfig config;
  config.bootstrap_servers = bootstrap();
  config.auto_offset_reset = OffsetReset::kEarliest;
  auto consumer = Consumer::create(config);
  ASSERT_TRUE(consumer.is_ok());
  ASSERT_TRUE((*consumer)->assign({{kTopic, 0}}).is_ok());
  std::map<int64_t, std::string> log;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (log.size() < 150 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->poll(200);
    if (!batch.is_ok()) continue;
    for (const ConsumerRecord& r : *batch) log[r.offset] = r.value.value_or("");
  }
  ASSERT_EQ(log.size(), 150u);
  for (int i = 0; i < 150; i++) {
    const RecordMetadata& meta = i < 100 ? first[i] : second[i];
    std::string expected = (i < 100 ? "first-" : "second-") + std::to_string(i);
    EXPECT_EQ(log[meta.offset], expected) << i;
  }
}

TEST_F(ClusterTest, DelayedMessagesSurviveTheirLeadersKill) {
  ProducerConfig producer_config;
  producer_config.bootstrap_servers = bootstrap();
  auto producer = Producer::create(producer_config);
  ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
  const int64_t soon = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       6000;
  const int64_t later = soon + 3'600'000;
  std::vector<std::future<Result<RecordMetadata>>> futures;
  for (int i = 0; i < 150; i++) {
    futures.push_back((*producer)->send(ProducerRecord{.topic = kTopic,
                                                       .value = "delayed-" + std::to_string(i),
                                                       .partition = 0,
                                                       .deliver_at_ms = i < 100 ? soon : later}));
  }
  std::vector<RecordMetadata> sent;
  for (auto& f : futures) {
    Result<RecordMetadata> meta = f.get();
    ASSERT_TRUE(meta.is_ok()) << meta.status().to_string();
    EXPECT_TRUE(meta->scheduled);
    sent.push_back(*meta);
  }
  ASSERT_TRUE((*producer)->close(5000).is_ok());
  // One of the later ones is cancelled before the leader dies.
  AdminConfig admin_config;
  admin_config.bootstrap_servers = bootstrap();
  auto admin = Admin::create(admin_config);
  ASSERT_TRUE(admin.is_ok());
  ASSERT_TRUE((*admin)->cancel_delayed({kTopic, 0}, sent[149].offset).is_ok());
  ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s));
  int victim = kill_leader();
  ASSERT_GT(victim, 0);

  // The new leader delivers each of the first hundred once, not before its time.
  ConsumerConfig config;
  config.bootstrap_servers = bootstrap();
  config.auto_offset_reset = OffsetReset::kEarliest;
  auto consumer = Consumer::create(config);
  ASSERT_TRUE(consumer.is_ok());
  ASSERT_TRUE((*consumer)->assign({{kTopic, 0}}).is_ok());
  std::map<std::string, int> seen;
  size_t received = 0;
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while (received < 100 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*consumer)->poll(200);
    if (!batch.is_ok()) continue;
    for (const ConsumerRecord& r : *batch) {
      ++received;
      seen[r.value.value_or("")]++;
      EXPECT_GE(r.timestamp_ms, soon) << r.value.value_or("") << " came early";
    }
  }
  ASSERT_EQ(received, 100u);
  for (int i = 0; i < 100; i++) EXPECT_EQ(seen["delayed-" + std::to_string(i)], 1) << i;
  // Nothing more comes, and the cancel held across the failover.
  auto more = (*consumer)->poll(1000);
  ASSERT_TRUE(more.is_ok());
  EXPECT_TRUE(more->empty());
  Result<DelayedListing> pending = (*admin)->list_delayed(kTopic, 100);
  ASSERT_TRUE(pending.is_ok()) << pending.status().to_string();
  EXPECT_EQ(pending->pending, 49);
  for (const DelayedMessage& m : pending->messages) EXPECT_NE(m.offset, sent[149].offset);
  ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();
}

// Queue consumption across a leader's SIGKILL: what was acknowledged is
// never handed out again, what was in flight comes back once its invisible
// time passes (delivery 2), what was never handed out comes once.
TEST_F(ClusterTest, QueueGroupStateSurvivesTheLeadersKill) {
  AdminConfig admin_config;
  admin_config.bootstrap_servers = bootstrap();
  auto admin = Admin::create(admin_config);
  ASSERT_TRUE(admin.is_ok());
  ASSERT_TRUE((*admin)->alter_configs({.name = kTopic}, {{"queue.retry.backoff.ms", "0"}}).is_ok());
  produce_jobs(100);

  QueueConsumerConfig config;
  config.bootstrap_servers = bootstrap();
  config.group_id = "workers";
  config.topics = {kTopic};
  config.invisible_ms = 4000;
  auto first = QueueConsumer::create(config);
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  std::vector<QueueMessage> got;
  ASSERT_TRUE(eventually(
      [&] {
        auto batch = (*first)->receive(60 - static_cast<int>(got.size()), 200);
        if (batch.is_ok()) got.insert(got.end(), batch->begin(), batch->end());
        return got.size() >= 60;
      },
      20s));
  ASSERT_EQ(got.size(), 60u);
  std::vector<QueueMessage> done(got.begin(), got.begin() + 40);
  auto acked = (*first)->settle(done, QueueConsumer::Action::kAck);
  ASSERT_TRUE(acked.is_ok()) << acked.status().to_string();
  for (const QueueAckResult& r : *acked) ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  const int64_t invisible_until = got.back().invisible_until_ms;
  std::set<std::string> in_flight;
  for (size_t i = 40; i < 60; i++) in_flight.insert(got[i].value.value_or(""));
  std::set<std::string> acknowledged;
  for (const QueueMessage& m : done) acknowledged.insert(m.value.value_or(""));

  ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s));
  int victim = kill_leader();
  ASSERT_GT(victim, 0);

  auto second = QueueConsumer::create(config);
  ASSERT_TRUE(second.is_ok());
  std::map<std::string, int> seen;
  size_t received = 0;
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while (received < 60 && std::chrono::steady_clock::now() < deadline) {
    auto batch = (*second)->receive(100, 200);
    if (!batch.is_ok() || batch->empty()) continue;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    for (const QueueMessage& m : *batch) {
      const std::string value = m.value.value_or("");
      ++received;
      seen[value]++;
      EXPECT_FALSE(acknowledged.contains(value)) << value << " was acknowledged";
      if (in_flight.contains(value)) {
        EXPECT_EQ(m.delivery, 2) << value;
        EXPECT_GE(now, invisible_until) << value << " came back while still invisible";
      } else {
        EXPECT_EQ(m.delivery, 1) << value;
      }
    }
    auto settled = (*second)->settle(*batch, QueueConsumer::Action::kAck);
    ASSERT_TRUE(settled.is_ok());
  }
  EXPECT_EQ(received, 60u);
  for (const auto& [value, times] : seen) EXPECT_EQ(times, 1) << value;
  // Nothing more: every message is done.
  auto more = (*second)->receive(100, 1000);
  ASSERT_TRUE(more.is_ok());
  EXPECT_TRUE(more->empty());
  ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();
}

// Dead letters across brokers: messages past their last delivery are
// produced by the partition's leader to dlq.GROUP (led by whichever broker)
// and marked dead; the leader is SIGKILLed right after the messages die, so
// some may be copied by it and again by its successor: the dead-letter topic
// still holds each exactly once, and the group never sees them again.
TEST_F(ClusterTest, DeadLettersReachTheirTopicOnceAcrossALeadersKill) {
  AdminConfig admin_config;
  admin_config.bootstrap_servers = bootstrap();
  auto admin = Admin::create(admin_config);
  ASSERT_TRUE(admin.is_ok());
  ASSERT_TRUE((*admin)
                  ->alter_configs({.name = kTopic},
                                  {{"queue.retry.backoff.ms", "0"}, {"queue.max.deliveries", "1"}})
                  .is_ok());
  constexpr int kMessages = 200;
  produce_jobs(kMessages);

  QueueConsumerConfig config;
  config.bootstrap_servers = bootstrap();
  config.group_id = "failing";
  config.topics = {kTopic};
  auto consumer = QueueConsumer::create(config);
  ASSERT_TRUE(consumer.is_ok()) << consumer.status().to_string();
  std::vector<QueueMessage> got;
  ASSERT_TRUE(eventually(
      [&] {
        auto batch = (*consumer)->receive(kMessages - static_cast<int>(got.size()), 200);
        if (batch.is_ok()) got.insert(got.end(), batch->begin(), batch->end());
        return got.size() >= kMessages;
      },
      20s));
  ASSERT_TRUE(eventually([&] { return isr_size() == 3; }, 20s));
  // Given back on their one allowed delivery: dead at once.
  auto nacked = (*consumer)->settle(got, QueueConsumer::Action::kNack, 0);
  ASSERT_TRUE(nacked.is_ok()) << nacked.status().to_string();
  for (const QueueAckResult& r : *nacked) ASSERT_TRUE(r.status.is_ok()) << r.status.to_string();
  int victim = kill_leader();
  ASSERT_GT(victim, 0);
  ASSERT_TRUE(cluster_->node(victim).start()) << cluster_->node(victim).log();

  // Every message in dlq.failing once, each naming its origin.
  ConsumerConfig reader_config;
  reader_config.bootstrap_servers = bootstrap();
  reader_config.auto_offset_reset = OffsetReset::kEarliest;
  auto reader = Consumer::create(reader_config);
  ASSERT_TRUE(reader.is_ok());
  ASSERT_TRUE(eventually(
      [&] {
        auto m = (*admin)->describe_cluster(std::vector<std::string>{"dlq.failing"});
        return m.is_ok() && m->partition_count("dlq.failing") == 1;
      },
      30s));
  ASSERT_TRUE((*reader)->assign({{"dlq.failing", 0}}).is_ok());
  std::map<std::string, int> letters;
  size_t total = 0;
  auto read_for = [&](std::chrono::milliseconds span) {
    auto deadline = std::chrono::steady_clock::now() + span;
    while (std::chrono::steady_clock::now() < deadline) {
      auto batch = (*reader)->poll(100);
      if (!batch.is_ok()) continue;
      for (const ConsumerRecord& r : *batch) {
        total++;
        letters[r.value.value_or("")]++;
        std::map<std::string, std::string> h;
        for (const Header& header : r.headers) h[header.key] = header.value.value_or("");
        EXPECT_EQ(h["mq.dlq.group"], "failing");
        EXPECT_EQ(h["mq.dlq.topic"], kTopic);
        EXPECT_EQ(h["mq.dlq.deliveries"], "1");
        EXPECT_EQ(h["mq.dlq.reason"], "max-deliveries");
      }
      if (letters.size() >= kMessages && span > 5s) return;
    }
  };
  read_for(60s);
  read_for(3s);  // and nothing after them
  EXPECT_EQ(letters.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(total, static_cast<size_t>(kMessages));
  for (const auto& [value, times] : letters) EXPECT_EQ(times, 1) << value;
  // The group is done with them.
  auto more = (*consumer)->receive(kMessages, 1000);
  ASSERT_TRUE(more.is_ok());
  EXPECT_TRUE(more->empty());
}

}  // namespace
}  // namespace mq::client
