// RaftNode rule by rule: elections, pre-vote, check-quorum, log conflicts,
// the commitment rule (Figure 8), flow control, snapshots, observers, restart
// (membership_test.cc has dynamic observers, strangers and voter changes).
#include "raft/raft_node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "tests/raft/test_cluster.h"

namespace mq::raft {
namespace {

using harness::count;
using harness::expect_same_log;
using harness::member_status;
using harness::TestCluster;

// Plain Raft: any node may start an election at once, so a test picks the winner.
void plain_raft(RaftConfig& config) {
  config.pre_vote = false;
  config.check_quorum = false;
}

TEST(RaftNodeTest, ValidatesItsConfig) {
  RaftConfig config;
  config.id = 1;
  config.voters = {1, 2};
  EXPECT_EQ(validate(config).code(), ErrorCode::kInvalidConfig);
  config.voters = {1, 2, 3};
  EXPECT_TRUE(validate(config).is_ok());
  config.observers = {3};
  EXPECT_NE(validate(config).message().find("listed twice"), std::string::npos);
  config.observers = {};
  config.id = 9;  // listed nowhere: a dynamic observer
  EXPECT_TRUE(validate(config).is_ok());
  config.id = -2;
  EXPECT_NE(validate(config).message().find("negative"), std::string::npos);
}

TEST(RaftNodeTest, ASingleVoterLeadsAndCommitsAlone) {
  TestCluster cluster({1});
  cluster.elect(1);
  EXPECT_EQ(cluster.node(1).term(), 1u);
  Proposal proposal = cluster.propose(1, 7);
  cluster.process();
  EXPECT_EQ(cluster.node(1).commit_index(), proposal.index);
  EXPECT_EQ(cluster.applied_values(1), std::vector<uint8_t>{7});
}

TEST(RaftNodeTest, ElectsALeaderThatReplicatesToEveryone) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  EXPECT_EQ(cluster.node(2).leader(), 1);
  EXPECT_EQ(cluster.node(3).leader(), 1);
  for (uint8_t v = 1; v <= 5; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);  // the heartbeat carries the commit index to the followers
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(cluster.applied_values(id), (std::vector<uint8_t>{1, 2, 3, 4, 5})) << "node " << id;
  }
}

TEST(RaftNodeTest, AFollowerAnswersProposalsWithTheLeader) {
  TestCluster cluster({1, 2, 3});
  Result<Proposal> early = cluster.node(2).propose({1});
  EXPECT_EQ(early.code(), ErrorCode::kNotLeader);
  EXPECT_NE(early.status().message().find("no leader is known"), std::string::npos);
  cluster.elect(1);
  Result<Proposal> later = cluster.node(2).propose({1});
  EXPECT_EQ(later.code(), ErrorCode::kNotLeader);
  EXPECT_NE(later.status().message().find("the leader is node 1"), std::string::npos);
  EXPECT_EQ(cluster.node(2).leader(), 1);
}

TEST(RaftNodeTest, VotesOnlyForCandidatesWithLogsAtLeastAsUpToDate) {
  TestCluster cluster({1, 2, 3}, {}, plain_raft);
  cluster.elect(1);
  cluster.isolate(3);
  cluster.propose(1, 1);
  cluster.deliver_all();
  cluster.heal();
  // Node 3 missed entry 2: nodes 1 and 2 refuse it, whatever its term.
  cluster.campaign(3);
  EXPECT_NE(cluster.node(3).role(), Role::kLeader);
  cluster.elect(2);
}

TEST(RaftNodeTest, PreVoteKeepsAnIsolatedNodeFromInflatingTermsAndDisruptingTheLeader) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  uint64_t term = cluster.node(1).term();
  cluster.isolate(3);
  for (int i = 0; i < 100; ++i) {
    cluster.tick(3);
    cluster.deliver_all();
  }
  EXPECT_EQ(cluster.node(3).role(), Role::kPreCandidate);
  EXPECT_EQ(cluster.node(3).term(), term);  // campaigned many times, never bumped its term
  cluster.heal();
  cluster.tick_all(3);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
  EXPECT_EQ(cluster.node(1).term(), term);
  EXPECT_EQ(cluster.node(3).leader(), 1);
}

TEST(RaftNodeTest, WithoutPreVoteTheSameIsolatedNodeDeposesTheLeader) {
  TestCluster cluster({1, 2, 3}, {}, plain_raft);
  cluster.elect(1);
  uint64_t term = cluster.node(1).term();
  cluster.isolate(3);
  for (int i = 0; i < 100; ++i) cluster.tick(3);
  EXPECT_GT(cluster.node(3).term(), term + 2);
  cluster.heal();
  cluster.tick_all(1);
  EXPECT_NE(cluster.node(1).term(), term);  // the whole cluster was pulled into a new term
}

TEST(RaftNodeTest, PreVoteIsRefusedWhileTheLeaderIsHeardFrom) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  uint64_t term = cluster.node(1).term();
  // Node 3's timer fires while 1 and 2 still hear from the leader.
  cluster.campaign(3);
  EXPECT_EQ(cluster.node(3).term(), term);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
  cluster.tick_all(2);
  EXPECT_EQ(cluster.node(3).role(), Role::kFollower);
  EXPECT_EQ(cluster.node(3).leader(), 1);
}

TEST(RaftNodeTest, ALeaderHandsItsLeadershipToACaughtUpVoterWithoutAnElectionTimeout) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  uint64_t term = cluster.node(1).term();
  cluster.propose(1, 9);
  cluster.deliver_all();
  cluster.tick_all(1);  // heartbeats mark the followers active this round
  cluster.deliver_all();
  Result<NodeId> target = cluster.node(1).transfer_leadership();
  ASSERT_TRUE(target.is_ok()) << target.status().to_string();
  EXPECT_EQ(cluster.node(1).role(), Role::kFollower);
  cluster.process();
  // No tick: the target campaigns on TimeoutNow, and the others vote for it
  // although they heard from the old leader a moment ago.
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(*target).role(), Role::kLeader);
  EXPECT_EQ(cluster.node(*target).term(), term + 1);
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(cluster.node(id).leader(), *target) << "node " << id;
  cluster.propose(*target, 10);
  cluster.deliver_all();
  cluster.tick_all(1);
  cluster.deliver_all();
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(cluster.applied_values(id), (std::vector<uint8_t>{9, 10})) << "node " << id;
  }
}

TEST(RaftNodeTest, LeadershipIsHandedOnlyToAVoterWithTheWholeLog) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.tick_all(1);
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(2).transfer_leadership().code(), ErrorCode::kNotLeader);
  // An entry nobody has acknowledged yet: no voter has the whole log.
  cluster.propose(1, 5);
  cluster.process();
  EXPECT_EQ(cluster.node(1).transfer_leadership().code(), ErrorCode::kLeaderNotAvailable);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
  cluster.deliver_all();
  EXPECT_TRUE(cluster.node(1).transfer_leadership().is_ok());
}

TEST(RaftNodeTest, NoHandoverWhenTheOthersAreNoQuorumWithoutTheLeader) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.crash(3);
  // Node 3 stays silent for more than two heartbeats.
  cluster.tick(1, 3);
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(1).transfer_leadership().code(), ErrorCode::kNotEnoughReplicas);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
}

TEST(RaftNodeTest, ATimeoutNowFromAnyoneButTheLeaderIsIgnored) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  uint64_t term = cluster.node(1).term();
  cluster.deliver(Message{2, 3, TimeoutNow{term, 3}});
  EXPECT_EQ(cluster.node(3).role(), Role::kFollower);
  EXPECT_EQ(cluster.node(3).term(), term);
  EXPECT_EQ(cluster.node(3).leader(), 1);
}

TEST(RaftNodeTest, CheckQuorumMakesACutOffLeaderStepDown) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.isolate(1);
  cluster.tick(1, cluster.node(1).config().election_ticks);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);  // heard from both during the first round
  cluster.tick(1, cluster.node(1).config().election_ticks);
  EXPECT_EQ(cluster.node(1).role(), Role::kFollower);
  EXPECT_EQ(cluster.node(1).propose({1}).code(), ErrorCode::kNotLeader);
  // Meanwhile the other two elect a leader of their own.
  for (int i = 0;
       i < 40 && cluster.node(2).role() != Role::kLeader && cluster.node(3).role() != Role::kLeader;
       ++i) {
    cluster.tick_all(1);
  }
  EXPECT_TRUE(cluster.node(2).role() == Role::kLeader || cluster.node(3).role() == Role::kLeader);
}

TEST(RaftNodeTest, WithoutCheckQuorumACutOffLeaderStaysLeader) {
  TestCluster cluster({1, 2, 3}, {}, plain_raft);
  cluster.elect(1);
  cluster.isolate(1);
  cluster.tick(1, 5 * cluster.node(1).config().election_ticks);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
}

TEST(RaftNodeTest, ANewLeaderOverwritesAConflictingTailInAFewRoundTrips) {
  TestCluster cluster({1, 2, 3}, {}, plain_raft);
  cluster.elect(1);
  // Node 1 appends 50 entries nobody else gets.
  cluster.isolate(1);
  for (uint8_t v = 0; v < 50; ++v) cluster.propose(1, v);
  cluster.process();
  // Nodes 2 and 3 move on in a later term with other entries.
  cluster.heal();
  cluster.drop = [](const Message& m) { return m.from == 1 || m.to == 1; };
  cluster.elect(2);
  for (uint8_t v = 100; v < 103; ++v) cluster.propose(2, v);
  cluster.deliver_all();
  cluster.drop = nullptr;
  // Node 2's next heartbeat round brings node 1 back in line.
  int rejections = 0;
  cluster.drop = [&](const Message& m) {
    const auto* response = std::get_if<AppendEntriesResponse>(&m.body);
    if (response != nullptr && !response->success && m.from == 1) rejections++;
    return false;
  };
  cluster.tick_all(2);
  EXPECT_LE(rejections, 2);  // one hint skips the whole conflicting term
  EXPECT_EQ(cluster.node(1).log().last_index(), cluster.node(2).log().last_index());
  for (uint64_t i = 1; i <= cluster.node(2).log().last_index(); ++i) {
    EXPECT_EQ(cluster.node(1).log().at(i), cluster.node(2).log().at(i)) << "entry " << i;
  }
  EXPECT_EQ(cluster.applied_values(1), (std::vector<uint8_t>{100, 101, 102}));
}

// Raft's Figure 8: an entry of an earlier term stored on a majority is not
// committed by counting; a leader of a later term could still overwrite it.
TEST(RaftNodeTest, CommitsOnlyEntriesOfTheCurrentTermByCounting) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& config) {
    plain_raft(config);
    config.max_entries_per_append = 1;
  });
  cluster.elect(1);  // term 1, no-op at 1
  cluster.tick_all(1);
  cluster.isolate(1);
  Proposal x = cluster.propose(1, 42);  // X: index 2, term 1, only on node 1
  cluster.process();
  cluster.heal();
  // Node 2 wins term 2 but its no-op (index 2, term 2) reaches nobody.
  cluster.drop = [](const Message& m) {
    return m.from == 1 || m.to == 1 || std::holds_alternative<AppendEntriesRequest>(m.body);
  };
  cluster.elect(2);
  // Node 1 wins term 3 with node 3's vote. Its first probe (carrying its
  // no-op, index 3) is refused by node 3, which lacks index 2; then X goes
  // alone and node 3 stores it; the no-op never arrives again.
  int noop_sends = 0;
  cluster.drop = [&](const Message& m) {
    if (m.from == 2 || m.to == 2) return true;
    const auto* append = std::get_if<AppendEntriesRequest>(&m.body);
    bool carries_noop =
        append != nullptr && !append->entries.empty() && append->entries[0].index == 3;
    return carries_noop && ++noop_sends > 1;
  };
  cluster.campaign(1);  // in term 2, which node 3 already voted in: this teaches node 1 the term
  cluster.elect(1);     // term 3
  EXPECT_EQ(cluster.node(1).term(), 3u);
  cluster.tick_all(3);
  ASSERT_EQ(cluster.node(3).log().term_at(2), 1u);  // X on a majority: nodes 1 and 3
  EXPECT_LT(cluster.node(1).commit_index(), x.index) << "X must not count as committed";
  // Node 1 fails; node 2 (last term 2) wins term 4 and overwrites X on node 3.
  cluster.crash(1);
  cluster.drop = nullptr;
  cluster.tick_all(1);  // node 2, still leading term 2, learns of term 3 and steps down
  EXPECT_EQ(cluster.node(2).role(), Role::kFollower);
  cluster.elect(2);
  cluster.tick_all(2);
  EXPECT_EQ(cluster.node(3).log().term_at(2), 2u);
  for (NodeId id : {2, 3}) EXPECT_TRUE(cluster.applied_values(id).empty());
}

TEST(RaftNodeTest, LimitsAppendsInFlightPerFollower) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& config) {
    config.max_entries_per_append = 2;
    config.max_inflight_appends = 3;
  });
  cluster.elect(1);
  cluster.tick_all(1);
  for (uint8_t v = 0; v < 40; ++v) cluster.propose(1, v);
  cluster.process();
  auto appends_to = [&](NodeId id) {
    return count(cluster.in_flight(), [id](const Message& m) {
      const auto* append = std::get_if<AppendEntriesRequest>(&m.body);
      return m.to == id && append != nullptr && !append->entries.empty();
    });
  };
  EXPECT_EQ(appends_to(2), 3);
  EXPECT_EQ(appends_to(3), 3);
  cluster.deliver_all();  // each acknowledgement opens room for the next batch
  cluster.tick_all(1);
  EXPECT_EQ(cluster.applied_values(2).size(), 40u);
}

TEST(RaftNodeTest, ResendsAfterLostAppends) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  int dropped = 0;
  cluster.drop = [&](const Message& m) {
    const auto* append = std::get_if<AppendEntriesRequest>(&m.body);
    if (append != nullptr && !append->entries.empty() && m.to == 3 && dropped < 5) {
      dropped++;
      return true;
    }
    return false;
  };
  for (uint8_t v = 0; v < 5; ++v) {
    cluster.propose(1, v);
    cluster.deliver_all();
  }
  cluster.tick_all(3 * cluster.node(1).config().election_ticks);
  EXPECT_EQ(dropped, 5);
  EXPECT_EQ(cluster.applied_values(3), (std::vector<uint8_t>{0, 1, 2, 3, 4}));
}

TEST(RaftNodeTest, AFollowerBehindTheLogStartGetsTheSnapshotInChunks) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& config) { config.snapshot_chunk_bytes = 7; });
  cluster.elect(1);
  cluster.isolate(3);
  for (uint8_t v = 1; v <= 20; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);
  uint64_t applied = cluster.node(1).applied_index();
  Bytes state(50, 0x5A);
  ASSERT_TRUE(cluster.node(1).compact(applied, state).is_ok());
  cluster.process();
  EXPECT_EQ(cluster.node(1).log().snapshot_index(), applied);
  EXPECT_EQ(cluster.member(1).storage.state().snapshot->index, applied);
  EXPECT_TRUE(cluster.member(1).storage.state().entries.empty());
  cluster.propose(1, 21);
  cluster.deliver_all();
  // The first chunk is lost: the heartbeat round resends it.
  bool lost = false;
  int chunks = 0;
  cluster.drop = [&](const Message& m) {
    if (!std::holds_alternative<InstallSnapshotRequest>(m.body)) return false;
    chunks++;
    if (lost) return false;
    lost = true;
    return true;
  };
  cluster.heal();
  cluster.tick_all(2 * cluster.node(1).config().election_ticks);
  EXPECT_GE(chunks, 8);  // 50 bytes in 7-byte chunks, plus the resent one
  EXPECT_EQ(cluster.member(3).restored_from, state);
  EXPECT_EQ(cluster.node(3).log().snapshot_index(), applied);
  EXPECT_EQ(cluster.applied_values(3), std::vector<uint8_t>{21});
  EXPECT_EQ(cluster.member(3).storage.state().snapshot->data, state);
}

TEST(RaftNodeTest, CompactionIsLimitedToAppliedEntries) {
  TestCluster cluster({1});
  cluster.elect(1);
  EXPECT_EQ(cluster.node(1).compact(5, {}).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(cluster.node(1).compact(1, {}).is_ok());
  cluster.process();
  EXPECT_EQ(cluster.node(1).compact(1, {}).code(), ErrorCode::kInvalidRequest);
}

TEST(RaftNodeTest, ObserversReceiveTheLogButNeverVoteOrCountForAQuorum) {
  TestCluster cluster({1, 2, 3}, {4});
  cluster.elect(1);
  cluster.propose(1, 9);
  cluster.deliver_all();
  cluster.tick_all(1);
  EXPECT_EQ(cluster.applied_values(4), std::vector<uint8_t>{9});
  EXPECT_FALSE(cluster.node(4).is_voter());
  // With both other voters gone, the observer's acknowledgement commits nothing.
  cluster.isolate(2);
  cluster.isolate(3);
  Proposal lonely = cluster.propose(1, 10);
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(4).log().last_index(), lonely.index);
  EXPECT_LT(cluster.node(1).commit_index(), lonely.index);
  // An observer cut off from everyone never campaigns.
  cluster.heal();
  cluster.isolate(4);
  cluster.tick(4, 50);
  EXPECT_EQ(cluster.node(4).role(), Role::kFollower);
  EXPECT_EQ(cluster.node(4).term(), cluster.node(1).term());
}

TEST(RaftNodeTest, ARestartedNodeKeepsItsTermAndVote) {
  TestCluster cluster({1, 2, 3}, {}, plain_raft);
  cluster.elect(1);
  uint64_t term = cluster.node(2).term();
  EXPECT_EQ(cluster.node(2).vote(), 1);
  cluster.crash(2);
  cluster.start(2);
  EXPECT_EQ(cluster.node(2).term(), term);
  EXPECT_EQ(cluster.node(2).vote(), 1);
  // A rival in the same term does not get a second vote from it.
  Message rival{3, 2, VoteRequest{term, 100, term, false}};
  ASSERT_TRUE(cluster.node(2).step(rival).is_ok());
  Ready ready = cluster.node(2).ready();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_FALSE(std::get<VoteResponse>(ready.messages[0].body).granted);
  cluster.node(2).advance(ready);
}

// The leader's view of member `id` (the leader must be `leader`).
// A voter whose storage was lost restarts empty, below the match index the
// leader holds for it. The leader learns that from its refusal of a request
// sent after that acknowledgement and replicates the whole log again.
TEST(RaftNodeTest, AVoterThatLostItsLogCatchesUpUnderTheSameLeader) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  for (uint8_t v = 1; v <= 5; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);
  ASSERT_EQ(cluster.applied_values(3), (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  uint64_t term = cluster.node(1).term();

  cluster.wipe(3);
  EXPECT_EQ(cluster.node(3).log().last_index(), 0u);
  cluster.tick_all(1);
  for (uint8_t v = 6; v <= 8; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(2);

  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
  EXPECT_EQ(cluster.node(1).term(), term);
  EXPECT_EQ(cluster.node(3).term(), term);
  expect_same_log(cluster, 1, 3);
  EXPECT_EQ(cluster.applied_values(3), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(member_status(cluster, 1, 3).match_index, cluster.node(1).log().last_index());
}

TEST(RaftNodeTest, AnObserverRestartedFromScratchCatchesUp) {
  TestCluster cluster({1, 2, 3}, {4});
  cluster.elect(1);
  for (uint8_t v = 1; v <= 3; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);
  ASSERT_EQ(cluster.applied_values(4), (std::vector<uint8_t>{1, 2, 3}));

  cluster.wipe(4);
  cluster.tick_all(3);
  EXPECT_EQ(cluster.applied_values(4), (std::vector<uint8_t>{1, 2, 3}));
  cluster.propose(1, 4);
  cluster.deliver_all();
  cluster.tick_all(1);
  expect_same_log(cluster, 1, 4);
  EXPECT_EQ(cluster.applied_values(4), (std::vector<uint8_t>{1, 2, 3, 4}));
}

// With the log compacted, the member that lost its storage gets the snapshot.
TEST(RaftNodeTest, AMemberThatLostItsLogGetsTheSnapshotOfACompactedLog) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  for (uint8_t v = 1; v <= 10; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);
  uint64_t applied = cluster.node(1).applied_index();
  Bytes state(30, 0x3C);
  ASSERT_TRUE(cluster.node(1).compact(applied, state).is_ok());
  cluster.process();

  cluster.wipe(2);
  cluster.tick_all(2);
  cluster.propose(1, 11);
  cluster.deliver_all();
  cluster.tick_all(1);
  EXPECT_EQ(cluster.member(2).restored_from, state);
  EXPECT_EQ(cluster.node(2).log().snapshot_index(), applied);
  expect_same_log(cluster, 1, 2);
  EXPECT_EQ(cluster.applied_values(2), std::vector<uint8_t>{11});
  EXPECT_EQ(cluster.node(2).applied_index(), cluster.node(1).applied_index());
}

// Five voters; entry X reached only node 2, which then lost its storage.
// Once the leader learns of the loss, node 2's old acknowledgement of X no
// longer counts: X is on the leader and node 3 only, not on a majority.
// (Check-quorum is off: the leader hears from too few voters for a while.)
TEST(RaftNodeTest, AnAcknowledgementOfALostLogNoLongerCountsForCommit) {
  TestCluster cluster({1, 2, 3, 4, 5}, {}, [](RaftConfig& config) { config.check_quorum = false; });
  cluster.elect(1);
  cluster.propose(1, 1);
  cluster.deliver_all();
  cluster.tick_all(1);
  uint64_t committed = cluster.node(1).commit_index();
  for (NodeId id : {3, 4, 5}) cluster.isolate(id);
  Proposal x = cluster.propose(1, 2);
  cluster.deliver_all();
  ASSERT_EQ(member_status(cluster, 1, 2).match_index, x.index);
  ASSERT_EQ(cluster.node(1).commit_index(), committed);

  cluster.wipe(2);
  // Node 2 hears one heartbeat and answers; the resends it asks for are lost.
  cluster.drop = [](const Message& m) {
    const auto* append = std::get_if<AppendEntriesRequest>(&m.body);
    return m.to == 2 && append != nullptr && !append->entries.empty();
  };
  cluster.tick_all(1);
  EXPECT_EQ(member_status(cluster, 1, 2).match_index, 0u);
  // Node 3 comes back and stores X: two copies of five, not committed.
  cluster.heal();
  for (NodeId id : {4, 5}) cluster.isolate(id);
  cluster.drop = [](const Message& m) { return m.to == 2 || m.from == 2; };
  cluster.tick_all(cluster.node(1).config().election_ticks);  // resends X to node 3
  ASSERT_EQ(member_status(cluster, 1, 3).match_index, x.index);
  EXPECT_EQ(cluster.node(1).commit_index(), committed);
  // Node 2 catches up for real: now X is on three of five.
  cluster.drop = nullptr;
  cluster.tick_all(cluster.node(1).config().election_ticks);
  EXPECT_EQ(cluster.node(1).commit_index(), x.index);
  EXPECT_EQ(cluster.applied_values(2), (std::vector<uint8_t>{1, 2}));
}

// Appends A1 (entry p+1) and A2 (entry p+2) reach a follower in the wrong
// order: it refuses A2, then accepts A1. Its refusal of A2, overtaken by its
// acknowledgement of A1, is stale and must not lower the match index, even
// though it names an index at or below it.
TEST(RaftNodeTest, ARefusalOvertakenByALaterAcknowledgementIsIgnored) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& config) { config.max_entries_per_append = 1; });
  cluster.elect(1);
  cluster.tick_all(1);
  uint64_t p = cluster.node(1).log().last_index();
  cluster.propose(1, 1);
  cluster.propose(1, 2);
  cluster.process();
  std::vector<Message> appends = cluster.take([](const Message& m) {
    return m.to == 2 && std::holds_alternative<AppendEntriesRequest>(m.body);
  });
  ASSERT_EQ(appends.size(), 2u);
  ASSERT_EQ(std::get<AppendEntriesRequest>(appends[1].body).prev_log_index, p + 1);
  cluster.deliver(appends[1]);
  cluster.deliver(appends[0]);
  std::vector<Message> answers = cluster.take([](const Message& m) { return m.from == 2; });
  ASSERT_EQ(answers.size(), 2u);
  const auto& refusal = std::get<AppendEntriesResponse>(answers[0].body);
  ASSERT_FALSE(refusal.success);
  ASSERT_EQ(refusal.rejected_index, p + 1);
  ASSERT_TRUE(std::get<AppendEntriesResponse>(answers[1].body).success);
  cluster.deliver(answers[1]);
  ASSERT_EQ(member_status(cluster, 1, 2).match_index, p + 1);
  cluster.deliver(answers[0]);
  MemberStatus status = member_status(cluster, 1, 2);
  EXPECT_EQ(status.match_index, p + 1);
  EXPECT_EQ(status.state, ReplicationState::kReplicate);
  cluster.deliver_all();
  cluster.tick_all(cluster.node(1).config().election_ticks);
  EXPECT_EQ(cluster.applied_values(2), (std::vector<uint8_t>{1, 2}));
}

TEST(RaftNodeTest, ReportsEachMembersProgressToTheLeader) {
  TestCluster cluster({1, 2, 3}, {4});
  cluster.elect(1);
  cluster.propose(1, 1);
  cluster.deliver_all();
  std::vector<MemberStatus> members = cluster.node(1).members();
  ASSERT_EQ(members.size(), 4u);
  for (const MemberStatus& member : members) {
    EXPECT_EQ(member.match_index, 2u) << "node " << member.id;
    EXPECT_EQ(member.voter, member.id != 4);
  }
  EXPECT_TRUE(cluster.node(2).members().empty());
}

}  // namespace
}  // namespace mq::raft
