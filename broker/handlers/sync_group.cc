// SyncGroup: the group leader hands out the assignment; every member gets its
// own once the leader's arrives.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_membership.h"

namespace mq::broker::handlers {

void sync_group(Call call) {
  serve_group<transport::SyncGroupRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.sync(r); });
}

}  // namespace mq::broker::handlers
