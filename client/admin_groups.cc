// The admin client's consumer-group calls: each goes to the group's
// coordinator. Offset-reset plans are computed here (docs/protocol.md §14).
#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

#include "client/admin.h"
#include "client/clock.h"
#include "client/cluster.h"
#include "client/coordinator.h"
#include "transport/consumer_protocol.h"
#include "transport/group_admin.h"
#include "transport/group_offsets.h"
#include "transport/list_offsets.h"

namespace mq::client {

namespace {

bool is_connection_error(ErrorCode code) {
  return code == ErrorCode::kNetworkError || code == ErrorCode::kRequestTimedOut ||
         code == ErrorCode::kBrokerNotAvailable;
}

template <class Int>
std::optional<Int> parse_integer(std::string_view text) {
  Int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// "topic,partition,offset" per line; blank lines are skipped.
Result<std::map<TopicPartition, int64_t>> parse_reset_csv(std::string_view csv) {
  std::map<TopicPartition, int64_t> offsets;
  std::vector<std::string_view> lines = split(csv, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = trim(lines[i]);
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Status(ErrorCode::kInvalidRequest,
                    "CSV line " + std::to_string(i + 1) + " ('" + std::string(line) + "'): " + why);
    };
    std::vector<std::string_view> fields = split(line, ',');
    if (fields.size() != 3) return bad("expected topic,partition,offset");
    std::string topic(trim(fields[0]));
    std::optional<int32_t> partition = parse_integer<int32_t>(trim(fields[1]));
    std::optional<int64_t> offset = parse_integer<int64_t>(trim(fields[2]));
    if (topic.empty()) return bad("the topic is empty");
    if (!partition || *partition < 0) return bad("the partition is not a number >= 0");
    if (!offset || *offset < 0) return bad("the offset is not a number >= 0");
    if (!offsets.emplace(TopicPartition{topic, *partition}, *offset).second) {
      return bad(topic + "-" + std::to_string(*partition) + " is listed twice");
    }
  }
  if (offsets.empty()) return Status(ErrorCode::kInvalidRequest, "the CSV names no partitions");
  return offsets;
}

}  // namespace

Result<TopicSelection> parse_topic_selection(std::string_view text) {
  size_t colon = text.find(':');
  TopicSelection selection{.topic = std::string(text.substr(0, colon))};
  if (selection.topic.empty()) {
    return Status(ErrorCode::kInvalidRequest, "'" + std::string(text) + "' names no topic");
  }
  if (colon == std::string_view::npos) return selection;
  for (std::string_view part : split(text.substr(colon + 1), ',')) {
    std::optional<int32_t> partition = parse_integer<int32_t>(trim(part));
    if (!partition || *partition < 0) {
      return Status(ErrorCode::kInvalidRequest, "'" + std::string(text) +
                                                    "': partitions are numbers >= 0 separated "
                                                    "by commas, as in T:0,2,5");
    }
    selection.partitions.push_back(*partition);
  }
  return selection;
}

template <class Request, class ErrorOf>
Result<typename Request::Response> Admin::call_coordinator(const std::string& group_id,
                                                           const Request& request,
                                                           ErrorOf error_of) {
  const int64_t deadline = steady_ms() + request_timeout_ms_;
  while (true) {
    Status last;
    Result<BrokerInfo> coordinator = find_coordinator(*cluster_, group_id);
    if (coordinator.is_ok()) {
      if (cluster_->metadata().broker(coordinator->node_id) == nullptr) {
        (void)cluster_->refresh_metadata(std::vector<std::string>{});
      }
      Result<typename Request::Response> response = cluster_->call(coordinator->node_id, request);
      if (response.is_ok()) {
        ErrorCode code = error_of(*response);
        if (!is_coordinator_error(code)) {
          last_coordinator_id_ = coordinator->node_id;
          return response;
        }
        last = Status(code, "group " + group_id + ": " + std::string(error_name(code)));
      } else {
        last = response.status();
      }
    } else {
      last = coordinator.status();
    }
    if (!is_coordinator_error(last.code()) && !is_connection_error(last.code())) return last;
    if (steady_ms() + 100 >= deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::vector<GroupListing>> Admin::list_groups() {
  std::lock_guard lock(mu_);
  MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(std::vector<std::string>{}));
  std::vector<GroupListing> groups;
  std::vector<BrokerInfo> brokers = cluster_->metadata().brokers;
  for (const BrokerInfo& broker : brokers) {
    Result<transport::ListGroupsResponse> response =
        cluster_->call(broker.node_id, transport::ListGroupsRequest{});
    if (!response.is_ok()) {
      return Status(response.code(), "ListGroups to broker " + std::to_string(broker.node_id) +
                                         ": " + response.status().message());
    }
    if (response->error_code != ErrorCode::kNone) {
      return Status(response->error_code, "ListGroups to broker " + std::to_string(broker.node_id) +
                                              ": " + std::string(error_name(response->error_code)));
    }
    for (const auto& group : response->groups) {
      groups.push_back({.group_id = group.group_id,
                        .protocol_type = group.protocol_type,
                        .state = group.group_state,
                        .coordinator_id = broker.node_id});
    }
  }
  std::ranges::sort(groups, {}, &GroupListing::group_id);
  return groups;
}

Result<std::map<TopicPartition, int64_t>> Admin::committed_offsets(const std::string& group_id,
                                                                   const std::string& member_id) {
  transport::OffsetFetchRequest request{.group_id = group_id, .member_id = member_id};
  MQ_ASSIGN_OR_RETURN(
      transport::OffsetFetchResponse response,
      call_coordinator(group_id, request,
                       [](const transport::OffsetFetchResponse& r) { return r.error_code; }));
  if (response.error_code != ErrorCode::kNone) {
    return Status(response.error_code, "OffsetFetch of group " + group_id + ": " +
                                           std::string(error_name(response.error_code)));
  }
  std::map<TopicPartition, int64_t> offsets;
  for (const auto& topic : response.topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code != ErrorCode::kNone || partition.committed_offset < 0) continue;
      offsets[{topic.name, partition.partition_index}] = partition.committed_offset;
    }
  }
  return offsets;
}

Result<GroupDescription> Admin::describe_group(const std::string& group_id) {
  std::lock_guard lock(mu_);
  return describe_group_locked(group_id);
}

Result<GroupDescription> Admin::describe_group_locked(const std::string& group_id) {
  MQ_ASSIGN_OR_RETURN(transport::DescribeGroupsResponse response,
                      call_coordinator(group_id, transport::DescribeGroupsRequest{{group_id}},
                                       [](const transport::DescribeGroupsResponse& r) {
                                         return r.groups.empty() ? ErrorCode::kNone
                                                                 : r.groups[0].error_code;
                                       }));
  if (response.groups.size() != 1) {
    return Status(
        ErrorCode::kUnknown,
        "DescribeGroups answered " + std::to_string(response.groups.size()) + " groups for 1");
  }
  const auto& group = response.groups[0];
  if (group.error_code != ErrorCode::kNone) {
    return Status(group.error_code, "DescribeGroups of " + group_id + ": " +
                                        std::string(error_name(group.error_code)));
  }
  GroupDescription out{.group_id = group_id,
                       .state = group.group_state,
                       .protocol_type = group.protocol_type,
                       .assignor = group.protocol_data,
                       .coordinator_id = last_coordinator_id_};
  std::map<std::pair<TopicPartition, std::string>, GroupPartitionLag> partitions;
  bool broadcast = out.assignor == transport::kAssignorBroadcast;
  for (const auto& member : group.members) {
    GroupMemberDescription& m = out.members.emplace_back();
    m.member_id = member.member_id;
    m.group_instance_id = member.group_instance_id;
    m.client_id = member.client_id;
    m.client_host = member.client_host;
    // Groups of other protocol types carry bytes we do not read.
    if (Result<transport::ConsumerSubscription> subscription =
            transport::decode_subscription(member.member_metadata);
        subscription.is_ok()) {
      m.topics = subscription->topics;
    }
    if (Result<transport::ConsumerAssignment> assignment =
            transport::decode_assignment(member.member_assignment);
        assignment.is_ok()) {
      for (const auto& topic : assignment->partitions) {
        for (int32_t p : topic.partitions) m.assignment.push_back({topic.topic, p});
      }
    }
    std::ranges::sort(m.assignment);
    for (const TopicPartition& tp : m.assignment) {
      // Broadcast members each have their own offsets: one row per member.
      std::string key = broadcast ? m.member_id : "";
      GroupPartitionLag& row = partitions[{tp, key}];
      row.partition = tp;
      row.member_id = m.member_id;
    }
  }
  MQ_ASSIGN_OR_RETURN(auto committed, committed_offsets(group_id));
  for (const auto& [tp, offset] : committed) {
    GroupPartitionLag& row = partitions[{tp, ""}];
    row.partition = tp;
    row.committed_offset = offset;
  }
  if (broadcast) {
    for (const GroupMemberDescription& m : out.members) {
      MQ_ASSIGN_OR_RETURN(auto own, committed_offsets(group_id, m.member_id));
      for (const auto& [tp, offset] : own) {
        GroupPartitionLag& row = partitions[{tp, m.member_id}];
        row.partition = tp;
        row.member_id = m.member_id;
        row.committed_offset = offset;
      }
    }
  }
  // Log ends of the partitions that still exist (a deleted topic keeps its offsets).
  std::set<std::string> topics;
  for (const auto& [key, row] : partitions) topics.insert(key.first.topic);
  std::map<TopicPartition, int64_t> wanted;
  if (!topics.empty()) {
    MQ_RETURN_IF_ERROR(
        cluster_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end())));
    for (const auto& [key, row] : partitions) {
      if (cluster_->metadata().partition(key.first.topic, key.first.partition) != nullptr) {
        wanted[key.first] = transport::kLatestTimestamp;
      }
    }
  }
  MQ_ASSIGN_OR_RETURN(auto ends, list_offsets_locked(wanted));
  for (auto& [key, row] : partitions) {
    auto end = ends.find(key.first);
    if (end != ends.end()) row.log_end_offset = end->second.offset;
    if (row.committed_offset >= 0 && row.log_end_offset >= 0) {
      row.lag = std::max<int64_t>(0, row.log_end_offset - row.committed_offset);
      out.total_lag += row.lag;
    }
    out.partitions.push_back(row);
  }
  return out;
}

Result<std::vector<ItemResult>> Admin::delete_groups(const std::vector<std::string>& group_ids) {
  std::lock_guard lock(mu_);
  std::vector<ItemResult> results;
  // Groups may have different coordinators: one request each.
  for (const std::string& group_id : group_ids) {
    Result<transport::DeleteGroupsResponse> response =
        call_coordinator(group_id, transport::DeleteGroupsRequest{{group_id}},
                         [](const transport::DeleteGroupsResponse& r) {
                           return r.results.empty() ? ErrorCode::kNone : r.results[0].error_code;
                         });
    if (!response.is_ok()) {
      results.push_back({group_id, response.status()});
      continue;
    }
    ErrorCode code =
        response->results.empty() ? ErrorCode::kUnknown : response->results[0].error_code;
    Status status;
    if (code == ErrorCode::kGroupNotEmpty) {
      status = Status(code, "group " + group_id + " has members: stop its consumers, then delete");
    } else if (code != ErrorCode::kNone) {
      status = Status(code, "group " + group_id + ": " + std::string(error_name(code)));
    }
    results.push_back({group_id, status});
  }
  return results;
}

Status Admin::delete_group_offsets(const std::string& group_id, const std::string& topic) {
  std::lock_guard lock(mu_);
  MQ_ASSIGN_OR_RETURN(auto committed, committed_offsets(group_id));
  transport::OffsetDeleteRequest request{.group_id = group_id};
  request.topics.push_back({.name = topic});
  for (const auto& [tp, offset] : committed) {
    if (tp.topic == topic) request.topics[0].partition_indexes.push_back(tp.partition);
  }
  if (request.topics[0].partition_indexes.empty()) {
    return Status(ErrorCode::kNotFound,
                  "group " + group_id + " has no committed offsets for topic " + topic);
  }
  MQ_ASSIGN_OR_RETURN(
      transport::OffsetDeleteResponse response,
      call_coordinator(group_id, request,
                       [](const transport::OffsetDeleteResponse& r) { return r.error_code; }));
  if (response.error_code != ErrorCode::kNone) {
    return Status(response.error_code, "OffsetDelete of group " + group_id + ": " +
                                           std::string(error_name(response.error_code)));
  }
  for (const auto& t : response.topics) {
    for (const auto& partition : t.partitions) {
      if (partition.error_code == ErrorCode::kGroupSubscribedToTopic) {
        return Status(partition.error_code, "a member of group " + group_id +
                                                " subscribes to topic " + topic +
                                                ": stop its consumers or change their "
                                                "subscription, then delete the offsets");
      }
      if (partition.error_code != ErrorCode::kNone) {
        return Status(partition.error_code, "OffsetDelete of " + t.name + "-" +
                                                std::to_string(partition.partition_index) + ": " +
                                                std::string(error_name(partition.error_code)));
      }
    }
  }
  return Status::ok();
}

Status Admin::require_inactive(const std::string& group_id) {
  MQ_ASSIGN_OR_RETURN(transport::DescribeGroupsResponse response,
                      call_coordinator(group_id, transport::DescribeGroupsRequest{{group_id}},
                                       [](const transport::DescribeGroupsResponse& r) {
                                         return r.groups.empty() ? ErrorCode::kNone
                                                                 : r.groups[0].error_code;
                                       }));
  if (response.groups.empty() || response.groups[0].members.empty()) return Status::ok();
  const auto& group = response.groups[0];
  size_t n = group.members.size();
  return Status(ErrorCode::kGroupNotEmpty, "group " + group_id + " has " + std::to_string(n) +
                                               " active member" + (n == 1 ? "" : "s") + " (state " +
                                               group.group_state +
                                               "): stop its consumers, then reset");
}

Result<OffsetResetPlan> Admin::plan_offset_reset(const std::string& group_id,
                                                 const OffsetResetSpec& spec) {
  std::lock_guard lock(mu_);
  MQ_RETURN_IF_ERROR(require_inactive(group_id));
  MQ_ASSIGN_OR_RETURN(auto committed, committed_offsets(group_id));

  // Which partitions, and for a CSV their requested offsets.
  std::map<TopicPartition, int64_t> requested;
  std::set<TopicPartition> targets;
  if (spec.mode == OffsetResetMode::kFromCsv) {
    MQ_ASSIGN_OR_RETURN(requested, parse_reset_csv(spec.csv));
    for (const auto& [tp, offset] : requested) targets.insert(tp);
  } else {
    std::vector<TopicSelection> selections = spec.topics;
    if (selections.empty()) {
      std::set<std::string> topics;
      for (const auto& [tp, offset] : committed) topics.insert(tp.topic);
      if (topics.empty()) {
        return Status(ErrorCode::kNotFound, "group " + group_id +
                                                " has no committed offsets; name the topics "
                                                "to reset");
      }
      for (const std::string& topic : topics) selections.push_back({.topic = topic});
    }
    std::vector<std::string> names;
    for (const TopicSelection& s : selections) names.push_back(s.topic);
    MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(names));
    for (const TopicSelection& s : selections) {
      int32_t count = cluster_->metadata().partition_count(s.topic);
      if (count == 0) {
        return Status(ErrorCode::kUnknownTopicOrPartition, "topic " + s.topic + " does not exist");
      }
      for (int32_t p = 0; p < count; ++p) {
        if (s.partitions.empty()) targets.insert({s.topic, p});
      }
      for (int32_t p : s.partitions) {
        if (p >= count) {
          return Status(ErrorCode::kUnknownTopicOrPartition,
                        "topic " + s.topic + " has no partition " + std::to_string(p) +
                            " (it has " + std::to_string(count) + ")");
        }
        targets.insert({s.topic, p});
      }
    }
  }

  std::map<TopicPartition, int64_t> earliest_ask, latest_ask, time_ask;
  for (const TopicPartition& tp : targets) {
    earliest_ask[tp] = transport::kEarliestTimestamp;
    latest_ask[tp] = transport::kLatestTimestamp;
  }
  MQ_ASSIGN_OR_RETURN(auto starts, list_offsets_locked(earliest_ask));
  MQ_ASSIGN_OR_RETURN(auto ends, list_offsets_locked(latest_ask));
  std::map<TopicPartition, ListedOffset> by_time;
  if (spec.mode == OffsetResetMode::kToDatetime || spec.mode == OffsetResetMode::kByDuration) {
    int64_t timestamp =
        spec.mode == OffsetResetMode::kToDatetime ? spec.value : wall_ms() - spec.value;
    for (const TopicPartition& tp : targets) time_ask[tp] = std::max<int64_t>(timestamp, 0);
    MQ_ASSIGN_OR_RETURN(by_time, list_offsets_locked(time_ask));
  }

  OffsetResetPlan plan{.group_id = group_id};
  for (const TopicPartition& tp : targets) {
    int64_t start = starts.at(tp).offset;
    int64_t end = ends.at(tp).offset;
    auto found = committed.find(tp);
    int64_t current = found == committed.end() ? -1 : found->second;
    // Without a commit a consumer starts at the end (auto_offset_reset latest).
    int64_t current_or_end = current >= 0 ? current : end;
    int64_t target = 0;
    switch (spec.mode) {
      case OffsetResetMode::kToEarliest:
        target = start;
        break;
      case OffsetResetMode::kToLatest:
        target = end;
        break;
      case OffsetResetMode::kToOffset:
        target = spec.value;
        break;
      case OffsetResetMode::kShiftBy:
        target = current_or_end + spec.value;
        break;
      case OffsetResetMode::kToDatetime:
      case OffsetResetMode::kByDuration:
        target = by_time.at(tp).offset >= 0 ? by_time.at(tp).offset : end;
        break;
      case OffsetResetMode::kToCurrent:
        target = current_or_end;
        break;
      case OffsetResetMode::kFromCsv:
        target = requested.at(tp);
        break;
    }
    plan.entries.push_back({.partition = tp,
                            .current_offset = current,
                            .new_offset = std::clamp(target, start, std::max(start, end))});
  }
  return plan;
}

Status Admin::apply_offset_reset(const OffsetResetPlan& plan) {
  std::lock_guard lock(mu_);
  if (plan.entries.empty()) return Status(ErrorCode::kInvalidRequest, "the plan is empty");
  MQ_RETURN_IF_ERROR(require_inactive(plan.group_id));
  transport::OffsetCommitRequest request{.group_id = plan.group_id};
  for (const OffsetResetEntry& entry : plan.entries) {
    if (request.topics.empty() || request.topics.back().name != entry.partition.topic) {
      request.topics.push_back({.name = entry.partition.topic});
    }
    request.topics.back().partitions.push_back(
        {.partition_index = entry.partition.partition, .committed_offset = entry.new_offset});
  }
  MQ_ASSIGN_OR_RETURN(transport::OffsetCommitResponse response,
                      call_coordinator(plan.group_id, request, commit_coordinator_error));
  for (const auto& topic : response.topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code == ErrorCode::kGroupNotEmpty) {
        // A consumer joined between the check and the commit.
        Status why = require_inactive(plan.group_id);
        return why.is_ok() ? Status(partition.error_code, "group " + plan.group_id +
                                                              " has active members: stop its "
                                                              "consumers, then reset")
                           : why;
      }
      if (partition.error_code != ErrorCode::kNone) {
        return Status(partition.error_code,
                      "reset of " + topic.name + "-" + std::to_string(partition.partition_index) +
                          " failed (" + std::string(error_name(partition.error_code)) +
                          "); nothing was written");
      }
    }
  }
  return Status::ok();
}

}  // namespace mq::client
