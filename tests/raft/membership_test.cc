// Who a RaftNode takes as a member: dynamic observers that announce
// themselves, strangers refused while a leader is live, and the voter set
// recorded in the log (add, remove, a leader removing itself, a voter that
// lost its directory).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "raft/raft_node.h"
#include "tests/raft/test_cluster.h"

namespace mq::raft {
namespace {

using harness::count;
using harness::expect_same_log;
using harness::member_status;
using harness::TestCluster;

// ---- dynamic observers -------------------------------------------------------

std::optional<NodeId> leader_among(TestCluster& cluster, std::vector<NodeId> ids) {
  for (NodeId id : ids) {
    if (cluster.node(id).role() == Role::kLeader) return id;
  }
  return std::nullopt;
}

bool lists_member(TestCluster& cluster, NodeId leader, NodeId id) {
  auto members = cluster.node(leader).members();
  return std::any_of(members.begin(), members.end(),
                     [id](const MemberStatus& m) { return m.id == id; });
}

// Node 9 is in no config. It announces itself, the leader sends it the
// snapshot of its compacted log and then the log, and its acknowledgements
// never count for commit.
TEST(RaftNodeTest, AnUnlistedNodeAnnouncesItselfAndCatchesUpAsAnObserver) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& config) { config.snapshot_chunk_bytes = 8; });
  cluster.elect(1);
  for (uint8_t v = 1; v <= 5; ++v) cluster.propose(1, v);
  cluster.deliver_all();
  cluster.tick_all(1);
  uint64_t applied = cluster.node(1).applied_index();
  Bytes state(20, 0x77);
  ASSERT_TRUE(cluster.node(1).compact(applied, state).is_ok());
  cluster.process();
  cluster.propose(1, 6);
  cluster.deliver_all();

  cluster.join(9);
  EXPECT_TRUE(cluster.node(9).is_dynamic_observer());
  EXPECT_FALSE(cluster.node(1).is_dynamic_observer());
  cluster.tick(9);  // announces at once
  EXPECT_EQ(count(cluster.in_flight(),
                  [](const Message& m) {
                    const auto* hello = std::get_if<ObserverHello>(&m.body);
                    return hello != nullptr && m.from == 9 && hello->address == "node-9";
                  }),
            3);
  cluster.deliver_all();
  cluster.tick_all(3);
  EXPECT_EQ(cluster.member(9).restored_from, state);
  EXPECT_EQ(cluster.node(9).log().snapshot_index(), applied);
  EXPECT_EQ(cluster.applied_values(9), std::vector<uint8_t>{6});
  EXPECT_EQ(cluster.node(9).applied_index(), cluster.node(1).applied_index());
  EXPECT_EQ(cluster.node(9).leader(), 1);
  MemberStatus status = member_status(cluster, 1, 9);
  EXPECT_FALSE(status.voter);
  EXPECT_TRUE(status.dynamic);
  EXPECT_EQ(status.match_index, cluster.node(1).log().last_index());
  EXPECT_FALSE(member_status(cluster, 1, 2).dynamic);
  // Followers keep no list: only the leader replicates.
  EXPECT_FALSE(cluster.node(2).replicates_to_dynamic_observer(9));
  EXPECT_TRUE(cluster.node(1).replicates_to_dynamic_observer(9));

  // With both other voters cut off, the observer's acknowledgement commits nothing.
  cluster.isolate(2);
  cluster.isolate(3);
  Proposal lonely = cluster.propose(1, 7);
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(9).log().last_index(), lonely.index);
  EXPECT_LT(cluster.node(1).commit_index(), lonely.index);
  // And it never campaigns, however long it hears nothing.
  cluster.heal();
  cluster.isolate(9);
  cluster.tick(9, 50);
  EXPECT_EQ(cluster.node(9).role(), Role::kFollower);
  EXPECT_EQ(cluster.node(9).term(), cluster.node(1).term());
}

// The new leader does not know the observer; the observer, hearing no
// leader for an election timeout, announces itself again.
TEST(RaftNodeTest, ADynamicObserverAnnouncesItselfToANewLeader) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.join(9);
  for (uint8_t v = 1; v <= 3; ++v) cluster.propose(1, v);
  cluster.tick_all(2);
  ASSERT_EQ(cluster.applied_values(9), (std::vector<uint8_t>{1, 2, 3}));

  cluster.isolate(1);
  const int election_ticks = cluster.node(1).config().election_ticks;
  std::optional<NodeId> leader;
  for (int i = 0; i < 6 * election_ticks && !leader; ++i) {
    cluster.tick_all(1);
    leader = leader_among(cluster, {2, 3});
  }
  ASSERT_TRUE(leader) << "no new leader";
  for (int i = 0; i < 3 * election_ticks && !lists_member(cluster, *leader, 9); ++i) {
    cluster.tick_all(1);
  }
  ASSERT_TRUE(lists_member(cluster, *leader, 9)) << "the new leader never learnt of node 9";
  cluster.propose(*leader, 4);
  cluster.tick_all(2);
  EXPECT_EQ(cluster.node(9).leader(), *leader);
  EXPECT_EQ(cluster.applied_values(9), (std::vector<uint8_t>{1, 2, 3, 4}));
  expect_same_log(cluster, *leader, 9);
}

TEST(RaftNodeTest, ADynamicObserverCatchesUpAfterARestartAndAfterLosingItsLog) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.join(9);
  cluster.propose(1, 1);
  cluster.tick_all(2);
  ASSERT_EQ(cluster.applied_values(9), std::vector<uint8_t>{1});

  cluster.crash(9);
  cluster.propose(1, 2);
  cluster.tick_all(2);
  cluster.start(9);  // from its storage; it re-applies the committed entries it holds
  // The append of 2 was lost with the crash: resent once it stalls.
  const int election_ticks = cluster.node(1).config().election_ticks;
  cluster.tick_all(election_ticks);
  EXPECT_EQ(cluster.applied_values(9), (std::vector<uint8_t>{1, 2}));

  cluster.wipe(9);
  cluster.propose(1, 3);
  cluster.tick_all(election_ticks);
  EXPECT_EQ(cluster.applied_values(9), (std::vector<uint8_t>{1, 2, 3}));
  expect_same_log(cluster, 1, 9);
}

TEST(RaftNodeTest, ASilentDynamicObserverIsForgottenAndCanJoinAgain) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  cluster.join(9);
  cluster.tick_all(2);
  ASSERT_TRUE(lists_member(cluster, 1, 9));

  cluster.crash(9);
  const int expiry = cluster.node(1).config().dynamic_observer_expiry_ticks();
  cluster.tick_all(expiry - 1);
  EXPECT_TRUE(lists_member(cluster, 1, 9));
  cluster.tick_all(1);
  EXPECT_FALSE(lists_member(cluster, 1, 9));
  EXPECT_EQ(cluster.node(1).members().size(), 3u);
  // Nothing more is sent to it.
  int sent_to_9 = 0;
  cluster.drop = [&](const Message& m) {
    sent_to_9 += m.to == 9 ? 1 : 0;
    return false;
  };
  cluster.tick_all(5);
  EXPECT_EQ(sent_to_9, 0);
  cluster.drop = nullptr;

  cluster.start(9);
  cluster.propose(1, 5);
  cluster.tick_all(3);
  EXPECT_TRUE(lists_member(cluster, 1, 9));
  EXPECT_EQ(cluster.applied_values(9), std::vector<uint8_t>{5});
}

TEST(RaftNodeTest, AHelloNeverChangesATermAndAnUnlistedNodeNeverLeadsOrVotes) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  const uint64_t term = cluster.node(1).term();
  // A hello from a listed member is ignored (with an empty log it cannot
  // tell that it is still listed), one from the node itself refused; one
  // with a huge term is taken without adopting it.
  EXPECT_TRUE(cluster.node(1).step(Message{2, 1, ObserverHello{term, "x"}}).is_ok());
  EXPECT_FALSE(cluster.node(1).replicates_to_dynamic_observer(2));
  EXPECT_EQ(cluster.node(1).step(Message{1, 1, ObserverHello{term, "x"}}).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_TRUE(cluster.node(2).step(Message{9, 2, ObserverHello{term + 50, "x"}}).is_ok());
  EXPECT_TRUE(cluster.node(1).step(Message{9, 1, ObserverHello{term + 50, "x"}}).is_ok());
  EXPECT_EQ(cluster.node(1).term(), term);
  EXPECT_EQ(cluster.node(2).term(), term);
  EXPECT_EQ(cluster.node(1).role(), Role::kLeader);
  EXPECT_TRUE(cluster.node(1).replicates_to_dynamic_observer(9));
  // Node 9 is known to the leader now, yet its requests and votes are not
  // taken: it cannot lead or campaign.
  EXPECT_EQ(cluster.node(1).step(Message{9, 1, VoteRequest{term + 1, 100, term, false}}).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(cluster.node(2).step(Message{9, 2, AppendEntriesRequest{.term = term + 1}}).code(),
            ErrorCode::kInvalidRequest);
  // An answer from a node this node does not replicate to is ignored,
  // higher term and all.
  EXPECT_TRUE(cluster.node(2).step(Message{8, 2, AppendEntriesResponse{.term = term + 9}}).is_ok());
  EXPECT_EQ(cluster.node(2).term(), term);
  EXPECT_EQ(cluster.node(1).term(), term);
  EXPECT_EQ(cluster.node(2).leader(), 1);
}

TEST(RaftNodeTest, RejectsMessagesFromStrangersWhileItFollowsALiveLeader) {
  TestCluster cluster({1, 2, 3});
  cluster.elect(1);
  const uint64_t term = cluster.node(2).term();
  EXPECT_EQ(cluster.node(2).step(Message{9, 2, VoteRequest{term + 1}}).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(cluster.node(2).step(Message{9, 2, AppendEntriesRequest{.term = term + 1}}).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(cluster.node(1).step(Message{2, 3, VoteRequest{}}).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(cluster.node(2).term(), term);
}

// ---- membership ------------------------------------------------------------

RaftConfig with_directory(RaftConfig config) {
  config.directory_id = "dir-" + std::to_string(config.id);
  return config;
}

TEST(RaftNodeTest, TheLeaderRecordsTheVotersDirectoriesAfterItsFirstCommit) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& c) { c = with_directory(c); });
  cluster.elect(1);
  cluster.tick_all(3);
  const Membership& voters = cluster.node(2).membership();
  ASSERT_EQ(voters.voters.size(), 3u);
  for (const Voter& voter : voters.voters) {
    EXPECT_EQ(voter.directory_id, "dir-" + std::to_string(voter.id));
  }
  EXPECT_GT(cluster.node(1).membership_index(), 0u);
  EXPECT_LE(cluster.node(1).membership_index(), cluster.node(1).commit_index());
}

TEST(RaftNodeTest, ALoneVoterRestartedElsewhereRecordsItsNewAddress) {
  std::string address = "node-1";
  TestCluster cluster({1}, {}, [&](RaftConfig& c) {
    c = with_directory(c);
    c.address = address;
  });
  cluster.tick_all(3);
  ASSERT_EQ(cluster.node(1).role(), Role::kLeader);
  EXPECT_EQ(cluster.node(1).membership().find(1)->address, "node-1");
  address = "moved-1";
  cluster.crash(1);
  cluster.start(1);
  cluster.tick_all(3);
  ASSERT_EQ(cluster.node(1).role(), Role::kLeader);
  EXPECT_EQ(cluster.node(1).membership().find(1)->address, "moved-1");
  EXPECT_EQ(cluster.node(1).membership().find(1)->directory_id, "dir-1");
}

TEST(RaftNodeTest, ALeaderRecordsWhereAMovedVoterSaysItIsNow) {
  std::map<NodeId, std::string> addresses;  // a restarted node's new address
  TestCluster cluster({1, 2, 3}, {}, [&](RaftConfig& c) {
    c = with_directory(c);
    if (addresses.contains(c.id)) c.address = addresses.at(c.id);
  });
  cluster.elect(1);
  cluster.tick_all(3);
  EXPECT_EQ(cluster.node(2).membership().find(3)->address, "node-3");

  // Voter 3 restarts elsewhere; the others still send to its old address,
  // so it hears no leader and announces itself with its directory.
  addresses[3] = "moved-3";
  cluster.crash(3);
  cluster.start(3);
  cluster.drop = [](const Message& m) { return m.to == 3; };
  int hellos = 0;
  for (int i = 0; i < 3 * cluster.node(3).config().election_ticks && hellos == 0; ++i) {
    cluster.tick(3);
    hellos = count(cluster.in_flight(), [](const Message& m) {
      const auto* hello = std::get_if<ObserverHello>(&m.body);
      return m.from == 3 && hello != nullptr && hello->address == "moved-3";
    });
    cluster.deliver_all();
  }
  ASSERT_GT(hellos, 0) << "a voter without a leader announces where it is";
  cluster.tick(1, 2);
  cluster.deliver_all();
  cluster.drop = nullptr;
  cluster.tick_all(3);
  EXPECT_EQ(cluster.node(1).membership().find(3)->address, "moved-3");
  EXPECT_EQ(cluster.node(2).membership().find(3)->address, "moved-3");

  // An announcement that names another directory moves nothing.
  uint64_t version = cluster.node(1).membership_version();
  ASSERT_TRUE(cluster.node(1)
                  .step(Message{2, 1,
                                ObserverHello{.term = cluster.node(1).term(),
                                              .address = "elsewhere",
                                              .directory_id = "not-dir-2"}})
                  .is_ok());
  cluster.tick_all(3);
  EXPECT_EQ(cluster.node(1).membership().find(2)->address, "node-2");
  EXPECT_EQ(cluster.node(1).membership_version(), version);
}

TEST(RaftNodeTest, AnObserverThatCaughtUpIsAddedAndThenCountsForTheQuorum) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& c) { c = with_directory(c); });
  cluster.elect(1);
  // A node that has not announced itself is refused.
  EXPECT_EQ(cluster.node(1).add_voter(4, "node-4").code(), ErrorCode::kReplicaNotAvailable);
  cluster.join(4);
  cluster.tick_all(3);
  for (uint8_t i = 0; i < 5; ++i) cluster.propose(1, i);
  cluster.deliver_all();
  EXPECT_EQ(cluster.node(1).add_voter(2, "node-2").code(), ErrorCode::kDuplicateVoter);
  Result<Proposal> added = cluster.node(1).add_voter(4, "node-4");
  ASSERT_TRUE(added.is_ok()) << added.status().to_string();
  // One change at a time.
  EXPECT_EQ(cluster.node(1).remove_voter(3).code(), ErrorCode::kVoterChangeInProgress);
  cluster.deliver_all();
  cluster.tick_all(2);
  EXPECT_GE(cluster.node(4).commit_index(), added->index);
  EXPECT_TRUE(cluster.node(4).is_voter());
  EXPECT_FALSE(cluster.node(4).is_dynamic_observer());
  const Voter* recorded = cluster.node(2).membership().find(4);
  ASSERT_NE(recorded, nullptr);
  EXPECT_EQ(recorded->address, "node-4");
  EXPECT_EQ(recorded->directory_id, "dir-4");
  // Four voters: with two of them cut off nothing commits.
  cluster.isolate(3);
  cluster.isolate(4);
  Proposal stuck = cluster.propose(1, 42);
  cluster.deliver_all();
  EXPECT_LT(cluster.node(1).commit_index(), stuck.index);
  cluster.heal();
  cluster.tick_all(6);
  EXPECT_GE(cluster.node(1).commit_index(), stuck.index);
}

TEST(RaftNodeTest, ALeaderThatRemovesItselfHandsOverOnceTheChangeCommits) {
  TestCluster cluster({1, 2, 3}, {}, [](RaftConfig& c) { c = with_directory(c); });
  cluster.elect(1);
  cluster.tick_all(2);
  EXPECT_EQ(cluster.node(1).remove_voter(7).code(), ErrorCode::kVoterNotFound);
  Result<Proposal> removed = cluster.node(1).remove_voter(1);
  ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
  cluster.deliver_all();
  cluster.tick_all(3);
  EXPECT_NE(cluster.node(1).role(), Role::kLeader);
  EXPECT_FALSE(cluster.node(1).is_voter());
  NodeId leader = cluster.node(2).leader();
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_EQ(cluster.node(leader).membership().voters.size(), 2u);
  // The removed node keeps receiving the log, as an observer: it announces
  // itself (within an election timeout) like any node listed nowhere.
  Proposal after = cluster.propose(leader, 9);
  cluster.tick_all(2 * cluster.node(1).config().election_ticks);
  EXPECT_TRUE(cluster.node(leader).replicates_to_dynamic_observer(1));
  EXPECT_GE(cluster.node(1).commit_index(), after.index);
  // The last voter cannot go.
  Result<Proposal> down_to_one = cluster.node(leader).remove_voter(leader == 2 ? 3 : 2);
  ASSERT_TRUE(down_to_one.is_ok()) << down_to_one.status().to_string();
  cluster.tick_all(3);
  EXPECT_EQ(cluster.node(leader).remove_voter(leader).code(), ErrorCode::kInvalidRequest);
}

TEST(RaftNodeTest, AVoterThatLostItsDirectoryDoesNotVoteUntilTakenBack) {
  std::map<NodeId, std::string> directories = {{1, "a"}, {2, "b"}, {3, "c"}};
  TestCluster cluster({1, 2, 3}, {}, [&](RaftConfig& c) { c.directory_id = directories.at(c.id); });
  cluster.elect(1);
  cluster.tick_all(3);
  for (uint8_t i = 0; i < 5; ++i) cluster.propose(1, i);
  cluster.deliver_all();
  // Node 3 comes back with an empty directory: it is not the recorded voter.
  directories[3] = "c2";
  cluster.isolate(1);
  cluster.wipe(3);
  EXPECT_FALSE(cluster.node(3).is_voter() && cluster.node(3).log().last_index() > 0);
  // Its vote does not count: node 2 cannot win with it while 1 is cut off.
  cluster.campaign(2);
  EXPECT_NE(cluster.node(2).role(), Role::kLeader);
  cluster.heal();
  cluster.tick_all(4 * cluster.node(1).config().election_ticks);
  NodeId leader = cluster.node(1).role() == Role::kLeader ? 1 : cluster.node(1).leader();
  ASSERT_NE(leader, kNoNode);
  // Caught up, it is taken back under its new directory, and votes again.
  cluster.tick_all(5);
  EXPECT_EQ(cluster.node(leader).membership().find(3)->directory_id, "c2");
  EXPECT_TRUE(cluster.node(3).is_voter());
  EXPECT_EQ(cluster.applied_values(3), cluster.applied_values(leader));
}

}  // namespace
}  // namespace mq::raft
