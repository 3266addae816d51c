// How the producer picks a partition: the record's explicit partition; else
// murmur2 of the key, as Kafka's default partitioner, so keys land where a
// Kafka client would put them; else the topic's sticky partition, which
// changes only when a batch for it has been sealed (Kafka's KIP-480), so
// keyless records fill whole batches instead of many small ones.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "base/murmur2.h"

namespace mq::client {

using mq::murmur2;
using mq::to_positive;
// The partition of a keyed record: positive(murmur2(key)) % partition_count.
int32_t partition_for_key(std::string_view key, int32_t partition_count);

// One topic's sticky partition for keyless records. Thread-safe: application
// threads read it on every keyless send and move it when they seal a batch.
class StickyPartition {
 public:
  // `seed` makes the choices repeatable (tests); 0 seeds from the machine.
  explicit StickyPartition(uint64_t seed = 0);

  // The partition keyless records go to now. Requires partition_count >= 1.
  int32_t current(int32_t partition_count);
  // A batch of `partition` was sealed: if it is the sticky partition, keyless
  // records move to another one (a different one when there are several).
  void on_batch_sealed(int32_t partition, int32_t partition_count);

 private:
  int32_t pick(int32_t partition_count, int32_t avoid);

  std::atomic<int32_t> partition_{-1};
  std::atomic<uint64_t> random_state_;
};

}  // namespace mq::client
