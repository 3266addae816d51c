// Partition: leader appends and fetch wake-ups.
#include "broker/partition.h"

namespace mq::broker {

Partition::Partition(std::string topic, int32_t index, std::unique_ptr<Log> log,
                     int32_t leader_epoch, int32_t min_insync_replicas)
    : topic_(std::move(topic)),
      index_(index),
      log_(std::move(log)),
      leader_epoch_(leader_epoch),
      min_insync_replicas_(min_insync_replicas) {}

Result<AppendResult> Partition::append_as_leader(std::span<uint8_t> batches, int16_t acks) {
  constexpr int32_t kInSyncReplicas = 1;  // this broker alone
  if (acks == -1 && kInSyncReplicas < min_insync_replicas_.load()) {
    return Status(ErrorCode::kNotEnoughReplicas,
                  topic_ + "-" + std::to_string(index_) + ": " + std::to_string(kInSyncReplicas) +
                      " in-sync replica(s), min.insync.replicas is " +
                      std::to_string(min_insync_replicas_.load()));
  }
  Result<AppendResult> result =
      log_->append(batches, {.assign_offsets = true, .leader_epoch = leader_epoch_});
  if (result.is_ok() && !result->duplicate) wake_waiters();
  return result;
}

uint64_t Partition::on_data_after(int64_t offset, std::function<void()> wake) {
  {
    // Checked under the lock that wake_waiters() takes after the end moved,
    // so an append is either seen here or wakes this waiter.
    std::lock_guard lock(waiters_mu_);
    if (high_watermark() <= offset) {
      uint64_t ticket = next_ticket_++;
      waiters_.emplace(ticket, std::move(wake));
      return ticket;
    }
  }
  wake();
  return 0;
}

void Partition::cancel_wait(uint64_t ticket) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase(ticket);
}

void Partition::cancel_all_waits() {
  std::map<uint64_t, std::function<void()>> waiters;
  {
    std::lock_guard lock(waiters_mu_);
    waiters.swap(waiters_);
  }
}

void Partition::wake_waiters() {
  std::map<uint64_t, std::function<void()>> waiters;
  {
    std::lock_guard lock(waiters_mu_);
    if (waiters_.empty()) return;
    waiters.swap(waiters_);
  }
  for (auto& [ticket, wake] : waiters) wake();
}

std::string partition_dir_name(const std::string& topic, int32_t index) {
  return topic + "-" + std::to_string(index);
}

}  // namespace mq::broker
