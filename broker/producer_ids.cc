// ReplicaManager's producer ids: unique ids handed out in blocks, and the
// epochs InitProducerId bumps. A single node keeps both in broker.checkpoint;
// a cluster keeps them in the metadata log, through the controller.
#include <spdlog/spdlog.h>

#include "broker/replica_manager.h"
#include "metadata/controller.h"

namespace mq::broker {
namespace {

constexpr int64_t kProducerIdBlock = 1000;

}  // namespace

Result<int64_t> ReplicaManager::allocate_producer_id() {
  std::lock_guard lock(producer_id_mu_);
  if (next_producer_id_ >= producer_id_block_end_ && producer_id_source_) {
    // The controller's blocks are unique cluster-wide and committed in the
    // metadata log, so nothing is persisted here.
    MQ_ASSIGN_OR_RETURN(auto block, producer_id_source_());
    next_producer_id_ = block.first;
    producer_id_block_end_ = block.second;
  } else if (next_producer_id_ >= producer_id_block_end_) {
    // Persist the end of the next block before handing out any id in it, so a
    // restart can never hand out the same id twice.
    std::unique_lock state_lock(mu_);
    producer_id_block_end_ = next_producer_id_ + kProducerIdBlock;
    MQ_RETURN_IF_ERROR(persist_broker_state_locked());
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
  std::function<Result<std::optional<int16_t>>(int64_t, int16_t)> cluster_bump;
  {
    std::shared_lock lock(producer_epochs_mu_);
    cluster_bump = producer_epoch_source_.bump;
  }
  std::optional<int16_t> next;
  if (cluster_bump) {
    MQ_ASSIGN_OR_RETURN(next, cluster_bump(producer_id, producer_epoch));
  } else {
    std::lock_guard lock(producer_id_mu_);
    if (producer_id >= producer_id_block_end_) {
      return Status(ErrorCode::kUnknownProducerId,
                    "producer id " + std::to_string(producer_id) + " was never handed out");
    }
    int16_t current = this->producer_epoch(producer_id);
    MQ_ASSIGN_OR_RETURN(next, metadata::next_producer_epoch(producer_id, current, producer_epoch));
    if (next && *next != current) {
      // Persisted before it is answered: after a restart the older epochs
      // stay fenced.
      std::unique_lock state_lock(mu_);
      {
        std::unique_lock epochs(producer_epochs_mu_);
        producer_epochs_[producer_id] = *next;
      }
      Status persisted = persist_broker_state_locked();
      if (!persisted.is_ok()) {
        std::unique_lock epochs(producer_epochs_mu_);
        if (current == 0) {
          producer_epochs_.erase(producer_id);
        } else {
          producer_epochs_[producer_id] = current;
        }
        return persisted;
      }
    }
  }
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
  if (producer_epoch_source_.current) return producer_epoch_source_.current(producer_id);
  auto it = producer_epochs_.find(producer_id);
  return it == producer_epochs_.end() ? 0 : it->second;
}

}  // namespace mq::broker
