// Rebalance time of a consumer group against a running mqd: how long from a
// membership change until every partition is owned again, exactly once.
// Members are child processes (this binary with --member), so a member can
// really die (SIGKILL). Each member prints "assigned p,p,..." and "revoked"
// lines as its callbacks run; the parent follows ownership from them.
//
//   rebalance-bench --brokers 127.0.0.1:9092 [--partitions 12] [--members 3]
//                   [--rounds 5] [--session-ms 3000] [--heartbeat-ms 1000]
//
// Phases, each measured --rounds times: a member joins a stable group; a
// member leaves cleanly (SIGTERM: close() sends LeaveGroup); a member dies
// (SIGKILL: noticed after the session timeout).
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/admin.h"
#include "client/consumer.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};

// ---------------------------------------------------------------- member

int run_member(const std::string& brokers, const std::string& topic, const std::string& group,
               int session_ms, int heartbeat_ms, int id) {
  ::signal(SIGTERM, [](int) { g_stop = true; });
  mq::client::ConsumerConfig config;
  config.bootstrap_servers = brokers;
  config.client_id = "bench-member-" + std::to_string(id);
  config.group_id = group;
  config.session_timeout_ms = session_ms;
  config.heartbeat_interval_ms = heartbeat_ms;
  auto consumer = mq::client::Consumer::create(config);
  if (!consumer.is_ok()) {
    std::fprintf(stderr, "member %d: %s\n", id, consumer.status().to_string().c_str());
    return 1;
  }
  mq::client::RebalanceCallbacks callbacks;
  callbacks.on_revoked = [](const auto&) {
    std::printf("revoked\n");
    std::fflush(stdout);
  };
  callbacks.on_assigned = [](const std::vector<mq::client::TopicPartition>& partitions) {
    std::string line = "assigned ";
    for (const auto& tp : partitions) line += std::to_string(tp.partition) + ",";
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  mq::Status subscribed = (*consumer)->subscribe({topic}, callbacks);
  if (!subscribed.is_ok()) {
    std::fprintf(stderr, "member %d: %s\n", id, subscribed.to_string().c_str());
    return 1;
  }
  while (!g_stop) (void)(*consumer)->poll(50);
  (void)(*consumer)->close();
  return 0;
}

// ---------------------------------------------------------------- parent

struct Member {
  pid_t pid = -1;
  int out = -1;  // its stdout
  std::string buffer;
  std::set<int32_t> owned;
  bool alive = true;
};

class Group {
 public:
  Group(std::vector<std::string> member_args, int32_t partitions)
      : args_(std::move(member_args)), partitions_(partitions) {}
  ~Group() {
    for (auto& m : members_) {
      if (m.pid > 0 && m.alive) ::kill(m.pid, SIGKILL);
      if (m.pid > 0) ::waitpid(m.pid, nullptr, 0);
      if (m.out >= 0) ::close(m.out);
    }
  }

  void spawn() {
    int fds[2];
    if (::pipe(fds) != 0) std::abort();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> args = args_;
    args.push_back("--id");
    args.push_back(std::to_string(members_.size()));
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Member m;
    if (posix_spawn(&m.pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ) != 0) {
      std::abort();
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    m.out = fds[0];
    members_.push_back(std::move(m));
  }

  // Stops the newest live member with `sig`.
  void stop_one(int sig) {
    for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
      if (!it->alive) continue;
      ::kill(it->pid, sig);
      it->alive = false;  // its partitions no longer count as owned
      it->owned.clear();
      return;
    }
  }

  // Waits until the live members own every partition exactly once, each
  // live member having reported an assignment since `since_events`; returns
  // the seconds it took from `start`, or -1 after `timeout`.
  double wait_covered(Clock::time_point start, std::chrono::seconds timeout) {
    while (Clock::now() - start < timeout) {
      read_events(20);
      if (covered()) return std::chrono::duration<double>(Clock::now() - start).count();
    }
    return -1;
  }

  int live() const {
    return static_cast<int>(
        std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.alive; }));
  }

 private:
  bool covered() const {
    std::multiset<int32_t> owned;
    int live_members = 0;
    int with_partitions = 0;
    for (const auto& m : members_) {
      if (!m.alive) continue;
      live_members++;
      with_partitions += m.owned.empty() ? 0 : 1;
      owned.insert(m.owned.begin(), m.owned.end());
    }
    if (static_cast<int32_t>(owned.size()) != partitions_) return false;
    for (int32_t p = 0; p < partitions_; p++) {
      if (owned.count(p) != 1) return false;
    }
    // Balanced: every live member got something (when there is enough).
    return with_partitions == std::min(live_members, partitions_);
  }

  void read_events(int timeout_ms) {
    std::vector<pollfd> fds;
    for (const auto& m : members_) fds.push_back({m.out, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (size_t i = 0; i < members_.size(); i++) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = ::read(members_[i].out, buf, sizeof(buf));
      if (n <= 0) continue;
      Member& m = members_[i];
      m.buffer.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = m.buffer.find('\n')) != std::string::npos) {
        std::string line = m.buffer.substr(0, nl);
        m.buffer.erase(0, nl + 1);
        if (!m.alive) continue;
        if (line == "revoked") {
          m.owned.clear();
        } else if (line.rfind("assigned ", 0) == 0) {
          m.owned.clear();
          std::stringstream list(line.substr(9));
          std::string p;
          while (std::getline(list, p, ',')) {
            if (!p.empty()) m.owned.insert(std::stoi(p));
          }
        }
      }
    }
  }

  std::vector<std::string> args_;
  int32_t partitions_;
  std::vector<Member> members_;
};

void report(const char* phase, const std::vector<double>& seconds) {
  std::vector<double> ok;
  for (double s : seconds) {
    if (s >= 0) ok.push_back(s);
  }
  std::sort(ok.begin(), ok.end());
  std::printf("RESULT phase=%s rounds=%zu failed=%zu", phase, seconds.size(),
              seconds.size() - ok.size());
  if (!ok.empty()) {
    std::printf(" min_ms=%.0f median_ms=%.0f max_ms=%.0f", ok.front() * 1000,
                ok[ok.size() / 2] * 1000, ok.back() * 1000);
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rebalance-bench: consumer group rebalance time against a running mqd"};
  std::string brokers = "127.0.0.1:9092", topic = "rebalance-bench", group = "rebalance-bench";
  int partitions = 12, members = 3, rounds = 5, session_ms = 3000, heartbeat_ms = 1000, id = -1;
  bool member = false;
  app.add_option("--brokers", brokers, "bootstrap servers");
  app.add_option("--topic", topic);
  app.add_option("--group", group);
  app.add_option("--partitions", partitions)->check(CLI::Range(1, 10000));
  app.add_option("--members", members, "members of the stable group")->check(CLI::Range(1, 100));
  app.add_option("--rounds", rounds)->check(CLI::Range(1, 1000));
  app.add_option("--session-ms", session_ms, "consumers' session timeout");
  app.add_option("--heartbeat-ms", heartbeat_ms, "consumers' heartbeat interval");
  app.add_flag("--member", member, "run as one member (internal)");
  app.add_option("--id", id, "member number (internal)");
  CLI11_PARSE(app, argc, argv);
  if (member) return run_member(brokers, topic, group, session_ms, heartbeat_ms, id);

  mq::client::AdminConfig admin_config;
  admin_config.bootstrap_servers = brokers;
  auto admin = mq::client::Admin::create(admin_config);
  if (!admin.is_ok()) {
    std::fprintf(stderr, "%s\n", admin.status().to_string().c_str());
    return 1;
  }
  auto created = (*admin)->create_topics({{.name = topic, .num_partitions = partitions}});
  if (!created.is_ok() || (!created->at(0).status.is_ok() &&
                           created->at(0).status.code() != mq::ErrorCode::kTopicAlreadyExists)) {
    std::fprintf(stderr, "cannot create %s\n", topic.c_str());
    return 1;
  }
  std::vector<std::string> args = {argv[0],          "--member",
                                   "--brokers",      brokers,
                                   "--topic",        topic,
                                   "--group",        group,
                                   "--session-ms",   std::to_string(session_ms),
                                   "--heartbeat-ms", std::to_string(heartbeat_ms)};
  Group g(args, partitions);
  auto timeout = std::chrono::seconds(60);
  auto start = Clock::now();
  for (int i = 0; i < members; i++) g.spawn();
  report("start", {g.wait_covered(start, timeout)});

  std::vector<double> joins, leaves, deaths;
  for (int r = 0; r < rounds; r++) {
    start = Clock::now();
    g.spawn();
    joins.push_back(g.wait_covered(start, timeout));
    start = Clock::now();
    g.stop_one(SIGTERM);
    leaves.push_back(g.wait_covered(start, timeout));
    g.spawn();
    g.wait_covered(Clock::now(), timeout);
    start = Clock::now();
    g.stop_one(SIGKILL);
    deaths.push_back(g.wait_covered(start, timeout));
  }
  report("member_joins", joins);
  report("member_leaves", leaves);
  report("member_dies", deaths);
  std::printf("(session timeout %d ms, heartbeat %d ms, %d partitions, %d members)\n", session_ms,
              heartbeat_ms, partitions, members);
  return 0;
}
