// QuorumConfig validation and member parsing.
#include "quorum/quorum_config.h"

#include <gtest/gtest.h>

namespace mq::quorum {
namespace {

QuorumConfig three_voters() {
  QuorumConfig config;
  config.id = 1;
  config.voters = {
      {1, "tcp://127.0.0.1:9193"}, {2, "tcp://127.0.0.1:9293"}, {3, "tcp://127.0.0.1:9393"}};
  config.listen_endpoint = "tcp://127.0.0.1:9193";
  config.storage_dir = "/tmp/quorum";
  return config;
}

void expect_invalid(const QuorumConfig& config, const std::string& fragment) {
  Status status = validate(config);
  EXPECT_EQ(status.code(), ErrorCode::kInvalidConfig) << status.to_string();
  EXPECT_NE(status.message().find(fragment), std::string::npos) << status.message();
}

TEST(QuorumConfigTest, AValidConfigPassesAndMapsOntoRaft) {
  QuorumConfig config = three_voters();
  config.observers = {{4, "tcp://127.0.0.1:9493"}};
  ASSERT_TRUE(validate(config)) << validate(config).to_string();
  raft::RaftConfig raft = config.raft_config();
  EXPECT_EQ(raft.id, 1);
  EXPECT_EQ(raft.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_EQ(raft.observers, (std::vector<NodeId>{4}));
  EXPECT_EQ(raft.election_ticks, 20);  // 1000 ms / 50 ms
  EXPECT_EQ(raft.heartbeat_ticks, 1);
  EXPECT_TRUE(validate(raft));
}

TEST(QuorumConfigTest, AnObserverIsAValidOwnId) {
  QuorumConfig config = three_voters();
  config.observers = {{4, "tcp://127.0.0.1:9493"}};
  config.id = 4;
  EXPECT_TRUE(validate(config));
  EXPECT_FALSE(config.is_voter());
}

TEST(QuorumConfigTest, AnUnlistedOwnIdIsADynamicObserverListeningOnAReachableHost) {
  QuorumConfig config = three_voters();
  config.id = 7;
  config.listen_endpoint = "tcp://10.1.2.3:9493";
  EXPECT_TRUE(validate(config));
  EXPECT_TRUE(config.is_dynamic_observer());
  EXPECT_FALSE(config.is_voter());
  config.listen_endpoint = "tcp://127.0.0.1:0";  // the bound port is announced
  EXPECT_TRUE(validate(config));
  for (const char* wildcard : {"tcp://*:9493", "tcp://0.0.0.0:9493", "tcp://[::]:9493"}) {
    config.listen_endpoint = wildcard;
    expect_invalid(config, "needs a host they can reach");
  }
  config.listen_endpoint = "tcp://10.1.2.3";
  expect_invalid(config, "has no port");
  config.id = -3;
  expect_invalid(config, "negative");
  // A listed member may bind a wildcard: the others use its listed endpoint.
  config = three_voters();
  config.listen_endpoint = "tcp://0.0.0.0:9491";
  EXPECT_TRUE(validate(config));
}

TEST(QuorumConfigTest, RejectsVoterCountsOtherThanOneThreeOrFive) {
  QuorumConfig config = three_voters();
  config.voters.erase(3);
  expect_invalid(config, "1, 3 or 5 voters, not 2");
  config.voters.clear();
  expect_invalid(config, "not 0");
}

TEST(QuorumConfigTest, RejectsDuplicates) {
  QuorumConfig config = three_voters();
  config.observers = {{2, "tcp://127.0.0.1:9593"}};
  expect_invalid(config, "node 2 is both a voter and an observer");
  config.observers = {{4, "tcp://127.0.0.1:9293"}};
  expect_invalid(config, "endpoint tcp://127.0.0.1:9293 is listed for two members");
}

TEST(QuorumConfigTest, RejectsBadEndpoints) {
  for (std::string endpoint :
       {"127.0.0.1:9293", "tcp://127.0.0.1", "tcp://:9293", "tcp://127.0.0.1:70000",
        "tcp://127.0.0.1:0", "tcp://h:9x", "ipc:///tmp/q", "tcp://127.0.0.1:*"}) {
    QuorumConfig config = three_voters();
    config.voters[2] = endpoint;
    expect_invalid(config, "endpoint \"" + endpoint + "\"");
  }
  QuorumConfig config = three_voters();
  config.listen_endpoint = "tcp://127.0.0.1:0";
  EXPECT_TRUE(validate(config));
  config.listen_endpoint = "tcp://127.0.0.1:*";
  EXPECT_TRUE(validate(config));
  config.listen_endpoint = "udp://127.0.0.1:9193";
  expect_invalid(config, "does not start with tcp://");
}

TEST(QuorumConfigTest, RejectsTimingsThatLeaveNoRoomForAnElection) {
  QuorumConfig config = three_voters();
  config.tick_ms = 0;
  expect_invalid(config, "tick_ms");
  config = three_voters();
  config.election_timeout_ms = 100;  // 2 ticks
  expect_invalid(config, "at least 3 ticks");
  config = three_voters();
  config.heartbeat_interval_ms = 1000;
  expect_invalid(config, "heartbeat_interval_ms");
  config = three_voters();
  config.snapshot_every_entries = 0;
  expect_invalid(config, "snapshot_every_entries");
  config = three_voters();
  config.storage_dir.clear();
  expect_invalid(config, "storage directory");
  config = three_voters();
  config.max_message_bytes = 1 << 20;
  expect_invalid(config, "max_message_bytes");
}

}  // namespace
}  // namespace mq::quorum
