// DescribeCluster: every registered broker with its fencing state, from this
// broker's metadata image.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void describe_cluster(Call call) {
  serve<transport::DescribeClusterRequest>(
      call, [](Context& ctx, const transport::DescribeClusterRequest&) {
        return ctx.cluster->describe_cluster();
      });
}

}  // namespace mq::broker::handlers
