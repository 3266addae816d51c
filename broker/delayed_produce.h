// An acks=all produce whose batches are appended and which now waits,
// without holding a thread, until each partition's high watermark passes its
// batch; or until leadership moves (NOT_LEADER) or the request's timeout_ms
// passes (REQUEST_TIMED_OUT). Kafka's DelayedProduce.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "broker/partition.h"
#include "broker/scheduler.h"
#include "transport/produce.h"

namespace mq::broker {

class DelayedProduce : public std::enable_shared_from_this<DelayedProduce> {
 public:
  // One appended batch still waiting for replication.
  struct Pending {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = 0;  // the epoch it was appended in
    int64_t last_offset = 0;
    size_t topic_index = 0;      // where its answer is in the response
    size_t partition_index = 0;  // within that topic
  };
  using Done = std::function<void(transport::ProduceResponse)>;

  // Calls `done` exactly once with `response`, each pending partition's entry
  // set to its outcome (an error clears base_offset to -1). Wake-ups and the
  // deadline run on `scheduler`'s workers.
  static void start(Scheduler& scheduler, transport::ProduceResponse response,
                    std::vector<Pending> pending, Scheduler::Clock::time_point deadline, Done done);

 private:
  struct Entry {
    Pending pending;
    std::optional<ErrorCode> outcome;
    uint64_t ticket = 0;
  };
  DelayedProduce(Scheduler& scheduler, transport::ProduceResponse response,
                 std::vector<Pending> pending, Done done);
  // Settles what can be settled; answers when nothing waits any more, else
  // waits on the high watermarks again.
  void check();
  // The deadline: what is still waiting times out.
  void expire();
  void cancel_waits_locked();
  // Fills the response and takes `done_` out; mu_ held.
  Done finish_locked();

  Scheduler& scheduler_;
  std::mutex mu_;
  transport::ProduceResponse response_;
  std::vector<Entry> entries_;
  Done done_;
  bool finished_ = false;
  std::atomic<bool> check_queued_{false};
};

}  // namespace mq::broker
