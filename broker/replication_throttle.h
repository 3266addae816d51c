// ReplicationThrottle: one byte rate shared by every replica fetcher of a
// broker for the replicas it is adding in partition reassignments (the
// cluster setting reassignment.throttle.bytes.per.sec), so moving partitions
// onto a broker does not starve the replication of the partitions it already
// serves. A debt-based token bucket: fetched bytes push the time throttled
// replicas may fetch again `bytes / rate` into the future; they are left out
// of fetch requests until then. Replicas already in their ISR are never
// throttled.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace mq::broker {

class ReplicationThrottle {
 public:
  // Bytes per second; 0 (or less) turns the throttle off and forgives the debt.
  void set_rate(int64_t bytes_per_sec) {
    std::lock_guard lock(mu_);
    rate_ = std::max<int64_t>(bytes_per_sec, 0);
    if (rate_ == 0) free_at_ns_ = 0;
  }
  int64_t rate() const {
    std::lock_guard lock(mu_);
    return rate_;
  }
  // `bytes` were fetched for throttled replicas at `now_ns` (any monotonic clock).
  void record(uint64_t bytes, int64_t now_ns) {
    std::lock_guard lock(mu_);
    if (rate_ == 0 || bytes == 0) return;
    auto cost = static_cast<int64_t>(static_cast<double>(bytes) * 1e9 / static_cast<double>(rate_));
    free_at_ns_ = std::max(free_at_ns_, now_ns) + cost;
  }
  // True while throttled replicas must wait.
  bool blocked(int64_t now_ns) const {
    std::lock_guard lock(mu_);
    return rate_ > 0 && free_at_ns_ > now_ns;
  }
  // The most a throttled replica asks for in one fetch: a tenth of a second
  // of the rate (at least 16 KiB, at most `limit`), so one response does not
  // overshoot the rate by a whole fetch_max_bytes.
  int32_t fetch_bytes(int32_t limit) const {
    std::lock_guard lock(mu_);
    if (rate_ == 0) return limit;
    return static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(rate_ / 10, 16 * 1024), limit));
  }

 private:
  mutable std::mutex mu_;
  int64_t rate_ = 0;
  int64_t free_at_ns_ = 0;
};

}  // namespace mq::broker
