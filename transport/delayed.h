// Delayed delivery's two APIs (docs/messaging.md, "Delayed delivery"), both
// answered by each partition's leader:
//
// ListDelayed (api key 8): the pending delayed messages of partitions,
// earliest first (`mqctl delayed list`).
//   ListDelayedRequest v0
//     max_messages             int32 (per partition, 1..10000)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//   ListDelayedResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         pending              int64
//         messages             array of
//           offset             int64
//           deliver_at_ms      int64
//
// CancelDelayed (api key 9): cancels pending delayed messages by the offset
// of their scheduled record (`mqctl delayed cancel`). Answered once the
// cancel records are committed.
//   CancelDelayedRequest v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//         offsets              array of int64
//   CancelDelayedResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code; the partition's)
//         results              array of
//           offset             int64
//           error_code         int16 (error code; NOT_FOUND: nothing pending there)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// The bounds of ListDelayedRequest::max_messages; outside them the request is
// refused INVALID_REQUEST.
constexpr int32_t kListDelayedMin = 1;
constexpr int32_t kListDelayedMax = 10000;
// At most this many offsets per partition in one CancelDelayedRequest.
constexpr size_t kCancelDelayedMax = 1000;

struct ListDelayedResponse;

// ListDelayed: the first max_messages pending delayed messages of each
// partition, by delivery time, from its leader.
struct ListDelayedRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListDelayed;
  using Response = ListDelayedResponse;

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
    std::vector<Partition> partitions;  // partitions to list

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  int32_t max_messages = 100;  // per partition: the earliest this many
  std::vector<Topic> topics;   // what to list

  bool operator==(const ListDelayedRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("max_messages", m.max_messages);
    c("topics", m.topics);
  }
};

struct ListDelayedResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListDelayed;

  struct Topic {
    struct Partition {
      struct Message {
        int64_t offset = 0;         // the scheduled record's offset
        int64_t deliver_at_ms = 0;  // its delivery time, ms since the epoch

        bool operator==(const Message&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("offset", m.offset);
          c("deliver_at_ms", m.deliver_at_ms);
        }
      };

      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error; messages empty if set
      int64_t pending = 0;                      // every pending delayed message of the partition
      std::vector<Message> messages;            // the earliest max_messages of them

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("pending", m.pending);
        c("messages", m.messages);
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

  bool operator==(const ListDelayedResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

struct CancelDelayedResponse;

// CancelDelayed: cancels pending delayed messages by their scheduled
// record's offset; the leader answers once the cancel records are committed.
struct CancelDelayedRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCancelDelayed;
  using Response = CancelDelayedResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check
      std::vector<int64_t> offsets;       // the scheduled records to cancel

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
        c("offsets", m.offsets);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions holding them

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::vector<Topic> topics;  // what to cancel

  bool operator==(const CancelDelayedRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

struct CancelDelayedResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCancelDelayed;

  struct Topic {
    struct Partition {
      struct Result {
        int64_t offset = 0;                       // as asked
        ErrorCode error_code = ErrorCode::kNone;  // NOT_FOUND: nothing pending there

        bool operator==(const Result&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("offset", m.offset);
          c("error_code", m.error_code);
        }
      };

      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // the partition's error; results empty if set
      std::vector<Result> results;              // one per offset asked, in order

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("results", m.results);
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

  bool operator==(const CancelDelayedResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
