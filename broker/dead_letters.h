// DeadLetters: moves queue groups' messages past their last delivery to the
// group's dead-letter topic (docs/messaging.md, "Dead letters"). One thread
// looks at the partitions this broker leads; for each message a group was
// handed queue.max.deliveries times without acknowledging it, it produces a
// copy to the topic named by dead_letter_topic(group) (created on first use,
// one partition), with headers saying where it came from and why, waits for
// acks=all, then appends a dead op to the source partition's queue state.
//
// The copy is produced through the client library, bootstrapped at this
// broker's own listener, so it reaches the dead-letter topic's leader
// wherever that is. A leader that dies between the copy and the dead op
// leaves the message past its last delivery for the next leader, which
// produces it again with the same message id (mq.msg-id): the dead-letter
// topic's de-duplication window stores it once.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "base/status.h"
#include "broker/queue_service.h"
#include "broker/replica_manager.h"
#include "client/config.h"
#include "transport/queue.h"

namespace mq::client {
class Admin;
class Producer;
}  // namespace mq::client

namespace mq::broker {

class DeadLetters {
 public:
  // How long the dead-letter topic's de-duplication window is when this
  // creates it: a leader's move between copy and dead op stays covered.
  static constexpr int64_t kDedupWindowMs = 3'600'000;
  // Most letters one pass moves per partition.
  static constexpr size_t kMaxPerPass = 1000;

  // `bootstrap`: this broker's client listener, "host:port"; `curve` what
  // its clients need to connect there.
  DeadLetters(ReplicaManager& replicas, QueueService& queue, std::string bootstrap,
              client::CurveSettings curve = {});
  ~DeadLetters();
  DeadLetters(const DeadLetters&) = delete;
  DeadLetters& operator=(const DeadLetters&) = delete;

  void start();
  void stop();

  // Moves what is due in `partition` now, if this broker leads it; returns
  // how many messages went to dead-letter topics. The loop calls it.
  Result<size_t> move(Partition& partition);

 private:
  void run();
  Status ensure_clients();
  Status ensure_topic(const std::string& topic);

  ReplicaManager& replicas_;
  QueueService& queue_;
  std::string bootstrap_;
  client::CurveSettings curve_;
  std::unique_ptr<client::Producer> producer_;
  std::unique_ptr<client::Admin> admin_;
  std::set<std::string> topics_known_;  // dead-letter topics seen to exist
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace mq::broker
