// mq-faults: one fault run (docs/faults.md). As root, in a sandbox of
// network namespaces it makes itself: starts a cluster, runs the workload,
// injects faults on a seeded schedule, heals, reads every partition back and
// checks the history. Or, with --check, checks a history file.
//
// Exit status: 0 no anomaly, 1 anomalies (or the nemesis could not heal),
// 2 bad arguments or a harness failure, 77 this machine cannot run it (not
// root): the status ctest takes as "skipped".
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "client/admin.h"
#include "tests/faults/checker.h"
#include "tests/faults/history.h"
#include "tests/faults/nemesis.h"
#include "tests/faults/nodes.h"
#include "tests/faults/replicas.h"
#include "tests/faults/sandbox.h"
#include "tests/faults/workload.h"

namespace mq::faults {
namespace {

constexpr int kExitAnomalies = 1;
constexpr int kExitUsage = 2;
constexpr int kExitSkip = 77;

struct Options {
  uint64_t seed = 1;
  int64_t duration_ms = 60'000;
  std::vector<FaultKind> faults;
  int nodes = 3;
  int rate = 200;  // sends per second per producer
  std::string out;
  std::string mqd;
  std::string check;  // a history to check instead of a run
};

void usage() {
  std::fprintf(
      stderr,
      "usage: mq-faults [--seed N] [--duration 60s] [--faults kill,pause,...|all]\n"
      "                 [--nodes 3] [--rate 200] [--out DIR] [--mqd PATH]\n"
      "       mq-faults --check HISTORY\n"
      "  faults: kill, pause, partition, flaky, power-loss, disk-full, clock, corrupt (or all)\n"
      "  Needs root: it makes network namespaces of its own (docs/faults.md).\n"
      "  Exit: 0 no anomaly, 1 anomalies, 2 bad arguments or harness failure,\n"
      "  77 cannot run here (not root).\n");
}

Result<int64_t> parse_duration(const std::string& text) {
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text.substr(used);
  int64_t scale = 0;
  if (unit == "ms") scale = 1;
  if (unit == "s" || unit.empty()) scale = 1000;
  if (unit == "m") scale = 60'000;
  if (unit == "h") scale = 3'600'000;
  if (used == 0 || scale == 0 || value <= 0) {
    return Status(ErrorCode::kInvalidConfig,
                  "--duration \"" + text + "\": a positive number with ms, s, m or h");
  }
  return value * scale;
}

Result<int> parse_int(const std::string& flag, const std::string& text, int low, int high) {
  try {
    size_t used = 0;
    long long value = std::stoll(text, &used);
    if (used == text.size() && value >= low && value <= high) return static_cast<int>(value);
  } catch (const std::exception&) {
  }
  return Status(ErrorCode::kInvalidConfig, flag + " \"" + text + "\": a whole number from " +
                                               std::to_string(low) + " to " + std::to_string(high));
}

Result<Options> parse(int argc, char** argv) {
  Options options;
  MQ_ASSIGN_OR_RETURN(options.faults, parse_faults("kill,pause,partition"));
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") return Status(ErrorCode::kInvalidConfig, "");
    if (i + 1 >= argc) return Status(ErrorCode::kInvalidConfig, flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--seed") {
      try {
        size_t used = 0;
        options.seed = std::stoull(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } catch (const std::exception&) {
        return Status(ErrorCode::kInvalidConfig, "--seed \"" + value + "\": a whole number");
      }
    } else if (flag == "--duration") {
      MQ_ASSIGN_OR_RETURN(options.duration_ms, parse_duration(value));
    } else if (flag == "--faults") {
      MQ_ASSIGN_OR_RETURN(options.faults, parse_faults(value));
    } else if (flag == "--nodes") {
      MQ_ASSIGN_OR_RETURN(options.nodes, parse_int(flag, value, 3, 9));
    } else if (flag == "--rate") {
      MQ_ASSIGN_OR_RETURN(options.rate, parse_int(flag, value, 1, 100'000));
    } else if (flag == "--out") {
      options.out = value;
    } else if (flag == "--mqd") {
      options.mqd = value;
    } else if (flag == "--check") {
      options.check = value;
    } else {
      return Status(ErrorCode::kInvalidConfig, "unknown option " + flag);
    }
  }
  return options;
}

int check_file(const std::string& path) {
  Result<std::vector<Op>> history = History::read(path);
  if (!history.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s\n", history.status().message().c_str());
    return kExitUsage;
  }
  Result<Verdict> verdict = check(*history);
  if (!verdict.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s: %s\n", path.c_str(), verdict.status().message().c_str());
    return kExitUsage;
  }
  std::cout << verdict->report(*history);
  return verdict->valid() ? 0 : kExitAnomalies;
}

// Every partition of `topic` led, with every replica back in its ISR (or
// `timeout_ms` passed: the final read copes with a shrunk ISR).
void wait_for_full_isr(const std::string& bootstrap, const std::string& topic, int timeout_ms) {
  client::AdminConfig config;
  config.bootstrap_servers = bootstrap;
  config.request_timeout_ms = 2'000;
  config.default_api_timeout_ms = 5'000;
  Result<std::unique_ptr<client::Admin>> admin = client::Admin::create(config);
  if (!admin.is_ok()) return;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    Result<client::ClusterMetadata> metadata = (*admin)->describe_cluster({{topic}});
    if (metadata.is_ok() && metadata->topic(topic) != nullptr) {
      bool full = true;
      for (const client::PartitionInfo& p : metadata->topic(topic)->partitions) {
        full = full && p.leader_id >= 0 && p.isr.size() == p.replicas.size();
      }
      if (full) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// Stops the cluster and reads, from each node's disk, its replica of each
// partition whose ISR (as the cluster said before it stopped) names it.
Status read_in_sync_replicas(Nodes& nodes, History& history, const std::string& topic) {
  client::AdminConfig config;
  config.bootstrap_servers = nodes.bootstrap();
  config.request_timeout_ms = 2'000;
  config.default_api_timeout_ms = 10'000;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<client::Admin> admin, client::Admin::create(config));
  MQ_ASSIGN_OR_RETURN(client::ClusterMetadata metadata, admin->describe_cluster({{topic}}));
  const client::TopicInfo* info = metadata.topic(topic);
  if (info == nullptr) return Status(ErrorCode::kNotFound, "no topic " + topic);
  for (int n = 1; n <= nodes.count(); ++n) {
    // A node that is down (the nemesis said why) has nothing to stop.
    if (nodes.running(n)) MQ_RETURN_IF_ERROR(nodes.signal(n, SIGTERM));
  }
  for (const client::PartitionInfo& p : info->partitions) {
    for (int32_t node : p.isr) {
      const std::string dir =
          nodes.data_dir(node) + "/data/" + topic + "-" + std::to_string(p.partition);
      // A replica that cannot be read (a batch failing its CRC: damage mq
      // did not notice, though the node stayed in the ISR) is a failed read
      // the checker reports, not an error of the harness.
      Result<std::vector<Read>> reads = read_replica(dir, p.partition);
      history.add({.process = "node-" + std::to_string(node),
                   .type = reads.is_ok() ? OpType::kOk : OpType::kFail,
                   .fn = OpFn::kReplicaRead,
                   .partition = p.partition,
                   .reads = reads.is_ok() ? std::move(reads).value() : std::vector<Read>{},
                   .error = reads.is_ok() ? "" : reads.status().to_string()});
    }
  }
  return Status::ok();
}

int run(const Options& options) {
  const std::string out = options.out;
  std::filesystem::create_directories(out);
  std::printf("mq-faults: seed %llu, %lld ms, faults",
              static_cast<unsigned long long>(options.seed),
              static_cast<long long>(options.duration_ms));
  for (FaultKind kind : options.faults) std::printf(" %s", std::string(fault_name(kind)).c_str());
  std::printf(", %d nodes, output in %s\n", options.nodes, out.c_str());
  std::fflush(stdout);

  Result<Network> network = Network::create(options.nodes);
  if (!network.is_ok()) {
    std::fprintf(stderr, "mq-faults: the sandbox network: %s\n",
                 network.status().message().c_str());
    return kExitUsage;
  }
  std::string faketime;
  if (std::ranges::find(options.faults, FaultKind::kClock) != options.faults.end()) {
    faketime = find_faketime_library();
    if (faketime.empty()) {
      std::fprintf(stderr,
                   "mq-faults: the clock fault needs libfaketime (Debian package libfaketime; "
                   "make deps installs it)\n");
      return kExitUsage;
    }
  }
  Nodes nodes(
      *network,
      {.mqd = options.mqd, .run_dir = out, .nodes = options.nodes, .faketime_library = faketime});
  History history;
  if (Status ready = nodes.prepare(); !ready.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s\n", ready.message().c_str());
    return kExitUsage;
  }
  if (Status started = nodes.start_all(); !started.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s\n", started.message().c_str());
    return kExitUsage;
  }
  Workload workload(
      {.bootstrap = nodes.bootstrap(), .sends_per_second = options.rate, .seed = options.seed},
      history);
  if (Status created = workload.create_topic(); !created.is_ok()) {
    std::fprintf(stderr, "mq-faults: creating the topic: %s\n%s", created.to_string().c_str(),
                 nodes.tails().c_str());
    return kExitUsage;
  }
  workload.start();
  Nemesis nemesis(*network, nodes, history, {.kinds = options.faults, .seed = options.seed});
  nemesis.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(options.duration_ms));
  nemesis.stop();
  Status healed = nemesis.heal_all();
  // The workload goes on a while on the healed cluster: what the faults
  // left behind (a node catching up, a group rebalancing) settles under load.
  wait_for_full_isr(nodes.bootstrap(), "faults", 60'000);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  workload.stop();
  Status read = workload.final_read(120'000);
  if (!read.is_ok()) {
    (void)history.write(out + "/history.jsonl");
    std::fprintf(stderr, "mq-faults: %s\n%s", read.to_string().c_str(), nodes.tails().c_str());
    return kExitUsage;
  }
  if (Status compared = read_in_sync_replicas(nodes, history, "faults"); !compared.is_ok()) {
    (void)history.write(out + "/history.jsonl");
    std::fprintf(stderr, "mq-faults: reading the replicas: %s\n", compared.to_string().c_str());
    return kExitUsage;
  }
  (void)history.write(out + "/history.jsonl");
  std::vector<Op> ops = history.ops();
  Result<Verdict> verdict = check(ops);
  if (!verdict.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s\n", verdict.status().to_string().c_str());
    return kExitUsage;
  }
  std::string report = verdict->report(ops);
  for (const std::string& e : nemesis.errors()) report += "nemesis error: " + e + "\n";
  if (!healed.is_ok()) report += "healing after the faults: " + healed.to_string() + "\n";
  std::ofstream(out + "/report.txt") << report;
  std::cout << report;
  const bool clean = verdict->valid() && healed.is_ok() && nemesis.errors().empty();
  std::printf("mq-faults: seed %llu: %s\n", static_cast<unsigned long long>(options.seed),
              clean ? "no anomaly" : "ANOMALIES (see above)");
  return clean ? 0 : kExitAnomalies;
}

}  // namespace
}  // namespace mq::faults

int main(int argc, char** argv) {
  using namespace mq::faults;
  using mq::Result;
  using mq::Status;
  Result<Options> options = parse(argc, argv);
  if (!options.is_ok()) {
    if (!options.status().message().empty()) {
      std::fprintf(stderr, "mq-faults: %s\n", options.status().message().c_str());
    }
    usage();
    return kExitUsage;
  }
  if (!options->check.empty()) return check_file(options->check);
  if (::geteuid() != 0) {
    std::fprintf(stderr, "mq-faults: needs root (network namespaces of its own): skipped\n");
    return kExitSkip;
  }
  if (options->mqd.empty()) {
    options->mqd = (std::filesystem::canonical("/proc/self/exe").parent_path() / "mqd").string();
  }
  if (options->out.empty()) {
    options->out =
        (std::filesystem::temp_directory_path() /
         ("mq-faults-" + std::to_string(options->seed) + "-" + std::to_string(::getpid())))
            .string();
  }
  options->out = std::filesystem::absolute(options->out).string();
  std::vector<std::string> args(argv + 1, argv + argc);
  args.insert(args.end(), {"--out", options->out, "--mqd", options->mqd});
  if (Status sandboxed = enter_sandbox(args); !sandboxed.is_ok()) {
    std::fprintf(stderr, "mq-faults: %s\n", sandboxed.message().c_str());
    return kExitUsage;
  }
  ::signal(SIGPIPE, SIG_IGN);
  // Stopped from outside (Ctrl-C, a test timeout): the nodes go with it.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    ::signal(sig, [](int received) {
      kill_all_nodes();
      ::_exit(128 + received);
    });
  }
  spdlog::set_level(spdlog::level::warn);  // the store's notes while reading replicas
  return run(*options);
}
