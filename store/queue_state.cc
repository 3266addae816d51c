// QueueState and the encoding of its records; see queue_state.h.
#include "store/queue_state.h"

#include <sstream>

#include "store/coding.h"

namespace mq {

using coding::append_varint;
using coding::read_varint;

namespace {

constexpr int8_t kQueueOpVersion = 0;
constexpr size_t kMaxQueueOpItems = 1 << 20;

bool has_times(QueueOp::Kind kind) {
  return kind == QueueOp::Kind::kDeliver || kind == QueueOp::Kind::kExtend;
}
bool has_available(QueueOp::Kind kind) {
  return has_times(kind) || kind == QueueOp::Kind::kRelease;
}

}  // namespace

std::string_view queue_op_kind_name(QueueOp::Kind kind) {
  switch (kind) {
    case QueueOp::Kind::kDeliver:
      return "deliver";
    case QueueOp::Kind::kAck:
      return "ack";
    case QueueOp::Kind::kRelease:
      return "release";
    case QueueOp::Kind::kExtend:
      return "extend";
    case QueueOp::Kind::kDead:
      return "dead";
    case QueueOp::Kind::kExpire:
      return "expire";
  }
  return "unknown";
}

std::string encode_queue_op(const QueueOp& op) {
  std::string out;
  out.reserve(16 + op.group.size() + op.items.size() * (has_times(op.kind) ? 16 : 3));
  out.push_back(static_cast<char>(kQueueOpVersion));
  out.push_back(static_cast<char>(op.kind));
  append_varint(out, static_cast<int64_t>(op.group.size()));
  out.append(op.group);
  append_varint(out, op.time_ms);
  append_varint(out, op.next);
  append_varint(out, static_cast<int64_t>(op.items.size()));
  int64_t previous = 0;
  for (const QueueOp::Item& item : op.items) {
    append_varint(out, item.offset - previous);
    previous = item.offset;
    if (op.kind == QueueOp::Kind::kDeliver) append_varint(out, item.deliveries);
    if (has_times(op.kind)) append_varint(out, item.invisible_until - op.time_ms);
    if (has_available(op.kind)) append_varint(out, item.available_at - op.time_ms);
    if (op.kind == QueueOp::Kind::kDeliver) append_varint(out, item.key_hash);
  }
  return out;
}

Result<QueueOp> decode_queue_op(std::span<const uint8_t> value) {
  auto corrupt = [](const std::string& what) {
    return Status(ErrorCode::kCorruptMessage, "queue-state record: " + what);
  };
  if (value.size() < 2) return corrupt("shorter than its version and kind");
  if (static_cast<int8_t>(value[0]) != kQueueOpVersion) {
    return corrupt("unknown version " + std::to_string(static_cast<int8_t>(value[0])));
  }
  QueueOp op;
  const uint8_t kind = value[1];
  if (kind < 1 || kind > 6) return corrupt("unknown kind " + std::to_string(kind));
  op.kind = static_cast<QueueOp::Kind>(kind);
  const uint8_t* p = value.data() + 2;
  const uint8_t* end = value.data() + value.size();
  int64_t length = 0;
  if (!read_varint(&p, end, &length) || length < 1 ||
      length > static_cast<int64_t>(kMaxQueueGroupBytes) || end - p < length) {
    return corrupt("bad group length");
  }
  op.group.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(length));
  p += length;
  int64_t count = 0;
  if (!read_varint(&p, end, &op.time_ms) || !read_varint(&p, end, &op.next) ||
      !read_varint(&p, end, &count)) {
    return corrupt("truncated");
  }
  if (op.time_ms < 0 || op.next < -1) return corrupt("negative time or next offset");
  if (count < 0 || count > static_cast<int64_t>(kMaxQueueOpItems)) {
    return corrupt("bad item count " + std::to_string(count));
  }
  op.items.resize(static_cast<size_t>(count));
  int64_t previous = 0;
  for (size_t i = 0; i < op.items.size(); ++i) {
    QueueOp::Item& item = op.items[i];
    int64_t delta = 0;
    if (!read_varint(&p, end, &delta)) return corrupt("truncated item");
    if (delta < (i == 0 ? 0 : 1)) return corrupt("offsets not increasing");
    item.offset = previous + delta;
    previous = item.offset;
    int64_t v = 0;
    if (op.kind == QueueOp::Kind::kDeliver) {
      if (!read_varint(&p, end, &v)) return corrupt("truncated item");
      if (v < 0 || v > INT32_MAX) return corrupt("bad deliveries " + std::to_string(v));
      item.deliveries = static_cast<int32_t>(v);
    }
    if (has_times(op.kind)) {
      if (!read_varint(&p, end, &v)) return corrupt("truncated item");
      item.invisible_until = op.time_ms + v;
    }
    if (has_available(op.kind)) {
      if (!read_varint(&p, end, &v)) return corrupt("truncated item");
      item.available_at = op.time_ms + v;
    }
    if (op.kind == QueueOp::Kind::kDeliver) {
      if (!read_varint(&p, end, &v)) return corrupt("truncated item");
      if (v < 0 || v > UINT32_MAX) return corrupt("bad key hash " + std::to_string(v));
      item.key_hash = static_cast<uint32_t>(v);
    }
  }
  if (p != end) return corrupt(std::to_string(end - p) + " bytes after the last item");
  if (op.kind == QueueOp::Kind::kDeliver && op.next >= 0 && !op.items.empty() &&
      op.items.back().offset >= op.next) {
    return corrupt("an item at or past the new next offset");
  }
  return op;
}

// ---------------------------------------------------------------- group

const QueueState::Entry* QueueState::Group::entry(int64_t offset) const {
  auto it = entries_.find(offset);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::pair<int64_t, QueueState::Entry>> QueueState::Group::available(
    int64_t now_ms, size_t limit) const {
  std::vector<std::pair<int64_t, Entry>> out;
  if (limit == 0) return out;
  for_each_available(now_ms, [&](int64_t offset, const Entry& e) {
    out.emplace_back(offset, e);
    return out.size() < limit;
  });
  return out;
}

void QueueState::Group::for_each_available(
    int64_t now_ms, const std::function<bool(int64_t, const Entry&)>& visit) const {
  for (auto it = by_available_.begin(); it != by_available_.end(); ++it) {
    if (it->first > now_ms || !visit(it->second, entries_.at(it->second))) break;
  }
}

void QueueState::Group::for_each_held(
    const std::function<bool(int64_t, const Entry&)>& visit) const {
  for (auto it = by_available_.lower_bound({kHeldAt, INT64_MIN}); it != by_available_.end(); ++it) {
    if (!visit(it->second, entries_.at(it->second))) break;
  }
}

std::optional<int64_t> QueueState::Group::first_with_key(uint32_t key_hash) const {
  if (key_hash == 0) return std::nullopt;
  auto it = by_key_.find(key_hash);
  if (it == by_key_.end() || it->second.empty()) return std::nullopt;
  return *it->second.begin();
}

QueueState::Group::Counts QueueState::Group::counts(int64_t now_ms) const {
  Counts c;
  for (const auto& [offset, e] : entries_) {
    if (e.invisible_until > now_ms) {
      c.in_flight++;
    } else if (e.available_at >= kHeldAt) {
      c.held++;
    } else {
      c.waiting++;
    }
  }
  return c;
}

void QueueState::Group::put(int64_t offset, const Entry& entry) {
  erase(offset);
  entries_.emplace(offset, entry);
  by_available_.insert({entry.available_at, offset});
  if (entry.key_hash != 0 && entry.available_at < kHeldAt) by_key_[entry.key_hash].insert(offset);
}

bool QueueState::Group::erase(int64_t offset) {
  auto it = entries_.find(offset);
  if (it == entries_.end()) return false;
  by_available_.erase({it->second.available_at, offset});
  if (auto k = by_key_.find(it->second.key_hash); k != by_key_.end()) {
    k->second.erase(offset);
    if (k->second.empty()) by_key_.erase(k);
  }
  entries_.erase(it);
  return true;
}

size_t QueueState::Group::erase_below(int64_t offset) {
  size_t n = 0;
  while (!entries_.empty() && entries_.begin()->first < offset) {
    erase(entries_.begin()->first);
    n++;
  }
  return n;
}

// ---------------------------------------------------------------- state

void QueueState::apply(const QueueOp& op) {
  version_++;
  Group& g = groups_[op.group];
  switch (op.kind) {
    case QueueOp::Kind::kDeliver:
      for (const QueueOp::Item& item : op.items) {
        g.put(item.offset, {.deliveries = item.deliveries,
                            .invisible_until = item.invisible_until,
                            .available_at = item.available_at,
                            .key_hash = item.key_hash,
                            .delivered_at = item.deliveries > 0 ? op.time_ms : 0});
      }
      if (op.next > g.next) g.next = op.next;
      break;
    case QueueOp::Kind::kAck:
    case QueueOp::Kind::kDead:
    case QueueOp::Kind::kExpire:
      for (const QueueOp::Item& item : op.items) g.erase(item.offset);
      break;
    case QueueOp::Kind::kRelease:
      for (const QueueOp::Item& item : op.items) {
        const Entry* e = g.entry(item.offset);
        if (e == nullptr) continue;
        Entry changed = *e;
        changed.invisible_until = std::min(changed.invisible_until, op.time_ms);
        changed.available_at = item.available_at;
        g.put(item.offset, changed);
      }
      break;
    case QueueOp::Kind::kExtend:
      for (const QueueOp::Item& item : op.items) {
        const Entry* e = g.entry(item.offset);
        if (e == nullptr) continue;
        Entry changed = *e;
        changed.invisible_until = item.invisible_until;
        changed.available_at = item.available_at;
        g.put(item.offset, changed);
      }
      break;
  }
}

size_t QueueState::drop_below(int64_t log_start) {
  size_t dropped = 0;
  for (auto& [id, g] : groups_) {
    dropped += g.erase_below(log_start);
    if (g.next >= 0 && g.next < log_start) g.next = log_start;
  }
  if (dropped > 0) version_++;
  return dropped;
}

void QueueState::clear() {
  groups_.clear();
  version_++;
}

const QueueState::Group* QueueState::group(std::string_view id) const {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

size_t QueueState::entry_count() const {
  size_t n = 0;
  for (const auto& [id, g] : groups_) n += g.entries().size();
  return n;
}

// ---------------------------------------------------------------- snapshot
//
//   offset O epoch E
//   group NEXT NAME                 (NAME: the rest of the line)
//   OFFSET DELIVERIES INVISIBLE_UNTIL AVAILABLE_AT KEY_HASH DELIVERED_AT   (its entries)

std::vector<std::string> QueueState::snapshot_lines(Covered covered, const Groups& groups) {
  std::vector<std::string> lines;
  lines.push_back(coverage_line(covered));
  for (const auto& [id, g] : groups) {
    lines.push_back("group " + std::to_string(g.next) + " " + id);
    for (const auto& [offset, e] : g.entries()) {
      lines.push_back(std::to_string(offset) + " " + std::to_string(e.deliveries) + " " +
                      std::to_string(e.invisible_until) + " " + std::to_string(e.available_at) +
                      " " + std::to_string(e.key_hash) + " " + std::to_string(e.delivered_at));
    }
  }
  return lines;
}

Result<QueueState::Covered> QueueState::load_snapshot(const std::string& path) {
  clear();
  MQ_ASSIGN_OR_RETURN(SnapshotCheckpoint snapshot,
                      read_snapshot_checkpoint(path, kQueueSnapshotKind, kQueueSnapshotVersion));
  auto bad = [&](const std::string& line) {
    clear();
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  Group* current = nullptr;
  int64_t last = -1;
  for (const std::string& line : snapshot.body) {
    std::istringstream in(line);
    std::string rest;
    if (line.starts_with("group ")) {
      int64_t next = -1;
      in >> rest;
      if (!(in >> next) || next < -1 || next > snapshot.coverage.offset || in.get() != ' ') {
        return bad(line);
      }
      std::string name;
      std::getline(in, name);
      if (name.empty() || name.size() > kMaxQueueGroupBytes || groups_.contains(name)) {
        return bad(line);
      }
      current = &groups_[name];
      current->next = next;
      last = -1;
      continue;
    }
    Entry e;
    int64_t offset = -1;
    int64_t hash = -1;
    if (current == nullptr ||
        !(in >> offset >> e.deliveries >> e.invisible_until >> e.available_at >> hash >>
          e.delivered_at) ||
        (in >> rest) || offset <= last || offset >= current->next || e.deliveries < 0 || hash < 0 ||
        hash > UINT32_MAX) {
      return bad(line);
    }
    e.key_hash = static_cast<uint32_t>(hash);
    current->put(offset, e);
    last = offset;
  }
  version_++;
  return snapshot.coverage;
}

}  // namespace mq
