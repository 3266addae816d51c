// Consumer: reads assigned partitions from their leaders. poll() returns
// records in offset order per partition and, before returning, sends the next
// Fetch for the partitions it drained, so the broker is already working on
// the next records while the application handles these. Positions start
// where seek*() puts them, else at the group's committed offset, else by
// auto_offset_reset.
//
// Partitions come from assign() (manual), or from a consumer group through
// subscribe(): the group's coordinator hands out the partitions of the
// subscribed topics among its members (docs/protocol.md §14, §15). Group work
// happens inside poll(): joining, the revoke/assign callbacks, auto-commit.
// A background thread only sends heartbeats; when one says the group is
// rebalancing, the next poll() commits (with auto-commit), calls on_revoked,
// gives up every partition (eager rebalancing), rejoins and calls
// on_assigned. While it rejoins, poll() returns no records.
//
// Not thread-safe: one thread uses a Consumer, as with Kafka's. Callbacks run
// on that thread, inside poll(), commit_*() or close().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/record.h"
#include "store/record_batch.h"
#include "transport/fetch.h"

namespace mq::client {

// A fetched record as views into the bytes the consumer fetched, for
// Consumer::poll_each(): valid only during the call that hands it over.
struct ConsumerRecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::span<const RecordHeader> headers;
};

class Cluster;
class ConsumerCoordinator;
struct NodeResponse;

// Called inside poll() around a rebalance (and on_revoked by close()).
struct RebalanceCallbacks {
  // Before the consumer gives up `partitions` (positions still valid; with
  // auto-commit they were just committed): commit what was processed.
  std::function<void(const std::vector<TopicPartition>& partitions)> on_revoked;
  // After a rebalance, before fetching: positions start at the committed
  // offsets unless the callback seeks.
  std::function<void(const std::vector<TopicPartition>& partitions)> on_assigned;
};

// The outcome of commit_async(): the offsets sent and how it went.
using CommitCallback =
    std::function<void(const std::map<TopicPartition, int64_t>& offsets, const Status& status)>;

// Which generation of which group the consumer is a member of.
// A subscription's filter (docs/messaging.md "Tags and filters"): records
// whose tag (header mq.tag) matches `tags` ("A || B"; "" or "*" = any record,
// tagged or not) and whose headers pass `where`, RocketMQ's SQL92 subset
// ("region = 'eu' AND amount > 100"; "" = no condition).
struct MessageFilter {
  std::string tags;
  std::string where;

  bool empty() const { return (tags.empty() || tags == "*") && where.empty(); }
};

struct GroupMetadata {
  std::string group_id;
  std::string member_id;       // empty until the first JoinGroup answers
  int32_t generation_id = -1;  // -1 while not in a generation
  std::string assignor;        // the coordinator's choice, e.g. "sticky"
};

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> create(const ConsumerConfig& config);
  // close() if the application did not (so on_revoked may run here).
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment. Partitions kept keep their positions; new ones
  // start by auto_offset_reset unless seeked. Not while subscribed.
  Status assign(const std::vector<TopicPartition>& partitions);
  // The partitions owned now: assigned, or given by the group.
  std::vector<TopicPartition> assignment() const;

  // Joins config.group_id for `topics` (replacing an earlier subscription).
  // The join happens in poll(); partitions arrive through on_assigned.
  // Errors: no group_id, an empty topic list, or a manual assignment in place.
  Status subscribe(const std::vector<std::string>& topics, RebalanceCallbacks callbacks = {});
  std::vector<std::string> subscription() const;
  GroupMetadata group_metadata() const;

  // Commits `offsets` (next offset to read, per partition), by default every
  // owned partition's position, and waits for the answer. A commit fenced by
  // the coordinator (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID,
  // REBALANCE_IN_PROGRESS: the partitions may be another member's now) is
  // an error, and the next poll() rejoins. Without subscribe(), commits for
  // a group without members (generation -1).
  Status commit_sync();
  Status commit_sync(const std::map<TopicPartition, int64_t>& offsets);
  // Sends the commit; `callback` runs inside a later poll(), commit or close().
  void commit_async(CommitCallback callback = {});
  void commit_async(const std::map<TopicPartition, int64_t>& offsets, CommitCallback callback);
  // The group's committed offsets (a broadcast member's own), -1 for none.
  Result<std::map<TopicPartition, int64_t>> committed(
      const std::vector<TopicPartition>& partitions);

  // Commits positions (with auto-commit), calls on_revoked, leaves the group
  // (LeaveGroup: the partitions move at once) and stops the heartbeat
  // thread. Waits up to request_timeout_ms per step. Afterwards every call fails.
  Status close();

  // Up to max_poll_records records, waiting up to `timeout_ms` for the first
  // one; an empty vector when none came in time. Errors: OFFSET_OUT_OF_RANGE
  // when a position left the log and auto_offset_reset is none, a corrupt
  // batch, a topic the metadata never named, or no broker reachable (a
  // leader moving or a broker restarting is retried, not reported); in a group, a join the
  // coordinator refuses (e.g. INCONSISTENT_GROUP_PROTOCOL,
  // INVALID_SESSION_TIMEOUT; the next poll() tries again) or committed
  // offsets that cannot be read. In a group it also waits, up to
  // request_timeout_ms each, for FindCoordinator, OffsetFetch and the commit
  // before a revoke. Call it at least every max_poll_interval_ms, or the
  // heartbeat thread leaves the group.
  Result<std::vector<ConsumerRecord>> poll(int timeout_ms);
  // The same records, each handed to `visit` as views into the fetched
  // bytes instead of copied: no allocation per record. A view is valid only
  // during its call. Returns how many records were visited.
  Result<size_t> poll_each(int timeout_ms,
                           const std::function<void(const ConsumerRecordView&)>& visit);

  // The next poll() returns `tp` from `offset`.
  Status seek(const TopicPartition& tp, int64_t offset);
  // Empty = every assigned partition. Resolved (ListOffsets) at the next poll or position().
  Status seek_to_beginning(const std::vector<TopicPartition>& partitions = {});
  Status seek_to_end(const std::vector<TopicPartition>& partitions = {});
  // From the first record with timestamp >= `timestamp_ms`; the end of the
  // partition if there is none.
  Status seek_to_timestamp(const TopicPartition& tp, int64_t timestamp_ms);

  // The offset of the next record poll() returns for `tp`.
  Result<int64_t> position(const TopicPartition& tp);
  // ListOffsets against the leader: kEarliestTimestamp (-2), kLatestTimestamp
  // (-1) or a time in ms; -1 when no record is that recent.
  // Retriable errors are asked again until default_api_timeout_ms.
  Result<int64_t> offset_for(const TopicPartition& tp, int64_t timestamp);

  // From now on only records of `topic` that pass `filter` are returned: the
  // broker filters (Fetch v1), and positions, so committed offsets, move past
  // the records left out. An empty filter removes it. Errors: a bad
  // expression (INVALID_REQUEST naming the position).
  Status set_filter(const std::string& topic, const MessageFilter& filter);

 private:
  struct PartitionState;
  struct FetchInFlight {
    int64_t deadline_ms = 0;
    uint64_t connection_serial = 0;                              // the connection it was sent on
    std::vector<std::pair<TopicPartition, int64_t>> partitions;  // and the offset fetched from
  };
  explicit Consumer(const ConsumerConfig& config, std::unique_ptr<Cluster> cluster);

  // Group work at the top of each poll() round: async commit answers, the
  // heartbeat thread's news, revoke/rejoin, the join itself, auto-commit.
  Status maintain_group(int64_t deadline_ms);
  void revoke_all();
  void install_assignment(const std::vector<TopicPartition>& partitions);
  // Positions of partitions the group just assigned, from their committed offsets.
  Status load_committed_positions();
  std::map<TopicPartition, int64_t> positions() const;
  // Forgets every fetch in flight: their answers would be for partitions given up.
  void drop_fetches();

  // ListOffsets for the partitions waiting for a reset or timestamp seek; a
  // retriable error leaves that partition waiting (retry_at_ms), others fail.
  Status resolve_positions();
  // Whether an error of `tp` is asked again rather than reported.
  bool worth_retrying(const TopicPartition& tp, ErrorCode code) const;
  // One ListOffsets attempt against the leader.
  Result<int64_t> list_offset(const TopicPartition& tp, int64_t timestamp);
  Status refresh_metadata_if_stale();
  void send_fetches();
  Result<int32_t> send_fetch(int32_t node, const transport::FetchRequest& request);
  void handle_fetch_response(NodeResponse& response);
  void fail_fetches(int32_t node);
  Status take_error();
  // Hands up to max_poll_records buffered records to `visit`, moving positions.
  size_t drain_buffered(const std::function<void(const ConsumerRecordView&)>& visit);
  void expire_fetches(int64_t now_ms);
  Result<int32_t> leader_of(const TopicPartition& tp);

  ConsumerConfig config_;
  std::unique_ptr<Cluster> cluster_;
  std::map<TopicPartition, std::unique_ptr<PartitionState>> partitions_;
  std::map<std::pair<int32_t, int32_t>, FetchInFlight> fetches_;  // (node, correlation id)
  std::map<std::string, MessageFilter, std::less<>> filters_;     // by topic
  bool metadata_stale_ = true;
  int64_t next_metadata_attempt_ms_ = 0;
  int64_t committed_retry_at_ms_ = 0;
  std::set<std::string> known_topics_;  // topics the metadata has named with partitions  // after
                                        // an OffsetFetch failed with a retriable error
  size_t drain_cursor_ = 0;             // round-robin over partitions when draining

  std::unique_ptr<ConsumerCoordinator> group_;  // when config.group_id is set
  RebalanceCallbacks callbacks_;
  int64_t next_auto_commit_ms_ = 0;
  bool closed_ = false;
  bool closing_ = false;  // in close(): on_revoked may still commit
};

}  // namespace mq::client
