// RecordAccumulator: the producer's per-partition batches, filled by the
// application threads and drained by the I/O thread.
//
// send() appends a record straight into the open batch of its partition, in
// the wire format (store/record_batch.h), under that partition's lock only:
// no heap allocation, clock read or thread wake-up per record. A batch is
// sealed when the next record would take it past batch_size_bytes, when it
// has lingered linger_ms, or on flush; the I/O thread takes sealed batches,
// stamps the producer id, epoch and sequence into the reserved header and
// keeps the encoded bytes for retries.
//
// With idempotence, order is kept as before:
//   - at most max_in_flight_per_partition batches of a partition in flight;
//   - a batch that failed with a retriable error goes back ahead of every
//     batch not yet sent, ordered by sequence among the retries;
//   - a retried batch is resent only when nothing of its partition is in
//     flight, so the broker sees sequences in order again.
// Sequences wrap at INT32_MAX as Kafka's do; the ordering above compares them
// unwrapped, which holds for the first 2^31 records a producer id sends to a
// partition.
//
// Threads: append(), partition_count() and the id bookkeeping are safe from
// any thread; everything named "I/O thread" below is called by one thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/clock.h"
#include "client/partitioner.h"
#include "client/record.h"
#include "store/compression.h"
#include "transport/frame.h"

namespace mq::client {

// A record's fields as send() sees them (views into the caller's record).
struct RecordView {
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::span<const Header> headers;
  std::optional<int64_t> timestamp_ms;  // nullopt: the time its batch was opened
};

// Upper bound of a record's encoded size: its bytes plus the varints around them.
size_t estimate_record_size(const RecordView& record);

// Kafka's DefaultRecordBatch.incrementSequence: sequences wrap to 0 after INT32_MAX.
int32_t increment_sequence(int32_t sequence, int32_t increment);

struct ProducerIdentity {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  bool valid() const { return producer_id >= 0; }
  bool operator==(const ProducerIdentity&) const = default;
};

// The bytes of a batch: a growable buffer like std::string, except that
// grow() leaves the new bytes for the caller to write (std::string::resize
// zeroes them first, a memset per record).
class BatchBuffer {
 public:
  BatchBuffer() = default;
  BatchBuffer(const BatchBuffer& other) : BatchBuffer() { append(other.view()); }
  BatchBuffer& operator=(const BatchBuffer&) = delete;
  BatchBuffer(BatchBuffer&& other) noexcept
      : data_(std::move(other.data_)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  BatchBuffer& operator=(BatchBuffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }
  std::span<uint8_t> bytes() { return {reinterpret_cast<uint8_t*>(data_.get()), size_}; }

  void clear() { size_ = 0; }
  void reserve(size_t capacity);
  // `n` more bytes at the end, not initialized; returns where they start.
  char* grow(size_t n) {
    if (size_ + n > capacity_) reserve(std::max(size_ + n, capacity_ * 2));
    char* at = data_.get() + size_;
    size_ += n;
    return at;
  }
  void append(std::string_view bytes) {
    if (!bytes.empty()) std::memcpy(grow(bytes.size()), bytes.data(), bytes.size());
  }
  void append_zeros(size_t n) { std::memset(grow(n), 0, n); }

 private:
  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// A batch of one partition: its records already encoded, the callbacks of
// the records that have one, and its state while being sent.
struct ProducerBatch {
  struct Completion {
    int32_t index = 0;  // the record's position in the batch: offset = base + index
    int64_t timestamp_ms = 0;
    SendCallback callback;
  };

  TopicPartition partition;
  uint64_t id = 0;  // creation order; flush() waits for the ids below its start
  // kBatchHeaderSize bytes for the header, then the records (uncompressed).
  BatchBuffer buffer;
  int32_t record_count = 0;
  uint64_t tag_summary = 0;  // store/record_batch.h: the tags of its records
  bool message_ids = false;  // a record carries a message id (attribute bit 5)
  bool scheduled = false;    // its records are delayed (mq.deliver-at; attribute bit 6)
  int64_t first_timestamp_ms = 0;
  int64_t max_timestamp_ms = 0;
  int64_t created_ms = 0;       // steady clock: linger and delivery timeout count from here
  int64_t created_wall_ms = 0;  // the timestamp of records sent without one
  int64_t reserved_bytes = 0;   // buffer memory its records hold until it completes
  std::vector<Completion> completions;

  // Sending state, I/O thread only.
  int attempts = 0;  // sends so far
  int64_t retry_at_ms = 0;
  int32_t sent_to = -1;                  // the node its last attempt went to
  int32_t last_failed_at = -1;           // the node of its last failed attempt
  int failures_there = 0;                // failed attempts in a row at that node
  std::optional<int32_t> base_sequence;  // assigned on first drain when idempotent
  Status last_error;                     // why its last attempt failed, if it did

  size_t size_bytes() const { return buffer.size(); }
  // The batch as the wire carries it, stamped with `identity` and the base
  // sequence when idempotent. Encoded (and compressed) once; a retry under a
  // new identity only rewrites the producer fields and the CRC.
  Result<transport::Frame> encode(const ProducerIdentity& identity, Compression codec);
  // Runs the callbacks: offsets base_offset + index, or the error.
  // `duplicates`: (index, offset) of the records the broker left out as
  // duplicates, in index order (Produce v2).
  void complete(const Status& error, int64_t base_offset, int64_t log_append_time_ms,
                std::span<const std::pair<int32_t, int64_t>> duplicates = {});
  // After complete(): the batch's byte buffer for another batch, unless
  // ZeroMQ may still be reading it (then an empty buffer).
  BatchBuffer take_buffer();

 private:
  std::shared_ptr<BatchBuffer> encoded_;
  ProducerIdentity encoded_for_;
  std::optional<int32_t> encoded_sequence_;
};

struct AccumulatorOptions {
  int64_t batch_size_bytes = 16 * 1024;
  int linger_ms = 5;
  int max_in_flight_per_partition = 5;
  bool idempotent = true;
  // The clocks, read once per batch when it opens; tests set their own.
  int64_t (*steady_now_ms)() = &steady_ms;
  int64_t (*wall_now_ms)() = &wall_ms;
};

class RecordAccumulator {
 public:
  explicit RecordAccumulator(AccumulatorOptions options) : options_(options) {}
  RecordAccumulator(const RecordAccumulator&) = delete;
  RecordAccumulator& operator=(const RecordAccumulator&) = delete;

  // --- any thread ---

  // What append() did, so the caller knows whether to wake the I/O thread.
  enum class Appended : uint8_t {
    kUnknownTopic,  // no partition count known (or the partition is beyond it): not appended
    kToOpenBatch,   // into the partition's open batch
    kNewBatch,      // it opened a batch (a linger timer starts)
    kSealedBatch,   // it sealed a full batch (something to send)
  };
  // Appends `record` (its size from estimate_record_size) to its partition:
  // `partition` if given, else by key hash, else the topic's sticky
  // partition. `inherit_id` is the flush id of a record that waited for
  // metadata (see reserve_id).
  Appended append(std::string_view topic, std::optional<int32_t> partition,
                  const RecordView& record, size_t size_bytes, SendCallback callback,
                  std::optional<uint64_t> inherit_id = std::nullopt) {
    return try_append(topic, partition, record, size_bytes, callback, inherit_id);
  }
  // The same; `callback` is moved from only when the record was appended
  // (not for kUnknownTopic).
  Appended try_append(std::string_view topic, std::optional<int32_t> partition,
                      const RecordView& record, size_t size_bytes, SendCallback& callback,
                      std::optional<uint64_t> inherit_id = std::nullopt);

  // Known partition count of `topic`; 0 when not known yet.
  int32_t partition_count(std::string_view topic) const;

  // Flush bookkeeping: every batch, and every record waiting for metadata,
  // holds an id from one counter until it completes.
  uint64_t reserve_id();         // registers a new id as incomplete
  void release_id(uint64_t id);  // it completed
  uint64_t next_id() const { return next_id_.load(); }
  // The smallest incomplete id, or next_id() when nothing is incomplete.
  uint64_t oldest_incomplete() const;

  // --- I/O thread ---

  // Publishes a topic's partition count from metadata (0 = unknown). Until
  // end_publication(), appends without `inherit_id` to the topic return
  // kUnknownTopic: the caller appends the records that waited for the count
  // (with their inherit_id) first.
  void set_partition_count(std::string_view topic, int32_t count);
  void end_publication();

  // Seals open batches that lingered linger_ms (all of them when
  // `flushing`) and can be sent now (nothing of their partition waits for a
  // slot in flight); returns the milliseconds until the next open batch must
  // be sealed or a retry backoff ends, nullopt when nothing waits on time.
  std::optional<int64_t> seal_lingering(int64_t now_ms, bool flushing);
  // Takes the batches that may be sent now, at most one per partition, for
  // the partitions `may_send` accepts (their leader is known). Assigns
  // sequences on first send and counts them in flight.
  std::vector<std::unique_ptr<ProducerBatch>> drain(
      int64_t now_ms, const std::function<bool(const TopicPartition&)>& may_send);
  // A drained batch got its final answer (success or a permanent error).
  void on_complete(const ProducerBatch& batch);
  // A drained batch failed with a retriable error: back into its queue, in
  // sequence order, resendable from `retry_at_ms`.
  void requeue(std::unique_ptr<ProducerBatch> batch, int64_t retry_at_ms);
  // Batches waiting for a retry whose partition's leader `leader_of` now
  // names another node than the one their last attempt went to: retried at
  // `now_ms`, without waiting out their backoff (Kafka's KIP-951).
  void expedite_retries(int64_t now_ms,
                        const std::function<int32_t(const TopicPartition&)>& leader_of);

  // Whether a batch of `partition` with a sequence below `sequence` is in
  // flight or queued for retry: an OUT_OF_ORDER_SEQUENCE answer is then the
  // consequence of that batch's failure, and the later batch is retried too.
  bool has_earlier_unacknowledged(const TopicPartition& partition, int32_t sequence) const;

  // After a new producer id: every partition starts again at sequence 0 and
  // queued batches never sent get fresh sequences when drained. Queued
  // batches sent before (retries) are taken out and returned: the broker may
  // have stored them under the old id, so sending them again under the new
  // one could store them twice; the caller fails them. Call with nothing in
  // flight.
  std::vector<std::unique_ptr<ProducerBatch>> reset_sequences();

  // Removes and returns queued batches (sealed or open) created before
  // `deadline_ms` (delivery timeout), oldest first per partition.
  std::vector<std::unique_ptr<ProducerBatch>> expire_created_before(int64_t deadline_ms);
  // Removes and returns every queued batch (on close).
  std::vector<std::unique_ptr<ProducerBatch>> take_all();
  // A completed batch gives back its buffer and callback list, so the next
  // batches need no allocation (and touch no fresh pages).
  void recycle(ProducerBatch& batch);

  size_t queued_batches() const;
  int in_flight(const TopicPartition& partition) const;
  int32_t next_sequence(const TopicPartition& partition) const;

 private:
  struct PartitionQueue {
    explicit PartitionQueue(TopicPartition tp) : partition(std::move(tp)) {}
    const TopicPartition partition;
    mutable std::mutex mu;
    std::unique_ptr<ProducerBatch> open;                // guarded by mu
    std::deque<std::unique_ptr<ProducerBatch>> sealed;  // guarded by mu: retries, then new
    // I/O thread only.
    std::set<int32_t> in_flight_sequences;
    int in_flight = 0;
    int32_t next_sequence = 0;
  };
  struct TopicQueues {
    std::string name;
    std::atomic<int32_t> partition_count{0};
    // Set by set_partition_count() until end_publication(): while the I/O
    // thread appends the records that waited for this count, a send() seeing
    // it takes the slow path (the producer's mutex), so it cannot overtake them.
    std::atomic<bool> publishing{false};
    StickyPartition sticky;
    // Grows (never shrinks) under topics_mu_ held exclusively.
    std::vector<std::unique_ptr<PartitionQueue>> partitions;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  TopicQueues* find_topic(std::string_view topic) const;  // topics_mu_ held
  PartitionQueue* find_queue(const TopicPartition& partition) const;
  std::unique_ptr<ProducerBatch> open_batch(const PartitionQueue& queue);
  bool head_sendable(const PartitionQueue& queue, int64_t now_ms) const;  // queue.mu held
  template <class Fn>
  void for_each_queue(Fn&& fn) const;

  const AccumulatorOptions options_;
  mutable std::shared_mutex topics_mu_;
  std::unordered_map<std::string, std::unique_ptr<TopicQueues>, StringHash, std::equal_to<>>
      topics_;  // guarded by topics_mu_; entries live as long as the accumulator

  // Storage of completed batches for new ones (Kafka's BufferPool, simply).
  std::mutex pool_mu_;
  std::vector<BatchBuffer> buffer_pool_;                                 // guarded by pool_mu_
  std::vector<std::vector<ProducerBatch::Completion>> completion_pool_;  // guarded by pool_mu_

  std::atomic<uint64_t> next_id_{0};
  mutable std::mutex ids_mu_;
  std::multiset<uint64_t> incomplete_ids_;  // guarded by ids_mu_
};

}  // namespace mq::client
