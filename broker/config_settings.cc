// The settings table: every key of mqd's TOML config, its type, limits,
// default and description (docs/configuration.md is generated from it).

#include <cstdio>
#include <sstream>

#include "broker/config.h"

namespace mq::broker {
namespace {

Status invalid_setting(const std::string& what) {
  return Status(ErrorCode::kInvalidConfig, what);
}

// Builders for the common kinds of row. `field` returns a reference to the
// value in a BrokerConfig.
template <typename Field>
Setting integer(std::string key, std::string description, bool dynamic, int64_t min, int64_t max,
                Field field) {
  BrokerConfig defaults;
  Setting s;
  s.key = std::move(key);
  s.type = SettingType::kInteger;
  s.default_value = std::to_string(field(defaults));
  s.dynamic = dynamic;
  s.description = std::move(description);
  s.apply = [min, max, field](BrokerConfig& c, const std::string&, int64_t v, bool) {
    if (v < min || v > max) {
      return invalid_setting("must be between " + std::to_string(min) + " and " +
                             std::to_string(max) + ", got " + std::to_string(v));
    }
    using T = std::remove_reference_t<decltype(field(c))>;
    field(c) = static_cast<T>(v);
    return Status::ok();
  };
  s.get = [field](const BrokerConfig& c) {
    BrokerConfig copy = c;
    return std::to_string(field(copy));
  };
  return s;
}

Setting boolean(std::string key, std::string description, bool dynamic,
                std::function<bool&(BrokerConfig&)> field) {
  BrokerConfig defaults;
  Setting s;
  s.key = std::move(key);
  s.type = SettingType::kBoolean;
  s.default_value = field(defaults) ? "true" : "false";
  s.dynamic = dynamic;
  s.description = std::move(description);
  s.apply = [field](BrokerConfig& c, const std::string&, int64_t, bool v) {
    field(c) = v;
    return Status::ok();
  };
  s.get = [field](const BrokerConfig& c) {
    BrokerConfig copy = c;
    return field(copy) ? std::string("true") : std::string("false");
  };
  return s;
}

// `value` as a TOML basic string: quoted, with quotes, backslashes and
// control characters escaped.
std::string toml_quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

Setting text(std::string key, std::string description, bool dynamic,
             std::function<Status(BrokerConfig&, const std::string&)> apply,
             std::function<std::string(const BrokerConfig&)> get) {
  Setting s;
  s.key = std::move(key);
  s.type = SettingType::kString;
  s.default_value = toml_quote(get(BrokerConfig()));
  s.dynamic = dynamic;
  s.description = std::move(description);
  s.apply = [apply](BrokerConfig& c, const std::string& v, int64_t, bool) { return apply(c, v); };
  s.get = [get](const BrokerConfig& c) { return toml_quote(get(c)); };
  return s;
}

constexpr int64_t kMaxInt64 = INT64_MAX;

std::vector<Setting> build_settings() {
  std::vector<Setting> t;
  t.push_back(integer("node_id", "This broker's id, unique in the cluster.", false, 0, INT32_MAX,
                      [](BrokerConfig& c) -> int32_t& { return c.node_id; }));
  t.push_back(text(
      "data_dir", "Directory holding every partition's log and the broker's metadata.", false,
      [](BrokerConfig& c, const std::string& v) {
        if (v.empty()) return invalid_setting("must not be empty");
        c.data_dir = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.data_dir; }));
  t.push_back(text(
      "listeners.client",
      "ZeroMQ endpoint clients connect to (tcp://HOST:PORT). Use 0.0.0.0 to listen everywhere.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        if (v.rfind("tcp://", 0) != 0 && v.rfind("ipc://", 0) != 0) {
          return invalid_setting("must start with tcp:// or ipc://, got '" + v + "'");
        }
        c.client_listener = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.client_listener; }));
  t.push_back(text(
      "http.address",
      "HOST:PORT of the HTTP server for /metrics, /healthz, /readyz and /v1/status.", false,
      [](BrokerConfig& c, const std::string& v) {
        size_t colon = v.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == v.size() ||
            v.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
            std::stol(v.substr(colon + 1)) > 65535) {
          return invalid_setting("must be HOST:PORT with a port from 0 to 65535, got '" + v + "'");
        }
        c.http_address = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.http_address; }));
  t.push_back(text(
      "http.token_file",
      "File whose first line is the bearer token HTTP clients not on loopback must send "
      "(Authorization: Bearer TOKEN) for everything but /healthz and /readyz. Mode 0600 or "
      "stricter; read "
      "again on SIGHUP. Required when security.curve_secret_key_file is set and http.address is "
      "not a loopback address. Empty: no token asked.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.http_token_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.http_token_file; }));
  t.push_back(boolean("http.token_loopback",
                      "Ask the bearer token (http.token_file) of clients on loopback too: of the "
                      "machine's other users. /healthz stays open.",
                      false, [](BrokerConfig& c) -> bool& { return c.http_token_loopback; }));
  t.push_back(text(
      "http.tls_cert_file",
      "PEM file of the HTTP server's TLS certificate (chain): HTTP is then served over TLS only. "
      "Needs http.tls_key_file. Empty: plain HTTP.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.http_tls_cert_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.http_tls_cert_file; }));
  t.push_back(text(
      "http.tls_key_file",
      "PEM file of the TLS certificate's private key (unencrypted), mode 0600 or stricter.", false,
      [](BrokerConfig& c, const std::string& v) {
        c.http_tls_key_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.http_tls_key_file; }));

  t.push_back(text(
      "security.curve_secret_key_file",
      "The cluster's CURVE secret key (mqctl keygen): every listener then requires an "
      "encrypted CURVE connection, and the broker connects to the others with it; every broker "
      "of a cluster uses the same key. The file must be readable by its owner only (mode 0600). "
      "Empty: plain text.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.curve_secret_key_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.curve_secret_key_file; }));

  t.push_back(text(
      "security.curve_other_public_key_file",
      "While the cluster's key pair changes: the other public key (mqctl keygen's PREFIX.public; "
      "the new one while this broker still listens with the old, the old one once it listens "
      "with the new). This broker's connections to the other brokers then reach brokers "
      "listening with either; docs/security.md, \"Changing the cluster's key\". Needs "
      "security.curve_secret_key_file. Empty: only the cluster's key.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.curve_other_public_key_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.curve_other_public_key_file; }));
  t.push_back(text(
      "security.principals_file",
      "Authentication: the file of principals allowed to connect, one \"NAME KEY\" line each "
      "(a name and a CURVE public key; docs/security.md). A handshake with a key not in it is "
      "refused before any request is read, and a request on a connection whose key has left it "
      "is answered AUTHENTICATION_FAILED. The file is read again on SIGHUP (systemctl reload "
      "mqd); a file that does not parse leaves the principals in force. Brokers are listed as "
      "broker:NODE_ID and are the only principals the quorum listener accepts. Needs "
      "security.curve_secret_key_file and security.broker_secret_key_file. Empty: any client "
      "with the cluster's public key may connect.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.principals_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.principals_file; }));
  t.push_back(text(
      "security.broker_secret_key_file",
      "This broker's own CURVE secret key (mqctl keygen), with which it connects to the other "
      "brokers and to its own listener; its public key is in the principals file as "
      "broker:NODE_ID. Mode 0600 or stricter. Empty: the cluster's key pair.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        c.broker_secret_key_file = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.broker_secret_key_file; }));
  t.push_back(boolean(
      "security.authorization",
      "Authorization: every client request is checked against the ACLs (mqctl acl; "
      "docs/security.md), and what no ACL allows is denied (TOPIC_, GROUP_ or "
      "CLUSTER_AUTHORIZATION_FAILED). With no ACLs stored, only super-users and brokers may do "
      "anything. Needs security.principals_file.",
      false, [](BrokerConfig& c) -> bool& { return c.authorization; }));
  t.push_back(text(
      "security.super_users",
      "Principals that pass every authorization check, comma-separated (e.g. \"admin,ops\"); "
      "brokers (broker:NODE_ID) always do.",
      false,
      [](BrokerConfig& c, const std::string& v) -> Status {
        c.super_users.clear();
        size_t start = 0;
        while (start <= v.size()) {
          size_t comma = std::min(v.find(',', start), v.size());
          std::string name = v.substr(start, comma - start);
          name.erase(0, name.find_first_not_of(' '));
          name.erase(name.find_last_not_of(' ') + 1);
          if (!name.empty() || comma < v.size()) {
            if (Status valid = transport::check_principal_name(name); !valid.is_ok()) {
              return invalid_setting(valid.message());
            }
            c.super_users.push_back(name);
          }
          start = comma + 1;
        }
        return Status::ok();
      },
      [](const BrokerConfig& c) {
        std::string joined;
        for (const std::string& name : c.super_users) joined += (joined.empty() ? "" : ",") + name;
        return joined;
      }));

  t.push_back(boolean("topics.auto_create",
                      "Create a topic (with the defaults) when a client produces to or fetches "
                      "metadata of one that does not exist.",
                      true, [](BrokerConfig& c) -> bool& { return c.auto_create_topics; }));
  t.push_back(integer("topics.default_partitions", "Partitions of a topic created without a count.",
                      true, 1, 100000,
                      [](BrokerConfig& c) -> int32_t& { return c.default_partitions; }));
  t.push_back(integer("topics.default_replication_factor",
                      "Replicas of a topic created without a replication factor.", true, 1, 16,
                      [](BrokerConfig& c) -> int32_t& { return c.default_replication_factor; }));
  t.push_back(integer("topics.min_insync_replicas",
                      "Default min.insync.replicas: with acks=all, a produce fails with "
                      "NOT_ENOUGH_REPLICAS when fewer replicas are in sync.",
                      true, 1, 16,
                      [](BrokerConfig& c) -> int32_t& { return c.min_insync_replicas; }));

  t.push_back(integer(
      "log.segment_bytes", "Roll a new segment when the active one would pass this size.", true,
      1024, 2147483647LL, [](BrokerConfig& c) -> uint64_t& { return c.log.segment_bytes; }));
  t.push_back(integer("log.segment_ms", "Roll a new segment when the active one is this old (ms).",
                      true, 1, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.log.segment_ms; }));
  t.push_back(integer("log.dedup_window_ms",
                      "Default dedup.window.ms: how long a message id (header mq.msg-id) is "
                      "remembered, so a record re-sent with it is acknowledged with its first "
                      "offset instead of being appended again; 0 turns de-duplication off.",
                      true, 0, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.log.dedup_window_ms; }));
  t.push_back(integer("log.retention_ms",
                      "Delete segments whose newest record is older than this (ms); -1 keeps "
                      "them forever.",
                      true, -1, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.log.retention_ms; }));
  t.push_back(integer("log.retention_bytes",
                      "Delete the oldest segments while a partition is larger than this; -1 "
                      "for no limit.",
                      true, -1, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.log.retention_bytes; }));
  t.push_back(text(
      "log.fsync",
      "When data is fsynced: \"never\" (on segment roll and shutdown; replication is the "
      "durability), \"interval\" (every log.flush_interval_ms) or \"always\" (before the "
      "produce is acknowledged, with group commit).",
      true,
      [](BrokerConfig& c, const std::string& v) {
        Result<FsyncPolicy> p = parse_fsync_policy(v);
        if (!p.is_ok()) return p.status();
        c.log.fsync_policy = *p;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return std::string(fsync_policy_name(c.log.fsync_policy)); }));
  t.push_back(integer("log.flush_interval_ms",
                      "With log.fsync = \"interval\": the most time "
                      "between an append and its fsync (ms).",
                      true, 1, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.log.flush_interval_ms; }));
  t.push_back(integer("log.max_message_bytes",
                      "Largest record batch a producer may send (bytes, after compression).", true,
                      64, 256 * 1024 * 1024,
                      [](BrokerConfig& c) -> int32_t& { return c.log.max_batch_bytes; }));
  t.push_back(text(
      "log.message_timestamp_type",
      "\"create_time\" keeps the producer's timestamps; \"log_append_time\" stamps the "
      "broker's clock on every batch.",
      true,
      [](BrokerConfig& c, const std::string& v) {
        if (v == "create_time") {
          c.log.timestamp_type = TimestampType::kCreateTime;
        } else if (v == "log_append_time") {
          c.log.timestamp_type = TimestampType::kLogAppendTime;
        } else {
          return invalid_setting("must be \"create_time\" or \"log_append_time\", got '" + v + "'");
        }
        return Status::ok();
      },
      [](const BrokerConfig& c) {
        return std::string(c.log.timestamp_type == TimestampType::kCreateTime ? "create_time"
                                                                              : "log_append_time");
      }));
  t.push_back(integer("log.retention_check_interval_ms",
                      "How often retention runs over every partition (ms).", true, 1000, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.retention_check_interval_ms; }));
  t.push_back(integer("log.scrub_bytes_per_second",
                      "The scrub reads every replica's batches back and checks their CRCs, "
                      "at most this many bytes a second; damage it finds is repaired from "
                      "another in-sync replica (runbooks: Data directory damaged). 0: no scrub.",
                      true, 0, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.scrub_bytes_per_second; }));
  t.push_back(integer(
      "log.scrub_interval_ms",
      "Time from the start of one scrub pass over every replica to the start "
      "of the next (ms); the first starts a minute after mqd does (or this long, if shorter).",
      true, 1000, kMaxInt64, [](BrokerConfig& c) -> int64_t& { return c.scrub_interval_ms; }));
  t.push_back(integer("log.cleaner_interval_ms",
                      "How often compaction looks at every partition with cleanup.policy "
                      "compact and compacts those past min.cleanable.dirty.ratio (ms).",
                      true, 1000, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.cleaner_interval_ms; }));

  t.push_back(integer("group.offsets_topic_partitions",
                      "Partitions of the internal topic __consumer_offsets, made when the broker "
                      "first starts; a group lives in one of them. Changing it later strands "
                      "committed offsets.",
                      false, 1, 1000,
                      [](BrokerConfig& c) -> int32_t& { return c.offsets_topic_partitions; }));
  t.push_back(integer("group.initial_rebalance_delay_ms",
                      "How long the first member of an empty group waits for others before the "
                      "first assignment, so a starting fleet rebalances once (ms).",
                      false, 0, 300000, [](BrokerConfig& c) -> int32_t& {
                        return c.group_initial_rebalance_delay_ms;
                      }));
  t.push_back(integer("group.min_session_timeout_ms",
                      "Shortest session timeout a consumer may ask for (ms).", false, 1, 3600000,
                      [](BrokerConfig& c) -> int32_t& { return c.group_min_session_timeout_ms; }));
  t.push_back(integer("group.max_session_timeout_ms",
                      "Longest session timeout a consumer may ask for (ms).", false, 1, 3600000,
                      [](BrokerConfig& c) -> int32_t& { return c.group_max_session_timeout_ms; }));
  t.push_back(integer("group.max_size", "Members a group may have at once.", false, 1, 1000000,
                      [](BrokerConfig& c) -> int32_t& { return c.group_max_size; }));

  t.push_back(integer("storage.min_free_bytes",
                      "Free space the data directory's filesystem keeps: below it produce is "
                      "refused with DISK_FULL (fetches continue) until space returns. 0: only "
                      "when a write finds the disk full.",
                      true, 0, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.min_free_bytes; }));

  t.push_back(integer("server.worker_threads",
                      "Threads that handle requests, besides the network thread.", false, 1, 64,
                      [](BrokerConfig& c) -> int32_t& { return c.worker_threads; }));
  t.push_back(integer("limits.max_inflight_requests",
                      "Requests being handled at once, all clients together; past it the "
                      "broker stops reading the socket, which pushes back on clients.",
                      true, 1, 1000000,
                      [](BrokerConfig& c) -> int64_t& { return c.max_inflight_requests; }));
  t.push_back(integer("limits.max_connections",
                      "Client connections open at once; a connection past it is closed as soon "
                      "as it is accepted. 0: no limit.",
                      true, 0, 10000000,
                      [](BrokerConfig& c) -> int64_t& { return c.max_connections; }));
  t.push_back(integer("limits.max_request_bytes", "Largest request accepted, all frames together.",
                      false, 1024, 1LL << 31,
                      [](BrokerConfig& c) -> int64_t& { return c.max_request_bytes; }));
  t.push_back(integer("limits.buffer_memory_bytes",
                      "Memory for requests and responses in flight; past it the broker stops "
                      "reading new requests until responses drain.",
                      true, 1 << 20, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.buffer_memory_bytes; }));
  t.push_back(integer("limits.fetch_max_wait_ms", "Longest long poll a fetch may ask for (ms).",
                      true, 0, 3600 * 1000,
                      [](BrokerConfig& c) -> int32_t& { return c.fetch_max_wait_ms; }));
  t.push_back(integer("server.shutdown_timeout_ms",
                      "On SIGTERM: how long in-flight requests may take before logs are closed.",
                      true, 0, kMaxInt64,
                      [](BrokerConfig& c) -> int64_t& { return c.shutdown_timeout_ms; }));
  t.push_back(text(
      "logging.level", "\"trace\", \"debug\", \"info\", \"warn\" or \"error\".", true,
      [](BrokerConfig& c, const std::string& v) {
        if (v != "trace" && v != "debug" && v != "info" && v != "warn" && v != "error") {
          return invalid_setting("must be trace, debug, info, warn or error, got '" + v + "'");
        }
        c.log_level = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.log_level; }));

  t.push_back(text(
      "cluster.voters",
      "The metadata quorum's bootstrap voters as ID@HOST:PORT,... (1, 3 or 5; HOST:PORT is "
      "each voter's quorum endpoint). Empty: a cluster of one voter, this node. Their Raft "
      "leader is the active controller. Once the metadata log records a voter set (its first "
      "controller does, and so does every mqctl cluster add-voter / remove-voter) that set "
      "rules, and this list only tells a node with an empty quorum directory whom to ask.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        MQ_ASSIGN_OR_RETURN(c.cluster.voters, parse_quorum_members(v));
        size_t n = c.cluster.voters.size();
        if (n != 0 && n != 1 && n != 3 && n != 5) {
          return invalid_setting("needs 1, 3 or 5 voters, got " + std::to_string(n));
        }
        return Status::ok();
      },
      [](const BrokerConfig& c) { return format_quorum_members(c.cluster.voters); }));
  t.push_back(text(
      "cluster.observers",
      "Brokers that store partitions and follow the metadata log without voting, as "
      "ID@HOST:PORT,... (HOST:PORT is each one's quorum endpoint).",
      false,
      [](BrokerConfig& c, const std::string& v) {
        MQ_ASSIGN_OR_RETURN(c.cluster.observers, parse_quorum_members(v));
        return Status::ok();
      },
      [](const BrokerConfig& c) { return format_quorum_members(c.cluster.observers); }));
  t.push_back(text(
      "listeners.quorum",
      "ZeroMQ endpoint the quorum listens on (tcp://HOST:PORT). Empty: the HOST:PORT of this "
      "node's entry in cluster.voters or cluster.observers, or a free loopback port when "
      "cluster.voters is empty (no other node connects to a cluster of one; set it to an "
      "address the others reach before growing a single node into a cluster).",
      false,
      [](BrokerConfig& c, const std::string& v) {
        if (!v.empty() && v.rfind("tcp://", 0) != 0) {
          return invalid_setting("must start with tcp://, got '" + v + "'");
        }
        c.cluster.quorum_listener = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.cluster.quorum_listener; }));
  t.push_back(text(
      "cluster.rack",
      "This broker's rack (or zone). When racks are set, a partition's replicas go to "
      "different racks.",
      false,
      [](BrokerConfig& c, const std::string& v) {
        if (v.size() > 255) return invalid_setting("at most 255 characters");
        c.cluster.rack = v;
        return Status::ok();
      },
      [](const BrokerConfig& c) { return c.cluster.rack; }));
  t.push_back(
      integer("cluster.broker_heartbeat_interval_ms",
              "How often a broker tells the controller it is alive (ms).", false, 10, 60000,
              [](BrokerConfig& c) -> int32_t& { return c.cluster.broker_heartbeat_interval_ms; }));
  t.push_back(integer(
      "cluster.broker_session_timeout_ms",
      "A broker the controller has not heard from for this long is fenced and its partitions "
      "get new leaders (ms).",
      false, 100, 600000,
      [](BrokerConfig& c) -> int32_t& { return c.cluster.broker_session_timeout_ms; }));
  t.push_back(integer(
      "cluster.controlled_shutdown_timeout_ms",
      "On SIGTERM the broker first asks the controller to move its leaderships to other in-sync "
      "replicas and waits up to this long for them to move before it stops (ms); 0 stops at "
      "once and its partitions fail over after its session timeout.",
      false, 0, 600000,
      [](BrokerConfig& c) -> int32_t& { return c.cluster.controlled_shutdown_timeout_ms; }));
  t.push_back(boolean(
      "cluster.unclean_leader_election",
      "Default of the topic setting unclean.leader.election.enable: when no in-sync replica is "
      "alive, elect any live replica (availability over durability: acknowledged messages can "
      "be lost).",
      true, [](BrokerConfig& c) -> bool& { return c.cluster.unclean_leader_election; }));
  t.push_back(boolean(
      "cluster.auto_leader_rebalance",
      "Move leadership back to each partition's preferred (first) replica when it is in sync.",
      true, [](BrokerConfig& c) -> bool& { return c.cluster.auto_leader_rebalance; }));
  t.push_back(
      integer("cluster.leader_rebalance_interval_ms",
              "How often the controller checks for partitions led by another than their preferred "
              "replica (ms).",
              true, 1000, kMaxInt64,
              [](BrokerConfig& c) -> int64_t& { return c.cluster.leader_rebalance_interval_ms; }));
  t.push_back(integer("quorum.tick_ms", "The quorum's clock: one Raft tick (ms).", false, 5, 1000,
                      [](BrokerConfig& c) -> int32_t& { return c.cluster.quorum_tick_ms; }));
  t.push_back(integer(
      "quorum.election_timeout_ms",
      "A voter that hears nothing from a leader for a random time between this and twice this "
      "starts an election (ms); a leader that cannot reach a majority for this long steps down.",
      false, 50, 60000,
      [](BrokerConfig& c) -> int32_t& { return c.cluster.quorum_election_timeout_ms; }));
  t.push_back(integer("quorum.snapshot_every_entries",
                      "Snapshot the metadata and truncate the quorum log after this many entries.",
                      false, 10, kMaxInt64, [](BrokerConfig& c) -> int64_t& {
                        return c.cluster.quorum_snapshot_every_entries;
                      }));
  t.push_back(integer(
      "replication.lag_time_max_ms",
      "A follower that has not caught up with the leader's log end for this long leaves the "
      "in-sync replicas (ms).",
      true, 100, kMaxInt64,
      [](BrokerConfig& c) -> int64_t& { return c.cluster.replica_lag_time_max_ms; }));
  t.push_back(
      integer("replication.fetch_max_wait_ms",
              "How long a follower's fetch waits at the leader for new data (ms).", true, 0, 10000,
              [](BrokerConfig& c) -> int32_t& { return c.cluster.replica_fetch_max_wait_ms; }));
  t.push_back(integer(
      "replication.fetch_max_bytes", "Most bytes one follower fetch asks for.", true, 1024,
      1LL << 30, [](BrokerConfig& c) -> int64_t& { return c.cluster.replica_fetch_max_bytes; }));
  t.push_back(integer(
      "replication.throttle_bytes_per_sec",
      "Caps what this broker's followers fetch, all partitions together (bytes/s), e.g. while "
      "a reassignment copies partitions. 0: no cap.",
      true, 0, kMaxInt64,
      [](BrokerConfig& c) -> int64_t& { return c.cluster.replica_throttle_bytes_per_sec; }));
  return t;
}

}  // namespace

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = build_settings();
  return table;
}

}  // namespace mq::broker
