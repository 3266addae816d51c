#include "tests/faults/nodes.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/power_loss.h"

extern char** environ;

namespace mq::faults {
namespace {

std::string read_from(const std::string& path, std::streamoff from) {
  std::ifstream in(path);
  in.seekg(from);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::streamoff size_of(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
}

// The running nodes' pids by id, for kill_all_nodes() in a signal handler.
std::array<std::atomic<pid_t>, 10> running_pids{};

}  // namespace

void kill_all_nodes() {
  for (auto& pid : running_pids) {
    pid_t p = pid.load();
    if (p > 0) ::kill(p, SIGKILL);
  }
}

Nodes::Nodes(const Network& network, NodesOptions options)
    : network_(network), options_(std::move(options)) {}

Nodes::~Nodes() {
  std::lock_guard lock(mu_);
  for (auto& [id, pid] : pids_) {
    ::kill(pid, SIGCONT);
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pids_.clear();
  for (auto& pid : running_pids) pid.store(0);
  for (const std::string& mount : mounts_) ::umount2(mount.c_str(), MNT_DETACH);
}

std::string Nodes::data_dir(int id) const {
  return options_.run_dir + "/node" + std::to_string(id) + "-data";
}
std::string Nodes::log_path(int id) const {
  return options_.run_dir + "/node" + std::to_string(id) + ".log";
}
std::string Nodes::config_path(int id) const {
  return options_.run_dir + "/node" + std::to_string(id) + ".toml";
}
std::string Nodes::clock_path(int id) const {
  return options_.run_dir + "/node" + std::to_string(id) + ".faketime";
}

std::string find_faketime_library() {
  for (const char* path : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
                           "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
                           "/usr/lib/faketime/libfaketimeMT.so.1"}) {
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

Status Nodes::set_clock_offset(int id, int64_t seconds) {
  if (options_.faketime_library.empty()) {
    return Status(ErrorCode::kInvalidRequest, "the nodes run without libfaketime");
  }
  // libfaketime reads the file again at most a second after a change
  // (FAKETIME_CACHE_DURATION); a rename, so it never reads half a line.
  const std::string path = clock_path(id);
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << (seconds >= 0 ? "+" : "") << seconds << "\n";
    if (!out) return Status(ErrorCode::kStorageError, "cannot write " + path + ".tmp");
  }
  std::error_code ec;
  std::filesystem::rename(path + ".tmp", path, ec);
  if (ec) return Status(ErrorCode::kStorageError, "renaming to " + path + ": " + ec.message());
  return Status::ok();
}

std::string Nodes::bootstrap() const {
  std::string out;
  for (int id = 1; id <= options_.nodes; ++id) {
    out += (out.empty() ? "" : ",") + node_ip(id) + ":9092";
  }
  return out;
}

Status Nodes::prepare() {
  std::string voters;
  for (int id = 1; id <= options_.nodes; ++id) {
    voters += (voters.empty() ? "" : ",") + std::to_string(id) + "@" + node_ip(id) + ":9093";
  }
  for (int id = 1; id <= options_.nodes; ++id) {
    const std::string dir = data_dir(id);
    std::filesystem::create_directories(dir);
    const std::string size = "size=" + std::to_string(options_.data_bytes);
    if (::mount("mq-faults-data", dir.c_str(), "tmpfs", 0, size.c_str()) != 0) {
      return Status(ErrorCode::kStorageError,
                    "mounting a tmpfs on " + dir + ": " + std::strerror(errno));
    }
    mounts_.push_back(dir);
    std::ofstream out(config_path(id), std::ios::trunc);
    out << "node_id = " << id << "\n"
        << "data_dir = \"" << dir << "/data\"\n"
        << "[listeners]\nclient = \"tcp://" << node_ip(id) << ":9092\"\n"
        << "[http]\naddress = \"" << node_ip(id) << ":9644\"\n"
        << "[cluster]\nvoters = \"" << voters << "\"\n"
        << "broker_heartbeat_interval_ms = 200\n"
        << "broker_session_timeout_ms = 3000\n"
        << "[quorum]\ntick_ms = 50\nelection_timeout_ms = 1000\n"
        << "[replication]\nlag_time_max_ms = 5000\n"
        // Small segments: a run's few megabytes roll through several, so
        // faults meet sealed (trusted) segments and their indexes too.
        << "[log]\nsegment_bytes = 262144\n"
        // A scrub pass every 5 s: damage nobody reads is found within a run.
        << "scrub_interval_ms = 5000\nscrub_bytes_per_second = 67108864\n"
        << "[topics]\ndefault_replication_factor = " << std::min(options_.nodes, 3) << "\n"
        << "min_insync_replicas = " << (options_.nodes >= 3 ? 2 : 1) << "\n"
        << options_.extra_toml << "\n";
    if (!out) return Status(ErrorCode::kStorageError, "cannot write " + config_path(id));
    if (!options_.faketime_library.empty()) MQ_RETURN_IF_ERROR(set_clock_offset(id, 0));
  }
  return Status::ok();
}

void Nodes::reap_locked() {
  for (auto it = pids_.begin(); it != pids_.end();) {
    int status = 0;
    if (::waitpid(it->second, &status, WNOHANG) == it->second) {
      running_pids[it->first].store(0);
      if (!stopped_on_purpose_.contains(it->first)) exited_[it->first] = status;
      it = pids_.erase(it);
    } else {
      ++it;
    }
  }
}

bool Nodes::running(int id) {
  return pid(id) > 0;
}

pid_t Nodes::pid(int id) {
  std::lock_guard lock(mu_);
  reap_locked();
  auto it = pids_.find(id);
  return it == pids_.end() ? -1 : it->second;
}

Status Nodes::start(int id) {
  const std::string log = log_path(id);
  const std::streamoff from = size_of(log);
  pid_t child = -1;
  {
    std::lock_guard lock(mu_);
    reap_locked();
    if (pids_.contains(id)) {
      return Status(ErrorCode::kInvalidRequest, "node " + std::to_string(id) + " runs already");
    }
    std::vector<std::string> args = network_.exec_prefix(id);
    args.insert(args.end(), {options_.mqd, "--config", config_path(id)});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The store journals every fsync (store/power_loss.h), so a power loss
    // can be simulated on any node at any time.
    std::vector<std::string> extra = {std::string(kPowerLossJournalEnv) + "=1"};
    if (!options_.faketime_library.empty()) {
      // Only the wall clock moves: timers and timeouts that use
      // CLOCK_MONOTONIC must not notice a jump. No shared memory (a
      // SIGKILLed node could not remove it). ASan wants its runtime first in
      // the library list; libfaketime only wraps time calls, so let it be.
      const char* asan = std::getenv("ASAN_OPTIONS");
      extra.insert(
          extra.end(),
          {"LD_PRELOAD=" + options_.faketime_library, "FAKETIME_TIMESTAMP_FILE=" + clock_path(id),
           "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1", "FAKETIME_DISABLE_SHM=1",
           "ASAN_OPTIONS=" + std::string(asan ? asan : "") + (asan && *asan ? ":" : "") +
               "verify_asan_link_order=0"});
    }
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      bool replaced = std::ranges::any_of(extra, [&](const std::string& x) {
        return entry.substr(0, entry.find('=') + 1) == x.substr(0, x.find('=') + 1);
      });
      if (!replaced) env.push_back(*e);
    }
    for (std::string& x : extra) env.push_back(x.data());
    env.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    int rc = ::posix_spawnp(&child, argv[0], &actions, nullptr, argv.data(), env.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      return Status(ErrorCode::kUnknown,
                    "starting node " + std::to_string(id) + ": " + std::strerror(rc));
    }
    pids_[id] = child;
    running_pids[id].store(child);
    stopped_on_purpose_.erase(id);
    exited_.erase(id);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = read_from(log, from);
    if (text.find("serving clients on ") != std::string::npos) return Status::ok();
    if (!running(id)) {
      return Status(ErrorCode::kUnknown,
                    "node " + std::to_string(id) + " exited while starting:\n" + text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status(
      ErrorCode::kRequestTimedOut,
      "node " + std::to_string(id) + " did not serve within 30 s:\n" + read_from(log, from));
}

Status Nodes::start_all() {
  for (int id = 1; id <= options_.nodes; ++id) {
    if (!running(id)) MQ_RETURN_IF_ERROR(start(id));
  }
  return Status::ok();
}

Status Nodes::signal(int id, int sig) {
  pid_t target = pid(id);
  if (target <= 0) {
    return Status(ErrorCode::kInvalidRequest, "node " + std::to_string(id) + " is not running");
  }
  if (sig == SIGKILL || sig == SIGTERM) ::kill(target, SIGCONT);  // a paused node too
  if (::kill(target, sig) != 0) {
    return Status(ErrorCode::kUnknown,
                  "kill " + std::to_string(target) + ": " + std::strerror(errno));
  }
  if (sig != SIGKILL && sig != SIGTERM) return Status::ok();
  {
    std::lock_guard lock(mu_);
    stopped_on_purpose_.insert(id);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (running(id)) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(target, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return Status::ok();
}

std::map<int, int> Nodes::exited_by_themselves() {
  std::lock_guard lock(mu_);
  reap_locked();
  return exited_;
}

std::string Nodes::tails(size_t bytes) const {
  std::string out;
  for (int id = 1; id <= options_.nodes; ++id) {
    std::streamoff size = size_of(log_path(id));
    out += "---- node " + std::to_string(id) + " (" + log_path(id) + ")\n" +
           read_from(log_path(id),
                     std::max<std::streamoff>(0, size - static_cast<std::streamoff>(bytes))) +
           "\n";
  }
  return out;
}

}  // namespace mq::faults
