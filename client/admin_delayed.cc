// Admin: ListDelayed and CancelDelayed (admin.h), each partition asked of
// its leader.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <tuple>

#include "client/admin.h"
#include "client/clock.h"
#include "client/cluster.h"
#include "transport/delayed.h"

namespace mq::client {
namespace {

// A partition asked again: its leader moved, is being elected, or has not
// loaded a partition the metadata lists yet.
bool ask_again(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kNetworkError || code == ErrorCode::kFencedLeaderEpoch ||
         code == ErrorCode::kUnknownLeaderEpoch || code == ErrorCode::kUnknownTopicOrPartition ||
         code == ErrorCode::kRequestTimedOut;
}

}  // namespace

Result<DelayedListing> Admin::list_delayed(const std::string& topic, int32_t limit_per_partition) {
  if (limit_per_partition < transport::kListDelayedMin ||
      limit_per_partition > transport::kListDelayedMax) {
    return Status(ErrorCode::kInvalidRequest,
                  "the limit per partition is " + std::to_string(transport::kListDelayedMin) +
                      " to " + std::to_string(transport::kListDelayedMax) + ", not " +
                      std::to_string(limit_per_partition));
  }
  std::lock_guard lock(mu_);
  const std::vector<std::string> names{topic};
  DelayedListing listing;
  std::set<int32_t> answered;
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  int backoff_ms = config_.retry_backoff_ms;
  while (true) {
    Status failure = cluster_->refresh_metadata(names);
    const TopicInfo* info = failure.is_ok() ? cluster_->metadata().topic(topic) : nullptr;
    if (failure.is_ok()) {
      if (info == nullptr || info->error == ErrorCode::kUnknownTopicOrPartition) {
        return Status(ErrorCode::kUnknownTopicOrPartition,
                      "topic \"" + topic + "\" does not exist");
      }
      if (info->error != ErrorCode::kNone) {
        failure =
            Status(info->error, "topic \"" + topic + "\": " + std::string(error_name(info->error)));
      }
    }
    if (failure.is_ok()) {
      std::map<int32_t, transport::ListDelayedRequest> requests;  // by leader
      for (const PartitionInfo& p : info->partitions) {
        if (answered.contains(p.partition)) continue;
        Result<int32_t> leader = leader_of({topic, p.partition});
        if (!leader.is_ok()) {
          failure = leader.status();
          continue;
        }
        transport::ListDelayedRequest& request = requests[*leader];
        if (request.topics.empty()) {
          request.max_messages = limit_per_partition;
          request.topics.push_back({.name = topic});
        }
        request.topics[0].partitions.push_back(
            {.partition_index = p.partition, .current_leader_epoch = p.leader_epoch});
      }
      for (const auto& [node, request] : requests) {
        Result<transport::ListDelayedResponse> response = cluster_->call(node, request);
        if (!response.is_ok()) {
          failure = response.status();
          continue;
        }
        for (const auto& t : response->topics) {
          for (const auto& p : t.partitions) {
            if (t.name != topic || answered.contains(p.partition_index)) continue;
            if (p.error_code != ErrorCode::kNone) {
              failure = Status(p.error_code, "ListDelayed for " + topic + "-" +
                                                 std::to_string(p.partition_index) + " failed");
              continue;
            }
            answered.insert(p.partition_index);
            listing.pending += p.pending;
            for (const auto& m : p.messages) {
              listing.messages.push_back({.partition = p.partition_index,
                                          .offset = m.offset,
                                          .deliver_at_ms = m.deliver_at_ms});
            }
          }
        }
      }
      if (failure.is_ok() && answered.size() < info->partitions.size()) {
        failure = Status(ErrorCode::kUnknown, "ListDelayed for " + topic + " was not answered");
      }
    }
    if (failure.is_ok()) break;
    if (!ask_again(failure.code()) || steady_ms() + backoff_ms >= deadline) return failure;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, config_.retry_backoff_max_ms);
  }
  std::ranges::sort(listing.messages, {}, [](const DelayedMessage& m) {
    return std::tuple(m.deliver_at_ms, m.partition, m.offset);
  });
  return listing;
}

Status Admin::cancel_delayed(const TopicPartition& partition, int64_t offset) {
  std::lock_guard lock(mu_);
  const std::vector<std::string> names{partition.topic};
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  int backoff_ms = config_.retry_backoff_ms;
  while (true) {
    Status failure = cluster_->refresh_metadata(names);
    if (failure.is_ok()) {
      const TopicInfo* info = cluster_->metadata().topic(partition.topic);
      if (info == nullptr || info->error == ErrorCode::kUnknownTopicOrPartition ||
          partition.partition < 0 ||
          static_cast<size_t>(partition.partition) >= info->partitions.size()) {
        return Status(ErrorCode::kUnknownTopicOrPartition,
                      partition.to_string() + " does not exist");
      }
      Result<int32_t> leader = leader_of(partition);
      if (!leader.is_ok()) {
        failure = leader.status();
      } else {
        transport::CancelDelayedRequest request;
        request.topics.push_back(
            {.name = partition.topic,
             .partitions = {
                 {.partition_index = partition.partition,
                  .current_leader_epoch =
                      info->partitions[static_cast<size_t>(partition.partition)].leader_epoch,
                  .offsets = {offset}}}});
        Result<transport::CancelDelayedResponse> response = cluster_->call(*leader, request);
        if (!response.is_ok()) {
          failure = response.status();
        } else if (response->topics.size() != 1 || response->topics[0].partitions.size() != 1) {
          return Status(ErrorCode::kUnknown,
                        "CancelDelayed: the answer does not match the request");
        } else {
          const auto& p = response->topics[0].partitions[0];
          ErrorCode code = p.error_code != ErrorCode::kNone ? p.error_code
                           : p.results.size() == 1          ? p.results[0].error_code
                                                            : ErrorCode::kUnknown;
          if (code == ErrorCode::kNone) return Status::ok();
          if (code == ErrorCode::kNotFound) {
            return Status(code, "no delayed message is pending at offset " +
                                    std::to_string(offset) + " of " + partition.to_string() +
                                    " (delivered, cancelled, or never scheduled)");
          }
          failure = Status(code, "CancelDelayed for " + partition.to_string() + " failed");
        }
      }
    }
    // A cancel that timed out may have been appended: asking again would
    // answer NOT_FOUND for it, so the caller hears the timeout instead.
    if (!ask_again(failure.code()) || failure.code() == ErrorCode::kRequestTimedOut ||
        steady_ms() + backoff_ms >= deadline) {
      return failure;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms = std::min(backoff_ms * 2, config_.retry_backoff_max_ms);
  }
}

}  // namespace mq::client
