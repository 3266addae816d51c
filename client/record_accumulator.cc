// Batching, sequencing and retry order of the producer; see record_accumulator.h.
#include "client/record_accumulator.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "store/record_batch.h"

namespace mq::client {

size_t estimate_record_size(const std::optional<std::string>& key,
                            const std::optional<std::string>& value,
                            const std::vector<Header>& headers) {
  // Varints: length, timestamp and offset deltas, key and value lengths,
  // header count (5 bytes each at most, plus the attributes byte).
  size_t size = 1 + 7 * 5;
  if (key) size += key->size();
  if (value) size += value->size();
  for (const Header& header : headers) {
    size += 10 + header.key.size() + (header.value ? header.value->size() : 0);
  }
  return size;
}

int32_t increment_sequence(int32_t sequence, int32_t increment) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (sequence > kMax - increment) return increment - (kMax - sequence) - 1;
  return sequence + increment;
}

Result<std::string> ProducerBatch::encode(const ProducerIdentity& identity,
                                          Compression codec) const {
  RecordBatchBuilder builder(codec);
  if (base_sequence) builder.set_producer(identity.producer_id, identity.epoch, *base_sequence);
  std::vector<RecordHeader> headers;
  for (const PendingRecord& record : records) {
    headers.clear();
    for (const Header& header : record.headers) {
      headers.push_back({header.key, header.value ? std::optional<std::string_view>(*header.value)
                                                  : std::nullopt});
    }
    builder.add(record.timestamp_ms,
                record.key ? std::optional<std::string_view>(*record.key) : std::nullopt,
                record.value ? std::optional<std::string_view>(*record.value) : std::nullopt,
                headers);
  }
  return builder.build();
}

void ProducerBatch::complete(const Status& error, int64_t base_offset, int64_t log_append_time_ms) {
  for (size_t i = 0; i < records.size(); ++i) {
    PendingRecord& record = records[i];
    if (!record.on_done) continue;
    if (!error.is_ok()) {
      record.on_done(error);
      continue;
    }
    record.on_done(RecordMetadata{
        .topic = partition.topic,
        .partition = partition.partition,
        .offset = base_offset < 0 ? -1 : base_offset + static_cast<int64_t>(i),
        .timestamp_ms = log_append_time_ms >= 0 ? log_append_time_ms : record.timestamp_ms});
  }
}

bool RecordAccumulator::append(const TopicPartition& partition, PendingRecord record,
                               int64_t now_ms) {
  PartitionQueue& queue = partitions_[partition];
  ProducerBatch* open = queue.batches.empty() ? nullptr : queue.batches.back().get();
  if (open != nullptr && !open->closed &&
      static_cast<int64_t>(open->size_bytes + record.size_bytes) > options_.batch_size_bytes) {
    open->closed = true;  // full: a record too big for it starts the next one
  }
  bool started = false;
  if (open == nullptr || open->closed) {
    auto batch = std::make_unique<ProducerBatch>();
    batch->partition = partition;
    batch->size_bytes = kBatchHeaderSize;
    batch->created_ms = now_ms;
    open = batch.get();
    queue.batches.push_back(std::move(batch));
    started = true;
  }
  open->size_bytes += record.size_bytes;
  open->records.push_back(std::move(record));
  if (static_cast<int64_t>(open->size_bytes) >= options_.batch_size_bytes) open->closed = true;
  return started;
}

bool RecordAccumulator::head_ready(const PartitionQueue& queue, int64_t now_ms,
                                   bool flushing) const {
  if (queue.batches.empty() || queue.in_flight >= options_.max_in_flight_per_partition) {
    return false;
  }
  const ProducerBatch& head = *queue.batches.front();
  if (head.attempts > 0) {
    // A retry waits for its backoff and for every batch after it to come back,
    // so it reaches the broker ahead of them.
    return head.retry_at_ms <= now_ms && queue.in_flight == 0;
  }
  return head.closed || queue.batches.size() > 1 || flushing ||
         now_ms - head.created_ms >= options_.linger_ms;
}

std::vector<TopicPartition> RecordAccumulator::ready(int64_t now_ms, bool flushing) const {
  std::vector<TopicPartition> out;
  for (const auto& [partition, queue] : partitions_) {
    if (head_ready(queue, now_ms, flushing)) out.push_back(partition);
  }
  return out;
}

std::optional<int64_t> RecordAccumulator::next_ready_delay_ms(int64_t now_ms, bool flushing) const {
  std::optional<int64_t> delay;
  for (const auto& [partition, queue] : partitions_) {
    if (queue.batches.empty() || queue.in_flight >= options_.max_in_flight_per_partition) continue;
    const ProducerBatch& head = *queue.batches.front();
    int64_t at = 0;
    if (head.attempts > 0) {
      if (queue.in_flight > 0) continue;  // waits on responses, not on time
      at = head.retry_at_ms;
    } else if (head.closed || queue.batches.size() > 1 || flushing) {
      at = now_ms;
    } else {
      at = head.created_ms + options_.linger_ms;
    }
    int64_t d = std::max<int64_t>(0, at - now_ms);
    delay = delay ? std::min(*delay, d) : d;
  }
  return delay;
}

std::unique_ptr<ProducerBatch> RecordAccumulator::drain(const TopicPartition& partition) {
  PartitionQueue& queue = partitions_.at(partition);
  assert(!queue.batches.empty());
  std::unique_ptr<ProducerBatch> batch = std::move(queue.batches.front());
  queue.batches.pop_front();
  batch->closed = true;
  ++batch->attempts;
  if (options_.idempotent) {
    if (!batch->base_sequence) {
      batch->base_sequence = queue.next_sequence;
      queue.next_sequence = increment_sequence(queue.next_sequence, batch->record_count());
    }
    queue.in_flight_sequences.insert(*batch->base_sequence);
  }
  ++queue.in_flight;
  return batch;
}

void RecordAccumulator::on_complete(const ProducerBatch& batch) {
  PartitionQueue& queue = partitions_.at(batch.partition);
  assert(queue.in_flight > 0);
  --queue.in_flight;
  if (batch.base_sequence) queue.in_flight_sequences.erase(*batch.base_sequence);
}

void RecordAccumulator::requeue(std::unique_ptr<ProducerBatch> batch, int64_t retry_at_ms) {
  on_complete(*batch);
  PartitionQueue& queue = partitions_.at(batch->partition);
  batch->retry_at_ms = retry_at_ms;
  // Retries go before batches never sent (attempts == 0) and, among
  // themselves, by sequence: the order the broker must see them in.
  auto position = std::ranges::find_if(queue.batches, [&](const auto& queued) {
    if (queued->attempts == 0) return true;
    return batch->base_sequence && queued->base_sequence &&
           *queued->base_sequence > *batch->base_sequence;
  });
  queue.batches.insert(position, std::move(batch));
}

bool RecordAccumulator::has_earlier_unacknowledged(const TopicPartition& partition,
                                                   int32_t sequence) const {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) return false;
  const PartitionQueue& queue = it->second;
  if (!queue.in_flight_sequences.empty() && *queue.in_flight_sequences.begin() < sequence) {
    return true;
  }
  return std::ranges::any_of(queue.batches, [&](const auto& queued) {
    return queued->base_sequence && *queued->base_sequence < sequence;
  });
}

void RecordAccumulator::reset_sequences() {
  for (auto& [partition, queue] : partitions_) {
    assert(queue.in_flight == 0);
    queue.next_sequence = 0;
    queue.in_flight_sequences.clear();
    for (auto& batch : queue.batches) batch->base_sequence.reset();
  }
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::expire_created_before(
    int64_t deadline_ms) {
  std::vector<std::unique_ptr<ProducerBatch>> expired;
  for (auto& [partition, queue] : partitions_) {
    for (auto it = queue.batches.begin(); it != queue.batches.end();) {
      if ((*it)->created_ms < deadline_ms) {
        expired.push_back(std::move(*it));
        it = queue.batches.erase(it);
      } else {
        ++it;
      }
    }
  }
  return expired;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::take_all() {
  std::vector<std::unique_ptr<ProducerBatch>> all;
  for (auto& [partition, queue] : partitions_) {
    for (auto& batch : queue.batches) all.push_back(std::move(batch));
    queue.batches.clear();
  }
  return all;
}

size_t RecordAccumulator::queued_batches() const {
  size_t total = 0;
  for (const auto& [partition, queue] : partitions_) total += queue.batches.size();
  return total;
}

int RecordAccumulator::in_flight(const TopicPartition& partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? 0 : it->second.in_flight;
}

int32_t RecordAccumulator::next_sequence(const TopicPartition& partition) const {
  auto it = partitions_.find(partition);
  return it == partitions_.end() ? 0 : it->second.next_sequence;
}

}  // namespace mq::client
