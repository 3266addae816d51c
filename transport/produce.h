// Produce (api key 2): appends record batches. Each partition carries its batches
// in its own record frame, byte for byte as the log stores them.
//
// Wire layout (types as in transport/codec.h, fields in this order; v1
// differs from v0 only by the response's current leader fields, v2 from v1
// only by the response's duplicates):
//   ProduceRequest v0-v2
//     acks                     int16
//     timeout_ms               int32
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         records              records frame
//   ProduceResponse v0-v2
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         error_message        nullable string
//         base_offset          int64
//         log_append_time_ms   int64
//         log_start_offset     int64
//         current_leader_id    int32 (v1+; on a leadership error, the leader
//                              this broker's metadata names, -1 = none known)
//         current_leader_epoch int32 (v1+; its leader epoch, -1 = none known)
//         duplicates           array of (v2+; records left out because their
//                              message id was in the de-duplication window)
//           index              int32 (the record's position among the
//                              partition's records in the request, from 0)
//           offset             int64 (the offset of the record that carried
//                              the id first)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// Values of ProduceRequest::acks.
constexpr int16_t kAcksAll = -1;    // every in-sync replica has the batch
constexpr int16_t kAcksLeader = 1;  // the leader appended the batch
constexpr int16_t kAcksNone = 0;    // no response; the request header sets kNoResponse

// Produce: appends record batches to partitions. Each partition's batches travel in their own
// record frame, byte for byte as the log stores them.
struct ProduceResponse;

struct ProduceRequest {
  static constexpr ApiKey kApiKey = ApiKey::kProduce;
  using Response = ProduceResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;  // partition number
      Frame records;                // one or more whole record batches (store/record_batch.h)

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("records", m.records);
      }
    };

    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions of the topic

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  int16_t acks = -1;  // -1 = all in-sync replicas, 1 = leader only, 0 = no response (the client
                      // also sets the kNoResponse header flag)
  int32_t timeout_ms = 30000;  // how long the broker waits for acks=-1 replication
  std::vector<Topic> topics;   // the data, per topic

  bool operator==(const ProduceRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("acks", m.acks);
    c("timeout_ms", m.timeout_ms);
    c("topics", m.topics);
  }
};

// A record the log left out as a duplicate (v2): the other records keep
// base_offset + their index.
struct ProduceDuplicate {
  int32_t index = 0;    // position among the partition's records in the request
  int64_t offset = -1;  // offset of the record that carried the message id first

  bool operator==(const ProduceDuplicate&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("index", m.index);
    c("offset", m.offset);
  }
};

struct ProduceResponse {
  static constexpr ApiKey kApiKey = ApiKey::kProduce;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;               // partition number
      ErrorCode error_code = ErrorCode::kNone;   // per-partition result
      std::optional<std::string> error_message;  // detail for people, null if none
      int64_t base_offset = -1;                  // offset of the first appended record
      int64_t log_append_time_ms =
          -1;  // broker time used as timestamp, -1 if the topic uses create time
      int64_t log_start_offset = -1;  // the partition's log start offset
      // v1: with NOT_LEADER or LEADER_NOT_AVAILABLE, who leads the partition
      // in this broker's metadata (Kafka's KIP-951), so a client retries
      // there without asking for metadata first. -1: none known.
      int32_t current_leader_id = -1;
      int32_t current_leader_epoch = -1;
      // v2: records not appended because their message id was in the
      // partition's de-duplication window (docs/messaging.md).
      std::vector<ProduceDuplicate> duplicates;

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("error_code", m.error_code);
        c("error_message", m.error_message);
        c("base_offset", m.base_offset);
        c("log_append_time_ms", m.log_append_time_ms);
        c("log_start_offset", m.log_start_offset);
        if (c.version() >= 1) {
          c("current_leader_id", m.current_leader_id);
          c("current_leader_epoch", m.current_leader_epoch);
        }
        if (c.version() >= 2) c("duplicates", m.duplicates);
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

  std::vector<Topic> topics;  // one entry per request topic

  bool operator==(const ProduceResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
