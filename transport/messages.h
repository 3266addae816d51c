// Every message of the protocol, and the mapping from an api key to its
// request and response types (each Request names its Response).
#pragma once

#include "transport/acls.h"
#include "transport/api_versions.h"
#include "transport/cluster_admin.h"
#include "transport/configs.h"
#include "transport/delayed.h"
#include "transport/delete_records.h"
#include "transport/fetch.h"
#include "transport/find_messages.h"
#include "transport/group_admin.h"
#include "transport/group_membership.h"
#include "transport/group_offsets.h"
#include "transport/init_producer_id.h"
#include "transport/list_offsets.h"
#include "transport/log_dirs.h"
#include "transport/metadata.h"
#include "transport/produce.h"
#include "transport/queue.h"
#include "transport/replication.h"
#include "transport/topic_admin.h"

namespace mq::transport {

// Calls `visitor.template operator()<Request>()` with the request type of
// `key`; returns false for keys without messages (reserved or unknown).
// Lets generic code (servers, tests, fuzzers) handle every API in one place.
template <class Visitor>
bool visit_api(ApiKey key, Visitor&& visitor) {
  switch (key) {
    case ApiKey::kApiVersions:
      visitor.template operator()<ApiVersionsRequest>();
      return true;
    case ApiKey::kMetadata:
      visitor.template operator()<MetadataRequest>();
      return true;
    case ApiKey::kProduce:
      visitor.template operator()<ProduceRequest>();
      return true;
    case ApiKey::kFetch:
      visitor.template operator()<FetchRequest>();
      return true;
    case ApiKey::kListOffsets:
      visitor.template operator()<ListOffsetsRequest>();
      return true;
    case ApiKey::kInitProducerId:
      visitor.template operator()<InitProducerIdRequest>();
      return true;
    case ApiKey::kDeleteRecords:
      visitor.template operator()<DeleteRecordsRequest>();
      return true;
    case ApiKey::kFindMessages:
      visitor.template operator()<FindMessagesRequest>();
      return true;
    case ApiKey::kListDelayed:
      visitor.template operator()<ListDelayedRequest>();
      return true;
    case ApiKey::kCancelDelayed:
      visitor.template operator()<CancelDelayedRequest>();
      return true;
    case ApiKey::kReceiveMessages:
      visitor.template operator()<ReceiveMessagesRequest>();
      return true;
    case ApiKey::kAckMessages:
      visitor.template operator()<AckMessagesRequest>();
      return true;
    case ApiKey::kCreateTopics:
      visitor.template operator()<CreateTopicsRequest>();
      return true;
    case ApiKey::kDeleteTopics:
      visitor.template operator()<DeleteTopicsRequest>();
      return true;
    case ApiKey::kCreatePartitions:
      visitor.template operator()<CreatePartitionsRequest>();
      return true;
    case ApiKey::kDescribeConfigs:
      visitor.template operator()<DescribeConfigsRequest>();
      return true;
    case ApiKey::kAlterConfigs:
      visitor.template operator()<AlterConfigsRequest>();
      return true;
    case ApiKey::kElectLeaders:
      visitor.template operator()<ElectLeadersRequest>();
      return true;
    case ApiKey::kDescribeQuorum:
      visitor.template operator()<DescribeQuorumRequest>();
      return true;
    case ApiKey::kAlterPartitionReassignments:
      visitor.template operator()<AlterPartitionReassignmentsRequest>();
      return true;
    case ApiKey::kListPartitionReassignments:
      visitor.template operator()<ListPartitionReassignmentsRequest>();
      return true;
    case ApiKey::kDescribeCluster:
      visitor.template operator()<DescribeClusterRequest>();
      return true;
    case ApiKey::kAddRaftVoter:
      visitor.template operator()<AddRaftVoterRequest>();
      return true;
    case ApiKey::kRemoveRaftVoter:
      visitor.template operator()<RemoveRaftVoterRequest>();
      return true;
    case ApiKey::kUnregisterBroker:
      visitor.template operator()<UnregisterBrokerRequest>();
      return true;
    case ApiKey::kDescribeLogDirs:
      visitor.template operator()<DescribeLogDirsRequest>();
      return true;
    case ApiKey::kDescribeAcls:
      visitor.template operator()<DescribeAclsRequest>();
      return true;
    case ApiKey::kCreateAcls:
      visitor.template operator()<CreateAclsRequest>();
      return true;
    case ApiKey::kDeleteAcls:
      visitor.template operator()<DeleteAclsRequest>();
      return true;
    case ApiKey::kFindCoordinator:
      visitor.template operator()<FindCoordinatorRequest>();
      return true;
    case ApiKey::kJoinGroup:
      visitor.template operator()<JoinGroupRequest>();
      return true;
    case ApiKey::kSyncGroup:
      visitor.template operator()<SyncGroupRequest>();
      return true;
    case ApiKey::kHeartbeat:
      visitor.template operator()<HeartbeatRequest>();
      return true;
    case ApiKey::kLeaveGroup:
      visitor.template operator()<LeaveGroupRequest>();
      return true;
    case ApiKey::kOffsetCommit:
      visitor.template operator()<OffsetCommitRequest>();
      return true;
    case ApiKey::kOffsetFetch:
      visitor.template operator()<OffsetFetchRequest>();
      return true;
    case ApiKey::kOffsetDelete:
      visitor.template operator()<OffsetDeleteRequest>();
      return true;
    case ApiKey::kListGroups:
      visitor.template operator()<ListGroupsRequest>();
      return true;
    case ApiKey::kDescribeGroups:
      visitor.template operator()<DescribeGroupsRequest>();
      return true;
    case ApiKey::kDeleteGroups:
      visitor.template operator()<DeleteGroupsRequest>();
      return true;
    case ApiKey::kOffsetForLeaderEpoch:
      visitor.template operator()<OffsetForLeaderEpochRequest>();
      return true;
    default:
      return false;
  }
}

}  // namespace mq::transport
