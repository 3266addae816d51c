#include "tests/faults/nemesis.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "base/exit_status.h"
#include "client/admin.h"
#include "store/power_loss.h"

namespace mq::faults {
namespace {

constexpr std::array<std::string_view, kFaultKinds> kFaultNames = {
    "kill", "pause", "partition", "flaky", "power-loss", "disk-full", "clock", "corrupt"};

// Wall-clock jumps, in seconds: an NTP step after a bad sync, a VM resumed
// from a snapshot, a wrong manual date. Within a day either way: retention
// (7 days) and producer-id expiration (7 days) are rightly wall-clock and
// would expire data and producers on a larger forward jump.
constexpr std::array<int64_t, 8> kClockJumps = {-86'400, -7'200, -600, -30, 30, 600, 7'200, 86'400};

constexpr const char* kBallast = "/ballast";

}  // namespace

std::string_view fault_name(FaultKind kind) {
  return kFaultNames[static_cast<size_t>(kind)];
}

Result<std::vector<FaultKind>> parse_faults(std::string_view list) {
  std::vector<FaultKind> kinds;
  if (list == "all") {
    for (size_t i = 0; i < kFaultKinds; ++i) kinds.push_back(static_cast<FaultKind>(i));
    return kinds;
  }
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string_view name = list.substr(start, comma - start);
    bool found = false;
    for (size_t i = 0; i < kFaultKinds; ++i) {
      if (kFaultNames[i] == name) {
        kinds.push_back(static_cast<FaultKind>(i));
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (std::string_view n : kFaultNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return Status(ErrorCode::kInvalidConfig,
                    "unknown fault \"" + std::string(name) + "\" (known: " + known + ", or all)");
    }
    start = comma + 1;
  }
  return kinds;
}

Nemesis::Nemesis(Network& network, Nodes& nodes, History& history, NemesisOptions options)
    : network_(network),
      nodes_(nodes),
      history_(history),
      options_(std::move(options)),
      rng_(options_.seed) {}

Nemesis::~Nemesis() {
  stop();
}

void Nemesis::start() {
  thread_ = std::thread([this] { loop(); });
}

void Nemesis::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Nemesis::sleep_ms(int ms) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_.load(); });
}

std::vector<std::string> Nemesis::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

void Nemesis::note(OpType type, OpFn fn, const std::string& what) {
  history_.add({.process = "nemesis", .type = type, .fn = fn, .error = what});
}

void Nemesis::error(const std::string& what) {
  note(OpType::kFail, OpFn::kHeal, what);
  std::lock_guard lock(mu_);
  errors_.push_back(what);
}

int Nemesis::target() {
  std::uniform_int_distribution<int> any(1, nodes_.count());
  std::uniform_int_distribution<int> how(0, 2);
  const int choice = how(rng_);
  const int fallback = any(rng_);
  const int partition = std::uniform_int_distribution<int>(0, 3)(rng_);
  if (choice == 0) return fallback;
  // The leader of a partition, or the active controller, as the cluster
  // says now; a random node when it cannot say.
  client::AdminConfig config;
  config.bootstrap_servers = nodes_.bootstrap();
  config.request_timeout_ms = 2'000;
  config.default_api_timeout_ms = 3'000;
  Result<std::unique_ptr<client::Admin>> admin = client::Admin::create(config);
  if (!admin.is_ok()) return fallback;
  Result<client::ClusterMetadata> metadata = (*admin)->describe_cluster({{options_.topic}});
  if (!metadata.is_ok()) return fallback;
  int32_t id = -1;
  if (choice == 1) {
    const client::PartitionInfo* info = metadata->partition(options_.topic, partition);
    if (info != nullptr) id = info->leader_id;
  } else {
    id = metadata->controller_id;
  }
  return id >= 1 && id <= nodes_.count() ? id : fallback;
}

Status Nemesis::inject(FaultKind kind, int node, int duration_ms) {
  const std::string who = "node " + std::to_string(node);
  std::vector<int> others;
  for (int n = 1; n <= nodes_.count(); ++n) {
    if (n != node) others.push_back(n);
  }
  switch (kind) {
    case FaultKind::kKill:
    case FaultKind::kPowerLoss: {
      if (!nodes_.running(node)) return Status::ok();
      MQ_RETURN_IF_ERROR(nodes_.signal(node, SIGKILL));
      std::string what = "SIGKILL " + who;
      if (kind == FaultKind::kPowerLoss) {
        MQ_RETURN_IF_ERROR(simulate_power_loss(nodes_.data_dir(node) + "/data"));
        what = "power loss of " + who + " (every byte it did not fsync is gone)";
      }
      ++injected_;
      note(OpType::kInfo, OpFn::kFault, what);
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(nodes_.start(node));
      note(OpType::kInfo, OpFn::kHeal, who + " restarted");
      return Status::ok();
    }
    case FaultKind::kPause: {
      if (!nodes_.running(node)) return Status::ok();
      MQ_RETURN_IF_ERROR(nodes_.signal(node, SIGSTOP));
      ++injected_;
      note(OpType::kInfo, OpFn::kFault, "SIGSTOP " + who);
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(nodes_.signal(node, SIGCONT));
      note(OpType::kInfo, OpFn::kHeal, "SIGCONT " + who);
      return Status::ok();
    }
    case FaultKind::kPartition: {
      std::string what;
      switch (std::uniform_int_distribution<int>(0, 2)(rng_)) {
        case 0:  // minority | majority
          for (int other : others) MQ_RETURN_IF_ERROR(network_.cut_both(node, other));
          what = who + " cut off from the other nodes";
          break;
        case 1:  // one way: the others do not hear it
          for (int other : others) MQ_RETURN_IF_ERROR(network_.cut(node, other));
          what = "the other nodes do not hear " + who + " (one way)";
          break;
        default: {  // a bridge: only `node` sees both halves
          std::vector<int> left, right;
          for (size_t i = 0; i < others.size(); ++i)
            (i % 2 == 0 ? left : right).push_back(others[i]);
          for (int l : left) {
            for (int r : right) MQ_RETURN_IF_ERROR(network_.cut_both(l, r));
          }
          what = who + " bridges two halves that do not see each other";
        }
      }
      ++injected_;
      note(OpType::kInfo, OpFn::kFault, what);
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(network_.heal());
      note(OpType::kInfo, OpFn::kHeal, "network healed");
      return Status::ok();
    }
    case FaultKind::kFlaky: {
      const double loss = std::uniform_real_distribution<double>(0.1, 0.5)(rng_);
      for (int other : others) MQ_RETURN_IF_ERROR(network_.flaky(node, other, loss));
      MQ_RETURN_IF_ERROR(network_.flaky(node, 0, loss));
      ++injected_;
      note(OpType::kInfo, OpFn::kFault,
           who + "'s links drop " + std::to_string(static_cast<int>(loss * 100)) + "% of packets");
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(network_.heal());
      note(OpType::kInfo, OpFn::kHeal, "network healed");
      return Status::ok();
    }
    case FaultKind::kDiskFull: {
      const std::string ballast = nodes_.data_dir(node) + kBallast;
      int fd = ::open(ballast.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd < 0) return Status(ErrorCode::kStorageError, ballast + ": " + std::strerror(errno));
      static const std::string chunk(1 << 20, 'b');
      while (::write(fd, chunk.data(), chunk.size()) > 0) {
      }
      // The last bytes: a write that fits no more chunk still fits a byte.
      while (::write(fd, chunk.data(), 1) > 0) {
      }
      ::close(fd);
      ++injected_;
      note(OpType::kInfo, OpFn::kFault, who + "'s data disk is full");
      sleep_ms(duration_ms);
      std::filesystem::remove(ballast);
      note(OpType::kInfo, OpFn::kHeal, who + "'s data disk has space again");
      return Status::ok();
    }
    case FaultKind::kCorrupt: {
      if (!nodes_.running(node)) return Status::ok();
      MQ_RETURN_IF_ERROR(nodes_.signal(node, SIGKILL));
      MQ_ASSIGN_OR_RETURN(std::string damaged, damage_a_file(node));
      ++injected_;
      note(OpType::kInfo, OpFn::kFault, "SIGKILL " + who + ", then " + damaged);
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(start_after_damage(node, damaged));
      return Status::ok();
    }
    case FaultKind::kClock: {
      const int64_t jump =
          kClockJumps[std::uniform_int_distribution<size_t>(0, kClockJumps.size() - 1)(rng_)];
      MQ_RETURN_IF_ERROR(nodes_.set_clock_offset(node, jump));
      ++injected_;
      note(OpType::kInfo, OpFn::kFault,
           who + "'s wall clock jumps " + (jump > 0 ? "+" : "") + std::to_string(jump) + " s");
      sleep_ms(duration_ms);
      MQ_RETURN_IF_ERROR(nodes_.set_clock_offset(node, 0));
      note(OpType::kInfo, OpFn::kHeal, who + "'s wall clock is right again");
      return Status::ok();
    }
  }
  return Status::ok();
}

Result<std::string> Nemesis::damage_a_file(int node) {
  // The files a disk can damage, by kind: a partition's segments, its
  // indexes, its checkpoints; the metadata quorum's files.
  const std::string data = nodes_.data_dir(node) + "/data";
  std::array<std::vector<std::string>, 4> files;  // segment, index, checkpoint, quorum
  constexpr std::array<std::string_view, 4> kKindNames = {"segment", "index", "checkpoint",
                                                          "quorum file"};
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(data, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->file_size(ec) == 0) continue;
    const std::string relative = std::filesystem::relative(it->path(), data).string();
    const std::string name = it->path().filename().string();
    // The power-loss journal is the harness's, not mq's.
    if (name == kPowerLossJournalName) continue;
    if (relative.starts_with("__quorum/")) {
      files[3].push_back(relative);
    } else if (relative.find('/') == std::string::npos) {
      continue;  // the node's own files (clean_shutdown, dynamic settings)
    } else if (name.ends_with(".log")) {
      files[0].push_back(relative);
    } else if (name.ends_with(".index") || name.ends_with(".timeindex") ||
               name.ends_with(".keyindex")) {
      files[1].push_back(relative);
    } else if (name.ends_with(".checkpoint") || name == "leader-epoch-checkpoint") {
      files[2].push_back(relative);
    }
  }
  if (ec) return Status(ErrorCode::kStorageError, data + ": " + ec.message());
  std::vector<size_t> kinds;
  for (size_t k = 0; k < files.size(); ++k) {
    if (!files[k].empty()) kinds.push_back(k);
  }
  if (kinds.empty()) return std::string("no file to damage");
  const size_t kind = kinds[std::uniform_int_distribution<size_t>(0, kinds.size() - 1)(rng_)];
  std::vector<std::string>& candidates = files[kind];
  std::ranges::sort(candidates);  // directory order is not the seed's to decide
  const std::string relative =
      candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng_)];
  const std::string path = data + "/" + relative;
  const auto size = static_cast<int64_t>(std::filesystem::file_size(path));
  const int64_t at = std::uniform_int_distribution<int64_t>(0, size - 1)(rng_);
  std::string what = std::string(kKindNames[kind]) + " " + relative + ": ";
  if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
    const int bit = std::uniform_int_distribution<int>(0, 7)(rng_);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return Status(ErrorCode::kStorageError, path + ": " + std::strerror(errno));
    unsigned char byte = 0;
    bool done = ::pread(fd, &byte, 1, at) == 1;
    byte ^= static_cast<unsigned char>(1u << bit);
    done = done && ::pwrite(fd, &byte, 1, at) == 1;
    ::close(fd);
    if (!done) return Status(ErrorCode::kStorageError, path + ": flipping a bit failed");
    what += "bit " + std::to_string(bit) + " of byte " + std::to_string(at) + " of " +
            std::to_string(size) + " flipped";
  } else {
    if (::truncate(path.c_str(), at) != 0) {
      return Status(ErrorCode::kStorageError, path + ": " + std::strerror(errno));
    }
    what += "cut from " + std::to_string(size) + " to " + std::to_string(at) + " bytes";
  }
  return what;
}

Status Nemesis::start_after_damage(int node, const std::string& damaged) {
  const std::string who = "node " + std::to_string(node);
  Status started = nodes_.start(node);
  if (started.is_ok()) {
    note(OpType::kInfo, OpFn::kHeal, who + " restarted");
    return Status::ok();
  }
  if (!damaged.starts_with("quorum file ")) return started;
  // mqd refuses to start on a damaged metadata log (docs/raft.md, Storage);
  // the runbook's repair: wipe the quorum directory, start, and the node
  // rejoins under a new directory id (docs/cluster.md).
  note(OpType::kInfo, OpFn::kHeal,
       who + " refused to start on its damaged quorum file; the operator wipes its __quorum");
  std::error_code ec;
  std::filesystem::remove_all(nodes_.data_dir(node) + "/data/__quorum", ec);
  if (ec) return Status(ErrorCode::kStorageError, "wiping __quorum: " + ec.message());
  MQ_RETURN_IF_ERROR(nodes_.start(node));
  note(OpType::kInfo, OpFn::kHeal, who + " restarted with an empty quorum directory");
  return Status::ok();
}

void Nemesis::restart_exited() {
  for (const auto& [node, status] : nodes_.exited_by_themselves()) {
    const std::string who = "node " + std::to_string(node);
    const bool repair = WIFEXITED(status) && WEXITSTATUS(status) == kExitRepairReplica;
    const std::string how = WIFEXITED(status)
                                ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                : "died of signal " + std::to_string(WTERMSIG(status));
    note(OpType::kInfo, OpFn::kHeal,
         who + " " + how + (repair ? " (to repair a damaged replica)" : "") +
             "; restarted, as systemd would");
    // Only the repair exit is mqd's to make; any other is a crash.
    if (!repair) error(who + " " + how + " by itself");
    if (Status started = nodes_.start(node); !started.is_ok()) {
      error(who + " does not start again after it " + how + ": " + started.to_string());
    }
  }
}

void Nemesis::loop() {
  std::uniform_int_distribution<int> gap(options_.min_gap_ms, options_.max_gap_ms);
  std::uniform_int_distribution<int> lasting(options_.min_fault_ms, options_.max_fault_ms);
  std::uniform_int_distribution<size_t> pick(0, options_.kinds.size() - 1);
  // Between faults, a node that exited by itself is restarted within half
  // a second (systemd's Restart=on-failure).
  auto healthy_for = [&](int ms) {
    for (; ms > 0; ms -= 500) {
      if (!sleep_ms(std::min(ms, 500))) return false;
      restart_exited();
    }
    return true;
  };
  while (healthy_for(gap(rng_))) {
    const FaultKind kind = options_.kinds[pick(rng_)];
    const int node = target();
    const int duration = lasting(rng_);
    Status injected = inject(kind, node, duration);
    if (!injected.is_ok()) {
      error(std::string(fault_name(kind)) + " on node " + std::to_string(node) + ": " +
            injected.to_string());
      (void)heal_all();
    }
  }
}

Status Nemesis::heal_all() {
  restart_exited();
  Status result = network_.heal();
  for (int n = 1; n <= nodes_.count(); ++n) {
    std::filesystem::remove(nodes_.data_dir(n) + kBallast);
    if (nodes_.fake_clock()) {
      if (Status clock = nodes_.set_clock_offset(n, 0); !clock.is_ok() && result.is_ok()) {
        result = clock;
      }
    }
    if (nodes_.running(n)) {
      (void)nodes_.signal(n, SIGCONT);
      continue;
    }
    Status started = nodes_.start(n);
    if (!started.is_ok()) {
      error("node " + std::to_string(n) + " does not start: " + started.to_string());
      if (result.is_ok()) result = started;
    }
  }
  return result;
}

}  // namespace mq::faults
