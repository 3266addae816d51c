// Consumer group membership: FindCoordinator (40), JoinGroup (41), SyncGroup (42),
// Heartbeat (43), LeaveGroup (44).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   FindCoordinatorRequest v0
//     key                      string
//     key_type                 int8 (CoordinatorType)
//   FindCoordinatorResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     node_id                  int32
//     host                     string
//     port                     int32
//   JoinGroupRequest v0
//     group_id                 string
//     session_timeout_ms       int32
//     rebalance_timeout_ms     int32
//     member_id                string
//     group_instance_id        nullable string
//     protocol_type            string
//     protocols                array of
//       name                   string
//       metadata               bytes
//   JoinGroupResponse v0
//     error_code               int16 (error code)
//     generation_id            int32
//     protocol_type            nullable string
//     protocol_name            nullable string
//     leader                   string
//     member_id                string
//     members                  array of
//       member_id              string
//       group_instance_id      nullable string
//       metadata               bytes
//   SyncGroupRequest v0
//     group_id                 string
//     generation_id            int32
//     member_id                string
//     group_instance_id        nullable string
//     protocol_type            nullable string
//     protocol_name            nullable string
//     assignments              array of
//       member_id              string
//       assignment             bytes
//   SyncGroupResponse v0
//     error_code               int16 (error code)
//     protocol_type            nullable string
//     protocol_name            nullable string
//     assignment               bytes
//   HeartbeatRequest v0
//     group_id                 string
//     generation_id            int32
//     member_id                string
//     group_instance_id        nullable string
//   HeartbeatResponse v0
//     error_code               int16 (error code)
//   LeaveGroupRequest v0
//     group_id                 string
//     members                  array of
//       member_id              string
//       group_instance_id      nullable string
//   LeaveGroupResponse v0
//     error_code               int16 (error code)
//     members                  array of
//       member_id              string
//       group_instance_id      nullable string
//       error_code             int16 (error code)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

enum class CoordinatorType : int8_t {
  kGroup = 0,
  kTransaction = 1,  // reserved: transactions are not implemented
};

// FindCoordinator: finds the broker that coordinates a group (the leader of the offsets partition
// the group id hashes to).
struct FindCoordinatorResponse;

struct FindCoordinatorRequest {
  static constexpr ApiKey kApiKey = ApiKey::kFindCoordinator;
  using Response = FindCoordinatorResponse;

  std::string key;                                     // the group id
  CoordinatorType key_type = CoordinatorType::kGroup;  // 0 = group, 1 = transaction (reserved)

  bool operator==(const FindCoordinatorRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("key", m.key);
    c("key_type", m.key_type);
  }
};

struct FindCoordinatorResponse {
  static constexpr ApiKey kApiKey = ApiKey::kFindCoordinator;

  ErrorCode error_code = ErrorCode::kNone;   // e.g. COORDINATOR_NOT_AVAILABLE
  std::optional<std::string> error_message;  // detail for people
  int32_t node_id = -1;                      // coordinator node id
  std::string host;                          // coordinator host
  int32_t port = 0;                          // coordinator port

  bool operator==(const FindCoordinatorResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("node_id", m.node_id);
    c("host", m.host);
    c("port", m.port);
  }
};

// JoinGroup: joins a group or rejoins it for a rebalance. A first join with an empty member id gets
// MEMBER_ID_REQUIRED and its member id, and joins again with it.
struct JoinGroupResponse;

struct JoinGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kJoinGroup;
  using Response = JoinGroupResponse;

  struct Protocol {
    std::string name;  // assignor name: range, roundrobin, sticky, broadcast
    Bytes metadata;    // subscription, opaque to the broker except for its assignors

    bool operator==(const Protocol&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("metadata", m.metadata);
    }
  };

  std::string group_id;  // the group
  int32_t session_timeout_ms =
      45000;  // the member is removed if no heartbeat arrives for this long
  int32_t rebalance_timeout_ms = 300000;  // how long the coordinator waits for members to rejoin
  std::string member_id;                  // empty on the first join
  std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members
  std::string protocol_type;                     // "consumer" for consumer groups
  std::vector<Protocol> protocols;               // assignors the member supports, preferred first

  bool operator==(const JoinGroupRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("session_timeout_ms", m.session_timeout_ms);
    c("rebalance_timeout_ms", m.rebalance_timeout_ms);
    c("member_id", m.member_id);
    c("group_instance_id", m.group_instance_id);
    c("protocol_type", m.protocol_type);
    c("protocols", m.protocols);
  }
};

struct JoinGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kJoinGroup;

  struct Member {
    std::string member_id;                         // member id
    std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members
    Bytes metadata;                                // the member's metadata for the chosen protocol

    bool operator==(const Member&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("member_id", m.member_id);
      c("group_instance_id", m.group_instance_id);
      c("metadata", m.metadata);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;   // e.g. MEMBER_ID_REQUIRED, REBALANCE_IN_PROGRESS
  int32_t generation_id = -1;                // the new generation
  std::optional<std::string> protocol_type;  // the group's protocol type
  std::optional<std::string> protocol_name;  // the assignor chosen
  std::string leader;                        // member id of the group leader
  std::string member_id;                     // this member's id
  std::vector<Member> members;               // all members; only sent to the leader

  bool operator==(const JoinGroupResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("generation_id", m.generation_id);
    c("protocol_type", m.protocol_type);
    c("protocol_name", m.protocol_name);
    c("leader", m.leader);
    c("member_id", m.member_id);
    c("members", m.members);
  }
};

// SyncGroup: completes a rebalance: the leader (or, with server-side assignment, nobody) sends
// assignments, every member receives its own.
struct SyncGroupResponse;

struct SyncGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kSyncGroup;
  using Response = SyncGroupResponse;

  struct Assignment {
    std::string member_id;  // member
    Bytes assignment;       // its partitions, opaque to the transport

    bool operator==(const Assignment&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("member_id", m.member_id);
      c("assignment", m.assignment);
    }
  };

  std::string group_id;                          // the group
  int32_t generation_id = -1;                    // generation from JoinGroup
  std::string member_id;                         // this member
  std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members
  std::optional<std::string> protocol_type;      // must match the group's, null = do not check
  std::optional<std::string> protocol_name;  // must match the chosen assignor, null = do not check
  std::vector<Assignment> assignments;       // from the leader only; empty from others

  bool operator==(const SyncGroupRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("generation_id", m.generation_id);
    c("member_id", m.member_id);
    c("group_instance_id", m.group_instance_id);
    c("protocol_type", m.protocol_type);
    c("protocol_name", m.protocol_name);
    c("assignments", m.assignments);
  }
};

struct SyncGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kSyncGroup;

  ErrorCode error_code = ErrorCode::kNone;   // e.g. ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS
  std::optional<std::string> protocol_type;  // the group's protocol type
  std::optional<std::string> protocol_name;  // the chosen assignor
  Bytes assignment;                          // this member's assignment

  bool operator==(const SyncGroupResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("protocol_type", m.protocol_type);
    c("protocol_name", m.protocol_name);
    c("assignment", m.assignment);
  }
};

// Heartbeat: keeps a member alive; the answer REBALANCE_IN_PROGRESS tells it to rejoin.
struct HeartbeatResponse;

struct HeartbeatRequest {
  static constexpr ApiKey kApiKey = ApiKey::kHeartbeat;
  using Response = HeartbeatResponse;

  std::string group_id;                          // the group
  int32_t generation_id = -1;                    // current generation
  std::string member_id;                         // this member
  std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members

  bool operator==(const HeartbeatRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("generation_id", m.generation_id);
    c("member_id", m.member_id);
    c("group_instance_id", m.group_instance_id);
  }
};

struct HeartbeatResponse {
  static constexpr ApiKey kApiKey = ApiKey::kHeartbeat;

  ErrorCode error_code = ErrorCode::kNone;  // e.g. REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID

  bool operator==(const HeartbeatResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
  }
};

// LeaveGroup: removes members from a group at once, triggering a rebalance.
struct LeaveGroupResponse;

struct LeaveGroupRequest {
  static constexpr ApiKey kApiKey = ApiKey::kLeaveGroup;
  using Response = LeaveGroupResponse;

  struct Member {
    std::string member_id;                         // member to remove
    std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members

    bool operator==(const Member&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("member_id", m.member_id);
      c("group_instance_id", m.group_instance_id);
    }
  };

  std::string group_id;         // the group
  std::vector<Member> members;  // members leaving

  bool operator==(const LeaveGroupRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("group_id", m.group_id);
    c("members", m.members);
  }
};

struct LeaveGroupResponse {
  static constexpr ApiKey kApiKey = ApiKey::kLeaveGroup;

  struct Member {
    std::string member_id;                         // member
    std::optional<std::string> group_instance_id;  // static membership id, null for dynamic members
    ErrorCode error_code = ErrorCode::kNone;       // per-member result

    bool operator==(const Member&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("member_id", m.member_id);
      c("group_instance_id", m.group_instance_id);
      c("error_code", m.error_code);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::vector<Member> members;              // one per requested member

  bool operator==(const LeaveGroupResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("members", m.members);
  }
};

}  // namespace mq::transport
