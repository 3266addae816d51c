// Reassignment plans: the JSON file `mqctl partition reassign` reads and
// --generate writes, and the generator that spreads partitions over a given
// set of brokers. Pure functions; docs/mqctl.md has the file format:
//
//   {"version": 1,
//    "partitions": [{"topic": "orders", "partition": 0, "replicas": [2, 3, 4]}, ...]}
//
// Kafka's plans (kafka-reassign-partitions.sh) read as they are: their
// "log_dirs" lists are accepted and ignored when every entry is "any".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/admin.h"

namespace mq::ctl {

struct PlanEntry {
  std::string topic;
  int32_t partition = 0;
  std::vector<int32_t> replicas;  // the first is the preferred leader

  bool operator==(const PlanEntry&) const = default;
};

// Parses and checks a plan: version 1, every entry with a topic, a partition
// >= 0 and 1+ distinct broker ids >= 0, no partition twice, nothing unknown.
// Errors name the entry ("partitions[2].replicas: broker 3 is listed twice").
Result<std::vector<PlanEntry>> parse_plan(std::string_view text);

// The plan as the file format, pretty-printed with a final newline.
std::string plan_to_json(const std::vector<PlanEntry>& plan);

// Places `current` (every partition to consider, with its replicas) on
// `brokers`: each partition keeps its replication factor and the replicas it
// has on those brokers; the places of the others go to the brokers holding
// the fewest replicas so far (ties: lowest id), and a partition whose
// preferred leader leaves gets as first replica the one of its replicas that
// is first on the fewest partitions. Then the load is evened out: while two
// brokers' replica counts differ by more than one, a replica moves from the
// most to the least loaded (preferably not a preferred leader), and
// likewise preferred leaderships swap within replica lists, so a broker just
// added gets its share. Only partitions that change are returned, in the
// order of `current`. With `replication_factor` every partition gets that
// many replicas: new ones go to the least loaded brokers, and a lower
// factor drops the last replicas of each list (never the preferred leader).
// Errors: no brokers, a broker listed twice, a replication factor below 1 or
// larger than the number of brokers.
Result<std::vector<PlanEntry>> generate_plan(
    const std::vector<PlanEntry>& current, const std::vector<int32_t>& brokers,
    std::optional<int32_t> replication_factor = std::nullopt);

// How far the new replicas of partitions being moved have copied their
// leader's log: for each adding replica, its size (capped at the leader's)
// against the leader's size. `sizes` holds each (broker, partition)
// replica's bytes as log dirs reports them; a partition whose leader's size
// is missing is left out.
struct CopyProgress {
  int64_t copied_bytes = 0;
  int64_t total_bytes = 0;
  size_t replicas = 0;  // adding replicas counted
};
CopyProgress copy_progress(
    const std::vector<client::OngoingReassignment>& moving,
    const std::map<std::pair<int32_t, client::TopicPartition>, int64_t>& sizes);

}  // namespace mq::ctl
