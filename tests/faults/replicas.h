// Reading a stopped node's replica of a partition from its data directory
// (the store's own reader, recovery included): the checker compares every
// in-sync replica with the log the clients read (docs/faults.md, "What the
// checker finds", replicas).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tests/faults/history.h"

namespace mq::faults {

// Every record of the log in `dir` (a partition's directory), in offset
// order, as reads of `partition`.
Result<std::vector<Read>> read_replica(const std::string& dir, int32_t partition);

}  // namespace mq::faults
