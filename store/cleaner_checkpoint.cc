// CleanerCheckpoint: pass history, tombstone ages, the checkpoint file.
#include "store/cleaner_checkpoint.h"

#include <algorithm>
#include <sstream>

#include "store/checkpoint.h"

namespace mq {
namespace {

constexpr std::string_view kCleanerKind = "mq-cleaner";
constexpr int kCleanerVersion = 1;

}  // namespace

std::optional<int64_t> CleanerCheckpoint::first_covered_ms(int64_t offset) const {
  auto it = std::upper_bound(passes_.begin(), passes_.end(), offset,
                             [](int64_t o, const Pass& p) { return o < p.end_offset; });
  if (it == passes_.end()) return std::nullopt;
  return it->time_ms;
}

void CleanerCheckpoint::record_pass(int64_t end_offset, int64_t now_ms,
                                    int64_t delete_retention_ms) {
  first_dirty_offset_ = std::max(first_dirty_offset_, end_offset);
  if (passes_.empty() || end_offset > passes_.back().end_offset) {
    passes_.push_back(
        {end_offset, std::max(now_ms, passes_.empty() ? now_ms : passes_.back().time_ms)});
  }
  // Expired passes: only the latest one's end matters.
  size_t expired = 0;
  while (expired < passes_.size() && passes_[expired].time_ms <= now_ms - delete_retention_ms) {
    expired++;
  }
  if (expired > 1) passes_.erase(passes_.begin(), passes_.begin() + static_cast<long>(expired - 1));
  while (passes_.size() > kMaxPasses) {
    size_t closest = 0;
    for (size_t i = 1; i + 1 < passes_.size(); i++) {
      if (passes_[i + 1].time_ms - passes_[i].time_ms <
          passes_[closest + 1].time_ms - passes_[closest].time_ms) {
        closest = i;
      }
    }
    passes_[closest + 1].end_offset =
        std::max(passes_[closest + 1].end_offset, passes_[closest].end_offset);
    passes_.erase(passes_.begin() + static_cast<long>(closest));
  }
}

bool CleanerCheckpoint::truncate_to(int64_t end_offset) {
  bool changed = false;
  if (first_dirty_offset_ > end_offset) {
    first_dirty_offset_ = end_offset;
    changed = true;
  }
  // The first pass reaching past the cut covered the offsets just below it.
  auto it = std::upper_bound(passes_.begin(), passes_.end(), end_offset,
                             [](int64_t o, const Pass& p) { return o < p.end_offset; });
  if (it != passes_.end()) {
    it->end_offset = end_offset;
    passes_.erase(it + 1, passes_.end());
    changed = true;
  }
  return changed;
}

void CleanerCheckpoint::reset(int64_t first_dirty_offset) {
  first_dirty_offset_ = first_dirty_offset;
  passes_.clear();
}

Status CleanerCheckpoint::write(const std::string& path) const {
  std::vector<std::string> lines;
  lines.push_back("first_dirty_offset " + std::to_string(first_dirty_offset_));
  for (const Pass& p : passes_) {
    lines.push_back("pass " + std::to_string(p.end_offset) + " " + std::to_string(p.time_ms));
  }
  return write_checkpoint(path, kCleanerKind, kCleanerVersion, lines);
}

Status CleanerCheckpoint::load(const std::string& path) {
  reset(0);
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> lines,
                      read_checkpoint(path, kCleanerKind, kCleanerVersion));
  auto bad = [&](const std::string& line) {
    reset(0);
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + line + "'");
  };
  if (lines.empty()) return bad("");
  std::string word;
  int64_t first_dirty = -1;
  {
    std::istringstream in(lines[0]);
    if (!(in >> word >> first_dirty) || word != "first_dirty_offset" || first_dirty < 0) {
      return bad(lines[0]);
    }
  }
  std::vector<Pass> passes;
  for (size_t i = 1; i < lines.size(); i++) {
    std::istringstream in(lines[i]);
    Pass p{};
    if (!(in >> word >> p.end_offset >> p.time_ms) || word != "pass" || p.end_offset < 0 ||
        (!passes.empty() &&
         (p.end_offset <= passes.back().end_offset || p.time_ms < passes.back().time_ms))) {
      return bad(lines[i]);
    }
    passes.push_back(p);
  }
  first_dirty_offset_ = first_dirty;
  passes_ = std::move(passes);
  return Status::ok();
}

}  // namespace mq
