// mqctl: the mq operator CLI. All of it lives in the mq_ctl library (ctl/app.h).
#include <unistd.h>

#include <csignal>

#include "ctl/app.h"

int main(int argc, char** argv) {
  // A closed pipe (`mqctl consume t | head`) ends mqctl quietly, as it does `cat`.
  std::signal(SIGPIPE, SIG_DFL);
  mq::ctl::Streams streams;
  streams.in_is_terminal = ::isatty(STDIN_FILENO) == 1;
  streams.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  streams.err_is_terminal = ::isatty(STDERR_FILENO) == 1;
  return mq::ctl::run_mqctl(argc, argv, streams);
}
