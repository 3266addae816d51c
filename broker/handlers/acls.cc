// DescribeAcls, CreateAcls, DeleteAcls: the ACLs in the metadata, read from
// this broker's image and changed through the active controller
// (ClusterView). The table requires describe or alter on the cluster.
#include "transport/acls.h"

#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"

namespace mq::broker::handlers {

using namespace mq::transport;

void describe_acls(Call call) {
  serve<DescribeAclsRequest>(call, [](Context& ctx, const DescribeAclsRequest& r) {
    return ctx.cluster->describe_acls(r);
  });
}

void create_acls(Call call) {
  serve<CreateAclsRequest>(
      call, [](Context& ctx, const CreateAclsRequest& r) { return ctx.cluster->create_acls(r); });
}

void delete_acls(Call call) {
  serve<DeleteAclsRequest>(
      call, [](Context& ctx, const DeleteAclsRequest& r) { return ctx.cluster->delete_acls(r); });
}

}  // namespace mq::broker::handlers
