// SegmentIndex: load, validate, look up, persist.
#include "store/index.h"

#include <algorithm>

#include "store/coding.h"

namespace mq {

using coding::get_fixed;
using coding::put_fixed;

bool SegmentIndex::load(uint64_t log_size_bytes, std::string* why) {
  std::unique_lock lock(mu_);
  offsets_.clear();
  times_.clear();
  rewrite_ = true;
  Result<std::string> off = read_small_file(offset_path_);
  Result<std::string> tim = read_small_file(time_path_);
  if (!off.is_ok() || !tim.is_ok()) {
    *why = "index file missing or unreadable";
    return false;
  }
  if (off->size() % kOffsetIndexEntryBytes != 0 || tim->size() % kTimeIndexEntryBytes != 0) {
    *why = "index file size is not a whole number of entries";
    return false;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(off->data());
  for (size_t i = 0; i < off->size(); i += kOffsetIndexEntryBytes) {
    OffsetIndexEntry e{get_fixed<uint32_t>(p + i), get_fixed<uint32_t>(p + i + 4)};
    bool ordered = offsets_.empty() || (e.relative_offset > offsets_.back().relative_offset &&
                                        e.position > offsets_.back().position);
    if (!ordered || e.position >= log_size_bytes) {
      *why = "offset index entry " + std::to_string(i / kOffsetIndexEntryBytes) +
             " is out of order or past the end of the log";
      offsets_.clear();
      return false;
    }
    offsets_.push_back(e);
  }
  p = reinterpret_cast<const uint8_t*>(tim->data());
  for (size_t i = 0; i < tim->size(); i += kTimeIndexEntryBytes) {
    TimeIndexEntry e{get_fixed<int64_t>(p + i), get_fixed<uint32_t>(p + i + 8)};
    bool ordered = times_.empty() || (e.timestamp >= times_.back().timestamp &&
                                      e.relative_offset >= times_.back().relative_offset);
    if (!ordered) {
      *why = "time index entry " + std::to_string(i / kTimeIndexEntryBytes) + " is out of order";
      offsets_.clear();
      times_.clear();
      return false;
    }
    times_.push_back(e);
  }
  offsets_on_disk_ = offsets_.size();
  times_on_disk_ = times_.size();
  rewrite_ = false;
  return true;
}

void SegmentIndex::add_offset_entry(uint32_t relative_offset, uint32_t position) {
  std::unique_lock lock(mu_);
  offsets_.push_back({relative_offset, position});
}

void SegmentIndex::add_time_entry(int64_t timestamp, uint32_t relative_offset) {
  std::unique_lock lock(mu_);
  if (!times_.empty() && timestamp <= times_.back().timestamp) return;
  times_.push_back({timestamp, relative_offset});
}

uint32_t SegmentIndex::position_for(uint32_t relative_offset) const {
  std::shared_lock lock(mu_);
  auto it =
      std::upper_bound(offsets_.begin(), offsets_.end(), relative_offset,
                       [](uint32_t v, const OffsetIndexEntry& e) { return v < e.relative_offset; });
  return it == offsets_.begin() ? 0 : std::prev(it)->position;
}

std::optional<OffsetIndexEntry> SegmentIndex::entry_for(uint32_t relative_offset) const {
  std::shared_lock lock(mu_);
  auto it =
      std::upper_bound(offsets_.begin(), offsets_.end(), relative_offset,
                       [](uint32_t v, const OffsetIndexEntry& e) { return v < e.relative_offset; });
  if (it == offsets_.begin()) return std::nullopt;
  return *std::prev(it);
}

uint32_t SegmentIndex::start_for_timestamp(int64_t timestamp) const {
  std::shared_lock lock(mu_);
  auto it = std::lower_bound(times_.begin(), times_.end(), timestamp,
                             [](const TimeIndexEntry& e, int64_t v) { return e.timestamp < v; });
  return it == times_.begin() ? 0 : std::prev(it)->relative_offset;
}

std::optional<TimeIndexEntry> SegmentIndex::last_time_entry() const {
  std::shared_lock lock(mu_);
  if (times_.empty()) return std::nullopt;
  return times_.back();
}

std::optional<OffsetIndexEntry> SegmentIndex::last_offset_entry() const {
  std::shared_lock lock(mu_);
  if (offsets_.empty()) return std::nullopt;
  return offsets_.back();
}

void SegmentIndex::truncate_to(uint32_t relative_offset, uint32_t position) {
  std::unique_lock lock(mu_);
  while (!offsets_.empty() && (offsets_.back().relative_offset >= relative_offset ||
                               offsets_.back().position >= position)) {
    offsets_.pop_back();
  }
  while (!times_.empty() && times_.back().relative_offset >= relative_offset) times_.pop_back();
  if (offsets_.size() < offsets_on_disk_ || times_.size() < times_on_disk_) rewrite_ = true;
}

void SegmentIndex::clear() {
  std::unique_lock lock(mu_);
  offsets_.clear();
  times_.clear();
  rewrite_ = true;
}

Status SegmentIndex::flush(bool sync) {
  // Copy the unwritten tail under the lock; do the I/O without it.
  std::string off_bytes, time_bytes;
  size_t off_from, time_from, off_count, time_count;
  bool rewrite;
  {
    std::shared_lock lock(mu_);
    rewrite = rewrite_;
    off_from = rewrite ? 0 : offsets_on_disk_;
    time_from = rewrite ? 0 : times_on_disk_;
    off_count = offsets_.size();
    time_count = times_.size();
    off_bytes.resize((off_count - off_from) * kOffsetIndexEntryBytes);
    time_bytes.resize((time_count - time_from) * kTimeIndexEntryBytes);
    auto* p = reinterpret_cast<uint8_t*>(off_bytes.data());
    for (size_t i = off_from; i < off_count; i++, p += kOffsetIndexEntryBytes) {
      put_fixed<uint32_t>(p, offsets_[i].relative_offset);
      put_fixed<uint32_t>(p + 4, offsets_[i].position);
    }
    p = reinterpret_cast<uint8_t*>(time_bytes.data());
    for (size_t i = time_from; i < time_count; i++, p += kTimeIndexEntryBytes) {
      put_fixed<int64_t>(p, times_[i].timestamp);
      put_fixed<uint32_t>(p + 8, times_[i].relative_offset);
    }
  }
  if (!rewrite && off_bytes.empty() && time_bytes.empty() && !sync) return Status::ok();
  auto write = [&](const std::string& path, const std::string& bytes, size_t from_entry,
                   size_t entry_size) -> Status {
    MQ_ASSIGN_OR_RETURN(File file, File::open(path, /*create=*/true));
    if (rewrite) MQ_RETURN_IF_ERROR(file.truncate(0));
    MQ_RETURN_IF_ERROR(file.write_at(from_entry * entry_size, as_bytes(bytes)));
    if (sync) MQ_RETURN_IF_ERROR(file.sync());
    return Status::ok();
  };
  MQ_RETURN_IF_ERROR(write(offset_path_, off_bytes, off_from, kOffsetIndexEntryBytes));
  MQ_RETURN_IF_ERROR(write(time_path_, time_bytes, time_from, kTimeIndexEntryBytes));
  std::unique_lock lock(mu_);
  // A truncation during the write makes the files stale again; keep rewrite_ then.
  if (offsets_.size() >= off_count && times_.size() >= time_count) {
    if (rewrite == rewrite_) rewrite_ = false;
    offsets_on_disk_ = off_count;
    times_on_disk_ = time_count;
  }
  return Status::ok();
}

Status SegmentIndex::remove_files() {
  MQ_RETURN_IF_ERROR(remove_file(offset_path_));
  return remove_file(time_path_);
}

size_t SegmentIndex::memory_bytes() const {
  std::shared_lock lock(mu_);
  return offsets_.capacity() * sizeof(OffsetIndexEntry) +
         times_.capacity() * sizeof(TimeIndexEntry);
}

}  // namespace mq
