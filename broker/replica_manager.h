// The partitions this broker holds, and the topic metadata that defines them:
// topics are created, grown, reconfigured and deleted here, and their logs
// opened (recovered) at start-up. Persisted in data_dir as checkpoints:
//
//   topics.checkpoint   mq-topics 1
//                       <name> <partitions> <replication_factor> [<key>=<value> ...]
//   broker.checkpoint   mq-broker 1
//                       cluster_id <id>
//                       producer_id_block <next unallocated producer id block>
//                       producer_epoch <producer id> <epoch>   (each id InitProducerId bumped)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/config.h"
#include "broker/partition.h"
#include "broker/topic_config.h"

namespace mq::broker {

struct TopicInfo {
  std::string name;
  int32_t partitions = 0;
  int16_t replication_factor = 1;
  TopicOverrides configs;
};

struct ProducerIdAndEpoch {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
};

// A fresh random cluster id (22 hex digits).
std::string new_cluster_id();

class ReplicaManager {
 public:
  // Loads the topic list and opens (recovering as needed) every partition's log.
  static Result<std::unique_ptr<ReplicaManager>> open(const BrokerConfig& config);
  ~ReplicaManager();

  Status create_topic(const std::string& name, int32_t partitions, int16_t replication_factor,
                      const TopicOverrides& configs, bool validate_only);
  Status delete_topic(const std::string& name);
  Status add_partitions(const std::string& name, int32_t total, bool validate_only);
  // Sets and removes overrides in one step; validate_only checks without applying.
  Status alter_topic_configs(const std::string& name, const TopicOverrides& set,
                             const std::vector<std::string>& remove, bool validate_only);
  // New broker defaults (SIGHUP): every partition picks up what it does not override.
  Status apply_defaults(const BrokerConfig& config);

  std::shared_ptr<Partition> partition(const std::string& topic, int32_t index) const;
  std::optional<TopicInfo> topic(const std::string& name) const;
  std::vector<TopicInfo> topics() const;
  std::vector<std::shared_ptr<Partition>> partitions() const;
  const std::string& cluster_id() const { return cluster_id_; }
  BrokerConfig config() const;
  // The longest long poll allowed; read on every fetch, so no config copy.
  int32_t fetch_max_wait_ms() const {
    std::shared_lock lock(mu_);
    return config_.fetch_max_wait_ms;
  }

  // A fresh idempotent producer id (persisted in blocks, never reused).
  Result<int64_t> allocate_producer_id();
  // InitProducerId with an existing id and the epoch its producer holds, by
  // metadata::next_producer_epoch(): the id at its next epoch (fencing the
  // older ones), the current epoch again for a retry, or a new id at epoch 0
  // once the id's epochs are used up. INVALID_PRODUCER_EPOCH for another
  // epoch, UNKNOWN_PRODUCER_ID for an id never handed out. A single node
  // decides here and persists the epoch (broker.checkpoint) before answering;
  // a cluster asks its ProducerEpochSource.
  Result<ProducerIdAndEpoch> bump_producer_epoch(int64_t producer_id, int16_t producer_epoch);
  // The current epoch of `producer_id` (0 unless bumped): the produce path
  // refuses batches of an older epoch (INVALID_PRODUCER_EPOCH).
  int16_t producer_epoch(int64_t producer_id) const;

  // Cluster mode (config.cluster.enabled()): the metadata log owns the topic
  // list, and this broker holds only the partitions it is a replica of. The
  // broker reconciles through these calls; none of them writes
  // topics.checkpoint, and the single-node calls above (create_topic,
  // delete_topic, add_partitions, alter_topic_configs) refuse to run.
  bool cluster_mode() const { return cluster_mode_; }
  // Adds or updates a topic known from the metadata; new settings reach the
  // replicas already open.
  Status put_topic(const TopicInfo& topic);
  // This broker's replica of a partition of a known topic, opened (recovered,
  // or created empty) if it is not open yet.
  Result<std::shared_ptr<Partition>> open_replica(const std::string& topic, int32_t index);
  // Closes and deletes this broker's replica (moved away, or its topic deleted).
  Status remove_replica(const std::string& topic, int32_t index);
  // Forgets a deleted topic, removing its local replicas.
  Status remove_topic(const std::string& name);
  // Where producer id blocks come from in a cluster (the controller): returns
  // [first, end) of a fresh block.
  using ProducerIdBlockSource = std::function<Result<std::pair<int64_t, int64_t>>()>;
  void set_producer_id_block_source(ProducerIdBlockSource source);
  // Where producer epochs live in a cluster (the metadata log). Set before
  // the broker serves clients.
  struct ProducerEpochSource {
    // Decides a bump (the controller): the id's epoch now, nullopt when used up.
    std::function<Result<std::optional<int16_t>>(int64_t producer_id, int16_t producer_epoch)> bump;
    // The id's current epoch (this broker's metadata image).
    std::function<int16_t(int64_t producer_id)> current;
  };
  void set_producer_epoch_source(ProducerEpochSource source);

  // Whether the previous run of this broker closed every log cleanly (the
  // marker file "clean_shutdown" in data_dir, written by close() and removed
  // at start-up). A broker that did not is never elected from the eligible
  // leader replicas (KIP-966): its unsynced tail may be gone.
  bool previous_shutdown_clean() const { return previous_shutdown_clean_; }

  // Background work, called by the broker's housekeeping thread.
  void flush_due();
  int apply_retention();
  // One compaction pass over each partition with cleanup.policy compact whose
  // dirty ratio is reached. Returns how many were compacted.
  int compact_logs();
  // Closes every log cleanly (flush, checkpoints, clean-shutdown marker).
  Status close();

 private:
  explicit ReplicaManager(BrokerConfig config)
      : config_(std::move(config)), cluster_mode_(config_.cluster.enabled()) {}
  Status load();
  Status refuse_in_cluster_mode(const char* what) const;
  // Closes a partition's log and removes its directory (rename, then delete).
  static void delete_partition_files(const std::shared_ptr<Partition>& partition);
  Status persist_topics_locked();
  // mu_ held exclusively, and producer_id_mu_ once clients are served (the
  // block and the epochs it writes).
  Status persist_broker_state_locked();
  Result<std::shared_ptr<Partition>> open_partition(const TopicInfo& topic, int32_t index);

  mutable std::shared_mutex mu_;
  BrokerConfig config_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<Partition>> partitions_;
  std::string cluster_id_;
  bool cluster_mode_ = false;
  bool previous_shutdown_clean_ = false;
  bool closed_ = false;
  std::mutex producer_id_mu_;
  int64_t next_producer_id_ = 0;
  int64_t producer_id_block_end_ = 0;         // persisted; ids below it may have been handed out
  ProducerIdBlockSource producer_id_source_;  // cluster mode
  // Single node: the ids whose epoch was bumped (persisted). Written under
  // producer_id_mu_ too, so a bump and its persisting are one step.
  mutable std::shared_mutex producer_epochs_mu_;
  std::map<int64_t, int16_t> producer_epochs_;
  ProducerEpochSource producer_epoch_source_;  // cluster mode; guarded by producer_epochs_mu_
};

}  // namespace mq::broker
