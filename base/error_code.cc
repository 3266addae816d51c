// Names and retriability of ErrorCode values.
#include "base/error_code.h"

namespace mq {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return "NONE";
    case ErrorCode::kUnknown:
      return "UNKNOWN_SERVER_ERROR";
    case ErrorCode::kCorruptMessage:
      return "CORRUPT_MESSAGE";
    case ErrorCode::kOffsetOutOfRange:
      return "OFFSET_OUT_OF_RANGE";
    case ErrorCode::kInvalidRequest:
      return "INVALID_REQUEST";
    case ErrorCode::kUnsupportedVersion:
      return "UNSUPPORTED_VERSION";
    case ErrorCode::kUnknownTopicOrPartition:
      return "UNKNOWN_TOPIC_OR_PARTITION";
    case ErrorCode::kNotLeader:
      return "NOT_LEADER";
    case ErrorCode::kLeaderNotAvailable:
      return "LEADER_NOT_AVAILABLE";
    case ErrorCode::kMessageTooLarge:
      return "MESSAGE_TOO_LARGE";
    case ErrorCode::kNotEnoughReplicas:
      return "NOT_ENOUGH_REPLICAS";
    case ErrorCode::kNotEnoughReplicasAfterAppend:
      return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case ErrorCode::kRequestTimedOut:
      return "REQUEST_TIMED_OUT";
    case ErrorCode::kOutOfOrderSequence:
      return "OUT_OF_ORDER_SEQUENCE";
    case ErrorCode::kDuplicateSequence:
      return "DUPLICATE_SEQUENCE";
    case ErrorCode::kInvalidProducerEpoch:
      return "INVALID_PRODUCER_EPOCH";
    case ErrorCode::kUnknownProducerId:
      return "UNKNOWN_PRODUCER_ID";
    case ErrorCode::kStorageError:
      return "STORAGE_ERROR";
    case ErrorCode::kDiskFull:
      return "DISK_FULL";
    case ErrorCode::kTopicAlreadyExists:
      return "TOPIC_ALREADY_EXISTS";
    case ErrorCode::kInvalidTopic:
      return "INVALID_TOPIC";
    case ErrorCode::kInvalidPartitions:
      return "INVALID_PARTITIONS";
    case ErrorCode::kInvalidConfig:
      return "INVALID_CONFIG";
    case ErrorCode::kInvalidRecord:
      return "INVALID_RECORD";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kNetworkError:
      return "NETWORK_EXCEPTION";
    case ErrorCode::kUnsupportedCompressionType:
      return "UNSUPPORTED_COMPRESSION_TYPE";
    case ErrorCode::kInvalidRequiredAcks:
      return "INVALID_REQUIRED_ACKS";
    case ErrorCode::kRecordListTooLarge:
      return "RECORD_LIST_TOO_LARGE";
    case ErrorCode::kInvalidTimestamp:
      return "INVALID_TIMESTAMP";
    case ErrorCode::kFencedLeaderEpoch:
      return "FENCED_LEADER_EPOCH";
    case ErrorCode::kUnknownLeaderEpoch:
      return "UNKNOWN_LEADER_EPOCH";
    case ErrorCode::kOffsetNotAvailable:
      return "OFFSET_NOT_AVAILABLE";
    case ErrorCode::kBrokerNotAvailable:
      return "BROKER_NOT_AVAILABLE";
    case ErrorCode::kReplicaNotAvailable:
      return "REPLICA_NOT_AVAILABLE";
    case ErrorCode::kNotController:
      return "NOT_CONTROLLER";
    case ErrorCode::kInvalidReplicationFactor:
      return "INVALID_REPLICATION_FACTOR";
    case ErrorCode::kInvalidReplicaAssignment:
      return "INVALID_REPLICA_ASSIGNMENT";
    case ErrorCode::kCoordinatorNotAvailable:
      return "COORDINATOR_NOT_AVAILABLE";
    case ErrorCode::kNotCoordinator:
      return "NOT_COORDINATOR";
    case ErrorCode::kCoordinatorLoadInProgress:
      return "COORDINATOR_LOAD_IN_PROGRESS";
    case ErrorCode::kIllegalGeneration:
      return "ILLEGAL_GENERATION";
    case ErrorCode::kUnknownMemberId:
      return "UNKNOWN_MEMBER_ID";
    case ErrorCode::kRebalanceInProgress:
      return "REBALANCE_IN_PROGRESS";
    case ErrorCode::kInvalidSessionTimeout:
      return "INVALID_SESSION_TIMEOUT";
    case ErrorCode::kInvalidGroupId:
      return "INVALID_GROUP_ID";
    case ErrorCode::kGroupIdNotFound:
      return "GROUP_ID_NOT_FOUND";
    case ErrorCode::kGroupNotEmpty:
      return "NON_EMPTY_GROUP";
    case ErrorCode::kInconsistentGroupProtocol:
      return "INCONSISTENT_GROUP_PROTOCOL";
    case ErrorCode::kMemberIdRequired:
      return "MEMBER_ID_REQUIRED";
    case ErrorCode::kFencedInstanceId:
      return "FENCED_INSTANCE_ID";
    case ErrorCode::kGroupMaxSizeReached:
      return "GROUP_MAX_SIZE_REACHED";
    case ErrorCode::kGroupSubscribedToTopic:
      return "GROUP_SUBSCRIBED_TO_TOPIC";
    case ErrorCode::kOffsetMetadataTooLarge:
      return "OFFSET_METADATA_TOO_LARGE";
    case ErrorCode::kDuplicateVoter:
      return "DUPLICATE_VOTER";
    case ErrorCode::kVoterNotFound:
      return "VOTER_NOT_FOUND";
    case ErrorCode::kVoterChangeInProgress:
      return "VOTER_CHANGE_IN_PROGRESS";
    case ErrorCode::kAuthenticationFailed:
      return "AUTHENTICATION_FAILED";
    case ErrorCode::kClusterAuthorizationFailed:
      return "CLUSTER_AUTHORIZATION_FAILED";
    case ErrorCode::kTopicAuthorizationFailed:
      return "TOPIC_AUTHORIZATION_FAILED";
    case ErrorCode::kGroupAuthorizationFailed:
      return "GROUP_AUTHORIZATION_FAILED";
    case ErrorCode::kInvalidAcl:
      return "INVALID_ACL";
  }
  return "UNKNOWN_ERROR_CODE";
}

bool is_retriable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kNotEnoughReplicas:
    case ErrorCode::kNotEnoughReplicasAfterAppend:
    case ErrorCode::kRequestTimedOut:
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kStorageError:
    case ErrorCode::kDiskFull:
    case ErrorCode::kCorruptMessage:  // the producer's bytes may have been damaged in transit
    case ErrorCode::kNetworkError:
    case ErrorCode::kFencedLeaderEpoch:   // refresh metadata, then retry
    case ErrorCode::kUnknownLeaderEpoch:  // this broker has not caught up with the new epoch yet
    case ErrorCode::kOffsetNotAvailable:
    case ErrorCode::kBrokerNotAvailable:
    case ErrorCode::kReplicaNotAvailable:
    case ErrorCode::kNotController:  // find the controller, then retry
    case ErrorCode::kCoordinatorNotAvailable:
    case ErrorCode::kNotCoordinator:  // find the coordinator, then retry
    case ErrorCode::kCoordinatorLoadInProgress:
    case ErrorCode::kVoterChangeInProgress:
      return true;
    default:
      return false;
  }
}

}  // namespace mq
