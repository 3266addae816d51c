// ElectLeaders: preferred or unclean leader elections by the active
// controller; answered once the new leaders are in every live broker's image.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void elect_leaders(Call call) {
  serve<transport::ElectLeadersRequest>(call,
                                        [](Context& ctx, const transport::ElectLeadersRequest& r) {
                                          return ctx.cluster->elect_leaders(r);
                                        });
}

}  // namespace mq::broker::handlers
