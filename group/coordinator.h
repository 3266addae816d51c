// The group coordinator: membership, rebalances, server-side assignment and
// committed offsets of the consumer groups whose __consumer_offsets
// partitions this broker leads. docs/protocol.md §15 is the contract;
// docs/groups.md explains it for operators.
//
// Threading: every call may come from any worker thread. One mutex guards the
// groups; a commit holds its offsets partition's own mutex across the append,
// so the cache changes in log order, but never the groups mutex. JoinGroup
// answers later (when the join phase ends), through its callback, called
// without any lock held. A timer thread expires members and ends join phases.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
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
  std::function<int64_t()> clock_ms;  // tests substitute their own
};

// What the coordinator needs of the broker: the offsets topic's partitions
// and the data topics' shapes.
class GroupStorage {
 public:
  virtual ~GroupStorage() = default;
  // Appends one batch to partition `partition` of __consumer_offsets and
  // returns once it is as durable as the topic's settings make it.
  virtual Status append(int32_t partition, std::string batch) = 0;
  // Every record of the partition, in offset order.
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

  // Reads every offsets partition back into memory, then starts the timer.
  // Until it returns, requests are answered COORDINATOR_LOAD_IN_PROGRESS.
  Status load();
  // Stops the timer; pending joins are answered COORDINATOR_NOT_AVAILABLE.
  void stop();

  // The offsets partition of `group`: toPositive(murmur2(group)) % partitions.
  int32_t partition_for(const std::string& group) const;

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

  int64_t now() const;
  bool loaded() const { return loaded_.load(std::memory_order_acquire); }
  Status apply_record(const Record& record);
  void timer_loop();

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
  Status append_records(int32_t partition, const std::vector<KeyValue>& records);

  CoordinatorConfig config_;
  GroupStorage& storage_;
  std::atomic<bool> loaded_{false};
  mutable std::mutex mu_;
  std::map<std::string, Group> groups_;
  bool stopped_ = false;  // guarded by mu_: joins are refused once stop() began
  std::vector<std::unique_ptr<std::mutex>> partition_mu_;  // one per offsets partition
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool stopping_ = false;
  std::thread timer_;
  uint64_t next_member_ = 0;
};

}  // namespace mq::group
