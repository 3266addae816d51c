// Leader epoch history of a partition: for each leader epoch, the first offset
// written in it. Followers use it to find where their log diverges from a new
// leader's (Kafka's KIP-101). Persisted as the checkpoint "leader-epoch-checkpoint":
//
//   mq-leader-epochs 1
//   <epoch> <start_offset>     one line per epoch, both increasing
//   crc32c <hex>
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq {

struct EpochEntry {
  int32_t epoch;
  int64_t start_offset;
  bool operator==(const EpochEntry&) const = default;
};

class LeaderEpochCache {
 public:
  explicit LeaderEpochCache(std::string path) : path_(std::move(path)) {}

  // Loads the checkpoint. Missing is fine (empty); corrupt or non-monotonic
  // contents return an error and leave the cache empty so the caller rebuilds.
  Status load();

  // Records that `epoch` starts at `start_offset` if it is newer than the
  // latest epoch; entries that conflict with it are dropped. Persists on change.
  Status assign(int32_t epoch, int64_t start_offset);
  // Drops epochs that start at or after `end_offset` (the log was truncated there).
  Status truncate_from_end(int64_t end_offset);
  // The log now starts at `start_offset`: drops epochs that ended before it.
  Status truncate_from_start(int64_t start_offset);
  Status clear();

  std::optional<EpochEntry> latest() const;
  // Where leader epoch `epoch` ends in this log, for a follower truncating a
  // divergent tail (OffsetForLeaderEpoch, KIP-101): the largest epoch <=
  // `epoch` and the offset where it ended (start of the next epoch, or
  // `log_end_offset` if it is the latest). If `epoch` is older than every
  // entry (the log starts in a later epoch: an unclean election made a
  // replica with a shorter history leader, or retention dropped the older
  // epochs), `epoch` itself and the first entry's start offset: nothing of
  // `epoch` is known past there, so the asker keeps nothing past there
  // (Kafka's answer too). nullopt if `epoch` is undefined (< 0) or the cache
  // is empty.
  std::optional<EpochEntry> end_offset_for(int32_t epoch, int64_t log_end_offset) const;
  std::vector<EpochEntry> entries() const;
  // The epoch of the batch holding `offset`: the latest epoch starting at or
  // before it; -1 when none does.
  int32_t epoch_holding(int64_t offset) const;

 private:
  Status persist_locked();

  std::string path_;
  mutable std::mutex mu_;
  std::vector<EpochEntry> entries_;
};

}  // namespace mq
