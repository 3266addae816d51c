// Batching, sequencing and retry order of the producer; see record_accumulator.h.
#include "client/record_accumulator.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>

#include "store/coding.h"
#include "store/record_batch.h"

namespace mq::client {
namespace {

size_t bytes_field_size(const std::optional<std::string_view>& bytes) {
  if (!bytes) return coding::varint_size(-1);
  return coding::varint_size(static_cast<int64_t>(bytes->size())) + bytes->size();
}

uint8_t* put_bytes_field(uint8_t* out, const std::optional<std::string_view>& bytes) {
  if (!bytes) return coding::put_varint(out, -1);
  out = coding::put_varint(out, static_cast<int64_t>(bytes->size()));
  if (!bytes->empty()) std::memcpy(out, bytes->data(), bytes->size());
  return out + bytes->size();
}

std::optional<std::string_view> view_of(const std::optional<std::string>& s) {
  return s ? std::optional<std::string_view>(*s) : std::nullopt;
}

// Appends one record in the batch format (store/record_batch.h) to `buffer`;
// returns its tag's bit of the batch's tag summary (0 when untagged) and sets
// `*message_id` when the record carries a message id.
uint64_t encode_record(BatchBuffer& buffer, int64_t timestamp_delta, int32_t offset_delta,
                       const RecordView& record, bool* message_id) {
  size_t body = 1 + coding::varint_size(timestamp_delta) + coding::varint_size(offset_delta) +
                bytes_field_size(record.key) + bytes_field_size(record.value) +
                coding::varint_size(static_cast<int64_t>(record.headers.size()));
  for (const Header& header : record.headers) {
    body += bytes_field_size(header.key) + bytes_field_size(view_of(header.value));
  }
  auto* p = reinterpret_cast<uint8_t*>(
      buffer.grow(coding::varint_size(static_cast<int64_t>(body)) + body));
  p = coding::put_varint(p, static_cast<int64_t>(body));
  *p++ = 0;  // attributes
  p = coding::put_varint(p, timestamp_delta);
  p = coding::put_varint(p, offset_delta);
  p = put_bytes_field(p, record.key);
  p = put_bytes_field(p, record.value);
  p = coding::put_varint(p, static_cast<int64_t>(record.headers.size()));
  uint64_t tag_bit = 0;
  for (const Header& header : record.headers) {
    p = put_bytes_field(p, header.key);
    p = put_bytes_field(p, view_of(header.value));
    if (header.key == kTagHeader && header.value) tag_bit = tag_summary_bit(*header.value);
    if (header.key == kMessageIdHeader) *message_id = true;
  }
  assert(p == reinterpret_cast<uint8_t*>(buffer.data()) + buffer.size());
  return tag_bit;
}

}  // namespace

size_t estimate_record_size(const RecordView& record) {
  // Varints: length, timestamp and offset deltas, key and value lengths,
  // header count (5 bytes each at most, plus the attributes byte).
  size_t size = 1 + 7 * 5;
  if (record.key) size += record.key->size();
  if (record.value) size += record.value->size();
  for (const Header& header : record.headers) {
    size += 10 + header.key.size() + (header.value ? header.value->size() : 0);
  }
  return size;
}

int32_t increment_sequence(int32_t sequence, int32_t increment) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (sequence > kMax - increment) return increment - (kMax - sequence) - 1;
  return sequence + increment;
}

Result<transport::Frame> ProducerBatch::encode(const ProducerIdentity& identity,
                                               Compression codec) {
  ProducerIdentity stamp = base_sequence ? identity : ProducerIdentity{};
  int32_t sequence = base_sequence.value_or(-1);
  if (!encoded_) {
    auto encoded = std::make_shared<BatchBuffer>();
    if (codec == Compression::kNone) {
      *encoded = std::move(buffer);
    } else {
      std::string_view records = buffer.view().substr(kBatchHeaderSize);
      std::string compressed;
      MQ_RETURN_IF_ERROR(compress(codec, records, &compressed));
      encoded->reserve(kBatchHeaderSize + compressed.size());
      encoded->append_zeros(kBatchHeaderSize);
      encoded->append(compressed);
    }
    uint16_t attributes = static_cast<uint16_t>(codec);
    if (message_ids) attributes |= kAttrMessageIds;
    if (scheduled) attributes |= kAttrScheduled;
    if (tag_summary != 0) {
      attributes |= kAttrTagSummary;
      uint8_t summary[kTagSummarySize];
      coding::put_fixed<uint64_t>(summary, tag_summary);
      encoded->append(std::string_view(reinterpret_cast<const char*>(summary), kTagSummarySize));
    }
    if (encoded->size() - kBatchLengthPrefix > static_cast<size_t>(kMaxBatchBytes)) {
      return Status(ErrorCode::kMessageTooLarge, "batch exceeds 256 MiB");
    }
    write_batch_header(encoded->bytes(), BatchHeader{.leader_epoch = -1,
                                                     .attributes = attributes,
                                                     .last_offset_delta = record_count - 1,
                                                     .first_timestamp = first_timestamp_ms,
                                                     .max_timestamp = max_timestamp_ms,
                                                     .producer_id = stamp.producer_id,
                                                     .producer_epoch = stamp.epoch,
                                                     .base_sequence = sequence,
                                                     .record_count = record_count});
    encoded_ = std::move(encoded);
    encoded_for_ = stamp;
    encoded_sequence_ = sequence;
  } else if (encoded_for_ != stamp || encoded_sequence_ != sequence) {
    // A retry under a new producer id. The earlier send may still be in
    // ZeroMQ's queue, which reads these bytes, so the new stamp goes on a copy.
    auto copy = std::make_shared<BatchBuffer>(*encoded_);
    set_producer_fields(copy->bytes(), stamp.producer_id, stamp.epoch, sequence);
    encoded_ = std::move(copy);
    encoded_for_ = stamp;
    encoded_sequence_ = sequence;
  }
  return transport::Frame(mq::as_bytes(encoded_->view()), encoded_);
}

void ProducerBatch::complete(const Status& error, int64_t base_offset, int64_t log_append_time_ms,
                             std::span<const std::pair<int32_t, int64_t>> duplicates) {
  size_t next_duplicate = 0;
  for (Completion& completion : completions) {
    if (!error.is_ok()) {
      completion.callback(error);
      continue;
    }
    while (next_duplicate < duplicates.size() &&
           duplicates[next_duplicate].first < completion.index) {
      ++next_duplicate;
    }
    bool duplicate =
        next_duplicate < duplicates.size() && duplicates[next_duplicate].first == completion.index;
    int64_t offset = base_offset < 0 ? -1 : base_offset + completion.index;
    completion.callback(RecordMetadata{
        .topic = partition.topic,
        .partition = partition.partition,
        .offset = duplicate ? duplicates[next_duplicate].second : offset,
        .timestamp_ms = log_append_time_ms >= 0 ? log_append_time_ms : completion.timestamp_ms,
        .duplicate = duplicate,
        .scheduled = scheduled});
  }
  completions.clear();
}

void BatchBuffer::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = capacity;
}

BatchBuffer ProducerBatch::take_buffer() {
  BatchBuffer out;
  if (encoded_ && encoded_.use_count() == 1 && buffer.empty()) {
    // Only this batch holds the bytes: ZeroMQ has let go of every send.
    out = std::move(*encoded_);
  } else if (!buffer.empty()) {
    out = std::move(buffer);  // never sent, or compressed into a copy
  }
  encoded_.reset();
  return out;
}

RecordAccumulator::TopicQueues* RecordAccumulator::find_topic(std::string_view topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? nullptr : it->second.get();
}

int32_t RecordAccumulator::partition_count(std::string_view topic) const {
  std::shared_lock lock(topics_mu_);
  TopicQueues* queues = find_topic(topic);
  return queues == nullptr ? 0 : queues->partition_count.load(std::memory_order_acquire);
}

void RecordAccumulator::set_partition_count(std::string_view topic, int32_t count) {
  {
    std::shared_lock lock(topics_mu_);
    TopicQueues* queues = find_topic(topic);
    if (queues != nullptr && static_cast<int32_t>(queues->partitions.size()) >= count) {
      queues->publishing.store(true, std::memory_order_release);
      queues->partition_count.store(count, std::memory_order_release);
      return;
    }
  }
  std::unique_lock lock(topics_mu_);
  auto& entry = topics_[std::string(topic)];
  if (!entry) {
    entry = std::make_unique<TopicQueues>();
    entry->name = std::string(topic);
  }
  // Partitions never go away here: a batch may still sit in a queue whose
  // partition the metadata stopped listing for a moment.
  for (auto p = static_cast<int32_t>(entry->partitions.size()); p < count; ++p) {
    entry->partitions.push_back(std::make_unique<PartitionQueue>(TopicPartition{entry->name, p}));
  }
  entry->publishing.store(true, std::memory_order_release);
  entry->partition_count.store(count, std::memory_order_release);
}

void RecordAccumulator::end_publication() {
  std::shared_lock lock(topics_mu_);
  for (const auto& [name, queues] : topics_) {
    queues->publishing.store(false, std::memory_order_release);
  }
}

uint64_t RecordAccumulator::reserve_id() {
  std::lock_guard lock(ids_mu_);
  uint64_t id = next_id_.fetch_add(1);
  incomplete_ids_.insert(id);
  return id;
}

void RecordAccumulator::release_id(uint64_t id) {
  std::lock_guard lock(ids_mu_);
  auto it = incomplete_ids_.find(id);
  if (it != incomplete_ids_.end()) incomplete_ids_.erase(it);
}

uint64_t RecordAccumulator::oldest_incomplete() const {
  std::lock_guard lock(ids_mu_);
  return incomplete_ids_.empty() ? next_id_.load() : *incomplete_ids_.begin();
}

void RecordAccumulator::recycle(ProducerBatch& batch) {
  BatchBuffer buffer = batch.take_buffer();
  std::vector<ProducerBatch::Completion> completions = std::move(batch.completions);
  completions.clear();
  const auto batch_size = static_cast<size_t>(options_.batch_size_bytes);
  // Enough for the batches in flight and being filled; a record too large for
  // a batch brings a large buffer that is not worth keeping.
  constexpr size_t kPoolSize = 64;
  std::lock_guard lock(pool_mu_);
  if (buffer_pool_.size() < kPoolSize && buffer.capacity() >= batch_size &&
      buffer.capacity() <= 2 * batch_size) {
    buffer_pool_.push_back(std::move(buffer));
  }
  if (completion_pool_.size() < kPoolSize && completions.capacity() > 0) {
    completion_pool_.push_back(std::move(completions));
  }
}

std::unique_ptr<ProducerBatch> RecordAccumulator::open_batch(const PartitionQueue& queue) {
  auto batch = std::make_unique<ProducerBatch>();
  batch->partition = queue.partition;
  batch->id = reserve_id();
  {
    std::lock_guard lock(pool_mu_);
    if (!buffer_pool_.empty()) {
      batch->buffer = std::move(buffer_pool_.back());
      buffer_pool_.pop_back();
    }
    if (!completion_pool_.empty()) {
      batch->completions = std::move(completion_pool_.back());
      completion_pool_.pop_back();
    }
  }
  batch->buffer.clear();
  batch->buffer.reserve(static_cast<size_t>(options_.batch_size_bytes));
  batch->buffer.append_zeros(kBatchHeaderSize);
  batch->created_ms = options_.steady_now_ms();
  batch->created_wall_ms = options_.wall_now_ms();
  return batch;
}

RecordAccumulator::Appended RecordAccumulator::try_append(std::string_view topic,
                                                          std::optional<int32_t> partition,
                                                          const RecordView& record,
                                                          size_t size_bytes, SendCallback& callback,
                                                          std::optional<uint64_t> inherit_id) {
  std::shared_lock topics_lock(topics_mu_);
  TopicQueues* queues = find_topic(topic);
  int32_t count = queues == nullptr ? 0 : queues->partition_count.load(std::memory_order_acquire);
  if (count == 0 || (partition && *partition >= count)) return Appended::kUnknownTopic;
  // Read after the count: a count being published is seen with its flag.
  if (!inherit_id && queues->publishing.load(std::memory_order_acquire)) {
    return Appended::kUnknownTopic;
  }
  int32_t chosen = partition    ? *partition
                   : record.key ? partition_for_key(*record.key, count)
                                : queues->sticky.current(count);
  PartitionQueue& queue = *queues->partitions[static_cast<size_t>(chosen)];

  // A scheduled record (delayed delivery) travels in a batch of scheduled
  // records only (attribute bit 6).
  const bool scheduled = std::ranges::any_of(
      record.headers, [](const Header& h) { return h.key == kDeliverAtHeader; });
  std::lock_guard lock(queue.mu);
  Appended result = Appended::kToOpenBatch;
  auto limit = static_cast<size_t>(options_.batch_size_bytes);
  if (queue.open && queue.open->record_count > 0 &&
      (queue.open->buffer.size() + size_bytes > limit || queue.open->scheduled != scheduled)) {
    // Full: a record too big for it starts the next one.
    queue.sealed.push_back(std::move(queue.open));
    queues->sticky.on_batch_sealed(chosen, count);
    result = Appended::kSealedBatch;
  }
  if (!queue.open) {
    queue.open = open_batch(queue);
    if (result == Appended::kToOpenBatch) result = Appended::kNewBatch;
  }
  ProducerBatch& batch = *queue.open;
  batch.scheduled = scheduled;
  int64_t timestamp = record.timestamp_ms.value_or(batch.created_wall_ms);
  if (batch.record_count == 0) {
    batch.first_timestamp_ms = timestamp;
    batch.max_timestamp_ms = timestamp;
  }
  batch.max_timestamp_ms = std::max(batch.max_timestamp_ms, timestamp);
  batch.tag_summary |= encode_record(batch.buffer, timestamp - batch.first_timestamp_ms,
                                     batch.record_count, record, &batch.message_ids);
  if (callback) {
    batch.completions.push_back({batch.record_count, timestamp, std::move(callback)});
  }
  ++batch.record_count;
  batch.reserved_bytes += static_cast<int64_t>(size_bytes);
  if (inherit_id && *inherit_id < batch.id) {
    // A record that waited for metadata keeps its place for flush().
    std::lock_guard ids_lock(ids_mu_);
    incomplete_ids_.erase(incomplete_ids_.find(batch.id));
    batch.id = *inherit_id;
  } else if (inherit_id) {
    release_id(*inherit_id);
  }
  if (batch.buffer.size() >= limit) {
    queue.sealed.push_back(std::move(queue.open));
    queues->sticky.on_batch_sealed(chosen, count);
    result = Appended::kSealedBatch;
  }
  return result;
}

template <class Fn>
void RecordAccumulator::for_each_queue(Fn&& fn) const {
  std::shared_lock lock(topics_mu_);
  for (const auto& [name, queues] : topics_) {
    for (const auto& queue : queues->partitions) fn(*queues, *queue);
  }
}

RecordAccumulator::PartitionQueue* RecordAccumulator::find_queue(
    const TopicPartition& partition) const {
  std::shared_lock lock(topics_mu_);
  TopicQueues* queues = find_topic(partition.topic);
  if (queues == nullptr || partition.partition < 0 ||
      static_cast<size_t>(partition.partition) >= queues->partitions.size()) {
    return nullptr;
  }
  return queues->partitions[static_cast<size_t>(partition.partition)].get();
}

std::optional<int64_t> RecordAccumulator::seal_lingering(int64_t now_ms, bool flushing) {
  std::optional<int64_t> delay;
  auto wait_until = [&](int64_t at) {
    int64_t d = std::max<int64_t>(0, at - now_ms);
    delay = delay ? std::min(*delay, d) : d;
  };
  for_each_queue([&](TopicQueues& queues, PartitionQueue& queue) {
    std::lock_guard lock(queue.mu);
    if (queue.open) {
      bool lingered = flushing || now_ms - queue.open->created_ms >= options_.linger_ms;
      // Sealed only when it can go out now: while batches wait for a slot
      // in flight, the open one keeps filling (Kafka closes batches when it
      // drains them), so a backlog travels in full batches, not in one
      // small batch per linger.
      bool can_go = queue.sealed.empty() && queue.in_flight < options_.max_in_flight_per_partition;
      if (lingered && can_go) {
        queue.sealed.push_back(std::move(queue.open));
        queues.sticky.on_batch_sealed(queue.partition.partition,
                                      queues.partition_count.load(std::memory_order_relaxed));
      } else if (!lingered) {
        wait_until(queue.open->created_ms + options_.linger_ms);
      }
    }
    if (!queue.sealed.empty() && queue.sealed.front()->attempts > 0 && queue.in_flight == 0) {
      wait_until(queue.sealed.front()->retry_at_ms);
    }
  });
  return delay;
}

bool RecordAccumulator::head_sendable(const PartitionQueue& queue, int64_t now_ms) const {
  if (queue.sealed.empty() || queue.in_flight >= options_.max_in_flight_per_partition) {
    return false;
  }
  const ProducerBatch& head = *queue.sealed.front();
  // A retry waits for its backoff and for every batch after it to come back,
  // so it reaches the broker ahead of them.
  if (head.attempts > 0) return head.retry_at_ms <= now_ms && queue.in_flight == 0;
  return true;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::drain(
    int64_t now_ms, const std::function<bool(const TopicPartition&)>& may_send) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  for_each_queue([&](TopicQueues&, PartitionQueue& queue) {
    std::unique_ptr<ProducerBatch> batch;
    {
      std::lock_guard lock(queue.mu);
      if (!head_sendable(queue, now_ms) || !may_send(queue.partition)) return;
      batch = std::move(queue.sealed.front());
      queue.sealed.pop_front();
    }
    ++batch->attempts;
    if (options_.idempotent) {
      if (!batch->base_sequence) {
        batch->base_sequence = queue.next_sequence;
        queue.next_sequence = increment_sequence(queue.next_sequence, batch->record_count);
      }
      queue.in_flight_sequences.insert(*batch->base_sequence);
    }
    ++queue.in_flight;
    out.push_back(std::move(batch));
  });
  return out;
}

void RecordAccumulator::on_complete(const ProducerBatch& batch) {
  PartitionQueue* queue = find_queue(batch.partition);
  assert(queue != nullptr && queue->in_flight > 0);
  --queue->in_flight;
  if (batch.base_sequence) queue->in_flight_sequences.erase(*batch.base_sequence);
}

void RecordAccumulator::requeue(std::unique_ptr<ProducerBatch> batch, int64_t retry_at_ms) {
  on_complete(*batch);
  PartitionQueue& queue = *find_queue(batch->partition);
  batch->retry_at_ms = retry_at_ms;
  std::lock_guard lock(queue.mu);
  // Retries go before batches never sent (attempts == 0) and, among
  // themselves, by sequence: the order the broker must see them in.
  auto position = std::ranges::find_if(queue.sealed, [&](const auto& queued) {
    if (queued->attempts == 0) return true;
    return batch->base_sequence && queued->base_sequence &&
           *queued->base_sequence > *batch->base_sequence;
  });
  queue.sealed.insert(position, std::move(batch));
}

void RecordAccumulator::expedite_retries(
    int64_t now_ms, const std::function<int32_t(const TopicPartition&)>& leader_of) {
  for_each_queue([&](const TopicQueues&, PartitionQueue& queue) {
    std::lock_guard lock(queue.mu);
    if (queue.sealed.empty() || queue.sealed.front()->attempts == 0) return;
    int32_t leader = -2;  // looked up once per partition
    for (auto& batch : queue.sealed) {
      if (batch->attempts == 0) break;
      if (batch->retry_at_ms <= now_ms) continue;
      if (leader == -2) leader = leader_of(queue.partition);
      if (leader >= 0 && leader != batch->sent_to) batch->retry_at_ms = now_ms;
    }
  });
}

bool RecordAccumulator::has_earlier_unacknowledged(const TopicPartition& partition,
                                                   int32_t sequence) const {
  PartitionQueue* queue = find_queue(partition);
  if (queue == nullptr) return false;
  if (!queue->in_flight_sequences.empty() && *queue->in_flight_sequences.begin() < sequence) {
    return true;
  }
  std::lock_guard lock(queue->mu);
  return std::ranges::any_of(queue->sealed, [&](const auto& queued) {
    return queued->base_sequence && *queued->base_sequence < sequence;
  });
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::reset_sequences() {
  std::vector<std::unique_ptr<ProducerBatch>> sent_before;
  for_each_queue([&](TopicQueues&, PartitionQueue& queue) {
    assert(queue.in_flight == 0);
    queue.next_sequence = 0;
    queue.in_flight_sequences.clear();
    std::lock_guard lock(queue.mu);
    for (auto it = queue.sealed.begin(); it != queue.sealed.end();) {
      if ((*it)->attempts > 0) {
        sent_before.push_back(std::move(*it));
        it = queue.sealed.erase(it);
        continue;
      }
      (*it)->base_sequence.reset();
      ++it;
    }
  });
  return sent_before;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::expire_created_before(
    int64_t deadline_ms) {
  std::vector<std::unique_ptr<ProducerBatch>> expired;
  for_each_queue([&](TopicQueues&, PartitionQueue& queue) {
    std::lock_guard lock(queue.mu);
    for (auto it = queue.sealed.begin(); it != queue.sealed.end();) {
      if ((*it)->created_ms < deadline_ms) {
        expired.push_back(std::move(*it));
        it = queue.sealed.erase(it);
      } else {
        ++it;
      }
    }
    if (queue.open && queue.open->created_ms < deadline_ms) {
      expired.push_back(std::move(queue.open));
    }
  });
  return expired;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::take_all() {
  std::vector<std::unique_ptr<ProducerBatch>> all;
  for_each_queue([&](TopicQueues&, PartitionQueue& queue) {
    std::lock_guard lock(queue.mu);
    for (auto& batch : queue.sealed) all.push_back(std::move(batch));
    queue.sealed.clear();
    if (queue.open) all.push_back(std::move(queue.open));
  });
  return all;
}

size_t RecordAccumulator::queued_batches() const {
  size_t total = 0;
  for_each_queue([&](TopicQueues&, PartitionQueue& queue) {
    std::lock_guard lock(queue.mu);
    total += queue.sealed.size() + (queue.open ? 1 : 0);
  });
  return total;
}

int RecordAccumulator::in_flight(const TopicPartition& partition) const {
  PartitionQueue* queue = find_queue(partition);
  return queue == nullptr ? 0 : queue->in_flight;
}

int32_t RecordAccumulator::next_sequence(const TopicPartition& partition) const {
  PartitionQueue* queue = find_queue(partition);
  return queue == nullptr ? 0 : queue->next_sequence;
}

}  // namespace mq::client
