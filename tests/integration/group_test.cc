// Consumer groups end to end: the client library against real mqd
// processes. Three members share six partitions and read everything once; a
// member killed with SIGKILL (a child process: a dead process stops
// heartbeating, which an abandoned object in this process would not) loses
// its partitions within the session timeout and the others resume from its
// commits; a member frozen past its session (SIGSTOP) cannot commit; commits
// survive a broker crash; every offset-reset mode, dry run and execute, and
// the refusal to reset an active group; broadcast delivers everything to
// every member.
//
// The binary is also its own child: `group_test --member MODE BOOTSTRAP`
// runs one consumer (see run_member()) whose progress the parent reads from
// its stdout.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace mq::client {
namespace {

using mq::testing::MqdProcess;
using mq::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr const char* kGroupSettings =
    "[group]\ninitial_rebalance_delay_ms = 0\nmin_session_timeout_ms = 100\n";
constexpr int kSessionTimeoutMs = 2'000;
constexpr int64_t kHourMs = 3'600'000;

ConsumerConfig member_config(const std::string& bootstrap, const std::string& client_id) {
  ConsumerConfig c;
  c.bootstrap_servers = bootstrap;
  c.client_id = client_id;
  c.group_id = "g";
  c.auto_offset_reset = OffsetReset::kEarliest;
  c.fetch_max_wait_ms = 100;
  c.request_timeout_ms = 10'000;
  c.session_timeout_ms = kSessionTimeoutMs;
  c.heartbeat_interval_ms = 200;
  c.max_poll_interval_ms = 5'000;
  c.enable_auto_commit = true;
  c.auto_commit_interval_ms = 200;
  return c;
}

// The child: one member of group g on topic t, printing what it does.
// Both print "A <partition>..." on each assignment.
//   consume: prints "R <partition> <offset>" per record, commits after each
//     poll and prints "C <partition> <offset>" per committed position.
//   zombie: once assigned, stops itself (SIGSTOP), and once continued
//     commits offset 1 for its first partition and prints "Z <error name>".
int run_member(const std::string& mode, const std::string& bootstrap) {
  ConsumerConfig config = member_config(bootstrap, "child-" + mode);
  config.enable_auto_commit = false;
  auto consumer = Consumer::create(config);
  RebalanceCallbacks callbacks{.on_assigned = [](const std::vector<TopicPartition>& partitions) {
    std::cout << "A";
    for (const TopicPartition& tp : partitions) std::cout << " " << tp.partition;
    std::cout << std::endl;
  }};
  if (!consumer.is_ok() || !(*consumer)->subscribe({"t"}, callbacks).is_ok()) return 2;
  while (true) {
    auto records = (*consumer)->poll(100);
    if (!records.is_ok()) {
      std::cout << "E " << records.status().to_string() << std::endl;
      continue;
    }
    if (mode == "zombie" && !(*consumer)->assignment().empty()) {
      ::raise(SIGSTOP);
      Status status = (*consumer)->commit_sync({{(*consumer)->assignment().front(), 1}});
      std::cout << "Z " << error_name(status.code()) << std::endl;
      ::_exit(0);
    }
    for (const ConsumerRecord& r : *records) {
      std::cout << "R " << r.partition << " " << r.offset << "\n";
    }
    std::cout.flush();
    if (records->empty()) continue;
    std::map<TopicPartition, int64_t> positions;
    for (const TopicPartition& tp : (*consumer)->assignment()) {
      positions[tp] = (*consumer)->position(tp).value();
    }
    if ((*consumer)->commit_sync(positions).is_ok()) {
      for (const auto& [tp, offset] : positions) {
        std::cout << "C " << tp.partition << " " << offset << "\n";
      }
      std::cout.flush();
    }
  }
}

// A member in a child process, its stdout collected line by line.
class ChildMember {
 public:
  ChildMember(const std::string& mode, const std::string& bootstrap) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    std::string self = "/proc/self/exe", flag = "--member", m = mode, b = bootstrap;
    char* argv[] = {self.data(), flag.data(), m.data(), b.data(), nullptr};
    if (posix_spawn(&pid_, self.c_str(), &actions, nullptr, argv, environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    fd_ = out[0];
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd_, buf, sizeof(buf))) > 0) {
        std::lock_guard lock(mu_);
        output_.append(buf, static_cast<size_t>(n));
      }
    });
  }
  ~ChildMember() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    ::close(fd_);
  }
  pid_t pid() const { return pid_; }
  void kill_now() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    reader_.join();
  }
  // Complete lines that start with `prefix`, without it.
  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }
  std::vector<std::string> lines(const std::string& prefix) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    std::istringstream in(output_.substr(0, output_.rfind('\n') + 1));
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with(prefix)) out.push_back(line.substr(prefix.size()));
    }
    return out;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::string output_;
};

class GroupTest : public ::testing::Test {
 protected:
  // A group that "never settles" may be a broker that died (a sanitizer
  // report ends its log): show the log of a failed test.
  void TearDown() override {
    if (HasFailure() && broker_) std::cerr << "mqd log:\n" << broker_->log() << std::endl;
  }
  void SetUp() override {
    start_broker();
    create_topic("t", 6);
  }
  void start_broker() {
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"), kGroupSettings);
    ASSERT_TRUE(broker_->start()) << broker_->log();
    bootstrap_ = broker_->endpoint();
    auto admin = Admin::create(AdminConfig{.bootstrap_servers = bootstrap_});
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(admin).value();
  }
  void create_topic(const std::string& name, int partitions) {
    auto created = admin_->create_topics(
        {{.name = name, .num_partitions = partitions, .replication_factor = 1}});
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
  }
  // `per_partition` records "<partition>:<i>" into each partition of t;
  // record i of a round is (10 - i) hours old when `aged`.
  void produce(int per_partition, int first = 0, bool aged = false) {
    auto producer = Producer::create(ProducerConfig{.bootstrap_servers = bootstrap_});
    ASSERT_TRUE(producer.is_ok());
    int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    std::vector<std::future<Result<RecordMetadata>>> futures;
    for (int32_t p = 0; p < 6; ++p) {
      for (int i = first; i < first + per_partition; ++i) {
        ProducerRecord record{
            .topic = "t", .value = std::to_string(p) + ":" + std::to_string(i), .partition = p};
        if (aged) record.timestamp_ms = now - (10 - i) * kHourMs;
        futures.push_back((*producer)->send(std::move(record)));
      }
    }
    for (auto& future : futures) ASSERT_TRUE(future.get().is_ok());
  }
  std::unique_ptr<Consumer> member(const std::string& client_id,
                                   std::vector<std::string> strategy = {"sticky"},
                                   bool auto_commit = true) {
    ConsumerConfig c = member_config(bootstrap_, client_id);
    c.partition_assignment_strategy = std::move(strategy);
    c.enable_auto_commit = auto_commit;
    auto consumer = Consumer::create(c);
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    EXPECT_TRUE((*consumer)->subscribe({"t"}).is_ok());
    return std::move(consumer).value();
  }
  // Polls the consumers in turn until `done` or `seconds`; records collect in records_.
  bool poll_until(const std::vector<Consumer*>& consumers, const std::function<bool()>& done,
                  int seconds = 30) {
    auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (!done()) {
      if (Clock::now() > deadline) return false;
      for (Consumer* c : consumers) {
        auto records = c->poll(20);
        EXPECT_TRUE(records.is_ok()) << records.status().to_string();
        if (records.is_ok()) {
          records_[c].insert(records_[c].end(), records->begin(), records->end());
        }
      }
    }
    return true;
  }
  std::map<TopicPartition, int64_t> committed() {
    auto group = admin_->describe_group("g");
    EXPECT_TRUE(group.is_ok()) << group.status().to_string();
    std::map<TopicPartition, int64_t> out;
    if (!group.is_ok()) return out;
    for (const auto& p : group->partitions) {
      if (p.committed_offset >= 0) out[p.partition] = p.committed_offset;
    }
    return out;
  }
  // Commits by hand for the group without members (generation -1).
  void commit_manually(const std::map<TopicPartition, int64_t>& offsets) {
    ConsumerConfig c = member_config(bootstrap_, "manual");
    auto consumer = Consumer::create(c);
    ASSERT_TRUE(consumer.is_ok());
    Status status = (*consumer)->commit_sync(offsets);
    ASSERT_TRUE(status.is_ok()) << status.to_string();
    ASSERT_TRUE((*consumer)->close().is_ok());
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  std::string bootstrap_;
  std::unique_ptr<Admin> admin_;
  std::map<Consumer*, std::vector<ConsumerRecord>> records_;
};

std::map<TopicPartition, int64_t> all_six(int64_t offset) {
  std::map<TopicPartition, int64_t> out;
  for (int32_t p = 0; p < 6; ++p) out[{"t", p}] = offset;
  return out;
}

TEST_F(GroupTest, ThreeMembersGetTwoPartitionsEachAndReadEverythingExactlyOnce) {
  produce(100);
  auto a = member("a"), b = member("b"), c = member("c");
  std::vector<Consumer*> all = {a.get(), b.get(), c.get()};
  auto read = [&] {
    size_t n = 0;
    for (Consumer* consumer : all) n += records_[consumer].size();
    return n;
  };
  ASSERT_TRUE(poll_until(all,
                         [&] {
                           return read() >= 600 && std::ranges::all_of(all, [](Consumer* consumer) {
                                    return consumer->assignment().size() == 2;
                                  });
                         }))
      << "read " << read();
  std::set<TopicPartition> owned;
  for (Consumer* consumer : all) {
    for (const TopicPartition& tp : consumer->assignment()) owned.insert(tp);
  }
  EXPECT_EQ(owned.size(), 6u);
  std::map<std::string, int> seen;
  for (Consumer* consumer : all) {
    for (const ConsumerRecord& r : records_[consumer]) ++seen[*r.value];
  }
  EXPECT_EQ(seen.size(), 600u);
  for (const auto& [value, times] : seen) EXPECT_EQ(times, 1) << value;
  for (Consumer* consumer : all) EXPECT_TRUE(consumer->close().is_ok());
  EXPECT_EQ(committed(), all_six(100));
}

TEST_F(GroupTest, KilledMembersPartitionsMoveWithinTheSessionTimeoutAndResumeFromItsCommits) {
  produce(50);
  ChildMember child("consume", bootstrap_);
  ASSERT_GT(child.pid(), 0);
  auto a = member("a"), b = member("b");
  std::vector<Consumer*> survivors = {a.get(), b.get()};
  // Everything read and committed, the child owning two partitions.
  std::set<int32_t> child_partitions;
  ASSERT_TRUE(poll_until(survivors,
                         [&] {
                           std::vector<std::string> assigned = child.lines("A ");
                           child_partitions.clear();
                           if (!assigned.empty()) {
                             std::istringstream in(assigned.back());
                             for (int32_t p; in >> p;) child_partitions.insert(p);
                           }
                           size_t mine = a->assignment().size() + b->assignment().size();
                           return mine == 4 && child_partitions.size() == 2 &&
                                  committed() == all_six(50);
                         }))
      << "child owns " << child_partitions.size() << ", survivors own "
      << a->assignment().size() + b->assignment().size() << ", child errors "
      << child.lines("E ").size() << ", child reads " << child.lines("R ").size();
  for (Consumer* consumer : survivors) {
    for (const TopicPartition& tp : consumer->assignment()) {
      EXPECT_FALSE(child_partitions.contains(tp.partition)) << tp.to_string();
    }
  }
  records_.clear();
  child.kill_now();
  auto killed_at = Clock::now();
  produce(10, 50);
  ASSERT_TRUE(
      poll_until(survivors, [&] { return a->assignment().size() + b->assignment().size() == 6; }));
  auto moved_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
  std::cout << "partitions of the killed member owned again after " << moved_ms << " ms\n";
  EXPECT_LE(moved_ms, kSessionTimeoutMs + 2'000);
  size_t read = 0;
  ASSERT_TRUE(poll_until(survivors,
                         [&] {
                           read = records_[a.get()].size() + records_[b.get()].size();
                           return read >= 60;
                         }))
      << "read " << read;
  // Every new record once, none of the old ones again: the child's
  // partitions resumed at its committed offsets.
  std::map<std::string, int> seen;
  for (Consumer* consumer : survivors) {
    for (const ConsumerRecord& r : records_[consumer]) {
      ++seen[*r.value];
      EXPECT_GE(r.offset, 50) << r.partition;
    }
  }
  EXPECT_EQ(seen.size(), 60u);
}

TEST_F(GroupTest, AZombieMembersCommitIsRejected) {
  produce(5);
  ChildMember zombie("zombie", bootstrap_);
  ASSERT_GT(zombie.pid(), 0);
  // Wait until it stopped itself with its partitions.
  int status = 0;
  pid_t waited;
  do {
    waited = ::waitpid(zombie.pid(), &status, WUNTRACED);
  } while (waited < 0 && errno == EINTR);
  ASSERT_EQ(waited, zombie.pid());
  ASSERT_TRUE(WIFSTOPPED(status)) << "status " << status << ", output:\n" << zombie.output();
  std::vector<std::string> assigned = zombie.lines("A ");
  ASSERT_FALSE(assigned.empty()) << zombie.output();
  int32_t partition = std::stoi(assigned.back());
  // A live member takes everything once the frozen one's session expires.
  auto live = member("live");
  ASSERT_TRUE(poll_until({live.get()}, [&] {
    return live->assignment().size() == 6 && records_[live.get()].size() == 30;
  }));
  ASSERT_TRUE(live->commit_sync().is_ok());
  ::kill(zombie.pid(), SIGCONT);
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (zombie.lines("Z ").empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(zombie.lines("Z ").size(), 1u) << zombie.output();
  std::string error = zombie.lines("Z ")[0];
  EXPECT_TRUE(error == "ILLEGAL_GENERATION" || error == "UNKNOWN_MEMBER_ID") << error;
  auto offsets = committed();
  auto found = offsets.find({"t", partition});
  ASSERT_NE(found, offsets.end()) << "t-" << partition << " has no committed offset";
  EXPECT_EQ(found->second, 5) << "the live member's commit stands";
}

TEST_F(GroupTest, OnRevokedCanCommitWhileTheConsumerCloses) {
  produce(20);
  ConsumerConfig c = member_config(bootstrap_, "closing");
  c.enable_auto_commit = false;
  auto consumer = Consumer::create(c);
  ASSERT_TRUE(consumer.is_ok()) << consumer.status().to_string();
  Consumer* self = consumer->get();
  Status committed_in_callback(ErrorCode::kUnknown, "on_revoked never ran");
  RebalanceCallbacks callbacks;
  callbacks.on_revoked = [&](const std::vector<TopicPartition>&) {
    committed_in_callback = self->commit_sync();
  };
  ASSERT_TRUE((*consumer)->subscribe({"t"}, callbacks).is_ok());
  ASSERT_TRUE(poll_until({self}, [&] { return records_[self].size() == 120; }));
  ASSERT_TRUE((*consumer)->close().is_ok());
  EXPECT_TRUE(committed_in_callback.is_ok()) << committed_in_callback.to_string();
  EXPECT_EQ(committed(), all_six(20));
}

TEST_F(GroupTest, CommittedOffsetsSurviveABrokerCrash) {
  produce(20);
  auto a = member("a");
  ASSERT_TRUE(poll_until({a.get()}, [&] { return records_[a.get()].size() == 120; }));
  ASSERT_TRUE(a->commit_sync().is_ok());
  a.reset();  // closes: its last commit, then LeaveGroup
  records_.clear();
  ASSERT_EQ(committed(), all_six(20));
  broker_->kill_now();
  start_broker();
  EXPECT_EQ(committed(), all_six(20));
  produce(1, 20);
  auto again = member("a");
  ASSERT_TRUE(poll_until({again.get()}, [&] { return records_[again.get()].size() >= 6; }));
  for (const ConsumerRecord& r : records_[again.get()]) EXPECT_EQ(r.offset, 20);
}

TEST_F(GroupTest, EveryResetModeInDryRunAndExecute) {
  produce(10, 0, /*aged=*/true);
  commit_manually({{{"t", 0}, 4}, {{"t", 1}, 8}});
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  using Mode = OffsetResetMode;
  struct Case {
    OffsetResetSpec spec;
    std::map<int32_t, int64_t> expected;  // partition -> new offset
  };
  // Applied in turn, each from where the one before left the offsets.
  const std::vector<Case> cases = {
      {{.mode = Mode::kShiftBy, .value = -3, .topics = {{"t", {0, 1}}}}, {{0, 1}, {1, 5}}},
      {{.mode = Mode::kShiftBy, .value = 7, .topics = {{"t", {0, 1}}}}, {{0, 8}, {1, 10}}},
      {{.mode = Mode::kShiftBy, .value = -30, .topics = {{"t", {1}}}}, {{1, 0}}},
      // t-5 has no commit: current is where a consumer would start, the end.
      {{.mode = Mode::kToCurrent, .topics = {{"t", {1, 5}}}}, {{1, 0}, {5, 10}}},
      {{.mode = Mode::kToLatest, .topics = {{"t", {1}}}}, {{1, 10}}},
      {{.mode = Mode::kToEarliest, .topics = {{"t", {0, 1}}}}, {{0, 0}, {1, 0}}},
      {{.mode = Mode::kToOffset, .value = 99, .topics = {{"t", {2}}}}, {{2, 10}}},
      {{.mode = Mode::kToOffset, .value = 4, .topics = {{"t", {2}}}}, {{2, 4}}},
      // Record i is (10 - i) hours old.
      {{.mode = Mode::kToDatetime, .value = now - 7 * kHourMs / 2, .topics = {{"t", {3}}}},
       {{3, 7}}},
      {{.mode = Mode::kByDuration, .value = 11 * kHourMs / 2, .topics = {{"t", {4}}}}, {{4, 5}}},
      {{.mode = Mode::kFromCsv, .csv = "t,0,2\nt,5,3\n"}, {{0, 2}, {5, 3}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("mode " + std::to_string(static_cast<int>(c.spec.mode)));
    auto before = committed();
    Result<OffsetResetPlan> plan = admin_->plan_offset_reset("g", c.spec);
    ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
    std::map<int32_t, int64_t> planned;
    for (const OffsetResetEntry& e : plan->entries) {
      planned[e.partition.partition] = e.new_offset;
      auto current = before.find(e.partition);
      EXPECT_EQ(e.current_offset, current == before.end() ? -1 : current->second);
    }
    EXPECT_EQ(planned, c.expected);
    EXPECT_EQ(committed(), before) << "a dry run writes nothing";
    Status applied = admin_->apply_offset_reset(*plan);
    ASSERT_TRUE(applied.is_ok()) << applied.to_string();
    auto after = committed();
    for (const auto& [p, offset] : c.expected) {
      TopicPartition tp{"t", p};
      EXPECT_EQ(after[tp], offset) << tp.to_string();
    }
  }
}

TEST_F(GroupTest, ResetOfAnActiveGroupIsRefusedBeforeAnythingIsWritten) {
  produce(3);
  commit_manually(all_six(1));
  Result<OffsetResetPlan> plan =
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kToLatest});
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  // Members that read but do not commit, so any change would be the reset's.
  auto a = member("a", {"sticky"}, false), b = member("b", {"sticky"}, false);
  ASSERT_TRUE(poll_until({a.get(), b.get()}, [&] {
    return a->assignment().size() == 3 && b->assignment().size() == 3;
  }));
  Result<OffsetResetPlan> refused =
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kToLatest});
  EXPECT_EQ(refused.code(), ErrorCode::kGroupNotEmpty);
  EXPECT_EQ(refused.status().message(),
            "group g has 2 active members (state Stable): stop its consumers, then reset");
  Status applied = admin_->apply_offset_reset(*plan);
  EXPECT_EQ(applied.code(), ErrorCode::kGroupNotEmpty) << applied.to_string();
  EXPECT_EQ(applied.message(), refused.status().message());
  EXPECT_EQ(committed(), all_six(1)) << "nothing written";
  ASSERT_TRUE(a->close().is_ok());
  ASSERT_TRUE(b->close().is_ok());
  // Stopped consumers: now the same plan applies.
  ASSERT_TRUE(admin_->apply_offset_reset(*plan).is_ok());
  EXPECT_EQ(committed(), all_six(3));
}

TEST_F(GroupTest, BroadcastDeliversEverythingToEveryMember) {
  produce(10);
  auto a = member("a", {"broadcast"}), b = member("b", {"broadcast"}),
       c = member("c", {"broadcast"});
  std::vector<Consumer*> all = {a.get(), b.get(), c.get()};
  auto distinct = [&](Consumer* consumer) {
    std::set<std::string> values;
    for (const ConsumerRecord& r : records_[consumer]) values.insert(*r.value);
    return values.size();
  };
  ASSERT_TRUE(poll_until(all, [&] {
    return std::ranges::all_of(all, [&](Consumer* consumer) {
      return consumer->assignment().size() == 6 && distinct(consumer) == 60;
    });
  }));
  EXPECT_EQ(a->group_metadata().assignor, "broadcast");
  // Each member's offsets are its own: a restarted "a" resumes where a stopped.
  ASSERT_TRUE(a->close().is_ok());
  produce(1, 10);
  auto a_again = member("a", {"broadcast"});
  std::vector<Consumer*> now = {a_again.get(), b.get(), c.get()};
  ASSERT_TRUE(poll_until(now, [&] {
    return records_[a_again.get()].size() >= 6 && distinct(b.get()) == 66 &&
           distinct(c.get()) == 66;
  }));
  for (const ConsumerRecord& r : records_[a_again.get()]) EXPECT_EQ(r.offset, 10);
}

}  // namespace
}  // namespace mq::client

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--member") {
    return mq::client::run_member(argv[2], argv[3]);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
