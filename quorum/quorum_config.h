// What one member of the metadata quorum needs to know: who it is, where the
// other members listen, where it keeps its Raft state and how fast its clock
// runs. validate() checks it before anything is opened or bound.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "raft/messages.h"
#include "raft/raft_node.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::quorum {

using NodeId = raft::NodeId;
using Bytes = raft::Bytes;

struct QuorumConfig {
  NodeId id = raft::kNoNode;
  // Member id -> its quorum endpoint "tcp://host:port". This node is listed
  // in at most one of the two maps; in neither, it is a dynamic observer that
  // announces itself to the voters (docs/raft.md, "Dynamic observers").
  std::map<NodeId, std::string> voters;     // 1, 3 or 5
  std::map<NodeId, std::string> observers;  // receive and apply the log, never vote
  // Where this node's ROUTER binds, "tcp://host:port"; port 0 (or "*") binds
  // an ephemeral port, which QuorumService::endpoint() reports. A dynamic
  // observer announces the bound endpoint as its address, so its host must
  // be one the voters can connect to (not "*", 0.0.0.0 or ::).
  std::string listen_endpoint;
  std::string storage_dir;  // raft::FileStorage directory, created if missing

  int tick_ms = 50;                // one raft tick
  int election_timeout_ms = 1000;  // election_ticks = election_timeout_ms / tick_ms
  int heartbeat_interval_ms = 50;  // heartbeat_ticks = heartbeat_interval_ms / tick_ms
  // The state machine is snapshotted (and the log before it dropped) once
  // this many entries were applied since the last snapshot.
  uint64_t snapshot_every_entries = 10'000;
  uint64_t random_seed = 0;  // of the randomized election timeouts

  // Per peer: messages queued towards it before further sends are dropped
  // (raft resends what is lost); ZMQ_SNDHWM of each DEALER.
  int send_queue_messages = 1'000;
  // Largest message accepted on the quorum endpoint (ZMQ_MAXMSGSIZE). At
  // least kMinMessageBytes: an append carries up to 1 MiB of entries, a
  // snapshot chunk 1 MiB. Proposals are limited to max_entry_bytes().
  int64_t max_message_bytes = 64 << 20;
  int reconnect_interval_ms = 50;
  int reconnect_interval_max_ms = 1'000;
  // Encryption (docs/security.md): the quorum listener's server key, and how
  // this node connects to the others. Empty: plain text.
  transport::CurveServer curve_server;
  transport::CurveClient curve_client;
  // Authentication (needs curve_server): who may send to the quorum
  // listener (transport::BrokersOnly: brokers, each only as itself).
  std::shared_ptr<const transport::Authenticator> authenticator;

  static constexpr int64_t kMinMessageBytes = (1 << 20) + (64 << 10);
  // The largest proposal: one entry alone in an append must fit a message.
  size_t max_entry_bytes() const { return static_cast<size_t>(max_message_bytes - (64 << 10)); }
  bool is_voter() const { return voters.contains(id); }
  bool is_dynamic_observer() const { return !voters.contains(id) && !observers.contains(id); }
  int election_ticks() const { return election_timeout_ms / tick_ms; }
  int heartbeat_ticks() const { return heartbeat_interval_ms / tick_ms; }
  // The raft::RaftConfig this config runs with.
  raft::RaftConfig raft_config() const;
};

// kInvalidConfig naming the first problem: an id listed twice, a voter count
// other than 1, 3 or 5, an endpoint that is not "tcp://host:port", a dynamic
// observer listening on a wildcard host, timings that leave no room for an
// election.
Status validate(const QuorumConfig& config);

// Where the other members reach this node: its own entry in voters or
// observers when that names a host and a port, else `bound` (the endpoint the
// ROUTER is bound to, with the port ZeroMQ picked for port 0): a dynamic
// observer announces it, a voter's leader records it in the voter set.
std::string advertised_endpoint(const QuorumConfig& config, const std::string& bound);

// Checks "tcp://host:port". With `allow_any_port`, port 0 and "*" pass too.
Status check_endpoint(std::string_view endpoint, bool allow_any_port);

}  // namespace mq::quorum
