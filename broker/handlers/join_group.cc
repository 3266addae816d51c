// JoinGroup: a member joins (or rejoins) a group; answered when the group's
// join phase ends, which may be seconds later (rebalance timeout).
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_membership.h"

namespace mq::broker::handlers {

void join_group(Call call) {
  std::optional<transport::JoinGroupRequest> join =
      decode_or_refuse<transport::JoinGroupRequest>(call);
  if (!join) return;
  if (!group_authorized(call, transport::AclOperation::kRead, join->group_id)) {
    return answer(call, refused(*join, ErrorCode::kGroupAuthorizationFailed));
  }
  ErrorCode error = call.ctx.coordinator_error(join->group_id);
  if (error != ErrorCode::kNone) return answer(call, refused(*join, error));
  // DescribeGroups reports the member's client id and address.
  call.ctx.coordinator->join(
      *join, call.request.header.client_id, call.request.peer_address,
      [reply = std::move(call.reply), header = call.request.header](
          transport::JoinGroupResponse response) { reply(encode(header, response)); });
}

}  // namespace mq::broker::handlers
