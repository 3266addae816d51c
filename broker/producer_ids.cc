// ReplicaManager's producer ids: unique ids handed out in blocks, and the
// epochs InitProducerId bumps. Both live in the metadata log: blocks and
// bumps are decided by the controller, through the sources the cluster node
// sets before the broker serves clients.
#include <spdlog/spdlog.h>

#include "broker/replica_manager.h"

namespace mq::broker {

Result<int64_t> ReplicaManager::allocate_producer_id() {
  std::lock_guard lock(producer_id_mu_);
  if (next_producer_id_ >= producer_id_block_end_) {
    if (!producer_id_source_) {
      return Status(ErrorCode::kNotController, "no producer id block source yet");
    }
    // The controller's blocks are unique cluster-wide and committed in the
    // metadata log, so nothing is persisted here.
    MQ_ASSIGN_OR_RETURN(auto block, producer_id_source_());
    next_producer_id_ = block.first;
    producer_id_block_end_ = block.second;
  }
  return next_producer_id_++;
}

void ReplicaManager::set_producer_id_block_source(ProducerIdBlockSource source) {
  std::lock_guard lock(producer_id_mu_);
  producer_id_source_ = std::move(source);
  next_producer_id_ = 0;
  producer_id_block_end_ = 0;
}

void ReplicaManager::set_producer_epoch_source(ProducerEpochSource source) {
  std::unique_lock lock(producer_epochs_mu_);
  producer_epoch_source_ = std::move(source);
}

Result<ProducerIdAndEpoch> ReplicaManager::bump_producer_epoch(int64_t producer_id,
                                                               int16_t producer_epoch) {
  std::function<Result<std::optional<int16_t>>(int64_t, int16_t)> bump;
  {
    std::shared_lock lock(producer_epochs_mu_);
    bump = producer_epoch_source_.bump;
  }
  if (!bump) return Status(ErrorCode::kNotController, "no producer epoch source yet");
  MQ_ASSIGN_OR_RETURN(std::optional<int16_t> next, bump(producer_id, producer_epoch));
  if (!next) {
    // Epoch 32767 cannot be bumped: the producer continues under a new id.
    MQ_ASSIGN_OR_RETURN(int64_t id, allocate_producer_id());
    spdlog::info("producer {}: its epochs are used up; it continues as producer {}", producer_id,
                 id);
    return ProducerIdAndEpoch{id, 0};
  }
  return ProducerIdAndEpoch{producer_id, *next};
}

int16_t ReplicaManager::producer_epoch(int64_t producer_id) const {
  std::shared_lock lock(producer_epochs_mu_);
  return producer_epoch_source_.current ? producer_epoch_source_.current(producer_id) : 0;
}

}  // namespace mq::broker
