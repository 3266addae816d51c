// Metadata: brokers, topics and partition leaders from this broker's metadata
// image (ClusterNode::metadata); auto-creates the named topics when asked and
// topics.auto_create allows it.
#include "transport/metadata.h"

#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"

namespace mq::broker::handlers {

void metadata(Call call) {
  serve<transport::MetadataRequest>(call, [](Context& ctx, const transport::MetadataRequest& r) {
    return ctx.cluster->metadata(r);
  });
}

}  // namespace mq::broker::handlers
