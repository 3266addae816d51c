// QueueState: what a partition's queue groups have been handed and what they
// acknowledged (per-message acknowledgement; docs/messaging.md, "Queue
// consumption"; storage-format.md §6.3c). The partition leader writes each
// change as a record of a kAttrQueueState batch in the partition's own log
// (one QueueOp per record), and every replica applies the records as they
// are appended, so a new leader knows every group's in-flight messages
// without asking anyone.
//
// Per group: `next`, the first offset never handed out, and the entries: the
// offsets below `next` that are not done (in flight, or waiting to be handed
// out again). An offset below `next` without an entry is done: acknowledged,
// dead-lettered, expired, or not a message.
//
// Not thread-safe: the log guards it with its append lock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/checkpoint.h"

namespace mq {

inline constexpr std::string_view kQueueSnapshotKind = "mq-queue-state";
inline constexpr int kQueueSnapshotVersion = 1;
// Longest group id a queue-state record names.
inline constexpr size_t kMaxQueueGroupBytes = 255;

// One record of a kAttrQueueState batch (its value; the key is null).
struct QueueOp {
  enum class Kind : uint8_t {
    kDeliver = 1,  // items handed out (deliveries >= 1) or passed over (0)
    kAck = 2,      // items acknowledged: done
    kRelease = 3,  // items given back (nack): visible again at available_at
    kExtend = 4,   // items' invisibility changed: invisible_until, available_at
    kDead = 5,     // items moved to the dead-letter topic: done
    kExpire = 6,   // items whose records retention deleted: done
  };
  struct Item {
    int64_t offset = 0;
    int32_t deliveries = 0;       // kDeliver
    int64_t invisible_until = 0;  // kDeliver, kExtend
    int64_t available_at = 0;     // kDeliver, kRelease, kExtend
    uint32_t key_hash = 0;        // kDeliver: murmur2 of the key, 0 without one
    bool operator==(const Item&) const = default;
  };
  Kind kind = Kind::kDeliver;
  std::string group;
  int64_t time_ms = 0;  // the leader's clock when it wrote the op
  int64_t next = -1;    // kDeliver: the group's next offset from now on (-1: unchanged)
  std::vector<Item> items;
  bool operator==(const QueueOp&) const = default;
};

std::string encode_queue_op(const QueueOp& op);
// CORRUPT_MESSAGE naming what is wrong with a malformed value.
Result<QueueOp> decode_queue_op(std::span<const uint8_t> value);
std::string_view queue_op_kind_name(QueueOp::Kind kind);

class QueueState {
 public:
  struct Entry {
    int32_t deliveries = 0;       // times handed out so far (0: passed over, never handed out)
    int64_t invisible_until = 0;  // in flight until then (ms since the epoch)
    int64_t available_at = 0;     // may be handed out again from then on
    uint32_t key_hash = 0;
    int64_t delivered_at = 0;  // when its last delivery began (its deliver op's time)
    bool operator==(const Entry&) const = default;
  };
  class Group {
   public:
    int64_t next = -1;  // -1: nothing handed out yet

    const std::map<int64_t, Entry>& entries() const { return entries_; }
    const Entry* entry(int64_t offset) const;
    // Entries that may be handed out at `now_ms` (available_at <= now), the
    // earliest available first, at most `limit`.
    std::vector<std::pair<int64_t, Entry>> available(int64_t now_ms, size_t limit) const;
    // Calls `visit(offset, entry)` for each of them in that order until it
    // returns false.
    void for_each_available(int64_t now_ms,
                            const std::function<bool(int64_t, const Entry&)>& visit) const;
    // Calls `visit(offset, entry)` for each held entry, lowest offset first,
    // until it returns false.
    void for_each_held(const std::function<bool(int64_t, const Entry&)>& visit) const;
    // The earliest entry holding key `key_hash` (ordered consumption: only it
    // may be handed out), held ones aside; nullopt when none does. key_hash 0
    // is no key.
    std::optional<int64_t> first_with_key(uint32_t key_hash) const;
    // Its unfinished entries at `now_ms`: in flight (handed out, invisible
    // until later), held, and the rest (waiting for their retry time or
    // behind an earlier message of their key).
    struct Counts {
      size_t in_flight = 0;
      size_t held = 0;
      size_t waiting = 0;
    };
    Counts counts(int64_t now_ms) const;

    void put(int64_t offset, const Entry& entry);
    bool erase(int64_t offset);
    // Keeps offsets >= `offset`; returns how many went.
    size_t erase_below(int64_t offset);
    bool operator==(const Group& o) const { return next == o.next && entries_ == o.entries_; }

   private:
    std::map<int64_t, Entry> entries_;
    std::set<std::pair<int64_t, int64_t>> by_available_;  // (available_at, offset)
    std::map<uint32_t, std::set<int64_t>> by_key_;        // key hash -> offsets (hash != 0)
  };
  using Groups = std::map<std::string, Group, std::less<>>;
  // available_at of a held message (handed out the most times allowed): it
  // is not handed out again, and holds back no later message of its key.
  static constexpr int64_t kHeldAt = INT64_MAX / 2;
  using Covered = SnapshotCoverage;

  void apply(const QueueOp& op);
  // Drops entries below `log_start` and raises `next` to it (retention
  // deleted their records); returns how many entries went.
  size_t drop_below(int64_t log_start);
  void clear();

  const Groups& groups() const { return groups_; }
  const Group* group(std::string_view id) const;
  // Bumped by every change: a leader's write is refused when the state moved
  // since it looked (AppendOptions::queue_version).
  uint64_t version() const { return version_; }
  size_t entry_count() const;

  static std::vector<std::string> snapshot_lines(Covered covered, const Groups& groups);
  // Replaces the state with a snapshot's; CORRUPT_MESSAGE (state cleared) on a
  // bad line, NOT_FOUND without a file.
  Result<Covered> load_snapshot(const std::string& path);

 private:
  Groups groups_;
  uint64_t version_ = 1;
};

}  // namespace mq
