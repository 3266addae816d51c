// Runs commands the way a shell script does, for integration tests: the
// exit code, stdout, stderr and how long it took. mqctl() runs the real
// mqctl binary (MQ_MQCTL_BINARY, when the test defines it).
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/temp_dir.h"

namespace mq::testing {

struct Shell {
  int code = -1;  // exit code; -1 if it did not exit normally
  std::string out;
  std::string err;
  double seconds = 0;
};

// Runs `command` under sh with its stderr in `err_file` (read back into
// Shell::err). The caller bounds it (`timeout N ...`).
inline Shell run_shell(const std::string& command, const std::string& err_file) {
  Shell result;
  auto start = std::chrono::steady_clock::now();
  FILE* pipe = ::popen((command + " 2>" + err_file).c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.out.append(buffer, n);
  int status = ::pclose(pipe);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return result;
}

#ifdef MQ_MQCTL_BINARY
// Runs `mqctl -b BROKERS ARGS` (ARGS a shell word list) with its profiles
// under `dir`, reading `stdin_text` (if any) on its standard input;
// `timeout 60` bounds it.
inline Shell mqctl(const TempDir& dir, const std::string& brokers, const std::string& args,
                   const std::string& stdin_text = "") {
  std::string in_file = "/dev/null";
  if (!stdin_text.empty()) {
    in_file = dir.file("mqctl.stdin");
    std::ofstream(in_file) << stdin_text;
  }
  return run_shell(std::string("XDG_CONFIG_HOME=") + dir.file("config") + " timeout 60 " +
                       MQ_MQCTL_BINARY + " -b " + brokers + " " + args + " <" + in_file,
                   dir.file("mqctl.stderr"));
}
#endif

// mqctl's JSON output (-o json); discarded (is_discarded()) if it is not JSON.
inline nlohmann::json json_of(const Shell& shell) {
  return nlohmann::json::parse(shell.out, nullptr, false);
}

}  // namespace mq::testing
