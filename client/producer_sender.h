// The producer's I/O thread: the Sender turns sealed batches into Produce
// requests, handles their answers (retries, leader changes, idempotence) and
// runs the callbacks; Submitted is a record that waits for its topic's
// metadata. Internal to client/: producer.cc is the application side.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "client/cluster.h"
#include "client/producer.h"
#include "client/record_accumulator.h"
#include "transport/produce.h"

namespace mq::client {

// A record of a topic whose partitions are not known yet: it waits, owning
// its bytes, until the I/O thread has the topic's metadata.
struct Producer::Submitted {
  std::string topic;
  std::optional<int32_t> partition;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
  int64_t timestamp_ms = 0;  // wall clock: the record's, else the time of send()
  size_t size_bytes = 0;
  SendCallback callback;
  uint64_t id = 0;           // flush id, until it is in a batch
  int64_t submitted_ms = 0;  // steady clock
};

// Everything the I/O thread owns: connections, metadata and the requests in
// flight. The accumulator is shared with the application threads.
class Producer::Sender {
 public:
  Sender(Producer* producer, std::vector<std::string> bootstrap)
      : producer_(producer),
        config_(producer->config_),
        cluster_(ClusterOptions{
            .bootstrap_endpoints = std::move(bootstrap),
            .client_id = config_.client_id,
            .request_timeout_ms = config_.request_timeout_ms,
            // acks=0: what was queued is delivered when the producer closes.
            .linger_ms = config_.acks == 0 ? std::min(config_.request_timeout_ms, 10'000) : 0,
            .curve = curve_client_of(config_.curve)}),
        accumulator_(
            AccumulatorOptions{.batch_size_bytes = config_.batch_size_bytes,
                               .linger_ms = config_.linger_ms,
                               .max_in_flight_per_partition = config_.max_in_flight_per_partition,
                               .idempotent = config_.enable_idempotence}) {}

  void run();
  RecordAccumulator& accumulator() { return accumulator_; }
  ProducerStats stats() const {
    return ProducerStats{.batches_sent = batches_sent_.load(),
                         .retries = retries_.load(),
                         .metadata_refreshes = metadata_refreshes_.load(),
                         .records_acknowledged = records_acknowledged_.load(),
                         .records_failed = records_failed_.load()};
  }

 private:
  struct InFlight {
    int64_t deadline_ms = 0;
    uint64_t connection_serial = 0;  // the connection it was sent on
    std::vector<std::unique_ptr<ProducerBatch>> batches;
  };

  void take_waiting();
  void assign_waiting(int64_t now);
  // Appends the waiting records whose partition is now known, in the order
  // they were sent; moves those past max_block_ms to `expired`. Under mu_.
  void assign_waiting_locked(int64_t now, std::vector<Submitted>& expired);
  void fail_expired(std::vector<Submitted>& expired);
  void fail_waiting(Submitted& submitted, const Status& error);
  void maybe_refresh_metadata(int64_t now);
  bool ensure_producer_id(int64_t now);
  void send_ready(int64_t now);
  void send_to_node(int32_t node, std::vector<std::unique_ptr<ProducerBatch>> batches, int64_t now);
  Result<int32_t> send_produce(int32_t node, const transport::ProduceRequest& request);
  void wait_and_receive(std::optional<int64_t> timer_ms, uint64_t events_seen, int64_t now);
  void expire_requests(int64_t now);
  void handle_response(NodeResponse response, int64_t now);
  void handle_partition_result(std::unique_ptr<ProducerBatch> batch, ErrorCode code,
                               const std::string& message, int64_t base_offset,
                               int64_t log_append_time_ms, int64_t now, bool leader_named = false,
                               std::span<const std::pair<int32_t, int64_t>> duplicates = {});
  void fail_node(int32_t node, const Status& error, int64_t now);
  void expire(int64_t now);
  void finish(std::unique_ptr<ProducerBatch> batch, const Status& error, int64_t base_offset,
              int64_t log_append_time_ms,
              std::span<const std::pair<int32_t, int64_t>> duplicates = {});
  void fail_everything(const Status& error);
  // Linger is ignored while someone flushes, the producer stops, or a send()
  // waits for buffer memory that only completed batches give back.
  bool flushing() const {
    return producer_->flushers_.load() > 0 || producer_->stop_.load() ||
           producer_->memory_waiters_.load() > 0;
  }

  Producer* producer_;
  const ProducerConfig& config_;
  Cluster cluster_;
  RecordAccumulator accumulator_;
  ProducerIdentity identity_;
  bool need_new_identity_ = false;  // a sequenced batch failed for good: its sequence left a gap
  int64_t next_identity_attempt_ms_ = 0;

  std::deque<Submitted> unassigned_;  // waiting for their topic's metadata
  std::set<std::string> topics_;      // topics this producer has sent to
  bool metadata_stale_ = true;
  int64_t last_metadata_attempt_ms_ = -1'000'000;
  int64_t last_metadata_success_ms_ = 0;
  std::map<std::pair<int32_t, int32_t>, InFlight> in_flight_;  // (node, correlation id)

  std::atomic<uint64_t> batches_sent_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> metadata_refreshes_{0};
  std::atomic<uint64_t> records_acknowledged_{0};
  std::atomic<uint64_t> records_failed_{0};
};

}  // namespace mq::client
