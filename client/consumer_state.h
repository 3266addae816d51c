// The consumer's per-partition state and its fetched batches, shared by
// consumer.cc (positions, groups) and consumer_fetch.cc (fetching, decoding).
// Internal to the client library.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "base/error_code.h"
#include "base/status.h"
#include "client/consumer.h"
#include "store/record_batch.h"
#include "transport/list_offsets.h"

namespace mq::client {
namespace consumer_detail {

inline int64_t reset_timestamp(OffsetReset reset) {
  return reset == OffsetReset::kEarliest ? transport::kEarliestTimestamp
                                         : transport::kLatestTimestamp;
}

inline bool needs_metadata_refresh(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kUnknownTopicOrPartition || code == ErrorCode::kFencedLeaderEpoch ||
         code == ErrorCode::kUnknownLeaderEpoch || code == ErrorCode::kNetworkError ||
         code == ErrorCode::kRequestTimedOut;
}

}  // namespace consumer_detail

// A fetched batch, decoded into views of the fetched (or decompressed)
// bytes, which it keeps alive until poll hands its last record over.
struct FetchedBatch {
  std::shared_ptr<const void> owner;          // the fetch response's records frame
  std::unique_ptr<RecordBatchReader> reader;  // holds the decompressed bytes, if any
  std::vector<Record> records;
  size_t next = 0;                     // the next record poll hands over
  std::optional<int64_t> append_time;  // the log-append time of every record, if the log set one
  // Where the position goes once the batch is handed over, when offsets
  // after its last record hold nothing to hand out: records a filtered fetch
  // left out, or batches without records (de-duplicated records).
  std::optional<int64_t> advance_to;
};

struct Consumer::PartitionState {
  // Next offset poll() returns; nullopt until a seek or reset gives one.
  std::optional<int64_t> position;
  // A seek that needs ListOffsets: -2 earliest, -1 latest, or a timestamp.
  std::optional<int64_t> pending_timestamp;
  int64_t fetch_position = 0;  // next offset to fetch (ahead of position by the buffer)
  bool fetch_in_flight = false;
  int64_t retry_at_ms = 0;  // after a failed fetch
  std::deque<FetchedBatch> buffered;
  size_t buffered_records = 0;  // not yet handed over, over all buffered batches
  Status error;                 // reported by the next poll()
  // Assigned by the group: the position comes from the committed offset.
  bool awaiting_committed = false;
};

}  // namespace mq::client
