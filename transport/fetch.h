// Fetch (api key 3): reads record batches, for consumers and follower replicas.
// Each partition's bytes travel in their own record frame, as read from the log.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   FetchRequest v0
//     replica_id               int32
//     max_wait_ms              int32
//     min_bytes                int32
//     max_bytes                int32
//     isolation_level          int8 (IsolationLevel)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         current_leader_epoch int32
//         fetch_offset         int64
//         log_start_offset     int64
//         partition_max_bytes  int32
//       tags                   string (v1+; "" or "*" = every record)
//       filter                 string (v1+; "" = none)
//   FetchResponse v0
//     error_code               int16 (error code)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         high_watermark       int64
//         last_stable_offset   int64
//         log_start_offset     int64
//         log_end_offset       int64
//         next_offset          int64 (v1+; -1 without a filter)
//         records              records frame
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// replica_id of a consumer; followers send their node id.
constexpr int32_t kConsumerReplicaId = -1;

enum class IsolationLevel : int8_t {
  kReadUncommitted = 0,
  kReadCommitted = 1,
};

// Fetch: reads record batches from partitions; consumers and follower replicas both use it. Long
// poll: the broker answers when min_bytes are available or max_wait_ms passed. Each partition's
// bytes travel in their own record frame, as read from the log.
struct FetchResponse;

struct FetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::kFetch;
  using Response = FetchResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;        // partition number
      int32_t current_leader_epoch = -1;  // the leader epoch the client knows, -1 = do not check
      int64_t fetch_offset = 0;           // first offset to return
      int64_t log_start_offset = -1;      // followers: their log start offset; consumers: -1
      int32_t partition_max_bytes = 1048576;  // limit on this partition's record bytes

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("current_leader_epoch", m.current_leader_epoch);
        c("fetch_offset", m.fetch_offset);
        c("log_start_offset", m.log_start_offset);
        c("partition_max_bytes", m.partition_max_bytes);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions to read
    // v1: only records whose tag matches this expression ("A || B"; "" or
    // "*" = every record) and, when set, whose headers pass this SQL92
    // property filter are returned (docs/messaging.md). Consumers only.
    std::string tags;
    std::string filter;

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
      if (c.version() >= 1) {
        c("tags", m.tags);
        c("filter", m.filter);
      }
    }
  };

  int32_t replica_id = -1;    // -1 for consumers; the follower's node id for replication
  int32_t max_wait_ms = 500;  // longest time the broker may hold the request
  int32_t min_bytes = 1;      // answer as soon as this many bytes are available
  int32_t max_bytes =
      52428800;  // limit on the response's record bytes (at least one batch is returned)
  IsolationLevel isolation_level =
      IsolationLevel::kReadUncommitted;  // 0 = read uncommitted, 1 = read committed
  std::vector<Topic> topics;             // what to read

  bool operator==(const FetchRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("replica_id", m.replica_id);
    c("max_wait_ms", m.max_wait_ms);
    c("min_bytes", m.min_bytes);
    c("max_bytes", m.max_bytes);
    c("isolation_level", m.isolation_level);
    c("topics", m.topics);
  }
};

struct FetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::kFetch;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error; records frame empty if set
      int64_t high_watermark = -1;              // offset up to which records are committed
      int64_t last_stable_offset = -1;          // offset below which no transaction is open (= high
                                                // watermark until transactions exist)
      int64_t log_start_offset = -1;            // first offset still in the log
      int64_t log_end_offset = -1;              // offset the next appended record will get
      // v1, for a topic fetched with a filter: the offset to fetch next; a
      // record below it missing from `records` did not match. -1 otherwise.
      int64_t next_offset = -1;
      Frame records;  // whole batches as stored, possibly ending in a partial batch the client must
                      // drop; empty if none. With a filter: whole batches holding only matching
                      // records (a batch with some matching records is re-encoded without the rest)

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("high_watermark", m.high_watermark);
        c("last_stable_offset", m.last_stable_offset);
        c("log_start_offset", m.log_start_offset);
        c("log_end_offset", m.log_end_offset);
        if (c.version() >= 1) c("next_offset", m.next_offset);
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

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::vector<Topic> topics;                // per topic

  bool operator==(const FetchResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
