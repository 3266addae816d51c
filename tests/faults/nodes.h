// The mqd processes of a fault run, one per node namespace (sandbox.h).
// Node N listens on its namespace's address: clients on :9092, the quorum
// on :9093, HTTP on :9644. Its data directory is a tmpfs of its own (so a
// disk can fill up without touching the others); its log is a file in the
// run directory, appended across restarts.
#pragma once

#include <sys/types.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/faults/sandbox.h"

namespace mq::faults {

struct NodesOptions {
  std::string mqd;      // the binary
  std::string run_dir;  // configs, logs (and the data tmpfs mounts under it)
  int nodes = 3;
  int64_t data_bytes = 512LL << 20;  // each node's tmpfs
  std::string extra_toml;            // appended to every node's config
  // libfaketime's preload library: when set, every node runs under it and
  // set_clock_offset() moves its wall clock (CLOCK_MONOTONIC stays true).
  std::string faketime_library;
};

// libfaketime's multithreaded preload library where Debian's libfaketime
// package installs it; empty when it is not installed.
std::string find_faketime_library();

// SIGKILLs every node any Nodes started and that still runs: async-signal-
// safe, for the harness's SIGINT/SIGTERM handler (the nodes must not outlive
// it in namespaces nobody removes).
void kill_all_nodes();

class Nodes {
 public:
  Nodes(const Network& network, NodesOptions options);
  ~Nodes();  // SIGKILLs what still runs
  Nodes(const Nodes&) = delete;
  Nodes& operator=(const Nodes&) = delete;

  // Mounts the data directories and writes the configs.
  Status prepare();
  // Starts node `id` and waits (up to 30 s) until it serves clients.
  Status start(int id);
  Status start_all();
  // Sends `signal`; SIGKILL and SIGTERM also wait for the process to end.
  Status signal(int id, int signal);
  bool running(int id);
  // Nodes that exited without signal() stopping them, and how (a wait
  // status), since their last start.
  std::map<int, int> exited_by_themselves();
  // The node's pid while it runs, else -1.
  pid_t pid(int id);
  std::string data_dir(int id) const;
  // Moves node `id`'s wall clock `seconds` away from the true time (0: the
  // true time again), within a second, running or not. Needs
  // faketime_library.
  Status set_clock_offset(int id, int64_t seconds);
  bool fake_clock() const { return !options_.faketime_library.empty(); }
  std::string log_path(int id) const;
  // "10.77.0.11:9092,...": every node, running or not.
  std::string bootstrap() const;
  int count() const { return options_.nodes; }
  // The last `bytes` of every node's log.
  std::string tails(size_t bytes = 2000) const;

 private:
  std::string config_path(int id) const;
  std::string clock_path(int id) const;
  void reap_locked();

  const Network& network_;
  NodesOptions options_;
  std::mutex mu_;
  std::map<int, pid_t> pids_;
  std::set<int> stopped_on_purpose_;  // by signal(), until the next start()
  std::map<int, int> exited_;         // node -> wait status, of exits nobody asked for
  std::vector<std::string> mounts_;
};

}  // namespace mq::faults
