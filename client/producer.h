// Producer: sends records to partition leaders in batches. send() is
// asynchronous and thread-safe: it hands the record to one background I/O
// thread, which owns the ZeroMQ connections (sockets are single-threaded),
// assigns partitions, batches per partition, compresses, sends, retries and
// runs the callbacks. Idempotent by default: a retried batch is never
// appended twice (see record_accumulator.h for how order is kept).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <set>
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
  // with the record's partition and offset, or its error. Keep it short: it
  // delays every other send. Returns an error (and never runs the callback)
  // when the record is invalid, too large, the producer is closed, or buffer
  // memory stays full for max_block_ms.
  Status send(ProducerRecord record, SendCallback callback);
  // The same, with the outcome (including an immediate error) in a future.
  std::future<Result<RecordMetadata>> send(ProducerRecord record);
  // send() and wait: the thin synchronous wrapper.
  Result<RecordMetadata> send_sync(ProducerRecord record);

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

  // Called on the I/O thread when a record has its answer.
  void release(uint64_t id, size_t size_bytes);

  ProducerConfig config_;
  std::unique_ptr<Sender> sender_;
  std::thread io_thread_;

  mutable std::mutex mu_;
  std::condition_variable space_cv_;  // buffer memory released
  std::condition_variable done_cv_;   // records answered
  std::condition_variable wake_cv_;   // the I/O thread has work
  std::deque<Submitted> incoming_;    // guarded by mu_
  int64_t buffer_used_bytes_ = 0;     // guarded by mu_
  std::set<uint64_t> unanswered_;     // record ids, guarded by mu_
  uint64_t next_record_id_ = 0;       // guarded by mu_
  bool closed_ = false;               // guarded by mu_: no more sends
  bool stopped_ = false;              // guarded by mu_: the I/O thread was joined
  std::atomic<int> flushers_{0};      // flush() calls waiting: linger is ignored
  std::atomic<bool> stop_{false};     // the I/O thread fails what is left and exits
};

}  // namespace mq::client
