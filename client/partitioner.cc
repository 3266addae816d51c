// murmur2 and the sticky partitioner; see partitioner.h.
#include "client/partitioner.h"

#include <cassert>

namespace mq::client {

int32_t murmur2(std::string_view data) {
  // Unsigned arithmetic gives Java's wrapping int multiplication and >>>.
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  const auto length = static_cast<uint32_t>(data.size());
  uint32_t h = 0x9747b28c ^ length;
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  const uint32_t length4 = length / 4;
  for (uint32_t i = 0; i < length4; ++i) {
    const uint32_t i4 = i * 4;
    uint32_t k = uint32_t{bytes[i4]} | (uint32_t{bytes[i4 + 1]} << 8) |
                 (uint32_t{bytes[i4 + 2]} << 16) | (uint32_t{bytes[i4 + 3]} << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint32_t tail = length & ~uint32_t{3};
  switch (length % 4) {
    case 3:
      h ^= uint32_t{bytes[tail + 2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{bytes[tail + 1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= uint32_t{bytes[tail]};
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::string_view key, int32_t partition_count) {
  assert(partition_count >= 1);
  return to_positive(murmur2(key)) % partition_count;
}

int32_t Partitioner::partition(const std::string& topic, const std::optional<std::string>& key,
                               int32_t partition_count) {
  assert(partition_count >= 1);
  if (key) return partition_for_key(*key, partition_count);
  auto it = sticky_.find(topic);
  // A topic that lost partitions (or a first record) needs a fresh choice.
  if (it == sticky_.end() || it->second >= partition_count) {
    it = sticky_.insert_or_assign(topic, pick(partition_count, std::nullopt)).first;
  }
  return it->second;
}

void Partitioner::on_batch_sent(const std::string& topic, int32_t partition,
                                int32_t partition_count) {
  auto it = sticky_.find(topic);
  if (it == sticky_.end() || it->second != partition || partition_count < 1) return;
  it->second = pick(partition_count, partition);
}

std::optional<int32_t> Partitioner::sticky_partition(const std::string& topic) const {
  auto it = sticky_.find(topic);
  if (it == sticky_.end()) return std::nullopt;
  return it->second;
}

int32_t Partitioner::pick(int32_t partition_count, std::optional<int32_t> avoid) {
  if (partition_count == 1) return 0;
  if (!avoid || *avoid >= partition_count) {
    return static_cast<int32_t>(random_() % static_cast<uint64_t>(partition_count));
  }
  // Uniform over the other partitions.
  auto choice = static_cast<int32_t>(random_() % static_cast<uint64_t>(partition_count - 1));
  return choice >= *avoid ? choice + 1 : choice;
}

}  // namespace mq::client
