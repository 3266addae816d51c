// What the client knows of the cluster: brokers, topics, partitions and their
// leaders, as learned from Metadata responses. Admin::describe_cluster returns it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/metadata.h"

namespace mq::client {

struct BrokerInfo {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;

  std::string endpoint() const { return "tcp://" + host + ":" + std::to_string(port); }
};

struct PartitionInfo {
  int32_t partition = 0;
  ErrorCode error = ErrorCode::kNone;  // e.g. LEADER_NOT_AVAILABLE
  int32_t leader_id = -1;              // -1: no leader now
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  // When this leader_epoch was learned (steady clock, ms): for a short
  // while an answer naming an older epoch (a broker that has not applied
  // the change yet) does not replace it.
  int64_t leader_learned_ms = 0;
};

struct TopicInfo {
  std::string name;
  ErrorCode error = ErrorCode::kNone;  // e.g. UNKNOWN_TOPIC_OR_PARTITION
  bool is_internal = false;
  std::vector<PartitionInfo> partitions;  // indexed by partition number
};

struct ClusterMetadata {
  std::vector<BrokerInfo> brokers;
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::map<std::string, TopicInfo> topics;

  const BrokerInfo* broker(int32_t node_id) const;
  const TopicInfo* topic(const std::string& name) const;
  const PartitionInfo* partition(const std::string& topic, int32_t partition) const;
  // Partitions of a topic that exists without error, 0 otherwise.
  int32_t partition_count(const std::string& topic) const;

  // Replaces brokers and controller, and the topics the response describes,
  // except that a partition's leader learned less than kKeepNewerLeaderMs
  // ago in a newer leader epoch than the response's stays (same partition
  // count only: a re-created topic starts its epochs again).
  void merge(const transport::MetadataResponse& response, int64_t now_ms);
  static constexpr int64_t kKeepNewerLeaderMs = 5'000;
};

}  // namespace mq::client
