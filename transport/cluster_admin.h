// Cluster administration: ElectLeaders (25), DescribeQuorum (26),
// AlterPartitionReassignments (27), ListPartitionReassignments (28),
// DescribeCluster (29), AddRaftVoter (30), RemoveRaftVoter (31),
// UnregisterBroker (32).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   ElectLeadersRequest v0
//     election_type            int8 (ElectionType)
//     topics                   nullable array of (null = every partition)
//       name                   string
//       partitions             array of int32
//     timeout_ms               int32
//   ElectLeadersResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     results                  array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         error_message        nullable string
//         elected              bool
//         leader_id            int32
//   DescribeQuorumRequest v0
//     (no fields)
//   DescribeQuorumResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     single_node              bool
//     node_id                  int32
//     voter                    bool
//     role                     int8 (QuorumRole)
//     leader_id                int32
//     term                     int64
//     commit_index             int64
//     applied_index            int64
//     last_log_index           int64
//     members                  array of
//       node_id                int32
//       voter                  bool
//       match_index            int64
//       lag                    int64
//       recent_active          bool
//       directory_id           string (v1+; "" = not heard yet)
//       heard_ms_ago           int64 (v1+; -1 = not in this term)
//     directory_id             string (v1+; the answering node's quorum directory)
//     voters_recorded_at       int64 (v1+; 0 = the configured set, no configuration entry)
//     voters                   array of (v1+; the voter set in effect)
//       node_id                int32
//       directory_id           string ("" = not recorded yet)
//       endpoint               string (its quorum endpoint, "tcp://host:port")
//   AlterPartitionReassignmentsRequest v0
//     timeout_ms               int32
//     throttle_bytes_per_sec   int64 (-1 = leave as is, 0 = remove, > 0 = set)
//     validate_only            bool
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         replicas             nullable array of int32 (null = cancel)
//   AlterPartitionReassignmentsResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     results                  array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         error_code           int16 (error code)
//         error_message        nullable string
//   ListPartitionReassignmentsRequest v0
//     topics                   nullable array of (null = every partition)
//       name                   string
//       partitions             array of int32
//   ListPartitionReassignmentsResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     throttle_bytes_per_sec   int64 (0 = none)
//     topics                   array of
//       name                   string
//       partitions             array of
//         partition_index      int32
//         replicas             array of int32
//         adding_replicas      array of int32
//         removing_replicas    array of int32
//         isr                  array of int32
//         leader_id            int32
//   AddRaftVoterRequest v0                RemoveRaftVoterRequest v0
//     voter_id                 int32        voter_id                 int32
//     endpoint                 string       timeout_ms               int32
//     timeout_ms               int32
//   AddRaftVoterResponse v0, RemoveRaftVoterResponse v0, UnregisterBrokerResponse v0 (each)
//     error_code               int16 (error code)
//     error_message            nullable string
//   UnregisterBrokerRequest v0
//     broker_id                int32
//     timeout_ms               int32
//   DescribeClusterRequest v0
//     (no fields)
//   DescribeClusterResponse v0
//     error_code               int16 (error code)
//     error_message            nullable string
//     cluster_id               nullable string
//     controller_id            int32
//     brokers                  array of
//       node_id                int32
//       host                   string
//       port                   int32
//       rack                   nullable string
//       fenced                 bool
//       in_controlled_shutdown bool
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// Which leaders ElectLeaders chooses.
enum class ElectionType : int8_t {
  kPreferred = 0,  // the first replica of the assignment, if it is a live ISR member
  kUnclean = 1,    // any live replica of a partition without a leader (may lose data)
};

// The answering node's place in the metadata quorum (raft::Role's order).
enum class QuorumRole : int8_t {
  kFollower = 0,
  kPreCandidate = 1,
  kCandidate = 2,
  kLeader = 3,
};

// ElectLeaders: elects partition leaders on demand (preferred or unclean).
// One topic's per-partition results, the shape every per-partition admin
// answer shares (ElectLeaders, AlterPartitionReassignments).
template <class PartitionResult>
struct TopicResults {
  std::string name;                         // topic name
  std::vector<PartitionResult> partitions;  // one per partition asked for, in the order asked

  bool operator==(const TopicResults&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("name", m.name);
    c("partitions", m.partitions);
  }
};

// The entry of `topic` in `results`, appended on first use (topics stay in
// the order first named).
template <class PartitionResult>
TopicResults<PartitionResult>& results_of(std::vector<TopicResults<PartitionResult>>& results,
                                          const std::string& topic) {
  for (auto& entry : results) {
    if (entry.name == topic) return entry;
  }
  return results.emplace_back(TopicResults<PartitionResult>{.name = topic});
}

// A partition's outcome where nothing but success or the error is answered.
struct PartitionOutcome {
  int32_t partition_index = 0;               // partition number
  ErrorCode error_code = ErrorCode::kNone;   // per-partition result
  std::optional<std::string> error_message;  // why it failed

  bool operator==(const PartitionOutcome&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("partition_index", m.partition_index);
    c("error_code", m.error_code);
    c("error_message", m.error_message);
  }
};

struct ElectLeadersResponse;

struct ElectLeadersRequest {
  static constexpr ApiKey kApiKey = ApiKey::kElectLeaders;
  using Response = ElectLeadersResponse;

  struct Topic {
    std::string name;                 // topic name
    std::vector<int32_t> partitions;  // partition numbers

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  ElectionType election_type = ElectionType::kPreferred;  // 0 = preferred, 1 = unclean
  std::optional<std::vector<Topic>> topics;               // partitions to elect, null = all
  int32_t timeout_ms = 30000;  // how long to wait for the new leaders to be committed

  bool operator==(const ElectLeadersRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("election_type", m.election_type);
    c("topics", m.topics);
    c("timeout_ms", m.timeout_ms);
  }
};

struct ElectLeadersResponse {
  static constexpr ApiKey kApiKey = ApiKey::kElectLeaders;

  struct Partition {
    int32_t partition_index = 0;               // partition number
    ErrorCode error_code = ErrorCode::kNone;   // per-partition result
    std::optional<std::string> error_message;  // why it failed, or why no election was needed
    bool elected = false;                      // this request changed the leader
    int32_t leader_id = -1;                    // the leader afterwards, -1 = none or unknown

    bool operator==(const Partition&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("partition_index", m.partition_index);
      c("error_code", m.error_code);
      c("error_message", m.error_message);
      c("elected", m.elected);
      c("leader_id", m.leader_id);
    }
  };
  using Topic = TopicResults<Partition>;

  ErrorCode error_code = ErrorCode::kNone;   // request-level: e.g. INVALID_REQUEST, NOT_CONTROLLER
  std::optional<std::string> error_message;  // detail for people
  std::vector<Topic> results;                // per topic, empty on a request-level error

  bool operator==(const ElectLeadersResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("results", m.results);
  }
};

// DescribeQuorum: the metadata quorum as the answering node sees it (send it to the controller
// for every member's progress).
struct DescribeQuorumResponse;

struct DescribeQuorumRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeQuorum;
  using Response = DescribeQuorumResponse;

  bool operator==(const DescribeQuorumRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self&, Codec&) {}
};

struct DescribeQuorumResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeQuorum;

  struct Member {
    int32_t node_id = -1;        // member (= broker) id
    bool voter = false;          // voter, else observer
    int64_t match_index = 0;     // highest log index known to be in its log
    int64_t lag = 0;             // entries behind the leader's last log index
    bool recent_active = false;  // the leader heard from it within the last election timeout
    std::string directory_id;    // v1: of its quorum directory as it last said, "" = not yet
    int64_t heard_ms_ago = -1;   // v1: since its last answer to the leader, -1 = not this term

    bool operator==(const Member&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("node_id", m.node_id);
      c("voter", m.voter);
      c("match_index", m.match_index);
      c("lag", m.lag);
      c("recent_active", m.recent_active);
      if (c.version() >= 1) {
        c("directory_id", m.directory_id);
        c("heard_ms_ago", m.heard_ms_ago);
      }
    }
  };

  // One voter of the set in effect (the log's configuration entry, else the
  // configured cluster.voters).
  struct Voter {
    int32_t node_id = -1;
    std::string directory_id;  // "" = not recorded yet
    std::string endpoint;      // its quorum endpoint, "tcp://host:port"

    bool operator==(const Voter&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("node_id", m.node_id);
      c("directory_id", m.directory_id);
      c("endpoint", m.endpoint);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;   // request-level error
  std::optional<std::string> error_message;  // detail for people
  bool single_node =
      false;             // always false: every broker is in a quorum (a single node is one voter)
  int32_t node_id = -1;  // the answering node
  bool voter = false;    // the answering node is a voter
  QuorumRole role = QuorumRole::kFollower;  // the answering node's role
  int32_t leader_id = -1;                   // the quorum leader (active controller), -1 = unknown
  int64_t term = 0;                         // current term as the answering node knows it
  int64_t commit_index = 0;                 // highest committed log index it knows
  int64_t applied_index = 0;                // highest log index it applied
  int64_t last_log_index = 0;               // last index in its log
  std::vector<Member> members;              // every member with its progress; only from the leader
  std::string directory_id;                 // v1: the answering node's quorum directory
  int64_t voters_recorded_at = 0;  // v1: log index of the set's configuration entry, 0 = none
  std::vector<Voter> voters;       // v1: the voter set in effect, by id

  bool operator==(const DescribeQuorumResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("single_node", m.single_node);
    c("node_id", m.node_id);
    c("voter", m.voter);
    c("role", m.role);
    c("leader_id", m.leader_id);
    c("term", m.term);
    c("commit_index", m.commit_index);
    c("applied_index", m.applied_index);
    c("last_log_index", m.last_log_index);
    c("members", m.members);
    if (c.version() >= 1) {
      c("directory_id", m.directory_id);
      c("voters_recorded_at", m.voters_recorded_at);
      c("voters", m.voters);
    }
  }
};

// AddRaftVoter: makes `voter_id`, which runs as an observer of the metadata
// quorum and has caught up, a voter (Kafka KIP-853); answered once the new
// voter set is committed. One voter change at a time.
template <ApiKey Key>
struct OutcomeResponse;

struct AddRaftVoterRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAddRaftVoter;
  using Response = OutcomeResponse<ApiKey::kAddRaftVoter>;

  int32_t voter_id = -1;
  std::string endpoint;        // where the voters reach its quorum listener, "HOST:PORT"
  int32_t timeout_ms = 30000;  // how long to wait for the commit

  bool operator==(const AddRaftVoterRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("voter_id", m.voter_id);
    c("endpoint", m.endpoint);
    c("timeout_ms", m.timeout_ms);
  }
};

// RemoveRaftVoter: demotes a voter to an observer; answered once the new
// voter set is committed. A controller that removes itself hands over.
struct RemoveRaftVoterRequest {
  static constexpr ApiKey kApiKey = ApiKey::kRemoveRaftVoter;
  using Response = OutcomeResponse<ApiKey::kRemoveRaftVoter>;

  int32_t voter_id = -1;
  int32_t timeout_ms = 30000;

  bool operator==(const RemoveRaftVoterRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("voter_id", m.voter_id);
    c("timeout_ms", m.timeout_ms);
  }
};

// The answer to AddRaftVoter, RemoveRaftVoter and UnregisterBroker: the
// outcome, nothing else.
template <ApiKey Key>
struct OutcomeResponse {
  static constexpr ApiKey kApiKey = Key;

  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;  // detail for people

  bool operator==(const OutcomeResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
  }
};
using AddRaftVoterResponse = OutcomeResponse<ApiKey::kAddRaftVoter>;
using RemoveRaftVoterResponse = OutcomeResponse<ApiKey::kRemoveRaftVoter>;
using UnregisterBrokerResponse = OutcomeResponse<ApiKey::kUnregisterBroker>;

// UnregisterBroker: removes a retired broker's registration from the
// metadata; refused while it is running, is a quorum voter or still holds a
// replica. Answered once the change is in every live broker's image.
struct UnregisterBrokerRequest {
  static constexpr ApiKey kApiKey = ApiKey::kUnregisterBroker;
  using Response = OutcomeResponse<ApiKey::kUnregisterBroker>;

  int32_t broker_id = -1;
  int32_t timeout_ms = 30000;

  bool operator==(const UnregisterBrokerRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("broker_id", m.broker_id);
    c("timeout_ms", m.timeout_ms);
  }
};

// AlterPartitionReassignments: moves partitions to other replica sets (or
// cancels moves in progress), optionally setting the cluster's reassignment
// throttle; answered once the controller has committed the decisions.
struct AlterPartitionReassignmentsResponse;

struct AlterPartitionReassignmentsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterPartitionReassignments;
  using Response = AlterPartitionReassignmentsResponse;

  struct Partition {
    int32_t partition_index = 0;                   // partition number
    std::optional<std::vector<int32_t>> replicas;  // the target replicas, null = cancel

    bool operator==(const Partition&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("partition_index", m.partition_index);
      c("replicas", m.replicas);
    }
  };

  struct Topic {
    std::string name;                   // topic name
    std::vector<Partition> partitions;  // partitions to move

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  int32_t timeout_ms = 30000;           // how long to wait for the commit
  int64_t throttle_bytes_per_sec = -1;  // -1 = leave as is, 0 = remove, > 0 = set
  bool validate_only = false;           // check everything, change nothing
  std::vector<Topic> topics;

  bool operator==(const AlterPartitionReassignmentsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("timeout_ms", m.timeout_ms);
    c("throttle_bytes_per_sec", m.throttle_bytes_per_sec);
    c("validate_only", m.validate_only);
    c("topics", m.topics);
  }
};

struct AlterPartitionReassignmentsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterPartitionReassignments;

  using Partition = PartitionOutcome;
  using Topic = TopicResults<Partition>;

  ErrorCode error_code = ErrorCode::kNone;   // request-level: INVALID_REQUEST, NOT_CONTROLLER, ...
  std::optional<std::string> error_message;  // detail for people
  std::vector<Topic> results;                // per topic and partition, in the order asked

  bool operator==(const AlterPartitionReassignmentsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("results", m.results);
  }
};

// ListPartitionReassignments: the partitions being moved, as the answering
// broker's metadata has them.
struct ListPartitionReassignmentsResponse;

struct ListPartitionReassignmentsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListPartitionReassignments;
  using Response = ListPartitionReassignmentsResponse;

  using Topic = ElectLeadersRequest::Topic;

  std::optional<std::vector<Topic>> topics;  // partitions to look at, null = all

  bool operator==(const ListPartitionReassignmentsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("topics", m.topics);
  }
};

struct ListPartitionReassignmentsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListPartitionReassignments;

  struct Partition {
    int32_t partition_index = 0;
    std::vector<int32_t> replicas;           // every replica now: the target ones first
    std::vector<int32_t> adding_replicas;    // target replicas still catching up
    std::vector<int32_t> removing_replicas;  // replicas that leave once the others caught up
    std::vector<int32_t> isr;
    int32_t leader_id = -1;

    bool operator==(const Partition&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("partition_index", m.partition_index);
      c("replicas", m.replicas);
      c("adding_replicas", m.adding_replicas);
      c("removing_replicas", m.removing_replicas);
      c("isr", m.isr);
      c("leader_id", m.leader_id);
    }
  };

  struct Topic {
    std::string name;
    std::vector<Partition> partitions;  // only partitions being reassigned

    bool operator==(const Topic&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("name", m.name);
      c("partitions", m.partitions);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;
  std::optional<std::string> error_message;
  int64_t throttle_bytes_per_sec = 0;  // the reassignment throttle in force, 0 = none
  std::vector<Topic> topics;

  bool operator==(const ListPartitionReassignmentsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("throttle_bytes_per_sec", m.throttle_bytes_per_sec);
    c("topics", m.topics);
  }
};

// DescribeCluster: every registered broker with its state, fenced ones
// included (Metadata lists only the brokers clients may use), as the
// answering broker's metadata image has them.
struct DescribeClusterResponse;

struct DescribeClusterRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeCluster;
  using Response = DescribeClusterResponse;

  bool operator==(const DescribeClusterRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self&, Codec&) {}
};

struct DescribeClusterResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeCluster;

  struct Broker {
    int32_t node_id = -1;                 // broker id
    std::string host;                     // host of its client listener
    int32_t port = 0;                     // port of its client listener
    std::optional<std::string> rack;      // rack id, null if unset
    bool fenced = false;                  // not serving: no heartbeat within the session, or
                                          // registered and still catching up
    bool in_controlled_shutdown = false;  // stopping: its leaderships are being moved away

    bool operator==(const Broker&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("node_id", m.node_id);
      c("host", m.host);
      c("port", m.port);
      c("rack", m.rack);
      c("fenced", m.fenced);
      c("in_controlled_shutdown", m.in_controlled_shutdown);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;   // request-level error
  std::optional<std::string> error_message;  // detail for people
  std::optional<std::string> cluster_id;     // null if not yet known
  int32_t controller_id = -1;                // the active controller, -1 if none is known
  std::vector<Broker> brokers;               // every registered broker, by id

  bool operator==(const DescribeClusterResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("cluster_id", m.cluster_id);
    c("controller_id", m.controller_id);
    c("brokers", m.brokers);
  }
};

}  // namespace mq::transport
