// AlterPartitionReassignments: starts or cancels moving partitions to new
// replica sets, through the active controller.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void alter_partition_reassignments(Call call) {
  serve<transport::AlterPartitionReassignmentsRequest>(
      call, [](Context& ctx, const transport::AlterPartitionReassignmentsRequest& r) {
        return ctx.cluster->alter_reassignments(r);
      });
}

}  // namespace mq::broker::handlers
