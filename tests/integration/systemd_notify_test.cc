// mqd under systemd's notification protocol: NOTIFY_SOCKET points at a unix
// datagram socket the test reads, as systemd would for Type=notify with
// WatchdogSec. STATUS= lines during start-up, READY=1 once serving, WATCHDOG=1
// while serving, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 last on
// SIGTERM, and a failed start says why and never READY=1.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/eventually.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace {

using mq::testing::MqdProcess;
using mq::testing::TempDir;
using Clock = std::chrono::steady_clock;

// The systemd end of the protocol: one datagram per sd_notify() call.
class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n <= 0) continue;
        std::lock_guard lock(mu_);
        messages_.push_back({Clock::now(), std::string(buf, static_cast<size_t>(n))});
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }

  struct Message {
    Clock::time_point at;
    std::string text;  // "KEY=value" lines
  };
  bool bound() const { return bound_; }
  const std::string& path() const { return path_; }
  std::vector<Message> messages() {
    std::lock_guard lock(mu_);
    return messages_;
  }
  // Index of the first message at or after `from` with a line matching
  // `line` ("READY=1"; a trailing * matches any rest: "STATUS=failed: *"),
  // waiting up to `timeout_ms`; -1 if none came.
  int wait_for(const std::string& line, size_t from = 0, int timeout_ms = 10000) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    do {
      std::vector<Message> all = messages();
      for (size_t i = from; i < all.size(); i++) {
        if (has_line(all[i].text, line)) return static_cast<int>(i);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (Clock::now() < deadline);
    return -1;
  }
  static bool has_line(const std::string& text, const std::string& line) {
    size_t at = 0;
    while (at <= text.size()) {
      size_t end = text.find('\n', at);
      std::string l = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
      bool prefix = line.back() == '*';
      if (prefix ? l.rfind(line.substr(0, line.size() - 1), 0) == 0 : l == line) return true;
      if (end == std::string::npos) break;
      at = end + 1;
    }
    return false;
  }
  int count(const std::string& line, size_t from = 0) {
    int n = 0;
    std::vector<Message> all = messages();
    for (size_t i = from; i < all.size(); i++) n += has_line(all[i].text, line) ? 1 : 0;
    return n;
  }
  std::string dump() {
    std::string out;
    for (const Message& m : messages()) out += "[" + m.text + "]\n";
    return out;
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  std::mutex mu_;
  std::vector<Message> messages_;
};

class SystemdNotifyTest : public ::testing::Test {
 protected:
  // Starts mqd with NOTIFY_SOCKET and, when watchdog_usec > 0, WATCHDOG_USEC.
  void start(int64_t watchdog_usec) {
    ASSERT_TRUE(notify_.bound()) << "cannot bind " << notify_.path();
    broker_.set_env("NOTIFY_SOCKET", notify_.path());
    if (watchdog_usec > 0) broker_.set_env("WATCHDOG_USEC", std::to_string(watchdog_usec));
    ASSERT_TRUE(broker_.start()) << broker_.log();
  }

  TempDir dir_;
  NotifySocket notify_{dir_.file("notify.sock")};
  MqdProcess broker_{dir_.file("data")};
};

TEST_F(SystemdNotifyTest, ReportsStatusWhileStartingThenReady) {
  start(0);
  int ready = notify_.wait_for("READY=1");
  ASSERT_GE(ready, 0) << notify_.dump();
  std::vector<NotifySocket::Message> all = notify_.messages();
  std::vector<NotifySocket::Message> before(all.begin(), all.begin() + ready);
  bool recovering = false;
  for (const auto& m : before) {
    EXPECT_TRUE(m.text.rfind("STATUS=", 0) == 0) << "only STATUS= before READY=1: " << m.text;
    recovering |= m.text.rfind("STATUS=recovering partition logs in ", 0) == 0;
  }
  EXPECT_TRUE(recovering) << notify_.dump();
  EXPECT_TRUE(NotifySocket::has_line(all[ready].text, "STATUS=serving"));
  EXPECT_EQ(notify_.count("READY=1"), 1);
  // Without WATCHDOG_USEC (no WatchdogSec=) mqd never pings.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(notify_.count("WATCHDOG=1"), 0) << notify_.dump();
}

TEST_F(SystemdNotifyTest, PingsTheWatchdogWhileServing) {
  start(200'000);  // WatchdogSec=200ms: mqd pings every 100 ms
  int ready = notify_.wait_for("READY=1");
  ASSERT_GE(ready, 0) << notify_.dump();
  EXPECT_EQ(notify_.count("WATCHDOG=1"), notify_.count("WATCHDOG=1", ready))
      << "no ping before READY=1";
  // One every 100 ms: 8 within 5 s even on a loaded test machine.
  EXPECT_TRUE(mq::testing::eventually([&] { return notify_.count("WATCHDOG=1") >= 8; },
                                      std::chrono::seconds(5)))
      << notify_.dump();
}

TEST_F(SystemdNotifyTest, ReloadsOnSighupAndStopsOnSigterm) {
  start(200'000);
  int ready = notify_.wait_for("READY=1");
  ASSERT_GE(ready, 0) << notify_.dump();

  ::kill(broker_.pid(), SIGHUP);
  int reloading = notify_.wait_for("RELOADING=1", ready + 1);
  ASSERT_GE(reloading, 0) << notify_.dump();
  int ready_again = notify_.wait_for("READY=1", reloading + 1);
  EXPECT_GT(ready_again, reloading) << notify_.dump();
  EXPECT_TRUE(broker_.wait_for_log("reloaded ")) << broker_.log();
  int pings = notify_.count("WATCHDOG=1", ready_again);
  EXPECT_TRUE(mq::testing::eventually(
      [&] { return notify_.count("WATCHDOG=1", ready_again) > pings; }, std::chrono::seconds(5)))
      << "pings go on after a reload\n"
      << notify_.dump();

  int status = broker_.stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << broker_.log();
  int stopping = notify_.wait_for("STOPPING=1", ready_again + 1, 1000);
  ASSERT_GE(stopping, 0) << notify_.dump();
  EXPECT_EQ(stopping + 1, static_cast<int>(notify_.messages().size()))
      << "STOPPING=1 is the last message (no watchdog pings while shutting down)\n"
      << notify_.dump();
}

TEST_F(SystemdNotifyTest, FailedStartSaysWhyAndNeverReady) {
  ASSERT_TRUE(notify_.bound());
  // The data directory cannot be created: a file is in the way.
  std::ofstream(dir_.file("data")) << "not a directory";
  broker_.set_env("NOTIFY_SOCKET", notify_.path());
  EXPECT_FALSE(broker_.start());
  int failed = notify_.wait_for("STATUS=failed: *", 0, 5000);
  ASSERT_GE(failed, 0) << notify_.dump() << broker_.log();
  EXPECT_EQ(notify_.count("READY=1"), 0) << notify_.dump();
}

}  // namespace
