// DelayedDelivery: delivered copies and cancel records, appended by the leader.
#include "broker/delayed_delivery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "store/record_batch.h"

namespace mq::broker {
namespace {

int64_t wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How often the loop looks for new due messages when none is due sooner.
constexpr auto kPollInterval = std::chrono::milliseconds(10);

}  // namespace

void DelayedDelivery::start() {
  thread_ = std::thread([this] { run(); });
}

void DelayedDelivery::stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DelayedDelivery::run() {
  // Partitions whose last delivery failed for a reason other than leadership,
  // and when to try them again.
  std::map<std::pair<std::string, int32_t>, int64_t> backoff;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    int64_t now = wall_now_ms();
    for (const std::shared_ptr<Partition>& p : replicas_.partitions()) {
      std::optional<int64_t> next = p->log().next_scheduled_at();
      if (!next || *next > now || !p->is_leader()) continue;
      auto key = std::make_pair(p->topic(), p->index());
      if (auto it = backoff.find(key); it != backoff.end()) {
        if (it->second > now) continue;
        backoff.erase(it);
      }
      Result<size_t> delivered = deliver_due(*p, now);
      if (!delivered.is_ok() && delivered.code() != ErrorCode::kNotLeader &&
          delivered.code() != ErrorCode::kLeaderNotAvailable) {
        spdlog::warn("{}-{}: delivering delayed messages: {} (retrying in 1 s)", p->topic(),
                     p->index(), delivered.status().to_string());
        backoff[key] = now + 1000;
      }
    }
    lock.lock();
    cv_.wait_for(lock, kPollInterval, [this] { return stop_; });
  }
}

Result<size_t> DelayedDelivery::deliver_due(Partition& partition, int64_t now_ms) {
  std::lock_guard work(work_mu_);
  Log& log = partition.log();
  const int64_t committed = partition.high_watermark();
  std::vector<ScheduleIndex::Entry> due = log.due_scheduled(now_ms, kMaxCopiesPerBatch);
  // A record still above the high watermark might yet be cut: it waits.
  std::erase_if(due, [committed](const ScheduleIndex::Entry& e) { return e.offset >= committed; });
  if (due.empty()) return size_t{0};
  std::vector<ScheduleIndex::Entry> by_offset = due;
  std::ranges::sort(by_offset, {}, &ScheduleIndex::Entry::offset);

  RecordBatchBuilder builder;
  builder.set_schedule_bits(kAttrDelivered);
  RecordBatchReader reader;
  std::vector<Record> records;  // the decoded batch holding the current entry
  LogReadResult read;
  std::vector<RecordHeader> headers;
  std::vector<std::string> targets;
  targets.reserve(by_offset.size());
  size_t gone = 0;
  for (const ScheduleIndex::Entry& e : by_offset) {
    auto holds = [&] {
      return !records.empty() && records.front().offset <= e.offset &&
             records.back().offset >= e.offset;
    };
    if (!holds()) {
      records.clear();
      Result<LogReadResult> r = log.read(e.offset, 1, committed);
      if (!r.is_ok() || r->bytes.empty()) {
        ++gone;  // below the log start now, or unreadable: reported below
        continue;
      }
      read = std::move(r).value();
      BatchCursor cursor(as_bytes(read.bytes));
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty() || !reader.decode(batch, &records).is_ok() || !holds()) {
        records.clear();
        ++gone;
        continue;
      }
    }
    const Record& r = records[static_cast<size_t>(e.offset - records.front().offset)];
    headers.assign(r.headers.begin(), r.headers.end());
    targets.push_back(std::to_string(e.offset));
    headers.push_back({kDelayedFromHeader, targets.back()});
    builder.add(now_ms, r.key, r.value, headers);
  }
  if (gone > 0) {
    size_t dropped = log.drop_scheduled_below_start();
    spdlog::warn("{}-{}: {} due delayed message(s) could not be read ({} below the log start)",
                 partition.topic(), partition.index(), gone, dropped);
  }
  if (builder.empty()) return size_t{0};
  MQ_ASSIGN_OR_RETURN(std::string batch, builder.build());
  MQ_ASSIGN_OR_RETURN(AppendResult appended,
                      partition.append_as_leader(as_writable_bytes(batch), 1, nullptr, true));
  const size_t copies = static_cast<size_t>(appended.record_count);
  metrics_.add_delayed_delivered(partition.topic(), copies);
  const int64_t done = wall_now_ms();
  for (const ScheduleIndex::Entry& e : due) {
    metrics_.observe_delayed_lateness(
        static_cast<double>(std::max<int64_t>(done - e.deliver_at, 0)) / 1000.0);
  }
  return copies;
}

Status DelayedDelivery::cancel(Partition& partition, int64_t offset, int64_t timeout_ms) {
  const std::string name = partition.topic() + "-" + std::to_string(partition.index());
  int32_t epoch = 0;
  int64_t last = -1;
  {
    std::lock_guard work(work_mu_);
    if (!partition.is_leader()) {
      return Status(ErrorCode::kNotLeader, name + " is not led by this broker");
    }
    std::optional<ScheduleIndex::Entry> entry = partition.log().scheduled_entry(offset);
    if (!entry) {
      return Status(ErrorCode::kNotFound, "no delayed message is pending at offset " +
                                              std::to_string(offset) + " of " + name +
                                              " (delivered, cancelled, or never scheduled)");
    }
    RecordBatchBuilder builder;
    builder.set_schedule_bits(kAttrScheduled);
    const std::string at = std::to_string(entry->deliver_at);
    const std::string target = std::to_string(offset);
    RecordHeader headers[2] = {{kDeliverAtHeader, at}, {kDelayedCancelHeader, target}};
    builder.add(wall_now_ms(), std::nullopt, std::nullopt, headers);
    MQ_ASSIGN_OR_RETURN(std::string batch, builder.build());
    MQ_ASSIGN_OR_RETURN(AppendResult appended,
                        partition.append_as_leader(as_writable_bytes(batch), 1, &epoch, true));
    last = appended.last_offset;
  }
  metrics_.add_delayed_cancelled(partition.topic());
  // Answered once committed, as acks=all: a cancel the next leader lacks
  // would let the message out.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::optional<ErrorCode> outcome = partition.acks_all_outcome(last, epoch);
    if (outcome) {
      if (*outcome == ErrorCode::kNone) return Status::ok();
      return Status(*outcome, name + ": the cancel record was not replicated");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status(ErrorCode::kRequestTimedOut,
                    name + ": the cancel record was not replicated within " +
                        std::to_string(timeout_ms) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace mq::broker
