// The example clusters, examples/configs/cluster/node{1,2,3}.toml and
// examples/configs/secure (below), run the way their READMEs say: three real mqd processes started
// in one directory, data under ./data/nodeN. Only the ports are changed (free ones instead of
// 9N92/9N93/9N44, so a broker already running on this machine never
// collides); every other byte of each file is what runs. The three become
// ready (/readyz 200), mqctl creates a topic through node 1 without a
// replication factor (the examples' default of 3 applies), produces 1000
// lines with --acks all through node 2, consumes them back with -e through
// node 3, and `cluster brokers` lists the three at their client ports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/free_port.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace mq {
namespace {

using json = nlohmann::json;
using mq::testing::TempDir;
using namespace std::chrono_literals;

constexpr int kNodes = 3;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tail(const std::string& text, size_t bytes = 4000) {
  return text.substr(text.size() > bytes ? text.size() - bytes : 0);
}

using mq::testing::free_port;

// Replaces every occurrence of `from`; returns how many there were.
int replace_all(std::string* text, const std::string& from, const std::string& to) {
  int count = 0;
  for (size_t at = text->find(from); at != std::string::npos; at = text->find(from, at)) {
    text->replace(at, from.size(), to);
    at += to.size();
    count++;
  }
  return count;
}

// The lines that are settings (not comments, not blank).
std::vector<std::string> setting_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    out.push_back(line);
  }
  return out;
}

// One mqd started on a config file in a working directory, its stdout and
// stderr in a log file. SIGKILLed if the test ends while it runs.
class Node {
 public:
  ~Node() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  bool start(const std::string& workdir, const std::string& config, const std::string& log) {
    log_ = log;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addchdir_np(&actions, workdir.c_str());
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    std::string binary = MQ_MQD_BINARY;
    std::string flag = "--config";
    std::string path = config;
    char* argv[] = {binary.data(), flag.data(), path.data(), nullptr};
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }

  bool running() {
    if (pid_ <= 0) return false;
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }

  // SIGTERM, then the exit status (as from waitpid), or -1 if it took
  // longer than `limit` (then it is SIGKILLed).
  int stop(std::chrono::milliseconds limit) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

  std::string log() const { return read_file(log_); }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

using mq::testing::Shell;

class ClusterExampleTest : public ::testing::Test {
 protected:
  // The example's folder under examples/configs, and what its ports add to
  // the node number: node N's ports are 9(N+offset)92, 9(N+offset)93 and
  // 9(N+offset)HH, HH its HTTP suffix.
  explicit ClusterExampleTest(std::string folder = "cluster", int port_offset = 0,
                              std::string http_suffix = "44")
      : folder_(std::move(folder)),
        port_offset_(port_offset),
        http_suffix_(std::move(http_suffix)) {}

  std::string example(int node) const {
    return std::string(MQ_SOURCE_DIR) + "/examples/configs/" + folder_ + "/node" +
           std::to_string(node) + ".toml";
  }
  // "127.0.0.1:9N" of node `n`'s ports.
  std::string port_base(int n) const { return "127.0.0.1:9" + std::to_string(n + port_offset_); }

  void SetUp() override {
    for (int n = 1; n <= kNodes; n++) {
      client_[n] = free_port();
      quorum_[n] = free_port();
      http_[n] = free_port();
    }
  }

  void TearDown() override {
    if (!HasFailure()) return;
    for (int n = 1; n <= kNodes; n++) {
      std::cerr << "---- node " << n << " (end of its log)\n" << tail(nodes_[n].log()) << "\n";
    }
  }

  // The example file of `node` with the ports replaced by this test's: the
  // client, quorum and HTTP ports of every node (the voters line names all
  // three quorum ports). Fails the test if a port it expects is missing.
  std::string rewritten(int node) {
    std::string text = read_file(example(node));
    EXPECT_FALSE(text.empty()) << example(node);
    for (int n = 1; n <= kNodes; n++) {
      std::string base = port_base(n);
      int quorum = replace_all(&text, base + "93", "127.0.0.1:" + std::to_string(quorum_[n]));
      EXPECT_GE(quorum, 1) << example(node) << " does not name node " << n << "'s quorum port";
      if (n != node) continue;
      EXPECT_EQ(replace_all(&text, base + "92", "127.0.0.1:" + std::to_string(client_[n])), 1)
          << example(node) << ": client port";
      EXPECT_EQ(replace_all(&text, base + http_suffix_, "127.0.0.1:" + std::to_string(http_[n])), 1)
          << example(node) << ": HTTP port";
    }
    return text;
  }

  Shell sh(const std::string& command) {
    return mq::testing::run_shell("cd " + dir_.path() + " && XDG_CONFIG_HOME=" + dir_.file("xdg") +
                                      " MQCTL=" + MQ_MQCTL_BINARY + " timeout 120 sh -c '" +
                                      command + "'",
                                  dir_.file("mqctl.stderr"));
  }

  Shell ok(const std::string& command) {
    Shell result = sh(command);
    EXPECT_EQ(result.code, 0) << command << "\n" << result.err;
    return result;
  }

  std::string broker(int node) { return "127.0.0.1:" + std::to_string(client_[node]); }

  bool ready(int node) {
    httplib::Client http("127.0.0.1", http_[node]);
    http.set_connection_timeout(1);
    http.set_read_timeout(2);
    auto response = http.Get("/readyz");
    return response && response->status == 200;
  }

  // The example files' setting lines with what differs by node (the id,
  // `node_specific` with N for the node number, the ports) made the same.
  void expect_files_differ_only_in(const std::vector<std::string>& node_specific) {
    std::vector<std::string> normalized[kNodes + 1];
    for (int n = 1; n <= kNodes; n++) {
      std::string id = std::to_string(n);
      for (std::string line : setting_lines(read_file(example(n)))) {
        if (line == "node_id = " + id) line = "node_id = N";
        for (std::string text : node_specific) {
          std::string general = text;
          replace_all(&text, "N", id);
          replace_all(&line, text, general);
        }
        replace_all(&line, port_base(n) + "92", "127.0.0.1:9N92");
        replace_all(&line, port_base(n) + http_suffix_, "127.0.0.1:9NHH");
        normalized[n].push_back(line);
      }
      ASSERT_FALSE(normalized[n].empty()) << example(n);
      EXPECT_NE(std::find(normalized[n].begin(), normalized[n].end(), "node_id = N"),
                normalized[n].end())
          << example(n) << " does not set node_id = " << id;
    }
    EXPECT_EQ(normalized[1], normalized[2]);
    EXPECT_EQ(normalized[1], normalized[3]);
  }

  // Writes each node's file with this test's ports (checking that no
  // endpoint of the example's is left) and starts the three in dir_, then
  // waits until each is ready (/readyz 200).
  void start_ready() {
    std::set<int> ours;
    for (int n = 1; n <= kNodes; n++) ours.insert({client_[n], quorum_[n], http_[n]});
    ASSERT_EQ(ours.size(), 3u * kNodes) << "free_port() gave the same port twice";
    for (int n = 1; n <= kNodes; n++) {
      std::string config = rewritten(n);
      ASSERT_FALSE(HasFailure());
      // Every endpoint a setting names is one of this test's ports: nothing
      // of the example's is left to collide with a running broker.
      std::regex endpoint(R"((\d+\.\d+\.\d+\.\d+):(\d+))");
      for (const std::string& line : setting_lines(config)) {
        for (std::sregex_iterator m(line.begin(), line.end(), endpoint), end; m != end; ++m) {
          EXPECT_EQ((*m)[1].str(), "127.0.0.1") << line;
          EXPECT_TRUE(ours.count(std::stoi((*m)[2].str()))) << "not rewritten: " << line;
        }
      }
      std::string path = dir_.file("node" + std::to_string(n) + ".toml");
      std::ofstream(path) << config;
      ASSERT_TRUE(
          nodes_[n].start(dir_.path(), path, dir_.file("node" + std::to_string(n) + ".log")));
    }
    // Ready = the logs are recovered, the broker serves, and it registered
    // and was unfenced by the controller.
    auto deadline = std::chrono::steady_clock::now() + 90s;
    std::set<int> waiting = {1, 2, 3};
    while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
      for (auto it = waiting.begin(); it != waiting.end();) {
        ASSERT_TRUE(nodes_[*it].running()) << "node " << *it << " exited";
        it = ready(*it) ? waiting.erase(it) : std::next(it);
      }
      std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(waiting.empty()) << waiting.size() << " node(s) never became ready, first "
                                 << *waiting.begin();
  }

  const std::string folder_;
  const int port_offset_;
  const std::string http_suffix_;
  TempDir dir_;
  std::map<int, int> client_, quorum_, http_;
  std::map<int, Node> nodes_;
};

TEST_F(ClusterExampleTest, ExampleFilesDifferOnlyInIdDataDirAndPorts) {
  // What the README promises and a copy-and-edit of a fourth node relies on.
  expect_files_differ_only_in({"\"./data/nodeN\""});
}

TEST_F(ClusterExampleTest, ThreeNodesReplicateAndServeThroughAnyBroker) {
  start_ready();
  ASSERT_FALSE(HasFailure());
  // The data went where the examples say: ./data/nodeN of the directory
  // mqd started in, with the quorum's log in __quorum.
  for (int n = 1; n <= kNodes; n++) {
    EXPECT_TRUE(
        std::filesystem::is_directory(dir_.file("data/node" + std::to_string(n) + "/__quorum")))
        << "node " << n;
  }

  // No -r: the examples' topics.default_replication_factor (3) applies.
  ok("$MQCTL --brokers " + broker(1) + " topic create events -p 3");
  // Node 1 answered once its own image had the topic; the others apply the
  // same committed record moments later.
  json described;
  for (int n = 1; n <= kNodes; n++) {
    Shell shown;
    auto until = std::chrono::steady_clock::now() + 10s;
    do {
      shown = sh("$MQCTL --brokers " + broker(n) + " -o json topic describe events");
    } while (shown.code != 0 && std::chrono::steady_clock::now() < until);
    ASSERT_EQ(shown.code, 0) << "node " << n << " never knew the topic: " << shown.err;
    described = json::parse(shown.out);
  }
  ASSERT_EQ(described.size(), 1u);
  ASSERT_EQ(described[0]["partitions"].size(), 3u);
  std::set<int> leaders;
  for (const json& p : described[0]["partitions"]) {
    std::set<int> replicas(p["replicas"].begin(), p["replicas"].end());
    EXPECT_EQ(replicas, (std::set<int>{1, 2, 3})) << p.dump();
    leaders.insert(p["leader"].get<int>());
  }
  EXPECT_EQ(leaders.size(), 3u) << "three partitions, three leaders: " << described.dump();
  json min_isr = json::parse(
      ok("$MQCTL --brokers " + broker(3) + " -o json config get --topic events min.insync.replicas")
          .out);
  ASSERT_EQ(min_isr.size(), 1u) << min_isr.dump();
  EXPECT_EQ(min_isr[0]["value"], "2") << "the examples' topics.min_insync_replicas";

  Shell produced =
      ok("seq 1 1000 | $MQCTL --brokers " + broker(2) + " produce events --acks all -o json");
  json summary = json::parse(produced.out);
  EXPECT_EQ(summary["count"], 1000) << produced.out;
  EXPECT_EQ(summary["failed"], 0) << produced.out;

  Shell consumed = ok("$MQCTL --brokers " + broker(3) + " consume events --from beginning -e");
  std::multiset<int> values;
  std::istringstream lines(consumed.out);
  std::string line;
  while (std::getline(lines, line)) values.insert(std::stoi(line));
  ASSERT_EQ(values.size(), 1000u) << consumed.err;
  int expected = 1;
  for (int v : values) EXPECT_EQ(v, expected++) << "every line once";

  json brokers = json::parse(ok("$MQCTL --brokers " + broker(1) + " -o json cluster brokers").out);
  ASSERT_EQ(brokers.size(), 3u) << brokers.dump();
  std::map<int, int> registered;  // id -> client port
  int controllers = 0;
  for (const json& b : brokers) {
    registered[b["id"].get<int>()] = b["port"].get<int>();
    controllers += b["controller"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(registered, (std::map<int, int>{{1, client_[1]}, {2, client_[2]}, {3, client_[3]}}));
  EXPECT_EQ(controllers, 1) << brokers.dump();

  // A clean stop of each (SIGTERM, as systemctl stop sends).
  for (int n = kNodes; n >= 1; n--) {
    int status = nodes_[n].stop(60s);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "node " << n << " status " << status;
  }
}

// examples/configs/secure: the same cluster with CURVE, a principals file
// and an HTTP token; setup.sh makes the keys in the directory the brokers
// start in, as its README says.
class SecureExampleTest : public ClusterExampleTest {
 protected:
  SecureExampleTest() : ClusterExampleTest("secure", 3, "43") {}
};

TEST_F(SecureExampleTest, ExampleFilesDifferOnlyInIdDataDirPortsAndOwnKey) {
  expect_files_differ_only_in({"\"./data/secure/nodeN\"", "\"./data/secure/keys/brokerN.secret\""});
}

TEST_F(SecureExampleTest, SetupThenThreeNodesServeOnlyTheKeysTheyList) {
  Shell made = ok("sh " + std::string(MQ_SOURCE_DIR) + "/examples/configs/secure/setup.sh");
  ASSERT_FALSE(HasFailure());
  EXPECT_NE(made.out.find("The cluster's public key"), std::string::npos) << made.out;
  // Never over existing keys.
  EXPECT_EQ(sh("sh " + std::string(MQ_SOURCE_DIR) + "/examples/configs/secure/setup.sh").code, 1);
  std::string principals = read_file(dir_.file("data/secure/keys/principals"));
  for (const char* name : {"broker:1 ", "broker:2 ", "broker:3 ", "admin "}) {
    EXPECT_NE(principals.find(name), std::string::npos) << principals;
  }

  start_ready();
  ASSERT_FALSE(HasFailure());
  for (int n = 1; n <= kNodes; n++) {
    EXPECT_NE(nodes_[n].log().find("authentication on: 4 keys"), std::string::npos) << "node " << n;
  }
  // As admin, through a profile: the README's commands. (No single quotes:
  // sh() quotes with them.)
  const std::string cluster_key = "\"$(grep -v ^# data/secure/keys/cluster.public)\"";
  ok("$MQCTL profile create secure --use -b " + broker(1) + "," + broker(2) + "," + broker(3) +
     " --server-key " + cluster_key + " --secret-key-file data/secure/keys/admin.secret");
  json brokers = json::parse(ok("$MQCTL -o json cluster brokers").out, nullptr, false);
  ASSERT_TRUE(brokers.is_array() && brokers.size() == 3u) << brokers.dump();
  ok("$MQCTL topic create events -p 3");
  Shell produced;
  auto until = std::chrono::steady_clock::now() + 20s;
  do {  // the topic reaches every broker's image moments after node 1's
    produced = sh("seq 1 1000 | $MQCTL produce events --acks all -o json");
  } while (produced.code != 0 && std::chrono::steady_clock::now() < until);
  ASSERT_EQ(produced.code, 0) << produced.err;
  Shell consumed = ok("$MQCTL consume events --from beginning -e");
  EXPECT_EQ(std::count(consumed.out.begin(), consumed.out.end(), '\n'), 1000);
  ok("$MQCTL profile delete secure");

  // With the cluster's key but no listed key pair, or in plain text: refused.
  Shell stranger = sh("$MQCTL --brokers " + broker(2) + " --timeout 3s --server-key " +
                      cluster_key + " topic list");
  EXPECT_EQ(stranger.code, 1);
  EXPECT_NE(stranger.err.find("refused this client's key"), std::string::npos) << stranger.err;
  Shell plain = sh("$MQCTL --brokers " + broker(3) + " --timeout 3s topic list");
  EXPECT_EQ(plain.code, 1);
  EXPECT_NE(plain.err.find("CURVE"), std::string::npos) << plain.err;

  // HTTP: loopback needs no token for the example's Prometheus.
  httplib::Client http("127.0.0.1", http_[1]);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("mq_principals 4"), std::string::npos);
}

}  // namespace
}  // namespace mq
