// The group coordinator's view of this broker: the partitions of
// __consumer_offsets it leads, and the shapes and high watermarks of the data
// topics (for assignments and lag).
#pragma once

#include "broker/replica_manager.h"
#include "group/coordinator.h"

namespace mq::broker {

class OffsetsStorage : public group::GroupStorage {
 public:
  explicit OffsetsStorage(ReplicaManager& replicas) : replicas_(replicas) {}

  // Creates __consumer_offsets (compacted, `partitions` partitions) unless it exists.
  Status ensure_topic(int32_t partitions);

  Status append(int32_t partition, std::string batch) override;
  Status replay(int32_t partition, const std::function<Status(const Record&)>& each) override;
  std::optional<int32_t> partition_count(const std::string& topic) const override;
  int64_t high_watermark(const std::string& topic, int32_t partition) const override;

 private:
  ReplicaManager& replicas_;
};

}  // namespace mq::broker
