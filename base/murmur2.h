// Kafka's murmur2 hash (seed 0x9747b28c), as org.apache.kafka.common.utils.Utils.murmur2:
// the producer's key partitioner and the group coordinator's partition both use
// it, so keys and groups land where a Kafka client would put them.
#pragma once

#include <cstdint>
#include <string_view>

namespace mq {

int32_t murmur2(std::string_view data);

// Kafka's toPositive: clears the sign bit (not abs(), which overflows on INT32_MIN).
inline int32_t to_positive(int32_t value) {
  return value & 0x7fffffff;
}

}  // namespace mq
