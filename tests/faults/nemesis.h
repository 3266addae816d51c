// The nemesis of a fault run (docs/faults.md, "Faults"): on a schedule drawn
// from the run's seed, it picks a fault and a target (a random node, the
// leader of a partition, or the active controller), injects the fault,
// keeps it for a while, and heals it. Every fault and heal goes to the
// history as it happens.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "tests/faults/history.h"
#include "tests/faults/nodes.h"
#include "tests/faults/sandbox.h"

namespace mq::faults {

enum class FaultKind : uint8_t {
  kKill,       // SIGKILL, restart after the fault's time
  kPause,      // SIGSTOP, then SIGCONT
  kPartition,  // a node cut from the others (both ways, one way, or a bridge)
  kFlaky,      // a node's links drop a share of their packets
  kPowerLoss,  // SIGKILL, then every byte the node did not fsync is gone
  kDiskFull,   // the node's data disk fills up, then space returns
  kClock,      // the node's wall clock jumps forward or back, then back to the right time
  kCorrupt,    // SIGKILL, one of the node's files damaged (a bit flipped or its tail cut), restart
};
inline constexpr size_t kFaultKinds = 8;
std::string_view fault_name(FaultKind kind);
// "kill,pause" or "all"; an error names the unknown one.
Result<std::vector<FaultKind>> parse_faults(std::string_view list);

struct NemesisOptions {
  std::vector<FaultKind> kinds;
  uint64_t seed = 1;
  std::string topic = "faults";
  int min_gap_ms = 2'000, max_gap_ms = 6'000;      // healthy time between faults
  int min_fault_ms = 2'000, max_fault_ms = 8'000;  // how long a fault lasts
};

class Nemesis {
 public:
  Nemesis(Network& network, Nodes& nodes, History& history, NemesisOptions options);
  ~Nemesis();  // stop()

  void start();
  // Ends the fault in progress and stops the schedule.
  void stop();
  // Heals everything: links whole, every node resumed and running, disks
  // with free space. Errors name what could not be healed.
  Status heal_all();
  // The faults injected so far.
  uint64_t injected() const { return injected_.load(); }
  // Errors the nemesis met (a node that would not restart, ...): a run with
  // any is not a clean run, whatever the checker says.
  std::vector<std::string> errors() const;

 private:
  void loop();
  bool sleep_ms(int ms);  // false when stopping
  int target();
  Status inject(FaultKind kind, int node, int duration_ms);
  // Restarts nodes that exited by themselves; an exit other than mqd's
  // repair exit (status 75) is an error of the run.
  void restart_exited();
  // kCorrupt's damage to one file of a stopped node: what was done, for the history.
  Result<std::string> damage_a_file(int node);
  // Starts a node after kCorrupt; a node that refuses to start over a
  // damaged quorum file gets the operator's repair (docs/faults.md).
  Status start_after_damage(int node, const std::string& damaged);
  void note(OpType type, OpFn fn, const std::string& what);
  void error(const std::string& what);

  Network& network_;
  Nodes& nodes_;
  History& history_;
  NemesisOptions options_;
  std::mt19937_64 rng_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> injected_{0};
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::string> errors_;
  std::thread thread_;
};

}  // namespace mq::faults
