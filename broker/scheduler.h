// A fixed pool of worker threads running tasks now or at a deadline: the
// request handlers run here, and long-polling fetches are retried here when
// data arrives or their wait runs out.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace mq::broker {

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  explicit Scheduler(int threads);
  ~Scheduler();  // runs what is queued (not what is delayed), then joins

  void run(Task task);
  void run_at(Clock::time_point when, Task task);
  size_t queued() const;

 private:
  struct Delayed {
    Clock::time_point when;
    uint64_t sequence;
    Task task;
    bool operator>(const Delayed& o) const {
      return when != o.when ? when > o.when : sequence > o.sequence;
    }
  };
  void work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> ready_;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;
  uint64_t sequence_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mq::broker
