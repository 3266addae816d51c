// The power-loss journal and its replay (store/power_loss.h).
#include "store/power_loss.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <system_error>

#include "store/file.h"

namespace mq {
namespace {

std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string name_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string journal_path(const std::string& dir) {
  return dir + "/" + std::string(kPowerLossJournalName);
}

// Appends `text` (whole records) to the journal of `dir` with one write(), so
// records of concurrent fsyncs do not interleave.
Status append_journal(const std::string& dir, const std::string& text) {
  std::string path = journal_path(dir);
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open power-loss journal", path, errno);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return io_error("write power-loss journal", path, err);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return Status::ok();
}

// What one directory's journal says.
struct Journal {
  std::map<ino_t, uint64_t> durable;     // inode -> fsynced length
  std::map<std::string, ino_t> listing;  // its entries at the last fsync (none: never)
};

Status malformed(const std::string& path, size_t line, const std::string& why) {
  return Status(ErrorCode::kCorruptMessage,
                "power-loss journal " + path + " line " + std::to_string(line) + ": " + why);
}

bool parse_number(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits "<tag> <number> [rest]" fields off `line`.
bool next_field(std::string_view& line, std::string_view* field) {
  size_t space = line.find(' ');
  *field = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return !field->empty();
}

Result<Journal> parse_journal(const std::string& path, const std::string& text) {
  Journal journal;
  // Lines ending in '\n'; an unterminated last line is a record torn by the
  // kill (the fsync it reports may not count) and is ignored.
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) break;
    lines.emplace_back(text.data() + start, end - start);
    start = end + 1;
  }
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view rest = lines[i];
    size_t number = i + 1;
    std::string_view tag, field;
    if (!next_field(rest, &tag)) return malformed(path, number, "empty record");
    uint64_t value = 0;
    if (!next_field(rest, &field) || !parse_number(field, &value)) {
      return malformed(path, number,
                       "\"" + std::string(lines[i]) + "\" does not start with a tag and a number");
    }
    if (tag == "F") {
      uint64_t length = 0;
      if (!next_field(rest, &field) || !parse_number(field, &length)) {
        return malformed(path, number,
                         "F record without a length: \"" + std::string(lines[i]) + "\"");
      }
      journal.durable[static_cast<ino_t>(value)] = length;
    } else if (tag == "X") {
      journal.durable.erase(static_cast<ino_t>(value));
    } else if (tag == "D") {
      std::map<std::string, ino_t> listing;
      bool torn = false;
      for (uint64_t k = 1; k <= value; ++k) {
        if (i + k >= lines.size()) {
          torn = true;
          break;
        }
        std::string_view entry = lines[i + k];
        std::string_view entry_tag, inode_text;
        uint64_t inode = 0;
        if (!next_field(entry, &entry_tag) || entry_tag != "E" || !next_field(entry, &inode_text) ||
            !parse_number(inode_text, &inode) || entry.empty()) {
          return malformed(path, number + k,
                           "expected \"E <inode> <name>\" (entry " + std::to_string(k) + " of " +
                               std::to_string(value) + "), got \"" + std::string(lines[i + k]) +
                               "\"");
        }
        listing[std::string(entry)] = static_cast<ino_t>(inode);
      }
      // A listing cut short by the kill: that fsync is not recorded.
      if (torn) break;
      journal.listing = std::move(listing);
      i += value;
    } else {
      return malformed(path, number, "unknown record type \"" + std::string(tag) + "\"");
    }
  }
  return journal;
}

struct Entry {
  std::string name;
  ino_t inode = 0;
  bool directory = false;
};

Result<std::vector<Entry>> entries_of(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return io_error("list", dir, errno);
  std::vector<Entry> out;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == kPowerLossJournalName) continue;
    bool directory = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      if (::lstat((dir + "/" + name).c_str(), &st) == 0) directory = S_ISDIR(st.st_mode);
    }
    out.push_back({std::move(name), e->d_ino, directory});
  }
  ::closedir(d);
  return out;
}

// Applies the journal of `dir` (if any), then descends into its subdirectories.
Status replay(const std::string& dir) {
  std::string path = journal_path(dir);
  if (file_exists(path)) {
    MQ_ASSIGN_OR_RETURN(std::string text, read_small_file(path));
    MQ_ASSIGN_OR_RETURN(Journal journal, parse_journal(path, text));
    MQ_ASSIGN_OR_RETURN(std::vector<Entry> entries, entries_of(dir));
    for (const Entry& entry : entries) {
      std::string entry_path = dir + "/" + entry.name;
      // Not in the last fsynced listing: created since, gone with the power.
      // (A name listed with another inode was renamed over since; the old
      // file no longer exists to go back to, so the new one stays.)
      if (!journal.listing.contains(entry.name)) {
        std::error_code ec;
        std::filesystem::remove_all(entry_path, ec);
        if (ec) {
          return Status(ErrorCode::kStorageError, "remove " + entry_path + ": " + ec.message());
        }
        continue;
      }
      if (entry.directory) continue;
      struct stat st;
      if (::lstat(entry_path.c_str(), &st) != 0) return io_error("stat", entry_path, errno);
      if (!S_ISREG(st.st_mode)) continue;
      auto durable = journal.durable.find(st.st_ino);
      uint64_t length = durable == journal.durable.end() ? 0 : durable->second;
      if (static_cast<uint64_t>(st.st_size) > length &&
          ::truncate(entry_path.c_str(), static_cast<off_t>(length)) != 0) {
        return io_error("truncate", entry_path, errno);
      }
    }
  }
  // What survived is on disk, as after a real power loss and a reboot: the
  // journal starts again from it (every file durable at its length, the
  // listing as it is), so a later simulated power loss of the same directory
  // keeps it, instead of cutting to nothing what was not fsynced again since.
  MQ_ASSIGN_OR_RETURN(std::vector<Entry> entries, entries_of(dir));
  std::string baseline;
  std::string listing = "D " + std::to_string(entries.size()) + "\n";
  for (const Entry& entry : entries) {
    listing += "E " + std::to_string(entry.inode) + " " + entry.name + "\n";
    if (entry.directory) continue;
    struct stat st;
    const std::string entry_path = dir + "/" + entry.name;
    if (::lstat(entry_path.c_str(), &st) != 0) return io_error("stat", entry_path, errno);
    if (!S_ISREG(st.st_mode)) continue;
    baseline += "F " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) + " " +
                entry.name + "\n";
  }
  // Not remove_file(): with the variable set that would journal the removal.
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove", path, errno);
  MQ_RETURN_IF_ERROR(append_journal(dir, baseline + listing));
  for (const Entry& entry : entries) {
    if (entry.directory) MQ_RETURN_IF_ERROR(replay(dir + "/" + entry.name));
  }
  return Status::ok();
}

}  // namespace

bool power_loss_journal_enabled() {
  const char* value = std::getenv(std::string(kPowerLossJournalEnv).c_str());
  return value != nullptr && value[0] != '\0';
}

Result<PendingFileSync> journal_before_file_sync(const std::string& path, int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return io_error("stat", path, errno);
  return PendingFileSync{
      .path = path, .inode = st.st_ino, .length = static_cast<uint64_t>(st.st_size)};
}

Status journal_file_synced(const PendingFileSync& sync) {
  return append_journal(parent_of(sync.path), "F " + std::to_string(sync.inode) + " " +
                                                  std::to_string(sync.length) + " " +
                                                  name_of(sync.path) + "\n");
}

Result<PendingDirectorySync> journal_before_directory_sync(const std::string& dir) {
  MQ_ASSIGN_OR_RETURN(std::vector<Entry> entries, entries_of(dir));
  PendingDirectorySync sync{.dir = dir, .entries = {}};
  for (Entry& entry : entries) {
    // A name with a line break cannot be written down; the store makes none.
    if (entry.name.find('\n') != std::string::npos) continue;
    sync.entries.emplace_back(entry.inode, std::move(entry.name));
  }
  return sync;
}

Status journal_directory_synced(const PendingDirectorySync& sync) {
  std::string text = "D " + std::to_string(sync.entries.size()) + "\n";
  for (const auto& [inode, name] : sync.entries) {
    text += "E " + std::to_string(inode) + " " + name + "\n";
  }
  return append_journal(sync.dir, text);
}

Status journal_file_removed(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status::ok() : io_error("stat", path, errno);
  }
  return append_journal(parent_of(path),
                        "X " + std::to_string(st.st_ino) + " " + name_of(path) + "\n");
}

Status simulate_power_loss(const std::string& data_dir) {
  struct stat st;
  if (::stat(data_dir.c_str(), &st) != 0) return io_error("stat", data_dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    return Status(ErrorCode::kInvalidRequest, data_dir + " is not a directory");
  }
  return replay(data_dir);
}

}  // namespace mq
