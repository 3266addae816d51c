// A segment's key index (`.keyindex`, docs/storage-format.md §5a): one
// 8-byte little-endian entry per keyed record, in offset order,
//
//   key_hash u32, relative_offset u32
//
// key_hash is key_index_hash(key) (CRC32C, never 0). A batch without keyed
// records leaves one marker entry, hash 0 at its last offset, so the file
// always says how far it covers. Lookups scan for a hash and verify each hit
// against the record's key; the index is derived data, rebuilt from the log
// when missing, and re-built from its last entry's batch on every open (a
// crash can lose the entries of the last batches, never invent them).
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/record_batch.h"

namespace mq {

struct KeyIndexEntry {
  uint32_t key_hash;
  uint32_t relative_offset;
};

constexpr size_t kKeyIndexEntryBytes = 8;
constexpr uint32_t kKeyIndexMarker = 0;

// CRC32C of the key, 1 where that would be the marker's 0.
uint32_t key_index_hash(std::string_view key);

// Appends the entries of one batch whose records' keys hash to
// `key_hashes` ((hash, offset delta) per keyed record, in order), relative
// to `segment_base`: those, or the marker at its last offset without any.
void append_key_entries(const BatchHeader& batch, int64_t segment_base,
                        std::span<const std::pair<uint32_t, int32_t>> key_hashes,
                        std::vector<KeyIndexEntry>* out);

// Thread-safe: one appender (under the log's append lock), many lookups.
class KeyIndex {
 public:
  explicit KeyIndex(std::string path) : path_(std::move(path)) {}

  // Loads the file: keeps its longest prefix of entries in non-decreasing
  // offset order below `end_relative` (the segment's next offset, relative),
  // cutting the file to it. Returns the relative offset the log must be
  // indexed again from: the last kept entry's (its batch may be indexed in
  // part), or 0 for an empty or missing file.
  Result<uint32_t> load(uint32_t end_relative);

  void add(uint32_t key_hash, uint32_t relative_offset);
  // Relative offsets of the entries with `key_hash`, ascending.
  Result<std::vector<uint32_t>> find(uint32_t key_hash) const;
  // Drops the entries at or past `relative_offset`.
  Status truncate_to(uint32_t relative_offset);
  // Empties the index and its file.
  Status clear();

  // Writes the entries not yet in the file (fdatasync with `sync`).
  Status flush(bool sync);
  Status remove_file();
  const std::string& path() const { return path_; }

 private:
  Status write_pending_locked(bool sync);
  Result<std::vector<KeyIndexEntry>> read_all_locked() const;

  std::string path_;
  mutable std::mutex mu_;
  std::vector<KeyIndexEntry> pending_;  // added, not yet written
  uint64_t on_disk_ = 0;                // entries in the file
};

}  // namespace mq
