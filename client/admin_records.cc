// Admin: DeleteRecords and DescribeLogDirs (admin.h).
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/cluster.h"
#include "transport/delete_records.h"
#include "transport/log_dirs.h"

namespace mq::client {
namespace {

// A partition DeleteRecords may ask again: its leader moved or is being
// elected. Asking again is harmless, the log start only moves forward.
bool leader_moving(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kNetworkError || code == ErrorCode::kFencedLeaderEpoch;
}

}  // namespace

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
