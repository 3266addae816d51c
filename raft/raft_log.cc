// The in-memory Raft log and its persistence watermark.
#include "raft/raft_log.h"

#include <algorithm>

#include "raft/invariant.h"

namespace mq::raft {

RaftLog::RaftLog(uint64_t snapshot_index, uint64_t snapshot_term, std::vector<Entry> entries)
    : snapshot_index_(snapshot_index), snapshot_term_(snapshot_term), entries_(std::move(entries)) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    MQ_RAFT_INVARIANT(entries_[i].index == snapshot_index_ + 1 + i, "restored log is consecutive");
  }
  persisted_index_ = last_index();
}

uint64_t RaftLog::last_term() const {
  return entries_.empty() ? snapshot_term_ : entries_.back().term;
}

std::optional<uint64_t> RaftLog::term_at(uint64_t index) const {
  if (index == snapshot_index_) return snapshot_term_;
  if (index < snapshot_index_ || index > last_index()) return std::nullopt;
  return entries_[index - snapshot_index_ - 1].term;
}

bool RaftLog::matches(uint64_t index, uint64_t term) const {
  std::optional<uint64_t> found = term_at(index);
  return found && *found == term;
}

const Entry& RaftLog::at(uint64_t index) const {
  MQ_RAFT_INVARIANT(index > snapshot_index_ && index <= last_index(), "entry is in the log");
  return entries_[index - snapshot_index_ - 1];
}

std::vector<Entry> RaftLog::slice(uint64_t from, size_t max_entries, size_t max_bytes) const {
  std::vector<Entry> out;
  size_t bytes = 0;
  for (uint64_t i = std::max(from, first_index()); i <= last_index(); ++i) {
    const Entry& entry = at(i);
    if (!out.empty() && (out.size() >= max_entries || bytes + entry.data.size() > max_bytes)) break;
    bytes += entry.data.size();
    out.push_back(entry);
  }
  return out;
}

uint64_t RaftLog::last_index_not_newer(uint64_t index, uint64_t term, uint64_t floor) const {
  uint64_t i = std::min(index, last_index());
  floor = std::max(floor, snapshot_index_);
  while (i > floor && at(i).term > term) --i;
  return std::max(i, floor);
}

void RaftLog::append(Entry entry) {
  MQ_RAFT_INVARIANT(entry.index == last_index() + 1, "leader appends at the end");
  entries_.push_back(std::move(entry));
}

uint64_t RaftLog::merge(const std::vector<Entry>& entries) {
  uint64_t truncated = 0;
  for (const Entry& entry : entries) {
    if (entry.index <= snapshot_index_) continue;
    if (entry.index <= last_index()) {
      if (at(entry.index).term == entry.term) continue;
      truncated = entry.index;
      entries_.resize(entry.index - snapshot_index_ - 1);
      persisted_index_ = std::min(persisted_index_, entry.index - 1);
    }
    MQ_RAFT_INVARIANT(entry.index == last_index() + 1, "merged entries are consecutive");
    entries_.push_back(entry);
  }
  return truncated;
}

void RaftLog::compact_to(uint64_t index, uint64_t term) {
  MQ_RAFT_INVARIANT(index > snapshot_index_, "snapshots only move forward");
  if (matches(index, term)) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<ptrdiff_t>(index - snapshot_index_));
  } else {
    entries_.clear();
  }
  snapshot_index_ = index;
  snapshot_term_ = term;
  persisted_index_ = std::max(persisted_index_, index);
  persisted_index_ = std::min(persisted_index_, last_index());
}

std::vector<Entry> RaftLog::unpersisted() const {
  return slice(persisted_index_ + 1, entries_.size(), SIZE_MAX);
}

void RaftLog::mark_persisted(uint64_t index) {
  persisted_index_ = std::max(persisted_index_, std::min(index, last_index()));
}

}  // namespace mq::raft
