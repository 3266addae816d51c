// ListPartitionReassignments: the partitions being moved, from this broker's
// metadata image.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void list_partition_reassignments(Call call) {
  serve<transport::ListPartitionReassignmentsRequest>(
      call, [](Context& ctx, const transport::ListPartitionReassignmentsRequest& r) {
        return ctx.cluster->list_reassignments(r);
      });
}

}  // namespace mq::broker::handlers
