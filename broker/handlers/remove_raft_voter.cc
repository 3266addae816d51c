// RemoveRaftVoter: demotes a voter through the active controller; answered
// once the new voter set is committed.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "transport/cluster_admin.h"

namespace mq::broker::handlers {

void remove_raft_voter(Call call) {
  serve<transport::RemoveRaftVoterRequest>(
      call, [](Context& ctx, const transport::RemoveRaftVoterRequest& r) {
        return ctx.cluster->remove_raft_voter(r);
      });
}

}  // namespace mq::broker::handlers
