// DelayedDelivery: the leader's side of delayed delivery (docs/messaging.md,
// "Delayed delivery"). One thread watches the partitions this broker leads;
// when a scheduled record's time comes (and the record is committed), it
// appends a delivered copy of it to the same partition, which removes it
// from every replica's schedule (store/schedule_index.h). Cancels go through
// here too, so a message is never both delivered and cancelled.
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
  // here): appends one batch of cancel records and waits (at most
  // `timeout_ms`, on the calling thread) until it is committed. Per offset:
  // ok, NOT_FOUND when no message is pending there (delivered, cancelled,
  // never scheduled, or named twice), NOT_LEADER when the partition moved,
  // REQUEST_TIMED_OUT when the cancel was appended but not committed in time.
  std::vector<Status> cancel(Partition& partition, const std::vector<int64_t>& offsets,
                             int64_t timeout_ms = 5000);

  // Delivers what is due in `partition` now, if this broker leads it; returns
  // how many copies it appended. The loop calls it; tests may too.
  Result<size_t> deliver_due(Partition& partition, int64_t now_ms);

 private:
  void run();
  // Waits until the high watermark passes `last_offset`, appended in `epoch`.
  static Status wait_committed(Partition& partition, int64_t last_offset, int32_t epoch,
                               int64_t timeout_ms);

  ReplicaManager& replicas_;
  BrokerMetrics& metrics_;
  std::mutex work_mu_;  // one delivery or cancel at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mq::broker
