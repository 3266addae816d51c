// mqd's configuration: the TOML file, its table of settings (the one source
// for parsing, validation, defaults, SIGHUP reloads and docs/configuration.md),
// and the values the broker runs with.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/log_config.h"
#include "transport/curve.h"
#include "transport/principals.h"

namespace mq::broker {

// One member of the metadata quorum: "ID@HOST:PORT" in cluster.voters and
// cluster.observers.
struct QuorumMember {
  int32_t id = -1;
  std::string host;
  int port = 0;

  std::string endpoint() const { return "tcp://" + host + ":" + std::to_string(port); }
  std::string to_string() const {
    return std::to_string(id) + "@" + host + ":" + std::to_string(port);
  }
  bool operator==(const QuorumMember&) const = default;
};

// Parses "ID@HOST:PORT,ID@HOST:PORT,..." (empty text: no members). Errors name
// the bad entry: a missing '@', a bad id or port, a repeated id.
Result<std::vector<QuorumMember>> parse_quorum_members(const std::string& text);
std::string format_quorum_members(const std::vector<QuorumMember>& members);

// The cluster (docs/cluster.md). Without voters mqd is a cluster of one
// voter, itself.
struct ClusterConfig {
  std::vector<QuorumMember> voters;     // 1, 3 or 5; their Raft leader is the controller
  std::vector<QuorumMember> observers;  // brokers that follow the metadata log, never vote
  std::string quorum_listener;          // bind address; empty: this node's member entry
  std::string rack;
  int32_t broker_heartbeat_interval_ms = 500;
  int32_t broker_session_timeout_ms = 4000;
  int32_t controlled_shutdown_timeout_ms = 30000;  // 0: stop without moving leaderships
  bool unclean_leader_election = false;
  bool auto_leader_rebalance = true;
  int64_t leader_rebalance_interval_ms = 60000;

  int32_t quorum_tick_ms = 50;
  int32_t quorum_election_timeout_ms = 1000;
  int64_t quorum_snapshot_every_entries = 10000;

  int64_t replica_lag_time_max_ms = 10000;
  int32_t replica_fetch_max_wait_ms = 200;
  int64_t replica_fetch_max_bytes = 8 * 1024 * 1024;
  int64_t replica_throttle_bytes_per_sec = 0;  // 0: no throttle

  // This node's entry in voters or observers, or nullptr.
  const QuorumMember* member(int32_t node_id) const;
};

struct BrokerConfig {
  int32_t node_id = 1;
  std::string data_dir = "./data";
  std::string client_listener = "tcp://127.0.0.1:9092";
  std::string http_address = "127.0.0.1:9644";
  // HTTP security (docs/security.md, "HTTP"): a bearer token asked of
  // clients not on loopback (the file's first line, reread on SIGHUP), and
  // TLS with a PEM certificate and key. Empty: none.
  std::string http_token_file;
  bool http_token_loopback = false;  // the token asked of loopback clients too
  std::string http_tls_cert_file;
  std::string http_tls_key_file;

  // Topic defaults: what a topic gets unless created with its own configs.
  bool auto_create_topics = false;
  int32_t default_partitions = 1;
  int32_t default_replication_factor = 1;
  int32_t min_insync_replicas = 1;
  LogConfig log;  // segment, retention, fsync, max message bytes, timestamps

  int64_t retention_check_interval_ms = 5 * 60 * 1000;
  int64_t cleaner_interval_ms = 15 * 1000;
  // The scrub (Broker::scrub_step): every replica's batches read back and
  // checked against their CRCs, at most this many bytes a second (0: off),
  // a pass started every scrub_interval_ms.
  int64_t scrub_bytes_per_second = 8 * 1024 * 1024;
  int64_t scrub_interval_ms = 24LL * 3600 * 1000;
  int32_t worker_threads = 2;
  int64_t max_inflight_requests = 10000;
  int64_t max_connections = 10000;
  int64_t max_request_bytes = 100 * 1024 * 1024;
  int64_t buffer_memory_bytes = 512 * 1024 * 1024;  // requests and responses in flight
  int32_t fetch_max_wait_ms = 30000;                // the longest long poll accepted
  int64_t shutdown_timeout_ms = 30000;
  int64_t min_free_bytes = 64 * 1024 * 1024;  // produce is refused below it

  // Consumer groups (group/coordinator.h).
  int32_t offsets_topic_partitions = 16;
  int32_t group_initial_rebalance_delay_ms = 3000;
  int32_t group_min_session_timeout_ms = 6000;
  int32_t group_max_session_timeout_ms = 1800000;
  int32_t group_max_size = 1000;
  std::string log_level = "info";

  ClusterConfig cluster;

  // Security (docs/security.md). The cluster's CURVE secret key file: every
  // listener (client, quorum) requires the CURVE handshake with it, and the
  // broker's own connections to other brokers use it. Empty: plain text.
  std::string curve_secret_key_file;
  // Loaded from curve_secret_key_file when the broker starts (not a setting).
  transport::CurveKeyPair curve_keys;
  // While the cluster's key pair changes: the other public key, which this
  // broker's own connections to brokers also accept (docs/security.md,
  // "Changing the cluster's key"). Empty: only the cluster's.
  std::string curve_other_public_key_file;
  std::string curve_other_public_key;  // loaded at start (not a setting)
  // Authentication: the principals file (reloaded on SIGHUP), and this
  // broker's own key pair, its identity as broker:NODE_ID (empty: the
  // cluster's key pair).
  std::string principals_file;
  std::string broker_secret_key_file;
  transport::CurveKeyPair broker_keys;                // loaded at start (not a setting)
  std::shared_ptr<transport::Principals> principals;  // loaded at start (not a setting)
  // Authorization: ACLs decide every client request; super-users (and
  // every broker:N) pass without them.
  bool authorization = false;
  std::vector<std::string> super_users;

  // Cross-setting checks after parsing (e.g. node_id must be a quorum member
  // in cluster mode).
  Status validate() const;
};

// How this broker connects to the others: its own key pair (or the
// cluster's), the cluster's public key as theirs (empty: plain text).
inline transport::CurveClient broker_curve_client(const BrokerConfig& config) {
  if (config.curve_keys.secret_key.empty()) return {};
  const transport::CurveKeyPair& own =
      config.broker_keys.secret_key.empty() ? config.curve_keys : config.broker_keys;
  return {.server_key = config.curve_keys.public_key,
          .public_key = own.public_key,
          .secret_key = own.secret_key,
          .other_server_key = config.curve_other_public_key};
}

enum class SettingType { kInteger, kBoolean, kString };

// One row of the settings table.
struct Setting {
  std::string key;  // dotted TOML path, e.g. "log.retention_ms"
  SettingType type;
  std::string default_value;  // as written in TOML
  bool dynamic;               // changes on SIGHUP without a restart
  std::string description;    // one or two sentences, for the reference
  // Stores a value (the field matching `type` is set) into the config; the
  // error says what is allowed.
  std::function<Status(BrokerConfig&, const std::string& text, int64_t number, bool flag)> apply;
  // The current value, as written in TOML.
  std::function<std::string(const BrokerConfig&)> get;
};

const std::vector<Setting>& settings();

// A setting's current value as DescribeConfigs (and mqctl config get) show
// it: strings without TOML's quotes and escapes, lists as comma-separated
// items, numbers and booleans as written.
std::string value_text(const Setting& setting, const BrokerConfig& config);

// Parses TOML text. Unknown keys, wrong types and bad values are errors that
// name the key and its line: "config.toml:7: log.fsync: unknown fsync policy ...".
Result<BrokerConfig> parse_config(const std::string& toml_text, const std::string& source_name);
Result<BrokerConfig> load_config(const std::string& path);

// Keys of the settings whose values differ, split by whether they can change
// at run time (SIGHUP) or need a restart.
struct ConfigDiff {
  std::vector<std::string> dynamic_keys;
  std::vector<std::string> static_keys;
};
ConfigDiff diff_configs(const BrokerConfig& before, const BrokerConfig& after);

// docs/configuration.md, generated from the table.
std::string configuration_reference();

// A TOML file setting every key to its value in `values`, each under a
// comment with its description and default, grouped by table in the table's
// order (examples/configs/production.toml is this rendering of itself).
std::string example_config(const BrokerConfig& values);

}  // namespace mq::broker
