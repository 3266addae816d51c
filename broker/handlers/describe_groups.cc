// DescribeGroups: state, protocol and members of several groups, which
// different brokers may coordinate.
#include "broker/handlers/group_handler.h"
#include "broker/handlers/handlers.h"
#include "transport/group_admin.h"

namespace mq::broker::handlers {

using transport::DescribeGroupsRequest;
using transport::DescribeGroupsResponse;

void describe_groups(Call call) {
  serve_group<DescribeGroupsRequest>(call, [&call](Context&, group::GroupCoordinator& coordinator,
                                                   const DescribeGroupsRequest& request) {
    DescribeGroupsResponse response;
    response.groups = per_group<DescribeGroupsResponse::Group>(
        call, transport::AclOperation::kDescribe, request.groups,
        [&](std::vector<std::string> here) {
          DescribeGroupsRequest ask;
          ask.groups = std::move(here);
          return coordinator.describe(ask).groups;
        },
        [](const std::string& id, ErrorCode code) {
          DescribeGroupsResponse::Group refused;
          refused.group_id = id;
          refused.error_code = code;
          return refused;
        });
    return response;
  });
}

}  // namespace mq::broker::handlers
