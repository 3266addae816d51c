// Requests appended or applied on partition leaders that are answered only
// once each partition's followers have caught up with them: acks=all
// produces (the high watermark passes the batch, Kafka's DelayedProduce) and
// DeleteRecords (the low watermark reaches the new log start, Kafka's
// DelayedDeleteRecords). PartitionWaits waits without holding a thread until
// every target settles, leadership moves (NOT_LEADER) or the deadline passes
// (REQUEST_TIMED_OUT).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "broker/partition.h"
#include "broker/scheduler.h"

namespace mq::broker {

class PartitionWaits : public std::enable_shared_from_this<PartitionWaits> {
 public:
  // One partition's condition.
  struct Target {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = 0;  // the epoch the operation was done in
    // Settles once `bound` passes `offset` (or the outcome says so sooner).
    int64_t offset = 0;
    WaitBound bound = WaitBound::kHighWatermark;
    size_t topic_index = 0;      // where its answer is in the response
    size_t partition_index = 0;  // within that topic
  };
  // The target's outcome now: nullopt while it waits.
  using Outcome = std::function<std::optional<ErrorCode>(const Target&)>;
  // Each target's outcome, in order; REQUEST_TIMED_OUT for one the deadline found waiting.
  using Done = std::function<void(const std::vector<Target>&, const std::vector<ErrorCode>&)>;

  // Calls `done` exactly once. Wake-ups and the deadline run on `scheduler`'s workers.
  static void start(Scheduler& scheduler, std::vector<Target> targets, Outcome outcome,
                    Scheduler::Clock::time_point deadline, Done done);

 private:
  struct Entry {
    Target target;
    std::optional<ErrorCode> outcome;
    uint64_t ticket = 0;
  };
  PartitionWaits(Scheduler& scheduler, std::vector<Target> targets, Outcome outcome, Done done);
  // Settles what can be settled; answers when nothing waits any more, else
  // waits on the partitions again.
  void check();
  // The deadline: what is still waiting times out.
  void expire();
  void cancel_waits_locked();
  void finish();

  Scheduler& scheduler_;
  Outcome outcome_;
  std::mutex mu_;
  std::vector<Entry> entries_;
  Done done_;
  bool finished_ = false;
  std::atomic<bool> check_queued_{false};
};

}  // namespace mq::broker
