// The consumer's fetching: pipelined Fetch requests to partition leaders,
// decoding of the batches they return (filtered or not) into the buffer poll
// hands records over from, and the buffer's draining.
#include <algorithm>

#include "client/clock.h"
#include "client/cluster.h"
#include "client/consumer.h"
#include "client/consumer_state.h"
#include "store/record_batch.h"
#include "transport/fetch.h"

namespace mq::client {

void Consumer::send_fetches() {
  int64_t now = steady_ms();
  std::set<int32_t> busy_nodes;
  for (const auto& [key, fetch] : fetches_) busy_nodes.insert(key.first);
  std::map<int32_t, transport::FetchRequest> requests;
  std::map<int32_t, FetchInFlight> pending;
  // A long poll only when the application has nothing else to read: while
  // records are buffered, a fetch held for a partition at its end would
  // keep the next fetch of every other partition of that broker waiting.
  bool buffered =
      std::ranges::any_of(partitions_, [](const auto& p) { return !p.second->buffered.empty(); });
  for (auto& [tp, state] : partitions_) {
    // One response of records buffered ahead is enough to keep the broker busy.
    if (!state->position || state->fetch_in_flight || !state->error.is_ok() ||
        state->retry_at_ms > now ||
        state->buffered_records >= static_cast<size_t>(config_.max_poll_records)) {
      continue;
    }
    Result<int32_t> leader = leader_of(tp);
    if (!leader.is_ok()) {
      if (!worth_retrying(tp, leader.code())) state->error = leader.status();
      continue;
    }
    if (busy_nodes.contains(*leader)) continue;
    transport::FetchRequest& request = requests[*leader];
    request.max_wait_ms = buffered ? 0 : config_.fetch_max_wait_ms;
    request.min_bytes = config_.fetch_min_bytes;
    request.max_bytes = config_.fetch_max_bytes;
    auto topic = std::ranges::find(request.topics, tp.topic, &transport::FetchRequest::Topic::name);
    if (topic == request.topics.end()) {
      topic = request.topics.insert(request.topics.end(), {.name = tp.topic});
      if (auto filter = filters_.find(tp.topic); filter != filters_.end()) {
        topic->tags = filter->second.tags;
        topic->filter = filter->second.where;
      }
    }
    topic->partitions.push_back({.partition_index = tp.partition,
                                 .fetch_offset = state->fetch_position,
                                 .partition_max_bytes = config_.max_partition_fetch_bytes});
    pending[*leader].partitions.emplace_back(tp, state->fetch_position);
  }
  for (auto& [node, request] : requests) {
    Result<int32_t> correlation_id = send_fetch(node, request);
    if (correlation_id.code() == ErrorCode::kUnsupportedVersion) {
      for (auto& [tp, offset] : pending[node].partitions) {
        partitions_.at(tp)->error = correlation_id.status();
      }
      continue;
    }
    if (!correlation_id.is_ok()) {
      cluster_->disconnect(node);
      metadata_stale_ = true;
      for (auto& [tp, offset] : pending[node].partitions) {
        partitions_.at(tp)->retry_at_ms = now + config_.retry_backoff_ms;
      }
      continue;
    }
    for (auto& [tp, offset] : pending[node].partitions) partitions_.at(tp)->fetch_in_flight = true;
    // The broker may hold a fetch for max_wait_ms before the request timeout starts to matter.
    pending[node].deadline_ms = now + config_.request_timeout_ms;
    pending[node].connection_serial = cluster_->connection_serial(node);
    fetches_[{node, *correlation_id}] = std::move(pending[node]);
  }
}

Result<int32_t> Consumer::send_fetch(int32_t node, const transport::FetchRequest& request) {
  MQ_ASSIGN_OR_RETURN(transport::Connection * connection, cluster_->connection(node));
  MQ_ASSIGN_OR_RETURN(int16_t version, connection->version_for(transport::ApiKey::kFetch));
  if (version < 1) {
    for (const auto& topic : request.topics) {
      if (!topic.tags.empty() || !topic.filter.empty()) {
        return Status(ErrorCode::kUnsupportedVersion,
                      "broker " + std::to_string(node) +
                          " does not filter fetches (Fetch v1): cannot read " + topic.name +
                          " with a filter");
      }
    }
  }
  return connection->send(request, version);
}

void Consumer::fail_fetches(int32_t node) {
  int64_t now = steady_ms();
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (it->first.first != node) {
      ++it;
      continue;
    }
    for (auto& [tp, offset] : it->second.partitions) {
      auto state = partitions_.find(tp);
      if (state == partitions_.end()) continue;
      state->second->fetch_in_flight = false;
      state->second->retry_at_ms = now + config_.retry_backoff_ms;
    }
    it = fetches_.erase(it);
  }
  metadata_stale_ = true;
}

void Consumer::handle_fetch_response(NodeResponse& response) {
  if (!response.error.is_ok()) {
    fail_fetches(response.node_id);
    return;
  }
  auto it = fetches_.find({response.node_id, response.response.header.correlation_id});
  if (it == fetches_.end()) return;
  FetchInFlight fetch = std::move(it->second);
  fetches_.erase(it);
  Result<transport::FetchResponse> decoded =
      transport::decode_response<transport::FetchResponse>(response.response);
  int64_t now = steady_ms();
  for (auto& [tp, fetch_offset] : fetch.partitions) {
    auto found = partitions_.find(tp);
    if (found == partitions_.end()) continue;  // unassigned meanwhile
    PartitionState& state = *found->second;
    state.fetch_in_flight = false;
    ErrorCode code = decoded.is_ok() ? decoded->error_code : decoded.code();
    const transport::FetchResponse::Topic::Partition* result = nullptr;
    if (decoded.is_ok()) {
      for (const auto& topic : decoded->topics) {
        for (const auto& partition : topic.partitions) {
          if (topic.name == tp.topic && partition.partition_index == tp.partition) {
            result = &partition;
          }
        }
      }
    }
    if (code == ErrorCode::kNone) {
      code = result != nullptr ? result->error_code : ErrorCode::kUnknown;
    }
    // A seek since the request was sent makes its answer irrelevant.
    if (!state.position || state.fetch_position != fetch_offset) continue;
    if (code == ErrorCode::kOffsetOutOfRange) {
      if (config_.auto_offset_reset == OffsetReset::kNone) {
        state.error = Status(ErrorCode::kOffsetOutOfRange,
                             tp.to_string() + ": offset " + std::to_string(fetch_offset) +
                                 " is out of range and auto_offset_reset is none");
      } else {
        state.position.reset();
        state.pending_timestamp = consumer_detail::reset_timestamp(config_.auto_offset_reset);
      }
      continue;
    }
    if (code != ErrorCode::kNone) {
      if (consumer_detail::needs_metadata_refresh(code)) metadata_stale_ = true;
      if (is_retriable(code)) {
        state.retry_at_ms = now + config_.retry_backoff_ms;
      } else {
        std::string why = decoded.is_ok() ? "" : decoded.status().message();
        state.error = Status(
            code, "fetch from " + tp.to_string() + " failed" + (why.empty() ? "" : ": " + why));
      }
      continue;
    }
    BatchCursor cursor(result->records.bytes());
    for (std::span<const uint8_t> batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      Result<BatchHeader> header =
          config_.check_crcs ? verify_batch(batch) : parse_batch_header(batch);
      // Scheduled and cancel records of delayed delivery (their delivered
      // copies come later in the log) and queue-state records are not for
      // consumers.
      if (header.is_ok() && header->is_hidden()) {
        state.fetch_position = std::max(state.fetch_position, header->next_offset());
        continue;
      }
      FetchedBatch fetched{.owner = result->records.owner()};
      if (header.is_ok() && header->compression() != Compression::kNone) {
        fetched.reader = std::make_unique<RecordBatchReader>();
      }
      RecordBatchReader plain;
      Status status = header.status();
      if (status.is_ok()) {
        status = (fetched.reader ? *fetched.reader : plain).decode(batch, &fetched.records);
      }
      if (!status.is_ok()) {
        state.error = Status(status.code(), tp.to_string() + ": fetched batch at offset " +
                                                std::to_string(state.fetch_position) +
                                                " is unreadable: " + status.message());
        break;
      }
      if (header->timestamp_type() == TimestampType::kLogAppendTime) {
        fetched.append_time = header->max_timestamp;
      }
      // The first batch may start before the offset asked for.
      while (fetched.next < fetched.records.size() &&
             fetched.records[fetched.next].offset < state.fetch_position) {
        ++fetched.next;
      }
      state.fetch_position = std::max(state.fetch_position, header->next_offset());
      if (fetched.next == fetched.records.size()) continue;
      state.buffered_records += fetched.records.size() - fetched.next;
      state.buffered.push_back(std::move(fetched));
    }
    if (!state.error.is_ok()) continue;
    // A filtered fetch moves past the records it left out (next_offset).
    // Offsets after the last record to hand out that hold nothing for this
    // consumer (records a filter left out, batches without records) are
    // passed once the buffer before them is handed over.
    state.fetch_position = std::max(state.fetch_position, result->next_offset);
    if (state.buffered.empty()) {
      if (state.position) state.position = std::max(*state.position, state.fetch_position);
    } else {
      state.buffered.back().advance_to = state.fetch_position;
    }
  }
}

void Consumer::expire_fetches(int64_t now_ms) {
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    // A fetch whose connection was closed since (a failed metadata call to
    // the same broker, say) is never answered: given up at once, not after
    // request_timeout_ms.
    bool connection_gone =
        cluster_->connection_serial(it->first.first) != it->second.connection_serial;
    if (it->second.deadline_ms > now_ms && !connection_gone) {
      ++it;
      continue;
    }
    if (!connection_gone) cluster_->forget(it->first.first, it->first.second);
    for (auto& [tp, offset] : it->second.partitions) {
      auto state = partitions_.find(tp);
      if (state != partitions_.end()) state->second->fetch_in_flight = false;
    }
    it = fetches_.erase(it);
    metadata_stale_ = true;
  }
}

Status Consumer::take_error() {
  for (auto& [tp, state] : partitions_) {
    if (!state->error.is_ok() && state->buffered.empty()) return std::exchange(state->error, {});
  }
  return Status::ok();
}

size_t Consumer::drain_buffered(const std::function<void(const ConsumerRecordView&)>& visit) {
  size_t handed = 0;
  if (partitions_.empty()) return handed;
  const auto limit = static_cast<size_t>(config_.max_poll_records);
  // Start at a different partition each time so one busy partition cannot starve the rest.
  std::vector<std::pair<const TopicPartition*, PartitionState*>> states;
  for (auto& [tp, state] : partitions_) states.emplace_back(&tp, state.get());
  size_t start = drain_cursor_++ % states.size();
  for (size_t i = 0; i < states.size() && handed < limit; ++i) {
    auto [tp, state] = states[(start + i) % states.size()];
    while (!state->buffered.empty() && handed < limit) {
      FetchedBatch& batch = state->buffered.front();
      while (batch.next < batch.records.size() && handed < limit) {
        const Record& record = batch.records[batch.next++];
        --state->buffered_records;
        ++handed;
        state->position = record.offset + 1;
        visit(ConsumerRecordView{.topic = tp->topic,
                                 .partition = tp->partition,
                                 .offset = record.offset,
                                 .timestamp_ms = batch.append_time.value_or(record.timestamp),
                                 .key = record.key,
                                 .value = record.value,
                                 .headers = record.headers});
      }
      if (batch.next == batch.records.size()) {
        if (batch.advance_to && state->position)
          state->position = std::max(*state->position, *batch.advance_to);
        state->buffered.pop_front();
      }
    }
  }
  return handed;
}

}  // namespace mq::client
