#include "tests/faults/sandbox.h"

#include <net/if.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mq::faults {
namespace {

constexpr const char* kSandboxEnv = "MQ_FAULTS_SANDBOX";
constexpr const char* kBridge = "mqbr0";

std::string netns_name(int node) {
  return "mqf" + std::to_string(node);
}

}  // namespace

Status run_command(const std::string& command) {
  std::string with_output = command + " 2>&1";
  FILE* pipe = ::popen(with_output.c_str(), "r");
  if (pipe == nullptr) {
    return Status(ErrorCode::kUnknown, "cannot run `" + command + "`: " + std::strerror(errno));
  }
  std::string output;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  int status = ::pclose(pipe);
  if (status != 0) {
    return Status(ErrorCode::kUnknown,
                  "`" + command + "` failed (status " +
                      std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                      "): " + output);
  }
  return Status::ok();
}

Status enter_sandbox(const std::vector<std::string>& args) {
  if (const char* inside = std::getenv(kSandboxEnv); inside != nullptr && *inside != '\0') {
    // The variable alone could be inherited: it names the network namespace
    // the harness left, this one must be another, and a new one, holding
    // only its loopback interface, before anything is mounted or configured.
    struct stat mine {};
    struct if_nameindex* interfaces = ::if_nameindex();
    bool fresh = interfaces != nullptr;
    for (struct if_nameindex* i = interfaces; fresh && i->if_index != 0; ++i) {
      fresh = std::strcmp(i->if_name, "lo") == 0;
    }
    if (interfaces != nullptr) ::if_freenameindex(interfaces);
    if (::stat("/proc/self/ns/net", &mine) != 0 || std::to_string(mine.st_ino) == inside ||
        !fresh) {
      return Status(ErrorCode::kInvalidRequest,
                    std::string(kSandboxEnv) +
                        " is set but this process shares the host's network namespace: "
                        "unset it (mq-faults sets it itself)");
    }
    // A tmpfs over /run: `ip netns add` keeps its bind mounts under
    // /run/netns, and iptables its lock in /run; neither reaches the host.
    MQ_RETURN_IF_ERROR(run_command("mount -t tmpfs mq-faults /run"));
    MQ_RETURN_IF_ERROR(run_command("ip link set lo up"));
    return Status::ok();
  }
  if (::geteuid() != 0) {
    return Status(ErrorCode::kInvalidRequest,
                  "the fault harness needs root: it makes network namespaces (unshare -n), "
                  "bridges and iptables rules of its own");
  }
  if (::access("/usr/bin/unshare", X_OK) != 0) {
    return Status(ErrorCode::kNotFound, "unshare(1) is missing (Debian: util-linux)");
  }
  struct stat host {};
  if (::stat("/proc/self/ns/net", &host) != 0) {
    return Status(ErrorCode::kUnknown, "cannot read this process's network namespace");
  }
  ::setenv(kSandboxEnv, std::to_string(host.st_ino).c_str(), 1);
  char resolved[4096];
  ssize_t n = ::readlink("/proc/self/exe", resolved, sizeof resolved - 1);
  if (n <= 0) return Status(ErrorCode::kUnknown, "cannot find this program (/proc/self/exe)");
  resolved[n] = '\0';
  std::vector<std::string> command = {
      "unshare", "--net", "--mount", "--propagation", "private", "--fork", "--kill-child=SIGTERM",
      resolved};
  command.insert(command.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : command) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv("/usr/bin/unshare", argv.data());
  return Status(ErrorCode::kUnknown, std::string("exec unshare: ") + std::strerror(errno));
}

std::string node_ip(int node) {
  return "10.77.0." + std::to_string(10 + node);
}

std::string Network::ip_of(int node) {
  return node == 0 ? kHarnessIp : node_ip(node);
}

Result<Network> Network::create(int nodes) {
  if (nodes < 1 || nodes > 9) {
    return Status(ErrorCode::kInvalidConfig, "between 1 and 9 nodes, not " + std::to_string(nodes));
  }
  MQ_RETURN_IF_ERROR(run_command(std::string("ip link add ") + kBridge + " type bridge"));
  MQ_RETURN_IF_ERROR(run_command(std::string("ip addr add ") + kHarnessIp + "/24 dev " + kBridge));
  MQ_RETURN_IF_ERROR(run_command(std::string("ip link set ") + kBridge + " up"));
  Network network(nodes);
  for (int n = 1; n <= nodes; ++n) {
    const std::string ns = netns_name(n);
    const std::string veth = "mqv" + std::to_string(n);
    MQ_RETURN_IF_ERROR(run_command("ip netns add " + ns));
    MQ_RETURN_IF_ERROR(
        run_command("ip link add " + veth + " type veth peer name eth0 netns " + ns));
    MQ_RETURN_IF_ERROR(run_command("ip link set " + veth + " master " + kBridge + " up"));
    MQ_RETURN_IF_ERROR(network.in_namespace_of(n, "ip addr add " + node_ip(n) + "/24 dev eth0"));
    MQ_RETURN_IF_ERROR(network.in_namespace_of(n, "ip link set eth0 up"));
    MQ_RETURN_IF_ERROR(network.in_namespace_of(n, "ip link set lo up"));
  }
  return network;
}

std::vector<std::string> Network::exec_prefix(int node) const {
  return {"ip", "netns", "exec", netns_name(node)};
}

Status Network::in_namespace_of(int node, const std::string& command) const {
  if (node == 0) return run_command(command);
  return run_command("ip netns exec " + netns_name(node) + " " + command);
}

Status Network::cut(int from, int to) {
  return in_namespace_of(to, "iptables -w -A INPUT -s " + ip_of(from) + " -j DROP");
}

Status Network::cut_both(int a, int b) {
  MQ_RETURN_IF_ERROR(cut(a, b));
  return cut(b, a);
}

Status Network::flaky(int a, int b, double loss) {
  char probability[32];
  std::snprintf(probability, sizeof probability, "%.3f", loss);
  for (auto [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    MQ_RETURN_IF_ERROR(in_namespace_of(to, "iptables -w -A INPUT -s " + ip_of(from) +
                                               " -m statistic --mode random --probability " +
                                               probability + " -j DROP"));
  }
  return Status::ok();
}

Status Network::heal() {
  for (int n = 0; n <= nodes_; ++n) MQ_RETURN_IF_ERROR(in_namespace_of(n, "iptables -w -F INPUT"));
  return Status::ok();
}

}  // namespace mq::faults
