// The group coordinator's committed offsets and its admin calls (list,
// describe, delete, delete offsets, stats); membership is in coordinator.cc.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "group/coordinator.h"

namespace mq::group {

using namespace mq::transport;

// ---------------------------------------------------------------- offsets

OffsetCommitResponse GroupCoordinator::commit(const OffsetCommitRequest& request) {
  OffsetCommitResponse response;
  auto answer_all = [&](ErrorCode code) {
    response.topics.clear();
    for (const auto& t : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, code});
    }
    return response;
  };
  if (request.group_id.empty()) return answer_all(ErrorCode::kInvalidGroupId);

  const int32_t partition = partition_for(request.group_id);
  std::string member_key;
  uint64_t generation = 0;  // of the partition's load: a commit lands only in the load it began in
  {
    std::lock_guard lock(mu_);
    if (ErrorCode unavailable = group_error_locked(request.group_id);
        unavailable != ErrorCode::kNone) {
      return answer_all(unavailable);
    }
    generation = partitions_[partition].generation;
    Group* group = find_locked(request.group_id);
    bool manual = request.generation_id < 0 && request.member_id.empty();
    if (manual) {
      if (group != nullptr && !group->members.empty()) {
        return answer_all(ErrorCode::kGroupNotEmpty);
      }
    } else {
      ErrorCode fenced =
          check_member_locked(request.group_id, request.member_id, request.generation_id, &group);
      if (fenced != ErrorCode::kNone) return answer_all(fenced);
      if (group->state == State::kCompletingRebalance) {
        return answer_all(ErrorCode::kRebalanceInProgress);
      }
      Member& member = group->members.at(request.member_id);
      member.last_heard_ms = timer_ms();
      if (group->protocol_name == kAssignorBroadcast) member_key = member.offsets_key();
    }
  }

  // Validate each partition, then write the valid ones as one batch.
  std::vector<KeyValue> records;
  std::vector<std::pair<TopicPartition, Committed>> applied;
  int64_t timestamp = now();
  for (const auto& t : request.topics) {
    auto& out = response.topics.emplace_back();
    out.name = t.name;
    std::optional<int32_t> count = storage_.partition_count(t.name);
    for (const auto& p : t.partitions) {
      ErrorCode code = ErrorCode::kNone;
      if (!count || p.partition_index < 0 || p.partition_index >= *count) {
        code = ErrorCode::kUnknownTopicOrPartition;
      } else if (p.committed_metadata &&
                 static_cast<int32_t>(p.committed_metadata->size()) > config_.max_metadata_bytes) {
        code = ErrorCode::kOffsetMetadataTooLarge;
      } else if (p.committed_offset < 0) {
        code = ErrorCode::kInvalidRequest;
      }
      out.partitions.push_back({p.partition_index, code});
      if (code != ErrorCode::kNone) continue;
      OffsetsKey key{.group = request.group_id,
                     .member_key = member_key,
                     .topic = t.name,
                     .partition = p.partition_index};
      OffsetValue value{.offset = p.committed_offset,
                        .leader_epoch = p.committed_leader_epoch,
                        .metadata = p.committed_metadata,
                        .commit_timestamp = timestamp};
      records.emplace_back(encode_key(key), encode_offset_value(value));
      applied.push_back({{t.name, p.partition_index},
                         {p.committed_offset, p.committed_leader_epoch, p.committed_metadata}});
    }
  }
  if (records.empty()) return response;

  std::lock_guard write_lock(*partition_mu_[partition]);
  // Answered only once replicated: a coordinator failover cannot lose it.
  Status written = append_records(partition, records, GroupStorage::Durability::kReplicated);
  if (!written.is_ok()) {
    spdlog::warn("group {}: commit failed: {}", request.group_id, written.to_string());
    ErrorCode code = ErrorCode::kCoordinatorNotAvailable;
    if (written.code() == ErrorCode::kNotEnoughReplicas ||
        written.code() == ErrorCode::kNotEnoughReplicasAfterAppend) {
      code = written.code();
    } else if (written.code() == ErrorCode::kNotCoordinator ||
               written.code() == ErrorCode::kNotLeader) {
      code = ErrorCode::kNotCoordinator;
    }
    for (auto& t : response.topics) {
      for (auto& p : t.partitions) {
        if (p.error_code == ErrorCode::kNone) p.error_code = code;
      }
    }
    return response;
  }
  std::lock_guard lock(mu_);
  // The partition moved away (and maybe back) meanwhile: the commit is
  // durable in the log, which whoever loads the partition replays.
  if (stopped_ || partitions_[partition].generation != generation) return response;
  Group& group = groups_[request.group_id];
  if (group.state == State::kDead) group = Group{};
  group.id = request.group_id;
  for (auto& [tp, committed] : applied) group.offsets[member_key][tp] = std::move(committed);
  group.commits++;
  return response;
}

OffsetFetchResponse GroupCoordinator::fetch_offsets(const OffsetFetchRequest& request) {
  OffsetFetchResponse response;
  std::lock_guard lock(mu_);
  response.error_code = group_error_locked(request.group_id);
  if (response.error_code != ErrorCode::kNone) return response;
  Group* group = find_locked(request.group_id);
  std::string member_key;
  if (group != nullptr && !request.member_id.empty()) {
    auto member = group->members.find(request.member_id);
    if (member == group->members.end()) {
      response.error_code = ErrorCode::kUnknownMemberId;
      return response;
    }
    member_key = member->second.offsets_key();
  }
  const std::map<TopicPartition, Committed>* offsets = nullptr;
  if (group != nullptr) {
    auto it = group->offsets.find(member_key);
    if (it != group->offsets.end()) offsets = &it->second;
  }
  auto partition_out = [&](int32_t index) {
    OffsetFetchResponse::Topic::Partition out;
    out.partition_index = index;
    return out;
  };
  if (request.topics) {
    for (const auto& t : *request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (int32_t index : t.partition_indexes) {
        auto p = partition_out(index);
        if (offsets != nullptr) {
          auto it = offsets->find({t.name, index});
          if (it != offsets->end()) {
            p.committed_offset = it->second.offset;
            p.committed_leader_epoch = it->second.leader_epoch;
            p.metadata = it->second.metadata;
          }
        }
        out.partitions.push_back(std::move(p));
      }
    }
    return response;
  }
  if (offsets == nullptr) return response;
  for (const auto& [tp, committed] : *offsets) {
    if (response.topics.empty() || response.topics.back().name != tp.first) {
      response.topics.emplace_back().name = tp.first;
    }
    auto p = partition_out(tp.second);
    p.committed_offset = committed.offset;
    p.committed_leader_epoch = committed.leader_epoch;
    p.metadata = committed.metadata;
    response.topics.back().partitions.push_back(std::move(p));
  }
  return response;
}

// ---------------------------------------------------------------- admin

ListGroupsResponse GroupCoordinator::list(const ListGroupsRequest& request) {
  ListGroupsResponse response;
  std::lock_guard lock(mu_);
  // Only groups of loaded partitions are here; while one loads, the list
  // would be incomplete.
  for (const PartitionSlot& slot : partitions_) {
    if (slot.state == Load::kLoading) {
      response.error_code = ErrorCode::kCoordinatorLoadInProgress;
      return response;
    }
  }
  for (const auto& [id, group] : groups_) {
    if (group.state == State::kDead) continue;
    std::string state(state_name(group.state));
    if (!request.states_filter.empty() &&
        std::find(request.states_filter.begin(), request.states_filter.end(), state) ==
            request.states_filter.end()) {
      continue;
    }
    response.groups.push_back({id, group.protocol_type, state});
  }
  return response;
}

DescribeGroupsResponse GroupCoordinator::describe(const DescribeGroupsRequest& request) {
  DescribeGroupsResponse response;
  std::lock_guard lock(mu_);
  for (const auto& id : request.groups) {
    auto& out = response.groups.emplace_back();
    out.group_id = id;
    out.error_code = group_error_locked(id);
    if (out.error_code != ErrorCode::kNone) continue;
    Group* group = find_locked(id);
    if (group == nullptr) {
      out.group_state = std::string(state_name(State::kDead));
      continue;
    }
    out.group_state = std::string(state_name(group->state));
    out.protocol_type = group->protocol_type;
    out.protocol_data = group->protocol_name;
    for (const auto& member_id : group->join_order) {
      const Member& member = group->members.at(member_id);
      auto& m = out.members.emplace_back();
      m.member_id = member_id;
      m.group_instance_id = member.instance_id;
      m.client_id = member.client_id;
      m.client_host = member.client_host;
      for (const auto& p : member.protocols) {
        if (p.name == group->protocol_name) m.member_metadata = p.metadata;
      }
      if (m.member_metadata.empty() && !member.protocols.empty()) {
        m.member_metadata = member.protocols.front().metadata;
      }
      if (group->state != State::kPreparingRebalance) m.member_assignment = member.assignment;
    }
  }
  return response;
}

DeleteGroupsResponse GroupCoordinator::delete_groups(const DeleteGroupsRequest& request) {
  DeleteGroupsResponse response;
  for (const auto& id : request.groups_names) {
    auto& out = response.results.emplace_back();
    out.group_id = id;
    std::vector<KeyValue> tombstones;
    {
      std::lock_guard lock(mu_);
      out.error_code = group_error_locked(id);
      if (out.error_code != ErrorCode::kNone) continue;
      Group* group = find_locked(id);
      if (group == nullptr) {
        out.error_code = ErrorCode::kGroupIdNotFound;
        continue;
      }
      if (!group->members.empty()) {
        out.error_code = ErrorCode::kGroupNotEmpty;
        continue;
      }
      for (const auto& [member_key, offsets] : group->offsets) {
        for (const auto& [tp, committed] : offsets) {
          OffsetsKey key{
              .group = id, .member_key = member_key, .topic = tp.first, .partition = tp.second};
          tombstones.emplace_back(encode_key(key), std::nullopt);
        }
      }
      tombstones.emplace_back(encode_key({.type = OffsetsRecordType::kGroup, .group = id}),
                              std::nullopt);
    }
    int32_t partition = partition_for(id);
    std::lock_guard write_lock(*partition_mu_[partition]);
    Status written = append_records(partition, tombstones, GroupStorage::Durability::kReplicated);
    if (!written.is_ok()) {
      out.error_code = written.code() == ErrorCode::kNotCoordinator
                           ? ErrorCode::kNotCoordinator
                           : ErrorCode::kCoordinatorNotAvailable;
      continue;
    }
    std::lock_guard lock(mu_);
    Group* group = find_locked(id);
    // A member may have joined meanwhile: then only the offsets went.
    if (group != nullptr && group->members.empty()) {
      groups_.erase(id);
    } else if (group != nullptr) {
      group->offsets.clear();
    }
    spdlog::info("group {} deleted", id);
  }
  return response;
}

std::set<std::string> GroupCoordinator::subscribed_topics_locked(const Group& group) const {
  std::set<std::string> topics;
  for (const auto& [id, member] : group.members) {
    for (const auto& p : member.protocols) {
      if (p.name != group.protocol_name) continue;
      Result<ConsumerSubscription> s = decode_subscription(p.metadata);
      if (s.is_ok()) topics.insert(s->topics.begin(), s->topics.end());
    }
  }
  return topics;
}

OffsetDeleteResponse GroupCoordinator::delete_offsets(const OffsetDeleteRequest& request) {
  OffsetDeleteResponse response;
  std::vector<KeyValue> tombstones;
  std::vector<std::pair<std::string, TopicPartition>> deleted;
  {
    std::lock_guard lock(mu_);
    response.error_code = group_error_locked(request.group_id);
    if (response.error_code != ErrorCode::kNone) return response;
    Group* group = find_locked(request.group_id);
    if (group == nullptr) {
      response.error_code = ErrorCode::kGroupIdNotFound;
      return response;
    }
    std::set<std::string> subscribed = subscribed_topics_locked(*group);
    for (const auto& t : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (int32_t index : t.partition_indexes) {
        ErrorCode code =
            subscribed.count(t.name) ? ErrorCode::kGroupSubscribedToTopic : ErrorCode::kNone;
        out.partitions.push_back({index, code});
        if (code != ErrorCode::kNone) continue;
        for (const auto& [member_key, offsets] : group->offsets) {
          if (!offsets.count({t.name, index})) continue;
          OffsetsKey key{.group = request.group_id,
                         .member_key = member_key,
                         .topic = t.name,
                         .partition = index};
          tombstones.emplace_back(encode_key(key), std::nullopt);
          deleted.push_back({member_key, {t.name, index}});
        }
      }
    }
  }
  if (tombstones.empty()) return response;
  int32_t partition = partition_for(request.group_id);
  std::lock_guard write_lock(*partition_mu_[partition]);
  Status written = append_records(partition, tombstones, GroupStorage::Durability::kReplicated);
  if (!written.is_ok()) {
    response.error_code = written.code() == ErrorCode::kNotCoordinator
                              ? ErrorCode::kNotCoordinator
                              : ErrorCode::kCoordinatorNotAvailable;
    return response;
  }
  std::lock_guard lock(mu_);
  if (Group* group = find_locked(request.group_id)) {
    for (const auto& [member_key, tp] : deleted) group->offsets[member_key].erase(tp);
  }
  return response;
}

std::vector<GroupStats> GroupCoordinator::stats() const {
  std::vector<GroupStats> out;
  std::lock_guard lock(mu_);
  for (const auto& [id, group] : groups_) {
    if (group.state == State::kDead) continue;
    GroupStats s;
    s.group = id;
    s.state = std::string(state_name(group.state));
    s.members = static_cast<int32_t>(group.members.size());
    s.rebalances = group.rebalances;
    s.commits = group.commits;
    for (const auto& [member_key, offsets] : group.offsets) {
      for (const auto& [tp, committed] : offsets) {
        int64_t hw = storage_.high_watermark(tp.first, tp.second);
        s.lags.push_back({tp.first, tp.second, member_key, committed.offset,
                          hw < 0 ? -1 : std::max<int64_t>(0, hw - committed.offset)});
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace mq::group
