// Producer::Sender, the producer's I/O thread (client/producer_sender.h).
#include "client/producer_sender.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "client/clock.h"
#include "store/record_batch.h"
#include "transport/init_producer_id.h"

namespace mq::client {
namespace {

// The first backoff after a broker the metadata names as the partition's
// leader refused a batch as not (yet) the leader.
constexpr int64_t kNewLeaderBackoffMs = 20;

// A broker's answer that it does not lead the partition (or not in that epoch).
bool is_leadership_error(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kLeaderNotAvailable ||
         code == ErrorCode::kFencedLeaderEpoch || code == ErrorCode::kUnknownLeaderEpoch;
}

// Errors after which the client's idea of who leads the partition is stale.
bool needs_metadata_refresh(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotLeader:
    case ErrorCode::kLeaderNotAvailable:
    case ErrorCode::kUnknownTopicOrPartition:
    case ErrorCode::kFencedLeaderEpoch:
    case ErrorCode::kUnknownLeaderEpoch:
    case ErrorCode::kBrokerNotAvailable:
    case ErrorCode::kNetworkError:
    case ErrorCode::kRequestTimedOut:
      return true;
    default:
      return false;
  }
}

// Longest idle sleep of the I/O thread; sends and flushes wake it earlier.
constexpr int kIdleWaitMs = 100;

}  // namespace

void Producer::Sender::run() {
  while (true) {
    // News arriving after this read makes the wait below return at once.
    uint64_t events_seen = producer_->events_.load();
    int64_t now = steady_ms();
    take_waiting();
    if (producer_->stop_.load()) break;
    maybe_refresh_metadata(now);
    assign_waiting(now);
    expire(now);
    std::optional<int64_t> timer = accumulator_.seal_lingering(now, flushing());
    if (ensure_producer_id(now)) send_ready(now);
    wait_and_receive(timer, events_seen, now);
  }
  fail_everything(Status(ErrorCode::kRequestTimedOut,
                         "the producer closed before the record was acknowledged"));
}

void Producer::Sender::take_waiting() {
  std::deque<Submitted> waiting;
  {
    std::lock_guard lock(producer_->mu_);
    if (producer_->waiting_.empty()) return;
    waiting.swap(producer_->waiting_);
  }
  for (Submitted& submitted : waiting) unassigned_.push_back(std::move(submitted));
}

void Producer::Sender::maybe_refresh_metadata(int64_t now) {
  for (const Submitted& submitted : unassigned_) {
    if (topics_.insert(submitted.topic).second) metadata_stale_ = true;
  }
  bool too_old = now - last_metadata_success_ms_ >= config_.metadata_max_age_ms;
  if ((!metadata_stale_ && !too_old) || topics_.empty()) return;
  // Back off between attempts so a missing topic does not turn into a request storm.
  if (now - last_metadata_attempt_ms_ < config_.retry_backoff_ms) return;
  last_metadata_attempt_ms_ = now;
  ++metadata_refreshes_;
  Status status = cluster_.refresh_metadata(
      std::vector<std::string>(topics_.begin(), topics_.end()), config_.allow_auto_create_topics);
  if (status.is_ok()) {
    metadata_stale_ = false;
    last_metadata_success_ms_ = now;
    // A partition count is published together with the appending of the
    // records that waited for it, under mu_; until that is done a send()
    // that sees the new count queues behind mu_ (RecordAccumulator's
    // publishing flag), so it has nothing of its partition waiting ahead.
    std::vector<Submitted> expired;
    {
      std::lock_guard lock(producer_->mu_);
      for (const std::string& topic : topics_) {
        accumulator_.set_partition_count(topic, cluster_.metadata().partition_count(topic));
      }
      assign_waiting_locked(now, expired);
      accumulator_.end_publication();
    }
    fail_expired(expired);
    // A retry whose partition has a new leader goes now: the backoff is for
    // asking the same broker again.
    accumulator_.expedite_retries(now, [this](const TopicPartition& tp) {
      const PartitionInfo* info = cluster_.metadata().partition(tp.topic, tp.partition);
      return info == nullptr ? -1 : info->leader_id;
    });
  }
}

void Producer::Sender::fail_waiting(Submitted& submitted, const Status& error) {
  ++records_failed_;
  if (submitted.callback) submitted.callback(error);
  accumulator_.release_id(submitted.id);
  producer_->release(static_cast<int64_t>(submitted.size_bytes));
}

void Producer::Sender::assign_waiting(int64_t now) {
  std::vector<Submitted> expired;
  {
    std::lock_guard lock(producer_->mu_);
    assign_waiting_locked(now, expired);
  }
  fail_expired(expired);
}

void Producer::Sender::assign_waiting_locked(int64_t now, std::vector<Submitted>& expired) {
  for (Submitted& submitted : producer_->waiting_) unassigned_.push_back(std::move(submitted));
  producer_->waiting_.clear();
  std::deque<Submitted> still_waiting;
  for (Submitted& submitted : unassigned_) {
    RecordView view{
        .key = submitted.key ? std::optional<std::string_view>(*submitted.key) : std::nullopt,
        .value = submitted.value ? std::optional<std::string_view>(*submitted.value) : std::nullopt,
        .headers = submitted.headers,
        .timestamp_ms = submitted.timestamp_ms};
    // Only this thread changes partition counts, so the check holds for append().
    int32_t count = accumulator_.partition_count(submitted.topic);
    if (count > 0 && (!submitted.partition || *submitted.partition < count)) {
      accumulator_.append(submitted.topic, submitted.partition, view, submitted.size_bytes,
                          std::move(submitted.callback), submitted.id);
      continue;
    }
    // A topic the ACLs hide from this principal: no metadata will come.
    const TopicInfo* info = cluster_.metadata().topic(submitted.topic);
    if (now - submitted.submitted_ms >= config_.max_block_ms ||
        (info != nullptr && info->error == ErrorCode::kTopicAuthorizationFailed)) {
      expired.push_back(std::move(submitted));
      continue;
    }
    metadata_stale_ = true;
    still_waiting.push_back(std::move(submitted));
  }
  unassigned_ = std::move(still_waiting);
}

// Outside mu_: a callback may send again.
void Producer::Sender::fail_expired(std::vector<Submitted>& expired) {
  for (Submitted& submitted : expired) {
    if (const TopicInfo* info = cluster_.metadata().topic(submitted.topic);
        info != nullptr && info->error == ErrorCode::kTopicAuthorizationFailed) {
      fail_waiting(submitted, Status(ErrorCode::kTopicAuthorizationFailed,
                                     "this principal may not describe topic " + submitted.topic +
                                         " (docs/security.md, Authorization)"));
      continue;
    }
    std::string what = submitted.partition ? "partition " + submitted.topic + "-" +
                                                 std::to_string(*submitted.partition)
                                           : "topic " + submitted.topic;
    fail_waiting(submitted, Status(ErrorCode::kUnknownTopicOrPartition,
                                   what + " not found in the metadata within max_block_ms (" +
                                       std::to_string(config_.max_block_ms) + " ms)"));
  }
  expired.clear();
}
bool Producer::Sender::ensure_producer_id(int64_t now) {
  if (!config_.enable_idempotence) return true;
  if (need_new_identity_) {
    // A new id restarts every sequence at 0; wait until nothing uses the old
    // one, sending nothing more under it meanwhile.
    if (!in_flight_.empty()) return false;
    identity_ = ProducerIdentity{};
    // Retries waiting in the queue may be stored already under the old id:
    // their outcome is unknown, and re-sending them under the new id could
    // store them twice. They fail; the caller decides.
    for (auto& batch : accumulator_.reset_sequences()) {
      Status unknown(batch->last_error.is_ok() ? ErrorCode::kUnknown : batch->last_error.code(),
                     "produce to " + batch->partition.to_string() + ": outcome unknown after " +
                         std::to_string(batch->attempts) +
                         " attempt(s) under a producer id given up after another batch failed "
                         "(it may be stored); not sent again under a new id, which could store "
                         "it twice" +
                         (batch->last_error.is_ok() ? "" : ": " + batch->last_error.message()));
      finish(std::move(batch), unknown, -1, -1);
    }
    need_new_identity_ = false;
  }
  if (identity_.valid()) return true;
  if (now < next_identity_attempt_ms_) return false;
  next_identity_attempt_ms_ = now + config_.retry_backoff_ms;
  Result<int32_t> node = cluster_.any_node();
  if (!node.is_ok()) return false;
  Result<transport::InitProducerIdResponse> response =
      cluster_.call(*node, transport::InitProducerIdRequest{});
  if (response.is_ok() && response->error_code == ErrorCode::kClusterAuthorizationFailed) {
    // Not a passing state: the records waiting for an id fail now with
    // why, instead of at delivery_timeout_ms. Later sends ask again (an
    // ACL may be added meanwhile).
    Status denied(ErrorCode::kClusterAuthorizationFailed,
                  "the broker refused this producer an idempotent producer id: its principal "
                  "may write no topic (docs/security.md, Authorization)");
    for (auto& batch : accumulator_.take_all()) finish(std::move(batch), denied, -1, -1);
    return false;
  }
  if (!response.is_ok() || response->error_code != ErrorCode::kNone) return false;
  identity_ = {response->producer_id, response->producer_epoch};
  return true;
}

void Producer::Sender::send_ready(int64_t now) {
  std::vector<std::unique_ptr<ProducerBatch>> batches =
      accumulator_.drain(now, [this](const TopicPartition& partition) {
        const PartitionInfo* info =
            cluster_.metadata().partition(partition.topic, partition.partition);
        if (info == nullptr || info->leader_id < 0) {
          metadata_stale_ = true;
          return false;
        }
        return true;
      });
  if (batches.empty()) return;
  std::map<int32_t, std::vector<std::unique_ptr<ProducerBatch>>> by_node;
  for (auto& batch : batches) {
    if (batch->attempts > 1) ++retries_;
    const PartitionInfo* info =
        cluster_.metadata().partition(batch->partition.topic, batch->partition.partition);
    batch->sent_to = info->leader_id;
    by_node[info->leader_id].push_back(std::move(batch));
  }
  for (auto& [node, node_batches] : by_node) send_to_node(node, std::move(node_batches), now);
}

void Producer::Sender::send_to_node(int32_t node,
                                    std::vector<std::unique_ptr<ProducerBatch>> batches,
                                    int64_t now) {
  transport::ProduceRequest request{.acks = static_cast<int16_t>(config_.acks),
                                    .timeout_ms = config_.request_timeout_ms};
  std::vector<std::unique_ptr<ProducerBatch>> sent;
  for (auto& batch : batches) {
    Result<transport::Frame> encoded = batch->encode(identity_, config_.compression);
    if (!encoded.is_ok()) {
      accumulator_.on_complete(*batch);
      finish(std::move(batch), encoded.status(), -1, -1);
      continue;
    }
    auto topic = std::ranges::find(request.topics, batch->partition.topic,
                                   &transport::ProduceRequest::Topic::name);
    if (topic == request.topics.end()) {
      topic = request.topics.insert(request.topics.end(), {.name = batch->partition.topic});
    }
    topic->partitions.push_back(
        {.partition_index = batch->partition.partition, .records = std::move(encoded).value()});
    sent.push_back(std::move(batch));
  }
  if (sent.empty()) return;
  batches_sent_ += sent.size();
  Result<int32_t> correlation_id = send_produce(node, request);
  if (!correlation_id.is_ok()) {
    cluster_.disconnect(node);
    for (auto& batch : sent) {
      handle_partition_result(std::move(batch), ErrorCode::kNetworkError,
                              correlation_id.status().message(), -1, -1, now);
    }
    return;
  }
  if (config_.acks == 0) {
    // Nothing will answer: the records count as sent once they are on the socket.
    for (auto& batch : sent) {
      accumulator_.on_complete(*batch);
      finish(std::move(batch), Status::ok(), -1, -1);
    }
    return;
  }
  in_flight_[{node, *correlation_id}] =
      InFlight{.deadline_ms = now + config_.request_timeout_ms,
               .connection_serial = cluster_.connection_serial(node),
               .batches = std::move(sent)};
}

Result<int32_t> Producer::Sender::send_produce(int32_t node,
                                               const transport::ProduceRequest& request) {
  MQ_ASSIGN_OR_RETURN(transport::Connection * connection, cluster_.connection(node));
  MQ_ASSIGN_OR_RETURN(int16_t version, connection->version_for(transport::ApiKey::kProduce));
  return connection->send(request, version, config_.acks != 0);
}

void Producer::Sender::wait_and_receive(std::optional<int64_t> timer_ms, uint64_t events_seen,
                                        int64_t now) {
  int64_t wait = std::min<int64_t>(timer_ms.value_or(kIdleWaitMs), kIdleWaitMs);
  if (!unassigned_.empty() || (config_.enable_idempotence && !identity_.valid()) ||
      metadata_stale_) {
    wait = std::min<int64_t>(wait, config_.retry_backoff_ms);
  }
  for (const auto& [key, request] : in_flight_) {
    wait = std::min(wait, std::max<int64_t>(0, request.deadline_ms - now));
  }
  // Application threads wake us only while this flag is set; news that came
  // before it was set is seen through events_.
  producer_->sender_sleeping_.store(true);
  if (producer_->events_.load() != events_seen) wait = 0;
  Result<std::optional<NodeResponse>> response =
      cluster_.receive_any(static_cast<int>(wait), producer_->wake_fd_);
  producer_->sender_sleeping_.store(false);
  uint64_t drained = 0;
  while (::read(producer_->wake_fd_, &drained, sizeof(drained)) > 0) {
  }
  now = steady_ms();
  // Everything that already arrived is handled before the next round of sends.
  while (response.is_ok() && response->has_value()) {
    handle_response(std::move(**response), now);
    if (cluster_.in_flight() == 0) break;
    response = cluster_.receive_any(0);
  }
  expire_requests(now);
}

void Producer::Sender::expire_requests(int64_t now) {
  // Requests whose answer did not come in time are failed (and retried):
  // the broker may still have appended them, which idempotence makes
  // harmless. So are requests whose connection was closed since they were
  // sent (a metadata call to the same broker failed, say): no answer comes.
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    auto [node, correlation_id] = it->first;
    bool connection_gone = cluster_.connection_serial(node) != it->second.connection_serial;
    if (it->second.deadline_ms > now && !connection_gone) {
      ++it;
      continue;
    }
    if (!connection_gone) cluster_.forget(node, correlation_id);
    InFlight lost = std::move(it->second);
    it = in_flight_.erase(it);
    for (auto& batch : lost.batches) {
      handle_partition_result(
          std::move(batch),
          connection_gone ? ErrorCode::kNetworkError : ErrorCode::kRequestTimedOut,
          connection_gone ? "the connection it was sent on was closed"
                          : "no response within request_timeout_ms",
          -1, -1, now);
    }
  }
}

void Producer::Sender::handle_response(NodeResponse response, int64_t now) {
  if (!response.error.is_ok()) {
    fail_node(response.node_id, response.error, now);
    return;
  }
  auto it = in_flight_.find({response.node_id, response.response.header.correlation_id});
  if (it == in_flight_.end()) return;
  InFlight request = std::move(it->second);
  in_flight_.erase(it);
  Result<transport::ProduceResponse> decoded =
      transport::decode_response<transport::ProduceResponse>(response.response);
  for (auto& batch : request.batches) {
    if (!decoded.is_ok()) {
      handle_partition_result(std::move(batch), decoded.code(), decoded.status().message(), -1, -1,
                              now);
      continue;
    }
    const transport::ProduceResponse::Topic::Partition* result = nullptr;
    for (const auto& topic : decoded->topics) {
      if (topic.name != batch->partition.topic) continue;
      for (const auto& partition : topic.partitions) {
        if (partition.partition_index == batch->partition.partition) result = &partition;
      }
    }
    if (result == nullptr) {
      handle_partition_result(std::move(batch), ErrorCode::kUnknown,
                              "the produce response has no result for this partition", -1, -1, now);
      continue;
    }
    // A refusal that names the new leader (Produce v1) is retried there
    // without a metadata request first (Kafka's KIP-951).
    bool leader_named =
        is_leadership_error(result->error_code) &&
        cluster_.note_leader(batch->partition.topic, batch->partition.partition,
                             result->current_leader_id, result->current_leader_epoch);
    std::vector<std::pair<int32_t, int64_t>> duplicates;
    for (const transport::ProduceDuplicate& d : result->duplicates) {
      duplicates.emplace_back(d.index, d.offset);
    }
    handle_partition_result(std::move(batch), result->error_code,
                            result->error_message.value_or(""), result->base_offset,
                            result->log_append_time_ms, now, leader_named, duplicates);
  }
}

void Producer::Sender::handle_partition_result(
    std::unique_ptr<ProducerBatch> batch, ErrorCode code, const std::string& message,
    int64_t base_offset, int64_t log_append_time_ms, int64_t now, bool leader_named,
    std::span<const std::pair<int32_t, int64_t>> duplicates) {
  if (code == ErrorCode::kNone || code == ErrorCode::kDuplicateSequence) {
    // DUPLICATE_SEQUENCE: appended long ago, too long for the broker to know where.
    accumulator_.on_complete(*batch);
    finish(std::move(batch), Status::ok(), code == ErrorCode::kNone ? base_offset : -1,
           log_append_time_ms, duplicates);
    return;
  }
  if (needs_metadata_refresh(code) && !leader_named) metadata_stale_ = true;
  // A batch refused because an earlier one of its partition failed first is
  // retried behind it, not failed: the leader sees a sequence gap
  // (OUT_OF_ORDER_SEQUENCE), or, when the earlier one was the partition's
  // first, no state for this producer at all (UNKNOWN_PRODUCER_ID).
  bool gap_of_our_own =
      (code == ErrorCode::kOutOfOrderSequence || code == ErrorCode::kUnknownProducerId) &&
      batch->base_sequence &&
      accumulator_.has_earlier_unacknowledged(batch->partition, *batch->base_sequence);
  bool retriable = is_retriable(code) || gap_of_our_own;
  bool in_time = now - batch->created_ms < config_.delivery_timeout_ms;
  if (retriable && in_time && batch->attempts <= config_.retries && !producer_->stop_.load()) {
    // The backoff doubles per failure at the same broker; a new leader starts
    // again from the first step. A broker the metadata names as the leader
    // may refuse until it has applied the change itself, which takes
    // milliseconds: asked again after kNewLeaderBackoffMs, doubling.
    batch->failures_there = batch->sent_to == batch->last_failed_at ? batch->failures_there + 1 : 1;
    batch->last_failed_at = batch->sent_to;
    const PartitionInfo* info =
        cluster_.metadata().partition(batch->partition.topic, batch->partition.partition);
    bool named_leader_refused =
        info != nullptr && info->leader_id == batch->sent_to && is_leadership_error(code);
    // The metadata already names another leader (the refusal said who, or
    // a refresh did): ask it now, as a refresh would have (expedite_retries).
    bool other_leader_known = info != nullptr && info->leader_id >= 0 &&
                              info->leader_id != batch->sent_to && is_leadership_error(code);
    int64_t first_step = named_leader_refused
                             ? std::min<int64_t>(kNewLeaderBackoffMs, config_.retry_backoff_ms)
                             : config_.retry_backoff_ms;
    int shift = std::min(batch->failures_there - 1, 20);
    int64_t backoff = other_leader_known
                          ? 0
                          : std::min<int64_t>(first_step << shift, config_.retry_backoff_max_ms);
    batch->last_error = Status(code, message);
    accumulator_.requeue(std::move(batch), now + backoff);
    return;
  }
  accumulator_.on_complete(*batch);
  if (batch->base_sequence) need_new_identity_ = true;
  std::string detail = message.empty() ? "" : ": " + message;
  Status error(code, "produce to " + batch->partition.to_string() + " failed after " +
                         std::to_string(batch->attempts) + " attempt(s)" + detail);
  finish(std::move(batch), error, -1, -1);
}

void Producer::Sender::fail_node(int32_t node, const Status& error, int64_t now) {
  metadata_stale_ = true;
  for (auto it = in_flight_.begin(); it != in_flight_.end();) {
    if (it->first.first != node) {
      ++it;
      continue;
    }
    InFlight lost = std::move(it->second);
    it = in_flight_.erase(it);
    for (auto& batch : lost.batches) {
      handle_partition_result(std::move(batch), ErrorCode::kNetworkError, error.to_string(), -1, -1,
                              now);
    }
  }
}

void Producer::Sender::expire(int64_t now) {
  for (auto& batch : accumulator_.expire_created_before(now - config_.delivery_timeout_ms)) {
    if (batch->base_sequence) need_new_identity_ = true;
    // The cause of the last failed attempt (NOT_ENOUGH_REPLICAS, ...) is what
    // the user needs to know; a plain timeout only when nothing answered.
    const Status& cause = batch->last_error;
    std::string what = "record for " + batch->partition.to_string() +
                       " not acknowledged within delivery_timeout_ms (" +
                       std::to_string(config_.delivery_timeout_ms) + " ms)";
    if (!cause.is_ok()) {
      what += " after " + std::to_string(batch->attempts) +
              " attempt(s); last error: " + cause.to_string();
    }
    finish(std::move(batch),
           Status(cause.is_ok() ? ErrorCode::kRequestTimedOut : cause.code(), what), -1, -1);
  }
}

void Producer::Sender::finish(std::unique_ptr<ProducerBatch> batch, const Status& error,
                              int64_t base_offset, int64_t log_append_time_ms,
                              std::span<const std::pair<int32_t, int64_t>> duplicates) {
  (error.is_ok() ? records_acknowledged_ : records_failed_) +=
      static_cast<uint64_t>(batch->record_count);
  batch->complete(error, base_offset, log_append_time_ms, duplicates);
  accumulator_.release_id(batch->id);
  producer_->release(batch->reserved_bytes);
  accumulator_.recycle(*batch);
}

void Producer::Sender::fail_everything(const Status& error) {
  take_waiting();
  for (Submitted& submitted : unassigned_) fail_waiting(submitted, error);
  unassigned_.clear();
  for (auto& batch : accumulator_.take_all()) finish(std::move(batch), error, -1, -1);
  for (auto& [key, request] : in_flight_) {
    for (auto& batch : request.batches) finish(std::move(batch), error, -1, -1);
  }
  in_flight_.clear();
}

}  // namespace mq::client
