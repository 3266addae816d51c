// PartitionWaits: completion on partition wake-ups and a deadline.
#include "broker/partition_waits.h"

namespace mq::broker {

PartitionWaits::PartitionWaits(Scheduler& scheduler, std::vector<Target> targets, Outcome outcome,
                               Done done)
    : scheduler_(scheduler), outcome_(std::move(outcome)), done_(std::move(done)) {
  for (auto& t : targets) entries_.push_back(Entry{.target = std::move(t)});
}

void PartitionWaits::start(Scheduler& scheduler, std::vector<Target> targets, Outcome outcome,
                           Scheduler::Clock::time_point deadline, Done done) {
  std::shared_ptr<PartitionWaits> waits(
      new PartitionWaits(scheduler, std::move(targets), std::move(outcome), std::move(done)));
  waits->check();
  // Holds the request until the deadline even if it completes sooner: cheap,
  // and a partition dropping its waiters (topic deleted) cannot lose the answer.
  scheduler.run_at(deadline, [waits] { waits->expire(); });
}

void PartitionWaits::check() {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    cancel_waits_locked();
    bool waiting = false;
    for (Entry& e : entries_) {
      if (e.outcome) continue;
      e.outcome = outcome_(e.target);
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
        // Wakes when the bound passes the offset or the partition changes role.
        e.ticket = e.target.partition->on_data_after(e.target.offset, wake, e.target.bound);
      }
      return;
    }
    finished_ = true;
  }
  finish();
}

void PartitionWaits::expire() {
  {
    std::lock_guard lock(mu_);
    if (finished_) return;
    cancel_waits_locked();
    for (Entry& e : entries_) {
      if (!e.outcome) e.outcome = outcome_(e.target);
      if (!e.outcome) e.outcome = ErrorCode::kRequestTimedOut;
    }
    finished_ = true;
  }
  finish();
}

void PartitionWaits::cancel_waits_locked() {
  for (Entry& e : entries_) {
    if (e.ticket != 0) e.target.partition->cancel_wait(e.ticket);
    e.ticket = 0;
  }
}

void PartitionWaits::finish() {
  // finished_ is set: nothing else touches the entries or done_ any more.
  std::vector<Target> targets;
  std::vector<ErrorCode> outcomes;
  for (const Entry& e : entries_) {
    targets.push_back(e.target);
    outcomes.push_back(e.outcome.value_or(ErrorCode::kRequestTimedOut));
  }
  Done done = std::move(done_);
  done(targets, outcomes);
}

}  // namespace mq::broker
