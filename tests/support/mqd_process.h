// Starts a real mqd process on 127.0.0.1 with ephemeral ports and a data
// directory of the test's, reads its endpoints from its log, and stops it.
// Every integration test starts brokers through this class.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace mq::testing {

class MqdProcess {
 public:
  // `extra_toml` is appended to the generated config (tables allowed).
  MqdProcess(std::string data_dir, std::string extra_toml = "")
      : data_dir_(std::move(data_dir)), extra_toml_(std::move(extra_toml)) {}
  ~MqdProcess() {
    if (pid_ > 0) kill_now();
  }

  enum class WaitFor { kServing, kHttp };

  // Starts mqd and waits (up to 30 s) until it serves clients, or with
  // WaitFor::kHttp only until its HTTP server answers (recovery may still be
  // running). False on failure.
  bool start(WaitFor wait_for = WaitFor::kServing) {
    {
      // A restart: wait for this run's lines, not the last run's.
      std::lock_guard lock(mu_);
      log_.clear();
    }
    std::string config = data_dir_ + ".toml";
    {
      std::ofstream out(config);
      out << "data_dir = \"" << data_dir_ << "\"\n"
          << top_level_ << "\n"
          << "[listeners]\nclient = \"tcp://127.0.0.1:" << client_port_ << "\"\n"
          << listeners_toml_ << "\n"
          << "[http]\naddress = \"127.0.0.1:0\"\n"
          << extra_toml_ << "\n";
    }
    int err[2];
    if (::pipe2(err, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    std::string binary = MQ_MQD_BINARY;
    std::string flag = "--config";
    char* argv[] = {binary.data(), flag.data(), config.data(), nullptr};
    std::vector<char*> env;
    for (char** e = environ; *e != nullptr; e++) env.push_back(*e);
    for (std::string& e : env_) env.push_back(e.data());
    env.push_back(nullptr);
    int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv, env.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(err[1]);
    if (rc != 0) return false;
    log_fd_ = err[0];
    reader_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(log_fd_, buf, sizeof(buf))) > 0) {
        std::lock_guard lock(mu_);
        log_.append(buf, static_cast<size_t>(n));
      }
    });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mu_);
        size_t at = log_.find("serving clients on ");
        size_t http = log_.find("HTTP on 127.0.0.1:");
        if (http != std::string::npos && wait_for == WaitFor::kHttp) {
          http_port_ = std::stoi(log_.substr(http + 18));
          return true;
        }
        if (at != std::string::npos && http != std::string::npos) {
          endpoint_ = log_.substr(at + 19, log_.find('\n', at) - at - 19);
          http_port_ = std::stoi(log_.substr(http + 18));
          return true;
        }
      }
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        finish();  // mqd exited: its log is complete, join the reader
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  // Sends `sig` and waits up to `timeout_ms` for the exit; returns the exit
  // status (as from waitpid), or -1 if it did not exit in time.
  int stop(int sig = SIGTERM, int timeout_ms = 10000) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        finish();
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  // Sends `sig` without waiting (SIGHUP: reload the config file).
  void signal(int sig) {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // Waits up to `timeout_ms` for mqd to exit by itself; its exit status
  // (as from waitpid), or -1 if it still runs.
  int wait_exit(int timeout_ms = 10000) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        finish();
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  void kill_now() {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
    finish();
  }

  void set_top_level(std::string toml) { top_level_ = std::move(toml); }
  // Replaces the `extra_toml` given at construction, from the next start
  // on: a restart with another config.
  void set_extra_toml(std::string toml) { extra_toml_ = std::move(toml); }
  // More keys of the [listeners] table (e.g. quorum = "tcp://...").
  void set_listeners_toml(std::string toml) { listeners_toml_ = std::move(toml); }
  // A fixed client port (default 0: the kernel's pick), so a restarted mqd
  // is where clients last saw it.
  void set_client_port(int port) { client_port_ = port; }
  // Adds NAME=VALUE to mqd's environment (on top of the test's own).
  void set_env(const std::string& name, const std::string& value) {
    env_.push_back(name + "=" + value);
  }
  // Waits up to `timeout_ms` for `text` to appear in the log.
  bool wait_for_log(const std::string& text, int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }
  const std::string& endpoint() const { return endpoint_; }
  int http_port() const { return http_port_; }
  pid_t pid() const { return pid_; }
  std::string log() {
    std::lock_guard lock(mu_);
    return log_;
  }

 private:
  void finish() {
    pid_ = -1;
    if (reader_.joinable()) reader_.join();
    if (log_fd_ >= 0) ::close(log_fd_);
    log_fd_ = -1;
  }

  std::string data_dir_;
  std::string extra_toml_;
  std::string top_level_;
  std::string listeners_toml_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  int log_fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::string log_;
  std::string endpoint_;
  int http_port_ = -1;
  int client_port_ = 0;
};

}  // namespace mq::testing
