// The fault harness's private network (docs/faults.md, "The sandbox").
//
// The harness re-executes itself in a new network namespace and a new mount
// namespace (unshare(1), as root): nothing it does reaches the host's
// interfaces, firewall or /run. Inside, each node gets a network namespace
// of its own ("ip netns", whose bind mounts land on a tmpfs over /run that
// only the sandbox sees), joined to the harness by a veth pair on a bridge:
//
//   harness 10.77.0.1 (bridge mqbr0) --- veth --- node N 10.77.0.(10+N)
//
// Links are cut with iptables rules inside the receiving node's namespace.
// Everything vanishes when the harness exits: the namespaces die with it.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace mq::faults {

// Runs `command` with /bin/sh; an error with its exit status and output
// when it fails.
Status run_command(const std::string& command);

// Re-executes this program with `args` (argv[1..]) inside a new network and
// mount namespace, unless it runs in one already (the environment says so).
// Returns (ok) only inside; the outer process becomes unshare(1), which
// exits with the inner one's status. An error when that cannot be done: not
// root, or unshare missing.
Status enter_sandbox(const std::vector<std::string>& args);

// The harness's own address on the bridge; node N's is node_ip(N).
inline constexpr const char* kHarnessIp = "10.77.0.1";
std::string node_ip(int node);

class Network {
 public:
  // The bridge and `nodes` namespaces (mqf1..mqfN) with their veths.
  static Result<Network> create(int nodes);

  int nodes() const { return nodes_; }
  // "ip netns exec mqfN": what runs a command inside node N's namespace.
  std::vector<std::string> exec_prefix(int node) const;

  // Packets from `from` stop arriving at `to` (node ids; 0 is the harness,
  // so cut(0, n) hides node n from clients). TCP needs both ways, so a cut
  // one way ends connections both ways, while datagrams and SYNs that were
  // sent the other way still arrive: what an asymmetric fault looks like.
  Status cut(int from, int to);
  Status cut_both(int a, int b);
  // Packets between a and b are dropped with probability `loss`, both ways.
  Status flaky(int a, int b, double loss);
  // Every rule gone: every link whole again.
  Status heal();

 private:
  explicit Network(int nodes) : nodes_(nodes) {}
  static std::string ip_of(int node);  // 0: the harness
  Status in_namespace_of(int node, const std::string& command) const;
  int nodes_ = 0;
};

}  // namespace mq::faults
