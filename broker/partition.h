// One partition replica on this broker: its log, its leader epoch and high
// watermark, and the fetches waiting for data to arrive in it.
//
// A single-node broker is the leader of every partition with an in-sync
// replica set of itself, so the high watermark is the log end offset. The
// cluster issue replaces that with min(log end offset) over the ISR; every
// reader already goes through high_watermark(), so consumers only ever see
// committed data.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/log.h"

namespace mq::broker {

class Partition {
 public:
  Partition(std::string topic, int32_t index, std::unique_ptr<Log> log, int32_t leader_epoch,
            int32_t min_insync_replicas);

  const std::string& topic() const { return topic_; }
  int32_t index() const { return index_; }
  Log& log() { return *log_; }
  const Log& log() const { return *log_; }
  int32_t leader_epoch() const { return leader_epoch_; }
  int64_t high_watermark() const { return log_->log_end_offset(); }
  void set_min_insync_replicas(int32_t n) { min_insync_replicas_.store(n); }

  // Appends a producer's batches as the leader. acks=all fails with
  // NOT_ENOUGH_REPLICAS when the in-sync set is smaller than min.insync.replicas.
  Result<AppendResult> append_as_leader(std::span<uint8_t> batches, int16_t acks);

  // Calls `wake` once, after the next append (or now, returning 0, if data past
  // `offset` already exists). Returns a ticket for cancel_wait(): a long-polling
  // fetch that times out cancels, so idle partitions collect no waiters.
  uint64_t on_data_after(int64_t offset, std::function<void()> wake);
  void cancel_wait(uint64_t ticket);
  // Drops every waiter (shutdown): their closures may own this partition.
  void cancel_all_waits();

 private:
  void wake_waiters();

  std::string topic_;
  int32_t index_;
  std::unique_ptr<Log> log_;
  int32_t leader_epoch_;
  std::atomic<int32_t> min_insync_replicas_;
  std::mutex waiters_mu_;
  std::map<uint64_t, std::function<void()>> waiters_;
  uint64_t next_ticket_ = 1;
};

// "<topic>-<partition>", the directory name of a partition under data_dir.
std::string partition_dir_name(const std::string& topic, int32_t index);

}  // namespace mq::broker
