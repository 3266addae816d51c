// UnregisterBroker: removes a retired broker's registration (refused while it
// runs, votes or holds replicas); answered once no live broker lists it.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void unregister_broker(Call call) {
  serve<transport::UnregisterBrokerRequest>(
      call, [](Context& ctx, const transport::UnregisterBrokerRequest& r) {
        return ctx.cluster->unregister_broker(r);
      });
}

}  // namespace mq::broker::handlers
