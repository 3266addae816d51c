// DelayedProduce: acks=all completion on high watermark wake-ups and a deadline.
#include "broker/delayed_produce.h"

#include <string>

namespace mq::broker {

DelayedProduce::DelayedProduce(Scheduler& scheduler, transport::ProduceResponse response,
                               std::vector<Pending> pending, Done done)
    : scheduler_(scheduler), response_(std::move(response)), done_(std::move(done)) {
  for (auto& p : pending) entries_.push_back(Entry{.pending = std::move(p)});
}

void DelayedProduce::start(Scheduler& scheduler, transport::ProduceResponse response,
                           std::vector<Pending> pending, Scheduler::Clock::time_point deadline,
                           Done done) {
  std::shared_ptr<DelayedProduce> delayed(
      new DelayedProduce(scheduler, std::move(response), std::move(pending), std::move(done)));
  delayed->check();
  // Holds the produce until the deadline even if it completes sooner: cheap,
  // and a partition dropping its waiters (topic deleted) cannot lose the answer.
  scheduler.run_at(deadline, [delayed] { delayed->expire(); });
}

void DelayedProduce::check() {
  Done done;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    cancel_waits_locked();
    bool waiting = false;
    for (Entry& e : entries_) {
      if (e.outcome) continue;
      e.outcome =
          e.pending.partition->acks_all_outcome(e.pending.last_offset, e.pending.leader_epoch);
      if (!e.outcome) waiting = true;
    }
    if (waiting) {
      auto wake = [this, self = shared_from_this()] {
        if (!check_queued_.exchange(true)) {
          scheduler_.run([self] {
            self->check_queued_ = false;
            self->check();
          });
        }
      };
      for (Entry& e : entries_) {
        if (e.outcome) continue;
        // Wakes when the HW passes the batch or the partition changes role.
        e.ticket = e.pending.partition->on_data_after(e.pending.last_offset, wake,
                                                      WaitBound::kHighWatermark);
      }
      return;
    }
    done = finish_locked();
  }
  done(std::move(response_));
}

void DelayedProduce::expire() {
  Done done;
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    cancel_waits_locked();
    for (Entry& e : entries_) {
      if (!e.outcome) {
        e.outcome =
            e.pending.partition->acks_all_outcome(e.pending.last_offset, e.pending.leader_epoch);
      }
      if (!e.outcome) e.outcome = ErrorCode::kRequestTimedOut;
    }
    done = finish_locked();
  }
  done(std::move(response_));
}

void DelayedProduce::cancel_waits_locked() {
  for (Entry& e : entries_) {
    if (e.ticket != 0) e.pending.partition->cancel_wait(e.ticket);
    e.ticket = 0;
  }
}

DelayedProduce::Done DelayedProduce::finish_locked() {
  finished_ = true;
  for (const Entry& e : entries_) {
    auto& out = response_.topics[e.pending.topic_index].partitions[e.pending.partition_index];
    ErrorCode code = e.outcome.value_or(ErrorCode::kRequestTimedOut);
    if (code == ErrorCode::kNone) continue;
    std::string where = e.pending.partition->topic() + "-" +
                        std::to_string(e.pending.partition->index()) + " offset " +
                        std::to_string(e.pending.last_offset);
    out.error_code = code;
    out.base_offset = -1;
    switch (code) {
      case ErrorCode::kRequestTimedOut:
        out.error_message = where +
                            " was appended but not replicated to the ISR in time (high "
                            "watermark " +
                            std::to_string(e.pending.partition->high_watermark()) +
                            "); the outcome is unknown";
        break;
      case ErrorCode::kNotEnoughReplicasAfterAppend:
        out.error_message = where +
                            " was replicated, but the ISR is smaller than "
                            "min.insync.replicas " +
                            std::to_string(e.pending.partition->min_insync_replicas());
        break;
      case ErrorCode::kNotLeader:
        out.error_message = where + ": leadership moved before it was replicated";
        break;
      default:
        out.error_message = where + " failed";
        break;
    }
  }
  return std::move(done_);
}

}  // namespace mq::broker
