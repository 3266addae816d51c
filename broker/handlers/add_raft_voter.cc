// AddRaftVoter: promotes a caught-up observer to voter through the active
// controller; answered once the new voter set is committed.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void add_raft_voter(Call call) {
  serve<transport::AddRaftVoterRequest>(call,
                                        [](Context& ctx, const transport::AddRaftVoterRequest& r) {
                                          return ctx.cluster->add_raft_voter(r);
                                        });
}

}  // namespace mq::broker::handlers
