// LeaveGroup: a member leaves at once instead of timing out; the group
// rebalances.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_membership.h"

namespace mq::broker::handlers {

void leave_group(Call call) {
  serve_group<transport::LeaveGroupRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.leave(r); });
}

}  // namespace mq::broker::handlers
