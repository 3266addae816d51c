// ListOffsets (api key 4): offsets by timestamp, earliest or latest.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   ListOffsetsRequest v0
//     replica_id               int32
//     isolation_level          int8 (IsolationLevel)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//         timestamp            int64
//   ListOffsetsResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         timestamp            int64
//         offset               int64
//         leader_epoch         int32
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"
#include "transport/fetch.h"

namespace mq::transport {

// Special values of ListOffsetsRequest partition timestamps.
constexpr int64_t kEarliestTimestamp = -2;  // the log start offset
constexpr int64_t kLatestTimestamp = -1;    // the log end offset (or high watermark)

// ListOffsets: finds offsets by timestamp: the earliest offset (-2), the latest (-1), or the first
// offset whose timestamp is at least the given one.
struct ListOffsetsResponse;

struct ListOffsetsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListOffsets;
  using Response = ListOffsetsResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check
      int64_t timestamp = -1;             // -2 earliest, -1 latest, else ms since the epoch

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
        c("timestamp", m.timestamp);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  int32_t replica_id = -1;  // -1 for consumers
  IsolationLevel isolation_level =
      IsolationLevel::kReadUncommitted;  // read committed answers latest with the high watermark
  std::vector<Topic> topics;             // per topic

  bool operator==(const ListOffsetsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("replica_id", m.replica_id);
    c("isolation_level", m.isolation_level);
    c("topics", m.topics);
  }
};

struct ListOffsetsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListOffsets;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error
      int64_t timestamp = -1;     // timestamp of the found record, -1 for earliest/latest
      int64_t offset = -1;        // the offset, -1 if no record matches
      int32_t leader_epoch = -1;  // leader epoch of the found record

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("timestamp", m.timestamp);
        c("offset", m.offset);
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

  std::vector<Topic> topics;  // per topic

  bool operator==(const ListOffsetsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
