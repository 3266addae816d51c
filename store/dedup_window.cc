#include "store/dedup_window.h"

#include <algorithm>
#include <functional>
#include <sstream>

#include "store/checkpoint.h"

namespace mq {
namespace {

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = hex_value(hex[i]);
    int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high << 4 | low));
  }
  return out;
}

}  // namespace

uint64_t DedupWindow::hash_of(std::string_view id) {
  // Never 0 would not matter (slots mark emptiness by `entry`); std::hash
  // of a string view is a 64-bit hash of every byte.
  return std::hash<std::string_view>{}(id);
}

size_t DedupWindow::probe(std::string_view id, uint64_t hash) const {
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.entry == 0) return i;
    if (slot.hash == hash && entry(slot.entry - 1).id == id) return i;
  }
}

std::optional<int64_t> DedupWindow::find(std::string_view id) const {
  if (live_ == 0) return std::nullopt;
  const Slot& slot = slots_[probe(id, hash_of(id))];
  if (slot.entry == 0) return std::nullopt;
  return entry(slot.entry - 1).offset;
}

void DedupWindow::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<size_t>(64, old.size() * 2), Slot{});
  for (const Slot& slot : old) {
    if (slot.entry != 0) insert_slot(slot.hash, slot.entry - 1);
  }
}

void DedupWindow::insert_slot(uint64_t hash, uint64_t sequence) {
  size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].entry != 0) i = (i + 1) & mask;
  slots_[i] = Slot{hash, sequence + 1};
}

void DedupWindow::erase_slot(size_t slot) {
  size_t mask = slots_.size() - 1;
  size_t hole = slot;
  for (size_t j = (hole + 1) & mask; slots_[j].entry != 0; j = (j + 1) & mask) {
    size_t home = slots_[j].hash & mask;
    // Slot j may move back into the hole when its home is not in (hole, j].
    bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (stays) continue;
    slots_[hole] = slots_[j];
    hole = j;
  }
  slots_[hole] = Slot{};
}

void DedupWindow::forget(uint64_t sequence) {
  Entry& e = entry(sequence);
  if (!e.live) return;
  size_t slot = probe(e.id, e.hash);
  erase_slot(slot);
  e.live = false;
  --live_;
}

void DedupWindow::add(std::string_view id, int64_t offset, int64_t time_ms) {
  if ((live_ + 1) * 2 > slots_.size()) grow();
  uint64_t hash = hash_of(id);
  uint64_t sequence = front_sequence_ + order_.size();
  order_.push_back(Entry{std::string(id), offset, time_ms, hash, true});
  size_t slot = probe(id, hash);
  if (slots_[slot].entry != 0) {
    entry(slots_[slot].entry - 1).live = false;  // replaced by the later entry
    slots_[slot].entry = sequence + 1;
    return;
  }
  slots_[slot] = Slot{hash, sequence + 1};
  ++live_;
}

void DedupWindow::expire(int64_t now_ms, int64_t window_ms) {
  while (!order_.empty() && order_.front().time_ms < now_ms - window_ms) {
    forget(front_sequence_);
    order_.pop_front();
    ++front_sequence_;
  }
}

void DedupWindow::truncate_from(int64_t offset) {
  bool cut = false;
  while (!order_.empty() && order_.back().offset >= offset) {
    forget(front_sequence_ + order_.size() - 1);
    order_.pop_back();
    cut = true;
  }
  if (!cut) return;
  // An id whose later entry was cut may have an earlier one below `offset`:
  // the latest of those is live again.
  for (size_t i = order_.size(); i-- > 0;) {
    Entry& e = order_[i];
    if (e.live || slots_.empty()) continue;
    size_t slot = probe(e.id, e.hash);
    if (slots_[slot].entry != 0) continue;  // a later entry of the id is live
    if ((live_ + 1) * 2 > slots_.size()) {
      grow();
      slot = probe(e.id, e.hash);
    }
    slots_[slot] = Slot{e.hash, front_sequence_ + i + 1};
    e.live = true;
    ++live_;
  }
}

void DedupWindow::clear() {
  order_.clear();
  slots_.clear();
  front_sequence_ = 0;
  live_ = 0;
}

std::vector<DedupEntry> DedupWindow::entries() const {
  std::vector<DedupEntry> out;
  out.reserve(live_);
  for (const Entry& e : order_) {
    if (e.live) out.push_back({e.id, e.offset, e.time_ms});
  }
  return out;
}

Status DedupWindow::write_snapshot(const std::string& path, Covered covered) const {
  return write_checkpoint(path, kDedupSnapshotKind, kDedupSnapshotVersion, snapshot_lines(covered));
}

std::vector<std::string> DedupWindow::snapshot_lines(Covered covered) const {
  std::vector<std::string> lines;
  lines.reserve(live_ + 1);
  lines.push_back(coverage_line(covered));
  for (const DedupEntry& e : entries()) {
    lines.push_back(std::to_string(e.offset) + " " + std::to_string(e.time_ms) + " " +
                    to_hex(e.id));
  }
  return lines;
}

Result<DedupWindow::Covered> DedupWindow::load_snapshot(const std::string& path) {
  clear();
  MQ_ASSIGN_OR_RETURN(SnapshotCheckpoint snapshot,
                      read_snapshot_checkpoint(path, kDedupSnapshotKind, kDedupSnapshotVersion));
  const Covered covered = snapshot.coverage;
  auto bad = [&](const std::string& line) {
    clear();
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  int64_t previous = -1;
  for (const std::string& line : snapshot.body) {
    std::istringstream in(line);
    int64_t offset, time_ms;
    std::string hex, rest;
    if (!(in >> offset >> time_ms >> hex) || (in >> rest) || offset < previous ||
        offset >= covered.offset) {
      return bad(line);
    }
    std::optional<std::string> id = from_hex(hex);
    if (!id) return bad(line);
    add(*id, offset, time_ms);
    previous = offset;
  }
  return covered;
}

}  // namespace mq
