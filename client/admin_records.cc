// Admin: DeleteRecords, FindMessages and DescribeLogDirs (admin.h).
#include <algorithm>
#include <chrono>
#include <iterator>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/clock.h"
#include "client/cluster.h"
#include "store/record_batch.h"
#include "transport/delete_records.h"
#include "transport/find_messages.h"
#include "transport/log_dirs.h"

namespace mq::client {
namespace {

// A partition DeleteRecords may ask again: its leader moved or is being
// elected. Asking again is harmless, the log start only moves forward.
bool leader_moving(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kNetworkError || code == ErrorCode::kFencedLeaderEpoch;
}

// A partition FindMessages asks again: its leader moved or is being
// elected, or has not loaded a partition the metadata lists yet.
bool worth_asking_again(ErrorCode code) {
  return leader_moving(code) || code == ErrorCode::kUnknownLeaderEpoch ||
         code == ErrorCode::kUnknownTopicOrPartition || code == ErrorCode::kRequestTimedOut;
}

// Appends the records of `batches` (a FindMessages records frame) to `out`.
Status decode_found(const TopicPartition& tp, std::span<const uint8_t> batches,
                    std::vector<ConsumerRecord>* out) {
  RecordBatchReader reader;
  std::vector<Record> records;
  BatchCursor cursor(batches);
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> header = verify_batch(batch);
    Status status = header.status();
    if (status.is_ok()) status = reader.decode(batch, &records);
    if (!status.is_ok()) {
      return Status(status.code(),
                    tp.to_string() + ": a found message is unreadable: " + status.message());
    }
    const bool append_time = header->timestamp_type() == TimestampType::kLogAppendTime;
    for (const Record& r : records) {
      ConsumerRecord& record = out->emplace_back();
      record.topic = tp.topic;
      record.partition = tp.partition;
      record.offset = r.offset;
      record.timestamp_ms = append_time ? header->max_timestamp : r.timestamp;
      record.key = copy_of(r.key);
      record.value = copy_of(r.value);
      for (const RecordHeader& h : r.headers) {
        record.headers.push_back({std::string(h.key), copy_of(h.value)});
      }
    }
  }
  return Status::ok();
}

}  // namespace

Result<FoundMessages> Admin::find_messages(const std::string& topic, std::string_view key,
                                           int32_t limit_per_partition) {
  if (limit_per_partition < transport::kFindMessagesMin ||
      limit_per_partition > transport::kFindMessagesMax) {
    return Status(ErrorCode::kInvalidRequest,
                  "the limit per partition is " + std::to_string(transport::kFindMessagesMin) +
                      " to " + std::to_string(transport::kFindMessagesMax) + ", not " +
                      std::to_string(limit_per_partition));
  }
  std::lock_guard lock(mu_);
  const std::vector<std::string> names{topic};
  FoundMessages found;  // the partitions answered so far: only the others are asked again
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  int backoff_ms = config_.retry_backoff_ms;
  while (true) {
    Status failure = cluster_->refresh_metadata(names);
    if (failure.is_ok()) {
      const TopicInfo* info = cluster_->metadata().topic(topic);
      if (info == nullptr || info->error == ErrorCode::kUnknownTopicOrPartition) {
        return Status(ErrorCode::kUnknownTopicOrPartition,
                      "topic \"" + topic + "\" does not exist");
      }
      failure = info->error == ErrorCode::kNone
                    ? find_messages_round(*info, key, limit_per_partition, &found)
                    : Status(info->error,
                             "topic \"" + topic + "\": " + std::string(error_name(info->error)));
    }
    if (failure.is_ok()) break;
    if (!worth_asking_again(failure.code()) || steady_ms() + backoff_ms >= deadline) {
      return failure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, config_.retry_backoff_max_ms);
  }
  std::ranges::sort(found.records, {},
                    [](const ConsumerRecord& r) { return std::pair(r.partition, r.offset); });
  std::ranges::sort(found.partitions, {}, &KeySearchPartition::partition);
  return found;
}

Status Admin::find_messages_round(const TopicInfo& info, std::string_view key, int32_t limit,
                                  FoundMessages* found) {
  auto answered = [found](int32_t partition) {
    return std::ranges::find(found->partitions, partition, &KeySearchPartition::partition) !=
           found->partitions.end();
  };
  std::map<int32_t, Status> failed;                            // by partition
  std::map<int32_t, transport::FindMessagesRequest> requests;  // by leader
  for (const PartitionInfo& p : info.partitions) {
    if (answered(p.partition)) continue;
    Result<int32_t> leader = leader_of({info.name, p.partition});
    if (!leader.is_ok()) {
      failed.emplace(p.partition, leader.status());
      continue;
    }
    transport::FindMessagesRequest& request = requests[*leader];
    if (request.topics.empty()) {
      request.key.assign(key.begin(), key.end());
      request.max_messages = limit;
      request.topics.push_back({.name = info.name});
    }
    request.topics[0].partitions.push_back(
        {.partition_index = p.partition, .current_leader_epoch = p.leader_epoch});
  }
  for (const auto& [node, request] : requests) {
    Result<transport::FindMessagesResponse> response = cluster_->call(node, request);
    if (!response.is_ok()) {
      // Every partition this leader was asked for fails with the call.
      for (const auto& p : request.topics[0].partitions) {
        failed.emplace(p.partition_index, response.status());
      }
      continue;
    }
    for (const auto& t : response->topics) {
      for (const auto& p : t.partitions) {
        TopicPartition tp{t.name, p.partition_index};
        if (t.name != info.name ||
            info.partitions.size() <= static_cast<size_t>(p.partition_index) ||
            answered(p.partition_index)) {
          continue;  // not asked for
        }
        std::vector<ConsumerRecord> records;
        Status status =
            p.error_code == ErrorCode::kNone
                ? decode_found(tp, p.records.bytes(), &records)
                : Status(p.error_code, "FindMessages for " + tp.to_string() + " failed");
        if (!status.is_ok()) {
          failed.emplace(p.partition_index, status);
          continue;
        }
        std::ranges::move(records, std::back_inserter(found->records));
        found->partitions.push_back({.partition = p.partition_index,
                                     .high_watermark = p.high_watermark,
                                     .candidates = p.candidates,
                                     .more = p.more});
      }
    }
  }
  for (const PartitionInfo& p : info.partitions) {
    if (answered(p.partition) || failed.contains(p.partition)) continue;
    failed.emplace(p.partition, Status(ErrorCode::kUnknown, "FindMessages for " + info.name + "-" +
                                                                std::to_string(p.partition) +
                                                                " was not answered"));
  }
  return failed.empty() ? Status::ok() : failed.begin()->second;
}

Result<std::map<TopicPartition, Result<int64_t>>> Admin::delete_records(
    const std::map<TopicPartition, int64_t>& offsets) {
  std::lock_guard lock(mu_);
  std::set<std::string> topics;
  for (const auto& [tp, offset] : offsets) topics.insert(tp.topic);
  std::vector<std::string> names(topics.begin(), topics.end());
  std::map<TopicPartition, Result<int64_t>> results;
  std::map<TopicPartition, int64_t> left = offsets;
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.default_api_timeout_ms);
  while (!left.empty()) {
    MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(names));
    std::map<int32_t, transport::DeleteRecordsRequest> requests;
    for (const auto& [tp, offset] : left) {
      Result<int32_t> leader = leader_of(tp);
      if (!leader.is_ok()) {
        results.insert_or_assign(tp, leader.status());
        continue;
      }
      results.insert_or_assign(
          tp,
          Status(ErrorCode::kUnknown, "DeleteRecords for " + tp.to_string() + " was not answered"));
      transport::DeleteRecordsRequest& request = requests[*leader];
      request.timeout_ms = server_timeout_ms();
      auto topic = std::ranges::find(request.topics, tp.topic,
                                     &transport::DeleteRecordsRequest::Topic::name);
      if (topic == request.topics.end()) {
        topic = request.topics.insert(request.topics.end(), {.name = tp.topic});
      }
      topic->partitions.push_back({.partition_index = tp.partition, .offset = offset});
    }
    for (const auto& [node, request] : requests) {
      Result<transport::DeleteRecordsResponse> response = cluster_->call(node, request);
      if (!response.is_ok()) {
        // Every partition this leader was asked for fails with the call.
        for (const auto& topic : request.topics) {
          for (const auto& p : topic.partitions) {
            results.insert_or_assign(TopicPartition{topic.name, p.partition_index},
                                     response.status());
          }
        }
        continue;
      }
      for (const auto& topic : response->topics) {
        for (const auto& p : topic.partitions) {
          TopicPartition tp{topic.name, p.partition_index};
          if (!left.contains(tp)) continue;  // not asked for
          if (p.error_code == ErrorCode::kNone) {
            results.insert_or_assign(tp, p.low_watermark);
          } else {
            results.insert_or_assign(
                tp, Status(p.error_code,
                           p.error_message.value_or(std::string(error_name(p.error_code)))));
          }
        }
      }
    }
    std::map<TopicPartition, int64_t> again;
    for (const auto& [tp, offset] : left) {
      const Result<int64_t>& r = results.at(tp);
      if (!r.is_ok() && leader_moving(r.code())) again.emplace(tp, offset);
    }
    if (again.empty() || std::chrono::steady_clock::now() >= deadline) break;
    left = std::move(again);
    std::this_thread::sleep_for(std::chrono::milliseconds(config_.retry_backoff_ms));
  }
  return results;
}

Result<std::map<int32_t, Result<LogDirDescription>>> Admin::describe_log_dirs(
    const std::vector<int32_t>& brokers, const std::vector<std::string>& topics) {
  std::lock_guard lock(mu_);
  MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(std::vector<std::string>{}));
  std::vector<int32_t> ids = brokers;
  if (ids.empty()) {
    for (const BrokerInfo& b : cluster_->metadata().brokers) ids.push_back(b.node_id);
  }
  std::ranges::sort(ids);
  transport::DescribeLogDirsRequest request;
  for (const std::string& t : topics) request.topics.push_back({.name = t});
  std::map<int32_t, Result<LogDirDescription>> out;
  for (int32_t id : ids) {
    if (cluster_->metadata().broker(id) == nullptr) {
      out.emplace(id, Status(ErrorCode::kBrokerNotAvailable,
                             "broker " + std::to_string(id) +
                                 " is not in the metadata (not registered, fenced or down)"));
      continue;
    }
    Result<transport::DescribeLogDirsResponse> response = cluster_->call(id, request);
    if (!response.is_ok()) {
      out.emplace(id, response.status());
      continue;
    }
    if (response->error_code != ErrorCode::kNone) {
      out.emplace(id, Status(response->error_code,
                             "DescribeLogDirs failed on broker " + std::to_string(id)));
      continue;
    }
    LogDirDescription d{.broker_id = id};
    for (const auto& dir : response->log_dirs) {
      d.path = dir.log_dir;
      d.error = dir.error_code;
      d.total_bytes = dir.total_bytes;
      d.usable_bytes = dir.usable_bytes;
      for (const auto& t : dir.topics) {
        for (const auto& p : t.partitions) {
          d.partitions.push_back({.partition = {t.name, p.partition_index},
                                  .size_bytes = p.size_bytes,
                                  .segments = p.segments,
                                  .log_start_offset = p.log_start_offset,
                                  .log_end_offset = p.log_end_offset,
                                  .high_watermark = p.high_watermark,
                                  .leader = p.leader});
        }
      }
    }
    out.emplace(id, std::move(d));
  }
  return out;
}

}  // namespace mq::client
