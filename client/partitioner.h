// How the producer picks a partition: the record's explicit partition; else
// murmur2 of the key, as Kafka's default partitioner, so keys land where a
// Kafka client would put them; else the topic's sticky partition, which
// changes only when a batch for it has been sent (Kafka's KIP-480), so
// keyless records fill whole batches instead of many small ones.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/murmur2.h"

namespace mq::client {

using mq::murmur2;
using mq::to_positive;
// The partition of a keyed record: positive(murmur2(key)) % partition_count.
int32_t partition_for_key(std::string_view key, int32_t partition_count);

// Not thread-safe: the producer's I/O thread owns it.
class Partitioner {
 public:
  explicit Partitioner(uint64_t seed = std::random_device{}()) : random_(seed) {}

  // Requires partition_count >= 1.
  int32_t partition(const std::string& topic, const std::optional<std::string>& key,
                    int32_t partition_count);
  // A batch of `partition` was sent: if it is the topic's sticky partition,
  // keyless records move to another one (a different one when there are several).
  void on_batch_sent(const std::string& topic, int32_t partition, int32_t partition_count);

  std::optional<int32_t> sticky_partition(const std::string& topic) const;

 private:
  int32_t pick(int32_t partition_count, std::optional<int32_t> avoid);

  std::mt19937_64 random_;
  std::unordered_map<std::string, int32_t> sticky_;
};

}  // namespace mq::client
