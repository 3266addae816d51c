// The broker's handler table: which handler answers each api key, and the
// versions it serves (ApiVersions answers this table; tests check it
// agrees with transport's supported_apis()).
#include <algorithm>
#include <array>

#include "broker/handlers/handlers.h"

namespace mq::broker::handlers {
namespace {

using transport::ApiKey;
constexpr bool kGroup = true;
constexpr auto kDescribeCluster = transport::AclOperation::kDescribe;
constexpr auto kAlterCluster = transport::AclOperation::kAlter;

// Sorted by api key.
constexpr std::array kHandlers = {
    Handler{ApiKey::kApiVersions, {0, 0}, api_versions, !kGroup, /*before_catch_up=*/true},
    Handler{ApiKey::kMetadata, {0, 0}, metadata},
    Handler{ApiKey::kProduce, {0, 2}, produce},
    Handler{ApiKey::kFetch, {0, 1}, fetch},
    Handler{ApiKey::kListOffsets, {0, 0}, list_offsets},
    Handler{ApiKey::kInitProducerId, {0, 0}, init_producer_id},
    Handler{ApiKey::kDeleteRecords, {0, 0}, delete_records},
    Handler{ApiKey::kFindMessages, {0, 0}, find_messages},
    Handler{ApiKey::kListDelayed, {0, 0}, list_delayed},
    Handler{ApiKey::kCancelDelayed, {0, 0}, cancel_delayed},
    Handler{ApiKey::kReceiveMessages, {0, 0}, receive_messages},
    Handler{ApiKey::kAckMessages, {0, 0}, ack_messages},
    Handler{ApiKey::kCreateTopics, {0, 0}, create_topics},
    Handler{ApiKey::kDeleteTopics, {0, 0}, delete_topics},
    Handler{ApiKey::kCreatePartitions, {0, 0}, create_partitions},
    Handler{ApiKey::kDescribeConfigs, {0, 0}, describe_configs},
    Handler{ApiKey::kAlterConfigs, {0, 0}, alter_configs},
    Handler{ApiKey::kElectLeaders, {0, 0}, elect_leaders, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kDescribeQuorum,
            {0, 1},
            describe_quorum,
            !kGroup,
            /*before_catch_up=*/true,
            kDescribeCluster},
    Handler{ApiKey::kAlterPartitionReassignments,
            {0, 0},
            alter_partition_reassignments,
            !kGroup,
            false,
            kAlterCluster},
    Handler{ApiKey::kListPartitionReassignments,
            {0, 0},
            list_partition_reassignments,
            !kGroup,
            false,
            kDescribeCluster},
    Handler{ApiKey::kDescribeCluster, {0, 0}, describe_cluster, !kGroup, false, kDescribeCluster},
    Handler{ApiKey::kAddRaftVoter, {0, 0}, add_raft_voter, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kRemoveRaftVoter, {0, 0}, remove_raft_voter, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kUnregisterBroker, {0, 0}, unregister_broker, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kDescribeLogDirs, {0, 0}, describe_log_dirs, !kGroup, false, kDescribeCluster},
    Handler{ApiKey::kDescribeAcls, {0, 0}, describe_acls, !kGroup, false, kDescribeCluster},
    Handler{ApiKey::kCreateAcls, {0, 0}, create_acls, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kDeleteAcls, {0, 0}, delete_acls, !kGroup, false, kAlterCluster},
    Handler{ApiKey::kFindCoordinator, {0, 0}, find_coordinator, kGroup},
    Handler{ApiKey::kJoinGroup, {0, 0}, join_group, kGroup},
    Handler{ApiKey::kSyncGroup, {0, 0}, sync_group, kGroup},
    Handler{ApiKey::kHeartbeat, {0, 0}, heartbeat, kGroup},
    Handler{ApiKey::kLeaveGroup, {0, 0}, leave_group, kGroup},
    Handler{ApiKey::kOffsetCommit, {0, 0}, offset_commit, kGroup},
    Handler{ApiKey::kOffsetFetch, {0, 0}, offset_fetch, kGroup},
    Handler{ApiKey::kListGroups, {0, 0}, list_groups, kGroup},
    Handler{ApiKey::kDescribeGroups, {0, 0}, describe_groups, kGroup},
    Handler{ApiKey::kDeleteGroups, {0, 0}, delete_groups, kGroup},
    Handler{ApiKey::kOffsetDelete, {0, 0}, offset_delete, kGroup},
    Handler{ApiKey::kOffsetForLeaderEpoch, {0, 0}, offset_for_leader_epoch},
};

static_assert(std::ranges::is_sorted(kHandlers, {}, [](const Handler& h) { return h.api; }),
              "kHandlers must be sorted by api key");

}  // namespace

std::span<const Handler> all() {
  return kHandlers;
}

const Handler* find(ApiKey api) {
  auto it = std::ranges::lower_bound(kHandlers, api, {}, [](const Handler& h) { return h.api; });
  return it != kHandlers.end() && it->api == api ? &*it : nullptr;
}

}  // namespace mq::broker::handlers
