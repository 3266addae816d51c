// API keys of the mq wire protocol, the versions this build speaks, and the
// version negotiation rule. docs/protocol.md lists every API and its messages.
//
// Api key ranges (int16, stable forever):
//     0 -  99  client APIs: data path, admin, consumer groups
//   100 - 199  replication RPCs between brokers (followers also use Fetch)
//   200 - 299  quorum and controller RPCs between voters and brokers
//   300 - 32767 unassigned
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace mq::transport {

enum class ApiKey : int16_t {
  // Data path.
  kApiVersions = 0,
  kMetadata = 1,
  kProduce = 2,
  kFetch = 3,
  kListOffsets = 4,
  kInitProducerId = 5,
  kDeleteRecords = 6,
  kFindMessages = 7,
  kListDelayed = 8,
  kCancelDelayed = 9,
  kReceiveMessages = 10,
  kAckMessages = 11,
  // Admin.
  kCreateTopics = 20,
  kDeleteTopics = 21,
  kCreatePartitions = 22,
  kDescribeConfigs = 23,
  kAlterConfigs = 24,
  kElectLeaders = 25,
  kDescribeQuorum = 26,
  kAlterPartitionReassignments = 27,
  kListPartitionReassignments = 28,
  kDescribeCluster = 29,
  kAddRaftVoter = 30,
  kRemoveRaftVoter = 31,
  kUnregisterBroker = 32,
  kDescribeLogDirs = 33,
  kDescribeAcls = 34,
  kCreateAcls = 35,
  kDeleteAcls = 36,
  // Consumer groups.
  kFindCoordinator = 40,
  kJoinGroup = 41,
  kSyncGroup = 42,
  kHeartbeat = 43,
  kLeaveGroup = 44,
  kOffsetCommit = 45,
  kOffsetFetch = 46,
  kListGroups = 47,
  kDescribeGroups = 48,
  kDeleteGroups = 49,
  kOffsetDelete = 50,
  // Replication (100-199).
  kOffsetForLeaderEpoch = 100,
  kAlterPartition = 101,  // reserved: leader asks the controller to change the ISR
  // Quorum and controller (200-299), served on the quorum endpoint only (quorum/,
  // docs/protocol.md §16), never on the client port. Raft messages travel on
  // kVote, kAppendEntries and kInstallSnapshot (raft::api_key); requests to the
  // active controller on kControllerCall. 201, 204 and 205 stay reserved.
  kVote = 200,
  kBeginQuorumEpoch = 201,
  kAppendEntries = 202,
  kInstallSnapshot = 203,
  kBrokerRegistration = 204,
  kBrokerHeartbeat = 205,
  kControllerCall = 206,
};

constexpr int16_t kReplicationApiKeyFirst = 100;
constexpr int16_t kReplicationApiKeyLast = 199;
constexpr int16_t kQuorumApiKeyFirst = 200;
constexpr int16_t kQuorumApiKeyLast = 299;

struct VersionRange {
  int16_t min_version = 0;
  int16_t max_version = 0;
  bool contains(int16_t version) const { return version >= min_version && version <= max_version; }
};

struct SupportedApi {
  ApiKey api_key;
  VersionRange versions;
};

// "Produce", "JoinGroup", ...; "Unknown" for a key this build does not know.
std::string_view api_name(ApiKey key);

// The versions this build implements for `key`; nullopt for reserved and
// unknown keys.
std::optional<VersionRange> supported_versions(ApiKey key);
bool is_supported(ApiKey key, int16_t version);

// Every API this build implements, in api key order: the body of an
// ApiVersions response.
std::span<const SupportedApi> supported_apis();

// The version to use with a peer that supports `theirs`: the highest version
// both sides support, or nullopt when the ranges do not overlap.
std::optional<int16_t> negotiate_version(VersionRange ours, VersionRange theirs);

}  // namespace mq::transport
