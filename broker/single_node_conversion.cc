// The one-time conversion of an old single-node data directory.
#include "broker/single_node_conversion.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "base/random_id.h"
#include "metadata/image.h"
#include "metadata/records.h"
#include "raft/file_storage.h"
#include "store/checkpoint.h"
#include "store/file.h"

namespace mq::broker {
namespace {

namespace fs = std::filesystem;

struct LegacyTopic {
  std::string name;
  int32_t partitions = 0;
  std::map<std::string, std::string> configs;
};

struct LegacyState {
  std::vector<LegacyTopic> topics;
  std::string cluster_id;
  int64_t producer_id_block_end = 0;
  std::map<int64_t, int16_t> producer_epochs;
};

Status bad(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kStorageError,
                path + ": " + what + " (the single-node data directory was not converted)");
}

Result<LegacyState> read_legacy_state(const std::string& data_dir) {
  LegacyState state;
  const std::string topics_path = data_dir + "/topics.checkpoint";
  Result<std::vector<std::string>> lines = read_checkpoint(topics_path, "mq-topics", 1);
  if (!lines.is_ok()) return bad(topics_path, lines.status().message());
  for (const std::string& line : *lines) {
    std::istringstream in(line);
    LegacyTopic topic;
    int replication_factor = 0;
    if (!(in >> topic.name >> topic.partitions >> replication_factor) || topic.partitions < 1) {
      return bad(topics_path, "bad line '" + line + "'");
    }
    std::string kv;
    while (in >> kv) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) return bad(topics_path, "bad config '" + kv + "'");
      topic.configs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    state.topics.push_back(std::move(topic));
  }
  const std::string broker_path = data_dir + "/broker.checkpoint";
  Result<std::vector<std::string>> broker = read_checkpoint(broker_path, "mq-broker", 1);
  if (!broker.is_ok()) {
    if (broker.code() == ErrorCode::kNotFound) return state;
    return bad(broker_path, broker.status().message());
  }
  for (const std::string& line : *broker) {
    std::istringstream in(line);
    std::string key;
    in >> key;
    bool ok = true;
    if (key == "cluster_id") {
      ok = static_cast<bool>(in >> state.cluster_id);
    } else if (key == "producer_id_block") {
      ok = static_cast<bool>(in >> state.producer_id_block_end) && state.producer_id_block_end >= 0;
    } else if (key == "producer_epoch") {
      int64_t id = -1;
      int epoch = -1;
      ok = static_cast<bool>(in >> id >> epoch) && id >= 0 && epoch >= 1 && epoch <= INT16_MAX;
      if (ok) state.producer_epochs[id] = static_cast<int16_t>(epoch);
    }
    if (!ok) return bad(broker_path, "bad line '" + line + "'");
  }
  return state;
}

// The records a controller would have written for this state, as one batch
// at raft index 1: the broker registered at epoch 1, the topics it leads.
Result<metadata::RecordBatch> legacy_records(const BrokerConfig& config, const LegacyState& state) {
  using namespace metadata;
  RecordBatch batch;
  const BrokerId self = config.node_id;
  if (!state.cluster_id.empty()) batch.push_back(ClusterId{state.cluster_id});
  batch.push_back(RegisterBroker{.broker_id = self,
                                 .incarnation_id = random_id(),
                                 .endpoint = config.client_listener,
                                 .rack = config.cluster.rack});
  int64_t next_id = state.producer_id_block_end;
  for (const auto& [id, epoch] : state.producer_epochs) next_id = std::max(next_id, id + 1);
  if (next_id > 0) {
    if (next_id > INT32_MAX) {
      return Status(ErrorCode::kStorageError,
                    "producer ids up to " + std::to_string(next_id) + " cannot be converted");
    }
    batch.push_back(ProducerIds{.broker_id = self,
                                .broker_epoch = 1,
                                .block_start = 0,
                                .block_size = static_cast<int32_t>(next_id)});
  }
  for (const auto& [id, epoch] : state.producer_epochs) {
    // Epochs are applied one step at a time.
    for (int e = 1; e <= epoch; ++e) {
      batch.push_back(ProducerEpoch{.producer_id = id, .producer_epoch = static_cast<int16_t>(e)});
    }
  }
  std::set<TopicId> ids;
  for (const LegacyTopic& topic : state.topics) {
    TopicId id = 0;
    while (id == 0 || ids.count(id) > 0) id = static_cast<TopicId>(random_id());
    ids.insert(id);
    std::vector<ConfigEntry> configs;
    for (const auto& [key, value] : topic.configs) configs.push_back({key, value});
    batch.push_back(metadata::Topic{topic.name, id, topic.partitions, std::move(configs)});
    for (int32_t p = 0; p < topic.partitions; ++p) {
      batch.push_back(metadata::Partition{
          .topic = topic.name, .partition = p, .replicas = {self}, .isr = {self}, .leader = self});
    }
  }
  return batch;
}

// Both now live in the metadata log.
Status remove_old_checkpoints(const std::string& data_dir) {
  for (const char* old : {"/topics.checkpoint", "/broker.checkpoint"}) {
    std::error_code ec;
    fs::remove(data_dir + old, ec);
    if (ec)
      return Status(ErrorCode::kStorageError, "removing " + data_dir + old + ": " + ec.message());
  }
  return sync_directory(data_dir);
}

Status write_quorum_dir(const std::string& dir, const metadata::MetadataImage& image) {
  std::error_code ec;
  fs::remove_all(dir, ec);  // a previous attempt's leftovers
  if (ec) return Status(ErrorCode::kStorageError, "removing " + dir + ": " + ec.message());
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<raft::FileStorage> storage, raft::FileStorage::open(dir));
  raft::Snapshot snapshot{.index = 1, .term = 1, .data = image.encode_snapshot()};
  MQ_RETURN_IF_ERROR(storage->save_snapshot(snapshot));
  MQ_RETURN_IF_ERROR(storage->save_hard_state({.term = 1, .vote = raft::kNoNode, .commit = 1}));
  return sync_directory(dir);
}

}  // namespace

Result<std::string> convert_single_node_data_dir(const BrokerConfig& config) {
  const std::string& data_dir = config.data_dir;
  const std::string topics_path = data_dir + "/topics.checkpoint";
  const std::string quorum_dir = data_dir + "/__quorum";
  if (!fs::exists(topics_path)) return std::string();
  if (fs::exists(quorum_dir)) {
    // The conversion finished (the rename below) but stopped before
    // removing the old checkpoint.
    MQ_RETURN_IF_ERROR(remove_old_checkpoints(data_dir));
    return std::string();
  }
  for (const QuorumMember& m : config.cluster.voters) {
    if (m.id != config.node_id) {
      return Status(ErrorCode::kInvalidConfig,
                    topics_path +
                        " exists: this data_dir belongs to a single-node broker of an older "
                        "release. Start it once alone (without cluster.voters naming other "
                        "nodes) to convert it, then grow the cluster (docs/cluster.md)");
    }
  }
  MQ_ASSIGN_OR_RETURN(LegacyState state, read_legacy_state(data_dir));
  MQ_ASSIGN_OR_RETURN(metadata::RecordBatch batch, legacy_records(config, state));
  metadata::MetadataImage image;
  Status applied = image.apply(batch, 1);
  if (!applied.is_ok()) return bad(topics_path, applied.message());

  const std::string staging = data_dir + "/__quorum.converting";
  MQ_RETURN_IF_ERROR(write_quorum_dir(staging, image));
  std::error_code ec;
  fs::rename(staging, quorum_dir, ec);
  if (ec) return Status(ErrorCode::kStorageError, "renaming " + staging + ": " + ec.message());
  MQ_RETURN_IF_ERROR(sync_directory(data_dir));
  MQ_RETURN_IF_ERROR(remove_old_checkpoints(data_dir));
  int32_t partitions = 0;
  for (const LegacyTopic& topic : state.topics) partitions += topic.partitions;
  return "converted the single-node data directory: " + std::to_string(state.topics.size()) +
         " topic(s), " + std::to_string(partitions) + " partition(s), " +
         std::to_string(state.producer_epochs.size()) + " bumped producer epoch(s) now in " +
         quorum_dir + " (cluster " + (image.cluster_id().empty() ? "new" : image.cluster_id()) +
         ")";
}

}  // namespace mq::broker
