// The cleaner checkpoint: how far compaction has got, and when each recent
// pass ran, so a tombstone's delete.retention.ms counts from the pass that
// first covered it. File "cleaner.checkpoint" (docs/storage-format.md §6.4):
//
//   mq-cleaner 1
//   first_dirty_offset <O>      every offset below O has been through a pass
//   pass <end_offset> <time_ms> a pass at time_ms covered the offsets below end_offset
//   ...                         oldest first, both columns increasing
//   crc32c <hex>
//
// Losing the file is harmless: the next pass treats the whole log as dirty and
// every tombstone as first seen then (it is kept longer, never shorter).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq {

class CleanerCheckpoint {
 public:
  // Passes remembered; past it the two closest in time merge (keeping the
  // later time, so tombstones only ever live longer).
  static constexpr size_t kMaxPasses = 64;

  struct Pass {
    int64_t end_offset;  // the pass covered every offset below it
    int64_t time_ms;
  };

  int64_t first_dirty_offset() const { return first_dirty_offset_; }
  // The passes remembered, oldest first.
  const std::vector<Pass>& passes() const { return passes_; }
  // When a pass first covered `offset`, or nullopt if none has.
  std::optional<int64_t> first_covered_ms(int64_t offset) const;

  // Records a pass at `now_ms` that covered everything below `end_offset`.
  // Passes whose time is `delete_retention_ms` past are folded into one: the
  // tombstones they covered may all go.
  void record_pass(int64_t end_offset, int64_t now_ms, int64_t delete_retention_ms);
  // The log was cut at `end_offset`: what lies past it was never covered.
  // Returns whether anything changed.
  bool truncate_to(int64_t end_offset);
  void reset(int64_t first_dirty_offset);

  Status write(const std::string& path) const;
  // Replaces the state with the file's; on error the state is reset to 0.
  Status load(const std::string& path);

 private:
  int64_t first_dirty_offset_ = 0;
  std::vector<Pass> passes_;
};

}  // namespace mq
