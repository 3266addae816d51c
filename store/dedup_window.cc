#include "store/dedup_window.h"

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

std::optional<int64_t> DedupWindow::find(std::string_view id) const {
  auto it = ids_.find(std::string(id));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

void DedupWindow::add(std::string_view id, int64_t offset, int64_t time_ms) {
  auto [it, inserted] = ids_.try_emplace(std::string(id), offset);
  if (!inserted) it->second = offset;
  order_.push_back({&it->first, offset, time_ms});
}

void DedupWindow::expire(int64_t now_ms, int64_t window_ms) {
  while (!order_.empty() && order_.front().time_ms < now_ms - window_ms) {
    const Entry& e = order_.front();
    // An id added again later stays for its later entry.
    auto it = ids_.find(*e.id);
    if (it != ids_.end() && it->second == e.offset) ids_.erase(it);
    order_.pop_front();
  }
}

void DedupWindow::truncate_from(int64_t offset) {
  while (!order_.empty() && order_.back().offset >= offset) {
    const Entry& e = order_.back();
    auto it = ids_.find(*e.id);
    if (it != ids_.end() && it->second == e.offset) ids_.erase(it);
    order_.pop_back();
  }
  // An id whose later entry was cut may still have an earlier one below
  // `offset`: it is remembered there again.
  for (const Entry& e : order_) {
    if (!ids_.contains(*e.id)) ids_.emplace(*e.id, e.offset);
  }
}

void DedupWindow::clear() {
  order_.clear();
  ids_.clear();
}

std::vector<DedupEntry> DedupWindow::entries() const {
  std::vector<DedupEntry> out;
  out.reserve(ids_.size());
  for (const Entry& e : order_) {
    auto it = ids_.find(*e.id);
    if (it != ids_.end() && it->second == e.offset) out.push_back({*e.id, e.offset, e.time_ms});
  }
  return out;
}

Status DedupWindow::write_snapshot(const std::string& path, int64_t offset) const {
  return write_checkpoint(path, kDedupSnapshotKind, kDedupSnapshotVersion, snapshot_lines(offset));
}

std::vector<std::string> DedupWindow::snapshot_lines(int64_t offset) const {
  std::vector<std::string> lines;
  lines.reserve(ids_.size() + 1);
  lines.push_back("offset " + std::to_string(offset));
  for (const DedupEntry& e : entries()) {
    lines.push_back(std::to_string(e.offset) + " " + std::to_string(e.time_ms) + " " +
                    to_hex(e.id));
  }
  return lines;
}

Result<int64_t> DedupWindow::load_snapshot(const std::string& path) {
  clear();
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> lines,
                      read_checkpoint(path, kDedupSnapshotKind, kDedupSnapshotVersion));
  auto bad = [&](const std::string& line) {
    clear();
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  if (lines.empty()) return bad("");
  int64_t covered = -1;
  {
    std::istringstream in(lines[0]);
    std::string word;
    if (!(in >> word >> covered) || word != "offset" || covered < 0) return bad(lines[0]);
  }
  int64_t previous = -1;
  for (size_t i = 1; i < lines.size(); i++) {
    std::istringstream in(lines[i]);
    int64_t offset, time_ms;
    std::string hex, rest;
    if (!(in >> offset >> time_ms >> hex) || (in >> rest) || offset < previous ||
        offset >= covered) {
      return bad(lines[i]);
    }
    std::optional<std::string> id = from_hex(hex);
    if (!id) return bad(lines[i]);
    add(*id, offset, time_ms);
    previous = offset;
  }
  return covered;
}

}  // namespace mq
