// The simulated power loss (store/power_loss.h): a child process writes with
// MQ_TEST_POWER_LOSS_JOURNAL set and kills itself with SIGKILL; the test then
// drops what was never fsynced and reopens the log, which must end exactly
// where the fsyncs say.
#include "store/power_loss.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "store/file.h"
#include "store/log.h"
#include "tests/store/batches.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

namespace fs = std::filesystem;
using testing::make_batch;
using testing::TempDir;

// SIGKILL to this process: nothing closed, nothing flushed.
void kill_self() {
  ::kill(::getpid(), SIGKILL);
  ::_exit(4);
}

// Runs `work` in a child process that then dies of SIGKILL (what kill -9
// leaves). `work` returns false on a failure; work that holds a Log open
// calls kill_self() itself, or the Log's destructor would close it cleanly.
void run_and_kill(const std::function<bool()>& work) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!work()) ::_exit(3);
    kill_self();
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child failed before the kill (status " << status << ")";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

// Every journal under `root`.
std::vector<std::string> journals(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.path().filename() == kPowerLossJournalName) out.push_back(entry.path().string());
  }
  return out;
}

class PowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv(std::string(kPowerLossJournalEnv).c_str(), "1", 1); }
  void TearDown() override { ::unsetenv(std::string(kPowerLossJournalEnv).c_str()); }

  static LogConfig config(FsyncPolicy policy) {
    LogConfig c;
    c.fsync_policy = policy;
    c.flush_interval_ms = 3'600'000;  // only explicit flushes and rolls sync
    c.segment_bytes = 2048;           // several rolls per test
    c.index_interval_bytes = 128;
    return c;
  }

  std::unique_ptr<Log> reopen(FsyncPolicy policy) {
    Result<std::unique_ptr<Log>> log = Log::open(log_dir_, config(policy));
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }

  // Appends `count` batches of 5 records; false on an error.
  static bool append(Log& log, int count, std::vector<int64_t>* acked = nullptr) {
    for (int i = 0; i < count; i++) {
      std::string batch = make_batch(5, 1000 + i);
      Result<AppendResult> r = log.append(as_writable_bytes(batch));
      if (!r.is_ok()) return false;
      if (acked != nullptr) acked->push_back(r->last_offset);
    }
    return true;
  }

  static std::vector<int64_t> offsets(const Log& log) {
    std::vector<int64_t> out;
    testing::for_each_record(log, [&](const Record& r) { out.push_back(r.offset); });
    return out;
  }

  TempDir root_;
  TempDir results_;  // outside the data directory: the child's report
  std::string log_dir_ = root_.file("topic-0");
};

TEST_F(PowerLossTest, IntervalLogEndsExactlyAtTheLastFsync) {
  run_and_kill([&] {
    Result<std::unique_ptr<Log>> log = Log::open(log_dir_, config(FsyncPolicy::kInterval));
    if (!log.is_ok() || !append(**log, 40) || !(*log)->flush().is_ok()) return false;
    int64_t flushed = (*log)->log_end_offset();
    // A roll syncs everything written so far (the recovery point says so):
    // append until the last append did not roll, so its batch is unsynced.
    bool rolled = true;
    for (int appended = 0; appended < 6 || rolled; ++appended) {
      size_t segments = (*log)->segment_count();
      if (!append(**log, 1)) return false;
      rolled = (*log)->segment_count() != segments;
    }
    spit(results_.file("ends"), std::to_string(flushed) + " " +
                                    std::to_string((*log)->recovery_point()) + " " +
                                    std::to_string((*log)->log_end_offset()));
    kill_self();
    return true;
  });
  int64_t flushed = 0, recovery_point = 0, written = 0;
  std::istringstream(slurp(results_.file("ends"))) >> flushed >> recovery_point >> written;
  ASSERT_EQ(flushed, 200);
  ASSERT_GE(recovery_point, flushed);
  ASSERT_GE(written, 230);
  ASSERT_LT(recovery_point, written) << "some appends were never fsynced";

  ASSERT_FALSE(journals(root_.path()).empty());
  Status simulated = simulate_power_loss(root_.path());
  ASSERT_TRUE(simulated.is_ok()) << simulated.to_string();
  EXPECT_FALSE(journals(root_.path()).empty()) << "the journals restart from what survived";

  auto log = reopen(FsyncPolicy::kInterval);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->recovery_report().clean_shutdown);
  EXPECT_EQ(log->log_end_offset(), recovery_point) << "not shorter, not longer than the last fsync";
  std::vector<int64_t> read = offsets(*log);
  ASSERT_EQ(read.size(), static_cast<size_t>(recovery_point));
  for (size_t i = 0; i < read.size(); i++) ASSERT_EQ(read[i], static_cast<int64_t>(i));
}

TEST_F(PowerLossTest, NeverFsyncKeepsWhatRollsSynced) {
  run_and_kill([&] {
    Result<std::unique_ptr<Log>> log = Log::open(log_dir_, config(FsyncPolicy::kNever));
    if (!log.is_ok() || !append(**log, 50)) return false;
    spit(results_.file("ends"),
         std::to_string((*log)->recovery_point()) + " " + std::to_string((*log)->log_end_offset()));
    kill_self();
    return true;
  });
  int64_t recovery_point = 0, written = 0;
  std::istringstream(slurp(results_.file("ends"))) >> recovery_point >> written;
  ASSERT_GT(recovery_point, 0) << "segments were rolled, and rolls sync";
  ASSERT_LT(recovery_point, written);

  ASSERT_TRUE(simulate_power_loss(root_.path()).is_ok());
  auto log = reopen(FsyncPolicy::kNever);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->recovery_report().clean_shutdown);
  EXPECT_EQ(log->log_end_offset(), recovery_point);
  EXPECT_EQ(offsets(*log).size(), static_cast<size_t>(recovery_point));
}

TEST_F(PowerLossTest, FsyncAlwaysLosesNothingAcknowledged) {
  run_and_kill([&] {
    Result<std::unique_ptr<Log>> log = Log::open(log_dir_, config(FsyncPolicy::kAlways));
    std::vector<int64_t> acked;
    if (!log.is_ok() || !append(**log, 60, &acked)) return false;
    spit(results_.file("acked"), std::to_string(acked.back()));
    kill_self();
    return true;
  });
  int64_t last_acked = std::stoll(slurp(results_.file("acked")));
  ASSERT_EQ(last_acked, 299);
  ASSERT_TRUE(simulate_power_loss(root_.path()).is_ok());
  auto log = reopen(FsyncPolicy::kAlways);
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->recovery_report().clean_shutdown);
  EXPECT_GT(log->segment_count(), 2u) << "the test crosses segment rolls";
  EXPECT_EQ(log->log_end_offset(), last_acked + 1);
  EXPECT_EQ(offsets(*log).size(), static_cast<size_t>(last_acked + 1));
}

// The rules on plain files: fsynced length, directory entries, renames.
TEST_F(PowerLossTest, FilesAreCutToTheirFsyncsAndUnsyncedEntriesDisappear) {
  std::string dir = root_.file("d");
  run_and_kill([&] {
    if (!create_directories(dir).is_ok()) return false;
    auto write = [](const std::string& path, uint64_t at, const std::string& bytes,
                    bool sync) -> bool {
      Result<File> file = File::open(path, /*create=*/true);
      if (!file.is_ok() || !file->write_at(at, as_bytes(bytes)).is_ok()) return false;
      return !sync || file->sync().is_ok();
    };
    if (!write(dir + "/synced", 0, std::string(100, 'a'), true)) return false;
    if (!write(dir + "/listed-never-synced", 0, "lost bytes", false)) return false;
    if (!write_file_atomically(dir + "/checkpoint", "version 1").is_ok()) return false;
    if (!sync_directory(dir).is_ok()) return false;
    // After the directory's last fsync:
    if (!write(dir + "/synced", 100, std::string(50, 'b'), false)) return false;
    if (!write(dir + "/new-synced", 0, "x", true)) return false;
    if (!write(dir + "/new-never-synced", 0, "y", false)) return false;
    if (!create_directories(dir + "/sub").is_ok()) return false;
    if (!write(dir + "/sub/inner", 0, "z", true)) return false;
    // The atomic write syncs the directory again, listing what exists now ...
    if (!write_file_atomically(dir + "/checkpoint", "version 2").is_ok()) return false;
    // ... so only what comes after it is new.
    return write(dir + "/after-last", 0, "w", true);
  });
  Status simulated = simulate_power_loss(root_.path());
  ASSERT_TRUE(simulated.is_ok()) << simulated.to_string();
  EXPECT_EQ(slurp(dir + "/synced"), std::string(100, 'a'));
  EXPECT_TRUE(fs::exists(dir + "/listed-never-synced"));
  EXPECT_EQ(fs::file_size(dir + "/listed-never-synced"), 0u);
  EXPECT_EQ(slurp(dir + "/checkpoint"), "version 2");
  EXPECT_TRUE(fs::exists(dir + "/new-synced")) << "listed by the second directory fsync";
  EXPECT_EQ(slurp(dir + "/new-synced"), "x");
  EXPECT_EQ(fs::file_size(dir + "/new-never-synced"), 0u);
  EXPECT_TRUE(fs::exists(dir + "/sub"));
  EXPECT_FALSE(fs::exists(dir + "/sub/inner")) << "sub was never fsynced";
  EXPECT_FALSE(fs::exists(dir + "/after-last")) << "created after the last directory fsync";
  EXPECT_FALSE(fs::exists(dir + "/checkpoint.tmp"));
}

// A second power loss keeps what survived the first, though nothing was
// fsynced again since: the first one restarts the journals from there.
TEST_F(PowerLossTest, ASecondPowerLossKeepsWhatSurvivedTheFirst) {
  std::string dir = root_.file("d");
  run_and_kill([&] {
    if (!create_directories(dir).is_ok()) return false;
    return write_file_atomically(dir + "/directory-id", "0123456789abcdef\n").is_ok();
  });
  ASSERT_TRUE(simulate_power_loss(root_.path()).is_ok());
  ASSERT_EQ(slurp(dir + "/directory-id"), "0123456789abcdef\n");
  EXPECT_FALSE(journals(root_.path()).empty()) << "the journals start again from what survived";
  // The next run fsyncs another file in the same directory, then dies.
  run_and_kill([&] {
    Result<File> file = File::open(dir + "/segment", /*create=*/true);
    if (!file.is_ok() || !file->write_at(0, as_bytes(std::string("abc"))).is_ok()) return false;
    if (!file->sync().is_ok()) return false;
    if (!sync_directory(dir).is_ok()) return false;
    return file->write_at(3, as_bytes(std::string("lost"))).is_ok();
  });
  Status second = simulate_power_loss(root_.path());
  ASSERT_TRUE(second.is_ok()) << second.to_string();
  EXPECT_EQ(slurp(dir + "/directory-id"), "0123456789abcdef\n")
      << "cut to nothing: the first power loss forgot it was durable";
  EXPECT_EQ(slurp(dir + "/segment"), "abc");
}

// create_directories syncs each new level's parent: a partition directory
// created and written to does not vanish with everything in it.
TEST_F(PowerLossTest, NewDirectoriesSurviveOnceCreated) {
  std::string top = root_.file("top");
  run_and_kill([&] {
    if (!create_directories(top).is_ok() || !sync_directory(top).is_ok()) return false;
    // `top` is journaled now, listing nothing; then a new partition directory:
    if (!create_directories(top + "/orders-0/nested").is_ok()) return false;
    Result<File> file = File::open(top + "/orders-0/nested/data", /*create=*/true);
    if (!file.is_ok() || !file->write_at(0, as_bytes(std::string("kept"))).is_ok()) return false;
    if (!file->sync().is_ok()) return false;
    return sync_directory(top + "/orders-0/nested").is_ok();
  });
  ASSERT_TRUE(simulate_power_loss(root_.path()).is_ok());
  EXPECT_TRUE(fs::exists(top + "/orders-0")) << "the new directory was lost";
  EXPECT_EQ(slurp(top + "/orders-0/nested/data"), "kept");
}

TEST_F(PowerLossTest, NoJournalWithoutTheVariableAndRecoveryIgnoresIt) {
  ::unsetenv(std::string(kPowerLossJournalEnv).c_str());
  {
    auto log = reopen(FsyncPolicy::kAlways);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(append(*log, 30));
    ASSERT_TRUE(log->close().is_ok());
  }
  EXPECT_TRUE(journals(root_.path()).empty());

  ::setenv(std::string(kPowerLossJournalEnv).c_str(), "1", 1);
  {
    auto log = reopen(FsyncPolicy::kAlways);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(append(*log, 30));
    ASSERT_TRUE(log->close().is_ok());
  }
  EXPECT_TRUE(fs::exists(log_dir_ + "/" + std::string(kPowerLossJournalName)));
  auto log = reopen(FsyncPolicy::kAlways);
  ASSERT_NE(log, nullptr);
  EXPECT_TRUE(log->recovery_report().clean_shutdown);
  EXPECT_TRUE(log->recovery_report().notes.empty());
  EXPECT_EQ(log->log_end_offset(), 300);
}

TEST_F(PowerLossTest, MalformedJournalsAreClearErrorsAndChangeNothing) {
  std::string dir = root_.file("d");
  ASSERT_TRUE(create_directories(dir).is_ok());
  spit(dir + "/data", "0123456789");
  std::string journal = dir + "/" + std::string(kPowerLossJournalName);
  struct Case {
    std::string text;
    std::string error;
  };
  for (const Case& c : {
           Case{"F 12 abc data\n", "line 1: F record without a length"},
           Case{"D 1\nE 5 data\nQ 1 2\n", "line 3: unknown record type \"Q\""},
           Case{"X\n", "line 1: \"X\" does not start with a tag and a number"},
           Case{"D 2\nE 5 data\nF 1 2 x\n", "line 3: expected \"E <inode> <name>\""},
           Case{"D 1\nE 5\n", "line 2: expected \"E <inode> <name>\""},
           Case{"\n", "line 1: empty record"},
       }) {
    spit(journal, c.text);
    Status status = simulate_power_loss(root_.path());
    EXPECT_EQ(status.code(), ErrorCode::kCorruptMessage) << c.text;
    EXPECT_NE(status.message().find(journal + " " + c.error), std::string::npos)
        << c.text << " -> " << status.message();
    EXPECT_EQ(slurp(dir + "/data"), "0123456789") << c.text;
    EXPECT_TRUE(fs::exists(journal));
  }
  // A last record torn by the kill (no line end, or a listing cut short) is
  // not a malformed journal: the fsync it reports just does not count.
  for (const std::string& torn :
       {std::string("D 1\nE 5 data\nF 5 4 da"), std::string("D 1\nE 5 data\nD 3\nE 7 other\n")}) {
    spit(journal, torn);
    Status status = simulate_power_loss(root_.path());
    EXPECT_TRUE(status.is_ok()) << status.to_string();
    // Replaced by one that starts from what survived.
    EXPECT_EQ(slurp(journal).find(torn), std::string::npos);
    EXPECT_NE(slurp(journal).find(" data\n"), std::string::npos) << slurp(journal);
  }
  EXPECT_EQ(simulate_power_loss(root_.file("missing")).code(), ErrorCode::kStorageError);
}

TEST_F(PowerLossTest, TheToolRunsItFromTheCommandLine) {
  std::string dir = root_.file("d");
  run_and_kill([&] {
    if (!create_directories(dir).is_ok()) return false;
    Result<File> file = File::open(dir + "/f", /*create=*/true);
    if (!file.is_ok() || !file->write_at(0, as_bytes(std::string("durable"))).is_ok()) return false;
    if (!file->sync().is_ok() || !sync_directory(dir).is_ok()) return false;
    return file->write_at(7, as_bytes(std::string(" and not"))).is_ok();
  });
  std::string tool = MQ_POWER_LOSS_TOOL;
  EXPECT_EQ(slurp(dir + "/f"), "durable and not");
  EXPECT_EQ(std::system((tool + " " + root_.path()).c_str()), 0);
  EXPECT_EQ(slurp(dir + "/f"), "durable");
  spit(dir + "/" + std::string(kPowerLossJournalName), "Z 1\n");
  int status = std::system((tool + " " + root_.path() + " 2>" + results_.file("err")).c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(slurp(results_.file("err")).find("unknown record type \"Z\""), std::string::npos);
  status = std::system((tool + " 2>/dev/null").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
}

}  // namespace
}  // namespace mq
