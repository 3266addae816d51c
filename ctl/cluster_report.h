// What mqctl reports about the cluster during an incident: the registered
// brokers with their state (`cluster brokers`), and the health evaluation of
// `cluster health` — from what the cluster says (brokers, whether each one
// answers, partitions with their ISR, each topic's min.insync.replicas) to a
// list of findings. No I/O here, so every rule is unit-tested
// (tests/ctl/cluster_report_test.cc); the commands gather the inputs.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/admin.h"
#include "client/metadata.h"

namespace mq::ctl {

// "active", "fenced" or "shutting-down" (in controlled shutdown, not yet fenced).
std::string_view broker_state_name(const client::RegisteredBroker& broker);

// `cluster brokers`: [{"id", "host", "port", "rack", "controller", "fenced",
// "in_controlled_shutdown"}]; the table ID HOST PORT RACK STATE CONTROLLER.
nlohmann::ordered_json brokers_json(const client::BrokerListing& listing);
std::string brokers_table(const nlohmann::ordered_json& brokers);

inline constexpr std::string_view kMinInsyncReplicas = "min.insync.replicas";
// The topic's min.insync.replicas among its configs (DescribeConfigs), or why it is not known.
Result<int32_t> min_insync_replicas_of(const Result<std::vector<client::ConfigEntry>>& configs);

// A registered broker, and what became of our own request to it.
struct BrokerObservation {
  client::RegisteredBroker registration;
  Status reached;  // ok: it answered
};

// Everything the evaluation looks at.
struct HealthInput {
  int32_t controller_id = -1;  // -1: no active controller known
  std::vector<BrokerObservation> brokers;
  std::map<std::string, client::TopicInfo> topics;
  // Per topic: its min.insync.replicas, or why it could not be read.
  std::map<std::string, Result<int32_t>> min_insync_replicas;
};

enum class FindingKind {
  kNoController,              // the metadata quorum has no leader
  kBrokerFenced,              // registered but fenced: down, cut off, or catching up
  kBrokerShuttingDown,        // in controlled shutdown
  kBrokerUnreachable,         // unfenced, but did not answer mqctl
  kPartitionOffline,          // no leader: neither produce nor fetch works
  kPartitionUnderMinIsr,      // ISR < min.insync.replicas: acks=all produce fails
  kPartitionUnderReplicated,  // ISR < replicas: redundancy reduced
  kCheckFailed,               // something could not be checked (so health is not known)
};

// "no-controller", "broker-fenced", ..., "partition-offline", ..., "check-failed".
std::string_view finding_kind_name(FindingKind kind);

struct Finding {
  FindingKind kind = FindingKind::kCheckFailed;
  std::optional<int32_t> broker;                   // broker findings
  std::string topic;                               // partition findings; check-failed on a topic
  std::optional<client::PartitionInfo> partition;  // partition findings
  std::optional<int32_t> min_insync_replicas;      // partition findings, when known
  std::string detail;                              // for people
};

struct PartitionCounts {
  int64_t total = 0;
  int64_t offline = 0;
  int64_t under_min_isr = 0;
  int64_t under_replicated = 0;
};

struct HealthReport {
  std::vector<Finding> findings;  // brokers first (by id), then partitions (by topic, number)
  PartitionCounts partitions;
  bool healthy() const { return findings.empty(); }
};

// The rules (docs/mqctl.md, cluster health), with the definitions of the
// mq_partitions_* metrics: a partition without a leader is offline and
// nothing else is said of it; a partition with a leader is under min ISR when
// its ISR is smaller than its topic's min.insync.replicas, and (also)
// under-replicated when its ISR is smaller than its replica set.
// Brokers: fenced, else shutting down, else unreachable — one finding each.
HealthReport evaluate_health(const HealthInput& input);

// `cluster health -o json`: {"healthy", "controller_id", "brokers": [...],
// "partitions": {counts}, "findings": [...], "leaderless_partitions": [...]}.
nlohmann::ordered_json health_json(const HealthInput& input, const HealthReport& report);
// The same when the cluster could not be asked at all: unhealthy, with `error`.
nlohmann::ordered_json health_error_json(const std::string& error);
std::string health_table(const nlohmann::ordered_json& doc);

}  // namespace mq::ctl
