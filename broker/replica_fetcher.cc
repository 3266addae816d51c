// ReplicaFetcher: reconcile by leader epoch, then fetch, append, repeat.
#include "broker/replica_fetcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "base/test_breaks.h"
#include "store/coding.h"
#include "store/record_batch.h"
#include "transport/fetch.h"
#include "transport/replication.h"

namespace mq::broker {

using namespace mq::transport;

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Errors after which only new metadata (a new leader epoch) helps.
// Our leader epoch is older than the leader's: only newer metadata helps.
bool needs_new_metadata(ErrorCode code) {
  return code == ErrorCode::kFencedLeaderEpoch;
}

// The broker the metadata names as leader does not lead (or know) the
// partition yet: it has not applied that metadata, which takes it
// milliseconds. Asked again soon; if it lost the leadership instead (to
// another broker or to nobody), our own metadata brings that meanwhile.
bool leader_not_ready(ErrorCode code) {
  return code == ErrorCode::kNotLeader || code == ErrorCode::kUnknownTopicOrPartition ||
         code == ErrorCode::kUnknownLeaderEpoch || code == ErrorCode::kLeaderNotAvailable;
}

constexpr int64_t kLeaderNotReadyBackoffMs = 20;

std::string name_of(const std::string& topic, int32_t partition) {
  return topic + "-" + std::to_string(partition);
}

}  // namespace

std::string_view follow_phase_name(FollowPhase phase) {
  switch (phase) {
    case FollowPhase::kReconciling:
      return "reconciling";
    case FollowPhase::kFetching:
      return "fetching";
    case FollowPhase::kAwaitingMetadata:
      return "awaiting_metadata";
  }
  return "unknown";
}

ReplicaFetcher::ReplicaFetcher(ReplicaFetcherOptions options) : options_(std::move(options)) {}

ReplicaFetcher::~ReplicaFetcher() {
  stop();
}

void ReplicaFetcher::start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
}

void ReplicaFetcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ReplicaFetcher::add_partition(std::shared_ptr<Partition> partition, int32_t leader_epoch) {
  {
    std::lock_guard lock(mu_);
    Key key{partition->topic(), partition->index()};
    Entry& e = entries_[key];
    uint64_t bytes = e.bytes_fetched;
    bool throttled = e.throttled;
    e = Entry{};
    e.throttled = throttled;
    e.partition = std::move(partition);
    e.leader_epoch = leader_epoch;
    e.generation = next_generation_++;
    e.bytes_fetched = bytes;
    // A request in flight is abandoned with its connection: it does not ask
    // for this partition, and it may never be answered (the leader restarted
    // at the same address and lost it), which would hold the new partition
    // for the whole request timeout.
    interrupt_ = true;
  }
  cv_.notify_all();
}

void ReplicaFetcher::set_throttled(const std::string& topic, int32_t partition, bool throttled) {
  std::lock_guard lock(mu_);
  auto it = entries_.find({topic, partition});
  if (it != entries_.end()) it->second.throttled = throttled;
}

void ReplicaFetcher::remove_partition(const std::string& topic, int32_t partition) {
  std::lock_guard lock(mu_);
  entries_.erase({topic, partition});
}

size_t ReplicaFetcher::partition_count() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::vector<FollowerPartitionStatus> ReplicaFetcher::statuses() const {
  std::lock_guard lock(mu_);
  std::vector<FollowerPartitionStatus> out;
  for (const auto& [key, e] : entries_) {
    FollowerPartitionStatus s;
    s.topic = key.first;
    s.partition = key.second;
    s.leader_epoch = e.leader_epoch;
    s.phase = e.phase;
    s.log_end_offset = e.partition->log().log_end_offset();
    s.leader_log_end_offset = e.leader_log_end_offset;
    s.lag_messages = e.leader_log_end_offset < 0
                         ? 0
                         : std::max<int64_t>(0, e.leader_log_end_offset - s.log_end_offset);
    s.bytes_fetched = e.bytes_fetched;
    s.last_error = e.last_error;
    s.last_error_message = e.last_error_message;
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<FollowerPartitionStatus> ReplicaFetcher::status(const std::string& topic,
                                                              int32_t partition) const {
  for (auto& s : statuses()) {
    if (s.topic == topic && s.partition == partition) return s;
  }
  return std::nullopt;
}

uint64_t ReplicaFetcher::fetch_responses() const {
  std::lock_guard lock(mu_);
  return fetch_responses_;
}

uint64_t ReplicaFetcher::interrupted_calls() const {
  std::lock_guard lock(mu_);
  return interrupted_calls_;
}

uint64_t ReplicaFetcher::connection_errors() const {
  std::lock_guard lock(mu_);
  return connection_errors_;
}

// ---------------------------------------------------------------- the thread

void ReplicaFetcher::run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    std::vector<Work> reconciling = due(FollowPhase::kReconciling);
    if (reconciling.empty() && due(FollowPhase::kFetching).empty()) {
      // Nothing due: wait for add_partition(), stop() or the next retry.
      int64_t wait_ms = std::clamp<int64_t>(next_retry_in_ms().value_or(50), 1, 50);
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return stopping_; });
      continue;
    }
    if (!ensure_connected()) {
      sleep_for_ms(options_.retry_backoff_ms);
      continue;
    }
    if (!reconciling.empty()) reconcile(reconciling);
    if (!connection_) continue;
    // Taken after reconciling: a partition that just finished it is fetched
    // in this round, not after the long poll of the others.
    std::vector<Work> fetching = due(FollowPhase::kFetching);
    if (!fetching.empty()) fetch(fetching);
  }
  connection_.reset();
}

bool ReplicaFetcher::ensure_connected() {
  if (connection_) {
    // A connection that broke while nothing was asked on it (the leader
    // restarted since) is replaced now instead of failing the next request
    // and waiting out a retry.
    if (connection_->in_flight() > 0 || connection_->poll_events().is_ok()) return true;
    spdlog::info("replica fetcher {} -> broker {} ({}): {}; reconnecting", options_.local_broker_id,
                 options_.leader_id, options_.leader_endpoint, connection_->broken().message());
    connection_.reset();
  }
  ConnectionOptions options;
  options.client_id = "mq-replica-" + std::to_string(options_.local_broker_id);
  options.send_timeout_ms = options_.request_timeout_ms;
  options.curve = options_.curve;
  Result<std::unique_ptr<Connection>> connected =
      Connection::connect(options_.leader_endpoint, options);
  if (!connected.is_ok()) {
    drop_connection(connected.status());
    return false;
  }
  connection_ = std::move(connected).value();
  Result<ApiVersionsResponse> versions =
      connection_->negotiate_versions(std::min(options_.request_timeout_ms, 5000));
  if (!versions.is_ok()) {
    drop_connection(versions.status());
    return false;
  }
  return true;
}

void ReplicaFetcher::drop_connection(const Status& why) {
  if (connection_) {
    spdlog::warn("replica fetcher {} -> broker {} ({}): {}; reconnecting", options_.local_broker_id,
                 options_.leader_id, options_.leader_endpoint, why.message());
  }
  connection_.reset();
  std::lock_guard lock(mu_);
  connection_errors_++;
}

template <class Request>
Result<typename Request::Response> ReplicaFetcher::call(const Request& request, int timeout_ms) {
  MQ_ASSIGN_OR_RETURN(int16_t version, connection_->version_for(Request::kApiKey));
  {
    // This request is built from the entries as they are now.
    std::lock_guard lock(mu_);
    interrupt_ = false;
  }
  Result<int32_t> sent = connection_->send(request, version);
  if (!sent.is_ok()) {
    drop_connection(sent.status());
    return sent.status();
  }
  const int64_t deadline = steady_ms() + timeout_ms;
  // In slices, so stop() is seen while a long poll is held by the leader.
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        connection_->forget(*sent);
        return Status(ErrorCode::kNetworkError, "replica fetcher stopping");
      }
      if (interrupt_) {
        // A new connection (a new peer identity for the leader), not this one:
        // the leader answers a connection's requests in order, so a new
        // request would queue behind the abandoned long poll.
        interrupt_ = false;
        interrupted_calls_++;
        connection_->forget(*sent);
        connection_.reset();
        return Status(ErrorCode::kRequestTimedOut,
                      std::string(api_name(Request::kApiKey)) + " abandoned for a new partition");
      }
    }
    int64_t left = deadline - steady_ms();
    if (left <= 0) {
      Status timed_out(ErrorCode::kRequestTimedOut,
                       std::string(api_name(Request::kApiKey)) + " to broker " +
                           std::to_string(options_.leader_id) + " unanswered after " +
                           std::to_string(timeout_ms) + " ms");
      drop_connection(timed_out);
      return timed_out;
    }
    Result<InboundResponse> response =
        connection_->receive_for(*sent, static_cast<int>(std::min<int64_t>(left, 100)));
    if (response.code() == ErrorCode::kRequestTimedOut) continue;
    if (!response.is_ok()) {
      drop_connection(response.status());
      return response.status();
    }
    Result<typename Request::Response> decoded =
        decode_response<typename Request::Response>(*response);
    if (!decoded.is_ok()) drop_connection(decoded.status());
    return decoded;
  }
}

std::vector<ReplicaFetcher::Work> ReplicaFetcher::due(FollowPhase phase) {
  std::lock_guard lock(mu_);
  int64_t now = steady_ms();
  const ReplicationThrottle* throttle = options_.reassignment_throttle.get();
  bool held =
      phase == FollowPhase::kFetching && throttle != nullptr && throttle->blocked(steady_ns());
  std::vector<Work> out;
  for (const auto& [key, e] : entries_) {
    if (e.phase != phase || e.retry_at_ms > now) continue;
    bool throttled = e.throttled && throttle != nullptr;
    if (throttled && held) continue;  // over the reassignment throttle's rate for now
    out.push_back(Work{key, e.partition, e.leader_epoch, e.generation, throttled});
  }
  return out;
}

std::optional<int64_t> ReplicaFetcher::next_retry_in_ms() {
  std::lock_guard lock(mu_);
  int64_t now = steady_ms();
  std::optional<int64_t> next;
  for (const auto& [key, e] : entries_) {
    if (e.phase == FollowPhase::kAwaitingMetadata || e.retry_at_ms <= now) continue;
    next = std::min(next.value_or(e.retry_at_ms - now), e.retry_at_ms - now);
  }
  return next;
}

void ReplicaFetcher::update(const Work& w, FollowPhase phase, ErrorCode error,
                            const std::string& message, int64_t retry_after_ms) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(w.key);
  if (it == entries_.end() || it->second.generation != w.generation) return;
  it->second.phase = phase;
  it->second.retry_at_ms = retry_after_ms > 0 ? steady_ms() + retry_after_ms : 0;
  if (error != ErrorCode::kNone) {
    it->second.last_error = error;
    it->second.last_error_message = message;
    if (phase == FollowPhase::kAwaitingMetadata) {
      spdlog::warn("{}: stopped following broker {} in epoch {}: {}",
                   name_of(w.key.first, w.key.second), options_.leader_id, w.leader_epoch, message);
    }
  }
}

// ---------------------------------------------------------------- reconcile

void ReplicaFetcher::reconcile(const std::vector<Work>& work) {
  OffsetForLeaderEpochRequest request;
  request.replica_id = options_.local_broker_id;
  std::map<Key, std::pair<const Work*, int32_t>> asked;  // -> work, epoch asked about
  for (const Work& w : work) {
    Log& log = w.partition->log();
    std::optional<EpochEntry> latest = log.leader_epochs().latest();
    if (!latest) {
      // No epoch history: an empty log starts fetching where it is; one
      // written without epochs keeps only what was committed (pre-KIP-101).
      if (log.log_end_offset() > log.log_start_offset()) {
        Status cut = w.partition->truncate_to(w.partition->high_watermark(), w.leader_epoch);
        if (!cut.is_ok()) {
          update(w, FollowPhase::kAwaitingMetadata, cut.code(), cut.message());
          continue;
        }
      }
      update(w, FollowPhase::kFetching, ErrorCode::kNone, "");
      continue;
    }
    auto topic = std::find_if(request.topics.begin(), request.topics.end(),
                              [&](const auto& t) { return t.name == w.key.first; });
    if (topic == request.topics.end()) {
      request.topics.emplace_back().name = w.key.first;
      topic = std::prev(request.topics.end());
    }
    topic->partitions.push_back({.partition_index = w.key.second,
                                 .current_leader_epoch = w.leader_epoch,
                                 .leader_epoch = latest->epoch});
    asked[w.key] = {&w, latest->epoch};
  }
  if (asked.empty()) return;
  Result<OffsetForLeaderEpochResponse> response = call(request, options_.request_timeout_ms);
  if (!response.is_ok()) return;  // the connection is dropped; retried after reconnecting
  for (const auto& topic : response->topics) {
    for (const auto& p : topic.partitions) {
      auto it = asked.find({topic.name, p.partition_index});
      if (it == asked.end()) continue;
      const Work& w = *it->second.first;
      asked.erase(it);
      if (p.error_code != ErrorCode::kNone) {
        std::string message = "OffsetForLeaderEpoch: " + std::string(error_name(p.error_code));
        if (needs_new_metadata(p.error_code)) {
          update(w, FollowPhase::kAwaitingMetadata, p.error_code, message);
        } else {
          update(w, FollowPhase::kReconciling, p.error_code, message,
                 leader_not_ready(p.error_code)
                     ? std::min<int64_t>(options_.retry_backoff_ms, kLeaderNotReadyBackoffMs)
                     : options_.retry_backoff_ms);
        }
        continue;
      }
      // An error is recorded on the partition by truncate_by_epoch itself.
      (void)truncate_by_epoch(w, p.leader_epoch, p.end_offset);
    }
  }
  // Partitions the leader did not answer for: ask again later.
  for (const auto& [key, entry] : asked) {
    update(*entry.first, FollowPhase::kReconciling, ErrorCode::kInvalidRequest,
           "OffsetForLeaderEpoch answer lacks the partition", options_.retry_backoff_ms);
  }
}

Result<bool> ReplicaFetcher::truncate_by_epoch(const Work& w, int32_t leader_epoch,
                                               int64_t leader_end_offset) {
  Log& log = w.partition->log();
  int64_t end = log.log_end_offset();
  int64_t target;
  bool finished = true;
  if (leader_epoch < 0 || leader_end_offset < 0) {
    // The leader has no epoch history at all (an epoch older than all of its
    // history is answered with its first epoch's start): keep what was
    // committed; an out-of-range fetch then settles the rest against the
    // leader's log.
    target = std::min(w.partition->high_watermark(), end);
  } else {
    // An epoch older than all of ours ends, by our history, where our first
    // epoch starts (LeaderEpochCache::end_offset_for), so records of epochs
    // the leader never had are cut in the last branch.
    std::optional<EpochEntry> ours = log.leader_epochs().end_offset_for(leader_epoch, end);
    if (!ours) {
      // Our epoch history was emptied meanwhile: the leader's offset rules.
      target = std::min(leader_end_offset, end);
    } else if (ours->epoch != leader_epoch) {
      // We never had the epoch the leader answered with: cut to where our
      // largest older epoch ends and ask again about that one (KIP-279).
      target = std::min(ours->start_offset, end);
      finished = false;
    } else {
      target = std::min({leader_end_offset, ours->start_offset, end});
    }
  }
  if (test_break("truncation")) {  // a deliberate defect (base/test_breaks.h)
    target = end;
    finished = true;
  }
  Status cut = w.partition->truncate_to(target, w.leader_epoch);
  if (!cut.is_ok()) {
    update(w, FollowPhase::kAwaitingMetadata, cut.code(), "truncation: " + cut.message());
    return cut;
  }
  if (target < end) {
    spdlog::info("{}: truncated divergent tail {}..{} (leader epoch {} ends at {} on broker {})",
                 name_of(w.key.first, w.key.second), target, end, leader_epoch, leader_end_offset,
                 options_.leader_id);
  }
  update(w, finished ? FollowPhase::kFetching : FollowPhase::kReconciling, ErrorCode::kNone, "");
  return finished;
}

// ---------------------------------------------------------------- fetch

void ReplicaFetcher::fetch(const std::vector<Work>& work) {
  FetchRequest request;
  request.replica_id = options_.local_broker_id;
  // A partition waiting out a short retry (a new leader not ready yet) is
  // not held back by the long poll of the others.
  request.max_wait_ms = static_cast<int32_t>(std::min<int64_t>(
      options_.fetch_max_wait_ms, next_retry_in_ms().value_or(options_.fetch_max_wait_ms)));
  request.min_bytes = 1;
  request.max_bytes = options_.fetch_max_bytes;
  std::map<Key, const Work*> asked;
  for (const Work& w : work) {
    auto topic = std::find_if(request.topics.begin(), request.topics.end(),
                              [&](const auto& t) { return t.name == w.key.first; });
    if (topic == request.topics.end()) {
      request.topics.emplace_back().name = w.key.first;
      topic = std::prev(request.topics.end());
    }
    topic->partitions.push_back(
        {.partition_index = w.key.second,
         .current_leader_epoch = w.leader_epoch,
         .fetch_offset = w.partition->log().log_end_offset(),
         .log_start_offset = w.partition->log().log_start_offset(),
         .partition_max_bytes =
             w.throttled ? options_.reassignment_throttle->fetch_bytes(options_.fetch_max_bytes)
                         : options_.fetch_max_bytes});
    asked[w.key] = &w;
  }
  Result<FetchResponse> response =
      call(request, options_.fetch_max_wait_ms + options_.request_timeout_ms);
  if (!response.is_ok()) return;  // reconnects, positions kept
  {
    std::lock_guard lock(mu_);
    fetch_responses_++;
  }
  if (response->error_code != ErrorCode::kNone) {
    for (const Work& w : work) {
      update(w, FollowPhase::kFetching, response->error_code,
             "Fetch: " + std::string(error_name(response->error_code)), options_.retry_backoff_ms);
    }
    return;
  }
  uint64_t total_bytes = 0;
  for (const auto& topic : response->topics) {
    for (const auto& p : topic.partitions) {
      auto it = asked.find({topic.name, p.partition_index});
      if (it == asked.end()) continue;
      const Work& w = *it->second;
      asked.erase(it);
      Log& log = w.partition->log();
      if (p.error_code == ErrorCode::kOffsetOutOfRange) {
        if (p.log_start_offset > log.log_end_offset()) {
          // Far behind: what we lack is gone from the leader; start over at its start.
          Status restarted =
              w.partition->truncate_fully_and_start_at(p.log_start_offset, w.leader_epoch);
          if (!restarted.is_ok()) {
            update(w, FollowPhase::kAwaitingMetadata, restarted.code(), restarted.message());
          } else {
            spdlog::info("{}: behind the leader's log start {}; log restarted there",
                         name_of(w.key.first, w.key.second), p.log_start_offset);
          }
        } else if (p.log_end_offset >= 0 && log.log_end_offset() > p.log_end_offset) {
          // Ahead of the leader (it was elected uncleanly, or with a log that
          // came back shorter) and no epoch of ours told where to cut: the
          // leader's log end does (Kafka does the same).
          Status cut = w.partition->truncate_to(p.log_end_offset, w.leader_epoch);
          if (!cut.is_ok()) {
            update(w, FollowPhase::kAwaitingMetadata, cut.code(), "truncation: " + cut.message());
          } else {
            spdlog::warn("{}: ahead of leader {} (log end {}); truncated to its log end",
                         name_of(w.key.first, w.key.second), options_.leader_id, p.log_end_offset);
          }
        } else {
          update(w, FollowPhase::kReconciling, p.error_code, "Fetch: OFFSET_OUT_OF_RANGE");
        }
        continue;
      }
      if (p.error_code != ErrorCode::kNone) {
        std::string message = "Fetch: " + std::string(error_name(p.error_code));
        if (needs_new_metadata(p.error_code)) {
          update(w, FollowPhase::kAwaitingMetadata, p.error_code, message);
        } else {
          update(w, FollowPhase::kFetching, p.error_code, message,
                 leader_not_ready(p.error_code)
                     ? std::min<int64_t>(options_.retry_backoff_ms, kLeaderNotReadyBackoffMs)
                     : options_.retry_backoff_ms);
        }
        continue;
      }
      Result<uint64_t> appended = append_fetched(w, p.records.as_string_view());
      if (!appended.is_ok()) {
        if (appended.code() == ErrorCode::kOffsetOutOfRange) {
          // The log moved under us (the batches start below its end).
          update(w, FollowPhase::kReconciling, appended.code(), appended.status().message());
        } else {
          update(w, FollowPhase::kAwaitingMetadata, appended.code(),
                 "append: " + appended.status().message());
        }
        continue;
      }
      total_bytes += *appended;
      if (w.throttled) options_.reassignment_throttle->record(*appended, steady_ns());
      w.partition->update_follower_high_watermark(p.high_watermark);
      if (p.log_start_offset > log.log_start_offset()) {
        // The leader deleted records (DeleteRecords) or applied retention:
        // this replica drops them too, so a later leader does not serve them.
        Status followed = w.partition->follow_log_start(p.log_start_offset, w.leader_epoch);
        if (!followed.is_ok()) {
          spdlog::warn("{}: could not move the log start to the leader's {}: {}",
                       name_of(w.key.first, w.key.second), p.log_start_offset, followed.message());
        }
      }
      std::lock_guard lock(mu_);
      auto entry = entries_.find(w.key);
      if (entry != entries_.end() && entry->second.generation == w.generation) {
        entry->second.bytes_fetched += *appended;
        entry->second.leader_log_end_offset = p.log_end_offset;
        entry->second.last_error = ErrorCode::kNone;
        entry->second.last_error_message.clear();
      }
    }
  }
  throttle(total_bytes);
}

Result<uint64_t> ReplicaFetcher::append_fetched(const Work& w, std::string_view records) {
  if (records.empty()) return uint64_t{0};
  int64_t end = w.partition->log().log_end_offset();
  // Whole batches only (a response may end in a partial one), and none we
  // already have (a read may start at the batch holding the offset).
  auto bytes =
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(records.data()), records.size());
  BatchCursor cursor(bytes);
  size_t from = 0, to = 0;
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    MQ_ASSIGN_OR_RETURN(BatchHeader header, parse_batch_header(batch));
    if (header.next_offset() <= end) {
      from = cursor.position();
    }
    to = cursor.position();
  }
  if (to <= from) return uint64_t{0};
  std::string copy(records.substr(from, to - from));
  MQ_ASSIGN_OR_RETURN(AppendResult result,
                      w.partition->append_as_follower(as_writable_bytes(copy), w.leader_epoch));
  (void)result;
  return static_cast<uint64_t>(copy.size());
}

void ReplicaFetcher::throttle(uint64_t bytes) {
  if (options_.throttle_bytes_per_sec <= 0 || bytes == 0) return;
  // A token bucket of one response: the next fetch waits until these bytes
  // fit the rate.
  int64_t now = steady_ns();
  int64_t cost = static_cast<int64_t>(static_cast<double>(bytes) * 1e9 /
                                      static_cast<double>(options_.throttle_bytes_per_sec));
  throttle_until_ns_ = std::max(throttle_until_ns_, now) + cost;
  int64_t wait_ms = (throttle_until_ns_ - now) / 1'000'000;
  if (wait_ms > 0) sleep_for_ms(wait_ms);
}

void ReplicaFetcher::sleep_for_ms(int64_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
}

}  // namespace mq::broker
