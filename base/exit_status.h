// mqd's exit statuses that say more than failure, for supervisors (systemd
// restarts on any failure) and the tests that play one.
#pragma once

namespace mq {

// mqd stopped itself to repair a replica: a read found a batch failing its
// CRC while another in-sync replica holds the partition. The next start cuts
// the damaged log and fetches the rest (docs/runbooks.md, "mqd exited with
// status 75").
inline constexpr int kExitRepairReplica = 75;

}  // namespace mq
