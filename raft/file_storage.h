// RaftStorage on disk, one directory per node:
//
//   hard-state                   checkpoint file (store/checkpoint.h), kind "raft-hard-state" v1:
//                                  "term <n>", "vote <id>", "commit <n>"; written atomically
//   snapshot                     written atomically (temp, fsync, rename, fsync dir):
//                                  magic "MQRAFTSS" | version u32 (2) | crc32c u32 |
//                                  index u64 | term u64 | size u64 |
//                                  voters_size u32 | voters | data
//                                  (crc32c over everything after it; version 1,
//                                  still read, has no voters_size and voters)
//   directory-id                 32 hex digits and a newline, made when the directory is
//                                  first opened: who this directory is (docs/raft.md,
//                                  "A voter that lost its directory")
//   log-<first index:020>.raft   log segments, entry frames back to back:
//                                  length u32 | crc32c u32 | index u64 | term u64 |
//                                  type u8 | data   (length and crc32c cover index..data)
//
// Little-endian throughout. An append writes its frames in one write and
// fdatasyncs before returning; a new segment (rolled past segment_bytes) is
// made durable in the directory first. docs/raft.md has the full text,
// including what recovery does with a torn or corrupt tail.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/storage.h"
#include "store/file.h"

namespace mq::raft {

struct FileStorageOptions {
  uint64_t segment_bytes = 16 << 20;  // a segment rolls once it is this large
  // A hard state whose term and vote are unchanged (only the commit index
  // moved) is rewritten once the commit index has moved this far. The commit
  // index is not needed for safety: a restarted node re-learns it from the
  // leader; what is stored only lets it re-apply that much at once.
  uint64_t commit_write_interval = 1024;
};

class FileStorage : public RaftStorage {
 public:
  // Opens (creating if needed) the storage in `dir` and recovers it: a torn
  // tail of the last segment is cut back to the last whole entry. Damage
  // anywhere else is kCorruptMessage naming the file and byte offset.
  static Result<std::unique_ptr<FileStorage>> open(const std::string& dir,
                                                   FileStorageOptions options = {});

  Result<PersistentState> load() override;
  // This directory's id (RaftConfig::directory_id).
  const std::string& directory_id() const { return directory_id_; }
  Status save_hard_state(const HardState& state) override;
  Status append(std::span<const Entry> entries) override;
  Status save_snapshot(const Snapshot& snapshot) override;

  const std::string& dir() const { return dir_; }
  // Bytes cut from a torn tail when the storage was opened.
  uint64_t truncated_bytes() const { return truncated_bytes_; }

 private:
  struct Segment {
    uint64_t first_index = 0;
    File file;
    uint64_t size = 0;
    std::vector<uint64_t> offsets;  // of each entry's frame
    std::vector<uint64_t> terms;    // of each entry
    uint64_t last_index() const { return first_index + offsets.size() - 1; }
  };

  FileStorage(std::string dir, FileStorageOptions options)
      : dir_(std::move(dir)), options_(options) {}

  // Reads every file into `out`; with `repair`, cuts a torn tail and
  // finishes an interrupted save_snapshot.
  Status recover(bool repair, PersistentState* out);
  Status scan_segment(Segment& segment, bool is_last, bool repair, std::vector<Entry>* entries);
  Status truncate_from(uint64_t index);
  Status remove_segments_through(uint64_t index);
  Status roll(uint64_t first_index);
  std::optional<uint64_t> term_at(uint64_t index) const;
  uint64_t last_index() const;
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
  FileStorageOptions options_;
  std::vector<Segment> segments_;
  std::string directory_id_;
  uint64_t snapshot_index_ = 0;
  uint64_t snapshot_term_ = 0;
  uint64_t truncated_bytes_ = 0;
  HardState written_hard_state_;              // what the hard-state file holds
  std::optional<PersistentState> recovered_;  // what open() read, until a write or load()
};

}  // namespace mq::raft
