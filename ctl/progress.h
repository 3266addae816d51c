// A progress line on stderr for long work a person watches (bench, topic
// trim, log dump): redrawn every 200 ms while the work runs and erased when
// it ends. Drawn only when stderr is a terminal and the output is a table:
// never into pipes, files or -o json/yaml; and, for a command that prints
// as it goes (log dump), only when stdout is not the terminal too, so the
// line never lands between output lines.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "ctl/context.h"

namespace mq::ctl {

class ProgressLine {
 public:
  // `line()` is the text to show now; it runs on the drawing thread.
  ProgressLine(const Context& ctx, std::function<std::string()> line,
               bool prints_as_it_goes = false);
  ~ProgressLine();  // stops drawing and erases the line
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  bool drawn() const { return thread_.joinable(); }

 private:
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// Whether a ProgressLine would be drawn for `ctx`.
bool progress_wanted(const Context& ctx, bool prints_as_it_goes = false);

}  // namespace mq::ctl
