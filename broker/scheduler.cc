// Scheduler: one queue, one timer heap, N threads.
#include "broker/scheduler.h"

namespace mq::broker {

Scheduler::Scheduler(int threads) {
  for (int i = 0; i < threads; i++) threads_.emplace_back([this] { work(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void Scheduler::run(Task task) {
  {
    std::lock_guard lock(mu_);
    ready_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void Scheduler::run_at(Clock::time_point when, Task task) {
  {
    std::lock_guard lock(mu_);
    delayed_.push({when, sequence_++, std::move(task)});
  }
  cv_.notify_one();
}

size_t Scheduler::queued() const {
  std::lock_guard lock(mu_);
  return ready_.size();
}

void Scheduler::work() {
  std::unique_lock lock(mu_);
  while (true) {
    auto now = Clock::now();
    while (!delayed_.empty() && delayed_.top().when <= now) {
      ready_.push_back(std::move(const_cast<Delayed&>(delayed_.top()).task));
      delayed_.pop();
    }
    if (!ready_.empty()) {
      Task task = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      task();
      lock.lock();
      continue;
    }
    if (stopping_) return;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      // A copy: run_at() may grow the heap (moving its elements) while we wait.
      Clock::time_point when = delayed_.top().when;
      cv_.wait_until(lock, when);
    }
  }
}

}  // namespace mq::broker
