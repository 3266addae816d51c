// The fixture of the mqctl integration tests (mqctl_test.cc,
// mqctl_formats_test.cc): one real mqd per test, and the real mqctl binary
// run through sh the way operators and scripts run it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace mq::testing {

class MqctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No initial rebalance delay: each `consume -g` joins an empty group at once.
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"),
                                           "[group]\ninitial_rebalance_delay_ms = 0\n");
    ASSERT_TRUE(broker_->start()) << broker_->log();
    std::string endpoint = broker_->endpoint();  // tcp://127.0.0.1:PORT
    brokers_ = endpoint.substr(endpoint.find("//") + 2);
  }

  // Runs `command` under sh with mqctl as $MQCTL, the broker in MQ_BROKERS
  // and profiles in the test's directory. `timeout 60` bounds every command.
  Shell sh(const std::string& command) {
    return run_shell("cd " + dir_.path() + " && XDG_CONFIG_HOME=" + dir_.file("config") +
                         " MQ_BROKERS=" + brokers_ + " MQCTL=" + MQ_MQCTL_BINARY +
                         " timeout 60 sh -c '" + command + "'",
                     dir_.file("stderr"));
  }

  Shell ok(const std::string& command) {
    Shell result = sh(command);
    EXPECT_EQ(result.code, 0) << command << "\n" << result.err;
    return result;
  }

  // `group describe` as JSON (the one group).
  nlohmann::json describe(const std::string& group) {
    nlohmann::json described =
        nlohmann::json::parse(ok("$MQCTL -o json group describe " + group).out);
    return described.at(0);
  }

  // Waits up to 30 s for `done` on `group describe`.
  bool wait_for_group(const std::string& group,
                      const std::function<bool(const nlohmann::json&)>& done) {
    return eventually(
        [&] {
          Shell r = sh("$MQCTL -o json group describe " + group);
          return r.code == 0 && done(nlohmann::json::parse(r.out).at(0));
        },
        std::chrono::seconds(30), std::chrono::milliseconds(200));
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  std::string brokers_;
};

}  // namespace mq::testing
