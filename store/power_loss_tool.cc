// mq-power-loss DATA_DIR: a test tool. Run on the data directory of a
// process killed with SIGKILL that ran with MQ_TEST_POWER_LOSS_JOURNAL set,
// it drops what a power loss would have (store/power_loss.h). Exit 0 when
// done, 1 on an error (said on stderr), 2 on bad arguments.
#include <cstdio>
#include <string>

#include "store/power_loss.h"

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] == '\0' || std::string(argv[1]) == "-h" ||
      std::string(argv[1]) == "--help") {
    std::fprintf(stderr,
                 "usage: mq-power-loss DATA_DIR\n"
                 "  Truncates the files under DATA_DIR (a SIGKILLed process's, run with\n"
                 "  MQ_TEST_POWER_LOSS_JOURNAL=1) to what was fsynced, removes what was\n"
                 "  created since its directory's last fsync, and restarts the journals\n"
                 "  from what survived (a second power loss keeps it).\n");
    return 2;
  }
  mq::Status status = mq::simulate_power_loss(argv[1]);
  if (!status.is_ok()) {
    std::fprintf(stderr, "mq-power-loss: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
