// FindMessages (api key 7): the latest records with a given key in each
// partition, from its leader (RocketMQ's queryMessage by key; `mqctl message
// find`). Each partition's matches travel in their own record frame.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   FindMessagesRequest v0
//     key                      bytes
//     max_messages             int32 (per partition, 1..10000)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//   FindMessagesResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         high_watermark       int64
//         more                 bool
//         candidates           int64
//         records              records frame
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// The bounds of FindMessagesRequest::max_messages; outside them the request is
// refused INVALID_REQUEST.
constexpr int32_t kFindMessagesMin = 1;
constexpr int32_t kFindMessagesMax = 10000;

// FindMessages: the latest max_messages committed records whose key is exactly `key`, per
// partition, in offset order, each as an uncompressed batch of its own. Leaders only.
struct FindMessagesResponse;

struct FindMessagesRequest {
  static constexpr ApiKey kApiKey = ApiKey::kFindMessages;
  using Response = FindMessagesResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions to search

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  Bytes key;                   // the exact key, compared byte for byte; empty = the empty key
  int32_t max_messages = 100;  // per partition: the latest this many matches
  std::vector<Topic> topics;   // where to search

  bool operator==(const FindMessagesRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("key", m.key);
    c("max_messages", m.max_messages);
    c("topics", m.topics);
  }
};

struct FindMessagesResponse {
  static constexpr ApiKey kApiKey = ApiKey::kFindMessages;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error; records frame empty if set
      int64_t high_watermark = -1;              // the search stopped below it: committed only
      bool more = false;                        // older matches were left out for max_messages
      int64_t candidates = 0;  // records the broker looked at: its cost, for operators
      Frame records;           // the matches, each a batch of its own (uncompressed), offsets kept

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("high_watermark", m.high_watermark);
        c("more", m.more);
        c("candidates", m.candidates);
        c("records", m.records);
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

  bool operator==(const FindMessagesResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
