// Admin: topics, partitions, configs, offsets, cluster metadata and consumer
// groups (list, describe with lag, delete, offset resets), for mqctl and
// applications. Every call is synchronous and thread-safe (calls
// are serialized: the connections belong to one thread at a time).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/metadata.h"
#include "client/record.h"
#include "transport/acls.h"
#include "transport/cluster_admin.h"
#include "transport/configs.h"

namespace mq::client {

class Cluster;

struct GroupListing {
  std::string group_id;
  std::string protocol_type;  // "consumer", or "" for a group with offsets only
  std::string state;          // Empty, PreparingRebalance, CompletingRebalance, Stable
  int32_t coordinator_id = -1;
};

struct GroupMemberDescription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<std::string> topics;         // its subscription
  std::vector<TopicPartition> assignment;  // its partitions this generation
};

// One partition a group has a committed offset for, or that a member owns.
struct GroupPartitionLag {
  TopicPartition partition;
  int64_t committed_offset = -1;  // -1: none
  int64_t log_end_offset = -1;    // the high watermark (ListOffsets -1)
  int64_t lag = -1;               // log_end_offset - committed_offset; -1 without a commit
  std::string member_id;          // its owner, "" if no member owns it
};

struct GroupDescription {
  std::string group_id;
  std::string state;  // "Dead" for a group the coordinator does not know
  std::string protocol_type;
  std::string assignor;
  int32_t coordinator_id = -1;
  std::vector<GroupMemberDescription> members;
  std::vector<GroupPartitionLag> partitions;  // sorted by topic, partition
  int64_t total_lag = 0;                      // over partitions with a commit
};

// What `mqctl group reset-offsets` can do (issue 5). Every new offset is
// clamped to [log start, log end] of its partition.
enum class OffsetResetMode : uint8_t {
  kToEarliest,  // the log start offset
  kToLatest,    // the log end offset
  kToOffset,    // `value`
  kShiftBy,     // current + `value` (may be negative)
  kToDatetime,  // first offset with timestamp >= `value` (ms since the epoch); the end if none
  kByDuration,  // as kToDatetime with now - `value` ms
  kToCurrent,   // current: the committed offset, else where a consumer would start
  kFromCsv,     // `csv`: "topic,partition,offset" lines
};

// A topic, and some of its partitions (empty: all of them).
struct TopicSelection {
  std::string topic;
  std::vector<int32_t> partitions;
};
// Parses mqctl's "--topic T" or "--topic T:0,2,5".
Result<TopicSelection> parse_topic_selection(std::string_view text);

struct OffsetResetSpec {
  OffsetResetMode mode = OffsetResetMode::kToEarliest;
  int64_t value = 0;  // the offset, shift, timestamp or duration (ms) of the mode
  std::string csv;    // kFromCsv: its text; it names the partitions itself
  // The partitions to reset; empty = every partition of every topic the
  // group has committed offsets for.
  std::vector<TopicSelection> topics;
};

struct OffsetResetEntry {
  TopicPartition partition;
  // The committed offset, -1 if none. Where there is none, "current" (for
  // kToCurrent and kShiftBy) is the log end offset: where a consumer with the
  // default auto_offset_reset (latest) would start.
  int64_t current_offset = -1;
  int64_t new_offset = 0;
};

// A computed reset, for printing (dry run) and then apply_offset_reset().
struct OffsetResetPlan {
  std::string group_id;
  std::vector<OffsetResetEntry> entries;  // sorted by topic, partition
};

struct NewTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1 = the broker's default
  int16_t replication_factor = -1;  // -1 = the broker's default
  std::map<std::string, std::string> configs;
};

// The outcome for one named thing (topic, config resource) of a batch call.
struct ItemResult {
  std::string name;
  Status status;
};

struct ConfigResource {
  transport::ConfigResourceType type = transport::ConfigResourceType::kTopic;
  std::string name;  // topic name, or broker id in decimal
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool read_only = false;
  transport::ConfigSource source = transport::ConfigSource::kDefault;
  bool is_sensitive = false;
};

// value nullopt = delete the key (revert to its default).
struct ConfigChange {
  std::string name;
  std::optional<std::string> value;
};

struct ListedOffset {
  int64_t offset = -1;     // -1: no record matches the timestamp
  int64_t timestamp = -1;  // of the found record; -1 for earliest/latest
  int32_t leader_epoch = -1;
};

// How Admin::find_messages() searched one partition.
struct KeySearchPartition {
  int32_t partition = 0;
  int64_t high_watermark = -1;  // the committed records below it were searched
  int64_t candidates = 0;       // records the leader looked at to find the matches
  bool more = false;            // older matches were left out for the limit
};

// The messages of a topic with one key (Admin::find_messages()).
struct FoundMessages {
  std::vector<ConsumerRecord> records;         // sorted by partition, then offset
  std::vector<KeySearchPartition> partitions;  // every partition of the topic, by number
};

// A pending delayed message (Admin::list_delayed()).
struct DelayedMessage {
  int32_t partition = 0;
  int64_t offset = 0;         // its scheduled record's: what cancel_delayed() takes
  int64_t deliver_at_ms = 0;  // ms since the epoch
};

// The pending delayed messages of a topic (Admin::list_delayed()).
struct DelayedListing {
  std::vector<DelayedMessage> messages;  // by delivery time, then partition and offset
  int64_t pending = 0;                   // every pending one, listed or not
};

// One partition's outcome of Admin::elect_leaders().
struct ElectionOutcome {
  TopicPartition partition;
  Status status;           // the failure; ok when elected or when no election was needed
  bool elected = false;    // this request changed the leader
  int32_t leader_id = -1;  // the leader afterwards, -1 = none or unknown
  std::string note;        // why no election was needed ("election not needed: ...")
};

// A partition's new replica set for Admin::alter_reassignments(); nullopt
// cancels its reassignment in progress.
struct ReassignmentTarget {
  TopicPartition partition;
  std::optional<std::vector<int32_t>> replicas;
};

// One partition's outcome of Admin::alter_reassignments().
struct ReassignmentOutcome {
  TopicPartition partition;
  Status status;
};

// A partition being reassigned.
struct OngoingReassignment {
  TopicPartition partition;
  std::vector<int32_t> replicas;  // every replica now: the target ones first
  std::vector<int32_t> adding_replicas;
  std::vector<int32_t> removing_replicas;
  std::vector<int32_t> isr;
  int32_t leader_id = -1;
};

struct ReassignmentListing {
  int64_t throttle_bytes_per_sec = 0;  // 0 = none
  std::vector<OngoingReassignment> partitions;
};

struct QuorumMember {
  int32_t node_id = -1;
  bool voter = false;
  int64_t match_index = 0;
  int64_t lag = 0;  // entries behind the leader's last log index
  bool recent_active = false;
  std::string directory_id;   // of its quorum directory as it last said; "" = not yet
  int64_t heard_ms_ago = -1;  // since its last answer to the leader; -1 = not this term
};

// One voter of the metadata quorum's voter set in effect.
struct QuorumVoter {
  int32_t node_id = -1;
  std::string directory_id;  // "" = not recorded yet
  std::string endpoint;      // its quorum endpoint, "tcp://host:port"
};

// A registered broker and its state (DescribeCluster), fenced or not.
struct RegisteredBroker {
  BrokerInfo broker;
  bool fenced = false;                  // not serving (down, cut off, or still catching up)
  bool in_controlled_shutdown = false;  // stopping: its leaderships are moving away
};

struct BrokerListing {
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;             // -1: no active controller known
  std::vector<RegisteredBroker> brokers;  // by id
};

// The metadata quorum as the answering node (the controller, when reachable) sees it.
struct QuorumDescription {
  int32_t node_id = -1;  // the node that answered
  bool voter = false;
  std::string role;  // follower, pre-candidate, candidate, leader
  int32_t leader_id = -1;
  int64_t term = 0;
  int64_t commit_index = 0;
  int64_t applied_index = 0;
  int64_t last_log_index = 0;
  std::vector<QuorumMember> members;  // empty unless the leader answered
  std::string directory_id;           // the answering node's quorum directory
  // The log index of the voter set's configuration entry; 0: the configured
  // cluster.voters, no entry yet. Both empty from a broker older than v1.
  int64_t voters_recorded_at = 0;
  std::vector<QuorumVoter> voters;
};

// One partition replica as DescribeLogDirs reports it.
struct LogDirPartition {
  TopicPartition partition;
  int64_t size_bytes = 0;
  int32_t segments = 0;
  int64_t log_start_offset = 0;
  int64_t log_end_offset = 0;
  int64_t high_watermark = 0;
  bool leader = false;  // this broker leads it
};

// One broker's data directory and what it holds.
struct LogDirDescription {
  int32_t broker_id = -1;
  std::string path;
  ErrorCode error = ErrorCode::kNone;       // STORAGE_ERROR: a log there failed
  int64_t total_bytes = -1;                 // its file system's capacity, -1 unknown
  int64_t usable_bytes = -1;                // free for the broker, -1 unknown
  std::vector<LogDirPartition> partitions;  // sorted by topic, partition
};

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> create(const AdminConfig& config);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // The request-level error as the Status; per-item errors in the results.
  Result<std::vector<ItemResult>> create_topics(const std::vector<NewTopic>& topics,
                                                bool validate_only = false);
  Result<std::vector<ItemResult>> delete_topics(const std::vector<std::string>& topics);
  // Grows each topic to the given total number of partitions.
  Result<std::vector<ItemResult>> create_partitions(const std::map<std::string, int32_t>& totals,
                                                    bool validate_only = false);

  // keys nullopt = every key.
  Result<std::vector<ConfigEntry>> describe_configs(
      const ConfigResource& resource,
      const std::optional<std::vector<std::string>>& keys = std::nullopt);
  Status alter_configs(const ConfigResource& resource, const std::vector<ConfigChange>& changes,
                       bool validate_only = false);
  // The configs of several topics in one request: each topic's entries, or
  // its own error (UNKNOWN_TOPIC_OR_PARTITION, ...). keys nullopt = every key.
  Result<std::map<std::string, Result<std::vector<ConfigEntry>>>> describe_topic_configs(
      const std::vector<std::string>& topics,
      const std::optional<std::vector<std::string>>& keys = std::nullopt);

  // kEarliestTimestamp (-2), kLatestTimestamp (-1) or a time in ms per
  // partition; each asked of the partition's leader.
  Result<std::map<TopicPartition, ListedOffset>> list_offsets(
      const std::map<TopicPartition, int64_t>& timestamps);
  // The same, partition by partition: a partition without a leader, whose
  // leader does not answer or answers with an error fails alone, and the
  // others are still read. Fails as a whole only when no metadata can be read.
  Result<std::map<TopicPartition, Result<ListedOffset>>> list_offsets_each(
      const std::map<TopicPartition, int64_t>& timestamps);

  // DeleteRecords: moves each partition's log start to the offset (-1: its
  // high watermark), on its leader. Each partition's new low watermark (the
  // log start every in-sync replica has reached), or its own error:
  // OFFSET_OUT_OF_RANGE past the high watermark, REQUEST_TIMED_OUT when the
  // leader deleted but a follower did not confirm in time. Fails as a whole
  // only when no metadata can be read.
  Result<std::map<TopicPartition, Result<int64_t>>> delete_records(
      const std::map<TopicPartition, int64_t>& offsets);
  // FindMessages: the latest `limit_per_partition` (1..10000) committed
  // messages whose key is exactly `key` in each partition of `topic`, asked
  // of every partition's leader (one request per leader). A leader that
  // moved or has not loaded the partition yet is asked again after a
  // metadata refresh, within default_api_timeout_ms; any other partition
  // error fails the whole call. UNKNOWN_TOPIC_OR_PARTITION for a missing
  // topic, INVALID_REQUEST for a limit out of range.
  Result<FoundMessages> find_messages(const std::string& topic, std::string_view key,
                                      int32_t limit_per_partition);
  // Delayed delivery. The earliest `limit_per_partition` (1..10000) pending
  // delayed messages of each partition of `topic` (ListDelayed to each
  // leader, asked again after a leader move within default_api_timeout_ms).
  Result<DelayedListing> list_delayed(const std::string& topic, int32_t limit_per_partition);
  // Cancels the delayed message whose scheduled record is at `offset`
  // (CancelDelayed to the leader; ok once the cancel is committed).
  // NOT_FOUND when nothing is pending there. REQUEST_TIMED_OUT is not asked
  // again: the cancel may be in the log, not yet committed.
  Status cancel_delayed(const TopicPartition& partition, int64_t offset);
  // DescribeLogDirs of each broker in `brokers` (empty: every registered
  // one), for the partitions of `topics` (empty: all): per broker its
  // description or why it could not be read.
  Result<std::map<int32_t, Result<LogDirDescription>>> describe_log_dirs(
      const std::vector<int32_t>& brokers, const std::vector<std::string>& topics);

  // Brokers, controller and topics (nullopt = all topics). Lists only the
  // brokers clients may use: fenced ones are left out (see describe_brokers).
  // With `allow_auto_create` the broker creates missing topics if its
  // topics.auto_create allows (as a producer's metadata request does).
  Result<ClusterMetadata> describe_cluster(
      const std::optional<std::vector<std::string>>& topics = std::nullopt,
      bool allow_auto_create = false);
  // Every registered broker, fenced ones included, as the answering broker's
  // metadata has them (DescribeCluster). UNSUPPORTED_VERSION from a broker
  // older than that API.
  Result<BrokerListing> describe_brokers();

  // Consumer groups. Every group call goes to the group's coordinator
  // (FindCoordinator), found again after NOT_COORDINATOR and retried while
  // it loads, within request_timeout_ms.

  // Every group of every broker (ListGroups to each), sorted by id.
  Result<std::vector<GroupListing>> list_groups();
  // State, members (subscriptions and assignments decoded), and per
  // partition committed offset, log end offset and lag.
  Result<GroupDescription> describe_group(const std::string& group_id);
  // Deletes Empty groups and their offsets (NON_EMPTY_GROUP for the others).
  Result<std::vector<ItemResult>> delete_groups(const std::vector<std::string>& group_ids);
  // Deletes the group's committed offsets of every partition of `topic`;
  // refused (GROUP_SUBSCRIBED_TO_TOPIC) while a member subscribes to it.
  Status delete_group_offsets(const std::string& group_id, const std::string& topic);

  // Computes a reset; nothing is written. Refused (NON_EMPTY_GROUP) while
  // the group has members, and for partitions that do not exist.
  Result<OffsetResetPlan> plan_offset_reset(const std::string& group_id,
                                            const OffsetResetSpec& spec);
  // Writes the plan as one OffsetCommit (generation -1): all or nothing.
  Status apply_offset_reset(const OffsetResetPlan& plan);

  // Preferred or unclean leader elections (docs/protocol.md, ElectLeaders):
  // `partitions` or, with nullopt, every partition of the cluster. A
  // request-level failure is the error; per-partition ones are in the outcomes.
  Result<std::vector<ElectionOutcome>> elect_leaders(
      transport::ElectionType type,
      const std::optional<std::vector<TopicPartition>>& partitions = std::nullopt);
  // Asks the controller; if another node answers without the members'
  // progress, asks the quorum leader it names.
  Result<QuorumDescription> describe_quorum();
  // Makes node `id`, running as an observer of the quorum and caught up, a
  // voter reached at `endpoint` ("HOST:PORT" of its quorum listener); removes
  // a voter. Answered once the new voter set is committed; one change at a
  // time (VOTER_CHANGE_IN_PROGRESS is retried within default_api_timeout_ms).
  // Errors: DUPLICATE_VOTER, VOTER_NOT_FOUND, REPLICA_NOT_AVAILABLE (not an
  // observer of the leader, or not caught up), NOT_ENOUGH_REPLICAS (the new
  // set's answering voters would be no quorum), INVALID_REQUEST.
  Status add_raft_voter(int32_t id, const std::string& endpoint);
  Status remove_raft_voter(int32_t id);
  // Removes a retired broker's registration: refused (INVALID_REQUEST) while
  // it runs, is a voter or holds a replica; BROKER_NOT_AVAILABLE if it is
  // not registered.
  Status unregister_broker(int32_t id);

  // Partition reassignments (docs/protocol.md, AlterPartitionReassignments):
  // the throttle -1 leaves the cluster's reassignment throttle as it is, 0
  // removes it, > 0 sets it in bytes per second.
  Result<std::vector<ReassignmentOutcome>> alter_reassignments(
      const std::vector<ReassignmentTarget>& targets, int64_t throttle_bytes_per_sec = -1,
      bool validate_only = false);
  // The partitions being reassigned (nullopt = all) and the throttle in force.
  Result<ReassignmentListing> list_reassignments(
      const std::optional<std::vector<TopicPartition>>& partitions = std::nullopt);

  // ACLs (docs/security.md, "Authorization"). The stored bindings the
  // filter selects, sorted (DescribeAcls to any broker).
  Result<std::vector<transport::AclBinding>> describe_acls(const transport::AclFilter& filter);
  // Stores the bindings (one stored already is a success): per binding, in
  // order, ok or why not (INVALID_ACL). Answered once every live broker
  // enforces them.
  Result<std::vector<Status>> create_acls(const std::vector<transport::AclBinding>& bindings);
  // Removes every stored binding each filter selects: per filter, the
  // bindings it removed or its error.
  Result<std::vector<Result<std::vector<transport::AclBinding>>>> delete_acls(
      const std::vector<transport::AclFilter>& filters);

 private:
  Admin(std::unique_ptr<Cluster> cluster, const AdminConfig& config);
  // Runs `attempt` (returning a Result) again after each error `retriable`
  // accepts, with backoff and a metadata refresh in between, until it
  // succeeds, fails for good, or default_api_timeout_ms is up.
  template <class Attempt, class Retriable>
  auto retrying(Attempt&& attempt, Retriable&& retriable) -> decltype(attempt());
  // The controller per the metadata, else any broker.
  Result<int32_t> controller();
  // Sends to the controller; on NOT_CONTROLLER or a lost connection finds it
  // again and retries within default_api_timeout_ms.
  template <class Request>
  Result<typename Request::Response> call_controller(const Request& request);
  // Config requests: a broker resource to that broker (its settings are its
  // own), a topic to the controller.
  template <class Request>
  Result<typename Request::Response> call_for_resource(const ConfigResource& resource,
                                                       const Request& request);
  // The timeout_ms of a request the broker answers once committed.
  int32_t server_timeout_ms() const;
  // call_controller() for a request answered with an outcome only; retries
  // `retriable` codes of the outcome too.
  template <class Request>
  Status call_for_outcome(const Request& request, bool (*retriable)(ErrorCode));
  // call_for_outcome() for AddRaftVoter / RemoveRaftVoter: a retry answered
  // `done_already` (the change is made) after an attempt that may have made
  // it is a success.
  template <class Request>
  Status change_voters(const Request& request, ErrorCode done_already);
  // Sends to the group's coordinator, finding it again after coordinator errors.
  template <class Request, class ErrorOf>
  Result<typename Request::Response> call_coordinator(const std::string& group_id,
                                                      const Request& request, ErrorOf error_of);
  Result<std::map<TopicPartition, ListedOffset>> list_offsets_locked(
      const std::map<TopicPartition, int64_t>& timestamps);
  // One round of find_messages(): asks the leaders of the partitions of
  // `info` that `*found` lacks and adds their answers to it; the first
  // failure, by partition number.
  Status find_messages_round(const TopicInfo& info, std::string_view key, int32_t limit,
                             FoundMessages* found);
  // The partition's leader as the metadata names it, or why there is none
  // (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE).
  Result<int32_t> leader_of(const TopicPartition& tp) const;
  // One attempt, an outcome per partition.
  Result<std::map<TopicPartition, Result<ListedOffset>>> list_offsets_each_locked(
      const std::map<TopicPartition, int64_t>& timestamps);
  Result<GroupDescription> describe_group_locked(const std::string& group_id);
  // The group's committed offsets (a broadcast member's own if `member_id`).
  Result<std::map<TopicPartition, int64_t>> committed_offsets(const std::string& group_id,
                                                              const std::string& member_id = "");
  // NON_EMPTY_GROUP, saying why and what to do, if the group has members.
  Status require_inactive(const std::string& group_id);

  std::mutex mu_;
  std::unique_ptr<Cluster> cluster_;
  int request_timeout_ms_;
  AdminConfig config_;
  int32_t last_coordinator_id_ = -1;  // of the last group call that reached one
};

}  // namespace mq::client
