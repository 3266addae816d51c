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

// Answers a group request: NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE
// unless this broker coordinates its group, else `fn(ctx, coordinator,
// request)`.
template <class Request, class Fn>
void serve_group(Call& call, Fn fn) {
  serve<Request>(call, [&](Context& ctx, const Request& request) {
    ErrorCode error = ctx.coordinator_error(group_of(request));
    if (error != ErrorCode::kNone) return refused(request, error);
    return fn(ctx, *ctx.coordinator, request);
  });
}

// A request about several groups, which different brokers may coordinate:
// those coordinated here go to `ask(ids)` in one call, the others are
// answered `refuse(id, code)` (NOT_COORDINATOR, or why this broker cannot
// coordinate); the results keep the request's order.
template <class Out, class Ask, class Refuse>
std::vector<Out> per_group(Context& ctx, const std::vector<std::string>& ids, Ask ask,
                           Refuse refuse) {
  std::vector<std::string> here;
  for (const auto& id : ids) {
    if (ctx.coordinator_error(id) == ErrorCode::kNone) here.push_back(id);
  }
  std::vector<Out> answered = ask(std::move(here));
  std::vector<Out> results;
  results.reserve(ids.size());
  size_t next = 0;
  for (const auto& id : ids) {
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
