// Several mqd processes forming one cluster on 127.0.0.1: every node a
// voter (or, when the voters are named, a static observer) on its own free
// quorum port, with a fixed client port (so a restarted node is where
// clients last saw it) and its own data directory. The cluster tests and
// failover-bench start clusters through this class.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>

#include "tests/support/free_port.h"
#include "tests/support/mqd_process.h"

namespace mq::testing {

// HOST:PORT,... of the client listeners of the running `nodes` but `except`:
// a --brokers / bootstrap.servers value.
inline std::string bootstrap_of(const std::map<int, std::unique_ptr<MqdProcess>>& nodes,
                                int except = 0) {
  std::string out;
  for (const auto& [id, node] : nodes) {
    if (id == except || node->pid() <= 0) continue;
    out += (out.empty() ? "" : ",") + node->endpoint().substr(6);  // without tcp://
  }
  return out;
}

// The [cluster] settings of tests that stop and restart brokers: a broker
// is fenced `session_timeout_ms` after its last heartbeat (every 100 ms),
// and leaderships stay where failovers put them.
inline std::string quick_cluster_toml(int session_timeout_ms) {
  return "broker_heartbeat_interval_ms = 100\n"
         "broker_session_timeout_ms = " +
         std::to_string(session_timeout_ms) +
         "\n"
         "auto_leader_rebalance = false\n";
}

// Quorum elections within half a second, and followers that fetch at least
// every 100 ms and leave the ISR after 3 s behind.
inline constexpr const char* kQuickQuorumToml =
    "[quorum]\ntick_ms = 20\nelection_timeout_ms = 400\n"
    "[replication]\nlag_time_max_ms = 3000\nfetch_max_wait_ms = 100\n";

class MqdCluster {
 public:
  // Nodes 1..`nodes` in `dir`/nodeN. `cluster_toml` holds more [cluster]
  // keys (after the voters and observers lines); `more_toml` other tables.
  // `voter_ids`: the nodes in cluster.voters (empty: all of them); the
  // others are listed in cluster.observers.
  MqdCluster(const std::string& dir, int nodes, const std::string& cluster_toml,
             const std::string& more_toml = "", const std::set<int>& voter_ids = {}) {
    std::string voters;
    std::string observers;
    for (int id = 1; id <= nodes; id++) {
      quorum_ports_[id] = free_port();
      std::string& list = voter_ids.empty() || voter_ids.contains(id) ? voters : observers;
      list += (list.empty() ? "" : ",") + quorum_member(id);
    }
    voters_ = voters;
    members_toml_ = "voters = \"" + voters + "\"\n";
    if (!observers.empty()) members_toml_ += "observers = \"" + observers + "\"\n";
    for (int id = 1; id <= nodes; id++) {
      auto node = std::make_unique<MqdProcess>(
          dir + "/node" + std::to_string(id),
          "[cluster]\n" + members_toml_ + cluster_toml + "\n" + more_toml);
      node->set_top_level("node_id = " + std::to_string(id));
      node->set_client_port(free_port());
      nodes_[id] = std::move(node);
    }
  }

  // Starts every node; false (with the failing node's log in `why`) if one fails.
  bool start(std::string* why = nullptr) {
    for (auto& [id, node] : nodes_) {
      if (!node->start()) {
        if (why != nullptr) *why = "node " + std::to_string(id) + ":\n" + node->log();
        return false;
      }
    }
    return true;
  }

  MqdProcess& node(int id) { return *nodes_.at(id); }
  // The cluster.voters line's value, "1@127.0.0.1:PORT,...".
  const std::string& voters() const { return voters_; }
  // Node `id`'s quorum endpoint as cluster.voters and `mqctl cluster
  // add-voter` name it: "ID@127.0.0.1:PORT".
  std::string quorum_member(int id) const {
    return std::to_string(id) + "@127.0.0.1:" + std::to_string(quorum_ports_.at(id));
  }
  // Adds node `id`, listed in no config: it joins the running cluster as a
  // dynamic observer announcing its own quorum listener. Not started.
  MqdProcess& add_unlisted(const std::string& dir, int id, const std::string& cluster_toml,
                           const std::string& more_toml = "") {
    auto node = std::make_unique<MqdProcess>(
        dir + "/node" + std::to_string(id),
        "[cluster]\n" + members_toml_ + cluster_toml + "\n" + more_toml);
    node->set_top_level("node_id = " + std::to_string(id));
    node->set_client_port(free_port());
    quorum_ports_[id] = free_port();
    node->set_listeners_toml("quorum = \"tcp://127.0.0.1:" + std::to_string(quorum_ports_[id]) +
                             "\"");
    nodes_[id] = std::move(node);
    return *nodes_[id];
  }
  std::map<int, std::unique_ptr<MqdProcess>>& nodes() { return nodes_; }

  // HOST:PORT,... of the running nodes but `except`.
  std::string bootstrap(int except = 0) { return bootstrap_of(nodes_, except); }

  // The last `bytes` of every node's log, for a failure message.
  std::string logs(size_t bytes = 3000) {
    std::string out;
    for (auto& [id, node] : nodes_) {
      std::string log = node->log();
      out += "---- node " + std::to_string(id) + " (last " + std::to_string(bytes) + " bytes)\n" +
             log.substr(log.size() > bytes ? log.size() - bytes : 0) + "\n";
    }
    return out;
  }

 private:
  std::string voters_;
  std::string members_toml_;         // the voters (and observers) lines
  std::map<int, int> quorum_ports_;  // every node's, listed or not
  std::map<int, std::unique_ptr<MqdProcess>> nodes_;
};

}  // namespace mq::testing
