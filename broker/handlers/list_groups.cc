// ListGroups: the groups this broker coordinates, with their states.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_admin.h"

namespace mq::broker::handlers {

void list_groups(Call call) {
  serve_group<transport::ListGroupsRequest>(
      call, [&call](Context&, group::GroupCoordinator& c, const auto& r) {
        auto response = c.list(r);
        // Only the groups it may describe, unless it may describe the cluster.
        if (call.ctx.authorizer != nullptr &&
            !visible(call, transport::AclOperation::kDescribe, transport::AclResourceType::kCluster,
                     transport::kClusterResourceName)) {
          std::erase_if(response.groups, [&](const auto& g) {
            return !visible(call, transport::AclOperation::kDescribe,
                            transport::AclResourceType::kGroup, g.group_id);
          });
        }
        return response;
      });
}

}  // namespace mq::broker::handlers
