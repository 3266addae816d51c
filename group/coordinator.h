// The group coordinator: membership, rebalances, server-side assignment and
// committed offsets of the consumer groups whose __consumer_offsets
// partitions this broker leads. docs/protocol.md §15 is the contract;
// docs/groups.md explains it for operators.
//
// Offsets partitions come and go: a single-node broker loads every one at
// start (load()); in cluster mode the broker calls load_partition() when it
// becomes the leader of one and unload_partition() when it stops leading it,
// and a loader thread replays the partition's committed records. A group is
// served only while its partition is loaded here: COORDINATOR_LOAD_IN_PROGRESS
// while it loads, NOT_COORDINATOR when it is not led here.
//
// Threading: every call may come from any worker thread. One mutex guards the
// groups and the partitions' load states; a commit holds its offsets
// partition's own mutex across the append, so the cache changes in log order,
// but never the groups mutex. JoinGroup answers later (when the join phase
// ends), through its callback, called without any lock held. A timer thread
// expires members and ends join phases.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "group/assignor.h"
#include "group/offsets_records.h"
#include "store/record_batch.h"
#include "transport/consumer_protocol.h"
#include "transport/group_admin.h"
#include "transport/group_membership.h"
#include "transport/group_offsets.h"

namespace mq::group {

inline constexpr std::string_view kOffsetsTopic = "__consumer_offsets";

struct CoordinatorConfig {
  int32_t offsets_partitions = 16;
  int32_t initial_rebalance_delay_ms = 3000;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1800000;
  int32_t max_size = 1000;            // members per group
  int32_t max_metadata_bytes = 4096;  // per committed offset
  // Tests substitute their own clocks: clock_ms for session and rebalance
  // deadlines (and for timestamps too, unless wall_clock_ms is also set).
  std::function<int64_t()> clock_ms;
  std::function<int64_t()> wall_clock_ms;
};

// What the coordinator needs of the broker: the offsets topic's partitions
// and the data topics' shapes.
class GroupStorage {
 public:
  virtual ~GroupStorage() = default;
  // How far an append must have gone before append() returns.
  enum class Durability {
    kLocal,       // in this broker's log (group generation records)
    kReplicated,  // committed: the high watermark passed it (commits, deletions)
  };
  // Appends one batch to partition `partition` of __consumer_offsets, as its
  // leader. NOT_COORDINATOR when the partition is not led here (or stops
  // being led before a replicated append is committed); kReplicated waits,
  // bounded by the storage's own timeout (REQUEST_TIMED_OUT).
  virtual Status append(int32_t partition, std::string batch, Durability durability) = 0;
  // Returns once every record now in the partition's log is committed (a new
  // leader's high watermark catches up with its log end as the followers
  // fetch), so a replay sees everything a previous leader acknowledged.
  // NOT_COORDINATOR if the partition is not led here; stops early, with an
  // error, when `cancelled` returns true (it is polled).
  virtual Status wait_committed(int32_t partition, const std::function<bool()>& cancelled) = 0;
  // Every committed record of the partition (below the high watermark), in
  // offset order.
  virtual Status replay(int32_t partition, const std::function<Status(const Record&)>& each) = 0;
  // Partition count of a data topic, nullopt if it does not exist.
  virtual std::optional<int32_t> partition_count(const std::string& topic) const = 0;
  // High watermark of a data partition, -1 if unknown.
  virtual int64_t high_watermark(const std::string& topic, int32_t partition) const = 0;
};

// Figures for metrics, read at scrape time.
struct GroupStats {
  std::string group;
  std::string state;
  int32_t members = 0;
  uint64_t rebalances = 0;
  uint64_t commits = 0;
  struct PartitionLag {
    std::string topic;
    int32_t partition;
    std::string member_key;  // broadcast groups: whose offset
    int64_t committed;
    int64_t lag;  // high watermark - committed, -1 if the partition is gone
  };
  std::vector<PartitionLag> lags;
};

class GroupCoordinator {
 public:
  using JoinCallback = std::function<void(transport::JoinGroupResponse)>;

  GroupCoordinator(CoordinatorConfig config, GroupStorage& storage);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  // Single-node mode: reads every offsets partition back into memory, then
  // starts the timer. Until it returns, requests are answered
  // COORDINATOR_LOAD_IN_PROGRESS.
  Status load();
  // Cluster mode: starts the timer and the loader thread with no partition
  // loaded; load_partition()/unload_partition() follow the leadership.
  void start();
  // This broker leads offsets partition `partition` in `leader_epoch`: its
  // groups are loaded in the background (wait_committed, then replay) and
  // served once loaded. Idempotent for the same epoch; a different epoch
  // unloads and loads again (another leader may have written meanwhile).
  // Quick: never blocks on storage. Out-of-range partitions are ignored.
  void load_partition(int32_t partition, int32_t leader_epoch);
  // This broker no longer leads `partition`: its groups are dropped (pending
  // joins answered NOT_COORDINATOR so members find the new coordinator) and
  // its requests answered NOT_COORDINATOR. A load in progress is abandoned.
  void unload_partition(int32_t partition);
  // Stops the timer and the loader; pending joins are answered
  // COORDINATOR_NOT_AVAILABLE.
  void stop();

  // The offsets partition of `group`: toPositive(murmur2(group)) % partitions.
  int32_t partition_for(const std::string& group) const;
  // NONE when this coordinator serves `group` now; COORDINATOR_LOAD_IN_PROGRESS
  // while its partition loads; NOT_COORDINATOR when the partition is not
  // loaded here; COORDINATOR_NOT_AVAILABLE once stopped.
  ErrorCode group_error(const std::string& group) const;
  // Whether offsets partition `partition` is loaded (tests, status).
  bool partition_loaded(int32_t partition) const;

  // `client_id` and `client_host` are the member's, for DescribeGroups.
  void join(const transport::JoinGroupRequest& request, const std::string& client_id,
            const std::string& client_host, JoinCallback done);
  transport::SyncGroupResponse sync(const transport::SyncGroupRequest& request);
  transport::HeartbeatResponse heartbeat(const transport::HeartbeatRequest& request);
  transport::LeaveGroupResponse leave(const transport::LeaveGroupRequest& request);
  transport::OffsetCommitResponse commit(const transport::OffsetCommitRequest& request);
  transport::OffsetFetchResponse fetch_offsets(const transport::OffsetFetchRequest& request);
  transport::ListGroupsResponse list(const transport::ListGroupsRequest& request);
  transport::DescribeGroupsResponse describe(const transport::DescribeGroupsRequest& request);
  transport::DeleteGroupsResponse delete_groups(const transport::DeleteGroupsRequest& request);
  transport::OffsetDeleteResponse delete_offsets(const transport::OffsetDeleteRequest& request);

  std::vector<GroupStats> stats() const;

  // Ends join phases and expires members as of now; the timer thread calls
  // it, tests may too.
  void tick();

 private:
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };
  static std::string_view state_name(State state);

  struct Member {
    std::string id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<transport::JoinGroupRequest::Protocol> protocols;
    int64_t last_heard_ms = 0;
    JoinCallback pending_join;  // set while its JoinGroup waits
    bool synced = false;
    transport::Bytes assignment;
    // Offsets of a broadcast member are kept under this key.
    std::string offsets_key() const { return instance_id.value_or(client_id); }
  };
  struct Committed {
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    std::optional<std::string> metadata;
  };
  using TopicPartition = std::pair<std::string, int32_t>;
  struct Group {
    std::string id;
    State state = State::kEmpty;
    int32_t generation = 0;
    std::string protocol_type;
    std::string protocol_name;
    std::string leader;
    std::vector<std::string> join_order;  // member ids, oldest first
    std::map<std::string, Member> members;
    int64_t initial_delay_until_ms = 0;  // join phase of an empty group
    int64_t join_deadline_ms = 0;
    // member_key ("" for the group's own) -> partition -> offset
    std::map<std::string, std::map<TopicPartition, Committed>> offsets;
    // Who owned what last generation (sticky).
    std::map<std::string, std::map<std::string, std::vector<int32_t>>> last_assignment;
    uint64_t rebalances = 0;
    uint64_t commits = 0;
  };
  struct Answer {  // a join response to deliver after the lock is released
    JoinCallback done;
    transport::JoinGroupResponse response;
  };
  // Work to do once mu_ is released: join answers, group records to write.
  struct Deferred {
    std::vector<Answer> answers;
    std::vector<std::pair<std::string, GroupValue>> groups;  // group id, its record
  };

  // Where an offsets partition stands on this broker.
  enum class Load { kAbsent, kLoading, kLoaded };
  struct PartitionSlot {
    Load state = Load::kAbsent;
    int32_t leader_epoch = -1;
    uint64_t generation = 0;  // bumped by every load and unload: stale loads are dropped
  };

  // Wall-clock time, for what is stored (record and commit timestamps).
  int64_t now() const;
  // Monotonic time, for session and rebalance deadlines: a wall-clock jump
  // must not expire every member at once, nor keep a dead one for hours.
  int64_t timer_ms() const;
  static Status apply_record(std::map<std::string, Group>& groups, const Record& record);
  // Replays offsets partition `partition` into `into` (groups Empty).
  Status replay_partition(int32_t partition, std::map<std::string, Group>& into);
  void timer_loop();
  void loader_loop();
  // Loads one queued partition; false if it must be retried later.
  bool load_queued(int32_t partition, uint64_t generation);
  // Drops `partition`'s groups; pending joins get `code`. mu_ held.
  void unload_locked(int32_t partition, ErrorCode code, Deferred& deferred);
  ErrorCode group_error_locked(const std::string& group) const;

  // All with mu_ held.
  Group* find_locked(const std::string& id);
  // NONE if `member_id` is in `group_id` at `generation` (then *group is
  // set), else UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION.
  ErrorCode check_member_locked(const std::string& group_id, const std::string& member_id,
                                int32_t generation, Group** group);
  void start_rebalance_locked(Group& group, Deferred& deferred);
  void maybe_complete_join_locked(Group& group, Deferred& deferred);
  void complete_join_locked(Group& group, Deferred& deferred);
  void remove_member_locked(Group& group, const std::string& member_id, Deferred& deferred);
  void after_membership_change_locked(Group& group, Deferred& deferred);
  std::optional<std::string> choose_protocol_locked(const Group& group) const;
  std::set<std::string> subscribed_topics_locked(const Group& group) const;

  void finish(Deferred& deferred);
  using KeyValue = std::pair<std::string, std::optional<std::string>>;
  Status append_records(int32_t partition, const std::vector<KeyValue>& records,
                        GroupStorage::Durability durability);

  CoordinatorConfig config_;
  GroupStorage& storage_;
  mutable std::mutex mu_;
  std::map<std::string, Group> groups_;  // only groups of loaded partitions
  std::vector<PartitionSlot> partitions_;
  bool stopped_ = false;  // guarded by mu_: joins are refused once stop() began
  std::deque<std::pair<int32_t, uint64_t>> load_queue_;  // guarded by mu_
  std::condition_variable loader_cv_;                    // with mu_
  std::thread loader_;
  std::vector<std::unique_ptr<std::mutex>> partition_mu_;  // one per offsets partition
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  std::thread timer_;
  uint64_t next_member_ = 0;
};

}  // namespace mq::group
