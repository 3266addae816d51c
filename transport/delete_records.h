// DeleteRecords (api key 6): moves partitions' log start offsets forward,
// deleting the records below them (Kafka's DeleteRecords, rpk's trim-prefix).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   DeleteRecordsRequest v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         offset               int64
//     timeout_ms               int32
//   DeleteRecordsResponse v0
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         low_watermark        int64
//         error_code           int16 (error code)
//         error_message        nullable string
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// DeleteRecordsRequest partition offset: delete up to the high watermark.
constexpr int64_t kDeleteToHighWatermark = -1;

// DeleteRecords: deletes the records below an offset in each partition, on its leader; answered
// once the in-sync replicas have deleted them too, or at timeout_ms.
struct DeleteRecordsResponse;

struct DeleteRecordsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteRecords;
  using Response = DeleteRecordsResponse;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;  // partition number
      int64_t offset =
          -1;  // the new log start offset: records below it go; -1 = the high watermark

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("offset", m.offset);
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

  std::vector<Topic> topics;   // per topic
  int32_t timeout_ms = 30000;  // how long to wait for the in-sync followers to delete too

  bool operator==(const DeleteRecordsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
    c("timeout_ms", m.timeout_ms);
  }
};

struct DeleteRecordsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteRecords;

  struct Topic {
    struct Partition {
      int32_t partition_index = 0;  // partition number
      int64_t low_watermark =
          -1;  // the lowest log start offset over the in-sync replicas; -1 on error
      ErrorCode error_code = ErrorCode::kNone;   // per-partition error
      std::optional<std::string> error_message;  // detail for people

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("low_watermark", m.low_watermark);
        c("error_code", m.error_code);
        c("error_message", m.error_message);
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

  bool operator==(const DeleteRecordsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
