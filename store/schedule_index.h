// ScheduleIndex: a partition's delayed messages that are still pending, by
// delivery time (docs/messaging.md, "Delayed delivery"; storage-format.md
// §6.3b). Every replica keeps one, built from the log's scheduled batches,
// delivered copies and cancel records (store/record_batch.h), so a new leader
// knows what is due without reading its log. A removal is remembered until
// the offset that removed it is committed, so a truncation that cuts a copy
// or a cancel record puts its message back.
//
// Not thread-safe: the log guards it with its append lock.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/checkpoint.h"

namespace mq {

inline constexpr std::string_view kScheduleSnapshotKind = "mq-delayed-schedule";
inline constexpr int kScheduleSnapshotVersion = 1;

class ScheduleIndex {
 public:
  struct Entry {
    int64_t deliver_at = 0;  // ms since the epoch
    int64_t offset = 0;      // the scheduled record's
    auto operator<=>(const Entry&) const = default;
  };
  // What the snapshot covered (store/checkpoint.h).
  using Covered = SnapshotCoverage;

  void add(Entry entry) { pending_.insert(entry); }
  // Removes a pending entry because the record at `removed_by` delivered or
  // cancelled it. False when it was not pending.
  bool remove(Entry entry, int64_t removed_by);
  // Forgets the removals made by records below `offset` (they are committed).
  void forget_removals_below(int64_t offset);
  // A truncation to `end`: entries at or past it go, entries removed by
  // records at or past it come back.
  void truncate_from(int64_t end);
  // Drops entries below `log_start` (their records were deleted); returns how many.
  size_t drop_below(int64_t log_start);
  void clear();

  // Entries due at `now_ms` (deliver_at <= now), earliest first, at most `limit`.
  std::vector<Entry> due(int64_t now_ms, size_t limit) const;
  // The earliest deliver_at, if any.
  std::optional<int64_t> next_at() const;
  bool contains(Entry entry) const { return pending_.contains(entry); }
  // Drops one pending entry without a record removing it (its scheduled
  // record cannot be read); false when it was not pending.
  bool drop(Entry entry) { return pending_.erase(entry) > 0; }
  // The first `limit` entries, earliest first.
  std::vector<Entry> list(size_t limit) const;
  size_t size() const { return pending_.size(); }

  // A removal still remembered: `entry` was removed by the record at `removed_by`.
  struct Removal {
    int64_t removed_by;
    Entry entry;
  };
  std::vector<Removal> removals() const { return {removals_.begin(), removals_.end()}; }
  // A snapshot's lines: "offset O epoch E", then "AT OFFSET" per entry of
  // `entries` (list()'s, copied under the log's lock, formatted outside it),
  // then "removed BY AT OFFSET" per remembered removal, in order.
  static std::vector<std::string> snapshot_lines(Covered covered, const std::vector<Entry>& entries,
                                                 const std::vector<Removal>& removals);
  // Replaces the contents with a snapshot's. kNotFound without a file,
  // kCorruptMessage (index left empty) for a bad one.
  Result<Covered> load_snapshot(const std::string& path);

 private:
  std::set<Entry> pending_;
  std::deque<Removal> removals_;  // in append order, so removed_by ascends
};

}  // namespace mq
