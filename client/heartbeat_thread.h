// HeartbeatThread: keeps a consumer's group membership alive while the
// application is busy between poll() calls. It owns its own connection to
// the coordinator (ZeroMQ sockets belong to one thread) and shares nothing
// with the consumer but a small mailbox under a mutex: the consumer posts the
// member to keep alive (beat()/pause()) and the time of its last poll; the
// thread posts back what it learned (take_event()). It never touches
// partitions or positions: when a heartbeat says the generation is over or
// the group is rebalancing, the consumer's next poll() revokes and rejoins,
// as Kafka's consumer does. As in Kafka, REBALANCE_IN_PROGRESS does not stop
// the heartbeats: the coordinator removes a member it has not heard from for
// its session timeout, in every state, so the member keeps beating until the
// consumer pauses the thread to send its JoinGroup (the coordinator then
// waits up to the rebalance timeout for it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/status.h"
#include "transport/curve.h"

namespace mq::client {

struct HeartbeatSettings {
  std::string group_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  int heartbeat_interval_ms = 3'000;
  int session_timeout_ms = 45'000;
  int max_poll_interval_ms = 300'000;
  int request_timeout_ms = 30'000;
  transport::CurveClient curve;  // the consumer's encryption (docs/security.md)
};

class HeartbeatThread {
 public:
  // Why the consumer must act. kLeftGroup and kSessionLost end the
  // generation like a fencing error; kRebalance (REBALANCE_IN_PROGRESS) asks
  // the consumer to revoke and rejoin, the member still being in the group;
  // kCoordinatorLost only asks the consumer to find the coordinator again
  // (the generation may still be valid).
  enum class EventKind { kFenced, kLeftGroup, kSessionLost, kCoordinatorLost, kRebalance };
  struct Event {
    EventKind kind = EventKind::kFenced;
    Status status;  // the error the coordinator gave, or why the thread gave up
  };

  explicit HeartbeatThread(HeartbeatSettings settings);
  ~HeartbeatThread();  // stops and joins the thread
  HeartbeatThread(const HeartbeatThread&) = delete;
  HeartbeatThread& operator=(const HeartbeatThread&) = delete;

  // Heartbeats for this member of this generation to the coordinator at
  // `endpoint` from now on; the first one goes out at once.
  void beat(const std::string& endpoint, int32_t generation_id, const std::string& member_id);
  // No heartbeats until the next beat() (while the consumer rejoins).
  void pause();
  // The application called poll() now: the max_poll_interval_ms clock restarts.
  void note_poll();
  // The latest event not yet taken, if any. After kFenced, kLeftGroup and
  // kSessionLost the thread is paused; after kRebalance it keeps beating (the
  // answers keep the session alive) until pause(); after kCoordinatorLost it
  // keeps beating at the old address until beat() gives it the new one.
  std::optional<Event> take_event();
  // Heartbeats answered without error, for tests and metrics.
  int64_t heartbeats_sent() const;

 private:
  struct Member {
    std::string endpoint;
    int32_t generation_id = -1;
    std::string member_id;
  };
  void run();

  const HeartbeatSettings settings_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::optional<Member> member_;
  uint64_t member_version_ = 0;  // bumped by beat()/pause(), so stale answers are ignored
  int64_t last_poll_ms_ = 0;
  int64_t last_success_ms_ = 0;
  std::optional<Event> event_;
  int64_t heartbeats_ok_ = 0;
  std::thread thread_;  // last: starts after every field above exists
};

}  // namespace mq::client
