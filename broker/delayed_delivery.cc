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
  // Copies are appended in delivery order, in batches well inside the
  // topic's max.message.bytes.
  const size_t max_bytes =
      std::min<size_t>(static_cast<size_t>(log.max_batch_bytes()) / 2, 1 << 20);
  const std::string name = partition.topic() + "-" + std::to_string(partition.index());

  RecordBatchReader reader;
  std::vector<Record> records;  // the decoded batch holding the current entry
  LogReadResult read;
  std::vector<RecordHeader> headers;
  std::vector<ScheduleIndex::Entry> in_batch;
  size_t copies = 0;
  RecordBatchBuilder builder;
  builder.set_schedule_bits(kAttrDelivered);
  auto append = [&](Compression codec) -> Status {
    MQ_ASSIGN_OR_RETURN(std::string batch, builder.build());
    Result<AppendResult> appended =
        partition.append_as_leader(as_writable_bytes(batch), 1, nullptr, true);
    if (appended.code() == ErrorCode::kMessageTooLarge && in_batch.size() == 1 &&
        codec != Compression::kNone) {
      spdlog::error(
          "{}: the delayed message at offset {} cannot be delivered: its copy is "
          "larger than max.message.bytes even compressed; it is dropped",
          name, in_batch.front().offset);
      log.drop_scheduled(in_batch.front());
      return Status::ok();
    }
    MQ_RETURN_IF_ERROR(appended.status());
    copies += static_cast<size_t>(appended->record_count);
    metrics_.add_delayed_delivered(partition.topic(),
                                   static_cast<uint64_t>(appended->record_count));
    const int64_t done = wall_now_ms();
    for (const ScheduleIndex::Entry& e : in_batch) {
      metrics_.observe_delayed_lateness(
          static_cast<double>(std::max<int64_t>(done - e.deliver_at, 0)) / 1000.0);
    }
    return Status::ok();
  };
  // Adds the copy of `e` (its record `r`) to the builder, which copies its bytes.
  std::string target;
  auto add_copy = [&](const ScheduleIndex::Entry& e, const Record& r) {
    headers.assign(r.headers.begin(), r.headers.end());
    target = std::to_string(e.offset);
    headers.push_back({kDelayedFromHeader, target});
    builder.add(now_ms, r.key, r.value, headers);
    in_batch.push_back(e);
  };
  // The record at `offset`, decoded by `with` into `*decoded` (whose batch
  // `*bytes` holds; the records may point into `with`'s buffer). nullptr when
  // it is gone for good (below the log start, or damaged: every replica would
  // find the same); an error the next pass may not meet (a failed read).
  auto read_record = [&](int64_t offset, RecordBatchReader& with, LogReadResult* bytes,
                         std::vector<Record>* decoded) -> Result<const Record*> {
    decoded->clear();
    Result<LogReadResult> r = log.read(offset, 1, committed);
    if (!r.is_ok() && r.code() != ErrorCode::kOffsetOutOfRange &&
        r.code() != ErrorCode::kCorruptMessage) {
      return r.status();
    }
    if (!r.is_ok() || r->bytes.empty()) return nullptr;
    *bytes = std::move(r).value();
    BatchCursor cursor(as_bytes(bytes->bytes));
    std::span<const uint8_t> batch = cursor.next();
    if (batch.empty() || !with.decode(batch, decoded).is_ok() || decoded->empty() ||
        decoded->front().offset > offset || decoded->back().offset < offset) {
      decoded->clear();
      return nullptr;
    }
    return &(*decoded)[static_cast<size_t>(offset - decoded->front().offset)];
  };
  // Appends what the builder holds; a lone copy too big uncompressed (its
  // producer had compressed it) is tried again compressed.
  auto flush = [&]() -> Status {
    if (builder.empty()) return Status::ok();
    const ScheduleIndex::Entry lone = in_batch.front();
    const bool alone = in_batch.size() == 1;
    Status appended = append(Compression::kNone);
    if (appended.code() == ErrorCode::kMessageTooLarge && alone) {
      // Its own reader: `records` (the pass's current batch) points into
      // the pass's reader's buffer.
      RecordBatchReader lone_reader;
      LogReadResult bytes;
      std::vector<Record> decoded;
      MQ_ASSIGN_OR_RETURN(const Record* r, read_record(lone.offset, lone_reader, &bytes, &decoded));
      if (r != nullptr) {
        builder = RecordBatchBuilder(Compression::kZstd);
        builder.set_schedule_bits(kAttrDelivered);
        in_batch.clear();
        add_copy(lone, *r);
        appended = append(Compression::kZstd);
        builder = RecordBatchBuilder();
        builder.set_schedule_bits(kAttrDelivered);
      }
    }
    in_batch.clear();
    return appended;
  };
  size_t unreadable = 0;
  for (const ScheduleIndex::Entry& e : due) {
    const Record* r = nullptr;
    if (!records.empty() && records.front().offset <= e.offset &&
        records.back().offset >= e.offset) {
      r = &records[static_cast<size_t>(e.offset - records.front().offset)];
    } else {
      MQ_ASSIGN_OR_RETURN(r, read_record(e.offset, reader, &read, &records));
    }
    if (r == nullptr) {
      // Below the log start now, or damaged: every replica would fail alike.
      ++unreadable;
      log.drop_scheduled(e);
      continue;
    }
    size_t size = 64 + (r->key ? r->key->size() : 0) + (r->value ? r->value->size() : 0);
    for (const RecordHeader& h : r->headers) {
      size += h.key.size() + (h.value ? h.value->size() : 0);
    }
    if (!builder.empty() && builder.estimated_size() + size > max_bytes) {
      MQ_RETURN_IF_ERROR(flush());
    }
    add_copy(e, *r);
  }
  MQ_RETURN_IF_ERROR(flush());
  if (unreadable > 0) {
    spdlog::error(
        "{}: {} due delayed message(s) could not be read (deleted by retention or "
        "DeleteRecords, or damaged) and were dropped",
        name, unreadable);
  }
  return copies;
}

DelayedDelivery::CancelAppend DelayedDelivery::append_cancels(Partition& partition,
                                                              const std::vector<int64_t>& offsets) {
  const std::string name = partition.topic() + "-" + std::to_string(partition.index());
  CancelAppend out;
  out.results.resize(offsets.size());
  std::lock_guard work(work_mu_);
  if (!partition.is_leader()) {
    out.results.assign(offsets.size(),
                       Status(ErrorCode::kNotLeader, name + " is not led by this broker"));
    return out;
  }
  RecordBatchBuilder builder;
  builder.set_schedule_bits(kAttrScheduled);
  std::vector<std::string> values;  // the header values the builder reads
  values.reserve(2 * offsets.size());
  for (size_t i = 0; i < offsets.size(); ++i) {
    std::optional<ScheduleIndex::Entry> entry = partition.log().scheduled_entry(offsets[i]);
    const bool repeated =
        std::ranges::any_of(out.appended_for, [&](size_t k) { return offsets[k] == offsets[i]; });
    if (!entry || repeated) {
      out.results[i] =
          Status(ErrorCode::kNotFound, "no delayed message is pending at offset " +
                                           std::to_string(offsets[i]) + " of " + name +
                                           " (delivered, cancelled, or never scheduled)");
      continue;
    }
    values.push_back(std::to_string(entry->deliver_at));
    values.push_back(std::to_string(offsets[i]));
    RecordHeader headers[2] = {{kDeliverAtHeader, values[values.size() - 2]},
                               {kDelayedCancelHeader, values.back()}};
    builder.add(wall_now_ms(), std::nullopt, std::nullopt, headers);
    out.appended_for.push_back(i);
  }
  if (out.appended_for.empty()) return out;
  Result<std::string> batch = builder.build();
  Result<AppendResult> appended =
      batch.is_ok() ? partition.append_as_leader(as_writable_bytes(*batch), 1, &out.epoch, true)
                    : Result<AppendResult>(batch.status());
  if (!appended.is_ok()) {
    for (size_t i : out.appended_for) out.results[i] = appended.status();
    out.appended_for.clear();
    return out;
  }
  out.last_offset = appended->last_offset;
  for (size_t k = 0; k < out.appended_for.size(); ++k) {
    metrics_.add_delayed_cancelled(partition.topic());
  }
  return out;
}

}  // namespace mq::broker
