// Finding a consumer group's coordinator (docs/protocol.md §15.1), shared by
// the consumer and the admin client; internal to client/.
#pragma once

#include <string>

#include "base/status.h"
#include "client/metadata.h"
#include "transport/group_offsets.h"

namespace mq::client {

class Cluster;

// Asks any broker (FindCoordinator) which one coordinates `group_id`. The
// error of the response, if any, is the Status: NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE and COORDINATOR_LOAD_IN_PROGRESS are worth
// asking again after a short wait (is_coordinator_error).
Result<BrokerInfo> find_coordinator(Cluster& cluster, const std::string& group_id);

// The errors that mean "find the coordinator again, or wait for it, then retry".
bool is_coordinator_error(ErrorCode code);

// Errors that end a member's generation: it must give up its partitions and rejoin.
bool is_fencing_error(ErrorCode code);

// The first coordinator error of an OffsetCommit answer, which has no
// top-level error code (NOT_COORDINATOR comes per partition); kNone if none.
ErrorCode commit_coordinator_error(const transport::OffsetCommitResponse& response);

}  // namespace mq::client
