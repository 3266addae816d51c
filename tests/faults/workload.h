// The workload of a fault run (docs/faults.md, "The workload"): producers
// sending unique values with acks=all through idempotent producers, and
// consumers of one group that poll, commit, and now and then leave and
// rejoin (a rebalance). Every operation and its outcome go to the history.
// After the faults, final_read() reads every partition from its start to
// its high watermark: the checker's reference log.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "tests/faults/history.h"

namespace mq::faults {

struct WorkloadOptions {
  std::string bootstrap;
  std::string topic = "faults";
  int32_t partitions = 4;
  int producers = 2;
  int consumers = 2;
  int sends_per_second = 200;    // per producer
  uint64_t seed = 1;             // when consumers leave and rejoin
  int rejoin_every_ms = 20'000;  // on average, per consumer
};

class Workload {
 public:
  Workload(WorkloadOptions options, History& history);
  ~Workload();  // stop()

  // Creates the topic (replication factor and min ISR from the brokers'
  // defaults) and waits until every partition has a leader.
  Status create_topic();
  void start();
  // Stops sending, waits for every outstanding send's outcome (up to the
  // producers' delivery timeout), and stops the consumers.
  void stop();
  // Reads every partition from offset 0 to its high watermark into the
  // history (one kFinalRead op), retrying through errors until
  // `timeout_ms`.
  Status final_read(int timeout_ms);

  uint64_t acknowledged() const { return acknowledged_.load(); }

 private:
  void produce(int index);
  void consume(int index);

  WorkloadOptions options_;
  History& history_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> acknowledged_{0};
  std::vector<std::thread> threads_;
};

}  // namespace mq::faults
