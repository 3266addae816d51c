// Admin: topics, partitions, configs, offsets and cluster metadata, for
// mqctl and applications. Every call is synchronous and thread-safe (calls
// are serialized: the connections belong to one thread at a time).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/metadata.h"
#include "client/record.h"
#include "transport/configs.h"

namespace mq::client {

class Cluster;

struct NewTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1 = the broker's default
  int16_t replication_factor = -1;  // -1 = the broker's default
  std::map<std::string, std::string> configs;
};

// The outcome for one named thing (topic, config resource) of a batch call.
struct ItemResult {
  std::string name;
  Status status;
};

struct ConfigResource {
  transport::ConfigResourceType type = transport::ConfigResourceType::kTopic;
  std::string name;  // topic name, or broker id in decimal
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool read_only = false;
  transport::ConfigSource source = transport::ConfigSource::kDefault;
  bool is_sensitive = false;
};

// value nullopt = delete the key (revert to its default).
struct ConfigChange {
  std::string name;
  std::optional<std::string> value;
};

struct ListedOffset {
  int64_t offset = -1;     // -1: no record matches the timestamp
  int64_t timestamp = -1;  // of the found record; -1 for earliest/latest
  int32_t leader_epoch = -1;
};

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> create(const AdminConfig& config);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // The request-level error as the Status; per-item errors in the results.
  Result<std::vector<ItemResult>> create_topics(const std::vector<NewTopic>& topics,
                                                bool validate_only = false);
  Result<std::vector<ItemResult>> delete_topics(const std::vector<std::string>& topics);
  // Grows each topic to the given total number of partitions.
  Result<std::vector<ItemResult>> create_partitions(const std::map<std::string, int32_t>& totals,
                                                    bool validate_only = false);

  // keys nullopt = every key.
  Result<std::vector<ConfigEntry>> describe_configs(
      const ConfigResource& resource,
      const std::optional<std::vector<std::string>>& keys = std::nullopt);
  Status alter_configs(const ConfigResource& resource, const std::vector<ConfigChange>& changes,
                       bool validate_only = false);

  // kEarliestTimestamp (-2), kLatestTimestamp (-1) or a time in ms per
  // partition; each asked of the partition's leader.
  Result<std::map<TopicPartition, ListedOffset>> list_offsets(
      const std::map<TopicPartition, int64_t>& timestamps);

  // Brokers, controller and topics (nullopt = all topics).
  Result<ClusterMetadata> describe_cluster(
      const std::optional<std::vector<std::string>>& topics = std::nullopt);

 private:
  explicit Admin(std::unique_ptr<Cluster> cluster);
  // The controller per the metadata, else any broker.
  Result<int32_t> controller();
  // Sends to the controller; on NOT_CONTROLLER refreshes metadata and tries once more.
  template <class Request>
  Result<typename Request::Response> call_controller(const Request& request);

  std::mutex mu_;
  std::unique_ptr<Cluster> cluster_;
};

}  // namespace mq::client
