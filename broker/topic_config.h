// Topic-level settings, by their Kafka names (retention.ms, segment.bytes, ...).
// A topic stores only its overrides; everything else comes from the broker's
// [log] and [topics] defaults, so a SIGHUP that changes a default reaches
// every topic that does not override it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/config.h"
#include "store/log_config.h"

namespace mq::broker {

using TopicOverrides = std::map<std::string, std::string>;

// Checks one override: the key is known and the value parses and is in range.
Status validate_topic_config(const std::string& key, const std::string& value);

// The settings a topic's partitions run with.
struct EffectiveTopicConfig {
  LogConfig log;
  int32_t min_insync_replicas = 1;
  // Read by the controller (metadata/): elect a replica outside the ISR
  // when none in it is alive. Default: cluster.unclean_leader_election.
  bool unclean_leader_election = false;
  // Queue consumption (docs/messaging.md): how many times a message is handed
  // out before it is held for the dead-letter topic, and the wait before it
  // is handed out again after its n-th delivery ended without an ack (the
  // last figure repeats). RocketMQ's defaults.
  int32_t queue_max_deliveries = 16;
  std::vector<int64_t> queue_retry_backoff_ms = {10000,   30000,   60000,   120000, 180000, 240000,
                                                 300000,  360000,  420000,  480000, 540000, 600000,
                                                 1200000, 1800000, 3600000, 7200000};
};

// "10000,30000" -> {10000, 30000}: 1 to 64 figures, each 0..86400000.
Result<std::vector<int64_t>> parse_backoff_list(const std::string& key, const std::string& value);
EffectiveTopicConfig effective_topic_config(const BrokerConfig& defaults,
                                            const TopicOverrides& overrides);

struct DescribedConfig {
  std::string name;
  std::string value;
  bool is_default;  // from the broker's defaults, not set on the topic
};
// Every topic setting with its value, for DescribeConfigs.
std::vector<DescribedConfig> describe_topic_config(const BrokerConfig& defaults,
                                                   const TopicOverrides& overrides);

// Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not "." or "..".
Status validate_topic_name(const std::string& name);

}  // namespace mq::broker
