// The per-segment key index; see key_index.h.
#include "store/key_index.h"

#include <algorithm>

#include "store/coding.h"
#include "store/crc32c.h"
#include "store/file.h"

namespace mq {
namespace {

// Pending entries are written (not synced) once this many wait: memory stays
// bounded whatever the fsync policy.
constexpr size_t kMaxPendingEntries = 64 * 1024;
// Lookups read the file this many entries at a time.
constexpr size_t kReadChunkEntries = 128 * 1024;

KeyIndexEntry decode_entry(const uint8_t* p) {
  return {coding::get_fixed<uint32_t>(p), coding::get_fixed<uint32_t>(p + 4)};
}

std::string encode_entries(std::span<const KeyIndexEntry> entries) {
  std::string out(entries.size() * kKeyIndexEntryBytes, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  for (const KeyIndexEntry& e : entries) {
    coding::put_fixed<uint32_t>(p, e.key_hash);
    coding::put_fixed<uint32_t>(p + 4, e.relative_offset);
    p += kKeyIndexEntryBytes;
  }
  return out;
}

}  // namespace

uint32_t key_index_hash(std::string_view key) {
  uint32_t h = crc32c::value(key.data(), key.size());
  return h == kKeyIndexMarker ? 1 : h;
}

void append_key_entries(const BatchHeader& batch, int64_t segment_base,
                        std::span<const std::pair<uint32_t, int32_t>> key_hashes,
                        std::vector<KeyIndexEntry>* out) {
  const int64_t base = batch.base_offset - segment_base;
  if (key_hashes.empty()) {
    out->push_back({kKeyIndexMarker, static_cast<uint32_t>(batch.last_offset() - segment_base)});
    return;
  }
  for (const auto& [hash, delta] : key_hashes) {
    out->push_back({hash, static_cast<uint32_t>(base + delta)});
  }
}

Result<std::vector<KeyIndexEntry>> KeyIndex::read_all_locked() const {
  std::vector<KeyIndexEntry> entries;
  Result<File> file = File::open_read_only(path_);
  if (!file.is_ok()) return entries;  // missing: empty
  MQ_ASSIGN_OR_RETURN(uint64_t size, file->size());
  std::string bytes(size - size % kKeyIndexEntryBytes, '\0');
  MQ_ASSIGN_OR_RETURN(size_t got, file->read_at(0, as_writable_bytes(bytes)));
  bytes.resize(got - got % kKeyIndexEntryBytes);
  entries.reserve(bytes.size() / kKeyIndexEntryBytes);
  for (size_t i = 0; i < bytes.size(); i += kKeyIndexEntryBytes) {
    entries.push_back(decode_entry(reinterpret_cast<const uint8_t*>(bytes.data()) + i));
  }
  return entries;
}

Result<uint32_t> KeyIndex::load(uint32_t end_relative) {
  std::lock_guard lock(mu_);
  pending_.clear();
  MQ_ASSIGN_OR_RETURN(std::vector<KeyIndexEntry> entries, read_all_locked());
  size_t keep = 0;
  uint32_t last = 0;
  while (keep < entries.size() && entries[keep].relative_offset < end_relative &&
         entries[keep].relative_offset >= last) {
    last = entries[keep].relative_offset;
    ++keep;
  }
  MQ_ASSIGN_OR_RETURN(File file, File::open(path_, /*create=*/true));
  MQ_RETURN_IF_ERROR(file.truncate(keep * kKeyIndexEntryBytes));
  on_disk_ = keep;
  return keep == 0 ? 0 : last;
}

void KeyIndex::add(uint32_t key_hash, uint32_t relative_offset) {
  std::lock_guard lock(mu_);
  pending_.push_back({key_hash, relative_offset});
  // A failed write leaves the entries pending; the next flush reports it.
  if (pending_.size() >= kMaxPendingEntries) (void)write_pending_locked(/*sync=*/false);
}

Status KeyIndex::write_pending_locked(bool sync) {
  if (pending_.empty() && !sync) return Status::ok();
  MQ_ASSIGN_OR_RETURN(File file, File::open(path_, /*create=*/true));
  if (!pending_.empty()) {
    std::string bytes = encode_entries(pending_);
    MQ_RETURN_IF_ERROR(file.write_at(on_disk_ * kKeyIndexEntryBytes, as_bytes(bytes)));
    on_disk_ += pending_.size();
    pending_.clear();
  }
  if (sync) MQ_RETURN_IF_ERROR(file.sync());
  return Status::ok();
}

Status KeyIndex::flush(bool sync) {
  std::lock_guard lock(mu_);
  return write_pending_locked(sync);
}

Result<std::vector<uint32_t>> KeyIndex::find(uint32_t key_hash) const {
  std::vector<uint32_t> out;
  uint64_t on_disk;
  std::vector<KeyIndexEntry> pending;
  {
    std::lock_guard lock(mu_);
    on_disk = on_disk_;
    for (const KeyIndexEntry& e : pending_) {
      if (e.key_hash == key_hash) pending.push_back(e);
    }
  }
  // The file is read outside the lock: appends only add past `on_disk`.
  if (on_disk > 0) {
    MQ_ASSIGN_OR_RETURN(File file, File::open_read_only(path_));
    std::string chunk;
    for (uint64_t at = 0; at < on_disk;) {
      uint64_t n = std::min<uint64_t>(kReadChunkEntries, on_disk - at);
      chunk.resize(n * kKeyIndexEntryBytes);
      MQ_ASSIGN_OR_RETURN(size_t got,
                          file.read_at(at * kKeyIndexEntryBytes, as_writable_bytes(chunk)));
      const auto* p = reinterpret_cast<const uint8_t*>(chunk.data());
      for (size_t i = 0; i + kKeyIndexEntryBytes <= got; i += kKeyIndexEntryBytes) {
        if (coding::get_fixed<uint32_t>(p + i) == key_hash) {
          out.push_back(coding::get_fixed<uint32_t>(p + i + 4));
        }
      }
      if (got < chunk.size()) break;  // cut meanwhile
      at += n;
    }
  }
  for (const KeyIndexEntry& e : pending) out.push_back(e.relative_offset);
  return out;
}

Status KeyIndex::truncate_to(uint32_t relative_offset) {
  std::lock_guard lock(mu_);
  std::erase_if(pending_,
                [&](const KeyIndexEntry& e) { return e.relative_offset >= relative_offset; });
  MQ_ASSIGN_OR_RETURN(std::vector<KeyIndexEntry> entries, read_all_locked());
  entries.resize(on_disk_ < entries.size() ? on_disk_ : entries.size());
  // Entries are in offset order: the first one at or past the cut is where the file ends.
  auto cut = std::ranges::find_if(
      entries, [&](const KeyIndexEntry& e) { return e.relative_offset >= relative_offset; });
  on_disk_ = static_cast<uint64_t>(cut - entries.begin());
  MQ_ASSIGN_OR_RETURN(File file, File::open(path_, /*create=*/true));
  return file.truncate(on_disk_ * kKeyIndexEntryBytes);
}

Status KeyIndex::clear() {
  std::lock_guard lock(mu_);
  pending_.clear();
  on_disk_ = 0;
  MQ_ASSIGN_OR_RETURN(File file, File::open(path_, /*create=*/true));
  return file.truncate(0);
}

Status KeyIndex::remove_file() {
  std::lock_guard lock(mu_);
  pending_.clear();
  on_disk_ = 0;
  return ::mq::remove_file(path_);
}

}  // namespace mq
