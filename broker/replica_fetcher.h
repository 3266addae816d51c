// ReplicaFetcher: one thread that keeps this broker's follower replicas of
// the partitions led by one source broker in step with it, over one
// transport::Connection to that broker's client listener.
//
// Per partition: first reconcile by leader epoch (KIP-101/279): ask the
// leader (OffsetForLeaderEpoch) where this replica's latest epoch ends there
// and truncate to min(that offset, own log end), walking back an epoch at a
// time while the leader answers with an older epoch than asked. Then fetch
// from the own log end (Fetch with replica_id = own id), append the batches
// as they are (offsets and epochs kept), and take the high watermark as
// min(leader's, own log end). Out of range: restart the log at the leader's
// log start if it is past the own end, else reconcile again. Leader moved or
// epoch fenced: the partition stops until add_partition() brings a new epoch.
// Network errors: reconnect after a back-off, positions kept. add_partition()
// abandons the request in flight and its connection (its answer is dropped)
// so the next round asks for the new partition at once, over a new connection: a request to a
// leader that restarted at the same address is never answered, and waiting out its timeout would
// stall the partition this broker must now replicate for acks=all.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "broker/partition.h"
#include "broker/replication_throttle.h"
#include "transport/connection.h"

namespace mq::broker {

struct ReplicaFetcherOptions {
  int32_t local_broker_id = 0;  // sent as replica_id
  int32_t leader_id = 0;        // the source broker
  std::string leader_endpoint;  // its client listener, "tcp://host:port"
  int32_t fetch_max_wait_ms = 200;
  int32_t fetch_max_bytes = 8 * 1024 * 1024;  // per response, and per partition
  int64_t throttle_bytes_per_sec = 0;         // 0: unthrottled
  int32_t request_timeout_ms = 30000;         // beyond fetch_max_wait_ms
  int32_t retry_backoff_ms = 500;             // after network and retriable errors
  // Shared by the broker's fetchers; applies to partitions set_throttled().
  std::shared_ptr<ReplicationThrottle> reassignment_throttle;
  transport::CurveClient curve;  // encryption to the leader (docs/security.md)
};

enum class FollowPhase {
  kReconciling,       // truncating by leader epoch before fetching
  kFetching,          // replicating
  kAwaitingMetadata,  // leader moved, epoch fenced or the log failed: add_partition() again
};

std::string_view follow_phase_name(FollowPhase phase);

// One followed partition, for metrics and tests.
struct FollowerPartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int32_t leader_epoch = 0;
  FollowPhase phase = FollowPhase::kReconciling;
  int64_t log_end_offset = 0;          // own
  int64_t leader_log_end_offset = -1;  // as of the last fetch response
  int64_t lag_messages = 0;            // leader's log end - own, 0 until known
  uint64_t bytes_fetched = 0;          // record bytes appended from the leader
  ErrorCode last_error = ErrorCode::kNone;
  std::string last_error_message;
};

class ReplicaFetcher {
 public:
  explicit ReplicaFetcher(ReplicaFetcherOptions options);
  ~ReplicaFetcher();  // stop()
  ReplicaFetcher(const ReplicaFetcher&) = delete;
  ReplicaFetcher& operator=(const ReplicaFetcher&) = delete;

  const ReplicaFetcherOptions& options() const { return options_; }
  void start();
  // Stops the thread (within about a fetch wait); idempotent.
  void stop();

  // Follows `partition` (already become_follower() of this fetcher's leader)
  // in `leader_epoch`, reconciling first. Replaces an earlier entry for the
  // same partition. Any thread.
  void add_partition(std::shared_ptr<Partition> partition, int32_t leader_epoch);
  // Whether the partition is fetched under the reassignment throttle (this
  // broker is a replica being added to it). Any thread; kept across add_partition().
  void set_throttled(const std::string& topic, int32_t partition, bool throttled);
  // Stops following it; an answer in flight for it is dropped. Any thread.
  void remove_partition(const std::string& topic, int32_t partition);

  size_t partition_count() const;
  std::vector<FollowerPartitionStatus> statuses() const;
  std::optional<FollowerPartitionStatus> status(const std::string& topic, int32_t partition) const;
  // Responses received from the leader and connection failures, for tests and metrics.
  uint64_t fetch_responses() const;
  uint64_t connection_errors() const;
  // Requests abandoned in flight (with their connection) because add_partition()
  // changed what to ask.
  uint64_t interrupted_calls() const;

 private:
  using Key = std::pair<std::string, int32_t>;
  struct Entry {
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch = 0;
    uint64_t generation = 0;  // bumped by add_partition: stale answers are dropped
    FollowPhase phase = FollowPhase::kReconciling;
    int64_t retry_at_ms = 0;
    int64_t leader_log_end_offset = -1;
    uint64_t bytes_fetched = 0;
    bool throttled = false;
    ErrorCode last_error = ErrorCode::kNone;
    std::string last_error_message;
  };
  // What one round works on, copied out of entries_ under the lock.
  struct Work {
    Key key;
    std::shared_ptr<Partition> partition;
    int32_t leader_epoch;
    uint64_t generation;
    bool throttled;
  };

  void run();
  bool ensure_connected();
  std::vector<Work> due(FollowPhase phase);
  // Milliseconds until the first partition waiting out a retry is due again
  // (nullopt: none waits), so a long poll does not hold it back.
  std::optional<int64_t> next_retry_in_ms();
  void reconcile(const std::vector<Work>& work);
  void fetch(const std::vector<Work>& work);
  // Truncation round for one partition after the leader's answer; true when done.
  Result<bool> truncate_by_epoch(const Work& w, int32_t leader_epoch, int64_t leader_end_offset);
  // Appends the whole batches of `records` past the own log end.
  Result<uint64_t> append_fetched(const Work& w, std::string_view records);
  // Moves `w` to `phase` (with an error to show) unless it was replaced meanwhile.
  void update(const Work& w, FollowPhase phase, ErrorCode error, const std::string& message,
              int64_t retry_after_ms = 0);
  void drop_connection(const Status& why);
  // Sends `request` and waits for its answer, giving up on stop().
  template <class Request>
  Result<typename Request::Response> call(const Request& request, int timeout_ms);
  void sleep_for_ms(int64_t ms);
  void throttle(uint64_t bytes);

  const ReplicaFetcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Entry> entries_;
  uint64_t next_generation_ = 1;
  bool stopping_ = false;
  bool started_ = false;
  uint64_t fetch_responses_ = 0;
  uint64_t connection_errors_ = 0;
  uint64_t interrupted_calls_ = 0;
  bool interrupt_ = false;  // set by add_partition: abandon the request in flight
  std::thread thread_;

  // Fetch thread only.
  std::unique_ptr<transport::Connection> connection_;
  int64_t throttle_until_ns_ = 0;
};

}  // namespace mq::broker
