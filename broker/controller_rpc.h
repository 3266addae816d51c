// The requests brokers send the active controller through the quorum's
// controller-call channel (quorum::QuorumService::call_leader), and the
// replies. Each call is one ControllerCall whose body is the kind's request
// struct; each reply one ControllerReply whose body is the kind's response
// struct (types as in transport/codec.h; docs/cluster.md, "Controller calls"):
//
//   ControllerCall                 ControllerReply
//     version  int16 (0)             version        int16 (0)
//     kind     int8 (CallKind)       error_code     int16 (error code)
//     body     bytes                 error_message  string
//                                    body           bytes (empty on error)
//
// Calls may reach the handler more than once (the channel retries across
// leader changes), so every kind is idempotent or fenced by epochs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "base/status.h"
#include "metadata/controller.h"
#include "transport/acls.h"
#include "transport/codec.h"

namespace mq::broker {

using Bytes = transport::Bytes;

enum class CallKind : int8_t {
  kRegisterBroker = 0,
  kBrokerHeartbeat = 1,
  kAlterPartition = 2,
  kAllocateProducerIds = 3,
  kCreateTopic = 4,
  kDeleteTopic = 5,
  kAddPartitions = 6,
  kAlterTopicConfigs = 7,
  kElectLeaders = 8,
  kAlterReassignments = 9,
  kControlledShutdown = 10,
  kBumpProducerEpoch = 11,
  kBrokersBehind = 12,
  kAddVoter = 13,
  kRemoveVoter = 14,
  kUnregisterBroker = 15,
  kCreateAcls = 16,  // body transport::CreateAclsRequest, reply CreateAclsResponse
  kDeleteAcls = 17,  // body transport::DeleteAclsRequest, reply DeleteAclsResponse
};

struct ControllerCall {
  int16_t version = 0;
  CallKind kind = CallKind::kRegisterBroker;
  transport::Bytes body;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("kind", m.kind);
    c("body", m.body);
  }
};

struct ControllerReply {
  int16_t version = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::string error_message;
  transport::Bytes body;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("body", m.body);
  }
};

struct RegisterBrokerReply {
  int64_t broker_epoch = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_epoch", m.broker_epoch);
  }
};

// The partition as the controller committed it.
struct AlterPartitionReply {
  int32_t leader = -1;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> isr;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("leader", m.leader);
    c("leader_epoch", m.leader_epoch);
    c("partition_epoch", m.partition_epoch);
    c("isr", m.isr);
  }
};

// The calls that name only the calling broker, fenced by its epoch:
// AllocateProducerIds, and ControlledShutdown (move its leaderships away).
struct BrokerEpochCall {
  int32_t broker_id = 0;
  int64_t broker_epoch = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
  }
};

struct ReplicaList {
  std::vector<int32_t> replicas;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("replicas", m.replicas);
  }
};

struct CreateTopicCall {
  std::string name;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  std::vector<metadata::ConfigEntry> configs;
  std::vector<ReplicaList> assignment;  // manual: one list per partition, or empty
  bool validate_only = false;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("partitions", m.partitions);
    c("replication_factor", m.replication_factor);
    c("configs", m.configs);
    c("assignment", m.assignment);
    c("validate_only", m.validate_only);
  }
};

struct CreateTopicReply {
  uint64_t topic_id = 0;
  std::vector<ReplicaList> assignment;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic_id", m.topic_id);
    c("assignment", m.assignment);
  }
};

struct DeleteTopicCall {
  std::string name;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
  }
};

struct AddPartitionsCall {
  std::string name;
  int32_t total = 0;
  bool validate_only = false;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("total", m.total);
    c("validate_only", m.validate_only);
  }
};

struct AlterTopicConfigsCall {
  std::string name;
  std::vector<metadata::ConfigEntry> set;
  std::vector<std::string> remove;
  bool validate_only = false;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("set", m.set);
    c("remove", m.remove);
    c("validate_only", m.validate_only);
  }
};

struct ElectLeadersPartition {
  std::string topic;
  int32_t partition = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partition", m.partition);
  }
};

// Preferred (0) or unclean (1) elections of `partitions`; empty = every partition.
struct ElectLeadersCall {
  int8_t election_type = 0;
  std::vector<ElectLeadersPartition> partitions;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("election_type", m.election_type);
    c("partitions", m.partitions);
  }
};

// One partition's outcome of an ElectLeaders or AlterReassignments call, in
// the order asked (ElectLeaders with an empty list: every partition). An
// election's error_message starts "ELECTION_NOT_NEEDED: " when nothing had
// to change.
struct PartitionResult {
  std::string topic;
  int32_t partition = 0;
  ErrorCode error_code = ErrorCode::kNone;
  std::string error_message;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partition", m.partition);
    c("error_code", m.error_code);
    c("error_message", m.error_message);
  }
};

struct ElectLeadersReply {
  std::vector<PartitionResult> results;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

struct ReassignPartition {
  std::string topic;
  int32_t partition = 0;
  std::optional<std::vector<int32_t>> replicas;  // the target, null = cancel

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topic", m.topic);
    c("partition", m.partition);
    c("replicas", m.replicas);
  }
};

// Reassignments (and cancellations) of `partitions`, and the reassignment
// throttle: -1 leaves it, 0 removes it, > 0 sets it (bytes per second).
struct AlterReassignmentsCall {
  int64_t throttle_bytes_per_sec = -1;
  bool validate_only = false;
  std::vector<ReassignPartition> partitions;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("throttle_bytes_per_sec", m.throttle_bytes_per_sec);
    c("validate_only", m.validate_only);
    c("partitions", m.partitions);
  }
};

// One result per partition, in the order asked.
struct AlterReassignmentsReply {
  std::vector<PartitionResult> results;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

// InitProducerId with an existing id: bump its epoch (metadata::next_producer_epoch).
struct BumpProducerEpochCall {
  int32_t broker_id = 0;
  int64_t broker_epoch = 0;
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;  // the epoch the producer holds

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("broker_epoch", m.broker_epoch);
    c("producer_id", m.producer_id);
    c("producer_epoch", m.producer_epoch);
  }
};

struct BumpProducerEpochReply {
  int16_t producer_epoch = 0;  // the id's epoch now; -1: its epochs are used up, take a new id

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("producer_epoch", m.producer_epoch);
  }
};

// Which live brokers (unfenced, not shutting down) have not applied the
// metadata up to `metadata_offset` (as their heartbeats report it): asked
// until none, after an admin change.
struct BrokersBehindCall {
  uint64_t metadata_offset = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("metadata_offset", m.metadata_offset);
  }
};

struct BrokersBehindReply {
  std::vector<int32_t> brokers;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("brokers", m.brokers);
  }
};

// Adds a quorum observer to the voters (endpoint "tcp://host:port", as it
// announced it) or, with an empty endpoint, removes a voter: answered once
// the new voter set is committed (quorum::QuorumService::add_voter).
struct VoterChangeCall {
  int32_t voter_id = 0;
  std::string endpoint;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("voter_id", m.voter_id);
    c("endpoint", m.endpoint);
  }
};

// Removes a retired broker's registration (metadata::Controller::unregister_broker).
struct UnregisterBrokerCall {
  int32_t broker_id = 0;

  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
  }
};

struct EmptyReply {
  template <class Self, class Codec>
  static void fields(Self&, Codec&) {}
};

// The calls that carry metadata/ types as they are: RegisterBroker
// (BrokerRegistration), BrokerHeartbeat (BrokerHeartbeat, answered with
// HeartbeatResponse), AlterPartition (AlterPartitionRequest),
// AllocateProducerIds (answered with ProducerIdBlock), ControlledShutdown
// (answered with ControlledShutdownResponse).

// Encodes a call of `kind` carrying `request`.
template <class Request>
transport::Bytes encode_call(CallKind kind, const Request& request) {
  std::string body = transport::encode_struct(request);
  ControllerCall call{.kind = kind, .body = transport::Bytes(body.begin(), body.end())};
  std::string bytes = transport::encode_struct(call);
  return transport::Bytes(bytes.begin(), bytes.end());
}

// A reply: the error, or ok with `response` as its body.
template <class Response>
transport::Bytes encode_reply(const Result<Response>& response) {
  ControllerReply reply;
  if (response.is_ok()) {
    std::string body = transport::encode_struct(*response);
    reply.body = transport::Bytes(body.begin(), body.end());
  } else {
    reply.error_code = response.code();
    reply.error_message = response.status().message();
  }
  std::string bytes = transport::encode_struct(reply);
  return transport::Bytes(bytes.begin(), bytes.end());
}

// The response in `reply_bytes`, or the error the controller answered with.
template <class Response>
Result<Response> decode_reply(std::span<const uint8_t> reply_bytes) {
  MQ_ASSIGN_OR_RETURN(ControllerReply reply,
                      transport::decode_versioned_struct<ControllerReply>(
                          reply_bytes, ErrorCode::kCorruptMessage, "controller reply"));
  if (reply.error_code != ErrorCode::kNone) return Status(reply.error_code, reply.error_message);
  return transport::decode_struct<Response>(reply.body, ErrorCode::kCorruptMessage,
                                            "controller reply body");
}

}  // namespace mq::broker
