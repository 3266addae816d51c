// DelayedDelivery: the leader's side of delayed delivery (docs/messaging.md,
// "Delayed delivery"). One thread watches the partitions this broker leads;
// when a scheduled record's time comes (and the record is committed), it
// appends a delivered copy of it to the same partition, which removes it
// from every replica's schedule (store/schedule_index.h). Cancels are
// appended here too, so a message is never both delivered and cancelled.
//
// A copy appended by a leader that then loses its leadership is either
// committed (every new leader's log has it, so its schedule says delivered)
// or cut by the next leader (which then delivers it): each message is
// delivered once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "broker/broker_metrics.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"

namespace mq::broker {

class DelayedDelivery {
 public:
  // Most copies one append carries.
  static constexpr size_t kMaxCopiesPerBatch = 2000;

  DelayedDelivery(ReplicaManager& replicas, BrokerMetrics& metrics)
      : replicas_(replicas), metrics_(metrics) {}
  ~DelayedDelivery() { stop(); }
  DelayedDelivery(const DelayedDelivery&) = delete;
  DelayedDelivery& operator=(const DelayedDelivery&) = delete;

  void start();
  void stop();

  // Cancels the pending delayed messages at `offsets` of `partition` (led
  // here) by appending one batch of cancel records; the caller answers once
  // it is committed (CancelDelayed waits for the high watermark to pass
  // `last_offset` in `epoch`, as acks=all does). Per offset in `results`:
  // ok for one in the batch (listed in `appended_for`), NOT_FOUND when no
  // message is pending there (delivered, cancelled, never scheduled, or
  // named twice), NOT_LEADER when the partition moved, or the append's error.
  struct CancelAppend {
    std::vector<Status> results;
    std::vector<size_t> appended_for;  // indexes of `offsets` in the batch
    int64_t last_offset = -1;
    int32_t epoch = 0;
  };
  CancelAppend append_cancels(Partition& partition, const std::vector<int64_t>& offsets);

  // Delivers what is due in `partition` now, if this broker leads it; returns
  // how many copies it appended. The loop calls it; tests may too.
  Result<size_t> deliver_due(Partition& partition, int64_t now_ms);

 private:
  void run();

  ReplicaManager& replicas_;
  BrokerMetrics& metrics_;
  std::mutex work_mu_;  // one delivery or cancel at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mq::broker
