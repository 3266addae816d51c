// QueueConsumer: ReceiveMessages and AckMessages against each partition's
// leader; see queue_consumer.h.
#include "client/queue_consumer.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "client/clock.h"
#include "client/cluster.h"
#include "client/config.h"
#include "store/record_batch.h"
#include "transport/queue.h"

namespace mq::client {
namespace {

// A partition error that a metadata refresh may cure.
bool refresh_cures(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kFencedLeaderEpoch || code == ErrorCode::kUnknownLeaderEpoch ||
         code == ErrorCode::kUnknownTopicOrPartition || code == ErrorCode::kNetworkError;
}

Status config_error(const std::string& what) {
  return Status(ErrorCode::kInvalidConfig, what);
}

}  // namespace

Status QueueConsumerConfig::validate() const {
  MQ_RETURN_IF_ERROR(curve.validate());
  MQ_RETURN_IF_ERROR(parse_bootstrap_servers(bootstrap_servers).status());
  if (group_id.empty()) return config_error("group_id is required");
  if (topics.empty()) return config_error("at least one topic is required");
  if (invisible_ms < transport::kInvisibleMinMs || invisible_ms > transport::kInvisibleMaxMs) {
    return config_error("invisible_ms must be " + std::to_string(transport::kInvisibleMinMs) +
                        ".." + std::to_string(transport::kInvisibleMaxMs));
  }
  if (max_partition_bytes < 1) return config_error("max_partition_bytes must be positive");
  if (request_timeout_ms < 1) return config_error("request_timeout_ms must be positive");
  if (retry_backoff_ms < 0 || poll_interval_ms < 1) {
    return config_error("retry_backoff_ms must be >= 0 and poll_interval_ms positive");
  }
  return Status::ok();
}

Result<std::unique_ptr<QueueConsumer>> QueueConsumer::create(const QueueConsumerConfig& config) {
  MQ_RETURN_IF_ERROR(config.validate());
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> bootstrap,
                      parse_bootstrap_servers(config.bootstrap_servers));
  auto cluster =
      std::make_unique<Cluster>(ClusterOptions{.bootstrap_endpoints = std::move(bootstrap),
                                               .client_id = config.client_id,
                                               .request_timeout_ms = config.request_timeout_ms,
                                               .curve = curve_client_of(config.curve)});
  return std::unique_ptr<QueueConsumer>(new QueueConsumer(std::move(cluster), config));
}

QueueConsumer::QueueConsumer(std::unique_ptr<Cluster> cluster, QueueConsumerConfig config)
    : cluster_(std::move(cluster)), config_(std::move(config)) {}

QueueConsumer::~QueueConsumer() = default;

Result<std::map<int32_t, std::vector<std::pair<TopicPartition, int32_t>>>> QueueConsumer::by_leader(
    bool refresh) {
  if (refresh) {
    MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(config_.topics));
    stale_ = false;
  }
  // Every partition, rotated so that each receive starts somewhere else.
  std::vector<std::pair<TopicPartition, int32_t>> all;  // partition, leader epoch
  std::vector<int32_t> leaders;
  for (const std::string& topic : config_.topics) {
    const TopicInfo* info = cluster_->metadata().topic(topic);
    if (info == nullptr || info->error == ErrorCode::kUnknownTopicOrPartition) {
      return Status(ErrorCode::kUnknownTopicOrPartition, "topic \"" + topic + "\" does not exist");
    }
    for (const PartitionInfo& p : info->partitions) {
      if (p.leader_id < 0) {
        stale_ = true;
        continue;
      }
      all.push_back({{topic, p.partition}, p.leader_epoch});
      leaders.push_back(p.leader_id);
    }
  }
  std::map<int32_t, std::vector<std::pair<TopicPartition, int32_t>>> out;
  if (all.empty()) return out;
  const size_t shift = rotation_++ % all.size();
  for (size_t i = 0; i < all.size(); ++i) {
    size_t k = (i + shift) % all.size();
    out[leaders[k]].push_back(all[k]);
  }
  return out;
}

Result<std::vector<QueueMessage>> QueueConsumer::receive(int max_messages, int timeout_ms) {
  if (max_messages < 1 || max_messages > transport::kReceiveMaxMessages) {
    return Status(ErrorCode::kInvalidRequest,
                  "max_messages must be 1.." + std::to_string(transport::kReceiveMaxMessages));
  }
  const int64_t deadline = steady_ms() + std::max(0, timeout_ms);
  std::vector<QueueMessage> out;
  RecordBatchReader reader;
  std::vector<Record> records;
  Status refused;  // a partition's error no retry cures
  while (true) {
    Status failure;
    bool asked = false;
    auto leaders = by_leader(stale_);
    if (!leaders.is_ok()) {
      failure = leaders.status();
      stale_ = true;
    } else {
      for (const auto& [node, partitions] : *leaders) {
        const int32_t want = max_messages - static_cast<int32_t>(out.size());
        if (want <= 0) break;
        transport::ReceiveMessagesRequest request;
        request.group = config_.group_id;
        request.max_messages = want;
        request.max_bytes = config_.max_partition_bytes;
        request.invisible_ms = config_.invisible_ms;
        request.key_ordered = config_.key_ordered;
        request.start = config_.start_at_latest ? transport::QueueStart::kLatest
                                                : transport::QueueStart::kEarliest;
        for (const auto& [tp, epoch] : partitions) {
          auto topic = std::ranges::find(request.topics, tp.topic,
                                         &transport::ReceiveMessagesRequest::Topic::name);
          if (topic == request.topics.end()) {
            topic = request.topics.insert(request.topics.end(), {.name = tp.topic});
          }
          topic->partitions.push_back(
              {.partition_index = tp.partition, .current_leader_epoch = epoch});
        }
        Result<transport::ReceiveMessagesResponse> response = cluster_->call(node, request);
        if (!response.is_ok()) {
          failure = response.status();
          stale_ = true;
          continue;
        }
        asked = true;
        for (const auto& t : response->topics) {
          for (const auto& p : t.partitions) {
            if (p.error_code != ErrorCode::kNone) {
              if (refresh_cures(p.error_code)) {
                stale_ = true;
              } else if (p.error_code != ErrorCode::kRequestTimedOut &&
                         p.error_code != ErrorCode::kNotEnoughReplicas) {
                // Reported only if nothing came: messages other partitions
                // handed out are in flight for this consumer now.
                refused = Status(
                    p.error_code,
                    "receive from " + t.name + "-" + std::to_string(p.partition_index) + ": " +
                        p.error_message.value_or(std::string(error_name(p.error_code))));
              }
              continue;
            }
            if (p.messages.empty()) continue;
            std::map<int64_t, int32_t> wanted;  // offset -> delivery
            for (const auto& m : p.messages) wanted[m.offset] = m.delivery;
            BatchCursor cursor(p.records.bytes());
            for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
              if (!reader.decode(batch, &records).is_ok()) continue;
              for (const Record& r : records) {
                auto it = wanted.find(r.offset);
                if (it == wanted.end()) continue;
                QueueMessage& m = out.emplace_back();
                m.topic = t.name;
                m.partition = p.partition_index;
                m.offset = r.offset;
                m.delivery = it->second;
                m.invisible_until_ms = p.invisible_until_ms;
                m.timestamp_ms = r.timestamp;
                m.key = copy_of(r.key);
                m.value = copy_of(r.value);
                for (const RecordHeader& h : r.headers) {
                  m.headers.push_back({std::string(h.key), copy_of(h.value)});
                }
                wanted.erase(it);
              }
            }
          }
        }
      }
    }
    if (!out.empty()) return out;
    if (!refused.is_ok()) return refused;
    const int64_t left = deadline - steady_ms();
    if (left <= 0) {
      if (!asked && !failure.is_ok()) return failure;
      return out;
    }
    int wait = failure.is_ok() ? config_.poll_interval_ms : config_.retry_backoff_ms;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::min<int64_t>(std::max(wait, 1), left)));
  }
}

Result<std::vector<QueueAckResult>> QueueConsumer::settle(const std::vector<QueueMessage>& messages,
                                                          Action action, int32_t delay_ms) {
  std::vector<QueueAckResult> results(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    results[i] = {.partition = {messages[i].topic, messages[i].partition},
                  .offset = messages[i].offset,
                  .status = Status(ErrorCode::kUnknown, "not answered")};
  }
  const transport::AckAction wire = action == Action::kAck    ? transport::AckAction::kAck
                                    : action == Action::kNack ? transport::AckAction::kNack
                                    : action == Action::kRedrive
                                        ? transport::AckAction::kRedrive
                                        : transport::AckAction::kChangeInvisible;
  if (wire == transport::AckAction::kRedrive) delay_ms = 0;
  std::vector<size_t> todo(messages.size());
  for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  for (int attempt = 0; attempt < 3 && !todo.empty(); ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(config_.retry_backoff_ms));
    }
    if (stale_ || attempt > 0) {
      std::set<std::string> topics;
      for (size_t i : todo) topics.insert(messages[i].topic);
      Status refreshed =
          cluster_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end()));
      if (!refreshed.is_ok()) {
        for (size_t i : todo) results[i].status = refreshed;
        continue;
      }
      stale_ = false;
    }
    // One request per leader; per partition the indexes of its messages.
    std::map<int32_t, transport::AckMessagesRequest> requests;
    std::map<std::pair<int32_t, TopicPartition>, std::vector<size_t>> index;
    std::vector<size_t> again;
    for (size_t i : todo) {
      const QueueMessage& m = messages[i];
      const PartitionInfo* info = cluster_->metadata().partition(m.topic, m.partition);
      if (info == nullptr || info->leader_id < 0) {
        results[i].status = Status(ErrorCode::kLeaderNotAvailable,
                                   m.topic + "-" + std::to_string(m.partition) + " has no leader");
        again.push_back(i);
        continue;
      }
      transport::AckMessagesRequest& request = requests[info->leader_id];
      request.group = config_.group_id;
      auto topic =
          std::ranges::find(request.topics, m.topic, &transport::AckMessagesRequest::Topic::name);
      if (topic == request.topics.end()) {
        topic = request.topics.insert(request.topics.end(), {.name = m.topic});
      }
      auto part =
          std::ranges::find(topic->partitions, m.partition,
                            &transport::AckMessagesRequest::Topic::Partition::partition_index);
      if (part == topic->partitions.end()) {
        part = topic->partitions.insert(
            topic->partitions.end(),
            {.partition_index = m.partition, .current_leader_epoch = info->leader_epoch});
      }
      part->messages.push_back({.offset = m.offset,
                                .delivery = wire == transport::AckAction::kRedrive ? 0 : m.delivery,
                                .action = wire,
                                .delay_ms = delay_ms});
      index[{info->leader_id, {m.topic, m.partition}}].push_back(i);
    }
    for (const auto& [node, request] : requests) {
      Result<transport::AckMessagesResponse> response = cluster_->call(node, request);
      if (!response.is_ok()) {
        for (const auto& t : request.topics) {
          for (const auto& p : t.partitions) {
            for (size_t i : index[{node, {t.name, p.partition_index}}]) {
              results[i].status = response.status();
              again.push_back(i);
            }
          }
        }
        stale_ = true;
        continue;
      }
      for (const auto& t : response->topics) {
        for (const auto& p : t.partitions) {
          const std::vector<size_t>& mine = index[{node, {t.name, p.partition_index}}];
          if (p.error_code != ErrorCode::kNone) {
            for (size_t i : mine) {
              results[i].status = Status(
                  p.error_code, p.error_message.value_or(std::string(error_name(p.error_code))));
              if (refresh_cures(p.error_code)) again.push_back(i);
            }
            if (refresh_cures(p.error_code)) stale_ = true;
            continue;
          }
          for (size_t k = 0; k < mine.size() && k < p.results.size(); ++k) {
            const ErrorCode code = p.results[k].error_code;
            std::string what;
            if (code == ErrorCode::kNotFound) {
              what =
                  "not in flight: its invisible time passed, it was acknowledged or given back, "
                  "or it was never received";
            } else if (code == ErrorCode::kIllegalGeneration) {
              what = "handed out again since this delivery";
            } else if (code == ErrorCode::kRequestTimedOut) {
              what = "not known to be committed; receive and settle it again";
            }
            results[mine[k]].status = code == ErrorCode::kNone ? Status::ok() : Status(code, what);
          }
        }
      }
    }
    todo = std::move(again);
  }
  return results;
}

Status QueueConsumer::ack(const QueueMessage& message) {
  MQ_ASSIGN_OR_RETURN(std::vector<QueueAckResult> r, settle({message}, Action::kAck));
  return r.front().status;
}

Status QueueConsumer::nack(const QueueMessage& message, int32_t delay_ms) {
  MQ_ASSIGN_OR_RETURN(std::vector<QueueAckResult> r, settle({message}, Action::kNack, delay_ms));
  return r.front().status;
}

Status QueueConsumer::change_invisible_time(const QueueMessage& message, int32_t invisible_ms) {
  MQ_ASSIGN_OR_RETURN(std::vector<QueueAckResult> r,
                      settle({message}, Action::kChangeInvisible, invisible_ms));
  return r.front().status;
}

}  // namespace mq::client
