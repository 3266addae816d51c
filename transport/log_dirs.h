// DescribeLogDirs (api key 33): what one broker stores: its data directory
// and, per partition replica in it, size, offsets and role (Kafka's
// DescribeLogDirs, kafka-log-dirs).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   DescribeLogDirsRequest v0
//     topics                   array of
//       name                   string
//       partitions             array of int32
//   DescribeLogDirsResponse v0
//     error_code               int16 (error code)
//     log_dirs                 array of
//       log_dir                string
//       error_code             int16 (error code)
//       total_bytes            int64
//       usable_bytes           int64
//       topics                 array of
//         name                 string
//         partitions           array of
//           partition_index    int32
//           size_bytes         int64
//           segments           int32
//           log_start_offset   int64
//           log_end_offset     int64
//           high_watermark     int64
//           leader             bool
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// DescribeLogDirs: the broker's data directory, its disk space, and every partition replica it
// holds (or those asked for).
struct DescribeLogDirsResponse;

struct DescribeLogDirsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeLogDirs;
  using Response = DescribeLogDirsResponse;

  struct Topic {
    std::string name;                 // topic name
    std::vector<int32_t> partitions;  // partition numbers; empty = all of the topic's here

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  std::vector<Topic> topics;  // empty = every partition replica on the broker

  bool operator==(const DescribeLogDirsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

struct DescribeLogDirsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeLogDirs;

  struct LogDir {
    struct Topic {
      struct Partition {
        int32_t partition_index = 0;   // partition number
        int64_t size_bytes = 0;        // bytes of its segment files
        int32_t segments = 0;          // segment files
        int64_t log_start_offset = 0;  // first offset kept
        int64_t log_end_offset = 0;    // next offset to be written
        int64_t high_watermark = 0;    // last committed offset + 1, as this replica knows it
        bool leader = false;           // this broker leads the partition

        bool operator==(const Partition&) const = default;
        template <class Self, class Codec>
        static void fields(Self& m, Codec& c) {
          c("partition_index", m.partition_index);
          c("size_bytes", m.size_bytes);
          c("segments", m.segments);
          c("log_start_offset", m.log_start_offset);
          c("log_end_offset", m.log_end_offset);
          c("high_watermark", m.high_watermark);
          c("leader", m.leader);
        }
      };

      std::string name;                   // topic name
      std::vector<Partition> partitions;  // per partition replica held here

      bool operator==(const Topic&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("name", m.name);
        c("partitions", m.partitions);
      }
    };

    std::string log_dir;                      // the data directory's path on the broker
    ErrorCode error_code = ErrorCode::kNone;  // STORAGE_ERROR after a failed write or fsync
    int64_t total_bytes = -1;                 // capacity of its file system, -1 unknown
    int64_t usable_bytes = -1;                // bytes still free for the broker, -1 unknown
    std::vector<Topic> topics;                // per topic

    bool operator==(const LogDir&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("log_dir", m.log_dir);
      c("error_code", m.error_code);
      c("total_bytes", m.total_bytes);
      c("usable_bytes", m.usable_bytes);
      c("topics", m.topics);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::vector<LogDir> log_dirs;             // one: the broker's data_dir

  bool operator==(const DescribeLogDirsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("log_dirs", m.log_dirs);
  }
};

}  // namespace mq::transport
