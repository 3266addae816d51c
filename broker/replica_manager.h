// The partitions this broker holds, and the topic metadata that defines
// them, as the metadata log names them: the broker opens (recovering as
// needed), reconfigures and removes replicas through it. Producer ids and
// epochs come from the controller (the metadata log) through their sources.
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

class ReplicaManager {
 public:
  // Opens the data directory (and reads its clean-shutdown marker). Replicas open as the metadata
  // log names them (open_replica).
  static Result<std::unique_ptr<ReplicaManager>> open(const BrokerConfig& config);
  ~ReplicaManager();

  // New broker defaults (SIGHUP): every partition picks up what it does not override.
  Status apply_defaults(const BrokerConfig& config);

  std::shared_ptr<Partition> partition(const std::string& topic, int32_t index) const;
  std::optional<TopicInfo> topic(const std::string& name) const;
  std::vector<TopicInfo> topics() const;
  std::vector<std::shared_ptr<Partition>> partitions() const;
  BrokerConfig config() const;
  // The longest long poll allowed; read on every fetch, so no config copy.
  int32_t fetch_max_wait_ms() const {
    std::shared_lock lock(mu_);
    return config_.fetch_max_wait_ms;
  }

  // A fresh idempotent producer id, from this broker's current block (a new
  // block comes from the ProducerIdBlockSource: unique cluster-wide).
  Result<int64_t> allocate_producer_id();
  // InitProducerId with an existing id and the epoch its producer holds, by
  // metadata::next_producer_epoch(): the id at its next epoch (fencing the
  // older ones), the current epoch again for a retry, or a new id at epoch 0
  // once the id's epochs are used up. INVALID_PRODUCER_EPOCH for another
  // epoch, UNKNOWN_PRODUCER_ID for an id never handed out. Decided by the
  // ProducerEpochSource (the controller).
  Result<ProducerIdAndEpoch> bump_producer_epoch(int64_t producer_id, int16_t producer_epoch);
  // The current epoch of `producer_id` (0 unless bumped): the produce path
  // refuses batches of an older epoch (INVALID_PRODUCER_EPOCH).
  int16_t producer_epoch(int64_t producer_id) const;

  // The metadata log owns the topic list, and this broker holds only the
  // partitions it is a replica of. The broker reconciles through these calls.
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
  explicit ReplicaManager(BrokerConfig config) : config_(std::move(config)) {}
  Status load();
  // Closes a partition's log and removes its directory (rename, then delete).
  static void delete_partition_files(const std::shared_ptr<Partition>& partition);
  Result<std::shared_ptr<Partition>> open_partition(const TopicInfo& topic, int32_t index);

  mutable std::shared_mutex mu_;
  BrokerConfig config_;
  std::map<std::string, TopicInfo> topics_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<Partition>> partitions_;
  bool previous_shutdown_clean_ = false;
  bool closed_ = false;
  std::mutex producer_id_mu_;
  int64_t next_producer_id_ = 0;
  int64_t producer_id_block_end_ = 0;
  ProducerIdBlockSource producer_id_source_;
  mutable std::shared_mutex producer_epochs_mu_;
  ProducerEpochSource producer_epoch_source_;  // guarded by producer_epochs_mu_
};

}  // namespace mq::broker
