// Crash test: a writer process appends under fsync=always and reports every
// acknowledged append; it is killed with SIGKILL at random moments, many
// times. After each kill the log is recovered and checked: every acknowledged
// batch is there with its own records, offsets are dense, every CRC passes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "store/log.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace mq {
namespace {

struct Ack {
  int64_t base;
  int64_t last;
  std::string tag;
};

// Runs the writer for `run_ms`, kills it with SIGKILL, returns its complete ACK lines.
std::vector<Ack> run_and_kill(const std::string& dir, uint64_t seed, int run_ms) {
  int out[2];
  EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  std::string seed_arg = std::to_string(seed);
  std::string writer = MQ_CRASH_WRITER;
  char* argv[] = {writer.data(), const_cast<char*>(dir.c_str()), seed_arg.data(), nullptr};
  pid_t pid;
  EXPECT_EQ(posix_spawn(&pid, writer.c_str(), &actions, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);

  std::mutex mu;
  std::string output;
  std::thread drain([&] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(out[0], buf, sizeof(buf))) > 0) {
      std::lock_guard lock(mu);
      output.append(buf, static_cast<size_t>(n));
    }
  });
  // Wait until the writer has recovered the log (slow under sanitizers), then let it run.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mu);
      if (output.find("READY\n") != std::string::npos) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(run_ms));  // the writer writes meanwhile
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  drain.join();
  ::close(out[0]);
  EXPECT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
  EXPECT_NE(output.find("READY\n"), std::string::npos) << "the writer never opened the log";

  std::vector<Ack> acks;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line cut by the kill was never acknowledged to anyone
    std::istringstream fields(line);
    std::string word;
    Ack ack;
    if (fields >> word >> ack.base >> ack.last >> ack.tag && word == "ACK") acks.push_back(ack);
  }
  return acks;
}

TEST(CrashTest, NoAcknowledgedBatchIsLostAcrossRepeatedKills) {
  uint64_t seed = std::random_device{}();
  std::printf("crash test seed %llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  testing::TempDir dir;
  std::vector<Ack> acknowledged;
  constexpr int kKills = 40;
  for (int round = 0; round < kKills; round++) {
    std::vector<Ack> acks = run_and_kill(dir.path(), rng(), 20 + static_cast<int>(rng() % 150));
    acknowledged.insert(acknowledged.end(), acks.begin(), acks.end());

    LogConfig config;
    config.fsync_policy = FsyncPolicy::kAlways;
    config.segment_bytes = 256 * 1024;
    config.index_interval_bytes = 1024;
    config.max_batch_bytes = 1 << 20;
    Result<std::unique_ptr<Log>> opened = Log::open(dir.path(), config);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    Log& log = **opened;
    ASSERT_FALSE(log.recovery_report().clean_shutdown);
    int64_t expected_end = acknowledged.empty() ? 0 : acknowledged.back().last + 1;
    ASSERT_GE(log.log_end_offset(), expected_end) << "round " << round;

    // Dense offsets and valid CRCs over the whole log.
    int64_t offset = 0;
    RecordBatchReader reader;
    std::vector<Record> records;
    std::map<int64_t, std::string> first_value_by_batch;
    while (offset < log.log_end_offset()) {
      Result<LogReadResult> r = log.read(offset, 1 << 20);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ASSERT_FALSE(r->bytes.empty());
      BatchCursor cursor(as_bytes(r->bytes));
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        Result<BatchHeader> h = verify_batch(batch);
        ASSERT_TRUE(h.is_ok()) << h.status().to_string();
        ASSERT_EQ(h->base_offset, offset) << "offsets are dense";
        ASSERT_TRUE(reader.decode(batch, &records).is_ok());
        first_value_by_batch[h->base_offset] = std::string(*records.front().value);
        offset = h->next_offset();
      }
    }
    // Each acknowledged append is where it was acknowledged, with its own records.
    for (const Ack& ack : acknowledged) {
      auto it = first_value_by_batch.find(ack.base);
      ASSERT_NE(it, first_value_by_batch.end()) << "acknowledged offset " << ack.base << " lost";
      ASSERT_EQ(it->second.rfind(ack.tag + "-0-0", 0), 0u)
          << "offset " << ack.base << " holds another append's records";
    }
    ASSERT_TRUE(log.close().is_ok());
    // Reopen without the clean marker next time: the writer's open removes it.
  }
  std::printf("crash test: %d kills, %zu acknowledged appends verified\n", kKills,
              acknowledged.size());
  EXPECT_GT(acknowledged.size(), 100u) << "the writer made too little progress to test anything";
}

}  // namespace
}  // namespace mq
