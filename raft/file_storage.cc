// File-backed Raft storage: hard state checkpoint, snapshot file and
// length + CRC32C framed log segments, with torn-tail recovery.
#include "raft/file_storage.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include "base/random_id.h"
#include "store/checkpoint.h"
#include "store/coding.h"
#include "store/crc32c.h"

namespace mq::raft {
namespace {

constexpr std::string_view kHardStateKind = "raft-hard-state";
constexpr int kHardStateVersion = 1;
constexpr char kSnapshotMagic[8] = {'M', 'Q', 'R', 'A', 'F', 'T', 'S', 'S'};
constexpr uint32_t kSnapshotVersion = 2;  // 2 added the voter set; 1 is still read
constexpr size_t kSnapshotHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8;  // version 1
constexpr size_t kSnapshotV2HeaderBytes = kSnapshotHeaderBytes + 4;
constexpr size_t kFrameHeaderBytes = 8;          // length u32, crc32c u32
constexpr size_t kEntryHeaderBytes = 8 + 8 + 1;  // index, term, type
constexpr uint32_t kMaxFramePayload = 1u << 30;  // a larger length is damage, not an entry
constexpr std::string_view kSegmentPrefix = "log-";
constexpr std::string_view kSegmentSuffix = ".raft";

std::string segment_name(uint64_t first_index) {
  char name[64];
  std::snprintf(name, sizeof(name), "log-%020" PRIu64 ".raft", first_index);
  return name;
}

bool parse_segment_name(const std::string& name, uint64_t* first_index) {
  if (name.size() != kSegmentPrefix.size() + 20 + kSegmentSuffix.size() ||
      !name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = kSegmentPrefix.size(); i < kSegmentPrefix.size() + 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    value = value * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  *first_index = value;
  return true;
}

void append_frame(std::string& out, const Entry& entry) {
  uint32_t length = static_cast<uint32_t>(kEntryHeaderBytes + entry.data.size());
  size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + length);
  auto* p = reinterpret_cast<uint8_t*>(out.data() + at);
  uint8_t* payload = p + kFrameHeaderBytes;
  coding::put_fixed<uint64_t>(payload, entry.index);
  coding::put_fixed<uint64_t>(payload + 8, entry.term);
  payload[16] = static_cast<uint8_t>(entry.type);
  if (!entry.data.empty())
    std::memcpy(payload + kEntryHeaderBytes, entry.data.data(), entry.data.size());
  coding::put_fixed<uint32_t>(p, length);
  coding::put_fixed<uint32_t>(p + 4, crc32c::value(payload, length));
}

std::string encode_snapshot(const Snapshot& snapshot) {
  const size_t header = kSnapshotV2HeaderBytes + snapshot.membership.size();
  std::string out(header + snapshot.data.size(), '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kSnapshotMagic, 8);
  coding::put_fixed<uint32_t>(p + 8, kSnapshotVersion);
  coding::put_fixed<uint64_t>(p + 16, snapshot.index);
  coding::put_fixed<uint64_t>(p + 24, snapshot.term);
  coding::put_fixed<uint64_t>(p + 32, snapshot.data.size());
  coding::put_fixed<uint32_t>(p + 40, static_cast<uint32_t>(snapshot.membership.size()));
  if (!snapshot.membership.empty()) {
    std::memcpy(p + 44, snapshot.membership.data(), snapshot.membership.size());
  }
  if (!snapshot.data.empty()) std::memcpy(p + header, snapshot.data.data(), snapshot.data.size());
  coding::put_fixed<uint32_t>(p + 12, crc32c::value(p + 16, out.size() - 16));
  return out;
}

Result<Snapshot> decode_snapshot(const std::string& path, const std::string& bytes) {
  auto corrupt = [&](const std::string& why) {
    return Status(ErrorCode::kCorruptMessage, "raft snapshot " + path + ": " + why);
  };
  if (bytes.size() < kSnapshotHeaderBytes) return corrupt("shorter than its header");
  const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
  if (std::memcmp(p, kSnapshotMagic, 8) != 0) return corrupt("bad magic at offset 0");
  uint32_t version = coding::get_fixed<uint32_t>(p + 8);
  if (version != 1 && version != kSnapshotVersion) {
    return corrupt("version " + std::to_string(version) + " at offset 8 is not supported");
  }
  size_t header = kSnapshotHeaderBytes;
  uint64_t membership_size = 0;
  if (version >= 2) {
    if (bytes.size() < kSnapshotV2HeaderBytes) return corrupt("shorter than its header");
    membership_size = coding::get_fixed<uint32_t>(p + 40);
    if (membership_size > bytes.size() - kSnapshotV2HeaderBytes) {
      return corrupt("voter set of " + std::to_string(membership_size) +
                     " bytes at offset 40 runs past the end");
    }
    header = kSnapshotV2HeaderBytes + membership_size;
  }
  uint64_t size = coding::get_fixed<uint64_t>(p + 32);
  if (size != bytes.size() - header) {
    return corrupt("header says " + std::to_string(size) + " bytes of data, the file has " +
                   std::to_string(bytes.size() - header));
  }
  if (crc32c::value(p + 16, bytes.size() - 16) != coding::get_fixed<uint32_t>(p + 12)) {
    return corrupt("checksum mismatch over offsets 16.." + std::to_string(bytes.size()));
  }
  Snapshot snapshot;
  snapshot.index = coding::get_fixed<uint64_t>(p + 16);
  snapshot.term = coding::get_fixed<uint64_t>(p + 24);
  snapshot.membership.assign(p + kSnapshotV2HeaderBytes,
                             p + kSnapshotV2HeaderBytes + membership_size);
  snapshot.data.assign(p + header, p + bytes.size());
  return snapshot;
}

// The directory's identity: 32 hex digits, made once (a directory from a
// release before directory ids gets one on its first open).
Result<std::string> read_or_create_directory_id(const std::string& path) {
  Result<std::string> stored = read_small_file(path);
  if (stored.is_ok()) {
    std::string id = *stored;
    if (!id.empty() && id.back() == '\n') id.pop_back();
    bool hex = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                 return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
               });
    if (!hex) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft directory id " + path + ": not 32 lowercase hex digits");
    }
    return id;
  }
  if (stored.code() != ErrorCode::kNotFound) return stored.status();
  std::string id = random_hex(32);
  MQ_RETURN_IF_ERROR(write_file_atomically(path, id + "\n"));
  return id;
}

Result<HardState> read_hard_state(const std::string& path) {
  Result<std::vector<std::string>> lines = read_checkpoint(path, kHardStateKind, kHardStateVersion);
  if (lines.code() == ErrorCode::kNotFound) return HardState{};
  if (!lines.is_ok()) return lines.status();
  HardState state;
  long long vote = 0;
  unsigned long long term = 0, commit = 0;
  if (lines->size() != 3 || std::sscanf((*lines)[0].c_str(), "term %llu", &term) != 1 ||
      std::sscanf((*lines)[1].c_str(), "vote %lld", &vote) != 1 ||
      std::sscanf((*lines)[2].c_str(), "commit %llu", &commit) != 1) {
    return Status(ErrorCode::kCorruptMessage, path + ": expected term, vote and commit lines");
  }
  state.term = term;
  state.vote = static_cast<NodeId>(vote);
  state.commit = commit;
  return state;
}

}  // namespace

Result<std::unique_ptr<FileStorage>> FileStorage::open(const std::string& dir,
                                                       FileStorageOptions options) {
  MQ_RETURN_IF_ERROR(create_directories(dir));
  std::unique_ptr<FileStorage> storage(new FileStorage(dir, options));
  MQ_ASSIGN_OR_RETURN(storage->directory_id_,
                      read_or_create_directory_id(storage->path("directory-id")));
  storage->recovered_.emplace();
  MQ_RETURN_IF_ERROR(storage->recover(/*repair=*/true, &*storage->recovered_));
  return storage;
}

Result<PersistentState> FileStorage::load() {
  if (recovered_) {
    PersistentState state = std::move(*recovered_);
    recovered_.reset();
    return state;
  }
  PersistentState state;
  MQ_RETURN_IF_ERROR(recover(/*repair=*/false, &state));
  return state;
}

Status FileStorage::recover(bool repair, PersistentState* out) {
  PersistentState& state = *out;
  MQ_ASSIGN_OR_RETURN(state.hard_state, read_hard_state(path("hard-state")));
  written_hard_state_ = state.hard_state;
  Result<std::string> snapshot_bytes = read_small_file(path("snapshot"));
  if (snapshot_bytes.is_ok()) {
    Result<Snapshot> snapshot = decode_snapshot(path("snapshot"), *snapshot_bytes);
    if (!snapshot.is_ok()) return snapshot.status();
    state.snapshot.emplace(std::move(snapshot).value());
  } else if (snapshot_bytes.code() != ErrorCode::kNotFound) {
    return snapshot_bytes.status();
  }
  snapshot_index_ = state.snapshot ? state.snapshot->index : 0;
  snapshot_term_ = state.snapshot ? state.snapshot->term : 0;

  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(dir_));
  std::vector<uint64_t> firsts;
  for (const auto& name : names) {
    uint64_t first = 0;
    if (parse_segment_name(name, &first)) firsts.push_back(first);
  }
  std::sort(firsts.begin(), firsts.end());
  segments_.clear();
  std::vector<Entry> entries;
  for (size_t i = 0; i < firsts.size(); ++i) {
    Segment segment;
    segment.first_index = firsts[i];
    std::string segment_path = path(segment_name(firsts[i]));
    MQ_ASSIGN_OR_RETURN(segment.file, File::open(segment_path, /*create=*/false));
    if (!segments_.empty() && segments_.back().last_index() + 1 != segment.first_index) {
      return Status(ErrorCode::kCorruptMessage, "raft log " + segment_path + ": starts at entry " +
                                                    std::to_string(segment.first_index) +
                                                    " but the previous segment ends at " +
                                                    std::to_string(segments_.back().last_index()));
    }
    bool is_last = i + 1 == firsts.size();
    MQ_RETURN_IF_ERROR(scan_segment(segment, is_last, repair, &entries));
    if (segment.offsets.empty() && !is_last) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft log " + segment_path + ": empty, yet later segments exist");
    }
    segments_.push_back(std::move(segment));
  }

  uint64_t first_logged = segments_.empty() ? 0 : segments_.front().first_index;
  if (!entries.empty()) {
    if (first_logged > snapshot_index_ + 1) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft log in " + dir_ + " starts at entry " + std::to_string(first_logged) +
                        ", leaving a gap after the snapshot at " + std::to_string(snapshot_index_));
    }
    if (state.snapshot && first_logged <= snapshot_index_) {
      // A crash inside save_snapshot may have left the log as it was before.
      if (term_at(snapshot_index_) == snapshot_term_) {
        entries.erase(entries.begin(),
                      entries.begin() + static_cast<ptrdiff_t>(snapshot_index_ - first_logged + 1));
        if (repair) MQ_RETURN_IF_ERROR(remove_segments_through(snapshot_index_));
      } else {
        entries.clear();
        if (repair) MQ_RETURN_IF_ERROR(remove_segments_through(UINT64_MAX));
      }
    }
  }
  state.entries = std::move(entries);
  return Status::ok();
}

Status FileStorage::scan_segment(Segment& segment, bool is_last, bool repair,
                                 std::vector<Entry>* entries) {
  const std::string& segment_path = segment.file.path();
  MQ_ASSIGN_OR_RETURN(uint64_t size, segment.file.size());
  std::string bytes(size, '\0');
  MQ_ASSIGN_OR_RETURN(size_t read, segment.file.read_at(0, as_writable_bytes(bytes)));
  bytes.resize(read);
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  uint64_t offset = 0;
  uint64_t expected = segment.first_index;
  while (offset < size) {
    uint64_t remaining = size - offset;
    std::string damage;
    bool reaches_end = false;  // the damaged frame ends at or past the end of the file
    uint32_t length = 0;
    if (remaining < kFrameHeaderBytes) {
      damage = "incomplete frame header";
      reaches_end = true;
    } else {
      length = coding::get_fixed<uint32_t>(data + offset);
      if (length < kEntryHeaderBytes || length > kMaxFramePayload) {
        damage = "implausible entry length " + std::to_string(length);
      } else if (kFrameHeaderBytes + length > remaining) {
        damage = "entry of " + std::to_string(length) + " bytes runs past the end of the file";
        reaches_end = true;
      } else if (crc32c::value(data + offset + kFrameHeaderBytes, length) !=
                 coding::get_fixed<uint32_t>(data + offset + 4)) {
        damage = "checksum mismatch";
        reaches_end = offset + kFrameHeaderBytes + length == size;
      }
    }
    if (!damage.empty()) {
      bool zeros_to_end = std::all_of(data + offset, data + size, [](uint8_t b) { return b == 0; });
      // The last append was never acknowledged: damage confined to the end of
      // the last segment is that append torn by a crash, and is cut.
      if (is_last && repair && (reaches_end || zeros_to_end)) {
        MQ_RETURN_IF_ERROR(segment.file.truncate(offset));
        MQ_RETURN_IF_ERROR(segment.file.sync());
        truncated_bytes_ += size - offset;
        size = offset;
        break;
      }
      return Status(ErrorCode::kCorruptMessage, "raft log " + segment_path + ": entry at offset " +
                                                    std::to_string(offset) + ": " + damage);
    }
    const uint8_t* payload = data + offset + kFrameHeaderBytes;
    Entry entry;
    entry.index = coding::get_fixed<uint64_t>(payload);
    entry.term = coding::get_fixed<uint64_t>(payload + 8);
    entry.type = static_cast<EntryType>(payload[16]);
    if (entry.index != expected) {
      return Status(ErrorCode::kCorruptMessage, "raft log " + segment_path + ": entry at offset " +
                                                    std::to_string(offset) + " has index " +
                                                    std::to_string(entry.index) + ", expected " +
                                                    std::to_string(expected));
    }
    entry.data.assign(payload + kEntryHeaderBytes, payload + length);
    segment.offsets.push_back(offset);
    segment.terms.push_back(entry.term);
    if (entries != nullptr) entries->push_back(std::move(entry));
    offset += kFrameHeaderBytes + length;
    expected += 1;
  }
  segment.size = size;
  return Status::ok();
}

Status FileStorage::save_hard_state(const HardState& state) {
  const HardState& written = written_hard_state_;
  if (state.term == written.term && state.vote == written.vote && state.commit >= written.commit &&
      state.commit - written.commit < options_.commit_write_interval) {
    return Status::ok();
  }
  recovered_.reset();  // the next load() reads the files again
  MQ_RETURN_IF_ERROR(
      write_checkpoint(path("hard-state"), kHardStateKind, kHardStateVersion,
                       {"term " + std::to_string(state.term), "vote " + std::to_string(state.vote),
                        "commit " + std::to_string(state.commit)}));
  written_hard_state_ = state;
  return Status::ok();
}

uint64_t FileStorage::last_index() const {
  uint64_t last = snapshot_index_;
  if (!segments_.empty()) last = std::max(last, segments_.back().last_index());
  return last;
}

std::optional<uint64_t> FileStorage::term_at(uint64_t index) const {
  for (const Segment& segment : segments_) {
    if (index >= segment.first_index && index <= segment.last_index()) {
      return segment.terms[index - segment.first_index];
    }
  }
  return std::nullopt;
}

Status FileStorage::append(std::span<const Entry> entries) {
  if (entries.empty()) return Status::ok();
  recovered_.reset();
  uint64_t first = entries.front().index;
  if (first <= snapshot_index_ || first > last_index() + 1) {
    return Status(ErrorCode::kInvalidRequest, "raft log append at " + std::to_string(first) +
                                                  " leaves a gap or overwrites the snapshot (log " +
                                                  std::to_string(snapshot_index_ + 1) + ".." +
                                                  std::to_string(last_index()) + ")");
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != first + i) {
      return Status(ErrorCode::kInvalidRequest, "raft log append of non-consecutive entries");
    }
  }
  if (!segments_.empty() && first <= segments_.back().last_index()) {
    MQ_RETURN_IF_ERROR(truncate_from(first));
  }
  if (!segments_.empty() && segments_.back().offsets.empty() &&
      segments_.back().first_index != first) {
    MQ_RETURN_IF_ERROR(remove_segments_through(UINT64_MAX));
  }
  if (segments_.empty() || segments_.back().last_index() + 1 != first ||
      segments_.back().size >= options_.segment_bytes) {
    if (segments_.empty() || !segments_.back().offsets.empty()) MQ_RETURN_IF_ERROR(roll(first));
  }

  Segment& segment = segments_.back();
  std::string frames;
  std::vector<uint64_t> offsets;
  for (const Entry& entry : entries) {
    offsets.push_back(segment.size + frames.size());
    append_frame(frames, entry);
  }
  Status written = segment.file.write_at(segment.size, as_bytes(frames));
  if (written.is_ok()) written = segment.file.sync();
  if (!written.is_ok()) {
    (void)segment.file.truncate(segment.size);  // best effort; recovery cuts it otherwise
    return written;
  }
  segment.size += frames.size();
  segment.offsets.insert(segment.offsets.end(), offsets.begin(), offsets.end());
  for (const Entry& entry : entries) segment.terms.push_back(entry.term);
  return Status::ok();
}

// Drops entries from `index` on: whole segments newest first (so a crash
// leaves no gap), then the tail of the segment holding `index`.
Status FileStorage::truncate_from(uint64_t index) {
  bool removed = false;
  while (!segments_.empty() && segments_.back().first_index >= index) {
    std::string segment_path = segments_.back().file.path();
    segments_.pop_back();
    MQ_RETURN_IF_ERROR(remove_file(segment_path));
    removed = true;
  }
  if (removed) MQ_RETURN_IF_ERROR(sync_directory(dir_));
  if (segments_.empty() || segments_.back().last_index() < index) return Status::ok();
  Segment& segment = segments_.back();
  size_t keep = static_cast<size_t>(index - segment.first_index);
  uint64_t new_size = segment.offsets[keep];
  MQ_RETURN_IF_ERROR(segment.file.truncate(new_size));
  MQ_RETURN_IF_ERROR(segment.file.sync());
  segment.size = new_size;
  segment.offsets.resize(keep);
  segment.terms.resize(keep);
  return Status::ok();
}

// Deletes the segments whose entries all lie at or before `index`, oldest first.
Status FileStorage::remove_segments_through(uint64_t index) {
  bool removed = false;
  while (!segments_.empty() &&
         (segments_.front().offsets.empty() ? index == UINT64_MAX
                                            : segments_.front().last_index() <= index)) {
    std::string segment_path = segments_.front().file.path();
    segments_.erase(segments_.begin());
    MQ_RETURN_IF_ERROR(remove_file(segment_path));
    removed = true;
  }
  if (removed) MQ_RETURN_IF_ERROR(sync_directory(dir_));
  return Status::ok();
}

Status FileStorage::roll(uint64_t first_index) {
  Segment segment;
  segment.first_index = first_index;
  MQ_ASSIGN_OR_RETURN(segment.file, File::open(path(segment_name(first_index)), /*create=*/true));
  MQ_RETURN_IF_ERROR(segment.file.truncate(0));
  MQ_RETURN_IF_ERROR(sync_directory(dir_));
  segments_.push_back(std::move(segment));
  return Status::ok();
}

Status FileStorage::save_snapshot(const Snapshot& snapshot) {
  if (snapshot.index <= snapshot_index_) {
    return Status(ErrorCode::kInvalidRequest, "raft snapshot at " + std::to_string(snapshot.index) +
                                                  " is not newer than the stored one at " +
                                                  std::to_string(snapshot_index_));
  }
  recovered_.reset();
  MQ_RETURN_IF_ERROR(write_file_atomically(path("snapshot"), encode_snapshot(snapshot)));
  bool keeps_log = term_at(snapshot.index) == snapshot.term;
  snapshot_index_ = snapshot.index;
  snapshot_term_ = snapshot.term;
  return remove_segments_through(keeps_log ? snapshot.index : UINT64_MAX);
}

}  // namespace mq::raft
