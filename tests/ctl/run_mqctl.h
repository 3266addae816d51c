// Test support: runs mqctl in-process (run_mqctl) on in-memory streams and
// returns its exit code, stdout and stderr.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ctl/app.h"

namespace mq::ctl::testing {

struct CommandResult {
  int code = -1;
  std::string out;
  std::string err;
};

// `args` without the program name; `input` is its standard input.
inline CommandResult run_in_process(const std::vector<std::string>& args,
                                    const std::string& input = "") {
  std::vector<const char*> argv{"mqctl"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  char* out_data = nullptr;
  char* err_data = nullptr;
  size_t out_size = 0, err_size = 0;
  Streams streams;
  streams.in = std::tmpfile();
  std::fputs(input.c_str(), streams.in);
  std::rewind(streams.in);
  streams.out = open_memstream(&out_data, &out_size);
  streams.err = open_memstream(&err_data, &err_size);
  CommandResult result;
  result.code = run_mqctl(static_cast<int>(argv.size()), argv.data(), streams);
  std::fclose(streams.in);
  std::fclose(streams.out);
  std::fclose(streams.err);
  result.out.assign(out_data, out_size);
  result.err.assign(err_data, err_size);
  std::free(out_data);
  std::free(err_data);
  return result;
}

}  // namespace mq::ctl::testing
