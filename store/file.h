// Thin POSIX file handle with error values, plus the atomic checkpoint write
// (temp file, fsync, rename, fsync directory) every checkpoint file uses.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq {

class File {
 public:
  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens read-write, creating the file if `create` is set.
  static Result<File> open(const std::string& path, bool create);
  static Result<File> open_read_only(const std::string& path);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Writes all of `data` at `offset`; on failure some prefix may have been written.
  Status write_at(uint64_t offset, std::span<const uint8_t> data);
  // Reads up to `size` bytes at `offset`; returns how many (fewer only at end of file).
  Result<size_t> read_at(uint64_t offset, std::span<uint8_t> out) const;
  Result<uint64_t> size() const;
  Status truncate(uint64_t size);
  Status sync();  // fdatasync
  Status close();

 private:
  File(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// Maps an errno to a Status that names the operation and path. ENOSPC and
// EDQUOT become kDiskFull, everything else kStorageError.
Status io_error(const std::string& op, const std::string& path, int err);

// Replaces `path` with `data` atomically and durably.
Status write_file_atomically(const std::string& path, std::string_view data);
// Reads a whole (small) file; kNotFound if it does not exist.
Result<std::string> read_small_file(const std::string& path);
Status sync_directory(const std::string& dir);
Status remove_file(const std::string& path);  // ok if already absent
bool file_exists(const std::string& path);
// Names (not paths) of the entries of `dir`.
Result<std::vector<std::string>> list_directory(const std::string& dir);
Status create_directories(const std::string& dir);

}  // namespace mq
