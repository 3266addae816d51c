// Topic administration: CreateTopics (20), DeleteTopics (21), CreatePartitions (22).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   CreateTopicsRequest v0
//     topics                   array of
//       name                   string
//       num_partitions         int32
//       replication_factor     int16
//       assignments            array of
//         partition_index      int32
//         broker_ids           array of int32
//       configs                array of
//         name                 string
//         value                nullable string
//     timeout_ms               int32
//     validate_only            bool
//   CreateTopicsResponse v0
//     topics                   array of
//       name                   string
//       error_code             int16 (error code)
//       error_message          nullable string
//       num_partitions         int32
//       replication_factor     int16
//   DeleteTopicsRequest v0
//     topic_names              array of string
//     timeout_ms               int32
//   DeleteTopicsResponse v0
//     responses                array of
//       name                   string
//       error_code             int16 (error code)
//       error_message          nullable string
//   CreatePartitionsRequest v0
//     topics                   array of
//       name                   string
//       count                  int32
//       assignments            nullable array of
//         broker_ids           array of int32
//     timeout_ms               int32
//     validate_only            bool
//   CreatePartitionsResponse v0
//     results                  array of
//       name                   string
//       error_code             int16 (error code)
//       error_message          nullable string
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// CreateTopics: creates topics (sent to the controller).
struct CreateTopicsResponse;

struct CreateTopicsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreateTopics;
  using Response = CreateTopicsResponse;

  struct Topic {
    struct Assignment {
      int32_t partition_index = 0;      // partition number
      std::vector<int32_t> broker_ids;  // replicas, preferred leader first

      bool operator==(const Assignment&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("partition_index", m.partition_index);
        c("broker_ids", m.broker_ids);
      }
    };

    struct Config {
      std::string name;                  // config key, e.g. retention.ms
      std::optional<std::string> value;  // value, null = broker default

      bool operator==(const Config&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("name", m.name);
        c("value", m.value);
      }
    };

    std::string name;                 // topic name
    int32_t num_partitions = -1;      // -1 = broker default; must be -1 if assignments are given
    int16_t replication_factor = -1;  // -1 = broker default; must be -1 if assignments are given
    std::vector<Assignment> assignments;  // manual replica assignment, empty = automatic
    std::vector<Config> configs;          // topic config overrides

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("num_partitions", m.num_partitions);
      c("replication_factor", m.replication_factor);
      c("assignments", m.assignments);
      c("configs", m.configs);
    }
  };

  std::vector<Topic> topics;   // topics to create
  int32_t timeout_ms = 30000;  // how long to wait for the topics to exist on all brokers
  bool validate_only = false;  // check the request, create nothing

  bool operator==(const CreateTopicsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
    c("timeout_ms", m.timeout_ms);
    c("validate_only", m.validate_only);
  }
};

struct CreateTopicsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreateTopics;

  struct Result {
    std::string name;  // topic name
    ErrorCode error_code =
        ErrorCode::kNone;  // e.g. TOPIC_ALREADY_EXISTS, INVALID_REPLICATION_FACTOR
    std::optional<std::string> error_message;  // detail for people
    int32_t num_partitions = -1;               // partitions created (or that would be)
    int16_t replication_factor = -1;           // replication factor used

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("error_code", m.error_code);
      c("error_message", m.error_message);
      c("num_partitions", m.num_partitions);
      c("replication_factor", m.replication_factor);
    }
  };

  std::vector<Result> topics;  // one per requested topic

  bool operator==(const CreateTopicsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

// DeleteTopics: deletes topics (sent to the controller).
struct DeleteTopicsResponse;

struct DeleteTopicsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteTopics;
  using Response = DeleteTopicsResponse;

  std::vector<std::string> topic_names;  // topics to delete
  int32_t timeout_ms = 30000;            // how long to wait for the deletion to reach all brokers

  bool operator==(const DeleteTopicsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic_names", m.topic_names);
    c("timeout_ms", m.timeout_ms);
  }
};

struct DeleteTopicsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteTopics;

  struct Result {
    std::string name;                          // topic name
    ErrorCode error_code = ErrorCode::kNone;   // per-topic result
    std::optional<std::string> error_message;  // detail for people

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("error_code", m.error_code);
      c("error_message", m.error_message);
    }
  };

  std::vector<Result> responses;  // one per requested topic

  bool operator==(const DeleteTopicsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("responses", m.responses);
  }
};

// CreatePartitions: adds partitions to existing topics (sent to the controller).
struct CreatePartitionsResponse;

struct CreatePartitionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreatePartitions;
  using Response = CreatePartitionsResponse;

  struct Topic {
    struct Assignment {
      std::vector<int32_t> broker_ids;  // replicas of one new partition

      bool operator==(const Assignment&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("broker_ids", m.broker_ids);
      }
    };

    std::string name;                                    // topic name
    int32_t count = 0;                                   // new total number of partitions
    std::optional<std::vector<Assignment>> assignments;  // one per new partition, null = automatic

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("count", m.count);
      c("assignments", m.assignments);
    }
  };

  std::vector<Topic> topics;   // topics to grow
  int32_t timeout_ms = 30000;  // how long to wait
  bool validate_only = false;  // check the request, change nothing

  bool operator==(const CreatePartitionsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
    c("timeout_ms", m.timeout_ms);
    c("validate_only", m.validate_only);
  }
};

struct CreatePartitionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreatePartitions;

  struct Result {
    std::string name;                          // topic name
    ErrorCode error_code = ErrorCode::kNone;   // e.g. INVALID_PARTITIONS
    std::optional<std::string> error_message;  // detail for people

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("error_code", m.error_code);
      c("error_message", m.error_message);
    }
  };

  std::vector<Result> results;  // one per requested topic

  bool operator==(const CreatePartitionsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

}  // namespace mq::transport
