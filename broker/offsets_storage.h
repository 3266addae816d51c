// The group coordinator's view of this broker: the partitions of
// __consumer_offsets it leads, and the shapes and high watermarks of the data
// topics (for assignments and lag). In cluster mode it also creates the
// offsets topic through the controller once enough brokers have registered.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

#include "broker/cluster_node.h"
#include "broker/replica_manager.h"
#include "group/coordinator.h"

namespace mq::broker {

class OffsetsStorage : public group::GroupStorage {
 public:
  // `commit_timeout_ms` bounds how long a replicated append waits for the
  // high watermark (the calling worker thread waits that long at most).
  explicit OffsetsStorage(ReplicaManager& replicas, int64_t commit_timeout_ms = 5000)
      : replicas_(replicas), commit_timeout_ms_(commit_timeout_ms) {}
  ~OffsetsStorage() override;  // stop_creating()

  // A thread that, once this broker is registered and
  // unfenced, creates __consumer_offsets through the controller if the
  // metadata lacks it: `partitions` partitions, compacted, replication factor
  // min(3, registered brokers). It waits (at most `grace_ms` from its start)
  // for min(3, cluster size) brokers to register so a cluster starting
  // together gets full replication. TOPIC_ALREADY_EXISTS (another broker was
  // first) ends it too; other failures are retried every second. A topic
  // with another partition count is a configuration error: groups hash to
  // partitions by the setting, so `on_fatal` is called with the reason.
  void start_creating(ClusterNode& cluster, const BrokerConfig& config, int32_t partitions,
                      std::function<void(const std::string&)> on_fatal, int64_t grace_ms = 30000);
  void stop_creating();

  Status append(int32_t partition, std::string batch, Durability durability) override;
  Status wait_committed(int32_t partition, const std::function<bool()>& cancelled) override;
  Status replay(int32_t partition, const std::function<Status(const Record&)>& each) override;
  std::optional<int32_t> partition_count(const std::string& topic) const override;
  int64_t high_watermark(const std::string& topic, int32_t partition) const override;

  // The settings __consumer_offsets is created with.
  static TopicOverrides topic_overrides();

 private:
  // The offsets partition if this broker leads it, else nullptr.
  std::shared_ptr<Partition> led(int32_t partition) const;
  void create_loop(ClusterNode& cluster, int32_t wanted_brokers, int32_t partitions,
                   const std::function<void(const std::string&)>& on_fatal, int64_t grace_ms);

  ReplicaManager& replicas_;
  const int64_t commit_timeout_ms_;
  std::mutex creator_mu_;
  std::condition_variable creator_cv_;
  bool creator_stop_ = false;
  std::thread creator_;
};

}  // namespace mq::broker
