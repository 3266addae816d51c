// MetadataImage: the cluster's metadata as of one applied raft index — what
// every broker builds by applying the committed RecordBatches in order, and
// what the active controller decides from. Snapshot layout (encode_snapshot,
// types as in transport/codec.h; docs/metadata.md §3):
//
//   Snapshot
//     version             int16 (0)
//     applied_index       uint64
//     cluster_id          string
//     next_producer_id    int64
//     brokers             array of BrokerState
//     topics              array of TopicState (partitions inside)
//     configs             array of ResourceConfigs (cluster and broker resources)
//     producer_epochs     array of {producer_id int64, producer_epoch int16}
//                         (version 1 and later; version 0 = no epoch was ever bumped)
//     acls                array of AclBinding, sorted (version 2 only; written
//                         only while ACLs are stored)
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "metadata/records.h"

namespace mq::metadata {

struct BrokerState {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;  // raft index of the RegisterBroker record
  uint64_t incarnation_id = 0;
  std::string endpoint;
  std::string rack;
  bool fenced = true;
  bool in_controlled_shutdown = false;
  bool clean_shutdown = true;  // what the registration reported about the previous run

  bool operator==(const BrokerState&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
    c("incarnation_id", m.incarnation_id);
    c("endpoint", m.endpoint);
    c("rack", m.rack);
    c("fenced", m.fenced);
    c("in_controlled_shutdown", m.in_controlled_shutdown);
    c("clean_shutdown", m.clean_shutdown);
  }
};

struct PartitionState {
  std::vector<BrokerId> replicas;
  std::vector<BrokerId> isr;
  BrokerId leader = kNoLeader;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<BrokerId> elr;
  std::vector<BrokerId> last_known_elr;
  std::vector<BrokerId> adding_replicas;
  std::vector<BrokerId> removing_replicas;

  bool operator==(const PartitionState&) const = default;
  bool reassigning() const { return !adding_replicas.empty() || !removing_replicas.empty(); }
  // The replica set the partition ends with once its reassignment completes.
  std::vector<BrokerId> target_replicas() const;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("replicas", m.replicas);
    c("isr", m.isr);
    c("leader", m.leader);
    c("leader_epoch", m.leader_epoch);
    c("partition_epoch", m.partition_epoch);
    c("elr", m.elr);
    c("last_known_elr", m.last_known_elr);
    c("adding_replicas", m.adding_replicas);
    c("removing_replicas", m.removing_replicas);
  }
};

struct TopicState {
  std::string name;
  TopicId topic_id = 0;
  std::vector<PartitionState> partitions;  // index = partition number
  std::vector<ConfigEntry> configs;        // sorted by key, keys unique

  bool operator==(const TopicState&) const = default;
  const std::string* config(std::string_view key) const;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("topic_id", m.topic_id);
    c("partitions", m.partitions);
    c("configs", m.configs);
  }
};

// Configs of the cluster resource ("") or one broker (decimal id).
using TopicMap = std::map<std::string, TopicState, std::less<>>;

struct ResourceConfigs {
  ConfigResource resource = ConfigResource::kCluster;
  std::string resource_name;
  std::vector<ConfigEntry> configs;  // sorted by key, keys unique

  bool operator==(const ResourceConfigs&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resource", m.resource);
    c("resource_name", m.resource_name);
    c("configs", m.configs);
  }
};

class MetadataImage {
 public:
  // Validates `record` against the image and applies it; an invalid record
  // (a change to an unknown partition, a stale broker epoch, a second cluster
  // id) is an error and leaves the image untouched. `raft_index` is the index
  // of the entry carrying the record: it becomes a registering broker's epoch.
  Status apply(const Record& record, uint64_t raft_index);
  // All or nothing: on error the image is as before the batch. A batch must
  // leave every topic with all the partitions its Topic record announced.
  Status apply(const RecordBatch& batch, uint64_t raft_index);

  Bytes encode_snapshot() const;
  // kCorruptMessage on damaged bytes or inconsistent content.
  static Result<MetadataImage> decode_snapshot(std::span<const uint8_t> bytes);

  uint64_t applied_index() const { return applied_index_; }
  const std::string& cluster_id() const { return cluster_id_; }
  int64_t next_producer_id() const { return next_producer_id_; }
  // The current epoch of a producer id: 0 unless InitProducerId bumped it.
  int16_t producer_epoch(int64_t producer_id) const;
  const std::map<int64_t, int16_t>& producer_epochs() const { return producer_epochs_; }
  const std::map<BrokerId, BrokerState>& brokers() const { return brokers_; }
  const TopicMap& topics() const { return topics_; }
  const BrokerState* broker(BrokerId id) const;
  const TopicState* topic(std::string_view name) const;
  const TopicState* topic_by_id(TopicId id) const;
  const PartitionState* partition(std::string_view topic, int32_t partition) const;
  // A cluster or broker config value, nullptr when unset.
  const std::string* config(ConfigResource resource, std::string_view name,
                            std::string_view key) const;
  // The stored ACL bindings, sorted, each once.
  const std::vector<transport::AclBinding>& acls() const { return acls_; }

  bool operator==(const MetadataImage&) const = default;

 private:
  Status apply_one(const Record& record, uint64_t raft_index);
  Status apply_record(const RegisterBroker& r, uint64_t raft_index);
  Status apply_record(const UnregisterBroker& r, uint64_t raft_index);
  Status apply_record(const FenceBroker& r, uint64_t raft_index);
  Status apply_record(const UnfenceBroker& r, uint64_t raft_index);
  Status apply_record(const BrokerControlledShutdown& r, uint64_t raft_index);
  Status apply_record(const Topic& r, uint64_t raft_index);
  Status apply_record(const Partition& r, uint64_t raft_index);
  Status apply_record(const PartitionChange& r, uint64_t raft_index);
  Status apply_record(const RemoveTopic& r, uint64_t raft_index);
  Status apply_record(const Config& r, uint64_t raft_index);
  Status apply_record(const ProducerIds& r, uint64_t raft_index);
  Status apply_record(const ClusterId& r, uint64_t raft_index);
  Status apply_record(const ProducerEpoch& r, uint64_t raft_index);
  Status apply_record(const Acl& r, uint64_t raft_index);
  Status apply_record(const RemoveAcl& r, uint64_t raft_index);
  Result<BrokerState*> registered(BrokerId id, int64_t epoch, std::string_view what);
  Status check_topics_complete() const;

  uint64_t applied_index_ = 0;
  std::string cluster_id_;
  int64_t next_producer_id_ = 0;
  std::map<int64_t, int16_t> producer_epochs_;  // only the ids whose epoch was bumped
  std::map<BrokerId, BrokerState> brokers_;
  TopicMap topics_;
  std::map<TopicId, std::string> topic_names_;
  std::vector<ResourceConfigs> configs_;
  std::vector<transport::AclBinding> acls_;  // sorted, unique
  // Announced partition count per topic created in the batch being applied.
  std::map<std::string, int32_t, std::less<>> announced_partitions_;
};

// Checks a partition's structural invariants: replicas unique and non-empty,
// ISR, ELR and reassignment lists subsets of replicas without duplicates,
// ISR and ELR disjoint, leader in ISR or kNoLeader. Empty string when sound.
std::string partition_problem(const PartitionState& state);

// What changed for one broker between two images: the partitions it must now
// lead, follow, or stop replicating. The broker uses it to become leader or
// follower after every applied batch.
struct LocalPartitionChange {
  enum class Role : int8_t { kLeader, kFollower, kStopped };
  std::string topic;
  TopicId topic_id = 0;
  int32_t partition = 0;
  Role role = Role::kFollower;
  bool deleted = false;  // kStopped because the topic was removed
  PartitionState state;  // the new state (kStopped: the last known state)

  bool operator==(const LocalPartitionChange&) const = default;
};

// Every partition, by topic id, where `broker` is a replica in `next` and its
// state differs from `previous` (or is new), plus those where it was a replica
// in `previous` and no longer is (role kStopped). Ordered by topic name and
// partition.
std::vector<LocalPartitionChange> local_changes(const MetadataImage& previous,
                                                const MetadataImage& next, BrokerId broker);

}  // namespace mq::metadata
