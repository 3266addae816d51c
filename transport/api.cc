// Names and supported versions of the API keys.
#include "transport/api.h"

#include <algorithm>
#include <array>

namespace mq::transport {
namespace {

// Every implemented API, sorted by key. Raise max_version here when a message
// gains a version; lower min_version only with a deprecation note in
// docs/protocol.md.
constexpr std::array kSupportedApis = {
    SupportedApi{ApiKey::kApiVersions, {0, 0}},
    SupportedApi{ApiKey::kMetadata, {0, 0}},
    SupportedApi{ApiKey::kProduce, {0, 2}},
    SupportedApi{ApiKey::kFetch, {0, 1}},
    SupportedApi{ApiKey::kListOffsets, {0, 0}},
    SupportedApi{ApiKey::kInitProducerId, {0, 0}},
    SupportedApi{ApiKey::kDeleteRecords, {0, 0}},
    SupportedApi{ApiKey::kFindMessages, {0, 0}},
    SupportedApi{ApiKey::kListDelayed, {0, 0}},
    SupportedApi{ApiKey::kCancelDelayed, {0, 0}},
    SupportedApi{ApiKey::kReceiveMessages, {0, 0}},
    SupportedApi{ApiKey::kAckMessages, {0, 0}},
    SupportedApi{ApiKey::kCreateTopics, {0, 0}},
    SupportedApi{ApiKey::kDeleteTopics, {0, 0}},
    SupportedApi{ApiKey::kCreatePartitions, {0, 0}},
    SupportedApi{ApiKey::kDescribeConfigs, {0, 0}},
    SupportedApi{ApiKey::kAlterConfigs, {0, 0}},
    SupportedApi{ApiKey::kElectLeaders, {0, 0}},
    SupportedApi{ApiKey::kDescribeQuorum, {0, 1}},
    SupportedApi{ApiKey::kAlterPartitionReassignments, {0, 0}},
    SupportedApi{ApiKey::kListPartitionReassignments, {0, 0}},
    SupportedApi{ApiKey::kDescribeCluster, {0, 0}},
    SupportedApi{ApiKey::kAddRaftVoter, {0, 0}},
    SupportedApi{ApiKey::kRemoveRaftVoter, {0, 0}},
    SupportedApi{ApiKey::kUnregisterBroker, {0, 0}},
    SupportedApi{ApiKey::kDescribeLogDirs, {0, 0}},
    SupportedApi{ApiKey::kDescribeAcls, {0, 0}},
    SupportedApi{ApiKey::kCreateAcls, {0, 0}},
    SupportedApi{ApiKey::kDeleteAcls, {0, 0}},
    SupportedApi{ApiKey::kFindCoordinator, {0, 0}},
    SupportedApi{ApiKey::kJoinGroup, {0, 0}},
    SupportedApi{ApiKey::kSyncGroup, {0, 0}},
    SupportedApi{ApiKey::kHeartbeat, {0, 0}},
    SupportedApi{ApiKey::kLeaveGroup, {0, 0}},
    SupportedApi{ApiKey::kOffsetCommit, {0, 0}},
    SupportedApi{ApiKey::kOffsetFetch, {0, 0}},
    SupportedApi{ApiKey::kListGroups, {0, 0}},
    SupportedApi{ApiKey::kDescribeGroups, {0, 0}},
    SupportedApi{ApiKey::kDeleteGroups, {0, 0}},
    SupportedApi{ApiKey::kOffsetDelete, {0, 0}},
    SupportedApi{ApiKey::kOffsetForLeaderEpoch, {0, 0}},
};

}  // namespace

std::string_view api_name(ApiKey key) {
  switch (key) {
    case ApiKey::kApiVersions:
      return "ApiVersions";
    case ApiKey::kMetadata:
      return "Metadata";
    case ApiKey::kProduce:
      return "Produce";
    case ApiKey::kFetch:
      return "Fetch";
    case ApiKey::kListOffsets:
      return "ListOffsets";
    case ApiKey::kInitProducerId:
      return "InitProducerId";
    case ApiKey::kDeleteRecords:
      return "DeleteRecords";
    case ApiKey::kFindMessages:
      return "FindMessages";
    case ApiKey::kListDelayed:
      return "ListDelayed";
    case ApiKey::kCancelDelayed:
      return "CancelDelayed";
    case ApiKey::kReceiveMessages:
      return "ReceiveMessages";
    case ApiKey::kAckMessages:
      return "AckMessages";
    case ApiKey::kCreateTopics:
      return "CreateTopics";
    case ApiKey::kDeleteTopics:
      return "DeleteTopics";
    case ApiKey::kCreatePartitions:
      return "CreatePartitions";
    case ApiKey::kDescribeConfigs:
      return "DescribeConfigs";
    case ApiKey::kAlterConfigs:
      return "AlterConfigs";
    case ApiKey::kElectLeaders:
      return "ElectLeaders";
    case ApiKey::kDescribeQuorum:
      return "DescribeQuorum";
    case ApiKey::kAlterPartitionReassignments:
      return "AlterPartitionReassignments";
    case ApiKey::kListPartitionReassignments:
      return "ListPartitionReassignments";
    case ApiKey::kDescribeCluster:
      return "DescribeCluster";
    case ApiKey::kAddRaftVoter:
      return "AddRaftVoter";
    case ApiKey::kRemoveRaftVoter:
      return "RemoveRaftVoter";
    case ApiKey::kUnregisterBroker:
      return "UnregisterBroker";
    case ApiKey::kDescribeLogDirs:
      return "DescribeLogDirs";
    case ApiKey::kDescribeAcls:
      return "DescribeAcls";
    case ApiKey::kCreateAcls:
      return "CreateAcls";
    case ApiKey::kDeleteAcls:
      return "DeleteAcls";
    case ApiKey::kFindCoordinator:
      return "FindCoordinator";
    case ApiKey::kJoinGroup:
      return "JoinGroup";
    case ApiKey::kSyncGroup:
      return "SyncGroup";
    case ApiKey::kHeartbeat:
      return "Heartbeat";
    case ApiKey::kLeaveGroup:
      return "LeaveGroup";
    case ApiKey::kOffsetCommit:
      return "OffsetCommit";
    case ApiKey::kOffsetFetch:
      return "OffsetFetch";
    case ApiKey::kListGroups:
      return "ListGroups";
    case ApiKey::kDescribeGroups:
      return "DescribeGroups";
    case ApiKey::kDeleteGroups:
      return "DeleteGroups";
    case ApiKey::kOffsetDelete:
      return "OffsetDelete";
    case ApiKey::kOffsetForLeaderEpoch:
      return "OffsetForLeaderEpoch";
    case ApiKey::kAlterPartition:
      return "AlterPartition";
    case ApiKey::kVote:
      return "Vote";
    case ApiKey::kBeginQuorumEpoch:
      return "BeginQuorumEpoch";
    case ApiKey::kAppendEntries:
      return "AppendEntries";
    case ApiKey::kInstallSnapshot:
      return "InstallSnapshot";
    case ApiKey::kBrokerRegistration:
      return "BrokerRegistration";
    case ApiKey::kBrokerHeartbeat:
      return "BrokerHeartbeat";
    case ApiKey::kControllerCall:
      return "ControllerCall";
  }
  return "Unknown";
}

std::optional<VersionRange> supported_versions(ApiKey key) {
  auto it = std::ranges::find(kSupportedApis, key, &SupportedApi::api_key);
  if (it == kSupportedApis.end()) return std::nullopt;
  return it->versions;
}

bool is_supported(ApiKey key, int16_t version) {
  std::optional<VersionRange> range = supported_versions(key);
  return range && range->contains(version);
}

std::span<const SupportedApi> supported_apis() {
  return kSupportedApis;
}

std::optional<int16_t> negotiate_version(VersionRange ours, VersionRange theirs) {
  int16_t high = std::min(ours.max_version, theirs.max_version);
  int16_t low = std::max(ours.min_version, theirs.min_version);
  if (high < low) return std::nullopt;
  return high;
}

}  // namespace mq::transport
