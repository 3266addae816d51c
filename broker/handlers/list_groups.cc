// ListGroups: the groups this broker coordinates, with their states.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_admin.h"

namespace mq::broker::handlers {

void list_groups(Call call) {
  serve_group<transport::ListGroupsRequest>(
      call, [](Context&, group::GroupCoordinator& c, const auto& r) { return c.list(r); });
}

}  // namespace mq::broker::handlers
