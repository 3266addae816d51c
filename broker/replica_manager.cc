// ReplicaManager: topic metadata and partition logs (producer ids: producer_ids.cc).
#include "broker/replica_manager.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "store/checkpoint.h"
#include "store/file.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;
constexpr const char* kCleanShutdownMarker = "clean_shutdown";

}  // namespace

std::string new_cluster_id() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 22; i++) id.push_back(hex[rng() % 16]);
  return id;
}

Result<std::unique_ptr<ReplicaManager>> ReplicaManager::open(const BrokerConfig& config) {
  std::unique_ptr<ReplicaManager> manager(new ReplicaManager(config));
  MQ_RETURN_IF_ERROR(manager->load());
  return manager;
}

ReplicaManager::~ReplicaManager() {
  Status st = close();
  if (!st.is_ok()) spdlog::error("closing partitions: {}", st.to_string());
}

Status ReplicaManager::load() {
  MQ_RETURN_IF_ERROR(create_directories(config_.data_dir));
  // Leftovers of deletions interrupted by a crash.
  for (const auto& entry : fs::directory_iterator(config_.data_dir)) {
    if (entry.path().filename().string().ends_with(".deleted")) {
      std::error_code ec;
      fs::remove_all(entry.path(), ec);
    }
  }
  std::string broker_path = config_.data_dir + "/broker.checkpoint";
  Result<std::vector<std::string>> broker = read_checkpoint(broker_path, "mq-broker", 1);
  if (broker.is_ok()) {
    for (const auto& line : *broker) {
      std::istringstream in(line);
      std::string key;
      in >> key;
      if (key == "cluster_id") in >> cluster_id_;
      if (key == "producer_id_block") in >> producer_id_block_end_;
      if (key == "producer_epoch") {
        int64_t id = -1;
        int epoch = -1;
        if (!(in >> id >> epoch) || id < 0 || epoch < 1 || epoch > INT16_MAX) {
          return Status(ErrorCode::kStorageError, broker_path + ": bad line '" + line + "'");
        }
        producer_epochs_[id] = static_cast<int16_t>(epoch);
      }
    }
  } else if (broker.code() != ErrorCode::kNotFound) {
    return Status(ErrorCode::kStorageError,
                  broker.status().message() + " (the broker's identity; restore it from a backup)");
  }
  if (cluster_id_.empty()) cluster_id_ = new_cluster_id();
  std::string marker = config_.data_dir + "/" + kCleanShutdownMarker;
  previous_shutdown_clean_ = fs::exists(marker);
  if (previous_shutdown_clean_) {
    // From here on a crash is an unclean shutdown again.
    std::error_code ec;
    fs::remove(marker, ec);
    if (ec) return Status(ErrorCode::kStorageError, "removing " + marker + ": " + ec.message());
    MQ_RETURN_IF_ERROR(sync_directory(config_.data_dir));
  }
  // Ids of the block that was current at the crash may have been handed out.
  next_producer_id_ = producer_id_block_end_;

  std::string topics_path = config_.data_dir + "/topics.checkpoint";
  if (cluster_mode_) {
    // Topics come from the metadata log; replicas open as it is replayed.
    if (fs::exists(topics_path)) {
      return Status(ErrorCode::kInvalidConfig,
                    topics_path +
                        " exists: this data_dir belongs to a single-node broker, and cluster "
                        "mode (cluster.voters) starts from an empty data_dir");
    }
    std::unique_lock lock(mu_);
    return persist_broker_state_locked();
  }
  if (fs::exists(config_.data_dir + "/__quorum")) {
    return Status(ErrorCode::kInvalidConfig,
                  config_.data_dir +
                      "/__quorum exists: this data_dir belongs to a cluster member; set "
                      "cluster.voters as before (a cluster node cannot restart single-node)");
  }
  Result<std::vector<std::string>> lines = read_checkpoint(topics_path, "mq-topics", 1);
  if (!lines.is_ok() && lines.code() != ErrorCode::kNotFound) {
    return Status(ErrorCode::kStorageError,
                  lines.status().message() + " (the topic list; restore it from a backup)");
  }
  if (lines.is_ok()) {
    for (const auto& line : *lines) {
      std::istringstream in(line);
      TopicInfo topic;
      if (!(in >> topic.name >> topic.partitions >> topic.replication_factor)) {
        return Status(ErrorCode::kStorageError, topics_path + ": bad line '" + line + "'");
      }
      std::string kv;
      while (in >> kv) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos) {
          return Status(ErrorCode::kStorageError, topics_path + ": bad config '" + kv + "'");
        }
        topic.configs[kv.substr(0, eq)] = kv.substr(eq + 1);
      }
      topics_[topic.name] = topic;
    }
  }
  for (const auto& [name, topic] : topics_) {
    for (int32_t p = 0; p < topic.partitions; p++) {
      MQ_ASSIGN_OR_RETURN(std::shared_ptr<Partition> partition, open_partition(topic, p));
      partitions_[{name, p}] = std::move(partition);
    }
  }
  std::unique_lock lock(mu_);
  return persist_broker_state_locked();
}

Result<std::shared_ptr<Partition>> ReplicaManager::open_partition(const TopicInfo& topic,
                                                                  int32_t index) {
  EffectiveTopicConfig effective = effective_topic_config(config_, topic.configs);
  std::string dir = config_.data_dir + "/" + partition_dir_name(topic.name, index);
  Result<std::unique_ptr<Log>> log = Log::open(dir, effective.log);
  if (!log.is_ok()) {
    return Status(log.code(), "opening " + dir + ": " + log.status().message());
  }
  // A single node leads every partition in epoch 0; the controller assigns epochs in a cluster.
  return std::make_shared<Partition>(topic.name, index, std::move(log).value(), 0,
                                     effective.min_insync_replicas);
}

Status ReplicaManager::persist_topics_locked() {
  std::vector<std::string> lines;
  for (const auto& [name, topic] : topics_) {
    std::string line = name + " " + std::to_string(topic.partitions) + " " +
                       std::to_string(topic.replication_factor);
    for (const auto& [k, v] : topic.configs) line += " " + k + "=" + v;
    lines.push_back(std::move(line));
  }
  return write_checkpoint(config_.data_dir + "/topics.checkpoint", "mq-topics", 1, lines);
}

Status ReplicaManager::persist_broker_state_locked() {
  std::vector<std::string> lines = {"cluster_id " + cluster_id_,
                                    "producer_id_block " + std::to_string(producer_id_block_end_)};
  std::shared_lock epochs(producer_epochs_mu_);
  for (const auto& [id, epoch] : producer_epochs_) {
    lines.push_back("producer_epoch " + std::to_string(id) + " " + std::to_string(epoch));
  }
  return write_checkpoint(config_.data_dir + "/broker.checkpoint", "mq-broker", 1, lines);
}

Status ReplicaManager::create_topic(const std::string& name, int32_t partitions,
                                    int16_t replication_factor, const TopicOverrides& configs,
                                    bool validate_only) {
  MQ_RETURN_IF_ERROR(refuse_in_cluster_mode("creating a topic"));
  MQ_RETURN_IF_ERROR(validate_topic_name(name));
  if (partitions < 1 || partitions > 100000) {
    return Status(ErrorCode::kInvalidPartitions,
                  "partitions must be between 1 and 100000, got " + std::to_string(partitions));
  }
  if (replication_factor != 1) {
    return Status(ErrorCode::kInvalidReplicationFactor,
                  "replication factor " + std::to_string(replication_factor) +
                      " needs that many brokers; this cluster has 1");
  }
  for (const auto& [k, v] : configs) MQ_RETURN_IF_ERROR(validate_topic_config(k, v));
  std::unique_lock lock(mu_);
  if (topics_.count(name) > 0) {
    return Status(ErrorCode::kTopicAlreadyExists, "topic '" + name + "' already exists");
  }
  if (validate_only) return Status::ok();
  TopicInfo topic{name, partitions, replication_factor, configs};
  std::vector<std::shared_ptr<Partition>> opened;
  for (int32_t p = 0; p < partitions; p++) {
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Partition> partition, open_partition(topic, p));
    opened.push_back(std::move(partition));
  }
  topics_[name] = topic;
  MQ_RETURN_IF_ERROR(persist_topics_locked());
  for (int32_t p = 0; p < partitions; p++) partitions_[{name, p}] = opened[p];
  spdlog::info("created topic {} with {} partition(s)", name, partitions);
  return Status::ok();
}

Status ReplicaManager::delete_topic(const std::string& name) {
  MQ_RETURN_IF_ERROR(refuse_in_cluster_mode("deleting a topic"));
  std::vector<std::shared_ptr<Partition>> doomed;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      return Status(ErrorCode::kUnknownTopicOrPartition, "topic '" + name + "' does not exist");
    }
    for (int32_t p = 0; p < it->second.partitions; p++) {
      auto found = partitions_.find({name, p});
      if (found != partitions_.end()) {
        doomed.push_back(found->second);
        partitions_.erase(found);
      }
    }
    topics_.erase(it);
    MQ_RETURN_IF_ERROR(persist_topics_locked());
  }
  for (const auto& partition : doomed) delete_partition_files(partition);
  spdlog::info("deleted topic {} ({} partition(s))", name, doomed.size());
  return Status::ok();
}

Status ReplicaManager::add_partitions(const std::string& name, int32_t total, bool validate_only) {
  MQ_RETURN_IF_ERROR(refuse_in_cluster_mode("adding partitions"));
  std::unique_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "topic '" + name + "' does not exist");
  }
  TopicInfo& topic = it->second;
  if (total <= topic.partitions || total > 100000) {
    return Status(ErrorCode::kInvalidPartitions,
                  "topic '" + name + "' has " + std::to_string(topic.partitions) +
                      " partitions; the new count must be larger (and at most 100000)");
  }
  if (validate_only) return Status::ok();
  for (int32_t p = topic.partitions; p < total; p++) {
    MQ_ASSIGN_OR_RETURN(std::shared_ptr<Partition> partition, open_partition(topic, p));
    partitions_[{name, p}] = std::move(partition);
  }
  int32_t before = topic.partitions;
  topic.partitions = total;
  MQ_RETURN_IF_ERROR(persist_topics_locked());
  spdlog::info("topic {}: partitions {} -> {}", name, before, total);
  return Status::ok();
}

Status ReplicaManager::alter_topic_configs(const std::string& name, const TopicOverrides& set,
                                           const std::vector<std::string>& remove,
                                           bool validate_only) {
  MQ_RETURN_IF_ERROR(refuse_in_cluster_mode("altering topic settings"));
  for (const auto& [k, v] : set) MQ_RETURN_IF_ERROR(validate_topic_config(k, v));
  for (const auto& k : remove) {
    Status known = validate_topic_config(k, "");
    if (known.message().find("unknown topic setting") != std::string::npos) return known;
  }
  std::unique_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    return Status(ErrorCode::kUnknownTopicOrPartition, "topic '" + name + "' does not exist");
  }
  TopicOverrides next = it->second.configs;
  for (const auto& [k, v] : set) next[k] = v;
  for (const auto& k : remove) next.erase(k);
  EffectiveTopicConfig effective = effective_topic_config(config_, next);
  MQ_RETURN_IF_ERROR(effective.log.validate());
  if (validate_only) return Status::ok();
  it->second.configs = next;
  MQ_RETURN_IF_ERROR(persist_topics_locked());
  for (int32_t p = 0; p < it->second.partitions; p++) {
    auto& partition = partitions_.at({name, p});
    MQ_RETURN_IF_ERROR(partition->log().reconfigure(effective.log));
    partition->set_min_insync_replicas(effective.min_insync_replicas);
  }
  return Status::ok();
}

Status ReplicaManager::apply_defaults(const BrokerConfig& config) {
  std::unique_lock lock(mu_);
  config_ = config;
  for (const auto& [key, partition] : partitions_) {
    EffectiveTopicConfig effective = effective_topic_config(config_, topics_.at(key.first).configs);
    MQ_RETURN_IF_ERROR(partition->log().reconfigure(effective.log));
    partition->set_min_insync_replicas(effective.min_insync_replicas);
  }
  return Status::ok();
}

std::shared_ptr<Partition> ReplicaManager::partition(const std::string& topic,
                                                     int32_t index) const {
  std::shared_lock lock(mu_);
  auto it = partitions_.find({topic, index});
  return it == partitions_.end() ? nullptr : it->second;
}

std::optional<TopicInfo> ReplicaManager::topic(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicInfo> ReplicaManager::topics() const {
  std::shared_lock lock(mu_);
  std::vector<TopicInfo> out;
  for (const auto& [name, topic] : topics_) out.push_back(topic);
  return out;
}

std::vector<std::shared_ptr<Partition>> ReplicaManager::partitions() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Partition>> out;
  for (const auto& [key, partition] : partitions_) out.push_back(partition);
  return out;
}

BrokerConfig ReplicaManager::config() const {
  std::shared_lock lock(mu_);
  return config_;
}

void ReplicaManager::flush_due() {
  for (const auto& partition : partitions()) {
    Status st = partition->log().maybe_flush();
    if (!st.is_ok()) spdlog::error("{}: {}", partition->log().dir(), st.to_string());
  }
}

int ReplicaManager::apply_retention() {
  int deleted = 0;
  for (const auto& partition : partitions()) {
    Result<int> n = partition->log().apply_retention();
    if (n.is_ok()) {
      deleted += *n;
    } else {
      spdlog::error("{}: retention: {}", partition->log().dir(), n.status().to_string());
    }
  }
  return deleted;
}

int ReplicaManager::compact_logs() {
  int compacted = 0;
  for (const auto& partition : partitions()) {
    Log& log = partition->log();
    if (!log.compacted() || log.failed()) continue;
    Result<CompactionReport> report = log.compact();
    if (report.is_ok()) {
      compacted += report->compacted ? 1 : 0;
    } else {
      spdlog::error("{}: compaction: {}", log.dir(), report.status().to_string());
    }
  }
  return compacted;
}

Status ReplicaManager::close() {
  {
    std::unique_lock lock(mu_);
    if (closed_) return Status::ok();
    closed_ = true;
  }
  Status first;
  bool all_clean = true;
  for (const auto& partition : partitions()) {
    partition->cancel_all_waits();
    if (partition->log().failed()) {
      all_clean = false;
      continue;
    }
    Status st = partition->log().close();
    if (!st.is_ok()) all_clean = false;
    if (!st.is_ok() && first.is_ok()) first = st;
  }
  if (all_clean) {
    std::string marker = config_.data_dir + "/" + kCleanShutdownMarker;
    Status written = write_file_atomically(marker, "mq clean shutdown\n");
    if (!written.is_ok()) spdlog::error("{}: {}", marker, written.to_string());
  }
  return first;
}

Status ReplicaManager::refuse_in_cluster_mode(const char* what) const {
  if (!cluster_mode_) return Status::ok();
  return Status(ErrorCode::kNotController,
                std::string(what) + " goes through the controller in cluster mode");
}

void ReplicaManager::delete_partition_files(const std::shared_ptr<Partition>& partition) {
  // Closing first makes in-flight appends fail instead of writing into a
  // directory on its way out; the rename makes the removal all-or-nothing.
  partition->cancel_all_waits();
  (void)partition->log().close();
  std::string dir = partition->log().dir();
  std::error_code ec;
  fs::rename(dir, dir + ".deleted", ec);
  fs::remove_all(ec ? dir : dir + ".deleted", ec);
  if (ec) spdlog::error("removing {}: {}", dir, ec.message());
}

Status ReplicaManager::put_topic(const TopicInfo& topic) {
  for (const auto& [k, v] : topic.configs) MQ_RETURN_IF_ERROR(validate_topic_config(k, v));
  std::unique_lock lock(mu_);
  EffectiveTopicConfig effective = effective_topic_config(config_, topic.configs);
  MQ_RETURN_IF_ERROR(effective.log.validate());
  auto it = topics_.find(topic.name);
  bool reconfigure = it != topics_.end() && it->second.configs != topic.configs;
  topics_[topic.name] = topic;
  if (!reconfigure) return Status::ok();
  for (auto& [key, partition] : partitions_) {
    if (key.first != topic.name) continue;
    MQ_RETURN_IF_ERROR(partition->log().reconfigure(effective.log));
    partition->set_min_insync_replicas(effective.min_insync_replicas);
  }
  return Status::ok();
}

Result<std::shared_ptr<Partition>> ReplicaManager::open_replica(const std::string& topic,
                                                                int32_t index) {
  std::unique_lock lock(mu_);
  if (closed_) return Status(ErrorCode::kStorageError, "the broker is shutting down");
  auto known = topics_.find(topic);
  if (known == topics_.end() || index < 0 || index >= known->second.partitions) {
    return Status(ErrorCode::kUnknownTopicOrPartition,
                  "no partition " + topic + "-" + std::to_string(index) + " in the metadata");
  }
  auto open = partitions_.find({topic, index});
  if (open != partitions_.end()) return open->second;
  MQ_ASSIGN_OR_RETURN(std::shared_ptr<Partition> partition, open_partition(known->second, index));
  partitions_[{topic, index}] = partition;
  return partition;
}

Status ReplicaManager::remove_replica(const std::string& topic, int32_t index) {
  std::shared_ptr<Partition> doomed;
  {
    std::unique_lock lock(mu_);
    auto it = partitions_.find({topic, index});
    if (it == partitions_.end()) return Status::ok();
    doomed = it->second;
    partitions_.erase(it);
  }
  delete_partition_files(doomed);
  spdlog::info("removed the local replica of {}-{}", topic, index);
  return Status::ok();
}

Status ReplicaManager::remove_topic(const std::string& name) {
  std::vector<std::shared_ptr<Partition>> doomed;
  {
    std::unique_lock lock(mu_);
    topics_.erase(name);
    for (auto it = partitions_.begin(); it != partitions_.end();) {
      if (it->first.first == name) {
        doomed.push_back(it->second);
        it = partitions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& partition : doomed) delete_partition_files(partition);
  if (!doomed.empty()) spdlog::info("deleted topic {} ({} local replica(s))", name, doomed.size());
  return Status::ok();
}

}  // namespace mq::broker
