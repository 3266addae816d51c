// LeaderEpochCache: epoch -> start offset, kept consistent with the log.
#include "store/leader_epoch_cache.h"

#include <cinttypes>
#include <cstdio>

#include "store/checkpoint.h"

namespace mq {
namespace {
constexpr std::string_view kEpochsKind = "mq-leader-epochs";
constexpr int kEpochsVersion = 1;
}  // namespace

Status LeaderEpochCache::load() {
  std::lock_guard lock(mu_);
  entries_.clear();
  Result<std::vector<std::string>> lines = read_checkpoint(path_, kEpochsKind, kEpochsVersion);
  if (lines.code() == ErrorCode::kNotFound) return Status::ok();
  if (!lines.is_ok()) return lines.status();
  for (const auto& line : *lines) {
    EpochEntry e{};
    char extra;
    if (std::sscanf(line.c_str(), "%" SCNd32 " %" SCNd64 " %c", &e.epoch, &e.start_offset,
                    &extra) != 2 ||
        e.epoch < 0 || e.start_offset < 0 ||
        (!entries_.empty() &&
         (e.epoch <= entries_.back().epoch || e.start_offset < entries_.back().start_offset))) {
      entries_.clear();
      return Status(ErrorCode::kCorruptMessage, path_ + ": bad entry '" + line + "'");
    }
    entries_.push_back(e);
  }
  return Status::ok();
}

Status LeaderEpochCache::assign(int32_t epoch, int64_t start_offset) {
  std::lock_guard lock(mu_);
  if (epoch < 0) return Status::ok();
  if (!entries_.empty() && entries_.back().epoch == epoch) return Status::ok();
  if (!entries_.empty() && entries_.back().epoch > epoch) {
    // An older epoch appended after a newer one means the newer ones were
    // never committed here; drop them, as a truncation would have.
    while (!entries_.empty() &&
           (entries_.back().epoch >= epoch || entries_.back().start_offset >= start_offset)) {
      entries_.pop_back();
    }
  }
  while (!entries_.empty() && entries_.back().start_offset > start_offset) entries_.pop_back();
  entries_.push_back({epoch, start_offset});
  return persist_locked();
}

Status LeaderEpochCache::truncate_from_end(int64_t end_offset) {
  std::lock_guard lock(mu_);
  size_t before = entries_.size();
  while (!entries_.empty() && entries_.back().start_offset >= end_offset) entries_.pop_back();
  return entries_.size() == before ? Status::ok() : persist_locked();
}

Status LeaderEpochCache::truncate_from_start(int64_t start_offset) {
  std::lock_guard lock(mu_);
  size_t drop = 0;
  while (drop + 1 < entries_.size() && entries_[drop + 1].start_offset <= start_offset) drop++;
  bool changed = drop > 0;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  if (!entries_.empty() && entries_.front().start_offset < start_offset) {
    entries_.front().start_offset = start_offset;
    changed = true;
  }
  return changed ? persist_locked() : Status::ok();
}

Status LeaderEpochCache::clear() {
  std::lock_guard lock(mu_);
  entries_.clear();
  return persist_locked();
}

std::optional<EpochEntry> LeaderEpochCache::latest() const {
  std::lock_guard lock(mu_);
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::optional<EpochEntry> LeaderEpochCache::end_offset_for(int32_t epoch,
                                                           int64_t log_end_offset) const {
  std::lock_guard lock(mu_);
  if (epoch < 0 || entries_.empty()) return std::nullopt;
  for (size_t i = entries_.size(); i-- > 0;) {
    if (entries_[i].epoch <= epoch) {
      int64_t end = i + 1 < entries_.size() ? entries_[i + 1].start_offset : log_end_offset;
      return EpochEntry{entries_[i].epoch, end};
    }
  }
  // Older than anything here. "Unknown" would leave a follower keeping its
  // records of that epoch at offsets where this log holds other epochs'.
  return EpochEntry{epoch, entries_.front().start_offset};
}

std::vector<EpochEntry> LeaderEpochCache::entries() const {
  std::lock_guard lock(mu_);
  return entries_;
}

int32_t LeaderEpochCache::epoch_holding(int64_t offset) const {
  std::lock_guard lock(mu_);
  int32_t epoch = -1;
  for (const EpochEntry& e : entries_) {
    if (e.start_offset <= offset) epoch = e.epoch;
  }
  return epoch;
}

Status LeaderEpochCache::persist_locked() {
  std::vector<std::string> lines;
  lines.reserve(entries_.size());
  for (const auto& e : entries_) {
    lines.push_back(std::to_string(e.epoch) + " " + std::to_string(e.start_offset));
  }
  return write_checkpoint(path_, kEpochsKind, kEpochsVersion, lines);
}

}  // namespace mq
