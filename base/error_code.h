// The one error-code enum of mq. Numbers are stable: they travel on the wire
// and appear in metrics labels and logs; docs/protocol.md lists each code.
#pragma once

#include <cstdint>
#include <string_view>

namespace mq {

enum class ErrorCode : int16_t {
  kNone = 0,
  kUnknown = 1,                  // unexpected server error; see the broker log
  kCorruptMessage = 2,           // a batch failed its CRC or structural checks
  kOffsetOutOfRange = 3,         // offset below log start or above log end
  kInvalidRequest = 4,           // malformed or inconsistent request
  kUnsupportedVersion = 5,       // api key or api version not supported
  kUnknownTopicOrPartition = 6,  // no such topic or partition on this broker
  kNotLeader = 7,                // this broker does not lead the partition
  kLeaderNotAvailable = 8,       // election in progress
  kMessageTooLarge = 9,          // batch larger than max.message.bytes
  kNotEnoughReplicas = 10,       // ISR smaller than min.insync.replicas
  kNotEnoughReplicasAfterAppend = 11,
  kRequestTimedOut = 12,
  kOutOfOrderSequence = 13,    // idempotent producer sequence gap
  kDuplicateSequence = 14,     // batch already appended, offsets unknown
  kInvalidProducerEpoch = 15,  // a newer producer epoch fenced this one
  kUnknownProducerId = 16,     // no state for this producer id
  kStorageError = 17,          // disk I/O failure
  kDiskFull = 18,              // no space left in the data directory
  kTopicAlreadyExists = 19,
  kInvalidTopic = 20,
  kInvalidPartitions = 21,
  kInvalidConfig = 22,
  kInvalidRecord = 23,  // records inside a batch do not parse
  kNotFound = 24,       // a named thing (file, checkpoint) does not exist
  // Transport and protocol.
  kNetworkError = 25,                // the connection failed or a socket call errored
  kUnsupportedCompressionType = 26,  // batch compression codec this broker cannot read
  kInvalidRequiredAcks = 27,         // produce acks not in {-1, 0, 1}
  kRecordListTooLarge = 28,          // a request's batches exceed the request size limit
  kInvalidTimestamp = 29,            // record timestamp outside the accepted window
  kFencedLeaderEpoch = 30,           // the request's leader epoch is older than the leader's
  kUnknownLeaderEpoch = 31,          // the request's leader epoch is newer than the leader's
  kOffsetNotAvailable = 32,          // leader change: offsets not known yet
  kBrokerNotAvailable = 33,          // the broker named in the request is not alive
  kReplicaNotAvailable = 34,         // a replica of the partition is not available
  kNotController = 35,               // admin request sent to a broker that is not the controller
  kInvalidReplicationFactor = 36,    // replication factor < 1 or > live brokers
  kInvalidReplicaAssignment = 37,    // manual assignment names unknown or repeated brokers
  // Consumer groups.
  kCoordinatorNotAvailable = 38,    // the group's coordinator is not elected or not loaded
  kNotCoordinator = 39,             // this broker is not the group's coordinator
  kCoordinatorLoadInProgress = 40,  // the coordinator is still loading group state
  kIllegalGeneration = 41,          // member's generation is not the group's current one
  kUnknownMemberId = 42,            // the group does not know this member id
  kRebalanceInProgress = 43,        // the group is rebalancing; rejoin
  kInvalidSessionTimeout = 44,      // session timeout outside the broker's allowed range
  kInvalidGroupId = 45,             // empty or malformed group id
  kGroupIdNotFound = 46,            // no such group
  kGroupNotEmpty = 47,              // the group still has members
  kInconsistentGroupProtocol = 48,  // member's protocols share none with the group's
  kMemberIdRequired = 49,           // first join: rejoin with the member id in the response
  kFencedInstanceId = 50,           // a newer member with the same group instance id exists
  kGroupMaxSizeReached = 51,        // the group has group.max.size members already
  kGroupSubscribedToTopic = 52,     // cannot delete offsets of a topic the group consumes
  kOffsetMetadataTooLarge = 53,     // committed offset metadata string is too long
  // Metadata quorum membership (mqctl cluster add-voter / remove-voter).
  kDuplicateVoter = 54,         // the node is a voter already
  kVoterNotFound = 55,          // the node is not a voter
  kVoterChangeInProgress = 56,  // an earlier voter change has not committed yet
  // Security (docs/security.md).
  kAuthenticationFailed = 57,  // the connection's CURVE handshake failed: wrong or refused keys
  kClusterAuthorizationFailed = 58,  // the principal may not do this (a broker's part, say)
  kTopicAuthorizationFailed = 59,    // an ACL denies the principal this on the topic
  kGroupAuthorizationFailed = 60,    // an ACL denies the principal this on the group
  kInvalidAcl = 61,                  // an ACL binding or filter is malformed
};

// Stable upper-case name, e.g. "NOT_LEADER", for logs, metrics and CLI output.
std::string_view error_name(ErrorCode code);

// Whether a client may retry the same request and expect it to succeed later.
bool is_retriable(ErrorCode code);

}  // namespace mq
