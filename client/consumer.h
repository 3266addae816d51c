// Consumer: reads assigned partitions from their leaders. poll() returns
// records in offset order per partition and, before returning, sends the next
// Fetch for the partitions it drained, so the broker is already working on
// the next records while the application handles these. Positions start
// where seek*() puts them, else by auto_offset_reset. Consumer groups
// (subscribe) come with the groups issue.
//
// Not thread-safe: one thread uses a Consumer, as with Kafka's.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/record.h"
#include "transport/fetch.h"

namespace mq::client {

class Cluster;
struct NodeResponse;

class Consumer {
 public:
  static Result<std::unique_ptr<Consumer>> create(const ConsumerConfig& config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Replaces the assignment. Partitions kept keep their positions; new ones
  // start by auto_offset_reset unless seeked.
  Status assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;

  // Up to max_poll_records records, waiting up to `timeout_ms` for the first
  // one; an empty vector when none came in time. Errors: OFFSET_OUT_OF_RANGE
  // when a position left the log and auto_offset_reset is none, a corrupt
  // batch, an unknown topic, or no broker reachable.
  Result<std::vector<ConsumerRecord>> poll(int timeout_ms);

  // The next poll() returns `tp` from `offset`.
  Status seek(const TopicPartition& tp, int64_t offset);
  // Empty = every assigned partition. Resolved (ListOffsets) at the next poll or position().
  Status seek_to_beginning(const std::vector<TopicPartition>& partitions = {});
  Status seek_to_end(const std::vector<TopicPartition>& partitions = {});
  // From the first record with timestamp >= `timestamp_ms`; the end of the
  // partition if there is none.
  Status seek_to_timestamp(const TopicPartition& tp, int64_t timestamp_ms);

  // The offset of the next record poll() returns for `tp`.
  Result<int64_t> position(const TopicPartition& tp);
  // ListOffsets against the leader: kEarliestTimestamp (-2), kLatestTimestamp
  // (-1) or a time in ms; -1 when no record is that recent.
  Result<int64_t> offset_for(const TopicPartition& tp, int64_t timestamp);

 private:
  struct PartitionState;
  struct FetchInFlight {
    int64_t deadline_ms = 0;
    std::vector<std::pair<TopicPartition, int64_t>> partitions;  // and the offset fetched from
  };
  explicit Consumer(const ConsumerConfig& config, std::unique_ptr<Cluster> cluster);

  Status resolve_positions();
  Status refresh_metadata_if_stale();
  void send_fetches();
  Result<int32_t> send_fetch(int32_t node, const transport::FetchRequest& request);
  void handle_fetch_response(NodeResponse& response);
  void fail_fetches(int32_t node);
  Status take_error();
  std::vector<ConsumerRecord> drain_buffered();
  void expire_fetches(int64_t now_ms);
  Result<int32_t> leader_of(const TopicPartition& tp);

  ConsumerConfig config_;
  std::unique_ptr<Cluster> cluster_;
  std::map<TopicPartition, std::unique_ptr<PartitionState>> partitions_;
  std::map<std::pair<int32_t, int32_t>, FetchInFlight> fetches_;  // (node, correlation id)
  bool metadata_stale_ = true;
  int64_t next_metadata_attempt_ms_ = 0;
  size_t drain_cursor_ = 0;  // round-robin over partitions when draining
};

}  // namespace mq::client
