// mqctl cluster brokers and cluster health run in-process against the client
// tests' fake broker, which does not serve DescribeCluster: a broker older
// than that API. The views against real clusters are in
// tests/integration/cluster_admin_test.cc.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "ctl/app.h"
#include "tests/client/fake_broker.h"
#include "tests/ctl/run_mqctl.h"
#include "tests/support/temp_dir.h"

namespace mq::ctl {
namespace {

using json = nlohmann::json;

using testing::CommandResult;

class ClusterCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string();
    ::setenv("XDG_CONFIG_HOME", config_.path().c_str(), 1);
    ::unsetenv("MQ_BROKERS");
  }

  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"-b", broker_.bootstrap(), "--timeout", "5s"});
    return testing::run_in_process(args);
  }

  client::testing::FakeBroker broker_;
  mq::testing::TempDir config_;
};

TEST_F(ClusterCommandsTest, BrokersFromABrokerWithoutDescribeClusterAreTheLiveOnes) {
  CommandResult listed = run({"-o", "json", "cluster", "brokers"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  json brokers = json::parse(listed.out);
  ASSERT_EQ(brokers.size(), 1u) << listed.out;
  EXPECT_EQ(brokers[0]["id"], client::testing::FakeBroker::kNodeId);
  EXPECT_EQ(brokers[0]["controller"], true);
  EXPECT_EQ(brokers[0]["fenced"], false);
  EXPECT_NE(listed.err.find("does not serve DescribeCluster"), std::string::npos) << listed.err;
  EXPECT_NE(listed.err.find("fenced brokers are not listed"), std::string::npos) << listed.err;
}

TEST_F(ClusterCommandsTest, HealthNeedsEveryTopicsMinInsyncReplicas) {
  ASSERT_EQ(run({"topic", "create", "known", "-p", "2", "-c", "min.insync.replicas=1"}).code, 0);
  CommandResult healthy = run({"-o", "json", "cluster", "health"});
  EXPECT_EQ(healthy.code, 0) << healthy.out << healthy.err;
  json doc = json::parse(healthy.out);
  EXPECT_EQ(doc["healthy"], true);
  EXPECT_EQ(doc["partitions"]["total"], 2);
  EXPECT_EQ(doc["brokers"][0]["reachable"], true);

  // The fake reports only the configs set on a topic: without this one,
  // nothing can be said of acks=all, and health does not claim it is fine.
  ASSERT_EQ(run({"topic", "create", "unknown", "-p", "1"}).code, 0);
  CommandResult unknown = run({"-o", "json", "cluster", "health"});
  EXPECT_EQ(unknown.code, 4) << unknown.out << unknown.err;
  doc = json::parse(unknown.out);
  ASSERT_EQ(doc["findings"].size(), 1u) << unknown.out;
  EXPECT_EQ(doc["findings"][0]["kind"], "check-failed");
  EXPECT_EQ(doc["findings"][0]["topic"], "unknown");
  EXPECT_NE(doc["findings"][0]["detail"].get<std::string>().find("min.insync.replicas"),
            std::string::npos)
      << unknown.out;
  CommandResult table = run({"cluster", "health"});
  EXPECT_EQ(table.code, 4);
  EXPECT_NE(table.out.find("check-failed  topic unknown"), std::string::npos) << table.out;
}

}  // namespace
}  // namespace mq::ctl
