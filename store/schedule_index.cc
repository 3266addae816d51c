// ScheduleIndex: pending delayed messages by delivery time.
#include "store/schedule_index.h"

#include <algorithm>
#include <sstream>

#include "store/checkpoint.h"

namespace mq {

bool ScheduleIndex::remove(Entry entry, int64_t removed_by) {
  if (pending_.erase(entry) == 0) return false;
  removals_.push_back({removed_by, entry});
  return true;
}

void ScheduleIndex::forget_removals_below(int64_t offset) {
  while (!removals_.empty() && removals_.front().removed_by < offset) removals_.pop_front();
}

void ScheduleIndex::truncate_from(int64_t end) {
  while (!removals_.empty() && removals_.back().removed_by >= end) {
    if (removals_.back().entry.offset < end) pending_.insert(removals_.back().entry);
    removals_.pop_back();
  }
  std::erase_if(pending_, [end](const Entry& e) { return e.offset >= end; });
}

size_t ScheduleIndex::drop_below(int64_t log_start) {
  return std::erase_if(pending_, [log_start](const Entry& e) { return e.offset < log_start; });
}

void ScheduleIndex::clear() {
  pending_.clear();
  removals_.clear();
}

std::vector<ScheduleIndex::Entry> ScheduleIndex::due(int64_t now_ms, size_t limit) const {
  std::vector<Entry> out;
  for (const Entry& e : pending_) {
    if (e.deliver_at > now_ms || out.size() >= limit) break;
    out.push_back(e);
  }
  return out;
}

std::optional<int64_t> ScheduleIndex::next_at() const {
  if (pending_.empty()) return std::nullopt;
  return pending_.begin()->deliver_at;
}

std::vector<ScheduleIndex::Entry> ScheduleIndex::list(size_t limit) const {
  std::vector<Entry> out;
  for (const Entry& e : pending_) {
    if (out.size() >= limit) break;
    out.push_back(e);
  }
  return out;
}

std::vector<std::string> ScheduleIndex::snapshot_lines(Covered covered,
                                                       const std::vector<Entry>& entries,
                                                       const std::vector<Removal>& removals) {
  std::vector<std::string> lines;
  lines.reserve(entries.size() + removals.size() + 1);
  lines.push_back(coverage_line(covered));
  for (const Entry& e : entries) {
    lines.push_back(std::to_string(e.deliver_at) + " " + std::to_string(e.offset));
  }
  for (const Removal& r : removals) {
    lines.push_back("removed " + std::to_string(r.removed_by) + " " +
                    std::to_string(r.entry.deliver_at) + " " + std::to_string(r.entry.offset));
  }
  return lines;
}

Result<ScheduleIndex::Covered> ScheduleIndex::load_snapshot(const std::string& path) {
  clear();
  MQ_ASSIGN_OR_RETURN(
      SnapshotCheckpoint snapshot,
      read_snapshot_checkpoint(path, kScheduleSnapshotKind, kScheduleSnapshotVersion));
  const Covered covered = snapshot.coverage;
  auto bad = [&](const std::string& line) {
    clear();
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  for (const std::string& line : snapshot.body) {
    std::istringstream in(line);
    Entry e;
    std::string rest;
    if (line.starts_with("removed ")) {
      // A removal not known to be committed when the snapshot was taken: a
      // truncation may still have to undo it.
      int64_t by = -1;
      in >> rest;
      if (!(in >> by >> e.deliver_at >> e.offset) || (in >> rest) || e.offset < 0 ||
          e.deliver_at < 0 || by <= e.offset || by >= covered.offset ||
          (!removals_.empty() && by < removals_.back().removed_by)) {
        return bad(line);
      }
      removals_.push_back({by, e});
      continue;
    }
    if (!removals_.empty() || !(in >> e.deliver_at >> e.offset) || (in >> rest) || e.offset < 0 ||
        e.offset >= covered.offset || e.deliver_at < 0) {
      return bad(line);
    }
    pending_.insert(e);
  }
  return covered;
}

}  // namespace mq
