// Controller: the decisions of the active controller (the Raft leader), as
// pure code over the latest applied MetadataImage and a clock passed in.
// Every operation validates its request and returns the RecordBatch to
// propose (empty when nothing changes) plus a response; the caller proposes
// the batch through Raft and applies it to every image once committed. Only
// broker liveness (heartbeat times) lives here and not in the log.
//
// Contract: decisions read the image given by update_image(). A decision that
// returned records must be committed and applied (update_image with the new
// image) before the next decision that may return records; the image rejects
// a batch decided from an older state (broker epochs and partition epochs in
// the records) rather than merging it. docs/metadata.md §4 has the rules.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "metadata/image.h"
#include "metadata/partition_change.h"
#include "metadata/records.h"

namespace mq::metadata {

// The cluster setting (ConfigResource::kCluster) that throttles replicas
// being added by a reassignment, in bytes per second per receiving broker.
// The controller removes it once no partition is being reassigned.
inline constexpr std::string_view kReassignmentThrottle = "reassignment.throttle.bytes.per.sec";
// Its value in `image`; 0 when unset.
int64_t reassignment_throttle(const MetadataImage& image);

struct ControllerConfig {
  int64_t broker_session_timeout_ms = 3000;
  bool unclean_leader_election = false;  // default of unclean.leader.election.enable
  int32_t min_insync_replicas = 1;       // default of min.insync.replicas
  int32_t producer_id_block_size = 1000;
  bool auto_leader_rebalance = true;
  int64_t leader_rebalance_interval_ms = 30000;
  int32_t leader_imbalance_percent = 10;  // per broker, as Kafka's
  uint64_t seed = 0;                      // topic ids and assignment start index
};

// The request and response structs below that travel in controller calls
// (broker/controller_rpc.h) list their wire fields in fields(), in order.

template <class T>
struct Decision {
  RecordBatch records;
  T response{};
};

struct BrokerRegistration {
  BrokerId broker_id = 0;
  uint64_t incarnation_id = 0;
  std::string endpoint;
  std::string rack;
  bool clean_shutdown = true;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("incarnation_id", m.incarnation_id);
    c("endpoint", m.endpoint);
    c("rack", m.rack);
    c("clean_shutdown", m.clean_shutdown);
  }
};

struct BrokerHeartbeat {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;
  uint64_t metadata_offset = 0;  // the last metadata raft index the broker applied (and acted on)

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
    c("metadata_offset", m.metadata_offset);
  }
};

struct HeartbeatResponse {
  bool fenced = true;  // after the returned records, if any, are applied
  bool in_controlled_shutdown = false;
  bool should_shut_down = false;  // in controlled shutdown and leads nothing

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("fenced", m.fenced);
    c("in_controlled_shutdown", m.in_controlled_shutdown);
    c("should_shut_down", m.should_shut_down);
  }
};

struct ControlledShutdownResponse {
  int32_t leaderships_moved = 0;   // partitions now led by another broker
  int32_t partitions_offline = 0;  // partitions it led that have no leader now

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("leaderships_moved", m.leaderships_moved);
    c("partitions_offline", m.partitions_offline);
  }
};

struct CreateTopicRequest {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  std::vector<ConfigEntry> configs;
  // Manual assignment: one replica list per partition; when given,
  // `partitions` and `replication_factor` must be -1 or match it.
  std::vector<std::vector<BrokerId>> assignment;
};

struct CreatedTopic {
  TopicId topic_id = 0;
  std::vector<std::vector<BrokerId>> assignment;
};

struct AlterPartitionRequest {
  BrokerId broker_id = 0;  // the partition leader sending it
  int64_t broker_epoch = 0;
  std::string topic;
  int32_t partition = 0;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<BrokerId> new_isr;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
    c("topic", m.topic);
    c("partition", m.partition);
    c("leader_epoch", m.leader_epoch);
    c("partition_epoch", m.partition_epoch);
    c("new_isr", m.new_isr);
  }
};

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  bool operator==(const TopicPartition&) const = default;
};

enum class ElectionType : int8_t { kPreferred = 0, kUnclean = 1 };

struct ElectionResult {
  TopicPartition partition;
  Status status;  // ok when a new leader was chosen
};

struct ProducerIdBlock {
  int64_t start = 0;
  int32_t size = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("start", m.start);
    c("size", m.size);
  }
};

// InitProducerId's rule for an existing id (Kafka's): the epoch the caller
// gets, from the id's `current` epoch and the `requested` one it holds.
// `requested` = current: a bump to current + 1, which fences the older
// epochs; `requested` = current - 1: a retry of the bump that made current
// (its answer was lost), answered with current again; any other epoch:
// INVALID_PRODUCER_EPOCH. nullopt when current is 32767, the last epoch: the
// caller needs a new producer id.
Result<std::optional<int16_t>> next_producer_epoch(int64_t producer_id, int16_t current,
                                                   int16_t requested);

class Controller {
 public:
  Controller(ControllerConfig config, std::shared_ptr<const MetadataImage> image);

  // The latest applied image. Liveness timers are kept by broker incarnation.
  void update_image(std::shared_ptr<const MetadataImage> image);
  // A sign of life of broker `id` other than a heartbeat to this controller,
  // at `at_ms` (the tick clock): a broker without a timer yet (a new
  // controller gives everyone a full session from its first tick) starts its
  // session there; a later time than its timer's moves the timer. Used for
  // the previous active controller, whose heartbeats went to itself: its last
  // quorum message is the last the cluster heard of it.
  void heard_from(BrokerId id, int64_t at_ms);
  const MetadataImage& image() const { return *image_; }

  // Cluster id, once, by the first controller of a new cluster.
  Result<RecordBatch> initialize_cluster(const std::string& cluster_id) const;

  // --- brokers (controller.cc) ---
  // The broker's epoch is the raft index the returned batch commits at.
  Result<RecordBatch> register_broker(const BrokerRegistration& request, int64_t now_ms);
  Result<Decision<HeartbeatResponse>> broker_heartbeat(const BrokerHeartbeat& request,
                                                       int64_t now_ms);
  // Fences brokers whose session expired, moves their leaderships, retries
  // elections of leaderless partitions, and drops the reassignment throttle
  // once nothing is being reassigned.
  RecordBatch tick(int64_t now_ms);
  Result<Decision<ControlledShutdownResponse>> controlled_shutdown(BrokerId broker_id,
                                                                   int64_t broker_epoch);
  // The unfenced brokers, not in controlled shutdown, that have not reported
  // (in a heartbeat to this controller) applying the metadata up to
  // `metadata_offset`: an admin call answers once none is left, so a
  // client's next request to any broker sees its change.
  std::vector<BrokerId> brokers_behind(uint64_t metadata_offset) const;
  // Only a fenced or shut-down broker; it leaves every ISR and ELR.
  Result<RecordBatch> unregister_broker(BrokerId broker_id);
  Result<Decision<ProducerIdBlock>> allocate_producer_ids(BrokerId broker_id, int64_t broker_epoch);
  // InitProducerId with an existing id and epoch, by next_producer_epoch():
  // the epoch now current (a ProducerEpoch record when it moved), or nullopt
  // when the id's epochs are used up. UNKNOWN_PRODUCER_ID for an id never
  // handed out.
  Result<Decision<std::optional<int16_t>>> bump_producer_epoch(BrokerId broker_id,
                                                               int64_t broker_epoch,
                                                               int64_t producer_id,
                                                               int16_t producer_epoch);

  // --- topics (controller_topics.cc) ---
  Result<Decision<CreatedTopic>> create_topic(const CreateTopicRequest& request);
  Result<RecordBatch> delete_topic(const std::string& name);
  Result<RecordBatch> add_partitions(const std::string& name, int32_t total_partitions,
                                     const std::vector<std::vector<BrokerId>>& assignment = {});
  Result<RecordBatch> alter_configs(const std::vector<Config>& changes) const;

  // --- ACLs (controller_acls.cc) ---
  // Acl records for the valid bindings not stored yet (each once); the
  // response has one status per binding (INVALID_ACL, or ok when stored
  // already or by this batch).
  Decision<std::vector<Status>> create_acls(
      const std::vector<transport::AclBinding>& bindings) const;
  // RemoveAcl records for every stored binding a filter selects (each once);
  // the response has, per filter, the bindings it selects or its INVALID_ACL.
  Decision<std::vector<Result<std::vector<transport::AclBinding>>>> delete_acls(
      const std::vector<transport::AclFilter>& filters) const;

  // --- partitions (controller_partitions.cc) ---
  // The response is the partition's state once the batch is applied.
  Result<Decision<PartitionState>> alter_partition(const AlterPartitionRequest& request);
  // An empty list means every partition. Per-partition results.
  Decision<std::vector<ElectionResult>> elect_leaders(
      ElectionType type, const std::vector<TopicPartition>& partitions);
  // Every leader_rebalance_interval_ms: preferred elections on brokers whose
  // share of not-led preferred partitions exceeds leader_imbalance_percent.
  RecordBatch auto_rebalance(int64_t now_ms);
  Result<RecordBatch> reassign(const TopicPartition& partition,
                               const std::vector<BrokerId>& target_replicas);
  Result<RecordBatch> cancel_reassignment(const TopicPartition& partition);

  // The effective per-topic settings (topic config, cluster config, default).
  int32_t min_insync_replicas(const TopicState& topic) const;
  bool unclean_leader_election(const TopicState& topic) const;

 private:
  struct Liveness {
    uint64_t incarnation_id = 0;
    int64_t last_heartbeat_ms = 0;
    uint64_t metadata_offset = 0;  // the last one it heartbeated; 0 before its first heartbeat
  };

  using PartitionFilter = std::function<bool(const TopicState&, const PartitionState&)>;
  // Applies the rules to every partition `only` accepts as `view` leaves the
  // brokers, appending the changes to `records`; returns the decisions made.
  std::vector<PartitionDecision> decide_all(const BrokerView& view, RecordBatch& records,
                                            const PartitionFilter& only) const;
  PartitionTarget target_for(const TopicState& topic) const;
  Result<std::vector<std::vector<BrokerId>>> assign_replicas(int32_t partitions,
                                                             int32_t replication_factor,
                                                             int32_t first_partition);
  Status check_assignment(const std::vector<std::vector<BrokerId>>& assignment,
                          size_t replication_factor) const;
  Status check_topic_configs(const std::vector<ConfigEntry>& configs) const;
  Result<const BrokerState*> current_broker(BrokerId id, int64_t epoch) const;
  uint64_t next_random();

  ControllerConfig config_;
  std::shared_ptr<const MetadataImage> image_;
  std::map<BrokerId, Liveness> liveness_;
  int64_t next_producer_id_ = 0;  // at least the image's: covers blocks not yet applied
  int64_t last_rebalance_ms_ = INT64_MIN;
  uint64_t random_state_;
};

// Topic name rules (Kafka's): 1..249 of [A-Za-z0-9._-], not "." or "..".
Status check_topic_name(const std::string& name);

}  // namespace mq::metadata
