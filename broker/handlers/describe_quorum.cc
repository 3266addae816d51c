// DescribeQuorum: this node's view of the metadata quorum (leader, epoch,
// voter set); the members' progress only on the quorum leader. Answered
// before a starting broker has caught up: it needs no metadata image.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void describe_quorum(Call call) {
  serve<transport::DescribeQuorumRequest>(
      call, [](Context& ctx, const transport::DescribeQuorumRequest&) {
        return ctx.cluster->describe_quorum();
      });
}

}  // namespace mq::broker::handlers
