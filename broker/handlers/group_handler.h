// How a group request is refused when this broker does not coordinate its
// group; shared by the group handlers.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "broker/handlers/handler.h"
#include "group/coordinator.h"
#include "transport/group_admin.h"
#include "transport/group_membership.h"
#include "transport/group_offsets.h"

namespace mq::broker::handlers {

// The group a request concerns, "" for requests that span groups.
template <class Request>
const std::string& group_of(const Request& request) {
  if constexpr (requires { request.group_id; }) {
    return request.group_id;
  } else {
    static const std::string none;
    return none;
  }
}

// The response a group request gets when this broker cannot answer it:
// `code` in every per-group or per-partition result it would have had.
template <class Request>
typename Request::Response refused(const Request& request, ErrorCode code) {
  typename Request::Response response;
  if constexpr (std::is_same_v<Request, transport::OffsetCommitRequest>) {
    for (const auto& t : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (const auto& p : t.partitions) out.partitions.push_back({p.partition_index, code});
    }
  } else if constexpr (std::is_same_v<Request, transport::DescribeGroupsRequest>) {
    for (const auto& id : request.groups) {
      auto& out = response.groups.emplace_back();
      out.group_id = id;
      out.error_code = code;
    }
  } else if constexpr (std::is_same_v<Request, transport::DeleteGroupsRequest>) {
    for (const auto& id : request.groups_names) response.results.push_back({id, code});
  } else {
    response.error_code = code;
  }
  return response;
}

// What a request about one group needs on it: OffsetFetch describe,
// OffsetDelete delete, the others (joining, syncing, committing) read.
template <class Request>
constexpr transport::AclOperation group_operation() {
  if constexpr (std::is_same_v<Request, transport::OffsetFetchRequest>) {
    return transport::AclOperation::kDescribe;
  } else if constexpr (std::is_same_v<Request, transport::OffsetDeleteRequest>) {
    return transport::AclOperation::kDelete;
  } else {
    return transport::AclOperation::kRead;
  }
}

// The partitions a request names of one of its topics.
template <class Topic>
std::vector<int32_t> partitions_of(const Topic& topic) {
  std::vector<int32_t> indexes;
  if constexpr (requires { topic.partition_indexes; }) {
    indexes = topic.partition_indexes;
  } else {
    for (const auto& p : topic.partitions) indexes.push_back(p.partition_index);
  }
  return indexes;
}

// The topics an offset request names (OffsetFetch's: when not null).
template <class Request>
auto& named_topics(Request& request) {
  if constexpr (std::is_same_v<std::remove_const_t<Request>, transport::OffsetFetchRequest>) {
    return *request.topics;
  } else {
    return request.topics;
  }
}

// The offset requests name topics: those the principal may not read
// (OffsetCommit, OffsetDelete) or describe (OffsetFetch) are answered
// TOPIC_AUTHORIZATION_FAILED per partition and the rest go to `ask`.
template <class Request, class Ask>
typename Request::Response with_topic_access(const Call& call, const Request& request, Ask ask) {
  constexpr bool kFetch = std::is_same_v<Request, transport::OffsetFetchRequest>;
  constexpr transport::AclOperation op =
      kFetch ? transport::AclOperation::kDescribe : transport::AclOperation::kRead;
  if constexpr (kFetch) {
    if (!request.topics) {
      // Every committed offset: only of the topics it may describe.
      typename Request::Response response = ask(request);
      std::erase_if(response.topics, [&](const auto& t) {
        return !visible(call, op, transport::AclResourceType::kTopic, t.name);
      });
      return response;
    }
  }
  Request allowed = request;
  auto& kept = named_topics(allowed);
  kept.clear();
  std::vector<const typename std::remove_reference_t<decltype(kept)>::value_type*> denied;
  for (const auto& topic : named_topics(request)) {
    if (topic_authorized(call, op, topic.name)) {
      kept.push_back(topic);
    } else {
      denied.push_back(&topic);
    }
  }
  typename Request::Response response = ask(allowed);
  for (const auto* topic : denied) {
    auto& out = response.topics.emplace_back();
    out.name = topic->name;
    for (int32_t index : partitions_of(*topic)) {
      auto& p = out.partitions.emplace_back();
      p.partition_index = index;
      p.error_code = ErrorCode::kTopicAuthorizationFailed;
    }
  }
  return response;
}

// Answers a group request: GROUP_AUTHORIZATION_FAILED when the principal
// may not (group_operation), NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE
// unless this broker coordinates its group, else `fn(ctx, coordinator,
// request)` (for the offset requests, with the topics it may not touch
// answered apart).
template <class Request, class Fn>
void serve_group(Call& call, Fn fn) {
  serve<Request>(call, [&](Context& ctx, const Request& request) {
    if constexpr (requires { request.group_id; }) {
      if (!group_authorized(call, group_operation<Request>(), request.group_id)) {
        return refused(request, ErrorCode::kGroupAuthorizationFailed);
      }
    }
    ErrorCode error = ctx.coordinator_error(group_of(request));
    if (error != ErrorCode::kNone) return refused(request, error);
    if constexpr (std::is_same_v<Request, transport::OffsetCommitRequest> ||
                  std::is_same_v<Request, transport::OffsetFetchRequest> ||
                  std::is_same_v<Request, transport::OffsetDeleteRequest>) {
      if (ctx.authorizer != nullptr) {
        return with_topic_access(call, request, [&](const Request& allowed) {
          return fn(ctx, *ctx.coordinator, allowed);
        });
      }
    }
    return fn(ctx, *ctx.coordinator, request);
  });
}

// A request about several groups, which different brokers may coordinate:
// those coordinated here go to `ask(ids)` in one call, the others are
// answered `refuse(id, code)` (NOT_COORDINATOR, or why this broker cannot
// coordinate); the results keep the request's order.
// Groups the principal may not `op` are answered GROUP_AUTHORIZATION_FAILED.
template <class Out, class Ask, class Refuse>
std::vector<Out> per_group(const Call& call, transport::AclOperation op,
                           const std::vector<std::string>& ids, Ask ask, Refuse refuse) {
  Context& ctx = call.ctx;
  std::vector<bool> allowed;
  allowed.reserve(ids.size());
  std::vector<std::string> here;
  for (const auto& id : ids) {
    allowed.push_back(group_authorized(call, op, id));
    if (allowed.back() && ctx.coordinator_error(id) == ErrorCode::kNone) here.push_back(id);
  }
  std::vector<Out> answered = ask(std::move(here));
  std::vector<Out> results;
  results.reserve(ids.size());
  size_t next = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    if (!allowed[i]) {
      results.push_back(refuse(id, ErrorCode::kGroupAuthorizationFailed));
      continue;
    }
    ErrorCode error = ctx.coordinator_error(id);
    if (error == ErrorCode::kNone && next < answered.size()) {
      results.push_back(std::move(answered[next++]));
    } else {
      results.push_back(refuse(id, error == ErrorCode::kNone ? ErrorCode::kNotCoordinator : error));
    }
  }
  return results;
}

}  // namespace mq::broker::handlers
