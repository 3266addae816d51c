// Metadata (api key 1): brokers, topics, partitions, leaders and replicas.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   MetadataRequest v0
//     topics                   nullable array of string
//     allow_auto_topic_creation bool
//   MetadataResponse v0
//     brokers                  array of
//       node_id                int32
//       host                   string
//       port                   int32
//       rack                   nullable string
//     cluster_id               nullable string
//     controller_id            int32
//     topics                   array of
//       error_code             int16 (error code)
//       name                   string
//       is_internal            bool
//       partitions             array of
//         error_code           int16 (error code)
//         partition_index      int32
//         leader_id            int32
//         leader_epoch         int32
//         replica_nodes        array of int32
//         isr_nodes            array of int32
//         offline_replicas     array of int32
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// Metadata: brokers, topics, partitions, leaders and replicas. Clients refresh it on NOT_LEADER and
// similar errors.
struct MetadataResponse;

struct MetadataRequest {
  static constexpr ApiKey kApiKey = ApiKey::kMetadata;
  using Response = MetadataResponse;

  std::optional<std::vector<std::string>>
      topics;  // topics to describe; null = all topics, empty = none (brokers and controller only)
  bool allow_auto_topic_creation = false;  // create missing topics if the broker allows it

  bool operator==(const MetadataRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
    c("allow_auto_topic_creation", m.allow_auto_topic_creation);
  }
};

struct MetadataResponse {
  static constexpr ApiKey kApiKey = ApiKey::kMetadata;

  struct Broker {
    int32_t node_id = -1;             // broker id
    std::string host;                 // host name or address clients connect to
    int32_t port = 0;                 // TCP port of the broker's ROUTER socket
    std::optional<std::string> rack;  // rack id, null if unset

    bool operator==(const Broker&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("node_id", m.node_id);
      c("host", m.host);
      c("port", m.port);
      c("rack", m.rack);
    }
  };

  struct Topic {
    struct Partition {
      ErrorCode error_code = ErrorCode::kNone;  // e.g. LEADER_NOT_AVAILABLE
      int32_t partition_index = 0;              // partition number
      int32_t leader_id = -1;                   // node id of the leader, -1 if none
      int32_t leader_epoch = -1;                // epoch of that leader
      std::vector<int32_t> replica_nodes;       // node ids of all replicas
      std::vector<int32_t> isr_nodes;           // node ids of the in-sync replicas
      std::vector<int32_t> offline_replicas;    // node ids of replicas on offline brokers

      bool operator==(const Partition&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("error_code", m.error_code);
        c("partition_index", m.partition_index);
        c("leader_id", m.leader_id);
        c("leader_epoch", m.leader_epoch);
        c("replica_nodes", m.replica_nodes);
        c("isr_nodes", m.isr_nodes);
        c("offline_replicas", m.offline_replicas);
      }
    };

    ErrorCode error_code = ErrorCode::kNone;  // e.g. UNKNOWN_TOPIC_OR_PARTITION, INVALID_TOPIC
    std::string name;                         // topic name
    bool is_internal = false;                 // true for internal topics such as __consumer_offsets
    std::vector<Partition> partitions;        // the topic's partitions

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("error_code", m.error_code);
      c("name", m.name);
      c("is_internal", m.is_internal);
      c("partitions", m.partitions);
    }
  };

  std::vector<Broker> brokers;            // live brokers
  std::optional<std::string> cluster_id;  // cluster id, null if not yet known
  int32_t controller_id = -1;             // node id of the active controller, -1 if none
  std::vector<Topic> topics;  // one entry per requested topic (all topics if the request had null)

  bool operator==(const MetadataResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("brokers", m.brokers);
    c("cluster_id", m.cluster_id);
    c("controller_id", m.controller_id);
    c("topics", m.topics);
  }
};

}  // namespace mq::transport
