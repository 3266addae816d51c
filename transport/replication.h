// Replication RPCs between brokers (api keys 100-199). Followers replicate with
// Fetch (replica_id = their node id); OffsetForLeaderEpoch (100) finds where a
// leader epoch ends so a follower can truncate a divergent tail.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   OffsetForLeaderEpochRequest v0
//     replica_id               int32
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//         leader_epoch         int32
//   OffsetForLeaderEpochResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         error_code           int16 (error code)
//         partition_index      int32
//         leader_epoch         int32
//         end_offset           int64
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// OffsetForLeaderEpoch: followers (and consumers after a leader change) ask the leader where a
// leader epoch ends, to truncate a divergent log tail (KIP-101).
struct OffsetForLeaderEpochResponse;

struct OffsetForLeaderEpochRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetForLeaderEpoch;
  using Response = OffsetForLeaderEpochResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // epoch the requester knows, -1 = do not check
      int32_t leader_epoch = -1;          // epoch whose end offset is wanted

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
        c("leader_epoch", m.leader_epoch);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // per partition

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  int32_t replica_id = -1;    // the follower's node id, -1 for consumers
  std::vector<Topic> topics;  // per topic

  bool operator==(const OffsetForLeaderEpochRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("replica_id", m.replica_id);
    c("topics", m.topics);
  }
};

struct OffsetForLeaderEpochResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetForLeaderEpoch;

  struct Topic {
    struct Partition {
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error
      int32_t partition_index = 0;              // partition number
      int32_t leader_epoch = -1;  // largest epoch <= the requested one that the leader has
      int64_t end_offset = -1;    // first offset after that epoch

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("error_code", m.error_code);
        c("partition_index", m.partition_index);
        c("leader_epoch", m.leader_epoch);
        c("end_offset", m.end_offset);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // per partition

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::vector<Topic> topics;  // per topic

  bool operator==(const OffsetForLeaderEpochResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
