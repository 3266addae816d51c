// mqctl's entry point as a function, so tests run commands in-process with
// their own streams: parses `argv`, resolves the global options (flags, then
// $MQ_BROKERS, then the profile, then defaults) and runs the chosen command.
#pragma once

#include "ctl/context.h"

namespace mq::ctl {

// Returns the exit code (see ExitCode in ctl/context.h).
int run_mqctl(int argc, const char* const* argv, Streams streams);

}  // namespace mq::ctl
