// Heartbeat: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
// rejoin.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_membership.h"

namespace mq::broker::handlers {

void heartbeat(Call call) {
  serve_group<transport::HeartbeatRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.heartbeat(r); });
}

}  // namespace mq::broker::handlers
