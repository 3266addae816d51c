// Converting a data directory of the old single-node broker, whose topics
// lived in topics.checkpoint, into one a cluster of one voter starts from:
// the same topics, configs, producer ids and cluster id, as a metadata
// snapshot in __quorum/. The partition logs (and the groups' offsets in
// __consumer_offsets) stay where they are and are opened as replicas.
#pragma once

#include <string>

#include "base/status.h"
#include "broker/config.h"

namespace mq::broker {

// Runs once, before the partitions are opened, when data_dir holds
// topics.checkpoint. The snapshot is written to __quorum.converting/ and
// renamed to __quorum/ only when complete, then topics.checkpoint is
// removed; a failure before the rename leaves the directory as it was (a
// half-written __quorum.converting/ is replaced by the next attempt).
// Returns a one-line summary for the log, or "" when there was nothing to do.
Result<std::string> convert_single_node_data_dir(const BrokerConfig& config);

}  // namespace mq::broker
