// TEST FIXTURE, not a coordinator: the group APIs of FakeBroker, enough of
// docs/protocol.md §15 for the client's tests. One node coordinates every
// group. JoinGroup: a first join gets MEMBER_ID_REQUIRED; joins are held
// until every known member rejoined (or the rebalance timeout passed, or at
// most 2 s), then answered together with a new generation. Assignment is
// round-robin over members sorted by id ("broadcast": every partition to
// every member), whatever assignor was chosen: the client does not care how
// partitions were dealt. Heartbeat, SyncGroup and OffsetCommit check
// generation and member id; silent members expire after their session
// timeout. Tests can force a rebalance, fail the next requests of an API,
// and read or seed committed offsets.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "transport/consumer_protocol.h"
#include "transport/listener.h"
#include "transport/messages.h"

namespace mq::client::testing {

class FakeGroupCoordinator {
 public:
  using Clock = std::chrono::steady_clock;
  // Partition count of a topic (0 = no such topic); called on the serving thread.
  using PartitionCount = std::function<int32_t(const std::string&)>;

  FakeGroupCoordinator(transport::Listener* listener, PartitionCount partition_count)
      : listener_(listener), partition_count_(std::move(partition_count)) {}

  void set_endpoint(const std::string& host, int32_t port) {
    host_ = host;
    port_ = port;
  }

  static bool is_group_api(transport::ApiKey key) {
    int16_t k = static_cast<int16_t>(key);
    return k >= 40 && k <= 50;
  }

  // --- test hooks (any thread) ---

  // Every member's next Heartbeat gets REBALANCE_IN_PROGRESS and must rejoin.
  void force_rebalance(const std::string& group_id) {
    std::lock_guard lock(mu_);
    Group& group = groups_[group_id];
    if (!group.members.empty()) start_rebalance(group);
  }
  // The next `n` requests of `key` are answered with `code` (in the
  // response's error field, or every partition's for OffsetCommit).
  void fail_next(transport::ApiKey key, int n, ErrorCode code) {
    std::lock_guard lock(mu_);
    failures_[key] = {n, code};
  }
  int requests(transport::ApiKey key) {
    std::lock_guard lock(mu_);
    return counts_[key];
  }
  std::optional<int64_t> committed(const std::string& group_id, const std::string& topic,
                                   int32_t partition, const std::string& owner = "") {
    std::lock_guard lock(mu_);
    auto& offsets = groups_[group_id].offsets[owner];
    auto it = offsets.find({topic, partition});
    if (it == offsets.end()) return std::nullopt;
    return it->second;
  }
  void set_committed(const std::string& group_id, const std::string& topic, int32_t partition,
                     int64_t offset) {
    std::lock_guard lock(mu_);
    groups_[group_id].offsets[""][{topic, partition}] = offset;
  }
  int32_t generation(const std::string& group_id) {
    std::lock_guard lock(mu_);
    return groups_[group_id].generation;
  }
  size_t member_count(const std::string& group_id) {
    std::lock_guard lock(mu_);
    return groups_[group_id].members.size();
  }
  std::string state(const std::string& group_id) {
    std::lock_guard lock(mu_);
    return groups_[group_id].state;
  }

  // --- serving thread ---

  void handle(const transport::InboundRequest& request) {
    using namespace transport;
    std::lock_guard lock(mu_);
    ++counts_[request.header.api_key];
    switch (request.header.api_key) {
      case ApiKey::kFindCoordinator:
        return serve<FindCoordinatorRequest>(request, [&](const FindCoordinatorRequest&) {
          FindCoordinatorResponse response{.node_id = 1, .host = host_, .port = port_};
          response.error_code = injected(ApiKey::kFindCoordinator);
          return response;
        });
      case ApiKey::kJoinGroup:
        return join(request);
      case ApiKey::kSyncGroup:
        return serve<SyncGroupRequest>(request, [&](const SyncGroupRequest& r) { return sync(r); });
      case ApiKey::kHeartbeat:
        return serve<HeartbeatRequest>(request,
                                       [&](const HeartbeatRequest& r) { return heartbeat(r); });
      case ApiKey::kLeaveGroup:
        return serve<LeaveGroupRequest>(request,
                                        [&](const LeaveGroupRequest& r) { return leave(r); });
      case ApiKey::kOffsetCommit:
        return serve<OffsetCommitRequest>(request, [&](const OffsetCommitRequest& r) {
          return commit(r, request.header.client_id);
        });
      case ApiKey::kOffsetFetch:
        return serve<OffsetFetchRequest>(request,
                                         [&](const OffsetFetchRequest& r) { return fetch(r); });
      case ApiKey::kListGroups:
        return serve<ListGroupsRequest>(request, [&](const ListGroupsRequest&) {
          ListGroupsResponse response;
          for (const auto& [id, group] : groups_) {
            if (group.state == "Dead") continue;
            response.groups.push_back(
                {.group_id = id, .protocol_type = group.protocol_type, .group_state = group.state});
          }
          return response;
        });
      case ApiKey::kDescribeGroups:
        return serve<DescribeGroupsRequest>(
            request, [&](const DescribeGroupsRequest& r) { return describe(r); });
      case ApiKey::kDeleteGroups:
        return serve<DeleteGroupsRequest>(request, [&](const DeleteGroupsRequest& r) {
          DeleteGroupsResponse response;
          for (const std::string& id : r.groups_names) {
            auto it = groups_.find(id);
            ErrorCode code = it == groups_.end() || it->second.state == "Dead"
                                 ? ErrorCode::kGroupIdNotFound
                             : !it->second.members.empty() ? ErrorCode::kGroupNotEmpty
                                                           : ErrorCode::kNone;
            if (code == ErrorCode::kNone) groups_.erase(it);
            response.results.push_back({.group_id = id, .error_code = code});
          }
          return response;
        });
      case ApiKey::kOffsetDelete:
        return serve<OffsetDeleteRequest>(request, [&](const OffsetDeleteRequest& r) {
          OffsetDeleteResponse response;
          auto it = groups_.find(r.group_id);
          if (it == groups_.end()) {
            response.error_code = ErrorCode::kGroupIdNotFound;
            return response;
          }
          for (const auto& topic : r.topics) {
            auto& out = response.topics.emplace_back();
            out.name = topic.name;
            bool subscribed = std::ranges::any_of(it->second.members, [&](const auto& m) {
              return std::ranges::find(m.second.topics, topic.name) != m.second.topics.end();
            });
            for (int32_t p : topic.partition_indexes) {
              if (!subscribed) it->second.offsets[""].erase({topic.name, p});
              out.partitions.push_back({.partition_index = p,
                                        .error_code = subscribed
                                                          ? ErrorCode::kGroupSubscribedToTopic
                                                          : ErrorCode::kNone});
            }
          }
          return response;
        });
      default:
        (void)listener_->reply_error(request,
                                     Status(ErrorCode::kUnsupportedVersion, "not a group API"));
    }
  }

  // Answers held JoinGroups and expires silent members; called by the serving loop.
  void tick() {
    std::lock_guard lock(mu_);
    auto now = Clock::now();
    for (auto& [id, group] : groups_) {
      for (auto it = group.members.begin(); it != group.members.end();) {
        Member& m = it->second;
        bool expired = !m.parked && now - m.last_heard > std::chrono::milliseconds(m.session_ms);
        if (!expired) {
          ++it;
          continue;
        }
        it = group.members.erase(it);
        if (group.members.empty()) {
          group.state = "Empty";
        } else {
          start_rebalance(group);
        }
      }
      if (group.state == "PreparingRebalance") maybe_complete_join(group, now);
    }
  }

 private:
  struct Member {
    std::string client_id;
    std::optional<std::string> instance_id;
    int32_t session_ms = 10'000;
    int32_t rebalance_ms = 10'000;
    std::vector<std::string> protocols;
    transport::Bytes subscription;
    std::vector<std::string> topics;
    std::optional<transport::InboundRequest> parked;  // its held JoinGroup
    std::vector<transport::TopicPartitions> assignment;
    Clock::time_point last_heard;
  };
  struct Group {
    std::string state = "Empty";
    std::string protocol_type;
    std::string protocol_name;
    int32_t generation = 0;
    std::map<std::string, Member> members;
    Clock::time_point rebalance_started;
    // Committed offsets per owner: "" for the group, a member's key for broadcast.
    std::map<std::string, std::map<std::pair<std::string, int32_t>, int64_t>> offsets;
  };

  template <class Request, class Handler>
  void serve(const transport::InboundRequest& request, Handler&& handler) {
    Result<Request> decoded = transport::decode_request<Request>(request);
    if (!decoded.is_ok()) {
      (void)listener_->reply_error(request, decoded.status());
      return;
    }
    (void)listener_->reply(request, handler(*decoded));
  }

  ErrorCode injected(transport::ApiKey key) {
    auto it = failures_.find(key);
    if (it == failures_.end() || it->second.first <= 0) return ErrorCode::kNone;
    --it->second.first;
    return it->second.second;
  }

  void start_rebalance(Group& group) {
    if (group.state != "PreparingRebalance") group.rebalance_started = Clock::now();
    group.state = "PreparingRebalance";
  }

  void join(const transport::InboundRequest& request) {
    using namespace transport;
    Result<JoinGroupRequest> decoded = decode_request<JoinGroupRequest>(request);
    if (!decoded.is_ok()) {
      (void)listener_->reply_error(request, decoded.status());
      return;
    }
    const JoinGroupRequest& r = *decoded;
    if (ErrorCode code = injected(ApiKey::kJoinGroup); code != ErrorCode::kNone) {
      (void)listener_->reply(request, JoinGroupResponse{.error_code = code});
      return;
    }
    Group& group = groups_[r.group_id];
    if (r.member_id.empty()) {
      std::string id = request.header.client_id + "-" + std::to_string(next_member_++);
      pending_ids_.insert(id);
      (void)listener_->reply(
          request, JoinGroupResponse{.error_code = ErrorCode::kMemberIdRequired, .member_id = id});
      return;
    }
    if (!group.members.contains(r.member_id) && !pending_ids_.contains(r.member_id)) {
      (void)listener_->reply(request, JoinGroupResponse{.error_code = ErrorCode::kUnknownMemberId});
      return;
    }
    pending_ids_.erase(r.member_id);
    Member& m = group.members[r.member_id];
    m.client_id = request.header.client_id;
    m.instance_id = r.group_instance_id;
    m.session_ms = r.session_timeout_ms;
    m.rebalance_ms = r.rebalance_timeout_ms;
    m.protocols.clear();
    for (const auto& p : r.protocols) m.protocols.push_back(p.name);
    if (!r.protocols.empty()) {
      m.subscription = r.protocols.front().metadata;
      Result<ConsumerSubscription> subscription = decode_subscription(m.subscription);
      if (subscription.is_ok()) m.topics = subscription->topics;
    }
    m.parked = request;
    m.last_heard = Clock::now();
    group.protocol_type = r.protocol_type;
    start_rebalance(group);
    maybe_complete_join(group, Clock::now());
  }

  void maybe_complete_join(Group& group, Clock::time_point now) {
    bool all_joined = std::ranges::all_of(
        group.members, [](const auto& m) { return m.second.parked.has_value(); });
    int32_t timeout_ms = 0;
    for (const auto& [id, m] : group.members) timeout_ms = std::max(timeout_ms, m.rebalance_ms);
    bool timed_out =
        now - group.rebalance_started > std::chrono::milliseconds(std::min(timeout_ms, 2'000));
    if (!all_joined && !timed_out) return;
    std::erase_if(group.members, [](const auto& m) { return !m.second.parked.has_value(); });
    if (group.members.empty()) {
      group.state = "Empty";
      return;
    }
    ++group.generation;
    // The first protocol of the first member that every member lists.
    group.protocol_name.clear();
    for (const std::string& name : group.members.begin()->second.protocols) {
      bool everyone = std::ranges::all_of(group.members, [&](const auto& m) {
        return std::ranges::find(m.second.protocols, name) != m.second.protocols.end();
      });
      if (everyone) {
        group.protocol_name = name;
        break;
      }
    }
    assign(group);
    std::string leader = group.members.begin()->first;
    for (auto& [id, m] : group.members) {
      transport::JoinGroupResponse response{.generation_id = group.generation,
                                            .protocol_type = group.protocol_type,
                                            .protocol_name = group.protocol_name,
                                            .leader = leader,
                                            .member_id = id};
      if (group.protocol_name.empty()) response.error_code = ErrorCode::kInconsistentGroupProtocol;
      if (id == leader) {
        for (const auto& [other_id, other] : group.members) {
          response.members.push_back({.member_id = other_id, .metadata = other.subscription});
        }
      }
      (void)listener_->reply(*m.parked, response);
      m.parked.reset();
      m.last_heard = now;
    }
    group.state = "CompletingRebalance";
  }

  void assign(Group& group) {
    bool broadcast = group.protocol_name == transport::kAssignorBroadcast;
    std::map<std::string, std::map<std::string, std::vector<int32_t>>> dealt;
    std::set<std::string> topics;
    for (const auto& [id, m] : group.members) topics.insert(m.topics.begin(), m.topics.end());
    size_t turn = 0;
    for (const std::string& topic : topics) {
      int32_t count = partition_count_(topic);
      for (int32_t p = 0; p < count; ++p) {
        std::vector<std::string> eligible;
        for (const auto& [id, m] : group.members) {
          if (std::ranges::find(m.topics, topic) != m.topics.end()) eligible.push_back(id);
        }
        if (broadcast) {
          for (const std::string& id : eligible) dealt[id][topic].push_back(p);
        } else {
          dealt[eligible[turn++ % eligible.size()]][topic].push_back(p);
        }
      }
    }
    for (auto& [id, m] : group.members) {
      m.assignment.clear();
      for (auto& [topic, partitions] : dealt[id]) m.assignment.push_back({topic, partitions});
    }
  }

  // Checks generation and member; kNone if the member may act.
  ErrorCode check_member(Group& group, const std::string& member_id, int32_t generation) {
    auto it = group.members.find(member_id);
    if (it == group.members.end()) return ErrorCode::kUnknownMemberId;
    if (generation != group.generation) return ErrorCode::kIllegalGeneration;
    it->second.last_heard = Clock::now();
    return ErrorCode::kNone;
  }

  transport::SyncGroupResponse sync(const transport::SyncGroupRequest& r) {
    transport::SyncGroupResponse response;
    if ((response.error_code = injected(transport::ApiKey::kSyncGroup)) != ErrorCode::kNone) {
      return response;
    }
    Group& group = groups_[r.group_id];
    response.error_code = check_member(group, r.member_id, r.generation_id);
    if (response.error_code == ErrorCode::kNone && group.state == "PreparingRebalance") {
      response.error_code = ErrorCode::kRebalanceInProgress;
    }
    if (response.error_code != ErrorCode::kNone) return response;
    Member& m = group.members.at(r.member_id);
    response.protocol_type = group.protocol_type;
    response.protocol_name = group.protocol_name;
    response.assignment = transport::encode_assignment({.partitions = m.assignment});
    group.state = "Stable";
    return response;
  }

  transport::HeartbeatResponse heartbeat(const transport::HeartbeatRequest& r) {
    transport::HeartbeatResponse response;
    if ((response.error_code = injected(transport::ApiKey::kHeartbeat)) != ErrorCode::kNone) {
      return response;
    }
    Group& group = groups_[r.group_id];
    response.error_code = check_member(group, r.member_id, r.generation_id);
    if (response.error_code == ErrorCode::kNone && group.state == "PreparingRebalance") {
      response.error_code = ErrorCode::kRebalanceInProgress;
    }
    return response;
  }

  transport::LeaveGroupResponse leave(const transport::LeaveGroupRequest& r) {
    transport::LeaveGroupResponse response;
    Group& group = groups_[r.group_id];
    for (const auto& member : r.members) {
      bool found = group.members.erase(member.member_id) > 0;
      response.members.push_back(
          {.member_id = member.member_id,
           .group_instance_id = member.group_instance_id,
           .error_code = found ? ErrorCode::kNone : ErrorCode::kUnknownMemberId});
    }
    if (group.members.empty()) {
      group.state = "Empty";
    } else {
      start_rebalance(group);
    }
    return response;
  }

  transport::OffsetCommitResponse commit(const transport::OffsetCommitRequest& r,
                                         const std::string& client_id) {
    transport::OffsetCommitResponse response;
    ErrorCode code = injected(transport::ApiKey::kOffsetCommit);
    Group& group = groups_[r.group_id];
    std::string owner;
    if (code == ErrorCode::kNone) {
      if (r.generation_id == -1 && r.member_id.empty()) {
        if (!group.members.empty()) code = ErrorCode::kGroupNotEmpty;
      } else {
        code = check_member(group, r.member_id, r.generation_id);
        if (code == ErrorCode::kNone && group.state == "CompletingRebalance") {
          code = ErrorCode::kRebalanceInProgress;
        }
        if (code == ErrorCode::kNone && group.protocol_name == transport::kAssignorBroadcast) {
          owner = r.group_instance_id.value_or(client_id);
        }
      }
    }
    for (const auto& topic : r.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const auto& p : topic.partitions) {
        ErrorCode result = code;
        if (result == ErrorCode::kNone && p.partition_index >= partition_count_(topic.name)) {
          result = ErrorCode::kUnknownTopicOrPartition;
        }
        out.partitions.push_back({.partition_index = p.partition_index, .error_code = result});
      }
    }
    // All or nothing, as one record batch on the real broker.
    bool all_ok = std::ranges::all_of(response.topics, [](const auto& t) {
      return std::ranges::all_of(t.partitions,
                                 [](const auto& p) { return p.error_code == ErrorCode::kNone; });
    });
    if (all_ok) {
      for (const auto& topic : r.topics) {
        for (const auto& p : topic.partitions) {
          group.offsets[owner][{topic.name, p.partition_index}] = p.committed_offset;
        }
      }
    }
    return response;
  }

  transport::OffsetFetchResponse fetch(const transport::OffsetFetchRequest& r) {
    transport::OffsetFetchResponse response;
    if ((response.error_code = injected(transport::ApiKey::kOffsetFetch)) != ErrorCode::kNone) {
      return response;
    }
    Group& group = groups_[r.group_id];
    std::string owner;
    if (!r.member_id.empty()) {
      auto it = group.members.find(r.member_id);
      if (it != group.members.end()) owner = it->second.instance_id.value_or(it->second.client_id);
    }
    const auto& offsets = group.offsets[owner];
    if (!r.topics) {
      for (const auto& [tp, offset] : offsets) {
        if (response.topics.empty() || response.topics.back().name != tp.first) {
          response.topics.push_back({.name = tp.first});
        }
        response.topics.back().partitions.push_back(
            {.partition_index = tp.second, .committed_offset = offset});
      }
      return response;
    }
    for (const auto& topic : *r.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name;
      for (int32_t p : topic.partition_indexes) {
        auto it = offsets.find({topic.name, p});
        out.partitions.push_back(
            {.partition_index = p, .committed_offset = it == offsets.end() ? -1 : it->second});
      }
    }
    return response;
  }

  transport::DescribeGroupsResponse describe(const transport::DescribeGroupsRequest& r) {
    transport::DescribeGroupsResponse response;
    for (const std::string& id : r.groups) {
      auto& out = response.groups.emplace_back();
      out.group_id = id;
      auto it = groups_.find(id);
      if (it == groups_.end()) {
        out.group_state = "Dead";
        continue;
      }
      const Group& group = it->second;
      out.group_state = group.state;
      out.protocol_type = group.protocol_type;
      out.protocol_data = group.protocol_name;
      for (const auto& [member_id, m] : group.members) {
        out.members.push_back(
            {.member_id = member_id,
             .group_instance_id = m.instance_id,
             .client_id = m.client_id,
             .client_host = "127.0.0.1",
             .member_metadata = m.subscription,
             .member_assignment = transport::encode_assignment({.partitions = m.assignment})});
      }
    }
    return response;
  }

  transport::Listener* listener_;
  PartitionCount partition_count_;
  std::string host_ = "127.0.0.1";
  int32_t port_ = 0;

  std::mutex mu_;
  std::map<std::string, Group> groups_;
  std::set<std::string> pending_ids_;  // handed out with MEMBER_ID_REQUIRED, not yet joined
  int next_member_ = 1;
  std::map<transport::ApiKey, std::pair<int, ErrorCode>> failures_;
  std::map<transport::ApiKey, int> counts_;
};

}  // namespace mq::client::testing
