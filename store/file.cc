// POSIX file I/O with Status results.
#include "store/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "store/power_loss.h"

namespace mq {

Status io_error(const std::string& op, const std::string& path, int err) {
  ErrorCode code =
      (err == ENOSPC || err == EDQUOT) ? ErrorCode::kDiskFull : ErrorCode::kStorageError;
  return Status(code, op + " " + path + ": " + std::strerror(err));
}

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

File::File(File&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

Result<File> File::open(const std::string& path, bool create) {
  int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0)
    return errno == ENOENT && !create ? Status(ErrorCode::kNotFound, path)
                                      : io_error("open", path, errno);
  return File(fd, path);
}

Result<File> File::open_read_only(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? Status(ErrorCode::kNotFound, path) : io_error("open", path, errno);
  return File(fd, path);
}

Status File::write_at(uint64_t offset, std::span<const uint8_t> data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write", path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Result<size_t> File::read_at(uint64_t offset, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n =
        ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("read", path_, errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<uint64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return io_error("stat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status File::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate", path_, errno);
  return Status::ok();
}

Status File::sync() {
  if (power_loss_journal_enabled()) {
    MQ_ASSIGN_OR_RETURN(PendingFileSync pending, journal_before_file_sync(path_, fd_));
    if (::fdatasync(fd_) != 0) return io_error("fsync", path_, errno);
    return journal_file_synced(pending);
  }
  if (::fdatasync(fd_) != 0) return io_error("fsync", path_, errno);
  return Status::ok();
}

Status File::close() {
  if (fd_ < 0) return Status::ok();
  int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return io_error("close", path_, errno);
  return Status::ok();
}

Status sync_directory(const std::string& dir) {
  std::optional<PendingDirectorySync> pending;
  if (power_loss_journal_enabled()) {
    MQ_ASSIGN_OR_RETURN(pending, journal_before_directory_sync(dir));
  }
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return io_error("fsync directory", dir, err);
  return pending ? journal_directory_synced(*pending) : Status::ok();
}

Status write_file_atomically(const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  {
    MQ_ASSIGN_OR_RETURN(File file, File::open(tmp, /*create=*/true));
    MQ_RETURN_IF_ERROR(file.truncate(0));
    MQ_RETURN_IF_ERROR(
        file.write_at(0, {reinterpret_cast<const uint8_t*>(data.data()), data.size()}));
    std::optional<PendingFileSync> pending;
    if (power_loss_journal_enabled()) {
      MQ_ASSIGN_OR_RETURN(pending, journal_before_file_sync(tmp, file.fd()));
    }
    if (::fsync(file.fd()) != 0) return io_error("fsync", tmp, errno);
    if (pending) MQ_RETURN_IF_ERROR(journal_file_synced(*pending));
    MQ_RETURN_IF_ERROR(file.close());
  }
  if (power_loss_journal_enabled()) MQ_RETURN_IF_ERROR(journal_file_removed(path));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return io_error("rename", tmp, errno);
  return sync_directory(std::filesystem::path(path).parent_path().string());
}

Result<std::string> read_small_file(const std::string& path) {
  MQ_ASSIGN_OR_RETURN(File file, File::open_read_only(path));
  MQ_ASSIGN_OR_RETURN(uint64_t size, file.size());
  std::string data(size, '\0');
  MQ_ASSIGN_OR_RETURN(size_t n,
                      file.read_at(0, {reinterpret_cast<uint8_t*>(data.data()), data.size()}));
  data.resize(n);
  return data;
}

Status remove_file(const std::string& path) {
  if (power_loss_journal_enabled()) MQ_RETURN_IF_ERROR(journal_file_removed(path));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove", path, errno);
  return Status::ok();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<std::string>> list_directory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return io_error("list", dir, errno);
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(d);
  return names;
}

Status create_directories(const std::string& dir) {
  namespace fs = std::filesystem;
  // The levels that do not exist yet, outermost first: each one's parent is
  // synced once it exists, so a power cut cannot take back a directory (and
  // everything inside) that was created and written to.
  std::vector<fs::path> missing;
  std::error_code ec;
  for (fs::path p = fs::path(dir); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p, ec)) break;
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dir, ec);
  if (ec) return Status(ErrorCode::kStorageError, "create directory " + dir + ": " + ec.message());
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    fs::path parent = it->parent_path();
    MQ_RETURN_IF_ERROR(sync_directory(parent.empty() ? std::string(".") : parent.string()));
  }
  return Status::ok();
}

}  // namespace mq
