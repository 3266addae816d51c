// The producer's application side: send() appends records to their
// partition's batch on the caller's thread; the Sender, on the I/O thread
// (producer_sender.cc), turns sealed batches into Produce requests and runs
// the callbacks.
#include "client/producer.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "client/clock.h"
#include "client/producer_sender.h"
#include "store/record_batch.h"

namespace mq::client {
namespace {

// A bad tag or message id would make the broker refuse the record's whole
// batch: it is refused here, alone.
Status check_tags(std::span<const Header> headers) {
  int tags = 0;
  int ids = 0;
  int delays = 0;
  for (const Header& header : headers) {
    if (is_schedule_header(header.key)) {
      if (header.key != kDeliverAtHeader) {
        return Status(ErrorCode::kInvalidRecord,
                      "header " + header.key + " is written by the broker only");
      }
      if (++delays > 1 || !header.value || !parse_decimal_header(*header.value)) {
        return Status(ErrorCode::kInvalidRecord,
                      "header " + std::string(kDeliverAtHeader) +
                          " must be given once, as 1 to 18 decimal digits (ms since the epoch)");
      }
      continue;
    }
    if (header.key == kMessageIdHeader) {
      if (++ids > 1 || !header.value) {
        return Status(ErrorCode::kInvalidRecord, "the record's message id (header " +
                                                     std::string(kMessageIdHeader) +
                                                     ") is null or given twice");
      }
      MQ_RETURN_IF_ERROR(check_message_id(*header.value));
      continue;
    }
    if (header.key != kTagHeader) continue;
    if (++tags > 1) {
      return Status(ErrorCode::kInvalidRecord,
                    "the record has more than one tag (header " + std::string(kTagHeader) + ")");
    }
    if (!header.value) {
      return Status(ErrorCode::kInvalidRecord,
                    "the record's tag (header " + std::string(kTagHeader) + ") is null");
    }
    MQ_RETURN_IF_ERROR(check_tag(*header.value));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Producer>> Producer::create(const ProducerConfig& config) {
  MQ_RETURN_IF_ERROR(config.validate());
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> bootstrap,
                      parse_bootstrap_servers(config.bootstrap_servers));
  std::unique_ptr<Producer> producer(new Producer(config));
  producer->wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (producer->wake_fd_ < 0) {
    return Status(ErrorCode::kUnknown, std::string("eventfd: ") + std::strerror(errno));
  }
  producer->sender_ = std::make_unique<Sender>(producer.get(), std::move(bootstrap));
  producer->io_thread_ = std::thread([p = producer.get()] { p->sender_->run(); });
  return producer;
}

Producer::Producer(const ProducerConfig& config) : config_(config) {}

Producer::~Producer() {
  (void)close(config_.max_block_ms);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Producer::wake_sender() {
  events_.fetch_add(1);
  if (sender_sleeping_.load() && sender_sleeping_.exchange(false)) {
    uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof(one));
  }
}

Status Producer::reserve_memory(int64_t size_bytes) {
  if (size_bytes > config_.buffer_memory_bytes) {
    return Status(ErrorCode::kMessageTooLarge, "record of about " + std::to_string(size_bytes) +
                                                   " bytes is larger than buffer_memory_bytes (" +
                                                   std::to_string(config_.buffer_memory_bytes) +
                                                   ")");
  }
  auto try_reserve = [&] {
    int64_t used = buffer_used_bytes_.load(std::memory_order_relaxed);
    while (used + size_bytes <= config_.buffer_memory_bytes) {
      if (buffer_used_bytes_.compare_exchange_weak(used, used + size_bytes)) return true;
    }
    return false;
  };
  if (try_reserve()) return Status::ok();
  // Full: the I/O thread sends every batch at once (linger is ignored) while
  // anyone waits here, and wakes us as batches complete.
  ++memory_waiters_;
  wake_sender();
  std::unique_lock lock(mu_);
  bool reserved = false;
  space_cv_.wait_for(lock, std::chrono::milliseconds(config_.max_block_ms), [&] {
    reserved = !closed_.load() && try_reserve();
    return reserved || closed_.load();
  });
  --memory_waiters_;
  if (closed_.load()) {
    if (reserved) buffer_used_bytes_.fetch_sub(size_bytes);
    return Status(ErrorCode::kInvalidRequest, "the producer is closed");
  }
  if (!reserved) {
    return Status(ErrorCode::kRequestTimedOut,
                  "buffer memory full: " + std::to_string(config_.buffer_memory_bytes) +
                      " bytes (buffer_memory_bytes) still unacknowledged after max_block_ms (" +
                      std::to_string(config_.max_block_ms) + " ms)");
  }
  return Status::ok();
}

void Producer::release(int64_t size_bytes) {
  buffer_used_bytes_.fetch_sub(size_bytes);
  if (memory_waiters_.load() > 0) {
    std::lock_guard lock(mu_);
    space_cv_.notify_all();
  }
  if (flushers_.load() > 0) {
    std::lock_guard lock(mu_);
    done_cv_.notify_all();
  }
}

Status Producer::send(ProducerRecord record, SendCallback callback) {
  auto view_of = [](const std::optional<std::string>& s) {
    return s ? std::optional<std::string_view>(*s) : std::nullopt;
  };
  return send_view(ProducerRecordView{.topic = record.topic,
                                      .key = view_of(record.key),
                                      .value = view_of(record.value),
                                      .headers = record.headers,
                                      .partition = record.partition,
                                      .timestamp_ms = record.timestamp_ms,
                                      .deliver_at_ms = record.deliver_at_ms},
                   std::move(callback));
}

Status Producer::send_view(const ProducerRecordView& record, SendCallback callback) {
  if (record.deliver_at_ms && *record.deliver_at_ms > wall_ms()) {
    // Delayed: the same record with its delivery time as a header.
    if (std::ranges::any_of(record.headers,
                            [](const Header& h) { return h.key == kDeliverAtHeader; })) {
      return Status(ErrorCode::kInvalidRecord, "the record has both deliver_at_ms and a " +
                                                   std::string(kDeliverAtHeader) + " header");
    }
    std::vector<Header> headers(record.headers.begin(), record.headers.end());
    headers.push_back({std::string(kDeliverAtHeader), std::to_string(*record.deliver_at_ms)});
    ProducerRecordView delayed = record;
    delayed.headers = headers;
    delayed.deliver_at_ms.reset();
    return send_view(delayed, std::move(callback));
  }
  if (record.topic.empty()) return Status(ErrorCode::kInvalidTopic, "the record has no topic");
  if (record.partition && *record.partition < 0) {
    return Status(ErrorCode::kUnknownTopicOrPartition,
                  "partition " + std::to_string(*record.partition) + " is negative");
  }
  MQ_RETURN_IF_ERROR(check_tags(record.headers));
  RecordView view{.key = record.key,
                  .value = record.value,
                  .headers = record.headers,
                  .timestamp_ms = record.timestamp_ms};
  size_t size = estimate_record_size(view);
  if (static_cast<int64_t>(size + kBatchHeaderSize) > config_.max_request_size_bytes) {
    return Status(ErrorCode::kMessageTooLarge,
                  "record of about " + std::to_string(size) +
                      " bytes is larger than max_request_size_bytes (" +
                      std::to_string(config_.max_request_size_bytes) + ")");
  }
  if (closed_.load(std::memory_order_relaxed)) {
    return Status(ErrorCode::kInvalidRequest, "the producer is closed");
  }
  MQ_RETURN_IF_ERROR(reserve_memory(static_cast<int64_t>(size)));
  RecordAccumulator& accumulator = sender_->accumulator();
  auto appended = accumulator.try_append(record.topic, record.partition, view, size, callback);
  if (appended == RecordAccumulator::Appended::kUnknownTopic) {
    // The I/O thread publishes a partition count and appends the records
    // that waited for it in one step under mu_: a count seen here, under
    // mu_, has nothing of this partition waiting ahead of this record.
    std::unique_lock lock(mu_);
    appended = accumulator.try_append(record.topic, record.partition, view, size, callback);
    if (appended == RecordAccumulator::Appended::kUnknownTopic) {
      auto owned = [](std::optional<std::string_view> s) {
        return s ? std::optional<std::string>(*s) : std::nullopt;
      };
      waiting_.push_back({.topic = std::string(record.topic),
                          .partition = record.partition,
                          .key = owned(record.key),
                          .value = owned(record.value),
                          .headers = {record.headers.begin(), record.headers.end()},
                          .timestamp_ms = record.timestamp_ms.value_or(wall_ms()),
                          .size_bytes = size,
                          .callback = std::move(callback),
                          .id = accumulator.reserve_id(),
                          .submitted_ms = steady_ms()});
      lock.unlock();
      wake_sender();
      return Status::ok();
    }
  }
  if (appended != RecordAccumulator::Appended::kToOpenBatch) wake_sender();
  return Status::ok();
}

std::future<Result<RecordMetadata>> Producer::send(ProducerRecord record) {
  auto promise = std::make_shared<std::promise<Result<RecordMetadata>>>();
  std::future<Result<RecordMetadata>> future = promise->get_future();
  Status status = send(std::move(record), [promise](const Result<RecordMetadata>& result) {
    promise->set_value(result);
  });
  if (!status.is_ok()) promise->set_value(status);
  return future;
}

Result<RecordMetadata> Producer::send_sync(ProducerRecord record) {
  return send(std::move(record)).get();
}

Status Producer::send_oneway(ProducerRecord record) {
  return send(std::move(record), {});
}

Status Producer::send_oneway_view(const ProducerRecordView& record) {
  return send_view(record, {});
}

Status Producer::flush(int timeout_ms) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Status::ok();
  }
  RecordAccumulator& accumulator = sender_->accumulator();
  // Every batch and waiting record with an id below this was sent before the flush.
  const uint64_t last = accumulator.next_id();
  auto done = [&] { return accumulator.oldest_incomplete() >= last; };
  ++flushers_;
  wake_sender();
  bool finished = true;
  {
    std::unique_lock lock(mu_);
    if (timeout_ms < 0) {
      done_cv_.wait(lock, done);
    } else {
      finished = done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
    }
  }
  --flushers_;
  if (!finished) {
    return Status(ErrorCode::kRequestTimedOut, "flush: records still unacknowledged after " +
                                                   std::to_string(timeout_ms) + " ms");
  }
  return Status::ok();
}

Status Producer::close(int timeout_ms) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Status::ok();
    closed_ = true;
    space_cv_.notify_all();
  }
  Status drained = flush(timeout_ms);
  stop_ = true;
  wake_sender();
  if (io_thread_.joinable()) io_thread_.join();
  std::lock_guard lock(mu_);
  stopped_ = true;
  return drained;
}

ProducerStats Producer::stats() const {
  return sender_->stats();
}

}  // namespace mq::client
