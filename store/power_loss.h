// A test hook for power loss (docs/storage-format.md §"Simulated power loss").
//
// A process killed with SIGKILL loses nothing the kernel already has: its
// writes stay in the page cache and reach the disk later. A power loss also
// drops every byte that was not fsynced and every directory entry created
// since its directory's last fsync. To test the second case, the store keeps
// a journal of what each fsync made durable, and simulate_power_loss() cuts
// the files of a SIGKILLed process's data directory back to that.
//
// The journal is kept only when the environment variable
// MQ_TEST_POWER_LOSS_JOURNAL is set (to anything but the empty string): tests
// only. Unset, each fsync costs one getenv() more and nothing is written.
//
// Every directory in which store/file.h fsyncs a file, or which it fsyncs,
// gets a journal named `.durable` (kPowerLossJournalName), appended to after
// each successful fsync:
//   F <inode> <length> <name>   the file was fsynced: its first <length> bytes are durable
//   X <inode> <name>            the file was removed (or replaced by a rename); forget it
//   D <count>                   the directory was fsynced; then <count> lines
//   E <inode> <name>            one entry (file or directory) it held when the fsync began
// Lengths and listings are taken before the fsync starts, so they never claim
// more than it covered. Log recovery and the Raft storage ignore the file.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq {

constexpr std::string_view kPowerLossJournalEnv = "MQ_TEST_POWER_LOSS_JOURNAL";
constexpr std::string_view kPowerLossJournalName = ".durable";

// Is the journal on? (One getenv(); the variable may change between calls.)
bool power_loss_journal_enabled();

// The store's file layer (store/file.cc) calls these around its fsyncs when
// the journal is on; each returns the journal write's error, if any.
struct PendingFileSync {
  std::string path;
  ino_t inode = 0;
  uint64_t length = 0;
};
// Before fsync(fd) of `path`: the inode and the length the fsync will cover.
Result<PendingFileSync> journal_before_file_sync(const std::string& path, int fd);
Status journal_file_synced(const PendingFileSync& sync);

struct PendingDirectorySync {
  std::string dir;
  std::vector<std::pair<ino_t, std::string>> entries;
};
// Before fsync of directory `dir`: its entries.
Result<PendingDirectorySync> journal_before_directory_sync(const std::string& dir);
Status journal_directory_synced(const PendingDirectorySync& sync);

// Before `path` is unlinked or renamed over: its inode is forgotten (inode
// numbers are reused). Nothing is written when the file does not exist.
Status journal_file_removed(const std::string& path);

// Run on the data directory of a SIGKILLed process (never on a live one).
// In every directory under `data_dir` (itself included) that has a journal:
// removes the entries that were not in the directory's last fsynced listing
// (all of them if it was never fsynced), truncates every regular file to its
// inode's last fsynced length (0 if never fsynced; a shorter file is left as
// it is). Directories without a journal are left untouched. Then every
// directory's journal is replaced by one saying that what survived is
// durable (each file at its length, the listing as it is), so a second
// simulated power loss starts from there. A malformed journal is a
// kCorruptMessage naming the file and
// line, with nothing changed in that directory; an unreadable tree a
// kStorageError.
Status simulate_power_loss(const std::string& data_dir);

}  // namespace mq
