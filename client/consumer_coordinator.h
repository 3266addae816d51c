// ConsumerCoordinator: the consumer's side of the group protocol
// (docs/protocol.md §15): finding the coordinator, JoinGroup/SyncGroup as a
// state machine that poll() advances without blocking, offset commits and
// fetches, LeaveGroup, and the HeartbeatThread between polls. It knows
// nothing of positions or fetches: it hands the Consumer an assignment and
// tells it when the generation is over. Internal to client/; used only from
// the thread that calls the Consumer.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/heartbeat_thread.h"
#include "client/record.h"
#include "transport/group_offsets.h"

namespace mq::transport {
class Connection;
}

namespace mq::client {

class Cluster;

class ConsumerCoordinator {
 public:
  using CommitDone = std::function<void(const Status&)>;

  // `cluster` (the consumer's) is used for FindCoordinator only.
  ConsumerCoordinator(const ConsumerConfig& config, Cluster* cluster);
  ~ConsumerCoordinator();
  ConsumerCoordinator(const ConsumerCoordinator&) = delete;
  ConsumerCoordinator& operator=(const ConsumerCoordinator&) = delete;

  // Subscribed topics; a change while in a generation needs a rejoin.
  void set_subscription(std::vector<std::string> topics);
  const std::vector<std::string>& subscription() const { return topics_; }
  bool subscribed() const { return !topics_.empty(); }

  // True while the member holds an assignment of the current generation.
  bool in_generation() const { return state_ == State::kStable; }
  // Takes what the heartbeat thread learned; true when the generation is
  // over and the consumer must revoke its partitions, then call rejoin().
  bool generation_ended();
  // Ends the generation (after the consumer revoked) and starts a JoinGroup;
  // `owned` goes into the subscription for the sticky assignor.
  void rejoin(std::vector<TopicPartition> owned);

  // Advances FindCoordinator -> JoinGroup -> SyncGroup, waiting at most
  // `max_wait_ms` for an answer. Returns the assignment when SyncGroup has
  // answered, nullopt while the join is still under way; an error the
  // application must see (e.g. INCONSISTENT_GROUP_PROTOCOL) ends this
  // attempt, and the next call starts another.
  Result<std::optional<std::vector<TopicPartition>>> continue_join(int max_wait_ms);

  // Commits with the current generation (generation -1 and no member when
  // not subscribed: manual assignment). Fencing errors also end the generation.
  Status commit_sync(const std::map<TopicPartition, int64_t>& offsets, int timeout_ms);
  void commit_async(const std::map<TopicPartition, int64_t>& offsets, CommitDone done);
  // Runs the callbacks of async commits whose answers came (or timed out).
  void complete_async_commits(int wait_ms);
  bool has_async_commits() const { return !pending_commits_.empty(); }
  // Committed offsets (-1: none) of `partitions`; a broadcast member's own.
  Result<std::map<TopicPartition, int64_t>> fetch_committed(
      const std::vector<TopicPartition>& partitions, int timeout_ms);
  // LeaveGroup, if the member has an id; stops heartbeats.
  Status leave(int timeout_ms);

  // The application called poll(): restarts the max_poll_interval_ms clock.
  void note_poll();

  // For tests and describe: the member id and generation (-1 before joining).
  const std::string& member_id() const { return member_id_; }
  int32_t generation_id() const { return generation_id_; }
  const std::string& protocol_name() const { return protocol_name_; }

 private:
  enum class State { kIdle, kJoining, kSyncing, kStable };
  struct PendingCommit {
    int32_t correlation_id = -1;
    int64_t deadline_ms = 0;
    std::map<TopicPartition, int64_t> offsets;
    CommitDone done;
  };

  // The connection to the coordinator, found and opened if needed.
  Result<transport::Connection*> coordinator();
  // Forgets the coordinator after NOT_COORDINATOR, a timeout or a broken
  // connection: requests in flight on it fail.
  void lose_coordinator(const Status& why);
  // Sends `request` to the coordinator, retrying coordinator errors until
  // `deadline_ms`; `error_of` reads a response's coordinator-level error.
  template <class Request, class ErrorOf>
  Result<typename Request::Response> call(const Request& request, int64_t deadline_ms,
                                          ErrorOf error_of);
  Status send_join();
  Status send_sync();
  void end_generation(const Status& why, bool forget_member_id);
  Status commit_status(const transport::OffsetCommitResponse& response);
  transport::OffsetCommitRequest commit_request(
      const std::map<TopicPartition, int64_t>& offsets) const;

  const ConsumerConfig config_;
  Cluster* cluster_;
  std::unique_ptr<transport::Connection> connection_;
  std::string coordinator_endpoint_;
  int64_t next_find_ms_ = 0;  // backoff after a failed FindCoordinator

  std::vector<std::string> topics_;
  State state_ = State::kIdle;
  bool rejoin_needed_ = false;
  std::string member_id_;
  int32_t generation_id_ = -1;
  std::string protocol_name_;
  std::vector<TopicPartition> owned_before_join_;
  int32_t request_in_flight_ = -1;  // correlation id of the JoinGroup or SyncGroup
  int64_t request_deadline_ms_ = 0;
  int64_t retry_join_at_ms_ = 0;

  std::vector<PendingCommit> pending_commits_;
  std::unique_ptr<HeartbeatThread> heartbeat_;
};

}  // namespace mq::client
