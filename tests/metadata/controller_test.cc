// The controller's decisions, one operation at a time, applied to an image.
#include "metadata/controller.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/metadata/controller_fixture.h"

namespace mq::metadata {
namespace {

using Ids = std::vector<BrokerId>;

ControllerConfig test_config() {
  ControllerConfig config;
  config.broker_session_timeout_ms = 3000;
  config.seed = 42;
  return config;
}

bool has_substr(const Status& status, const std::string& text) {
  return status.message().find(text) != std::string::npos;
}

TEST(ControllerBrokersTest, RegistrationStartsFencedUntilCaughtUp) {
  ControllerHarness h(test_config());
  h.commit(h.controller().initialize_cluster("c"));
  EXPECT_EQ(h.image().cluster_id(), "c");
  EXPECT_FALSE(h.controller().initialize_cluster("again").is_ok());
  int64_t epoch = h.register_only(1, true);
  EXPECT_EQ(h.image().broker(1)->broker_epoch, epoch);
  EXPECT_TRUE(h.image().broker(1)->fenced);
  // Not yet caught up with its own registration: stays fenced, no records.
  auto behind =
      h.controller().broker_heartbeat({1, epoch, static_cast<uint64_t>(epoch - 1)}, h.now);
  ASSERT_TRUE(behind.is_ok());
  EXPECT_TRUE(behind->records.empty());
  EXPECT_TRUE(behind->response.fenced);
  HeartbeatResponse caught_up = h.heartbeat(1);
  EXPECT_FALSE(caught_up.fenced);
  EXPECT_FALSE(h.image().broker(1)->fenced);
}

TEST(ControllerBrokersTest, RejectsBadRegistrationsAndStaleHeartbeats) {
  ControllerHarness h(test_config());
  int64_t epoch = h.start_broker(1);
  uint64_t incarnation = h.image().broker(1)->incarnation_id;
  auto duplicate = h.controller().register_broker({1, incarnation, "tcp://x:1", "", true}, h.now);
  ASSERT_FALSE(duplicate.is_ok());
  EXPECT_TRUE(has_substr(duplicate.status(), "DUPLICATE_BROKER_REGISTRATION"));
  EXPECT_FALSE(h.controller().register_broker({-1, 5, "tcp://x:1", "", true}, h.now).is_ok());
  EXPECT_FALSE(h.controller().register_broker({2, 5, "", "", true}, h.now).is_ok());

  auto stale = h.controller().broker_heartbeat({1, epoch - 1, 100}, h.now);
  ASSERT_FALSE(stale.is_ok());
  EXPECT_EQ(stale.code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(has_substr(stale.status(), "STALE_BROKER_EPOCH"));
  auto unknown = h.controller().broker_heartbeat({9, 1, 100}, h.now);
  EXPECT_EQ(unknown.code(), ErrorCode::kBrokerNotAvailable);
  auto future = h.controller().broker_heartbeat({1, epoch + 10, 100}, h.now);
  EXPECT_EQ(future.code(), ErrorCode::kBrokerNotAvailable);
}

TEST(ControllerBrokersTest, SessionTimeoutFencesAndMovesLeadership) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2, 3}, {2, 3, 1}});
  h.stop_heartbeating(1);
  h.advance(2500);
  EXPECT_FALSE(h.image().broker(1)->fenced) << "within the session";
  h.advance(1000);
  EXPECT_TRUE(h.image().broker(1)->fenced);
  const PartitionState& p0 = h.partition("t", 0);
  EXPECT_EQ(p0.leader, 2);
  EXPECT_EQ(p0.leader_epoch, 1);
  EXPECT_EQ(p0.partition_epoch, 1);
  EXPECT_EQ(p0.isr, Ids({2, 3}));
  const PartitionState& p1 = h.partition("t", 1);
  EXPECT_EQ(p1.leader, 2);
  EXPECT_EQ(p1.leader_epoch, 0) << "leader unchanged";
  EXPECT_EQ(p1.isr, Ids({2, 3}));
  EXPECT_TRUE(p0.elr.empty()) << "min.insync.replicas 1: the ISR is not below it";
}

TEST(ControllerBrokersTest, NewControllerStartsEveryTimerFresh) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2}) h.start_broker(id);
  h.stop_heartbeating(1);
  h.now += 10'000;  // long silence, but the new controller never heard anyone
  h.new_controller(test_config());
  h.commit(h.controller().tick(h.now));
  EXPECT_FALSE(h.image().broker(1)->fenced);
  h.advance(3500);
  EXPECT_TRUE(h.image().broker(1)->fenced);
  EXPECT_FALSE(h.image().broker(2)->fenced);
}

TEST(ControllerBrokersTest, NewControllerRunsASessionFromWhereABrokerWasLastHeard) {
  ControllerHarness h(test_config());  // sessions of 3 s
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  h.stop_heartbeating(1);  // the previous controller's broker, dead
  h.now += 2000;
  h.new_controller(test_config());
  h.controller().heard_from(1, h.now - 2000);  // its last quorum message
  h.controller().heard_from(2, h.now - 2500);  // alive: its heartbeats move the timer on
  h.controller().heard_from(99, h.now);        // not registered: ignored
  h.commit(h.controller().tick(h.now));
  EXPECT_FALSE(h.image().broker(1)->fenced) << "2 s of a 3 s session";
  h.advance(1000);
  EXPECT_TRUE(h.image().broker(1)->fenced) << "fenced after 3 s, not a fresh session";
  EXPECT_EQ(h.partition("t", 0).leader, 2);
  EXPECT_FALSE(h.image().broker(2)->fenced);
  EXPECT_FALSE(h.image().broker(3)->fenced);
  EXPECT_EQ(h.image().broker(99), nullptr);
  // A time older than the timer's does not move it back.
  h.controller().heard_from(3, h.now - 100'000);
  h.advance(1000);
  EXPECT_FALSE(h.image().broker(3)->fenced);
}

TEST(ControllerBrokersTest, RestartedBrokerFencesItsOldSelf) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  int64_t old_epoch = h.image().broker(1)->broker_epoch;
  auto batch = h.controller().register_broker({1, 999, "tcp://a:2", "", true}, h.now);
  ASSERT_TRUE(batch.is_ok());
  ASSERT_GE(batch->size(), 3u);
  EXPECT_EQ(std::get<FenceBroker>((*batch)[0]).broker_epoch, old_epoch);
  EXPECT_TRUE(std::holds_alternative<PartitionChange>((*batch)[1]));
  EXPECT_TRUE(std::holds_alternative<RegisterBroker>(batch->back()));
  int64_t epoch = static_cast<int64_t>(h.commit(*batch));
  EXPECT_EQ(h.image().broker(1)->broker_epoch, epoch);
  EXPECT_TRUE(h.image().broker(1)->fenced);
  EXPECT_EQ(h.partition("t", 0).leader, 2);
  EXPECT_EQ(h.partition("t", 0).isr, Ids({2, 3}));
  // Old-epoch requests are stale now.
  EXPECT_TRUE(has_substr(h.controller().broker_heartbeat({1, old_epoch, 100}, h.now).status(),
                         "STALE_BROKER_EPOCH"));
}

// KIP-966, "last replica standing": RF 3, min.insync.replicas 2. The ISR
// shrinks to {A}; B left it while it was below the minimum, so B is an
// eligible leader replica. A crashes without fsync and restarts with a
// shorter log (clean_shutdown=false): B is elected, never A.
class LastReplicaStandingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (BrokerId id : {kA, kB, kC}) h.start_broker(id);
    h.create("t", {{kA, kB, kC}}, {{"min.insync.replicas", "2"}});
    h.commit(h.alter_isr("t", 0, {kA, kB}));  // C falls behind
    ASSERT_TRUE(h.partition("t", 0).elr.empty());
    h.stop_heartbeating(kB);
    h.advance(3500);  // B's session expires: the ISR drops below 2
    ASSERT_EQ(h.partition("t", 0).isr, Ids({kA}));
    ASSERT_EQ(h.partition("t", 0).elr, Ids({kB}));
  }
  static constexpr BrokerId kA = 1, kB = 2, kC = 3;
  ControllerHarness h{test_config()};
};

TEST_F(LastReplicaStandingTest, CleanElrMemberIsElectedNotTheUncleanRestart) {
  h.start_broker(kB, "", true);  // B back, clean, still only in the ELR
  EXPECT_EQ(h.partition("t", 0).elr, Ids({kB}));
  h.stop_heartbeating(kA);
  h.register_only(kA, /*clean=*/false);  // A restarts fast, having lost data
  const PartitionState& p = h.partition("t", 0);
  EXPECT_EQ(p.leader, kB);
  EXPECT_EQ(p.isr, Ids({kB}));
  EXPECT_TRUE(p.elr.empty()) << "A lost data: it is no eligible leader replica";
  h.heartbeat(kA);  // A catches up with the metadata and is unfenced ...
  EXPECT_EQ(h.partition("t", 0).leader, kB) << "... but leadership stays with B";
}

TEST_F(LastReplicaStandingTest, PartitionWaitsForTheCleanReplicaRatherThanElectTheUncleanOne) {
  h.register_only(kB, true);  // B restarted, not caught up yet: fenced
  h.stop_heartbeating(kA);
  h.register_only(kA, false);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader);
  EXPECT_EQ(h.partition("t", 0).elr, Ids({kB}));
  h.heartbeat(kA);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader) << "A is unfenced, never electable";
  h.heartbeat(kB);
  EXPECT_EQ(h.partition("t", 0).leader, kB);
  EXPECT_EQ(h.partition("t", 0).isr, Ids({kB}));
}

TEST_F(LastReplicaStandingTest, LeaderSessionExpiryElectsFromElr) {
  h.start_broker(kB, "", true);
  h.stop_heartbeating(kA);
  h.advance(3500);  // A fenced by timeout: it may come back clean, so it joins the ELR
  const PartitionState& p = h.partition("t", 0);
  EXPECT_EQ(p.leader, kB);
  EXPECT_EQ(p.isr, Ids({kB}));
  EXPECT_EQ(p.elr, Ids({kA}));
  h.register_only(kA, false);  // and then it comes back unclean: out of the ELR
  EXPECT_TRUE(h.partition("t", 0).elr.empty());
  EXPECT_EQ(h.partition("t", 0).leader, kB);
}

TEST_F(LastReplicaStandingTest, ElrIsClearedOnceTheIsrReachesTheMinimumAgain) {
  h.start_broker(kB, "", true);
  h.commit(h.alter_isr("t", 0, {kA, kB}));
  EXPECT_EQ(h.partition("t", 0).isr, Ids({kA, kB}));
  EXPECT_TRUE(h.partition("t", 0).elr.empty());
}

TEST_F(LastReplicaStandingTest, UncleanLastIsrMemberWaitsForTheCleanElrMember) {
  h.stop_heartbeating(kA);
  h.advance(3500);  // B is down too: nobody to elect, A stays in the ISR
  ASSERT_EQ(h.partition("t", 0).leader, kNoLeader);
  ASSERT_EQ(h.partition("t", 0).isr, Ids({kA}));
  ASSERT_EQ(h.partition("t", 0).elr, Ids({kB}));
  h.register_only(kA, /*clean=*/false);
  EXPECT_TRUE(h.partition("t", 0).isr.empty()) << "B holds what A may have lost";
  h.heartbeat(kA);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader);
  h.start_broker(kB, "", true);
  EXPECT_EQ(h.partition("t", 0).leader, kB);
}

TEST_F(LastReplicaStandingTest, CleanLastIsrMemberLeadsAgain) {
  h.stop_heartbeating(kA);
  h.advance(3500);
  ASSERT_EQ(h.partition("t", 0).isr, Ids({kA}));
  h.start_broker(kA, "", true);
  EXPECT_EQ(h.partition("t", 0).leader, kA);
  EXPECT_EQ(h.partition("t", 0).isr, Ids({kA}));
  EXPECT_EQ(h.partition("t", 0).elr, Ids({kB}));
}

// KRaft: a partition whose last in-sync replica's broker goes away keeps that
// replica in its ISR, without a leader, and elects it when the broker returns
// (after a crash too: no other replica can hold more).
TEST(ControllerLastIsrMemberTest, SingleReplicaLeadsAgainAfterItsBrokerCrashes) {
  for (bool session_expires_first : {true, false}) {
    SCOPED_TRACE(session_expires_first ? "fenced, then restarted" : "restarted within its session");
    ControllerHarness h(test_config());
    for (BrokerId id : {1, 2}) h.start_broker(id);
    h.create("solo", {{1}});
    int32_t epoch = h.partition("solo", 0).leader_epoch;
    h.stop_heartbeating(1);
    if (session_expires_first) {
      h.advance(3500);
      EXPECT_TRUE(h.image().broker(1)->fenced);
      EXPECT_EQ(h.partition("solo", 0).leader, kNoLeader);
      EXPECT_EQ(h.partition("solo", 0).isr, Ids({1}));
      EXPECT_TRUE(h.partition("solo", 0).elr.empty());
    }
    h.register_only(1, /*clean=*/false);  // SIGKILL: no clean-shutdown marker
    EXPECT_EQ(h.partition("solo", 0).leader, kNoLeader) << "not before it is unfenced";
    EXPECT_EQ(h.partition("solo", 0).isr, Ids({1}));
    h.advance(2000);  // ticks change nothing while it is fenced
    EXPECT_EQ(h.partition("solo", 0).leader, kNoLeader);
    h.heartbeat(1);
    EXPECT_EQ(h.partition("solo", 0).leader, 1);
    EXPECT_EQ(h.partition("solo", 0).isr, Ids({1}));
    EXPECT_GT(h.partition("solo", 0).leader_epoch, epoch);
    auto elect = h.controller().elect_leaders(ElectionType::kPreferred, {{"solo", 0}});
    EXPECT_TRUE(has_substr(elect.response[0].status, "ELECTION_NOT_NEEDED"));
  }
}

TEST(ControllerLastIsrMemberTest, ReplicatedPartitionLeadsAgainWhenEveryReplicaRestartsUncleanly) {
  for (std::vector<BrokerId> order : {std::vector<BrokerId>{1, 2, 3}, {2, 3, 1}, {3, 1, 2}}) {
    SCOPED_TRACE("restart order " + std::to_string(order[0]) + std::to_string(order[1]) +
                 std::to_string(order[2]));
    ControllerHarness h(test_config());
    for (BrokerId id : {1, 2, 3}) h.start_broker(id);
    h.create("t", {{1, 2, 3}}, {{"min.insync.replicas", "2"}});
    for (BrokerId id : {1, 2, 3}) h.stop_heartbeating(id);
    h.advance(3500);  // all three fenced at once
    const PartitionState& down = h.partition("t", 0);
    EXPECT_EQ(down.leader, kNoLeader);
    EXPECT_EQ(down.isr, Ids({1})) << "the leader was the last ISR member";
    EXPECT_EQ(down.elr, Ids({2, 3}));
    for (BrokerId id : order) h.register_only(id, /*clean=*/false);
    for (BrokerId id : order) h.heartbeat(id);
    const PartitionState& up = h.partition("t", 0);
    EXPECT_NE(up.leader, kNoLeader) << "every holder lost data: the last one leads";
    EXPECT_EQ(up.isr, Ids({up.leader}));
    EXPECT_TRUE(up.elr.empty());
  }
}

TEST(ControllerLastIsrMemberTest, ClusterRestartWithoutFencingElectsTheLastRegistered) {
  // The whole cluster (controller included) was killed: the image still shows
  // every broker unfenced. Each registration fences its old incarnation.
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  for (BrokerId id : {1, 2, 3}) h.stop_heartbeating(id);
  h.new_controller(test_config());
  for (BrokerId id : {2, 1, 3}) h.register_only(id, /*clean=*/false);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader);
  EXPECT_EQ(h.partition("t", 0).isr, Ids({3}));
  for (BrokerId id : {1, 2}) h.heartbeat(id);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader) << "waits for 3, the last in sync";
  h.heartbeat(3);
  EXPECT_EQ(h.partition("t", 0).leader, 3);
}

TEST(ControllerElectionTest, UncleanElectionOnlyWhenEnabled) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2}) h.start_broker(id);
  h.create("t", {{1, 2}});
  h.commit(h.alter_isr("t", 0, {1}));  // 2 falls out of the ISR
  h.stop_heartbeating(1);
  h.advance(3500);
  const PartitionState& p = h.partition("t", 0);
  EXPECT_EQ(p.leader, kNoLeader) << "2 is behind and unclean election is off";
  EXPECT_EQ(p.isr, Ids({1})) << "the ISR keeps its last member";
  EXPECT_TRUE(p.elr.empty());
  h.advance(5000);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader);

  // An operator's unclean election of one partition.
  auto forced = h.controller().elect_leaders(ElectionType::kUnclean, {{"t", 0}});
  ASSERT_EQ(forced.response.size(), 1u);
  EXPECT_TRUE(forced.response[0].status.is_ok()) << forced.response[0].status.to_string();
  // Instead of committing it, enable unclean election for the topic: the next tick elects.
  h.commit(h.controller().alter_configs(
      {Config{ConfigResource::kTopic, "t", "unclean.leader.election.enable", "true"}}));
  h.advance(500);
  EXPECT_EQ(h.partition("t", 0).leader, 2);
  EXPECT_EQ(h.partition("t", 0).isr, Ids({2}));
  EXPECT_TRUE(h.partition("t", 0).elr.empty());
  auto again = h.controller().elect_leaders(ElectionType::kUnclean, {{"t", 0}});
  EXPECT_TRUE(has_substr(again.response[0].status, "ELECTION_NOT_NEEDED"));
}

TEST(ControllerElectionTest, ClusterDefaultEnablesUncleanElection) {
  ControllerConfig config = test_config();
  config.unclean_leader_election = true;
  ControllerHarness h(config);
  for (BrokerId id : {1, 2}) h.start_broker(id);
  h.create("t", {{1, 2}}, {{"unclean.leader.election.enable", "false"}});
  h.create("u", {{1, 2}});
  h.commit(h.alter_isr("t", 0, {1}));
  h.commit(h.alter_isr("u", 0, {1}));
  h.stop_heartbeating(1);
  h.advance(3500);
  EXPECT_EQ(h.partition("t", 0).leader, kNoLeader) << "the topic overrides the default";
  EXPECT_EQ(h.partition("u", 0).leader, 2);
}

TEST(ControllerElectionTest, PreferredElectionAndAutoRebalance) {
  ControllerConfig config = test_config();
  config.leader_rebalance_interval_ms = 1000;
  ControllerHarness h(config);
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2, 3}, {1, 3, 2}});
  auto not_needed = h.controller().elect_leaders(ElectionType::kPreferred, {{"t", 0}});
  EXPECT_TRUE(has_substr(not_needed.response[0].status, "ELECTION_NOT_NEEDED"));
  h.stop_heartbeating(1);
  h.advance(3500);
  ASSERT_EQ(h.partition("t", 0).leader, 2);
  ASSERT_EQ(h.partition("t", 1).leader, 3);
  h.start_broker(1);
  auto unavailable = h.controller().elect_leaders(ElectionType::kPreferred, {{"t", 0}});
  EXPECT_EQ(unavailable.response[0].status.code(), ErrorCode::kLeaderNotAvailable)
      << "1 is live but not in the ISR yet";
  h.commit(h.alter_isr("t", 0, {1, 2, 3}));
  h.commit(h.alter_isr("t", 1, {1, 2, 3}));
  auto elected = h.controller().elect_leaders(ElectionType::kPreferred, {{"t", 0}, {"x", 0}});
  ASSERT_EQ(elected.response.size(), 2u);
  EXPECT_TRUE(elected.response[0].status.is_ok());
  EXPECT_EQ(elected.response[1].status.code(), ErrorCode::kUnknownTopicOrPartition);
  h.commit(elected.records);
  EXPECT_EQ(h.partition("t", 0).leader, 1);
  EXPECT_EQ(h.partition("t", 0).leader_epoch, 2);
  // Partition 1 is still led by 3: broker 1 leads 1 of its 2 preferred.
  h.commit(h.controller().auto_rebalance(h.now));
  EXPECT_EQ(h.partition("t", 1).leader, 1);
  EXPECT_TRUE(h.controller().auto_rebalance(h.now + 10).empty()) << "interval not elapsed";
}

TEST(ControllerTopicsTest, AssignmentSpreadsLeadersAndReplicas) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3, 4}) h.start_broker(id);
  CreatedTopic created = h.commit(h.controller().create_topic({"t", 8, 3}));
  ASSERT_EQ(created.assignment.size(), 8u);
  std::map<BrokerId, int> leaders;
  std::map<BrokerId, int> replicas;
  for (const Ids& r : created.assignment) {
    ASSERT_EQ(r.size(), 3u);
    EXPECT_EQ(std::set<BrokerId>(r.begin(), r.end()).size(), 3u);
    ++leaders[r[0]];
    for (BrokerId id : r) ++replicas[id];
  }
  for (BrokerId id : {1, 2, 3, 4}) {
    EXPECT_EQ(leaders[id], 2) << id;
    EXPECT_EQ(replicas[id], 6) << id;
  }
  const TopicState* topic = h.image().topic("t");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->topic_id, created.topic_id);
  EXPECT_EQ(topic->partitions[3].isr, created.assignment[3]);
  EXPECT_EQ(topic->partitions[3].leader, created.assignment[3][0]);
}

TEST(ControllerTopicsTest, RackAwareAssignmentPutsNoTwoReplicasInOneRack) {
  ControllerHarness h(test_config());
  const char* racks[] = {"a", "a", "b", "b", "c", "c"};
  for (BrokerId id = 1; id <= 6; ++id) h.start_broker(id, racks[id - 1]);
  CreatedTopic created = h.commit(h.controller().create_topic({"t", 12, 3}));
  std::map<BrokerId, int> leaders;
  for (const Ids& r : created.assignment) {
    std::set<std::string> used;
    for (BrokerId id : r) used.insert(racks[id - 1]);
    EXPECT_EQ(used.size(), 3u);
    ++leaders[r[0]];
  }
  for (BrokerId id = 1; id <= 6; ++id) EXPECT_EQ(leaders[id], 2) << id;
  // More replicas than racks: racks repeat only once every rack is used.
  CreatedTopic wide = h.commit(h.controller().create_topic({"w", 6, 4}));
  for (const Ids& r : wide.assignment) {
    std::set<std::string> used;
    for (BrokerId id : r) used.insert(racks[id - 1]);
    EXPECT_EQ(used.size(), 3u);
    EXPECT_EQ(std::set<BrokerId>(r.begin(), r.end()).size(), 4u);
  }
}

TEST(ControllerTopicsTest, CreateValidatesEverything) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2}) h.start_broker(id);
  h.register_only(3, true);  // fenced: not counted as live
  auto code = [&](CreateTopicRequest r) { return h.controller().create_topic(r).code(); };
  EXPECT_EQ(code({"t", 1, 3}), ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(code({"t", 1, 0}), ErrorCode::kInvalidReplicationFactor);
  EXPECT_EQ(code({"t", 0, 1}), ErrorCode::kInvalidPartitions);
  EXPECT_EQ(code({"", 1, 1}), ErrorCode::kInvalidTopic);
  EXPECT_EQ(code({"a/b", 1, 1}), ErrorCode::kInvalidTopic);
  EXPECT_EQ(code({"..", 1, 1}), ErrorCode::kInvalidTopic);
  EXPECT_EQ(code({std::string(250, 'a'), 1, 1}), ErrorCode::kInvalidTopic);
  EXPECT_EQ(code({"t", 1, 1, {{"min.insync.replicas", "zero"}}}), ErrorCode::kInvalidConfig);
  EXPECT_EQ(code({"t", 1, 1, {{"unclean.leader.election.enable", "yes"}}}),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(code({"t", 1, 1, {{"a", "1"}, {"a", "2"}}}), ErrorCode::kInvalidConfig);
  EXPECT_EQ(code({"t", -1, -1, {}, {{1, 2}, {1}}}), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(code({"t", -1, -1, {}, {{1, 1}}}), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(code({"t", -1, -1, {}, {{1, 9}}}), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(code({"t", -1, -1, {}, {{3}}}), ErrorCode::kInvalidReplicaAssignment)
      << "only a fenced broker";
  EXPECT_EQ(code({"t", 5, -1, {}, {{1}}}), ErrorCode::kInvalidRequest);
  h.commit(h.controller().create_topic({"t", -1, -1, {}, {{3, 1}}}));
  EXPECT_EQ(h.partition("t", 0).isr, Ids({1})) << "fenced replicas start outside the ISR";
  EXPECT_EQ(h.partition("t", 0).leader, 1);
  EXPECT_EQ(code({"t", 1, 1}), ErrorCode::kTopicAlreadyExists);
}

TEST(ControllerTopicsTest, DeleteAddPartitionsAndAlterConfigs) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.commit(h.controller().create_topic({"t", 2, 2}));
  EXPECT_EQ(h.controller().add_partitions("t", 2).code(), ErrorCode::kInvalidPartitions);
  EXPECT_EQ(h.controller().add_partitions("x", 4).code(), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(h.controller().add_partitions("t", 4, {{1, 2}}).code(),
            ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(h.controller().add_partitions("t", 3, {{1, 2, 3}}).code(),
            ErrorCode::kInvalidReplicaAssignment);
  h.commit(h.controller().add_partitions("t", 4));
  ASSERT_EQ(h.image().topic("t")->partitions.size(), 4u);
  EXPECT_EQ(h.partition("t", 3).replicas.size(), 2u);
  h.commit(h.controller().add_partitions("t", 5, {{3, 1}}));
  EXPECT_EQ(h.partition("t", 4).replicas, Ids({3, 1}));

  EXPECT_EQ(h.controller()
                .alter_configs({Config{ConfigResource::kTopic, "x", "retention.ms", "1"}})
                .code(),
            ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(h.controller().alter_configs({Config{ConfigResource::kBroker, "one", "k", "1"}}).code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ(h.controller()
                .alter_configs({Config{ConfigResource::kCluster, "", "min.insync.replicas", "-1"}})
                .code(),
            ErrorCode::kInvalidConfig);
  h.commit(h.controller().alter_configs(
      {Config{ConfigResource::kCluster, "", "min.insync.replicas", "2"},
       Config{ConfigResource::kBroker, "2", "log.retention.ms", "5"}}));
  EXPECT_EQ(h.controller().min_insync_replicas(*h.image().topic("t")), 2);

  EXPECT_EQ(h.controller().delete_topic("x").code(), ErrorCode::kUnknownTopicOrPartition);
  h.commit(h.controller().delete_topic("t"));
  EXPECT_EQ(h.image().topic("t"), nullptr);
  // Recreated under the same name, it has a new id.
  h.commit(h.controller().create_topic({"t", 1, 1}));
  EXPECT_NE(h.image().topic("t"), nullptr);
}

TEST(ControllerPartitionsTest, AlterPartitionValidatesEpochsAndMembers) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3, 4}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  int64_t epoch1 = h.image().broker(1)->broker_epoch;
  auto request = [&](Ids isr) {
    const PartitionState& p = h.partition("t", 0);
    return AlterPartitionRequest{1, epoch1, "t", 0, p.leader_epoch, p.partition_epoch, isr};
  };
  PartitionState shrunk = h.commit(h.controller().alter_partition(request({1, 3})));
  EXPECT_EQ(shrunk, h.partition("t", 0)) << "the response is the applied state";
  EXPECT_EQ(shrunk.partition_epoch, 1);

  AlterPartitionRequest stale_partition_epoch = request({1, 2, 3});
  stale_partition_epoch.partition_epoch = 0;
  EXPECT_TRUE(has_substr(h.controller().alter_partition(stale_partition_epoch).status(),
                         "INVALID_UPDATE_VERSION"));
  AlterPartitionRequest old_leader_epoch = request({1, 2, 3});
  old_leader_epoch.leader_epoch = -1;
  EXPECT_EQ(h.controller().alter_partition(old_leader_epoch).code(), ErrorCode::kFencedLeaderEpoch);
  AlterPartitionRequest new_leader_epoch = request({1, 2, 3});
  new_leader_epoch.leader_epoch = 5;
  EXPECT_EQ(h.controller().alter_partition(new_leader_epoch).code(),
            ErrorCode::kUnknownLeaderEpoch);
  AlterPartitionRequest not_leader = request({2, 3});
  not_leader.broker_id = 2;
  not_leader.broker_epoch = h.image().broker(2)->broker_epoch;
  EXPECT_EQ(h.controller().alter_partition(not_leader).code(), ErrorCode::kNotLeader);
  AlterPartitionRequest stale_broker = request({1, 3});
  stale_broker.broker_epoch = epoch1 - 1;
  EXPECT_TRUE(
      has_substr(h.controller().alter_partition(stale_broker).status(), "STALE_BROKER_EPOCH"));
  EXPECT_TRUE(
      has_substr(h.controller().alter_partition(request({1, 4})).status(), "not a replica"));
  EXPECT_TRUE(
      has_substr(h.controller().alter_partition(request({3})).status(), "must contain the leader"));
  EXPECT_TRUE(has_substr(h.controller().alter_partition(request({1, 3, 3})).status(), "twice"));
  AlterPartitionRequest unknown = request({1});
  unknown.partition = 7;
  EXPECT_EQ(h.controller().alter_partition(unknown).code(), ErrorCode::kUnknownTopicOrPartition);

  h.stop_heartbeating(2);
  h.advance(3500);
  EXPECT_TRUE(has_substr(h.controller().alter_partition(request({1, 2, 3})).status(),
                         "INELIGIBLE_REPLICA"));
  // No change: no records, the current state back.
  auto same = h.controller().alter_partition(request({3, 1}));
  ASSERT_TRUE(same.is_ok());
  EXPECT_TRUE(same->records.empty());
}

TEST(ControllerPartitionsTest, ReassignmentAddsCatchesUpThenRemoves) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3, 4}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  EXPECT_EQ(h.controller().reassign({"t", 0}, {2, 2}).code(), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(h.controller().reassign({"t", 0}, {2, 9}).code(), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(h.controller().reassign({"t", 0}, {}).code(), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(h.controller().reassign({"t", 5}, {1}).code(), ErrorCode::kUnknownTopicOrPartition);
  h.commit(h.controller().reassign({"t", 0}, {2, 3, 4}));
  const PartitionState& moving = h.partition("t", 0);
  EXPECT_EQ(moving.replicas, Ids({2, 3, 4, 1}));
  EXPECT_EQ(moving.adding_replicas, Ids({4}));
  EXPECT_EQ(moving.removing_replicas, Ids({1}));
  EXPECT_EQ(moving.leader, 1) << "the leaving replica leads until the new ones caught up";
  EXPECT_TRUE(
      has_substr(h.controller().reassign({"t", 0}, {1}).status(), "REASSIGNMENT_IN_PROGRESS"));
  // 4 caught up: the leader adds it to the ISR and the reassignment completes.
  h.commit(h.alter_isr("t", 0, {1, 2, 3, 4}));
  const PartitionState& done = h.partition("t", 0);
  EXPECT_EQ(done.replicas, Ids({2, 3, 4}));
  EXPECT_EQ(done.isr, Ids({2, 3, 4}));
  EXPECT_TRUE(done.adding_replicas.empty());
  EXPECT_TRUE(done.removing_replicas.empty());
  EXPECT_EQ(done.leader, 2) << "the removed leader hands over";
  EXPECT_EQ(done.leader_epoch, 1);
}

TEST(ControllerPartitionsTest, ReassignmentCanBeCancelledAndShrinkCompletesAtOnce) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3, 4}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  EXPECT_TRUE(has_substr(h.controller().cancel_reassignment({"t", 0}).status(),
                         "NO_REASSIGNMENT_IN_PROGRESS"));
  h.commit(h.controller().reassign({"t", 0}, {4, 2, 3}));
  h.commit(h.controller().cancel_reassignment({"t", 0}));
  const PartitionState& back = h.partition("t", 0);
  EXPECT_EQ(back.replicas, Ids({2, 3, 1})) << "the original set, in reassignment order";
  EXPECT_FALSE(back.reassigning());
  EXPECT_EQ(back.leader, 1);
  // Every target already in the ISR: done in one step.
  h.commit(h.controller().reassign({"t", 0}, {3, 2}));
  EXPECT_EQ(h.partition("t", 0).replicas, Ids({3, 2}));
  EXPECT_EQ(h.partition("t", 0).leader, 3) << "1 left: the first ISR member in replica order";
}

TEST(ControllerPartitionsTest, ReassignmentThrottleIsCheckedAndDroppedWhenNothingMoves) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3, 4}) h.start_broker(id);
  h.create("t", {{1, 2, 3}});
  auto throttle = [](std::optional<std::string> value) {
    return std::vector<Config>{
        {ConfigResource::kCluster, "", std::string(kReassignmentThrottle), std::move(value)}};
  };
  for (const char* bad : {"0", "-1", "fast", "10MB", ""}) {
    EXPECT_EQ(h.controller().alter_configs(throttle(bad)).code(), ErrorCode::kInvalidConfig) << bad;
  }
  h.commit(h.controller().reassign({"t", 0}, {2, 3, 4}));
  h.commit(h.controller().alter_configs(throttle("1048576")));
  EXPECT_EQ(reassignment_throttle(h.image()), 1048576);
  h.advance(1000);
  EXPECT_EQ(reassignment_throttle(h.image()), 1048576) << "kept while t-0 moves";
  h.commit(h.alter_isr("t", 0, {1, 2, 3, 4}));
  EXPECT_FALSE(h.partition("t", 0).reassigning());
  h.advance(500);
  EXPECT_EQ(reassignment_throttle(h.image()), 0) << "dropped once nothing moves";
  EXPECT_EQ(h.image().config(ConfigResource::kCluster, "", kReassignmentThrottle), nullptr);
  EXPECT_TRUE(h.controller().tick(h.now).empty()) << "removed once, not on every tick";
}

TEST(ControllerBrokersTest, ControlledShutdownMovesLeadershipFirst) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{1, 2}, {1, 3}, {2, 1}});
  h.create("solo", {{1}});
  EXPECT_EQ(h.controller().unregister_broker(1).code(), ErrorCode::kInvalidRequest)
      << "alive: shut it down first";
  int64_t epoch = h.image().broker(1)->broker_epoch;
  ControlledShutdownResponse response = h.commit(h.controller().controlled_shutdown(1, epoch));
  EXPECT_EQ(response.leaderships_moved, 2);
  EXPECT_EQ(response.partitions_offline, 1) << "solo has no other replica";
  EXPECT_TRUE(h.image().broker(1)->in_controlled_shutdown);
  EXPECT_EQ(h.partition("t", 0).leader, 2);
  EXPECT_EQ(h.partition("t", 1).leader, 3);
  EXPECT_EQ(h.partition("t", 2).isr, Ids({2}));
  EXPECT_EQ(h.partition("solo", 0).leader, kNoLeader);
  EXPECT_EQ(h.partition("solo", 0).isr, Ids({1})) << "the last ISR member stays, to lead again";
  HeartbeatResponse beat = h.heartbeat(1);
  EXPECT_TRUE(beat.in_controlled_shutdown);
  EXPECT_TRUE(beat.should_shut_down);
  EXPECT_TRUE(beat.fenced == false);
  EXPECT_FALSE(h.controller().controlled_shutdown(1, epoch - 1).is_ok());

  // It still holds replicas of four partitions: they would wait for it.
  Result<RecordBatch> refused = h.controller().unregister_broker(1);
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(
      refused.status().message().find("still holds 4 replica(s) (solo-0, t-0, t-1 and 1 more)"),
      std::string::npos)
      << refused.status().message();
  EXPECT_NE(h.image().broker(1), nullptr) << "refused: nothing changed";
}

TEST(ControllerBrokersTest, ARetiredBrokerWithoutReplicasIsUnregistered) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.create("t", {{2, 3}});
  h.commit(h.controller().reassign({"t", 0}, {1, 2}));
  h.stop_heartbeating(3);
  h.advance(5000);
  ASSERT_TRUE(h.image().broker(3)->fenced);
  EXPECT_EQ(h.controller().unregister_broker(3).code(), ErrorCode::kInvalidRequest)
      << "t-0 is still moving off it";
  h.commit(h.alter_isr("t", 0, {2, 1}));
  ASSERT_FALSE(h.partition("t", 0).reassigning());
  h.commit(h.controller().unregister_broker(3));
  EXPECT_EQ(h.image().broker(3), nullptr);
  EXPECT_EQ(h.controller().unregister_broker(3).code(), ErrorCode::kBrokerNotAvailable);
  EXPECT_EQ(h.controller().unregister_broker(2).code(), ErrorCode::kInvalidRequest)
      << "alive: shut it down first";
}

TEST(ControllerBrokersTest, ProducerIdBlocksDoNotOverlap) {
  ControllerHarness h(test_config());
  int64_t epoch = h.start_broker(1);
  auto first = h.controller().allocate_producer_ids(1, epoch);
  auto second = h.controller().allocate_producer_ids(1, epoch);  // before the first applies
  ASSERT_TRUE(first.is_ok());
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(first->response.start, 0);
  EXPECT_EQ(first->response.size, 1000);
  EXPECT_EQ(second->response.start, 1000);
  h.commit(first->records);
  h.commit(second->records);
  EXPECT_EQ(h.image().next_producer_id(), 2000);
  EXPECT_FALSE(h.controller().allocate_producer_ids(1, epoch - 1).is_ok());
  EXPECT_EQ(h.controller().allocate_producer_ids(7, 1).code(), ErrorCode::kBrokerNotAvailable);
}

TEST(ControllerProducersTest, BumpFollowsKafkasEpochRule) {
  ControllerHarness h(test_config());
  int64_t epoch = h.start_broker(1);
  h.commit(h.controller().allocate_producer_ids(1, epoch));
  // The holder of the current epoch gets the next one; the record fences the older.
  EXPECT_EQ(h.commit(h.controller().bump_producer_epoch(1, epoch, 7, 0)), 1);
  EXPECT_EQ(h.image().producer_epoch(7), 1);
  EXPECT_EQ(h.commit(h.controller().bump_producer_epoch(1, epoch, 7, 1)), 2);
  // The previous epoch again is a retry of the last bump: the same answer, no record.
  auto retry = h.controller().bump_producer_epoch(1, epoch, 7, 1);
  ASSERT_TRUE(retry.is_ok()) << retry.status().to_string();
  EXPECT_EQ(retry->response, 2);
  EXPECT_TRUE(retry->records.empty());
  // Any other epoch is fenced, as is the previous one of an id never bumped.
  for (int16_t stale : {int16_t{0}, int16_t{3}, int16_t{100}}) {
    auto fenced = h.controller().bump_producer_epoch(1, epoch, 7, stale);
    EXPECT_EQ(fenced.code(), ErrorCode::kInvalidProducerEpoch) << stale;
  }
  EXPECT_EQ(h.controller().bump_producer_epoch(1, epoch, 8, 1).code(),
            ErrorCode::kInvalidProducerEpoch);
  // Only ids handed out, only live broker epochs, no negative values.
  EXPECT_EQ(h.controller().bump_producer_epoch(1, epoch, 1000, 0).code(),
            ErrorCode::kUnknownProducerId);
  EXPECT_FALSE(h.controller().bump_producer_epoch(1, epoch - 1, 7, 2).is_ok());
  EXPECT_EQ(h.controller().bump_producer_epoch(1, epoch, -1, 0).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(h.controller().bump_producer_epoch(1, epoch, 7, -1).code(), ErrorCode::kInvalidRequest);
}

TEST(ControllerProducersTest, TheLastEpochCannotBeBumped) {
  EXPECT_EQ(*next_producer_epoch(5, 32766, 32766), std::optional<int16_t>(32767));
  Result<std::optional<int16_t>> used_up = next_producer_epoch(5, 32767, 32767);
  ASSERT_TRUE(used_up.is_ok());
  EXPECT_FALSE(used_up->has_value()) << "the caller needs a new producer id";
  EXPECT_EQ(*next_producer_epoch(5, 32767, 32766), std::optional<int16_t>(32767)) << "a retry";
  EXPECT_EQ(next_producer_epoch(5, 0, 32767).code(), ErrorCode::kInvalidProducerEpoch);
}

TEST(ControllerBrokersTest, BrokersBehindAreTheLiveOnesNotReportingTheOffset) {
  ControllerHarness h(test_config());
  for (BrokerId id : {1, 2, 3}) h.start_broker(id);
  h.advance(500);  // everyone heartbeats the latest index
  EXPECT_TRUE(h.controller().brokers_behind(h.index()).empty());
  h.create("t", {{1, 2, 3}});
  uint64_t change = h.index();
  EXPECT_EQ(h.controller().brokers_behind(change), Ids({1, 2, 3}));
  auto report = [&](BrokerId id, uint64_t offset) {
    h.commit(
        h.controller().broker_heartbeat({id, h.image().broker(id)->broker_epoch, offset}, h.now));
  };
  report(1, change);
  report(2, change - 1);
  EXPECT_EQ(h.controller().brokers_behind(change), Ids({2, 3}));
  report(2, change + 5);
  report(2, change - 1);  // a late, older report does not move it back
  EXPECT_EQ(h.controller().brokers_behind(change), Ids({3}));
  // Nor is one shutting down.
  h.commit(h.controller().controlled_shutdown(2, h.image().broker(2)->broker_epoch));
  EXPECT_EQ(h.controller().brokers_behind(change + 6), Ids({1, 3}));
  h.start_broker(2);
  // A fenced broker is not waited for; a new incarnation reports anew.
  h.stop_heartbeating(3);
  h.advance(3500);
  ASSERT_TRUE(h.image().broker(3)->fenced);
  uint64_t later = h.index();
  EXPECT_TRUE(h.controller().brokers_behind(later).empty());
  h.start_broker(3);
  EXPECT_TRUE(h.controller().brokers_behind(later).empty()) << "its unfencing heartbeat reported";
  // A new controller knows nobody's offset until they heartbeat to it.
  h.new_controller(test_config());
  EXPECT_EQ(h.controller().brokers_behind(later), Ids({1, 2, 3}));
  h.advance(500);
  EXPECT_TRUE(h.controller().brokers_behind(later).empty());
}

TEST(ControllerAclsTest, CreatesEachBindingOnceAndDeletesWhatFiltersSelect) {
  ControllerHarness h;
  transport::AclBinding read{.resource_type = transport::AclResourceType::kTopic,
                             .resource_name = "orders",
                             .principal = "alice",
                             .operation = transport::AclOperation::kRead};
  transport::AclBinding write = read;
  write.operation = transport::AclOperation::kWrite;
  transport::AclBinding bad = read;
  bad.principal = "not a name";
  Decision<std::vector<Status>> created = h.controller().create_acls({read, bad, read, write});
  ASSERT_EQ(created.response.size(), 4u);
  EXPECT_TRUE(created.response[0].is_ok());
  EXPECT_EQ(created.response[1].code(), ErrorCode::kInvalidAcl);
  EXPECT_TRUE(created.response[2].is_ok()) << "a repeat in one request is stored once";
  EXPECT_EQ(created.records.size(), 2u);
  h.commit(created.records);
  EXPECT_EQ(h.image().acls().size(), 2u);
  // Stored already: ok, nothing to commit (a retried call is harmless).
  Decision<std::vector<Status>> again = h.controller().create_acls({read});
  EXPECT_TRUE(again.response[0].is_ok());
  EXPECT_TRUE(again.records.empty());

  auto deleted = h.controller().delete_acls(
      {transport::AclFilter{.operation = transport::AclOperation::kRead},
       transport::AclFilter{.principal = "alice"},
       transport::AclFilter{.pattern_type = transport::AclPatternType::kMatch}});
  ASSERT_EQ(deleted.response.size(), 3u);
  ASSERT_TRUE(deleted.response[0].is_ok());
  EXPECT_EQ(*deleted.response[0], std::vector<transport::AclBinding>{read});
  ASSERT_TRUE(deleted.response[1].is_ok());
  EXPECT_EQ(deleted.response[1]->size(), 2u) << "both of alice's, one removed by either filter";
  EXPECT_EQ(deleted.response[2].code(), ErrorCode::kInvalidAcl) << "match needs a name";
  EXPECT_EQ(deleted.records.size(), 2u) << "each binding removed once";
  h.commit(deleted.records);
  EXPECT_TRUE(h.image().acls().empty());
}

}  // namespace
}  // namespace mq::metadata
