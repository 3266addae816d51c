// murmur2 and the sticky partitioner; see partitioner.h.
#include "client/partitioner.h"

#include <cassert>

namespace mq::client {

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
