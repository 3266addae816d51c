// The metadata records: what the quorum's log carries, modelled on Kafka's
// KRaft records. One Raft entry carries one RecordBatch, applied atomically
// (metadata/image.h). Each record lists its fields once (transport/codec.h), so
// the encoder and the decoder cannot disagree; docs/metadata.md describes
// every field.
//
//   Record (encode_record)            RecordBatch (encode_batch)
//     type     int8 (RecordType)        version int16 (0)
//     version  int16 (0)                records array of bytes, each one Record
//     fields   the type's fields
//
// Integers are little-endian; strings int16-length-prefixed; arrays int32
// count-prefixed; a nullable array has count -1 for "no change".
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "transport/acls.h"
#include "transport/codec.h"

namespace mq::metadata {

using Bytes = transport::Bytes;
using BrokerId = int32_t;
using TopicId = uint64_t;
inline constexpr BrokerId kNoLeader = -1;
// PartitionChange::leader when the leader does not change.
inline constexpr BrokerId kLeaderUnchanged = -2;

// Whether a replica list (replicas, ISR, ELR, ...) holds `id`.
inline bool contains(const std::vector<BrokerId>& ids, BrokerId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

struct ConfigEntry {
  std::string key;
  std::string value;

  bool operator==(const ConfigEntry&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("key", m.key);
    c("value", m.value);
  }
};

// A broker process announces itself. The applier sets the broker epoch to the
// raft index of this record; the new registration starts fenced.
struct RegisterBroker {
  BrokerId broker_id = 0;
  uint64_t incarnation_id = 0;  // random, picked by the process at start-up
  std::string endpoint;         // where clients connect
  std::string rack;             // "" = no rack
  bool clean_shutdown = true;   // the previous run closed all its logs cleanly

  bool operator==(const RegisterBroker&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("incarnation_id", m.incarnation_id);
    c("endpoint", m.endpoint);
    c("rack", m.rack);
    c("clean_shutdown", m.clean_shutdown);
  }
};

// The four broker state records name the registration they act on by epoch,
// so a record meant for an older incarnation cannot touch a newer one.
struct UnregisterBroker {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;

  bool operator==(const UnregisterBroker&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
  }
};

struct FenceBroker {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;

  bool operator==(const FenceBroker&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
  }
};

struct UnfenceBroker {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;

  bool operator==(const UnfenceBroker&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
  }
};

// The broker asked to shut down: it is no longer electable and leads nothing.
struct BrokerControlledShutdown {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;

  bool operator==(const BrokerControlledShutdown&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
  }
};

// A new topic; its partitions follow as Partition records in the same batch.
struct Topic {
  std::string name;
  TopicId topic_id = 0;
  int32_t partition_count = 0;
  std::vector<ConfigEntry> configs;

  bool operator==(const Topic&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("topic_id", m.topic_id);
    c("partition_count", m.partition_count);
    c("configs", m.configs);
  }
};

// A new partition (created with its topic or by add_partitions), epochs 0.
struct Partition {
  std::string topic;
  int32_t partition = 0;
  std::vector<BrokerId> replicas;
  std::vector<BrokerId> isr;
  BrokerId leader = kNoLeader;
  std::vector<BrokerId> elr;             // eligible leader replicas (KIP-966)
  std::vector<BrokerId> last_known_elr;  // ELR members last seen before ISR and ELR emptied
  std::vector<BrokerId> adding_replicas;
  std::vector<BrokerId> removing_replicas;

  bool operator==(const Partition&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partition", m.partition);
    c("replicas", m.replicas);
    c("isr", m.isr);
    c("leader", m.leader);
    c("elr", m.elr);
    c("last_known_elr", m.last_known_elr);
    c("adding_replicas", m.adding_replicas);
    c("removing_replicas", m.removing_replicas);
  }
};

// Only the changed fields: a null array or kLeaderUnchanged keeps the old
// value. Applying bumps partition_epoch always and leader_epoch when `leader`
// is given. `partition_epoch` is the epoch the change was decided from: a
// change decided from an older state is rejected at apply, not merged.
struct PartitionChange {
  std::string topic;
  int32_t partition = 0;
  int32_t partition_epoch = 0;
  BrokerId leader = kLeaderUnchanged;
  std::optional<std::vector<BrokerId>> replicas;
  std::optional<std::vector<BrokerId>> isr;
  std::optional<std::vector<BrokerId>> elr;
  std::optional<std::vector<BrokerId>> last_known_elr;
  std::optional<std::vector<BrokerId>> adding_replicas;
  std::optional<std::vector<BrokerId>> removing_replicas;

  bool operator==(const PartitionChange&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partition", m.partition);
    c("partition_epoch", m.partition_epoch);
    c("leader", m.leader);
    c("replicas", m.replicas);
    c("isr", m.isr);
    c("elr", m.elr);
    c("last_known_elr", m.last_known_elr);
    c("adding_replicas", m.adding_replicas);
    c("removing_replicas", m.removing_replicas);
  }
};

struct RemoveTopic {
  std::string name;
  TopicId topic_id = 0;

  bool operator==(const RemoveTopic&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("topic_id", m.topic_id);
  }
};

enum class ConfigResource : int8_t {
  kCluster = 1,  // resource name "": the defaults of every broker and topic
  kTopic = 2,    // resource name = topic name
  kBroker = 4,   // resource name = decimal broker id
};

// Sets `key` of one resource to `value`, or deletes it when `value` is null.
struct Config {
  ConfigResource resource = ConfigResource::kTopic;
  std::string resource_name;
  std::string key;
  std::optional<std::string> value;

  bool operator==(const Config&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resource", m.resource);
    c("resource_name", m.resource_name);
    c("key", m.key);
    c("value", m.value);
  }
};

// Producer ids [block_start, block_start + block_size) now belong to broker_id.
struct ProducerIds {
  BrokerId broker_id = 0;
  int64_t broker_epoch = 0;
  int64_t block_start = 0;
  int32_t block_size = 0;

  bool operator==(const ProducerIds&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
    c("block_start", m.block_start);
    c("block_size", m.block_size);
  }
};

// InitProducerId bumped the epoch of an existing producer id to
// `producer_epoch` (the id's previous epoch + 1): produces with an older
// epoch of that id are refused from then on, on every broker. An id never
// bumped is at epoch 0.
struct ProducerEpoch {
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;

  bool operator==(const ProducerEpoch&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("producer_id", m.producer_id);
    c("producer_epoch", m.producer_epoch);
  }
};

// Names the cluster; set once, by the first controller.
struct ClusterId {
  std::string cluster_id;

  bool operator==(const ClusterId&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("cluster_id", m.cluster_id);
  }
};

// Stores an ACL binding (transport/acls.h); the image holds each once.
struct Acl {
  transport::AclBinding acl;

  bool operator==(const Acl&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("acl", m.acl);
  }
};

// Removes a stored ACL binding.
struct RemoveAcl {
  transport::AclBinding acl;

  bool operator==(const RemoveAcl&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("acl", m.acl);
  }
};

// The variant index is the record's wire type; append new types at the end.
using Record =
    std::variant<RegisterBroker, UnregisterBroker, FenceBroker, UnfenceBroker,
                 BrokerControlledShutdown, Topic, Partition, PartitionChange, RemoveTopic, Config,
                 ProducerIds, ClusterId, ProducerEpoch, Acl, RemoveAcl>;

enum class RecordType : int8_t {
  kRegisterBroker = 0,
  kUnregisterBroker = 1,
  kFenceBroker = 2,
  kUnfenceBroker = 3,
  kBrokerControlledShutdown = 4,
  kTopic = 5,
  kPartition = 6,
  kPartitionChange = 7,
  kRemoveTopic = 8,
  kConfig = 9,
  kProducerIds = 10,
  kClusterId = 11,
  kProducerEpoch = 12,
  kAcl = 13,
  kRemoveAcl = 14,
};

using RecordBatch = std::vector<Record>;

inline constexpr int16_t kRecordVersion = 0;
inline constexpr int16_t kBatchVersion = 0;

RecordType record_type(const Record& record);
std::string_view record_type_name(RecordType type);
// "PartitionChange orders-3 leader 2 isr [2,3]", for logs and test failures.
std::string describe(const Record& record);

// Fails with kInvalidRequest if a string or array exceeds its length prefix.
Result<Bytes> encode_record(const Record& record);
// Fails with kCorruptMessage naming the field and byte offset, the unknown
// type or version, or an enum value out of range.
Result<Record> decode_record(std::span<const uint8_t> bytes);

Result<Bytes> encode_batch(const RecordBatch& batch);
Result<RecordBatch> decode_batch(std::span<const uint8_t> bytes);

}  // namespace mq::metadata
