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
  kOutOfOrderSequence = 13,      // idempotent producer sequence gap
  kDuplicateSequence = 14,       // batch already appended, offsets unknown
  kInvalidProducerEpoch = 15,    // a newer producer epoch fenced this one
  kUnknownProducerId = 16,       // no state for this producer id
  kStorageError = 17,            // disk I/O failure
  kDiskFull = 18,                // no space left in the data directory
  kTopicAlreadyExists = 19,
  kInvalidTopic = 20,
  kInvalidPartitions = 21,
  kInvalidConfig = 22,
  kInvalidRecord = 23,           // records inside a batch do not parse
  kNotFound = 24,                // a named thing (file, checkpoint) does not exist
};

// Stable upper-case name, e.g. "NOT_LEADER", for logs, metrics and CLI output.
std::string_view error_name(ErrorCode code);

// Whether a client may retry the same request and expect it to succeed later.
bool is_retriable(ErrorCode code);

}  // namespace mq
