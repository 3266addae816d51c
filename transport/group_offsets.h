// Committed offsets of consumer groups: OffsetCommit (45), OffsetFetch (46),
// OffsetDelete (50).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   OffsetCommitRequest v0
//     group_id                 string
//     generation_id            int32
//     member_id                string
//     group_instance_id        nullable string
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         committed_offset     int64
//         committed_leader_epoch int32
//         committed_metadata   nullable string
//   OffsetCommitResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//   OffsetFetchRequest v0
//     group_id                 string
//     topics                   nullable array of
//       name                   string
//       partition_indexes      array of int32
//     require_stable           bool
//     member_id                string
//   OffsetFetchResponse v0
//     error_code               int16 (error code)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         committed_offset     int64
//         committed_leader_epoch int32
//         metadata             nullable string
//         error_code           int16 (error code)
//   OffsetDeleteRequest v0
//     group_id                 string
//     topics                   array of
//       name                   string
//       partition_indexes      array of int32
//   OffsetDeleteResponse v0
//     error_code               int16 (error code)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// OffsetCommit: commits consumed offsets for a group (the next offset to read, as Kafka does).
struct OffsetCommitResponse;

struct OffsetCommitRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetCommit;
  using Response = OffsetCommitResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;    // partition number
      int64_t committed_offset = -1;  // next offset to consume
      int32_t committed_leader_epoch =
          -1;  // leader epoch of the last consumed record, -1 if unknown
      std::optional<std::string> committed_metadata;  // free text stored with the offset

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("committed_offset", m.committed_offset);
        c("committed_leader_epoch", m.committed_leader_epoch);
        c("committed_metadata", m.committed_metadata);
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

  std::string group_id;        // the group
  int32_t generation_id = -1;  // -1 for a group without members (manual assignment)
  std::string member_id;       // empty for a group without members
  std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members
  std::vector<Topic> topics;                     // per topic

  bool operator==(const OffsetCommitRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("generation_id", m.generation_id);
    c("member_id", m.member_id);
    c("group_instance_id", m.group_instance_id);
    c("topics", m.topics);
  }
};

struct OffsetCommitResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetCommit;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // per-partition result

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
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

  bool operator==(const OffsetCommitResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

// OffsetFetch: reads a group's committed offsets.
struct OffsetFetchResponse;

struct OffsetFetchRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetFetch;
  using Response = OffsetFetchResponse;

  struct Topic {
    std::string name;                        // topic name
    std::vector<int32_t> partition_indexes;  // partitions

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partition_indexes", m.partition_indexes);
    }
  };

  std::string group_id;                      // the group
  std::optional<std::vector<Topic>> topics;  // null = every partition with a committed offset
  bool require_stable = false;  // fail with a retriable error while offsets are pending (reserved)
  std::string member_id;  // empty = the group's offsets; a broadcast member's id = its own offsets

  bool operator==(const OffsetFetchRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("topics", m.topics);
    c("require_stable", m.require_stable);
    c("member_id", m.member_id);
  }
};

struct OffsetFetchResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetFetch;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      int64_t committed_offset = -1;            // -1 if none
      int32_t committed_leader_epoch = -1;      // -1 if unknown
      std::optional<std::string> metadata;      // stored text
      ErrorCode error_code = ErrorCode::kNone;  // per-partition error

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("committed_offset", m.committed_offset);
        c("committed_leader_epoch", m.committed_leader_epoch);
        c("metadata", m.metadata);
        c("error_code", m.error_code);
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

  ErrorCode error_code = ErrorCode::kNone;  // request-level error, e.g. NOT_COORDINATOR
  std::vector<Topic> topics;                // per topic

  bool operator==(const OffsetFetchResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("topics", m.topics);
  }
};

// OffsetDelete: deletes committed offsets of partitions the group no longer consumes.
struct OffsetDeleteResponse;

struct OffsetDeleteRequest {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetDelete;
  using Response = OffsetDeleteResponse;

  struct Topic {
    std::string name;                        // topic name
    std::vector<int32_t> partition_indexes;  // partitions

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partition_indexes", m.partition_indexes);
    }
  };

  std::string group_id;       // the group
  std::vector<Topic> topics;  // per topic

  bool operator==(const OffsetDeleteRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("topics", m.topics);
  }
};

struct OffsetDeleteResponse {
  static constexpr ApiKey kApiKey = ApiKey::kOffsetDelete;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;              // partition number
      ErrorCode error_code = ErrorCode::kNone;  // e.g. GROUP_SUBSCRIBED_TO_TOPIC

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
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

  ErrorCode error_code = ErrorCode::kNone;  // request-level error, e.g. GROUP_ID_NOT_FOUND
  std::vector<Topic> topics;                // per topic

  bool operator==(const OffsetDeleteResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
