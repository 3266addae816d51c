// DeleteGroups: removes empty groups and their committed offsets; groups
// that other brokers coordinate answer NOT_COORDINATOR.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_admin.h"

namespace mq::broker::handlers {

using transport::DeleteGroupsRequest;
using transport::DeleteGroupsResponse;

void delete_groups(Call call) {
  serve_group<DeleteGroupsRequest>(call, [&call](Context&, group::GroupCoordinator& coordinator,
                                                 const DeleteGroupsRequest& request) {
    DeleteGroupsResponse response;
    response.results = per_group<DeleteGroupsResponse::Result>(
        call, transport::AclOperation::kDelete, request.groups_names,
        [&](std::vector<std::string> here) {
          DeleteGroupsRequest ask;
          ask.groups_names = std::move(here);
          return coordinator.delete_groups(ask).results;
        },
        [](const std::string& id, ErrorCode code) {
          return DeleteGroupsResponse::Result{id, code};
        });
    return response;
  });
}

}  // namespace mq::broker::handlers
