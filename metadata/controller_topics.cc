// The controller's topic operations: create (with replica assignment),
// delete, add partitions, alter configs; and the per-topic settings the
// partition rules read.
#include <algorithm>
#include <charconv>
#include <set>

#include "metadata/controller.h"

namespace mq::metadata {
namespace {

constexpr std::string_view kMinInsyncReplicas = "min.insync.replicas";
constexpr std::string_view kUncleanLeaderElection = "unclean.leader.election.enable";
constexpr int32_t kMaxPartitions = 100000;

std::optional<int32_t> parse_min_isr(const std::string& text) {
  int32_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_throttle(const std::string& text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

Status check_config_value(const std::string& key, const std::optional<std::string>& value) {
  if (key.empty() || key.size() > transport::kMaxStringBytes) {
    return Status(ErrorCode::kInvalidConfig, "a config key has 1 to 32767 bytes");
  }
  if (!value) return Status::ok();
  if (value->size() > transport::kMaxStringBytes) {
    return Status(ErrorCode::kInvalidConfig, "config " + key + ": value exceeds 32767 bytes");
  }
  if (key == kMinInsyncReplicas && !parse_min_isr(*value)) {
    return Status(ErrorCode::kInvalidConfig,
                  "min.insync.replicas must be an integer >= 1, not '" + *value + "'");
  }
  if (key == kReassignmentThrottle && !parse_throttle(*value)) {
    return Status(ErrorCode::kInvalidConfig,
                  std::string(kReassignmentThrottle) +
                      " must be an integer >= 1 (bytes per second; remove it for none), not '" +
                      *value + "'");
  }
  if (key == kUncleanLeaderElection && !parse_bool(*value)) {
    return Status(ErrorCode::kInvalidConfig,
                  "unclean.leader.election.enable must be true or false, not '" + *value + "'");
  }
  return Status::ok();
}

// Brokers that can take new replicas, by id.
std::vector<const BrokerState*> usable_brokers(const MetadataImage& image) {
  std::vector<const BrokerState*> brokers;
  for (const auto& [id, broker] : image.brokers()) {
    if (!broker.fenced && !broker.in_controlled_shutdown) brokers.push_back(&broker);
  }
  return brokers;
}

// Kafka's rack alternation: one broker of each rack in turn (racks and the
// brokers within them in order), so consecutive positions differ in rack.
std::vector<const BrokerState*> rack_alternated(const std::vector<const BrokerState*>& brokers) {
  std::map<std::string, std::vector<const BrokerState*>> by_rack;
  for (const BrokerState* b : brokers) by_rack[b->rack].push_back(b);
  std::vector<const BrokerState*> out;
  for (size_t round = 0; out.size() < brokers.size(); ++round) {
    for (const auto& [rack, members] : by_rack) {
      if (round < members.size()) out.push_back(members[round]);
    }
  }
  return out;
}

}  // namespace

int64_t reassignment_throttle(const MetadataImage& image) {
  const std::string* value = image.config(ConfigResource::kCluster, "", kReassignmentThrottle);
  if (value == nullptr) return 0;
  return parse_throttle(*value).value_or(0);
}

Status check_topic_name(const std::string& name) {
  if (name.empty() || name.size() > 249) {
    return Status(ErrorCode::kInvalidTopic, "a topic name has 1 to 249 characters");
  }
  if (name == "." || name == "..") {
    return Status(ErrorCode::kInvalidTopic, "a topic cannot be named '" + name + "'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status(ErrorCode::kInvalidTopic,
                    "topic name '" + name + "' has a character outside [A-Za-z0-9._-]");
    }
  }
  return Status::ok();
}

int32_t Controller::min_insync_replicas(const TopicState& topic) const {
  for (const std::string* value :
       {topic.config(kMinInsyncReplicas),
        image_->config(ConfigResource::kCluster, "", kMinInsyncReplicas)}) {
    if (value != nullptr) {
      if (std::optional<int32_t> parsed = parse_min_isr(*value)) return *parsed;
    }
  }
  return config_.min_insync_replicas;
}

bool Controller::unclean_leader_election(const TopicState& topic) const {
  for (const std::string* value :
       {topic.config(kUncleanLeaderElection),
        image_->config(ConfigResource::kCluster, "", kUncleanLeaderElection)}) {
    if (value != nullptr) {
      if (std::optional<bool> parsed = parse_bool(*value)) return *parsed;
    }
  }
  return config_.unclean_leader_election;
}

PartitionTarget Controller::target_for(const TopicState& topic) const {
  PartitionTarget target;
  target.allow_unclean = unclean_leader_election(topic);
  target.min_insync_replicas = min_insync_replicas(topic);
  return target;
}

Status Controller::check_topic_configs(const std::vector<ConfigEntry>& configs) const {
  std::set<std::string> keys;
  for (const ConfigEntry& entry : configs) {
    MQ_RETURN_IF_ERROR(check_config_value(entry.key, entry.value));
    if (!keys.insert(entry.key).second) {
      return Status(ErrorCode::kInvalidConfig, "config " + entry.key + " is given twice");
    }
  }
  return Status::ok();
}

Status Controller::check_assignment(const std::vector<std::vector<BrokerId>>& assignment,
                                    size_t replication_factor) const {
  for (size_t p = 0; p < assignment.size(); ++p) {
    const std::vector<BrokerId>& replicas = assignment[p];
    std::string where = "partition " + std::to_string(p) + ": ";
    if (replicas.empty() || replicas.size() != replication_factor) {
      return Status(ErrorCode::kInvalidReplicaAssignment,
                    where + "has " + std::to_string(replicas.size()) + " replicas, expected " +
                        std::to_string(replication_factor));
    }
    std::set<BrokerId> seen;
    bool any_usable = false;
    for (BrokerId id : replicas) {
      const BrokerState* broker = image_->broker(id);
      if (broker == nullptr) {
        return Status(ErrorCode::kInvalidReplicaAssignment,
                      where + "broker " + std::to_string(id) + " is not registered");
      }
      if (!seen.insert(id).second) {
        return Status(ErrorCode::kInvalidReplicaAssignment,
                      where + "broker " + std::to_string(id) + " is listed twice");
      }
      any_usable |= !broker->fenced && !broker->in_controlled_shutdown;
    }
    if (!any_usable) {
      return Status(ErrorCode::kInvalidReplicaAssignment, where + "no replica is on a live broker");
    }
  }
  return Status::ok();
}

// Kafka's assignment: replica lists start at consecutive brokers from a
// random index, the followers shifted by a second random amount that grows
// every full round, so leaders and followers spread evenly. With racks on
// every broker, the broker list alternates racks and a follower is skipped
// while its rack already holds a replica of the partition and racks remain.
Result<std::vector<std::vector<BrokerId>>> Controller::assign_replicas(int32_t partitions,
                                                                       int32_t replication_factor,
                                                                       int32_t first_partition) {
  std::vector<const BrokerState*> brokers = usable_brokers(*image_);
  if (replication_factor < 1 || static_cast<size_t>(replication_factor) > brokers.size()) {
    return Status(ErrorCode::kInvalidReplicationFactor,
                  "replication factor " + std::to_string(replication_factor) + " needs 1 to " +
                      std::to_string(brokers.size()) + " (the live brokers)");
  }
  bool rack_aware = std::all_of(brokers.begin(), brokers.end(),
                                [](const BrokerState* b) { return !b->rack.empty(); });
  if (rack_aware) brokers = rack_alternated(brokers);
  std::set<std::string> all_racks;
  for (const BrokerState* b : brokers) all_racks.insert(b->rack);
  const size_t n = brokers.size();
  const size_t start = next_random() % n;
  size_t shift = next_random() % n;
  std::vector<std::vector<BrokerId>> assignment;
  for (int32_t i = 0; i < partitions; ++i) {
    auto p = static_cast<size_t>(first_partition + i);
    if (p > 0 && p % n == 0) ++shift;
    size_t first = (p + start) % n;
    std::vector<BrokerId> replicas{brokers[first]->broker_id};
    std::set<std::string> racks{brokers[first]->rack};
    for (size_t k = 0; replicas.size() < static_cast<size_t>(replication_factor); ++k) {
      size_t index = n == 1 ? first : (first + 1 + (shift + k) % (n - 1)) % n;
      const BrokerState* candidate = brokers[index];
      if (std::find(replicas.begin(), replicas.end(), candidate->broker_id) != replicas.end()) {
        continue;
      }
      bool rack_used = racks.contains(candidate->rack) && racks.size() < all_racks.size();
      // After one pass every candidate is taken, so the loop ends.
      if (rack_aware && rack_used && k < 2 * n) continue;
      replicas.push_back(candidate->broker_id);
      racks.insert(candidate->rack);
    }
    assignment.push_back(std::move(replicas));
  }
  return assignment;
}

Result<Decision<CreatedTopic>> Controller::create_topic(const CreateTopicRequest& request) {
  MQ_RETURN_IF_ERROR(check_topic_name(request.name));
  if (image_->topic(request.name) != nullptr) {
    return Status(ErrorCode::kTopicAlreadyExists, "topic " + request.name + " already exists");
  }
  MQ_RETURN_IF_ERROR(check_topic_configs(request.configs));
  std::vector<std::vector<BrokerId>> assignment = request.assignment;
  if (!assignment.empty()) {
    auto partitions = static_cast<int32_t>(assignment.size());
    auto rf = static_cast<int32_t>(assignment[0].size());
    if ((request.partitions != -1 && request.partitions != partitions) ||
        (request.replication_factor != -1 && request.replication_factor != rf)) {
      return Status(ErrorCode::kInvalidRequest,
                    "with a manual assignment, partitions and replication factor are -1 or "
                    "match it (" +
                        std::to_string(partitions) + " x " + std::to_string(rf) + ")");
    }
    if (partitions > kMaxPartitions) {
      return Status(ErrorCode::kInvalidPartitions, "at most 100000 partitions");
    }
    MQ_RETURN_IF_ERROR(check_assignment(assignment, static_cast<size_t>(rf)));
  } else {
    if (request.partitions < 1 || request.partitions > kMaxPartitions) {
      return Status(ErrorCode::kInvalidPartitions,
                    "partitions " + std::to_string(request.partitions) + " is not in 1..100000");
    }
    MQ_ASSIGN_OR_RETURN(assignment,
                        assign_replicas(request.partitions, request.replication_factor, 0));
  }
  TopicId id = 0;
  while (id == 0 || image_->topic_by_id(id) != nullptr) id = next_random();
  std::vector<ConfigEntry> configs = request.configs;
  std::sort(configs.begin(), configs.end(),
            [](const ConfigEntry& a, const ConfigEntry& b) { return a.key < b.key; });

  Decision<CreatedTopic> decision;
  decision.records.push_back(
      Topic{request.name, id, static_cast<int32_t>(assignment.size()), configs});
  BrokerView view(*image_);
  for (size_t p = 0; p < assignment.size(); ++p) {
    Partition partition{request.name, static_cast<int32_t>(p), assignment[p]};
    for (BrokerId replica : assignment[p]) {
      if (view.electable(replica)) partition.isr.push_back(replica);
    }
    partition.leader = partition.isr.front();
    decision.records.push_back(std::move(partition));
  }
  decision.response = CreatedTopic{id, std::move(assignment)};
  return decision;
}

Result<RecordBatch> Controller::delete_topic(const std::string& name) {
  const TopicState* topic = image_->topic(name);
  if (topic == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "topic " + name + " does not exist");
  }
  return RecordBatch{RemoveTopic{name, topic->topic_id}};
}

Result<RecordBatch> Controller::add_partitions(
    const std::string& name, int32_t total_partitions,
    const std::vector<std::vector<BrokerId>>& assignment) {
  const TopicState* topic = image_->topic(name);
  if (topic == nullptr) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "topic " + name + " does not exist");
  }
  auto current = static_cast<int32_t>(topic->partitions.size());
  if (total_partitions <= current || total_partitions > kMaxPartitions) {
    return Status(ErrorCode::kInvalidPartitions,
                  "topic " + name + " has " + std::to_string(current) +
                      " partitions; the new count must be more, and at most 100000, not " +
                      std::to_string(total_partitions));
  }
  auto rf = static_cast<int32_t>(topic->partitions[0].target_replicas().size());
  std::vector<std::vector<BrokerId>> replicas = assignment;
  if (!replicas.empty()) {
    if (static_cast<int32_t>(replicas.size()) != total_partitions - current) {
      return Status(ErrorCode::kInvalidReplicaAssignment,
                    "the assignment lists " + std::to_string(replicas.size()) +
                        " partitions, not the " + std::to_string(total_partitions - current) +
                        " being added");
    }
    MQ_RETURN_IF_ERROR(check_assignment(replicas, static_cast<size_t>(rf)));
  } else {
    MQ_ASSIGN_OR_RETURN(replicas, assign_replicas(total_partitions - current, rf, current));
  }
  RecordBatch records;
  BrokerView view(*image_);
  for (size_t i = 0; i < replicas.size(); ++i) {
    Partition partition{name, current + static_cast<int32_t>(i), replicas[i]};
    for (BrokerId replica : replicas[i]) {
      if (view.electable(replica)) partition.isr.push_back(replica);
    }
    partition.leader = partition.isr.front();
    records.push_back(std::move(partition));
  }
  return records;
}

Result<RecordBatch> Controller::alter_configs(const std::vector<Config>& changes) const {
  RecordBatch records;
  for (const Config& change : changes) {
    switch (change.resource) {
      case ConfigResource::kTopic:
        if (image_->topic(change.resource_name) == nullptr) {
          return Status(ErrorCode::kUnknownTopicOrPartition,
                        "topic " + change.resource_name + " does not exist");
        }
        break;
      case ConfigResource::kBroker: {
        int32_t id = -1;
        const std::string& n = change.resource_name;
        auto [end, error] = std::from_chars(n.data(), n.data() + n.size(), id);
        if (error != std::errc() || end != n.data() + n.size() || id < 0) {
          return Status(ErrorCode::kInvalidConfig,
                        "broker config resource '" + n + "' is not a broker id");
        }
        break;
      }
      case ConfigResource::kCluster:
        if (!change.resource_name.empty()) {
          return Status(ErrorCode::kInvalidConfig, "the cluster config resource has no name");
        }
        break;
      default:
        return Status(ErrorCode::kInvalidConfig, "unknown config resource type");
    }
    MQ_RETURN_IF_ERROR(check_config_value(change.key, change.value));
    records.push_back(change);
  }
  return records;
}

}  // namespace mq::metadata
