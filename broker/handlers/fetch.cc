// Fetch: reads from partition logs for consumers (up to the high watermark)
// and followers (up to the log end, recording their position for the ISR and
// high watermark). Long-polls: without min_bytes of data the request waits
// until a watched partition gets some or max_wait_ms passes.
#include "transport/fetch.h"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "broker/broker_metrics.h"
#include "broker/fetch_filter.h"
#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"
#include "broker/scheduler.h"
#include "store/record_batch.h"
#include "transport/principals.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

// A fetch being answered: tried at once, then again on each wake-up of a
// watched partition and at the deadline, until it has enough or expires.
struct FetchState {
  Context& ctx;
  InboundRequest request;
  FetchRequest fetch;
  Reply reply;
  Clock::time_point deadline;
  std::unordered_map<std::string, FetchFilter> filters;  // by topic, for filtered topics only
  std::unordered_set<std::string> denied;                // topics the principal may not read
  std::atomic<bool> done{false};
  std::atomic<bool> retry_queued{false};
  std::mutex mu;  // guards waits: registration races with wake-ups on other threads
  std::vector<std::pair<std::shared_ptr<Partition>, uint64_t>> waits;

  void cancel_waits() {
    std::lock_guard lock(mu);
    for (auto& [partition, ticket] : waits) partition->cancel_wait(ticket);
    waits.clear();
  }
};

uint64_t count_records(std::span<const uint8_t> batches) {
  uint64_t n = 0;
  BatchCursor cursor(batches);
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> h = parse_batch_header(batch);
    if (h.is_ok()) n += static_cast<uint64_t>(h->record_count);
  }
  return n;
}

void attempt(const std::shared_ptr<FetchState>& state) {
  if (state->done.load()) return;
  Context& ctx = state->ctx;
  const FetchRequest& wanted = state->fetch;
  int64_t budget = wanted.max_bytes > 0 ? wanted.max_bytes : INT32_MAX;
  int64_t total = 0;
  bool any_error = false;
  bool filtered_progress = false;  // a filtered partition moved on, even without a match
  // Followers (replica_id >= 0) read up to the log end and report their
  // position; consumers read up to the high watermark.
  const bool from_follower = wanted.replica_id >= 0;
  const WaitBound bound = from_follower ? WaitBound::kLogEnd : WaitBound::kHighWatermark;
  std::vector<std::pair<std::shared_ptr<Partition>, int64_t>> watch;
  FetchResponse response =
      per_partition<FetchResponse>(wanted, [&](const std::string& topic, const auto& p, auto& out) {
        if (!state->denied.empty() && state->denied.contains(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          any_error = true;
          return;
        }
        ErrorCode error = ErrorCode::kNone;
        std::shared_ptr<Partition> partition =
            ctx.find_partition(topic, p.partition_index, false, &error);
        if (!partition) {
          out.error_code = error;
          any_error = true;
          return;
        }
        out.log_start_offset = partition->log().log_start_offset();
        out.log_end_offset = partition->log().log_end_offset();
        ErrorCode refused = partition->check_leader(p.current_leader_epoch);
        if (refused == ErrorCode::kNone && from_follower) {
          refused = partition->record_follower_fetch(wanted.replica_id, p.fetch_offset,
                                                     p.log_start_offset);
        }
        // Read after the follower's position moved it: the answer carries the new HW.
        out.high_watermark = partition->high_watermark();
        out.last_stable_offset = out.high_watermark;
        if (refused != ErrorCode::kNone) {
          out.error_code = refused;
          any_error = true;
          return;
        }
        int64_t limit = std::min<int64_t>(
            p.partition_max_bytes > 0 ? p.partition_max_bytes : INT32_MAX, budget - total);
        if (limit <= 0 && total > 0) return;  // the response is full; the client asks again
        const auto max_bytes = static_cast<size_t>(std::max<int64_t>(limit, 1));
        if (auto filter = state->filters.find(topic); filter != state->filters.end()) {
          Result<FilteredRead> read = read_filtered(partition->log(), p.fetch_offset, max_bytes,
                                                    out.high_watermark, filter->second);
          if (!read.is_ok()) {
            out.error_code = read.code();
            any_error = true;
            return;
          }
          ctx.metrics.add_filtered(read->scanned_bytes, read->skipped_batches);
          out.next_offset = read->next_offset;
          filtered_progress = filtered_progress || read->next_offset > p.fetch_offset;
          if (read->next_offset <= p.fetch_offset) {
            watch.emplace_back(partition, p.fetch_offset);
            return;
          }
          total += static_cast<int64_t>(read->bytes.size());
          if (read->bytes.empty()) return;
          auto owner = std::make_shared<std::string>(std::move(read->bytes));
          out.records = Frame(as_bytes(*owner), owner);
          return;
        }
        // Consumers read only committed data: nothing at or past the high watermark.
        Result<LogReadResult> read = partition->log().read(
            p.fetch_offset, max_bytes, from_follower ? INT64_MAX : out.high_watermark);
        if (!read.is_ok()) {
          out.error_code = read.code();
          any_error = true;
          return;
        }
        if (read->bytes.empty()) {
          watch.emplace_back(partition, p.fetch_offset);
          return;
        }
        total += static_cast<int64_t>(read->bytes.size());
        auto owner = std::make_shared<std::string>(std::move(read->bytes));
        out.records = Frame(as_bytes(*owner), owner);
      });
  // A filtered partition that moved past non-matching records answers at
  // once: waiting would scan them again.
  bool enough = total >= std::max(wanted.min_bytes, 1) || any_error || filtered_progress;
  bool expired = Clock::now() >= state->deadline;
  if (!enough && !expired && !watch.empty()) {
    // Long poll: try again when any watched partition gets data, or at the deadline.
    state->retry_queued = false;
    // The closures own the state: it lives until the fetch is answered and,
    // for the deadline's closure, until the deadline passes.
    auto retry = [s = state] {
      if (!s->done.load() && !s->retry_queued.exchange(true)) {
        s->ctx.scheduler.run([s] {
          s->cancel_waits();
          attempt(s);
        });
      }
    };
    {
      std::lock_guard lock(state->mu);
      for (auto& [partition, offset] : watch) {
        uint64_t ticket = partition->on_data_after(offset, retry, bound);
        if (ticket != 0) state->waits.emplace_back(partition, ticket);
      }
    }
    ctx.scheduler.run_at(state->deadline, retry);
    return;
  }
  if (state->done.exchange(true)) return;
  state->cancel_waits();
  for (const auto& topic : response.topics) {
    if (from_follower) break;  // replication traffic is not consumption
    uint64_t bytes = 0, messages = 0;
    for (const auto& p : topic.partitions) {
      bytes += p.records.size();
      messages += count_records(p.records.bytes());
    }
    if (bytes > 0) ctx.metrics.add_fetched(topic.name, bytes, messages);
  }
  state->reply(encode(state->request.header, response));
}

}  // namespace

void fetch(Call call) {
  std::optional<FetchRequest> request = decode_or_refuse<FetchRequest>(call);
  if (!request) return;
  if (request->replica_id < kConsumerReplicaId) {
    return call.reply(
        encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                              "replica_id " + std::to_string(request->replica_id) +
                                  " is neither -1 (a consumer) nor a broker id (a follower)"));
  }
  // With authentication on, only broker N fetches as replica N: a follower's
  // fetch moves the high watermark and the ISR.
  if (request->replica_id >= 0 && !call.request.principal.empty() &&
      call.request.principal != transport::broker_principal(request->replica_id)) {
    return call.reply(
        encode_error_response(call.request.header, ErrorCode::kClusterAuthorizationFailed,
                              call.request.principal + " may not fetch as replica " +
                                  std::to_string(request->replica_id) + " (only " +
                                  transport::broker_principal(request->replica_id) + " may)"));
  }
  // A follower (broker:N, checked above) reads what it replicates; a
  // consumer needs read on each topic, asked once per topic.
  std::unordered_set<std::string> denied;
  if (request->replica_id < 0) {
    for (const FetchRequest::Topic& topic : request->topics) {
      if (!denied.contains(topic.name) &&
          !topic_authorized(call, AclOperation::kRead, topic.name)) {
        denied.insert(topic.name);
      }
    }
  }
  std::unordered_map<std::string, FetchFilter> filters;
  for (const FetchRequest::Topic& topic : request->topics) {
    if (topic.tags.empty() && topic.filter.empty()) continue;
    Result<std::optional<FetchFilter>> parsed = FetchFilter::parse(topic.tags, topic.filter);
    if (parsed.is_ok() && *parsed && request->replica_id != kConsumerReplicaId) {
      parsed = Status(ErrorCode::kInvalidRequest, "a follower's fetch cannot filter");
    }
    if (!parsed.is_ok()) {
      return call.reply(
          encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                                "topic " + topic.name + ": " + parsed.status().message()));
    }
    if (*parsed) filters.insert_or_assign(topic.name, std::move(**parsed));
  }
  int32_t wait_ms = std::clamp(request->max_wait_ms, 0, call.ctx.replicas.fetch_max_wait_ms());
  auto state = std::make_shared<FetchState>(call.ctx, std::move(call.request),
                                            std::move(request).value(), std::move(call.reply),
                                            call.started + std::chrono::milliseconds(wait_ms));
  state->filters = std::move(filters);
  state->denied = std::move(denied);
  attempt(state);
}

}  // namespace mq::broker::handlers
