// Producer: sends records to partition leaders in batches. send() is
// asynchronous and thread-safe: it encodes the record into its partition's
// open batch on the caller's thread (record_accumulator.h). One background
// I/O thread owns the ZeroMQ connections (sockets are single-threaded): it is
// woken when a batch is sealed or opened, never per record, and sends,
// retries and runs the callbacks, batch by batch. Idempotent by default: a
// retried batch is never appended twice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "client/config.h"
#include "client/record.h"

namespace mq::client {

struct ProducerStats {
  uint64_t batches_sent = 0;  // sends, counting each retry
  uint64_t retries = 0;       // batches sent again after a retriable failure
  uint64_t metadata_refreshes = 0;
  uint64_t records_acknowledged = 0;
  uint64_t records_failed = 0;
};

class Producer {
 public:
  // Validates the config and starts the I/O thread; brokers are contacted
  // from there, so an unreachable cluster shows up as failed sends.
  static Result<std::unique_ptr<Producer>> create(const ProducerConfig& config);
  // close() with max_block_ms.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues `record`; `callback` (may be empty) later runs on the I/O thread
  // with the record's partition and offset, or its error. Callbacks of one
  // partition run in send order. Keep them short: they delay every other
  // send. Returns an error (and never runs the callback) when the record is
  // invalid, too large, the producer is closed, or buffer memory stays full
  // for max_block_ms. A record without a timestamp gets the time its batch
  // was opened: at most linger_ms before send() (one clock read per batch).
  Status send(ProducerRecord record, SendCallback callback);
  // The same without copying the record's bytes (see ProducerRecordView).
  Status send_view(const ProducerRecordView& record, SendCallback callback);
  // The same, with the outcome (including an immediate error) in a future.
  std::future<Result<RecordMetadata>> send(ProducerRecord record);
  // send() and wait: the thin synchronous wrapper (RocketMQ's sync send).
  Result<RecordMetadata> send_sync(ProducerRecord record);
  // RocketMQ's one-way send: queues `record` and never reports its outcome;
  // a record that fails for good only counts in stats().records_failed.
  // With acks 0 nothing is answered on the wire either; with acks 1 or -1
  // the producer still retries it as any other. Errors before queueing are
  // returned as by send().
  Status send_oneway(ProducerRecord record);
  Status send_oneway_view(const ProducerRecordView& record);

  // Sends everything queued at once (ignoring linger) and waits until every
  // record sent before this call has its answer. timeout_ms -1 = no limit.
  Status flush(int timeout_ms = -1);
  // Refuses new sends, drains what is queued for up to `timeout_ms`, then
  // fails whatever is left and stops the I/O thread. Idempotent. Connecting,
  // Metadata and InitProducerId are blocking calls on the I/O thread, so with
  // an unreachable cluster close() can take up to request_timeout_ms longer.
  Status close(int timeout_ms);

  ProducerStats stats() const;

 private:
  struct Submitted;
  class Sender;
  explicit Producer(const ProducerConfig& config);

  // Waits for buffer memory for `size_bytes`; false after max_block_ms or on close.
  Status reserve_memory(int64_t size_bytes);
  // Called on the I/O thread when a batch (or a waiting record) has its answer.
  void release(int64_t size_bytes);
  // Tells the I/O thread there is news; wakes it if it sleeps (one write to an eventfd).
  void wake_sender();

  ProducerConfig config_;
  std::unique_ptr<Sender> sender_;
  std::thread io_thread_;
  int wake_fd_ = -1;  // eventfd the I/O thread polls beside its sockets

  std::atomic<int64_t> buffer_used_bytes_{0};
  std::atomic<uint64_t> events_{
      0};  // counts news for the I/O thread: batches opened or sealed, ...
  std::atomic<bool> sender_sleeping_{false};  // the I/O thread waits: wake it on news
  std::atomic<bool> closed_{false};           // no more sends
  std::atomic<int> flushers_{0};              // flush() calls waiting: linger is ignored
  std::atomic<int> memory_waiters_{0};        // send() calls waiting for buffer memory
  std::atomic<bool> stop_{false};             // the I/O thread fails what is left and exits

  mutable std::mutex mu_;
  std::condition_variable space_cv_;  // buffer memory released (with memory_waiters_)
  std::condition_variable done_cv_;   // batches answered (with flushers_)
  std::deque<Submitted> waiting_;     // records of topics without metadata yet; guarded by mu_
  bool stopped_ = false;              // guarded by mu_: the I/O thread was joined
};

}  // namespace mq::client
