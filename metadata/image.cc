// Applying metadata records to the image, its snapshot, and the per-broker diff.
#include "metadata/image.h"

#include <algorithm>
#include <set>
#include <utility>

namespace mq::metadata {
namespace {

Status invalid_record(std::string what) {
  return Status(ErrorCode::kInvalidRequest, std::move(what));
}

std::string partition_name(std::string_view topic, int32_t partition) {
  return std::string(topic) + "-" + std::to_string(partition);
}

// Sets or deletes one key in a sorted, unique config list.
void set_config(std::vector<ConfigEntry>& configs, const std::string& key,
                const std::optional<std::string>& value) {
  auto it = std::lower_bound(configs.begin(), configs.end(), key,
                             [](const ConfigEntry& e, const std::string& k) { return e.key < k; });
  bool found = it != configs.end() && it->key == key;
  if (!value) {
    if (found) configs.erase(it);
  } else if (found) {
    it->value = *value;
  } else {
    configs.insert(it, ConfigEntry{key, *value});
  }
}

const std::string* find_config(const std::vector<ConfigEntry>& configs, std::string_view key) {
  auto it = std::lower_bound(configs.begin(), configs.end(), key,
                             [](const ConfigEntry& e, std::string_view k) { return e.key < k; });
  return it != configs.end() && it->key == key ? &it->value : nullptr;
}

std::string sorted_unique_problem(const std::vector<ConfigEntry>& configs) {
  for (size_t i = 0; i < configs.size(); ++i) {
    if (configs[i].key.empty()) return "empty config key";
    if (i > 0 && configs[i - 1].key >= configs[i].key) {
      return "config keys not sorted and unique at " + configs[i].key;
    }
  }
  return "";
}

std::string duplicate_problem(const std::vector<BrokerId>& ids, const char* what) {
  std::set<BrokerId> seen;
  for (BrokerId id : ids) {
    if (!seen.insert(id).second)
      return std::string(what) + " lists broker " + std::to_string(id) + " twice";
  }
  return "";
}

std::string subset_problem(const std::vector<BrokerId>& ids, const std::vector<BrokerId>& replicas,
                           const char* what) {
  if (std::string problem = duplicate_problem(ids, what); !problem.empty()) return problem;
  for (BrokerId id : ids) {
    if (!contains(replicas, id)) {
      return std::string(what) + " member " + std::to_string(id) + " is not a replica";
    }
  }
  return "";
}

bool valid_broker_id(std::string_view name) {
  if (name.empty() || name.size() > 10) return false;
  int64_t value = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return value <= INT32_MAX;
}

struct ProducerEpochEntry {
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("producer_id", m.producer_id);
    c("producer_epoch", m.producer_epoch);
  }
};

struct SnapshotWire {
  int16_t version = 0;
  uint64_t applied_index = 0;
  std::string cluster_id;
  int64_t next_producer_id = 0;
  std::vector<BrokerState> brokers;
  std::vector<TopicState> topics;
  std::vector<ResourceConfigs> configs;
  std::vector<ProducerEpochEntry> producer_epochs;  // version 1
  std::vector<transport::AclBinding> acls;          // version 2

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("applied_index", m.applied_index);
    c("cluster_id", m.cluster_id);
    c("next_producer_id", m.next_producer_id);
    c("brokers", m.brokers);
    c("topics", m.topics);
    c("configs", m.configs);
    // The version is decoded first, so it says whether this field follows.
    if (m.version >= 1) c("producer_epochs", m.producer_epochs);
    if (m.version >= 2) c("acls", m.acls);
  }
};

}  // namespace

std::vector<BrokerId> PartitionState::target_replicas() const {
  std::vector<BrokerId> target;
  for (BrokerId id : replicas) {
    if (!contains(removing_replicas, id)) target.push_back(id);
  }
  return target;
}

const std::string* TopicState::config(std::string_view key) const {
  return find_config(configs, key);
}

std::string partition_problem(const PartitionState& s) {
  if (s.replicas.empty()) return "no replicas";
  for (BrokerId id : s.replicas) {
    if (id < 0) return "replica id " + std::to_string(id) + " is negative";
  }
  for (auto [list, what] : {std::pair{&s.replicas, "replicas"}}) {
    if (std::string p = duplicate_problem(*list, what); !p.empty()) return p;
  }
  for (auto [list, what] : {std::pair{&s.isr, "isr"}, std::pair{&s.elr, "elr"},
                            std::pair{&s.last_known_elr, "last_known_elr"},
                            std::pair{&s.adding_replicas, "adding_replicas"},
                            std::pair{&s.removing_replicas, "removing_replicas"}}) {
    if (std::string p = subset_problem(*list, s.replicas, what); !p.empty()) return p;
  }
  for (BrokerId id : s.elr) {
    if (contains(s.isr, id)) return "broker " + std::to_string(id) + " is in both isr and elr";
  }
  for (BrokerId id : s.adding_replicas) {
    if (contains(s.removing_replicas, id)) {
      return "broker " + std::to_string(id) + " is both adding and removing";
    }
  }
  if (s.leader != kNoLeader && !contains(s.isr, s.leader)) {
    return "leader " + std::to_string(s.leader) + " is not in the isr";
  }
  if (s.leader_epoch < 0 || s.partition_epoch < 0) return "negative epoch";
  return "";
}

int16_t MetadataImage::producer_epoch(int64_t producer_id) const {
  auto it = producer_epochs_.find(producer_id);
  return it == producer_epochs_.end() ? 0 : it->second;
}

const BrokerState* MetadataImage::broker(BrokerId id) const {
  auto it = brokers_.find(id);
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicState* MetadataImage::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicState* MetadataImage::topic_by_id(TopicId id) const {
  auto it = topic_names_.find(id);
  return it == topic_names_.end() ? nullptr : topic(it->second);
}

const PartitionState* MetadataImage::partition(std::string_view topic_name,
                                               int32_t partition) const {
  const TopicState* t = topic(topic_name);
  if (t == nullptr || partition < 0 || static_cast<size_t>(partition) >= t->partitions.size()) {
    return nullptr;
  }
  return &t->partitions[static_cast<size_t>(partition)];
}

const std::string* MetadataImage::config(ConfigResource resource, std::string_view name,
                                         std::string_view key) const {
  if (resource == ConfigResource::kTopic) {
    const TopicState* t = topic(name);
    return t == nullptr ? nullptr : t->config(key);
  }
  for (const ResourceConfigs& r : configs_) {
    if (r.resource == resource && r.resource_name == name) return find_config(r.configs, key);
  }
  return nullptr;
}

Status MetadataImage::apply(const Record& record, uint64_t raft_index) {
  return apply(RecordBatch{record}, raft_index);
}

Status MetadataImage::apply(const RecordBatch& batch, uint64_t raft_index) {
  if (raft_index <= applied_index_) {
    return invalid_record("batch at raft index " + std::to_string(raft_index) +
                          " is not after the applied index " + std::to_string(applied_index_));
  }
  // Applied to a copy and swapped in, so a failing record leaves nothing behind.
  MetadataImage next = *this;
  for (size_t i = 0; i < batch.size(); ++i) {
    Status status = next.apply_one(batch[i], raft_index);
    if (!status.is_ok()) {
      return Status(status.code(), "record " + std::to_string(i) + " (" +
                                       std::string(record_type_name(record_type(batch[i]))) +
                                       ") at raft index " + std::to_string(raft_index) + ": " +
                                       status.message());
    }
  }
  MQ_RETURN_IF_ERROR(next.check_topics_complete());
  next.announced_partitions_.clear();
  next.applied_index_ = raft_index;
  *this = std::move(next);
  return Status::ok();
}

Status MetadataImage::apply_one(const Record& record, uint64_t raft_index) {
  return std::visit([&](const auto& r) { return apply_record(r, raft_index); }, record);
}

Status MetadataImage::check_topics_complete() const {
  for (const auto& [name, count] : announced_partitions_) {
    const TopicState* t = topic(name);
    if (t != nullptr && t->partitions.size() < static_cast<size_t>(count)) {
      return invalid_record("topic " + name + " announced " + std::to_string(count) +
                            " partitions but the batch created " +
                            std::to_string(t->partitions.size()));
    }
  }
  return Status::ok();
}

Result<BrokerState*> MetadataImage::registered(BrokerId id, int64_t epoch, std::string_view what) {
  auto it = brokers_.find(id);
  if (it == brokers_.end()) {
    return invalid_record(std::string(what) + ": broker " + std::to_string(id) +
                          " is not registered");
  }
  if (it->second.broker_epoch != epoch) {
    return invalid_record(std::string(what) + ": broker " + std::to_string(id) + " epoch " +
                          std::to_string(epoch) + " is not the registered epoch " +
                          std::to_string(it->second.broker_epoch));
  }
  return &it->second;
}

Status MetadataImage::apply_record(const RegisterBroker& r, uint64_t raft_index) {
  if (r.broker_id < 0)
    return invalid_record("broker id " + std::to_string(r.broker_id) + " is negative");
  auto epoch = static_cast<int64_t>(raft_index);
  if (const BrokerState* old = broker(r.broker_id); old != nullptr && old->broker_epoch >= epoch) {
    return invalid_record("broker " + std::to_string(r.broker_id) + " is registered at epoch " +
                          std::to_string(old->broker_epoch) + ", not before " +
                          std::to_string(epoch));
  }
  brokers_[r.broker_id] = BrokerState{r.broker_id, epoch, r.incarnation_id, r.endpoint, r.rack,
                                      true,        false, r.clean_shutdown};
  return Status::ok();
}

Status MetadataImage::apply_record(const UnregisterBroker& r, uint64_t) {
  MQ_RETURN_IF_ERROR(registered(r.broker_id, r.broker_epoch, "unregister").status());
  brokers_.erase(r.broker_id);
  return Status::ok();
}

Status MetadataImage::apply_record(const FenceBroker& r, uint64_t) {
  MQ_ASSIGN_OR_RETURN(BrokerState * state, registered(r.broker_id, r.broker_epoch, "fence"));
  state->fenced = true;
  return Status::ok();
}

Status MetadataImage::apply_record(const UnfenceBroker& r, uint64_t) {
  MQ_ASSIGN_OR_RETURN(BrokerState * state, registered(r.broker_id, r.broker_epoch, "unfence"));
  if (state->in_controlled_shutdown) {
    return invalid_record("unfence: broker " + std::to_string(r.broker_id) + " is shutting down");
  }
  state->fenced = false;
  return Status::ok();
}

Status MetadataImage::apply_record(const BrokerControlledShutdown& r, uint64_t) {
  MQ_ASSIGN_OR_RETURN(BrokerState * state,
                      registered(r.broker_id, r.broker_epoch, "controlled shutdown"));
  state->in_controlled_shutdown = true;
  return Status::ok();
}

Status MetadataImage::apply_record(const Topic& r, uint64_t) {
  if (r.name.empty()) return invalid_record("topic name is empty");
  if (topic(r.name) != nullptr) return invalid_record("topic " + r.name + " already exists");
  if (r.topic_id == 0) return invalid_record("topic " + r.name + " has id 0");
  if (topic_names_.contains(r.topic_id)) {
    return invalid_record("topic id " + std::to_string(r.topic_id) + " is already used by " +
                          topic_names_[r.topic_id]);
  }
  if (r.partition_count < 1) return invalid_record("topic " + r.name + " announces no partitions");
  TopicState state{r.name, r.topic_id, {}, {}};
  for (const ConfigEntry& entry : r.configs) {
    if (entry.key.empty()) return invalid_record("topic " + r.name + " has an empty config key");
    if (find_config(state.configs, entry.key) != nullptr) {
      return invalid_record("topic " + r.name + " sets config " + entry.key + " twice");
    }
    set_config(state.configs, entry.key, entry.value);
  }
  topics_.emplace(r.name, std::move(state));
  topic_names_[r.topic_id] = r.name;
  announced_partitions_[r.name] = r.partition_count;
  return Status::ok();
}

Status MetadataImage::apply_record(const Partition& r, uint64_t) {
  auto it = topics_.find(r.topic);
  if (it == topics_.end()) return invalid_record("partition of unknown topic " + r.topic);
  if (r.partition != static_cast<int32_t>(it->second.partitions.size())) {
    return invalid_record("partition " + partition_name(r.topic, r.partition) +
                          " is not the next one (" + std::to_string(it->second.partitions.size()) +
                          ")");
  }
  PartitionState state{
      r.replicas,         r.isr, r.leader, 0, 0, r.elr, r.last_known_elr, r.adding_replicas,
      r.removing_replicas};
  if (std::string problem = partition_problem(state); !problem.empty()) {
    return invalid_record("partition " + partition_name(r.topic, r.partition) + ": " + problem);
  }
  it->second.partitions.push_back(std::move(state));
  return Status::ok();
}

Status MetadataImage::apply_record(const PartitionChange& r, uint64_t) {
  auto it = topics_.find(r.topic);
  if (it == topics_.end() || r.partition < 0 ||
      static_cast<size_t>(r.partition) >= it->second.partitions.size()) {
    return Status(ErrorCode::kUnknownTopicOrPartition,
                  "change to unknown partition " + partition_name(r.topic, r.partition));
  }
  PartitionState& current = it->second.partitions[static_cast<size_t>(r.partition)];
  if (r.partition_epoch != current.partition_epoch) {
    return invalid_record("change to " + partition_name(r.topic, r.partition) +
                          " was decided at partition epoch " + std::to_string(r.partition_epoch) +
                          ", the partition is at " + std::to_string(current.partition_epoch));
  }
  PartitionState next = current;
  if (r.leader != kLeaderUnchanged) {
    if (r.leader < kNoLeader)
      return invalid_record("leader " + std::to_string(r.leader) + " is invalid");
    next.leader = r.leader;
    ++next.leader_epoch;
  }
  if (r.replicas) next.replicas = *r.replicas;
  if (r.isr) next.isr = *r.isr;
  if (r.elr) next.elr = *r.elr;
  if (r.last_known_elr) next.last_known_elr = *r.last_known_elr;
  if (r.adding_replicas) next.adding_replicas = *r.adding_replicas;
  if (r.removing_replicas) next.removing_replicas = *r.removing_replicas;
  ++next.partition_epoch;
  if (std::string problem = partition_problem(next); !problem.empty()) {
    return invalid_record("partition " + partition_name(r.topic, r.partition) + ": " + problem);
  }
  current = std::move(next);
  return Status::ok();
}

Status MetadataImage::apply_record(const RemoveTopic& r, uint64_t) {
  const TopicState* t = topic(r.name);
  if (t == nullptr) return Status(ErrorCode::kUnknownTopicOrPartition, "no topic " + r.name);
  if (t->topic_id != r.topic_id) {
    return invalid_record("topic " + r.name + " has id " + std::to_string(t->topic_id) + ", not " +
                          std::to_string(r.topic_id));
  }
  topic_names_.erase(r.topic_id);
  topics_.erase(topics_.find(r.name));
  return Status::ok();
}

Status MetadataImage::apply_record(const Config& r, uint64_t) {
  if (r.key.empty()) return invalid_record("config key is empty");
  switch (r.resource) {
    case ConfigResource::kTopic: {
      auto it = topics_.find(r.resource_name);
      if (it == topics_.end()) {
        return Status(ErrorCode::kUnknownTopicOrPartition,
                      "config of unknown topic " + r.resource_name);
      }
      set_config(it->second.configs, r.key, r.value);
      return Status::ok();
    }
    case ConfigResource::kBroker:
      if (!valid_broker_id(r.resource_name)) {
        return invalid_record("broker config resource name '" + r.resource_name +
                              "' is not a broker id");
      }
      break;
    case ConfigResource::kCluster:
      if (!r.resource_name.empty())
        return invalid_record("the cluster config resource has no name");
      break;
    default:
      return invalid_record("unknown config resource " +
                            std::to_string(static_cast<int>(r.resource)));
  }
  auto it = std::find_if(configs_.begin(), configs_.end(), [&](const ResourceConfigs& c) {
    return c.resource == r.resource && c.resource_name == r.resource_name;
  });
  if (it == configs_.end()) {
    if (!r.value) return Status::ok();
    configs_.push_back(ResourceConfigs{r.resource, r.resource_name, {}});
    it = configs_.end() - 1;
  }
  set_config(it->configs, r.key, r.value);
  if (it->configs.empty()) configs_.erase(it);
  return Status::ok();
}

Status MetadataImage::apply_record(const ProducerIds& r, uint64_t) {
  MQ_RETURN_IF_ERROR(registered(r.broker_id, r.broker_epoch, "producer ids").status());
  // A block may skip ids (a proposal that never committed), never reuse them.
  if (r.block_start < next_producer_id_) {
    return invalid_record("producer id block starts at " + std::to_string(r.block_start) +
                          ", below the next free id " + std::to_string(next_producer_id_));
  }
  if (r.block_size < 1)
    return invalid_record("producer id block size " + std::to_string(r.block_size));
  if (r.block_start > INT64_MAX - r.block_size) return invalid_record("producer ids exhausted");
  next_producer_id_ = r.block_start + r.block_size;
  return Status::ok();
}

Status MetadataImage::apply_record(const ProducerEpoch& r, uint64_t) {
  if (r.producer_id < 0 || r.producer_id >= next_producer_id_) {
    return invalid_record("producer id " + std::to_string(r.producer_id) + " was never handed out");
  }
  // One step at a time: a bump decided from an older epoch is stale.
  int16_t current = producer_epoch(r.producer_id);
  if (current == INT16_MAX || r.producer_epoch != current + 1) {
    return invalid_record("producer " + std::to_string(r.producer_id) + " epoch " +
                          std::to_string(r.producer_epoch) + " does not follow its current epoch " +
                          std::to_string(current));
  }
  producer_epochs_[r.producer_id] = r.producer_epoch;
  return Status::ok();
}

Status MetadataImage::apply_record(const ClusterId& r, uint64_t) {
  if (r.cluster_id.empty()) return invalid_record("cluster id is empty");
  if (!cluster_id_.empty()) {
    return invalid_record("cluster id is already " + cluster_id_ + "; it is set once");
  }
  cluster_id_ = r.cluster_id;
  return Status::ok();
}

Status MetadataImage::apply_record(const Acl& r, uint64_t) {
  MQ_RETURN_IF_ERROR(transport::validate(r.acl));
  auto at = std::ranges::lower_bound(acls_, r.acl);
  if (at != acls_.end() && *at == r.acl) {
    return invalid_record("ACL " + transport::describe(r.acl) + " is stored already");
  }
  acls_.insert(at, r.acl);
  return Status::ok();
}

Status MetadataImage::apply_record(const RemoveAcl& r, uint64_t) {
  auto at = std::ranges::lower_bound(acls_, r.acl);
  if (at == acls_.end() || *at != r.acl) {
    return invalid_record("ACL " + transport::describe(r.acl) + " is not stored");
  }
  acls_.erase(at);
  return Status::ok();
}

Bytes MetadataImage::encode_snapshot() const {
  SnapshotWire wire;
  wire.applied_index = applied_index_;
  wire.cluster_id = cluster_id_;
  wire.next_producer_id = next_producer_id_;
  for (const auto& [id, state] : brokers_) wire.brokers.push_back(state);
  for (const auto& [name, state] : topics_) wire.topics.push_back(state);
  wire.configs = configs_;
  // The lowest version that holds the content: members of an older build
  // can still take a snapshot that uses nothing newer.
  wire.version = !acls_.empty() ? 2 : !producer_epochs_.empty() ? 1 : 0;
  for (const auto& [id, epoch] : producer_epochs_) wire.producer_epochs.push_back({id, epoch});
  wire.acls = acls_;
  std::string out = transport::encode_struct(wire);
  return Bytes(out.begin(), out.end());
}

Result<MetadataImage> MetadataImage::decode_snapshot(std::span<const uint8_t> bytes) {
  auto corrupt = [](std::string what) {
    return Status(ErrorCode::kCorruptMessage, "metadata snapshot: " + std::move(what));
  };
  // The version (int16, little-endian) decides the layout, so it is checked first.
  if (bytes.size() >= 2) {
    auto version = static_cast<int16_t>(bytes[0] | (bytes[1] << 8));
    if (version < 0 || version > 2) {
      return corrupt("version " + std::to_string(version) +
                     " is not supported (this build reads versions 0 to 2)");
    }
  }
  MQ_ASSIGN_OR_RETURN(SnapshotWire wire,
                      transport::decode_struct<SnapshotWire>(bytes, ErrorCode::kCorruptMessage,
                                                             "metadata snapshot"));
  MetadataImage image;
  image.applied_index_ = wire.applied_index;
  image.cluster_id_ = std::move(wire.cluster_id);
  if (wire.next_producer_id < 0) return corrupt("negative next producer id");
  image.next_producer_id_ = wire.next_producer_id;
  for (const ProducerEpochEntry& e : wire.producer_epochs) {
    if (e.producer_id < 0 || e.producer_id >= image.next_producer_id_ || e.producer_epoch < 1) {
      return corrupt("producer " + std::to_string(e.producer_id) + " epoch " +
                     std::to_string(e.producer_epoch) + " is out of range");
    }
    if (!image.producer_epochs_.emplace(e.producer_id, e.producer_epoch).second) {
      return corrupt("producer " + std::to_string(e.producer_id) + " appears twice");
    }
  }
  for (size_t i = 0; i < wire.acls.size(); ++i) {
    if (Status valid = transport::validate(wire.acls[i]); !valid.is_ok()) {
      return corrupt("ACL " + transport::describe(wire.acls[i]) + ": " + valid.message());
    }
    if (i > 0 && !(wire.acls[i - 1] < wire.acls[i])) {
      return corrupt("ACLs are not sorted or one appears twice");
    }
  }
  image.acls_ = std::move(wire.acls);
  for (BrokerState& state : wire.brokers) {
    if (state.broker_id < 0) return corrupt("negative broker id");
    BrokerId id = state.broker_id;
    if (!image.brokers_.emplace(id, std::move(state)).second) {
      return corrupt("broker " + std::to_string(id) + " appears twice");
    }
  }
  for (TopicState& state : wire.topics) {
    if (state.name.empty() || state.topic_id == 0 || state.partitions.empty()) {
      return corrupt("topic '" + state.name + "' has no name, id or partitions");
    }
    if (std::string p = sorted_unique_problem(state.configs); !p.empty()) {
      return corrupt("topic " + state.name + ": " + p);
    }
    for (size_t i = 0; i < state.partitions.size(); ++i) {
      if (std::string p = partition_problem(state.partitions[i]); !p.empty()) {
        return corrupt("partition " + partition_name(state.name, static_cast<int32_t>(i)) + ": " +
                       p);
      }
    }
    if (!image.topic_names_.emplace(state.topic_id, state.name).second) {
      return corrupt("topic id " + std::to_string(state.topic_id) + " appears twice");
    }
    std::string name = state.name;
    if (!image.topics_.emplace(name, std::move(state)).second) {
      return corrupt("topic " + name + " appears twice");
    }
  }
  for (const ResourceConfigs& r : wire.configs) {
    bool named_right = r.resource == ConfigResource::kCluster  ? r.resource_name.empty()
                       : r.resource == ConfigResource::kBroker ? valid_broker_id(r.resource_name)
                                                               : false;
    if (!named_right) return corrupt("config resource '" + r.resource_name + "' is invalid");
    if (r.configs.empty()) return corrupt("empty config resource " + r.resource_name);
    if (std::string p = sorted_unique_problem(r.configs); !p.empty()) return corrupt(p);
    for (const ResourceConfigs& other : image.configs_) {
      if (other.resource == r.resource && other.resource_name == r.resource_name) {
        return corrupt("config resource '" + r.resource_name + "' appears twice");
      }
    }
    image.configs_.push_back(r);
  }
  return image;
}

std::vector<LocalPartitionChange> local_changes(const MetadataImage& previous,
                                                const MetadataImage& next, BrokerId broker) {
  std::vector<LocalPartitionChange> changes;
  for (const auto& [name, topic] : next.topics()) {
    const TopicState* before = previous.topic_by_id(topic.topic_id);
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      const PartitionState& state = topic.partitions[i];
      const PartitionState* old =
          before != nullptr && i < before->partitions.size() ? &before->partitions[i] : nullptr;
      auto index = static_cast<int32_t>(i);
      if (contains(state.replicas, broker)) {
        if (old != nullptr && *old == state) continue;
        auto role = state.leader == broker ? LocalPartitionChange::Role::kLeader
                                           : LocalPartitionChange::Role::kFollower;
        changes.push_back({name, topic.topic_id, index, role, false, state});
      } else if (old != nullptr && contains(old->replicas, broker)) {
        changes.push_back(
            {name, topic.topic_id, index, LocalPartitionChange::Role::kStopped, false, state});
      }
    }
  }
  for (const auto& [name, topic] : previous.topics()) {
    if (next.topic_by_id(topic.topic_id) != nullptr) continue;
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      if (!contains(topic.partitions[i].replicas, broker)) continue;
      changes.push_back({name, topic.topic_id, static_cast<int32_t>(i),
                         LocalPartitionChange::Role::kStopped, true, topic.partitions[i]});
    }
  }
  std::sort(changes.begin(), changes.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition, a.topic_id) < std::tie(b.topic, b.partition, b.topic_id);
  });
  return changes;
}

}  // namespace mq::metadata
