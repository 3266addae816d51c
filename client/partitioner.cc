// murmur2 and the sticky partition; see partitioner.h.
#include "client/partitioner.h"

#include <cassert>
#include <random>

namespace mq::client {

int32_t partition_for_key(std::string_view key, int32_t partition_count) {
  assert(partition_count >= 1);
  return to_positive(murmur2(key)) % partition_count;
}

StickyPartition::StickyPartition(uint64_t seed)
    : random_state_(seed != 0 ? seed
                              : (uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {
}

int32_t StickyPartition::current(int32_t partition_count) {
  assert(partition_count >= 1);
  int32_t partition = partition_.load(std::memory_order_relaxed);
  // A first record, or a topic that lost partitions, needs a fresh choice.
  if (partition >= 0 && partition < partition_count) return partition;
  int32_t chosen = pick(partition_count, -1);
  if (partition_.compare_exchange_strong(partition, chosen)) return chosen;
  return partition >= 0 && partition < partition_count ? partition : chosen;
}

void StickyPartition::on_batch_sealed(int32_t partition, int32_t partition_count) {
  if (partition_count < 1) return;
  int32_t expected = partition;
  // Only the thread that sealed the sticky partition's batch moves it.
  partition_.compare_exchange_strong(expected, pick(partition_count, partition));
}

int32_t StickyPartition::pick(int32_t partition_count, int32_t avoid) {
  if (partition_count == 1) return 0;
  // splitmix64: cheap, and good enough to spread partitions evenly.
  uint64_t z = random_state_.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed) +
               0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  if (avoid < 0 || avoid >= partition_count) {
    return static_cast<int32_t>(z % static_cast<uint64_t>(partition_count));
  }
  // Uniform over the other partitions.
  auto choice = static_cast<int32_t>(z % static_cast<uint64_t>(partition_count - 1));
  return choice >= avoid ? choice + 1 : choice;
}

}  // namespace mq::client
