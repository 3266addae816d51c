// ReplicaManager: topic metadata and partition logs (producer ids: producer_ids.cc).
#include "broker/replica_manager.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "store/file.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;
constexpr const char* kCleanShutdownMarker = "clean_shutdown";

}  // namespace

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
  std::string marker = config_.data_dir + "/" + kCleanShutdownMarker;
  previous_shutdown_clean_ = fs::exists(marker);
  if (previous_shutdown_clean_) {
    // From here on a crash is an unclean shutdown again.
    std::error_code ec;
    fs::remove(marker, ec);
    if (ec) return Status(ErrorCode::kStorageError, "removing " + marker + ": " + ec.message());
    MQ_RETURN_IF_ERROR(sync_directory(config_.data_dir));
  }
  // Topics come from the metadata log; replicas open as it is replayed.
  return Status::ok();
}

Result<std::shared_ptr<Partition>> ReplicaManager::open_partition(const TopicInfo& topic,
                                                                  int32_t index) {
  EffectiveTopicConfig effective = effective_topic_config(config_, topic.configs);
  std::string dir = config_.data_dir + "/" + partition_dir_name(topic.name, index);
  Result<std::unique_ptr<Log>> log = Log::open(dir, effective.log);
  if (!log.is_ok()) {
    return Status(log.code(), "opening " + dir + ": " + log.status().message());
  }
  // Opened without a role; the metadata log makes it a leader or a follower.
  return std::make_shared<Partition>(topic.name, index, std::move(log).value(), 0,
                                     effective.min_insync_replicas);
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
