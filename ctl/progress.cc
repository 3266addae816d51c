// ProgressLine: one thread redrawing a line on stderr.
#include "ctl/progress.h"

#include <chrono>
#include <cstdio>

namespace mq::ctl {

bool progress_wanted(const Context& ctx, bool prints_as_it_goes) {
  return ctx.io.err_is_terminal && ctx.output == OutputFormat::kTable &&
         !(prints_as_it_goes && ctx.io.out_is_terminal);
}

ProgressLine::ProgressLine(const Context& ctx, std::function<std::string()> line,
                           bool prints_as_it_goes) {
  if (!progress_wanted(ctx, prints_as_it_goes)) return;
  FILE* err = ctx.io.err;
  thread_ = std::thread([this, err, line = std::move(line)] {
    while (!finished_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (finished_.load()) break;
      std::string text = line();
      // \r and "erase to the end of the line": a shorter line leaves no tail.
      std::fprintf(err, "\r%s\033[K", text.c_str());
      std::fflush(err);
    }
    std::fprintf(err, "\r\033[K");
    std::fflush(err);
  });
}

ProgressLine::~ProgressLine() {
  finished_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace mq::ctl
