// QueueService: receive, ack, nack and invisible-time changes of queue groups
// on the partition leader; see queue_service.h.
#include "broker/queue_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_set>

#include "base/murmur2.h"
#include "broker/topic_config.h"
#include "store/coding.h"
#include "store/record_batch.h"

namespace mq::broker {

using transport::AckAction;
using transport::QueueStart;

namespace {

// Tries of one decision when another changed the state meanwhile.
constexpr int kAttempts = 4;
// Most items in one queue-state record (a deliver record of 1000 items is
// about 13 KB), and the room left for the batch header when records are
// packed into batches under max.message.bytes.
constexpr size_t kMaxItemsPerRecord = 1000;
constexpr size_t kBatchOverheadBytes = 256;
// Offsets of queue-state and scheduled batches a group passes over before its
// new position is recorded without handing anything out (an idle group's
// receives write nothing, so they do not feed each other's records).
constexpr int64_t kRecordSkipAfter = 1000;

int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The key's hash for ordered consumption; 0 is no key.
uint32_t key_hash_of(const std::optional<std::string_view>& key) {
  if (!key) return 0;
  auto h = static_cast<uint32_t>(murmur2(*key));
  return h == 0 ? 1 : h;
}

int64_t backoff_after(const QueueService::Settings& s, int32_t delivery) {
  if (s.backoff_ms.empty()) return 0;
  size_t i = static_cast<size_t>(std::max(delivery, 1) - 1);
  return s.backoff_ms[std::min(i, s.backoff_ms.size() - 1)];
}

// When a delivery that ends at `ended` may be followed by the next one. The
// last one allowed has no back-off: the first receive after it ends holds
// the message (and so frees its key for key-ordered receives).
int64_t next_available(const QueueService::Settings& s, int32_t delivery, int64_t ended) {
  if (delivery >= s.max_deliveries) return ended;
  return ended + backoff_after(s, delivery);
}

// The message at `offset` of `log`, below `hw`; nullopt when it is gone for
// good (below the log start, damaged, or not a message: every replica finds
// the same), an error a later try may not meet (a failed read).
Result<std::optional<QueueService::StoredMessage>> read_message(Log& log, int64_t offset,
                                                                int64_t hw) {
  using Found = std::optional<QueueService::StoredMessage>;
  if (offset >= hw) {
    // Not committed (yet) on this leader: a later try reads it.
    return Status(ErrorCode::kOffsetNotAvailable,
                  "offset " + std::to_string(offset) + " is above the high watermark");
  }
  Result<LogReadResult> read = log.read(offset, 1, hw);
  if (!read.is_ok()) {
    if (read.code() == ErrorCode::kOffsetOutOfRange || read.code() == ErrorCode::kCorruptMessage) {
      return Found();
    }
    return read.status();
  }
  BatchCursor cursor(as_bytes(read->bytes));
  std::span<const uint8_t> batch = cursor.next();
  Result<BatchHeader> h = parse_batch_header(batch);
  if (batch.empty() || !h.is_ok() || h->base_offset > offset || h->last_offset() < offset ||
      h->is_hidden()) {
    return Found();
  }
  RecordBatchReader reader;
  std::vector<Record> records;
  if (!reader.decode(batch, &records).is_ok()) return Found();
  auto record = std::ranges::find(records, offset, &Record::offset);
  if (record == records.end()) return Found();
  QueueService::StoredMessage m;
  m.timestamp_ms = record->timestamp;
  if (record->key) m.key.emplace(*record->key);
  if (record->value) m.value.emplace(*record->value);
  for (const RecordHeader& header : record->headers) {
    m.headers.emplace_back(std::string(header.key),
                           header.value ? std::optional<std::string>(*header.value) : std::nullopt);
  }
  return Found(std::move(m));
}

template <class T>
void sort_by_offset(std::vector<T>& v) {
  std::sort(v.begin(), v.end(), [](const T& a, const T& b) { return a.offset < b.offset; });
}

}  // namespace

QueueService::QueueService(ReplicaManager& replicas, BrokerMetrics& metrics,
                           std::function<int64_t()> clock_ms)
    : replicas_(replicas),
      metrics_(metrics),
      clock_ms_(clock_ms ? std::move(clock_ms) : wall_clock_ms) {}

std::mutex& QueueService::stripe(const Partition& partition) {
  size_t h =
      std::hash<std::string>{}(partition.topic()) * 31 + static_cast<size_t>(partition.index());
  return stripes_[h % stripes_.size()];
}

QueueService::Settings QueueService::settings_for(const std::string& topic) const {
  Settings s;
  EffectiveTopicConfig defaults;
  s.max_deliveries = defaults.queue_max_deliveries;
  s.backoff_ms = defaults.queue_retry_backoff_ms;
  std::optional<TopicInfo> info = replicas_.topic(topic);
  if (!info) return s;
  // Only the two queue settings matter here: parsed from the overrides
  // directly (validated when they were set).
  if (auto it = info->configs.find("queue.max.deliveries"); it != info->configs.end()) {
    s.max_deliveries = static_cast<int32_t>(std::strtol(it->second.c_str(), nullptr, 10));
  }
  if (auto it = info->configs.find("queue.retry.backoff.ms"); it != info->configs.end()) {
    Result<std::vector<int64_t>> list = parse_backoff_list(it->first, it->second);
    if (list.is_ok()) s.backoff_ms = std::move(list).value();
  }
  return s;
}

Result<AppendResult> QueueService::append_ops(Partition& partition, const std::vector<QueueOp>& ops,
                                              uint64_t version, int32_t* epoch) {
  // Long ops are cut into records of at most kMaxItemsPerRecord items (every
  // piece of a deliver op carries its `next`: each item lies below it), and
  // the records packed into batches under the topic's max.message.bytes;
  // all of them go in one append, which the version check covers whole.
  const int64_t now = clock_ms_();
  const size_t limit = static_cast<size_t>(std::max<int32_t>(partition.log().max_batch_bytes(), 1));
  std::string batches;
  RecordBatchBuilder builder;
  builder.set_schedule_bits(kAttrQueueState);
  auto flush = [&]() -> Status {
    if (builder.empty()) return Status::ok();
    MQ_ASSIGN_OR_RETURN(std::string batch, builder.build());
    batches += batch;
    builder = RecordBatchBuilder();
    builder.set_schedule_bits(kAttrQueueState);
    return Status::ok();
  };
  for (const QueueOp& op : ops) {
    for (size_t first = 0; first == 0 || first < op.items.size(); first += kMaxItemsPerRecord) {
      QueueOp piece{.kind = op.kind, .group = op.group, .time_ms = op.time_ms, .next = op.next};
      const size_t end = std::min(op.items.size(), first + kMaxItemsPerRecord);
      piece.items.assign(op.items.begin() + static_cast<std::ptrdiff_t>(first),
                         op.items.begin() + static_cast<std::ptrdiff_t>(end));
      std::string value = encode_queue_op(piece);
      if (!builder.empty() &&
          builder.estimated_size() + value.size() + kBatchOverheadBytes > limit) {
        MQ_RETURN_IF_ERROR(flush());
      }
      builder.add(now, std::nullopt, value);
      if (end >= op.items.size()) break;
    }
  }
  MQ_RETURN_IF_ERROR(flush());
  return partition.append_as_leader(as_writable_bytes(batches), -1, epoch, true, version);
}

// ---------------------------------------------------------------- receive

QueueService::Received QueueService::receive(Partition& partition, const ReceiveArgs& args) {
  Received out;
  Log& log = partition.log();
  if (log.compacted()) {
    out.status = Status(ErrorCode::kInvalidRequest,
                        partition.topic() +
                            " is compacted (cleanup.policy compact): queue consumption needs a "
                            "log the cleaner does not rewrite");
    return out;
  }
  const Settings settings = settings_for(partition.topic());
  const auto max = static_cast<size_t>(args.max_messages);
  std::lock_guard lock(stripe(partition));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    out = Received{};
    const int64_t now = clock_ms_();
    const int64_t hw = partition.high_watermark();
    const int64_t log_start = log.log_start_offset();
    const int64_t until = now + args.invisible_ms;

    // What the group has: messages to hand out again, where new ones start.
    uint64_t version = 0;
    bool known = false;
    int64_t next = -1;
    size_t unfinished = 0;
    std::vector<std::pair<int64_t, QueueState::Entry>> again;
    std::vector<QueueOp::Item> hold;
    std::vector<QueueOp::Item> expire;
    std::unordered_set<uint32_t> busy_keys;  // ordered: keys handed out in this receive
    log.read_queue_state([&](const QueueState& state) {
      version = state.version();
      const QueueState::Group* g = state.group(args.group);
      if (g == nullptr) return;
      known = g->next >= 0;
      next = g->next;
      unfinished = g->entries().size();
      // Every due entry may have to be looked at: some are held, expired or
      // (key-ordered) behind an earlier message of their key. At most
      // kMaxUnfinished of them exist.
      g->for_each_available(now, [&](int64_t offset, const QueueState::Entry& e) {
        if (offset < log_start) {
          expire.push_back({.offset = offset});
        } else if (e.deliveries >= settings.max_deliveries) {
          hold.push_back({.offset = offset, .invisible_until = now, .available_at = kHeld});
        } else if (args.key_ordered && e.key_hash != 0 &&
                   (g->first_with_key(e.key_hash) != offset || busy_keys.contains(e.key_hash))) {
          return true;
        } else {
          if (args.key_ordered && e.key_hash != 0) busy_keys.insert(e.key_hash);
          again.emplace_back(offset, e);
        }
        return again.size() < max && expire.size() + hold.size() < kMaxItemsPerRecord * 10;
      });
    });
    std::sort(again.begin(), again.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });

    std::vector<QueueOp::Item> items;
    std::set<int64_t> batches_sent;  // base offsets of the batches in out.records
    RecordBatchReader reader;
    std::vector<Record> records;
    // The bytes that carry `run` (records of `batch`, decoded, in order): the
    // batch as stored when it is all of it, else a batch of the run alone,
    // so a consumer taking a few records of a large batch gets only those.
    auto bytes_of = [&](std::span<const uint8_t> batch, const BatchHeader& h,
                        std::span<const Record> run) -> Result<std::string> {
      if (run.size() == static_cast<size_t>(h.record_count)) {
        return std::string(reinterpret_cast<const char*>(batch.data()), batch.size());
      }
      return rebuild_records(h, run, Compression::kNone);
    };
    auto send = [&](int64_t first_offset, const std::string& bytes) {
      if (batches_sent.insert(first_offset).second) out.records += bytes;
    };

    // Messages handed out before, whose back-off has passed.
    for (const auto& [offset, e] : again) {
      // A message that cannot be read back (deleted by retention, or a
      // damaged batch) is expired: handing it out is no longer possible.
      auto unreadable = [&](const std::string& why) {
        spdlog::error("{}-{}: queue group {}: message at offset {} cannot be read ({}); dropped",
                      partition.topic(), partition.index(), args.group, offset, why);
        expire.push_back({.offset = offset});
      };
      Result<LogReadResult> read = log.read(offset, 1, hw);
      if (!read.is_ok()) {
        if (read.code() == ErrorCode::kOffsetOutOfRange ||
            read.code() == ErrorCode::kCorruptMessage) {
          unreadable(read.status().to_string());
        }
        continue;  // other errors: tried again at the next receive
      }
      BatchCursor cursor(as_bytes(read->bytes));
      std::span<const uint8_t> batch = cursor.next();
      Result<BatchHeader> h = parse_batch_header(batch);
      if (batch.empty() || !h.is_ok() || h->base_offset > offset || h->last_offset() < offset) {
        unreadable("no batch holds it");
        continue;
      }
      if (Status decoded = reader.decode(batch, &records); !decoded.is_ok()) {
        unreadable(decoded.to_string());
        continue;
      }
      auto record = std::ranges::find(records, offset, &Record::offset);
      if (record == records.end()) {
        unreadable("its batch does not hold it");
        continue;
      }
      Result<std::string> bytes = bytes_of(batch, *h, std::span(&*record, 1));
      if (!bytes.is_ok()) continue;
      if (!out.records.empty() &&
          out.records.size() + bytes->size() > static_cast<size_t>(args.max_bytes)) {
        break;  // the rest stay due for the next receive
      }
      send(offset, *bytes);
      const int32_t delivery = e.deliveries + 1;
      items.push_back({.offset = offset,
                       .deliveries = delivery,
                       .invisible_until = until,
                       .available_at = next_available(settings, delivery, until),
                       .key_hash = e.key_hash});
      out.messages.push_back({.offset = offset, .delivery = delivery});
    }

    // Messages never handed out, from `next`.
    int64_t from =
        known ? std::max(next, log_start) : (args.start == QueueStart::kLatest ? hw : log_start);
    const bool pin = !known;  // a new group's start is recorded even with nothing to hand out
    int64_t position = from;
    struct Fresh {
      int64_t offset;
      uint32_t key_hash;
    };
    std::vector<Fresh> fresh;
    bool full = false;
    while (!full && position < hw && out.messages.size() + fresh.size() < max &&
           unfinished + fresh.size() < kMaxUnfinished) {
      size_t room = static_cast<size_t>(std::max<int64_t>(
          1, static_cast<int64_t>(args.max_bytes) - static_cast<int64_t>(out.records.size())));
      Result<LogReadResult> read = log.read(position, room, hw);
      if (!read.is_ok()) {
        if (read.code() == ErrorCode::kOffsetOutOfRange) position = log.log_start_offset();
        break;
      }
      if (read->bytes.empty()) break;
      BatchCursor cursor(as_bytes(read->bytes));
      bool progressed = false;
      for (std::span<const uint8_t> batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        Result<BatchHeader> h = parse_batch_header(batch);
        if (!h.is_ok()) break;
        if (h->next_offset() <= position) continue;
        if (h->is_hidden()) {
          position = h->next_offset();
          progressed = true;
          continue;
        }
        Status decoded = reader.decode(batch, &records);
        if (!decoded.is_ok()) {
          spdlog::error("{}-{}: queue group {}: batch at offset {} unreadable, passed over: {}",
                        partition.topic(), partition.index(), args.group, h->base_offset,
                        decoded.to_string());
          position = h->next_offset();
          progressed = true;
          continue;
        }
        // The run of records to take: from `position`, as many as fit.
        size_t first = 0;
        while (first < records.size() && records[first].offset < position) first++;
        size_t end = first;
        while (end < records.size() && out.messages.size() + fresh.size() + (end - first) < max &&
               unfinished + fresh.size() + (end - first) < kMaxUnfinished) {
          end++;
        }
        const bool taken_all = end == records.size();
        if (end > first) {
          std::span<const Record> run(records.data() + first, end - first);
          Result<std::string> bytes = bytes_of(batch, *h, run);
          if (!bytes.is_ok()) break;
          if (!out.records.empty() &&
              out.records.size() + bytes->size() > static_cast<size_t>(args.max_bytes)) {
            full = true;
            break;
          }
          for (const Record& r : run) {
            fresh.push_back({r.offset, key_hash_of(r.key)});
          }
          position = run.back().offset + 1;
          send(run.front().offset, *bytes);
        }
        if (taken_all) position = h->next_offset();
        progressed = true;
        if (!taken_all) {
          full = true;
          break;
        }
      }
      if (!progressed) break;
    }

    // Ordered: a fresh message whose key has an unfinished earlier message
    // (or one handed out just now) waits: recorded as passed over.
    std::vector<bool> blocked(fresh.size(), false);
    if (args.key_ordered && !fresh.empty()) {
      log.read_queue_state([&](const QueueState& state) {
        if (state.version() != version) return;  // the append below is refused anyway
        const QueueState::Group* g = state.group(args.group);
        for (size_t i = 0; i < fresh.size(); ++i) {
          uint32_t k = fresh[i].key_hash;
          if (k == 0) continue;
          if ((g != nullptr && g->first_with_key(k)) || busy_keys.contains(k)) {
            blocked[i] = true;
          } else {
            busy_keys.insert(k);
          }
        }
      });
    }
    for (size_t i = 0; i < fresh.size(); ++i) {
      if (blocked[i]) {
        items.push_back({.offset = fresh[i].offset, .key_hash = fresh[i].key_hash});
        continue;
      }
      items.push_back({.offset = fresh[i].offset,
                       .deliveries = 1,
                       .invisible_until = until,
                       .available_at = next_available(settings, 1, until),
                       .key_hash = fresh[i].key_hash});
      out.messages.push_back({.offset = fresh[i].offset, .delivery = 1});
    }
    sort_by_offset(items);
    sort_by_offset(out.messages);
    sort_by_offset(hold);
    sort_by_offset(expire);
    expire.erase(std::unique(expire.begin(), expire.end(),
                             [](const auto& a, const auto& b) { return a.offset == b.offset; }),
                 expire.end());

    const size_t held = hold.size();
    std::vector<QueueOp> ops;
    if (!expire.empty()) {
      ops.push_back({.kind = QueueOp::Kind::kExpire,
                     .group = args.group,
                     .time_ms = now,
                     .items = std::move(expire)});
    }
    if (!hold.empty()) {
      ops.push_back({.kind = QueueOp::Kind::kExtend,
                     .group = args.group,
                     .time_ms = now,
                     .items = std::move(hold)});
    }
    // A new position alone is recorded for a new group, and after passing
    // many offsets of hidden batches (not after every few: an idle group
    // would write a record per receive, which the next receive passes over).
    const bool record_position = pin ? position != next : position - from >= kRecordSkipAfter;
    if (!items.empty() || record_position) {
      ops.push_back({.kind = QueueOp::Kind::kDeliver,
                     .group = args.group,
                     .time_ms = now,
                     .next = position,
                     .items = std::move(items)});
    }
    out.invisible_until_ms = until;
    out.backlog = std::max<int64_t>(0, hw - position);
    if (ops.empty()) return out;
    Result<AppendResult> appended = append_ops(partition, ops, version, &out.epoch);
    if (!appended.is_ok()) {
      if (appended.code() == ErrorCode::kFencedLeaderEpoch) continue;  // decided on an old state
      Received failed;
      failed.status = appended.status();
      return failed;
    }
    out.last_offset = appended->last_offset;
    uint64_t again_count = 0;
    for (const auto& m : out.messages) again_count += m.delivery > 1 ? 1 : 0;
    metrics_.add_queue_delivered(partition.topic(), out.messages.size(), again_count);
    if (held > 0) metrics_.add_queue_held(partition.topic(), held);
    return out;
  }
  Received busy;
  busy.status =
      Status(ErrorCode::kRequestTimedOut, "the group's state kept changing; receive again");
  return busy;
}

// ---------------------------------------------------------------- ack

QueueService::Acked QueueService::ack(Partition& partition, const std::string& group,
                                      const std::vector<AckMessage>& messages) {
  Acked out;
  const Settings settings = settings_for(partition.topic());
  std::lock_guard lock(stripe(partition));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    out = Acked{};
    out.results.assign(messages.size(), ErrorCode::kNone);
    const int64_t now = clock_ms_();
    uint64_t version = 0;
    std::vector<QueueOp::Item> acks;
    std::vector<QueueOp::Item> releases;
    std::vector<QueueOp::Item> extends;
    std::vector<int64_t> ack_latencies_ms;
    std::vector<QueueOp::Item> redrives;
    std::vector<size_t> redrives_to_read;  // indexes of messages without an entry
    size_t held = 0;
    const int64_t log_start = partition.log().log_start_offset();
    partition.log().read_queue_state([&](const QueueState& state) {
      version = state.version();
      const QueueState::Group* g = state.group(group);
      std::unordered_set<int64_t> seen;
      for (size_t i = 0; i < messages.size(); ++i) {
        const AckMessage& m = messages[i];
        const QueueState::Entry* e = g == nullptr ? nullptr : g->entry(m.offset);
        if (!seen.insert(m.offset).second) {
          out.results[i] = ErrorCode::kInvalidRequest;  // named twice
          continue;
        }
        if (m.action == AckAction::kRedrive) {
          // Put back a message the group was handed before: handed out
          // again as a first delivery. One still pending is left as it is.
          if (m.offset < log_start) {
            out.results[i] = ErrorCode::kOffsetOutOfRange;
          } else if (g == nullptr || m.offset >= g->next) {
            out.results[i] = ErrorCode::kNotFound;
          } else if (e != nullptr &&
                     (e->invisible_until > now ||
                      (e->available_at < kHeld && e->deliveries < settings.max_deliveries))) {
            continue;  // pending (in flight, or waiting for a retry): nothing to do
          } else if (e != nullptr) {
            redrives.push_back({.offset = m.offset, .available_at = now, .key_hash = e->key_hash});
            out.appended_for.push_back(i);
          } else {
            redrives_to_read.push_back(i);
          }
          continue;
        }
        if (e == nullptr || e->deliveries == 0) {
          out.results[i] = ErrorCode::kNotFound;
          continue;
        }
        if (e->deliveries != m.delivery) {
          out.results[i] = ErrorCode::kIllegalGeneration;
          continue;
        }
        // Its invisible time passed, or it was given back: that delivery is over.
        if (e->invisible_until <= now) {
          out.results[i] = ErrorCode::kNotFound;
          continue;
        }
        switch (m.action) {
          case AckAction::kAck:
            acks.push_back({.offset = m.offset});
            ack_latencies_ms.push_back(now - e->delivered_at);
            break;
          case AckAction::kNack: {
            // Given back on its last delivery: held at once.
            int64_t at = e->deliveries >= settings.max_deliveries ? kHeld
                         : m.delay_ms < 0 ? next_available(settings, e->deliveries, now)
                                          : now + m.delay_ms;
            held += at == kHeld ? 1 : 0;
            releases.push_back({.offset = m.offset, .available_at = at});
            break;
          }
          case AckAction::kRedrive:
            continue;  // answered above
          case AckAction::kChangeInvisible: {
            int64_t until = now + m.delay_ms;
            extends.push_back({.offset = m.offset,
                               .invisible_until = until,
                               .available_at = next_available(settings, e->deliveries, until)});
            break;
          }
        }
        out.appended_for.push_back(i);
      }
    });
    // A redriven message the group finished (acked, dead-lettered): read
    // back for its key (and to know it is a message at all).
    for (size_t i : redrives_to_read) {
      Result<std::optional<StoredMessage>> m =
          read_message(partition.log(), messages[i].offset, partition.high_watermark());
      if (!m.is_ok()) {
        out.results[i] = m.code();
      } else if (!m->has_value()) {
        out.results[i] = ErrorCode::kNotFound;
      } else {
        const std::optional<std::string>& key = (*m)->key;
        redrives.push_back(
            {.offset = messages[i].offset,
             .available_at = now,
             .key_hash = key_hash_of(key ? std::optional<std::string_view>(*key) : std::nullopt)});
        out.appended_for.push_back(i);
      }
    }
    std::sort(out.appended_for.begin(), out.appended_for.end());
    std::vector<QueueOp> ops;
    auto add = [&](QueueOp::Kind kind, std::vector<QueueOp::Item>& items) {
      if (items.empty()) return;
      sort_by_offset(items);
      ops.push_back({.kind = kind, .group = group, .time_ms = now, .items = std::move(items)});
    };
    const size_t releases_count = releases.size();
    const size_t redriven = redrives.size();
    add(QueueOp::Kind::kAck, acks);
    add(QueueOp::Kind::kRelease, releases);
    add(QueueOp::Kind::kExtend, extends);
    // Put back as passed over (deliveries 0, available now); `next` unchanged.
    add(QueueOp::Kind::kDeliver, redrives);
    if (ops.empty()) return out;
    Result<AppendResult> appended = append_ops(partition, ops, version, &out.epoch);
    if (!appended.is_ok()) {
      if (appended.code() == ErrorCode::kFencedLeaderEpoch) continue;
      Acked failed;
      failed.status = appended.status();
      return failed;
    }
    out.last_offset = appended->last_offset;
    const size_t nacked = releases_count;
    metrics_.add_queue_settled(partition.topic(), ack_latencies_ms.size(), nacked);
    if (redriven > 0) metrics_.add_queue_redriven(partition.topic(), redriven);
    if (held > 0) metrics_.add_queue_held(partition.topic(), held);
    for (int64_t ms : ack_latencies_ms) {
      metrics_.observe_queue_ack_latency(static_cast<double>(std::max<int64_t>(ms, 0)) / 1000.0);
    }
    return out;
  }
  Acked busy;
  busy.status = Status(ErrorCode::kRequestTimedOut, "the group's state kept changing; ack again");
  return busy;
}

// ---------------------------------------------------------------- dead letters

Result<std::vector<QueueService::DeadLetter>> QueueService::dead_letters(Partition& partition,
                                                                         size_t limit) {
  std::vector<DeadLetter> out;
  if (!partition.is_leader()) return out;
  const Settings settings = settings_for(partition.topic());
  const int64_t now = clock_ms_();
  Log& log = partition.log();
  // Entries due again are visited at most this many per group and pass:
  // the ones past their last delivery are rare among them.
  constexpr size_t kMaxVisited = 10000;
  // The state as of this log end: only once every op behind it is committed
  // is it what any next leader has too (an op a new leader lacks, a last
  // delivery, say, must not send a message to the dead-letter topic).
  int64_t state_end = 0;
  log.read_queue_state([&](const QueueState& state) {
    state_end = log.log_end_offset();
    for (const auto& [id, g] : state.groups()) {
      if (out.size() >= limit) return;
      size_t visited = 0;
      g.for_each_available(now, [&](int64_t offset, const QueueState::Entry& e) {
        if (e.deliveries >= settings.max_deliveries && e.invisible_until <= now) {
          out.push_back({.group = id, .offset = offset, .entry = e});
        }
        return ++visited < kMaxVisited && out.size() < limit;
      });
      g.for_each_held([&](int64_t offset, const QueueState::Entry& e) {
        out.push_back({.group = id, .offset = offset, .entry = e});
        return out.size() < limit;
      });
    }
  });
  const int64_t hw = partition.high_watermark();
  if (hw < state_end) return std::vector<DeadLetter>();  // next pass
  for (DeadLetter& letter : out) {
    MQ_ASSIGN_OR_RETURN(letter.message, read_message(log, letter.offset, hw));
  }
  return out;
}

Result<QueueService::Finished> QueueService::finish_dead(Partition& partition,
                                                         const std::vector<DeadLetter>& letters) {
  const Settings settings = settings_for(partition.topic());
  std::lock_guard lock(stripe(partition));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Finished out;
    const int64_t now = clock_ms_();
    uint64_t version = 0;
    std::map<std::string, std::pair<std::vector<QueueOp::Item>, std::vector<QueueOp::Item>>> items;
    partition.log().read_queue_state([&](const QueueState& state) {
      version = state.version();
      for (const DeadLetter& letter : letters) {
        const QueueState::Group* g = state.group(letter.group);
        const QueueState::Entry* e = g == nullptr ? nullptr : g->entry(letter.offset);
        // Still the delivery it was read at, and still past its last one.
        if (e == nullptr || e->deliveries != letter.entry.deliveries ||
            e->delivered_at != letter.entry.delivered_at ||
            (e->available_at < kHeld &&
             (e->deliveries < settings.max_deliveries || e->invisible_until > now))) {
          continue;
        }
        auto& [dead, expired] = items[letter.group];
        (letter.message ? dead : expired).push_back({.offset = letter.offset});
      }
    });
    std::vector<QueueOp> ops;
    for (auto& [group, lists] : items) {
      auto& [dead, expired] = lists;
      out.dead += dead.size();
      out.expired += expired.size();
      if (!dead.empty()) {
        sort_by_offset(dead);
        ops.push_back({.kind = QueueOp::Kind::kDead,
                       .group = group,
                       .time_ms = now,
                       .items = std::move(dead)});
      }
      if (!expired.empty()) {
        sort_by_offset(expired);
        ops.push_back({.kind = QueueOp::Kind::kExpire,
                       .group = group,
                       .time_ms = now,
                       .items = std::move(expired)});
      }
    }
    if (ops.empty()) return out;
    int32_t epoch = 0;
    Result<AppendResult> appended = append_ops(partition, ops, version, &epoch);
    if (!appended.is_ok()) {
      if (appended.code() == ErrorCode::kFencedLeaderEpoch) continue;
      return appended.status();
    }
    if (out.dead > 0) metrics_.add_queue_dead_lettered(partition.topic(), out.dead);
    return out;
  }
  return Status(ErrorCode::kRequestTimedOut, "the group's state kept changing");
}

}  // namespace mq::broker
