// Settings of the producer, consumer and admin client, with their defaults.
// Names follow Kafka's client settings (batch.size -> batch_size_bytes, ...)
// with the unit in the name. validate() names the offending setting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/compression.h"
#include "transport/curve.h"

namespace mq::transport {
struct CurveClient;
}

namespace mq::client {

// Parses a comma-separated broker list: "host:port" or "tcp://host:port"
// entries, spaces around commas allowed. Returns ZeroMQ endpoints
// ("tcp://host:port"); kInvalidConfig names the bad entry.
Result<std::vector<std::string>> parse_bootstrap_servers(std::string_view list);

// Encryption (docs/security.md): the brokers' CURVE public key (40
// characters of Z85; empty: plain text) and this client's own secret key
// (empty: a fresh key pair per connection, the client anonymous). While the
// cluster's key pair changes, server_key is both public keys, "OLD,NEW":
// each broker is reached with the one it listens with (transport/curve.h),
// and secret_key may be one per server key, "S1,S2" (password users, whose
// key pair is derived with the server key).
struct CurveSettings {
  std::string server_key;
  std::string secret_key;
  Status validate() const;  // names the malformed key
};

// The transport's form of the settings (one or two server keys); call
// after CurveSettings::validate().
transport::CurveClient curve_client_of(const CurveSettings& curve);

struct ProducerConfig {
  std::string bootstrap_servers;  // required: "host:port,host:port"
  std::string client_id = "mq-producer";
  // -1 (all in-sync replicas), 1 (leader) or 0 (no response, no retries).
  int acks = -1;
  // Producer id + epoch + per-partition sequences: retries never duplicate.
  // Needs acks != 0 and max_in_flight_per_partition <= 5.
  bool enable_idempotence = true;
  int64_t batch_size_bytes = 16 * 1024;  // a partition's batch is sent when it reaches this
  int linger_ms = 5;                     // ... or when its first record has waited this long
  Compression compression = Compression::kNone;
  int64_t buffer_memory_bytes = 32 * 1024 * 1024;  // records accepted but not yet acknowledged
  int max_block_ms = 60'000;  // send() waits this long for buffer memory, then fails
  int max_in_flight_per_partition = 5;
  int retries =
      2'147'483'647;  // retriable failures tolerated per batch (bounded by delivery_timeout_ms)
  int retry_backoff_ms = 100;        // first wait before a retry; doubles per attempt
  int retry_backoff_max_ms = 1'000;  // cap of that doubling
  int request_timeout_ms = 30'000;   // a request without a response by then is failed (and retried)
  int delivery_timeout_ms = 120'000;             // a record not acknowledged by then fails
  int64_t max_request_size_bytes = 1024 * 1024;  // largest record (and batch) sent
  int metadata_max_age_ms = 300'000;             // metadata is refreshed at least this often
  // Metadata asks the broker to create a topic it does not have, which it
  // does when its topics.auto_create allows (Kafka's allow.auto.create.topics).
  bool allow_auto_create_topics = true;

  CurveSettings curve;
  Status validate() const;
};

enum class OffsetReset : uint8_t {
  kEarliest,  // start from the log start offset
  kLatest,    // start from the log end offset (only new records)
  kNone,      // fail poll() with OFFSET_OUT_OF_RANGE; the application seeks
};
std::string_view offset_reset_name(OffsetReset reset);
Result<OffsetReset> parse_offset_reset(std::string_view name);

struct ConsumerConfig {
  std::string bootstrap_servers;  // required
  std::string client_id = "mq-consumer";
  // Where to start a partition with no position, or whose position left the log.
  OffsetReset auto_offset_reset = OffsetReset::kLatest;
  int fetch_min_bytes = 1;                      // the broker answers once this much is available
  int fetch_max_wait_ms = 500;                  // ... or after this long
  int fetch_max_bytes = 50 * 1024 * 1024;       // per fetch response
  int max_partition_fetch_bytes = 1024 * 1024;  // per partition in a fetch response
  int max_poll_records = 500;                   // records returned by one poll()
  bool check_crcs = true;                       // verify each fetched batch's CRC32C
  int request_timeout_ms = 30'000;
  int retry_backoff_ms = 100;  // wait before re-asking after a failed fetch or metadata call
  // How long position() and offset_for() keep asking through retriable errors.
  int default_api_timeout_ms = 60'000;

  // Consumer groups (subscribe). Empty group_id: no group, assign() only.
  std::string group_id;
  // Static membership id. A broadcast member's offsets are kept under it (or,
  // without one, under client_id), so it must be unique to the member.
  std::optional<std::string> group_instance_id;
  int session_timeout_ms = 45'000;    // the coordinator drops a member not heard from for this long
  int heartbeat_interval_ms = 3'000;  // between heartbeats; below session_timeout_ms
  // Longest gap between poll() calls. Sent as JoinGroup's rebalance_timeout_ms
  // (how long the coordinator waits for members to rejoin); a member that does
  // not poll for this long leaves the group so its partitions move.
  int max_poll_interval_ms = 300'000;
  // Assignors offered to the coordinator, preferred first: sticky, range,
  // roundrobin, or broadcast alone (every member gets every partition).
  std::vector<std::string> partition_assignment_strategy = {"sticky"};
  bool enable_auto_commit = true;  // commit positions from poll() every auto_commit_interval_ms
  int auto_commit_interval_ms = 5'000;

  CurveSettings curve;
  Status validate() const;
};

// Parses a comma-separated assignor list ("sticky,range"), spaces allowed;
// kInvalidConfig names a bad or repeated entry.
Result<std::vector<std::string>> parse_assignment_strategies(std::string_view list);

struct AdminConfig {
  std::string bootstrap_servers;  // required
  std::string client_id = "mq-admin";
  int request_timeout_ms = 30'000;  // one request
  // One call, retries included (Kafka's default.api.timeout.ms): a call that
  // meets a retriable error (a broker down or restarting, a leader or
  // controller moving) finds the new one and tries again until this is up.
  int default_api_timeout_ms = 60'000;
  int retry_backoff_ms = 100;        // first wait before a retry; doubles per attempt
  int retry_backoff_max_ms = 1'000;  // cap of that doubling

  CurveSettings curve;
  Status validate() const;
};

}  // namespace mq::client
