// Checks a fault run's history (history.h) against what mq promises
// (docs/faults.md, "What the checker finds"): Jepsen's Kafka workload is
// the model. The final read of every partition, taken after every fault
// healed, is the reference log; every acknowledged send and every poll is
// held against it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/faults/history.h"

namespace mq::faults {

enum class AnomalyKind : uint8_t {
  kLostWrite,           // an acknowledged send is not in the final log
  kDuplicate,           // a value stored at two offsets
  kInconsistentOffset,  // two readers (or the ack and a reader) disagree on an offset
  kNonMonotonicPoll,    // a consumer's reads of a partition went backwards
  kSkippedPoll,         // ... or jumped over offsets the log holds
  kNeverCommittedRead,  // a consumer read a value the final log does not hold
  kCommitBackwards,     // a committed offset went back
  kUnknownValue,        // the log holds a value no producer sent (corruption)
  kDamagedReplica,      // an in-sync replica that cannot be read, or ends short
};
inline constexpr size_t kAnomalyKinds = 9;
std::string_view anomaly_name(AnomalyKind kind);

struct Anomaly {
  AnomalyKind kind = AnomalyKind::kLostWrite;
  std::string what;
  std::vector<size_t> ops;  // indexes into the history
};

struct Verdict {
  std::vector<Anomaly> anomalies;
  // What was checked.
  uint64_t sends_ok = 0, sends_failed = 0, sends_unknown = 0;
  uint64_t sends_ok_offset_unknown = 0;  // acknowledged with offset -1
  uint64_t polls = 0, records_polled = 0, commits_ok = 0;
  uint64_t final_records = 0, faults = 0, replicas_read = 0;

  bool valid() const { return anomalies.empty(); }
  uint64_t count(AnomalyKind kind) const;
  // Counts, then each anomaly (up to `per_kind` of each kind) with the
  // operations involved, described from `history`.
  std::string report(const std::vector<Op>& history, size_t per_kind = 10) const;
};

// An error when the history cannot be judged: no final read, or a final
// read that is not a whole log (offsets out of order).
Result<Verdict> check(const std::vector<Op>& history);

}  // namespace mq::faults
