// Names and retriability of ErrorCode values.
#include "base/error_code.h"

namespace mq {

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone: return "NONE";
    case ErrorCode::kUnknown: return "UNKNOWN_SERVER_ERROR";
    case ErrorCode::kCorruptMessage: return "CORRUPT_MESSAGE";
    case ErrorCode::kOffsetOutOfRange: return "OFFSET_OUT_OF_RANGE";
    case ErrorCode::kInvalidRequest: return "INVALID_REQUEST";
    case ErrorCode::kUnsupportedVersion: return "UNSUPPORTED_VERSION";
    case ErrorCode::kUnknownTopicOrPartition: return "UNKNOWN_TOPIC_OR_PARTITION";
    case ErrorCode::kNotLeader: return "NOT_LEADER";
    case ErrorCode::kLeaderNotAvailable: return "LEADER_NOT_AVAILABLE";
    case ErrorCode::kMessageTooLarge: return "MESSAGE_TOO_LARGE";
    case ErrorCode::kNotEnoughReplicas: return "NOT_ENOUGH_REPLICAS";
    case ErrorCode::kNotEnoughReplicasAfterAppend: return "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    case ErrorCode::kRequestTimedOut: return "REQUEST_TIMED_OUT";
    case ErrorCode::kOutOfOrderSequence: return "OUT_OF_ORDER_SEQUENCE";
    case ErrorCode::kDuplicateSequence: return "DUPLICATE_SEQUENCE";
    case ErrorCode::kInvalidProducerEpoch: return "INVALID_PRODUCER_EPOCH";
    case ErrorCode::kUnknownProducerId: return "UNKNOWN_PRODUCER_ID";
    case ErrorCode::kStorageError: return "STORAGE_ERROR";
    case ErrorCode::kDiskFull: return "DISK_FULL";
    case ErrorCode::kTopicAlreadyExists: return "TOPIC_ALREADY_EXISTS";
    case ErrorCode::kInvalidTopic: return "INVALID_TOPIC";
    case ErrorCode::kInvalidPartitions: return "INVALID_PARTITIONS";
    case ErrorCode::kInvalidConfig: return "INVALID_CONFIG";
    case ErrorCode::kInvalidRecord: return "INVALID_RECORD";
    case ErrorCode::kNotFound: return "NOT_FOUND";
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
      return true;
    default:
      return false;
  }
}

}  // namespace mq
