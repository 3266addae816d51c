// The consumer protocol: what consumers put in JoinGroup's protocol metadata
// (their subscription) and what the coordinator hands back in SyncGroup (each
// member's assignment). The coordinator computes assignments itself, so it
// reads subscriptions; both ends use these codecs. docs/protocol.md §15.
//
//   Subscription v0                      Assignment v0
//     version          int16 (0)           version          int16 (0)
//     topics           array of string     partitions       array of TopicPartitions
//     owned_partitions array of            user_data        bytes
//                      TopicPartitions
//     user_data        bytes
//   TopicPartitions: topic string, partitions array of int32
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "transport/codec.h"

namespace mq::transport {

// Assignor names a consumer may list in JoinGroup; the coordinator picks the
// first one every member supports, in the order of the first member's list.
inline constexpr std::string_view kAssignorRange = "range";
inline constexpr std::string_view kAssignorRoundRobin = "roundrobin";
inline constexpr std::string_view kAssignorSticky = "sticky";
// RocketMQ's broadcast consumption: every member gets every partition and
// commits its own offsets.
inline constexpr std::string_view kAssignorBroadcast = "broadcast";
inline constexpr std::string_view kConsumerProtocolType = "consumer";

struct TopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;

  bool operator==(const TopicPartitions&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partitions", m.partitions);
  }
};

struct ConsumerSubscription {
  int16_t version = 0;
  std::vector<std::string> topics;
  // What the member owns now, so the sticky assignor can keep it there.
  std::vector<TopicPartitions> owned_partitions;
  Bytes user_data;

  bool operator==(const ConsumerSubscription&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("topics", m.topics);
    c("owned_partitions", m.owned_partitions);
    c("user_data", m.user_data);
  }
};

struct ConsumerAssignment {
  int16_t version = 0;
  std::vector<TopicPartitions> partitions;
  Bytes user_data;

  bool operator==(const ConsumerAssignment&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("partitions", m.partitions);
    c("user_data", m.user_data);
  }
};

Bytes encode_subscription(const ConsumerSubscription& subscription);
// Fails with INCONSISTENT_GROUP_PROTOCOL on malformed bytes or an unknown version.
Result<ConsumerSubscription> decode_subscription(std::span<const uint8_t> bytes);

Bytes encode_assignment(const ConsumerAssignment& assignment);
// An empty byte string is an empty assignment (a member left without partitions).
Result<ConsumerAssignment> decode_assignment(std::span<const uint8_t> bytes);

}  // namespace mq::transport
