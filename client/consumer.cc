// The consumer: positions, offset resets, poll, and its part in a consumer
// group (revoke, assign, commits). Fetching and decoding: consumer_fetch.cc.
#include "client/consumer.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <thread>

#include "client/clock.h"
#include "client/cluster.h"
#include "client/consumer_coordinator.h"
#include "client/consumer_state.h"
#include "filter/property_filter.h"
#include "filter/tag_expression.h"
#include "store/record_batch.h"
#include "transport/fetch.h"
#include "transport/list_offsets.h"

namespace mq::client {
namespace {

// The cap of the doubling back-off of offset_for().
constexpr int kMaxRetryBackoffMs = 1'000;

}  // namespace

Result<std::unique_ptr<Consumer>> Consumer::create(const ConsumerConfig& config) {
  MQ_RETURN_IF_ERROR(config.validate());
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> bootstrap,
                      parse_bootstrap_servers(config.bootstrap_servers));
  auto cluster =
      std::make_unique<Cluster>(ClusterOptions{.bootstrap_endpoints = std::move(bootstrap),
                                               .client_id = config.client_id,
                                               .request_timeout_ms = config.request_timeout_ms,
                                               .curve = curve_client_of(config.curve)});
  return std::unique_ptr<Consumer>(new Consumer(config, std::move(cluster)));
}

Consumer::Consumer(const ConsumerConfig& config, std::unique_ptr<Cluster> cluster)
    : config_(config), cluster_(std::move(cluster)) {
  if (!config_.group_id.empty()) {
    group_ = std::make_unique<ConsumerCoordinator>(config_, cluster_.get());
  }
  next_auto_commit_ms_ = steady_ms() + config_.auto_commit_interval_ms;
}

Consumer::~Consumer() {
  if (!closed_) (void)close();
}

Status Consumer::assign(const std::vector<TopicPartition>& partitions) {
  if (closed_) return Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  if (group_ && group_->subscribed()) {
    return Status(ErrorCode::kInvalidRequest,
                  "the consumer is subscribed to group " + config_.group_id +
                      ", which assigns its partitions; close it to assign by hand");
  }
  for (const TopicPartition& tp : partitions) {
    if (tp.topic.empty() || tp.partition < 0) {
      return Status(ErrorCode::kInvalidRequest, "cannot assign '" + tp.to_string() + "'");
    }
  }
  std::map<TopicPartition, std::unique_ptr<PartitionState>> next;
  for (const TopicPartition& tp : partitions) {
    auto it = partitions_.find(tp);
    next[tp] = it != partitions_.end() ? std::move(it->second) : std::make_unique<PartitionState>();
  }
  partitions_ = std::move(next);
  metadata_stale_ = true;
  return Status::ok();
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, state] : partitions_) out.push_back(tp);
  return out;
}

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) {
    return Status(ErrorCode::kInvalidRequest, tp.to_string() + " is not assigned");
  }
  if (offset < 0) return Status(ErrorCode::kInvalidRequest, "cannot seek to a negative offset");
  PartitionState& state = *it->second;
  state.position = offset;
  state.pending_timestamp.reset();
  state.fetch_position = offset;
  state.buffered.clear();
  state.buffered_records = 0;
  state.error = Status::ok();
  state.awaiting_committed = false;
  // A fetch in flight from the old position is dropped when it comes back.
  return Status::ok();
}

Status Consumer::set_filter(const std::string& topic, const MessageFilter& filter) {
  MQ_RETURN_IF_ERROR(filter::TagExpression::parse(filter.tags).status());
  if (!filter.where.empty()) {
    MQ_RETURN_IF_ERROR(filter::PropertyFilter::parse(filter.where).status());
  }
  if (filter.empty()) {
    filters_.erase(topic);
  } else {
    filters_.insert_or_assign(topic, filter);
  }
  // Records buffered or in flight under the old filter go; fetching starts
  // again at the position.
  for (auto& [key, fetch] : fetches_) {
    std::erase_if(fetch.partitions, [&](const auto& p) { return p.first.topic == topic; });
  }
  for (auto& [tp, state] : partitions_) {
    if (tp.topic != topic) continue;
    state->fetch_in_flight = false;
    state->buffered.clear();
    state->buffered_records = 0;
    if (state->position) state->fetch_position = *state->position;
  }
  return Status::ok();
}

Status Consumer::seek_to_timestamp(const TopicPartition& tp, int64_t timestamp_ms) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) {
    return Status(ErrorCode::kInvalidRequest, tp.to_string() + " is not assigned");
  }
  PartitionState& state = *it->second;
  state.position.reset();
  state.pending_timestamp = timestamp_ms;
  state.buffered.clear();
  state.buffered_records = 0;
  state.error = Status::ok();
  state.awaiting_committed = false;
  return Status::ok();
}

Status Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  std::vector<TopicPartition> targets = partitions.empty() ? assignment() : partitions;
  for (const TopicPartition& tp : targets) {
    MQ_RETURN_IF_ERROR(seek_to_timestamp(tp, transport::kEarliestTimestamp));
  }
  return Status::ok();
}

Status Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  std::vector<TopicPartition> targets = partitions.empty() ? assignment() : partitions;
  for (const TopicPartition& tp : targets) {
    MQ_RETURN_IF_ERROR(seek_to_timestamp(tp, transport::kLatestTimestamp));
  }
  return Status::ok();
}

Result<int64_t> Consumer::position(const TopicPartition& tp) {
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) {
    return Status(ErrorCode::kInvalidRequest, tp.to_string() + " is not assigned");
  }
  // Resolving may wait out a failover: a retriable ListOffsets error is asked
  // again until default_api_timeout_ms.
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  while (true) {
    MQ_RETURN_IF_ERROR(resolve_positions());
    const PartitionState& state = *it->second;
    if (state.position) return *state.position;
    if (!state.pending_timestamp && !state.awaiting_committed) {
      return Status(ErrorCode::kOffsetOutOfRange,
                    tp.to_string() + " has no position and auto_offset_reset is none");
    }
    if (steady_ms() >= deadline) {
      return Status(ErrorCode::kRequestTimedOut,
                    "the position of " + tp.to_string() + " could not be resolved within " +
                        std::to_string(config_.default_api_timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(config_.retry_backoff_ms, 1)));
  }
}

Status Consumer::refresh_metadata_if_stale() {
  if (!metadata_stale_ || steady_ms() < next_metadata_attempt_ms_) return Status::ok();
  std::set<std::string> topics;
  for (const auto& [tp, state] : partitions_) topics.insert(tp.topic);
  Status status =
      cluster_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end()));
  if (!status.is_ok()) {
    next_metadata_attempt_ms_ = steady_ms() + config_.retry_backoff_ms;
    return status;
  }
  metadata_stale_ = false;
  return Status::ok();
}

Result<int32_t> Consumer::leader_of(const TopicPartition& tp) {
  const TopicInfo* topic = cluster_->metadata().topic(tp.topic);
  if (topic != nullptr && topic->error != ErrorCode::kNone) {
    return Status(topic->error, "topic " + tp.topic + ": " + std::string(error_name(topic->error)));
  }
  const PartitionInfo* info = cluster_->metadata().partition(tp.topic, tp.partition);
  if (info == nullptr) {
    metadata_stale_ = true;
    return Status(ErrorCode::kUnknownTopicOrPartition, tp.to_string() + " is not in the metadata");
  }
  known_topics_.insert(tp.topic);
  if (info->leader_id < 0) {
    metadata_stale_ = true;
    return Status(ErrorCode::kLeaderNotAvailable, tp.to_string() + " has no leader");
  }
  return info->leader_id;
}

bool Consumer::worth_retrying(const TopicPartition& tp, ErrorCode code) const {
  // UNKNOWN_TOPIC_OR_PARTITION of a topic the metadata named before is a
  // broker that restarted or a leader that moved; of a topic it never named,
  // the answer.
  if (code == ErrorCode::kUnknownTopicOrPartition) return known_topics_.contains(tp.topic);
  return is_retriable(code);
}

Result<int64_t> Consumer::offset_for(const TopicPartition& tp, int64_t timestamp) {
  // Retriable errors (a leader moving, a broker restarting, a connection
  // lost) are asked again, with metadata refreshed, until default_api_timeout_ms.
  const int64_t deadline = steady_ms() + config_.default_api_timeout_ms;
  int backoff = std::max(config_.retry_backoff_ms, 1);
  while (true) {
    Result<int64_t> offset = list_offset(tp, timestamp);
    if (offset.is_ok() || !worth_retrying(tp, offset.code())) return offset;
    if (steady_ms() + backoff >= deadline) return offset;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(backoff * 2, kMaxRetryBackoffMs);
  }
}

Result<int64_t> Consumer::list_offset(const TopicPartition& tp, int64_t timestamp) {
  MQ_RETURN_IF_ERROR(refresh_metadata_if_stale());
  if (cluster_->metadata().topic(tp.topic) == nullptr) {
    MQ_RETURN_IF_ERROR(cluster_->refresh_metadata(std::vector<std::string>{tp.topic}));
  }
  MQ_ASSIGN_OR_RETURN(int32_t leader, leader_of(tp));
  transport::ListOffsetsRequest request;
  request.topics.push_back(
      {.name = tp.topic,
       .partitions = {{.partition_index = tp.partition, .timestamp = timestamp}}});
  Result<transport::ListOffsetsResponse> response = cluster_->call(leader, request);
  if (!response.is_ok()) {
    if (consumer_detail::needs_metadata_refresh(response.code())) metadata_stale_ = true;
    return response.status();
  }
  for (const auto& topic : response->topics) {
    for (const auto& partition : topic.partitions) {
      if (topic.name != tp.topic || partition.partition_index != tp.partition) continue;
      if (partition.error_code != ErrorCode::kNone) {
        if (consumer_detail::needs_metadata_refresh(partition.error_code)) metadata_stale_ = true;
        return Status(partition.error_code, "ListOffsets for " + tp.to_string() + " failed");
      }
      return partition.offset;
    }
  }
  return Status(ErrorCode::kUnknown, "ListOffsets response has no result for " + tp.to_string());
}

Status Consumer::resolve_positions() {
  MQ_RETURN_IF_ERROR(load_committed_positions());
  for (auto& [tp, state] : partitions_) {
    if (state->awaiting_committed) continue;
    if (!state->position && !state->pending_timestamp) {
      if (config_.auto_offset_reset == OffsetReset::kNone) continue;
      state->pending_timestamp = consumer_detail::reset_timestamp(config_.auto_offset_reset);
    }
    if (!state->pending_timestamp || state->retry_at_ms > steady_ms()) continue;
    int64_t timestamp = *state->pending_timestamp;
    Result<int64_t> offset = list_offset(tp, timestamp);
    if (offset.is_ok() && *offset < 0) {
      // No record that recent: start at the end, as Kafka's consumer does.
      offset = list_offset(tp, transport::kLatestTimestamp);
    }
    if (!offset.is_ok()) {
      if (!worth_retrying(tp, offset.code())) return offset.status();
      // The leader moved or is restarting: this partition asks again after
      // a back-off, the others go on.
      state->retry_at_ms = steady_ms() + config_.retry_backoff_ms;
      metadata_stale_ = true;
      continue;
    }
    state->position = *offset;
    state->fetch_position = *offset;
    state->pending_timestamp.reset();
    state->buffered.clear();
    state->buffered_records = 0;
  }
  return Status::ok();
}

Result<std::vector<ConsumerRecord>> Consumer::poll(int timeout_ms) {
  std::vector<ConsumerRecord> out;
  MQ_RETURN_IF_ERROR(poll_each(timeout_ms, [&out](const ConsumerRecordView& view) {
                       ConsumerRecord& record = out.emplace_back();
                       record.topic = std::string(view.topic);
                       record.partition = view.partition;
                       record.offset = view.offset;
                       record.timestamp_ms = view.timestamp_ms;
                       record.key = copy_of(view.key);
                       record.value = copy_of(view.value);
                       for (const RecordHeader& h : view.headers) {
                         record.headers.push_back({std::string(h.key), copy_of(h.value)});
                       }
                     }).status());
  return out;
}

Result<size_t> Consumer::poll_each(int timeout_ms,
                                   const std::function<void(const ConsumerRecordView&)>& visit) {
  if (closed_) return Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  const int64_t deadline = steady_ms() + std::max(timeout_ms, 0);
  if (group_) group_->note_poll();
  while (true) {
    if (group_) {
      MQ_RETURN_IF_ERROR(maintain_group(deadline));
      if (group_->subscribed() && !group_->in_generation()) {
        // Still joining: nothing to fetch yet.
        if (steady_ms() >= deadline) return size_t{0};
        continue;
      }
    }
    Status metadata = refresh_metadata_if_stale();
    if (!metadata.is_ok() && cluster_->metadata().topics.empty()) return metadata;
    MQ_RETURN_IF_ERROR(resolve_positions());
    send_fetches();
    // Fetches go out before the records are handed over, so the broker
    // works while the application handles them.
    if (std::ranges::any_of(partitions_,
                            [](const auto& p) { return p.second->buffered_records > 0; })) {
      send_fetches();
      return drain_buffered(visit);
    }
    MQ_RETURN_IF_ERROR(take_error());
    int64_t now = steady_ms();
    if (now >= deadline) return size_t{0};
    int wait = static_cast<int>(std::min<int64_t>(
        deadline - now, cluster_->in_flight() > 0 ? deadline - now : config_.retry_backoff_ms));
    if (cluster_->in_flight() == 0) {
      // Fetches recorded as in flight on connections closed meanwhile are given up.
      expire_fetches(steady_ms());
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait, 10)));
      continue;
    }
    MQ_ASSIGN_OR_RETURN(std::optional<NodeResponse> response, cluster_->receive_any(wait));
    if (response) handle_fetch_response(*response);
    expire_fetches(steady_ms());
  }
}

Status Consumer::subscribe(const std::vector<std::string>& topics, RebalanceCallbacks callbacks) {
  if (closed_) return Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  if (!group_) {
    return Status(ErrorCode::kInvalidGroupId, "subscribe needs group_id in the consumer config");
  }
  if (topics.empty()) {
    return Status(ErrorCode::kInvalidRequest, "subscribe needs at least one topic");
  }
  for (const std::string& topic : topics) {
    if (topic.empty()) return Status(ErrorCode::kInvalidTopic, "cannot subscribe to topic ''");
  }
  if (!group_->subscribed() && !partitions_.empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "partitions are assigned by hand; assign({}) before subscribing");
  }
  callbacks_ = std::move(callbacks);
  bool first = !group_->subscribed();
  group_->set_subscription(topics);
  if (first) group_->rejoin({});
  return Status::ok();
}

std::vector<std::string> Consumer::subscription() const {
  return group_ ? group_->subscription() : std::vector<std::string>();
}

GroupMetadata Consumer::group_metadata() const {
  if (!group_) return {};
  return GroupMetadata{.group_id = config_.group_id,
                       .member_id = group_->member_id(),
                       .generation_id = group_->in_generation() ? group_->generation_id() : -1,
                       .assignor = group_->protocol_name()};
}

std::map<TopicPartition, int64_t> Consumer::positions() const {
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, state] : partitions_) {
    if (state->position) out[tp] = *state->position;
  }
  return out;
}

void Consumer::drop_fetches() {
  for (const auto& [key, fetch] : fetches_) cluster_->forget(key.first, key.second);
  fetches_.clear();
}

void Consumer::revoke_all() {
  std::vector<TopicPartition> owned = assignment();
  if (config_.enable_auto_commit) {
    // Best effort: a fenced member's commit fails, and its partitions are
    // someone else's already.
    (void)group_->commit_sync(positions(), config_.request_timeout_ms);
  }
  if (callbacks_.on_revoked) callbacks_.on_revoked(owned);
  drop_fetches();
  partitions_.clear();
  group_->rejoin(std::move(owned));
}

void Consumer::install_assignment(const std::vector<TopicPartition>& partitions) {
  drop_fetches();
  partitions_.clear();
  for (const TopicPartition& tp : partitions) {
    auto state = std::make_unique<PartitionState>();
    state->awaiting_committed = true;
    partitions_[tp] = std::move(state);
  }
  metadata_stale_ = true;
  next_auto_commit_ms_ = steady_ms() + config_.auto_commit_interval_ms;
  // Seeks in the callback win over the committed offsets read afterwards.
  if (callbacks_.on_assigned) callbacks_.on_assigned(partitions);
}

Status Consumer::load_committed_positions() {
  std::vector<TopicPartition> waiting;
  for (const auto& [tp, state] : partitions_) {
    if (state->awaiting_committed) waiting.push_back(tp);
  }
  if (waiting.empty() || steady_ms() < committed_retry_at_ms_) return Status::ok();
  Result<std::map<TopicPartition, int64_t>> committed =
      group_->fetch_committed(waiting, config_.request_timeout_ms);
  if (!committed.is_ok()) {
    if (!is_retriable(committed.code())) return committed.status();
    // The coordinator is moving or loading: asked again after a back-off.
    committed_retry_at_ms_ = steady_ms() + config_.retry_backoff_ms;
    return Status::ok();
  }
  for (const TopicPartition& tp : waiting) {
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) continue;
    PartitionState& state = *it->second;
    state.awaiting_committed = false;
    auto found = committed->find(tp);
    // No committed offset: auto_offset_reset decides, in resolve_positions().
    if (found == committed->end() || found->second < 0) continue;
    state.position = found->second;
    state.fetch_position = found->second;
  }
  return Status::ok();
}

Status Consumer::maintain_group(int64_t deadline_ms) {
  if (group_->has_async_commits()) group_->complete_async_commits(0);
  if (group_->generation_ended()) revoke_all();
  if (group_->subscribed() && !group_->in_generation()) {
    int wait = static_cast<int>(std::clamp<int64_t>(deadline_ms - steady_ms(), 0, 100));
    MQ_ASSIGN_OR_RETURN(std::optional<std::vector<TopicPartition>> assigned,
                        group_->continue_join(wait));
    if (assigned) install_assignment(*assigned);
    return Status::ok();
  }
  int64_t now = steady_ms();
  if (config_.enable_auto_commit && now >= next_auto_commit_ms_) {
    next_auto_commit_ms_ = now + config_.auto_commit_interval_ms;
    // Positions only move in drain_buffered(), so these are the offsets of
    // records the application has been given by earlier polls.
    std::map<TopicPartition, int64_t> offsets = positions();
    if (!offsets.empty()) group_->commit_async(offsets, {});
  }
  return Status::ok();
}

Status Consumer::commit_sync() {
  return commit_sync(positions());
}

Status Consumer::commit_sync(const std::map<TopicPartition, int64_t>& offsets) {
  if (closed_) return Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  if (!group_) return Status(ErrorCode::kInvalidGroupId, "commits need group_id in the config");
  return group_->commit_sync(offsets, config_.request_timeout_ms);
}

void Consumer::commit_async(CommitCallback callback) {
  commit_async(positions(), std::move(callback));
}

void Consumer::commit_async(const std::map<TopicPartition, int64_t>& offsets,
                            CommitCallback callback) {
  Status refused;
  if (closed_) refused = Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  if (!group_) refused = Status(ErrorCode::kInvalidGroupId, "commits need group_id in the config");
  if (!refused.is_ok()) {
    if (callback) callback(offsets, refused);
    return;
  }
  group_->commit_async(offsets, [offsets, callback = std::move(callback)](const Status& status) {
    if (callback) callback(offsets, status);
  });
}

Result<std::map<TopicPartition, int64_t>> Consumer::committed(
    const std::vector<TopicPartition>& partitions) {
  if (closed_) return Status(ErrorCode::kInvalidRequest, "the consumer is closed");
  if (!group_)
    return Status(ErrorCode::kInvalidGroupId, "committed() needs group_id in the config");
  return group_->fetch_committed(partitions, config_.request_timeout_ms);
}

Status Consumer::close() {
  if (closed_ || closing_) return Status::ok();
  closing_ = true;
  Status status;
  if (group_) {
    // As in a rebalance: the auto-commit, then on_revoked, while the
    // consumer is still open, so the application's own commit there works.
    bool owns = !group_->subscribed() || group_->in_generation();
    if (config_.enable_auto_commit && owns) {
      status = group_->commit_sync(positions(), config_.request_timeout_ms);
    }
    if (group_->subscribed() && group_->in_generation() && callbacks_.on_revoked) {
      callbacks_.on_revoked(assignment());
    }
  }
  closed_ = true;
  if (group_) {
    Status left = group_->leave(config_.request_timeout_ms);
    if (status.is_ok()) status = left;
  }
  drop_fetches();
  partitions_.clear();
  return status;
}

}  // namespace mq::client
