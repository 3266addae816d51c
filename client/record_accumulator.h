// RecordAccumulator: the producer's per-partition queues of batches. Records
// are appended to the open batch of their partition; a batch is ready to send
// when it is full (batch_size_bytes), has lingered linger_ms, or a flush is on.
// With idempotence it gives each batch its sequence number when the batch is
// first drained, keeps that sequence across retries, and keeps order:
//
//   - at most max_in_flight_per_partition batches of a partition in flight;
//   - a batch that failed with a retriable error goes back into its queue
//     ordered by sequence, ahead of every batch not yet sent;
//   - a retried batch is resent only when nothing of its partition is in
//     flight, so the broker sees sequences in order again.
//
// Sequences wrap at INT32_MAX as Kafka's do; the ordering above compares them
// unwrapped, which holds for the first 2^31 records a producer id sends to a
// partition. Not thread-safe: the producer's I/O thread owns it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/record.h"
#include "store/compression.h"

namespace mq::client {

// A record accepted by send(), waiting in a batch.
struct PendingRecord {
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
  size_t size_bytes = 0;  // its estimated encoded size, reserved from buffer memory
  SendCallback on_done;   // may be empty
};

// Upper bound of a record's encoded size: its bytes plus the varints around them.
size_t estimate_record_size(const std::optional<std::string>& key,
                            const std::optional<std::string>& value,
                            const std::vector<Header>& headers);

// Kafka's DefaultRecordBatch.incrementSequence: sequences wrap to 0 after INT32_MAX.
int32_t increment_sequence(int32_t sequence, int32_t increment);

struct ProducerIdentity {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  bool valid() const { return producer_id >= 0; }
};

struct ProducerBatch {
  TopicPartition partition;
  std::vector<PendingRecord> records;
  size_t size_bytes = 0;  // estimate of the encoded batch: header + records
  int64_t created_ms = 0;
  int attempts = 0;  // sends so far
  int64_t retry_at_ms = 0;
  std::optional<int32_t> base_sequence;  // assigned on first drain when idempotent
  bool closed = false;                   // full, or sent once: takes no more records

  int32_t record_count() const { return static_cast<int32_t>(records.size()); }
  // The batch as the wire carries it, stamped with `identity` and the base
  // sequence when idempotent.
  Result<std::string> encode(const ProducerIdentity& identity, Compression codec) const;
  // Runs every record's callback: offsets base_offset + i, or the error.
  void complete(const Status& error, int64_t base_offset, int64_t log_append_time_ms);
};

struct AccumulatorOptions {
  int64_t batch_size_bytes = 16 * 1024;
  int linger_ms = 5;
  int max_in_flight_per_partition = 5;
  bool idempotent = true;
};

class RecordAccumulator {
 public:
  explicit RecordAccumulator(AccumulatorOptions options) : options_(options) {}

  // Appends to the partition's open batch, or starts a new one when there is
  // none or the record would take it past batch_size_bytes. Returns true
  // when it started a new batch.
  bool append(const TopicPartition& partition, PendingRecord record, int64_t now_ms);

  // Partitions whose head batch may be sent now. `flushing` ignores linger.
  std::vector<TopicPartition> ready(int64_t now_ms, bool flushing) const;
  // Milliseconds until some queued batch may become ready by time alone
  // (linger or retry backoff); nullopt when nothing waits on time.
  std::optional<int64_t> next_ready_delay_ms(int64_t now_ms, bool flushing) const;

  // Takes the head batch of `partition` (which ready() listed) to send it:
  // closes it, assigns its sequence on first send, counts it in flight.
  std::unique_ptr<ProducerBatch> drain(const TopicPartition& partition);
  // A drained batch got its final answer (success or a permanent error).
  void on_complete(const ProducerBatch& batch);
  // A drained batch failed with a retriable error: back into its queue, in
  // sequence order, resendable from `retry_at_ms`.
  void requeue(std::unique_ptr<ProducerBatch> batch, int64_t retry_at_ms);

  // Whether a batch of `partition` with a sequence below `sequence` is in
  // flight or queued for retry: an OUT_OF_ORDER_SEQUENCE answer is then the
  // consequence of that batch's failure, and the later batch is retried too.
  bool has_earlier_unacknowledged(const TopicPartition& partition, int32_t sequence) const;

  // After a new producer id: every partition starts again at sequence 0 and
  // queued batches get fresh sequences when drained. Call with nothing in flight.
  void reset_sequences();

  // Removes and returns queued batches created before `deadline_ms`
  // (delivery timeout), oldest first per partition.
  std::vector<std::unique_ptr<ProducerBatch>> expire_created_before(int64_t deadline_ms);
  // Removes and returns every queued batch (on close).
  std::vector<std::unique_ptr<ProducerBatch>> take_all();

  size_t queued_batches() const;
  int in_flight(const TopicPartition& partition) const;
  int32_t next_sequence(const TopicPartition& partition) const;

 private:
  struct PartitionQueue {
    std::deque<std::unique_ptr<ProducerBatch>> batches;  // retries (by sequence), then new
    std::set<int32_t> in_flight_sequences;
    int in_flight = 0;
    int32_t next_sequence = 0;
  };
  bool head_ready(const PartitionQueue& queue, int64_t now_ms, bool flushing) const;

  AccumulatorOptions options_;
  std::map<TopicPartition, PartitionQueue> partitions_;
};

}  // namespace mq::client
