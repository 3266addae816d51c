// Idempotent-producer state of one partition: per producer id, its epoch and
// its last five batches (sequence range -> offsets), so a retried batch is
// recognised and acknowledged with its original offsets, and a gap in
// sequences is refused. Rebuilt after a restart from the snapshot
// "producer-state.checkpoint" plus a replay of the batch headers after it:
//
//   mq-producer-state 1
//   offset <O>                                  state covers batches below O
//   <pid> <epoch> <last_ts> <n> (<first_seq> <last_seq> <base_off> <last_off>){n}
//   crc32c <hex>
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "store/record_batch.h"

namespace mq {

struct ProducerBatch {
  int32_t first_sequence;
  int32_t last_sequence;
  int64_t base_offset;
  int64_t last_offset;
};

struct ProducerEntry {
  int16_t epoch = -1;
  int64_t last_timestamp = -1;
  std::deque<ProducerBatch> batches;  // oldest first, at most kProducerHistory
};

constexpr size_t kProducerHistory = 5;

// Not thread-safe: the log calls it under its append lock.
class ProducerStateTable {
 public:
  // nullopt: append the batch. A value: the batch is a retry of this one.
  // Errors: OUT_OF_ORDER_SEQUENCE, DUPLICATE_SEQUENCE (older than the cached
  // five), INVALID_PRODUCER_EPOCH (fenced), UNKNOWN_PRODUCER_ID.
  Result<std::optional<ProducerBatch>> check(const BatchHeader& header) const;
  // Records an appended batch (offsets assigned) at time `now_ms` (for
  // expiration; replay passes the batch's timestamp). Ignores non-idempotent batches.
  void update(const BatchHeader& header, int64_t now_ms);

  // Drops producers not heard from since `now_ms - expiration_ms`.
  void expire(int64_t now_ms, int64_t expiration_ms);
  void clear() { producers_.clear(); }
  size_t size() const { return producers_.size(); }
  const ProducerEntry* find(int64_t producer_id) const;
  // Every producer's state, unordered: for tools that print a snapshot.
  const std::unordered_map<int64_t, ProducerEntry>& producers() const { return producers_; }

  Status write_snapshot(const std::string& path, int64_t offset) const;
  // Replaces the state with the snapshot's; returns the snapshot offset.
  Result<int64_t> load_snapshot(const std::string& path);

 private:
  std::unordered_map<int64_t, ProducerEntry> producers_;
};

}  // namespace mq
