// QuorumService end to end: quorums of services in one process over loopback
// ZeroMQ, with file storage in temporary directories.
#include "quorum/quorum_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "quorum/wire.h"
#include "tests/quorum/test_quorum.h"
#include "transport/header.h"

namespace mq::quorum {
namespace {

using namespace mq::quorum::testing;

NodeId some_follower(TestQuorum& quorum, NodeId leader) {
  for (NodeId id = 1; id <= quorum.members(); ++id) {
    if (id != leader && quorum.running(id) && quorum.service(id).status().voter) return id;
  }
  return raft::kNoNode;
}

// Every running member applied the same sequence as `reference`.
void expect_same_sequence(TestQuorum& quorum, NodeId reference) {
  auto expected = quorum.machine(reference).applied();
  for (NodeId id = 1; id <= quorum.members(); ++id) {
    if (!quorum.running(id) || id == reference) continue;
    EXPECT_EQ(quorum.machine(id).applied(), expected) << "node " << id << " vs " << reference;
  }
}

TEST(QuorumServiceTest, OneVoterElectsItselfAndAppliesProposals) {
  TestQuorum quorum({.voters = 1});
  quorum.start_all();
  ASSERT_EQ(quorum.wait_for_controller(5s), 1);
  EXPECT_EQ(quorum.machine(1).controller_turns(), 1);
  // The leader records its directory in the voter set (a configuration
  // entry of its own) after its first commit; proposals after that get
  // consecutive indexes.
  ASSERT_TRUE(eventually(
      [&] {
        QuorumStatus status = quorum.service(1).status();
        return status.voters.size() == 1 && !status.voters[0].directory_id.empty() &&
               status.voters_recorded_at > 0 && status.applied_index >= status.voters_recorded_at;
      },
      5s, kPoll));

  std::vector<uint64_t> indexes = quorum.propose_all(1, "value", 100);
  ASSERT_EQ(indexes.size(), 100u);
  for (size_t i = 1; i < indexes.size(); ++i) EXPECT_EQ(indexes[i], indexes[i - 1] + 1);
  auto applied = quorum.machine(1).applied();
  ASSERT_EQ(applied.size(), 100u);
  EXPECT_EQ(applied.front().data, "value-0");
  EXPECT_EQ(applied.back().data, "value-99");
  EXPECT_EQ(applied.back().index, indexes.back());

  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 5s));
  QuorumStatus status = quorum.service(1).status();
  EXPECT_TRUE(status.running);
  EXPECT_EQ(status.role, raft::Role::kLeader);
  EXPECT_EQ(status.leader, 1);
  EXPECT_GE(status.applied_index, indexes.back());
  EXPECT_EQ(status.commit_index, status.last_log_index);
  ASSERT_EQ(status.members.size(), 1u);
  EXPECT_EQ(status.members[0].lag, 0u);
}

TEST(QuorumServiceTest, ThreeVotersElectOneLeaderAndApplyTheSameThousandEntries) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);

  std::vector<uint64_t> indexes = quorum.propose_all(leader, "entry", 1000);
  ASSERT_EQ(indexes.size(), 1000u);
  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 10s));
  auto applied = quorum.machine(leader).applied();
  ASSERT_EQ(applied.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(applied[static_cast<size_t>(i)].data, "entry-" + std::to_string(i));
  }
  expect_same_sequence(quorum, leader);

  // The leader reports every member caught up.
  ASSERT_TRUE(eventually(
      [&] {
        QuorumStatus status = quorum.service(leader).status();
        if (status.members.size() != 3) return false;
        for (const MemberProgress& member : status.members) {
          if (member.lag != 0 || member.match_index != status.last_log_index) return false;
        }
        return true;
      },
      5s, kPoll));
  for (NodeId id = 1; id <= 3; ++id) {
    QuorumStatus status = quorum.service(id).status();
    EXPECT_EQ(status.leader, leader);
    EXPECT_EQ(status.role, id == leader ? raft::Role::kLeader : raft::Role::kFollower);
    EXPECT_TRUE(id == leader || status.members.empty());
  }
}

TEST(QuorumServiceTest, ANewLeaderTakesOverAndTheOldOneCatchesUpFromDisk) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId old_leader = quorum.wait_for_controller(10s);
  ASSERT_NE(old_leader, raft::kNoNode);
  ASSERT_EQ(quorum.propose_all(old_leader, "before", 100).size(), 100u);

  quorum.stop(old_leader);
  auto stopped_at = std::chrono::steady_clock::now();
  NodeId new_leader = quorum.wait_for_controller(10 * quorum.election_timeout());
  ASSERT_NE(new_leader, raft::kNoNode);
  EXPECT_NE(new_leader, old_leader);
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, 5 * quorum.election_timeout());

  std::vector<uint64_t> after = quorum.propose_all(new_leader, "after", 100);
  ASSERT_EQ(after.size(), 100u);

  quorum.start(old_leader);  // same storage, fresh state machine
  ASSERT_TRUE(quorum.wait_applied(after.back(), 10s));
  auto applied = quorum.machine(old_leader).applied();
  ASSERT_EQ(applied.size(), 200u);
  EXPECT_EQ(applied.front().data, "before-0");
  EXPECT_EQ(applied.back().data, "after-99");
  expect_same_sequence(quorum, new_leader);
}

// A leader that is stopped (not killed) hands its leadership to a voter that
// has its whole log: the next leader is there within a few round trips, not
// after an election timeout (3 s here) and a campaign.
TEST(QuorumServiceTest, AStoppingLeaderHandsItsLeadershipOverWithoutAnElection) {
  TestQuorum quorum({.tick_ms = 10, .election_timeout_ms = 3000});
  quorum.start_all();
  NodeId old_leader = quorum.wait_for_controller(30s);
  ASSERT_NE(old_leader, raft::kNoNode);
  ASSERT_EQ(quorum.propose_all(old_leader, "before", 50).size(), 50u);

  auto stopping_at = std::chrono::steady_clock::now();
  quorum.stop(old_leader);
  NodeId new_leader = quorum.wait_for_controller(30s);
  auto took = std::chrono::steady_clock::now() - stopping_at;
  ASSERT_NE(new_leader, raft::kNoNode);
  EXPECT_NE(new_leader, old_leader);
  // An election would take at least the 3 s election timeout.
  EXPECT_LT(took, quorum.election_timeout())
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  std::vector<uint64_t> after = quorum.propose_all(new_leader, "after", 50);
  ASSERT_EQ(after.size(), 50u);
  ASSERT_TRUE(quorum.wait_applied(after.back(), 10s));
  expect_same_sequence(quorum, new_leader);
}

// A new controller starts the previous one's broker session from its last
// quorum message: every member knows which leader it last heard and when.
TEST(QuorumServiceTest, MembersKnowWhenTheyLastHeardTheLeaderEvenAfterItDied) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId old_leader = quorum.wait_for_controller(10s);
  ASSERT_NE(old_leader, raft::kNoNode);
  ASSERT_EQ(quorum.propose_all(old_leader, "x", 10).size(), 10u);
  NodeId follower = some_follower(quorum, old_leader);
  ASSERT_TRUE(
      eventually([&] { return quorum.service(follower).status().last_leader_heard == old_leader; },
                 5s, kPoll));
  EXPECT_GE(quorum.service(follower).status().last_leader_silence_ms, 0);

  quorum.stop(old_leader);
  auto stopped_at = std::chrono::steady_clock::now();
  NodeId new_leader = quorum.wait_for_controller(10 * quorum.election_timeout());
  ASSERT_NE(new_leader, raft::kNoNode);
  ASSERT_NE(new_leader, old_leader);
  QuorumStatus status = quorum.service(new_leader).status();
  auto since_stop = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - stopped_at)
                        .count();
  // Leading itself does not replace it: the dead leader is the last other one heard.
  EXPECT_EQ(status.last_leader_heard, old_leader);
  EXPECT_GE(status.last_leader_silence_ms, since_stop) << "heard nothing since it stopped";
}

TEST(QuorumServiceTest, SnapshotsTruncateTheLogAndALaggingMemberCatchesUpBySnapshot) {
  TestQuorum quorum({.snapshot_every_entries = 50});
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  NodeId lagging = some_follower(quorum, leader);
  quorum.stop(lagging);
  quorum.wipe(lagging);  // a member replaced by a new machine

  // In three rounds: a snapshot is taken after a Ready's entries are applied,
  // so one round of pipelined proposals may be covered by a single snapshot.
  std::vector<uint64_t> indexes;
  for (int round = 0; round < 3; ++round) {
    std::vector<uint64_t> more = quorum.propose_all(leader, "x" + std::to_string(round), 100);
    ASSERT_EQ(more.size(), 100u);
    indexes.insert(indexes.end(), more.begin(), more.end());
  }
  // The status is published after the iteration that resolved the proposals.
  QuorumStatus status;
  EXPECT_TRUE(eventually(
      [&] {
        status = quorum.service(leader).status();
        return status.applied_index >= indexes.back();
      },
      5s, kPoll));
  EXPECT_GE(status.snapshot_index, 250u);
  EXPECT_GE(status.counters.snapshots_taken, 3u);
  EXPECT_LE(status.last_log_index - status.snapshot_index, 50u);

  quorum.start(lagging);
  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 10s));
  EXPECT_GE(quorum.machine(lagging).restores(), 1);
  EXPECT_GE(quorum.machine(lagging).last_restore_index(), 250u);
  EXPECT_GE(quorum.service(lagging).status().counters.snapshots_restored, 1u);
  EXPECT_EQ(quorum.machine(lagging).applied_count(), 300u);
  expect_same_sequence(quorum, leader);

  // A member restarted from its own snapshot on disk restores it at start.
  NodeId restarted = some_follower(quorum, leader);
  ASSERT_TRUE(
      eventually([&] { return quorum.service(restarted).status().snapshot_index > 0; }, 5s, kPoll));
  quorum.stop(restarted);
  quorum.start(restarted);
  EXPECT_EQ(quorum.machine(restarted).restores(), 1);
  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 10s));
  EXPECT_EQ(quorum.machine(restarted).applied_count(), 300u);
  expect_same_sequence(quorum, leader);
}

TEST(QuorumServiceTest, AnObserverAppliesEverythingAndNeverLeads) {
  TestQuorum quorum({.voters = 3, .observers = 1});
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  ASSERT_NE(leader, 4);
  std::vector<uint64_t> indexes = quorum.propose_all(leader, "o", 200);
  ASSERT_EQ(indexes.size(), 200u);
  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 10s));
  EXPECT_EQ(quorum.machine(4).applied_count(), 200u);
  expect_same_sequence(quorum, leader);
  EXPECT_FALSE(quorum.service(4).status().voter);
  EXPECT_TRUE(eventually(
      [&] {
        auto members = quorum.service(leader).status().members;
        return members.size() == 4 && !members[3].voter && members[3].lag == 0;
      },
      5s, kPoll));

  // With every voter gone the observer waits; it never campaigns.
  for (NodeId id = 1; id <= 3; ++id) quorum.stop(id);
  std::this_thread::sleep_for(4 * quorum.election_timeout());
  QuorumStatus status = quorum.service(4).status();
  EXPECT_EQ(status.role, raft::Role::kFollower);
  EXPECT_EQ(quorum.machine(4).controller_turns(), 0);
}

// The leader's view of member `id`, if it reports one.
std::optional<MemberProgress> member_of(TestQuorum& quorum, NodeId leader, NodeId id) {
  for (const MemberProgress& member : quorum.service(leader).status().members) {
    if (member.id == id) return member;
  }
  return std::nullopt;
}

bool caught_up_dynamic_observer(TestQuorum& quorum, NodeId leader, NodeId id) {
  std::optional<MemberProgress> member = member_of(quorum, leader, id);
  return member && member->dynamic && !member->voter && member->lag == 0;
}

// Node 4 is in no config: it listens on an ephemeral port and announces it.
// The leader sends it the snapshot of its compacted log, then the log; after
// the leader stops, the new one learns of it from its next announcement, and
// a restart of node 4 changes nothing.
TEST(QuorumServiceTest, AnUnlistedObserverJoinsCatchesUpAndSurvivesALeaderChange) {
  TestQuorum quorum({.voters = 3, .snapshot_every_entries = 50});
  const NodeId joiner = quorum.add_dynamic_observer();
  ASSERT_EQ(joiner, 4);
  for (NodeId id = 1; id <= 3; ++id) quorum.start(id);
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  std::vector<uint64_t> early = quorum.propose_all(leader, "early", 120);
  ASSERT_EQ(early.size(), 120u);
  ASSERT_TRUE(quorum.wait_applied(early.back(), 10s));
  ASSERT_GT(quorum.service(leader).status().snapshot_index, 1u);

  quorum.start(joiner);
  EXPECT_NE(quorum.service(joiner).endpoint(), quorum.config(joiner).listen_endpoint);
  ASSERT_TRUE(quorum.wait_applied(early.back(), 10s));
  EXPECT_GE(quorum.machine(joiner).restores(), 1);  // joined behind the log start
  EXPECT_FALSE(quorum.service(joiner).status().voter);
  ASSERT_TRUE(
      eventually([&] { return caught_up_dynamic_observer(quorum, leader, joiner); }, 5s, kPoll));
  EXPECT_FALSE(member_of(quorum, leader, (leader % 3) + 1)->dynamic);
  std::vector<uint64_t> middle = quorum.propose_all(leader, "middle", 30);
  ASSERT_EQ(middle.size(), 30u);
  ASSERT_TRUE(quorum.wait_applied(middle.back(), 10s));
  expect_same_sequence(quorum, leader);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(quorum.service(id).status().counters.frames_rejected, 0u) << "node " << id;
  }

  // Every running member, node 4 included, ends up following the new leader.
  quorum.stop(leader);
  NodeId new_leader = quorum.wait_for_controller(20 * quorum.election_timeout());
  ASSERT_NE(new_leader, raft::kNoNode);
  ASSERT_NE(new_leader, joiner);
  ASSERT_TRUE(eventually([&] { return caught_up_dynamic_observer(quorum, new_leader, joiner); },
                         10s, kPoll));
  std::vector<uint64_t> late = quorum.propose_all(new_leader, "late", 50);
  ASSERT_EQ(late.size(), 50u);
  ASSERT_TRUE(quorum.wait_applied(late.back(), 10s));
  expect_same_sequence(quorum, new_leader);

  // Restarted from its storage with a fresh state machine (and another port).
  quorum.stop(joiner);
  std::vector<uint64_t> while_down = quorum.propose_all(new_leader, "down", 20);
  ASSERT_EQ(while_down.size(), 20u);
  quorum.start(joiner);
  ASSERT_TRUE(quorum.wait_applied(while_down.back(), 10s));
  auto applied = quorum.machine(joiner).applied();
  ASSERT_EQ(applied.size(), 220u);
  EXPECT_EQ(applied.front().data, "early-0");
  EXPECT_EQ(applied.back().data, "down-19");
  expect_same_sequence(quorum, new_leader);
  EXPECT_EQ(quorum.machine(joiner).controller_turns(), 0);
}

TEST(QuorumServiceTest, ProposingOnAFollowerFailsNamingTheLeader) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  NodeId follower = some_follower(quorum, leader);
  Result<uint64_t> result = quorum.service(follower).propose(bytes("no")).get();
  ASSERT_EQ(result.code(), ErrorCode::kNotController) << result.status().to_string();
  EXPECT_EQ(leader_in(result.status()), leader) << result.status().message();
}

TEST(QuorumServiceTest, ProposalsFailWhenTheLeaderLosesItsQuorum) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  for (NodeId id = 1; id <= 3; ++id) {
    if (id != leader) quorum.stop(id);
  }
  // Cannot commit; check-quorum makes the leader step down and the entry fails.
  auto future = quorum.service(leader).propose(bytes("orphan"));
  ASSERT_EQ(future.wait_for(10 * quorum.election_timeout()), std::future_status::ready);
  Result<uint64_t> result = future.get();
  EXPECT_EQ(result.code(), ErrorCode::kNotController) << result.status().to_string();
  EXPECT_EQ(quorum.machine(leader).applied_count(), 0u);
}

TEST(QuorumServiceTest, ProposalsAboveTheEntryLimitFail) {
  TestQuorum quorum({.voters = 1});
  quorum.start_all();
  ASSERT_EQ(quorum.wait_for_controller(5s), 1);
  Bytes huge(quorum.config(1).max_entry_bytes() + 1, 0);
  EXPECT_EQ(quorum.service(1).propose(std::move(huge)).get().code(), ErrorCode::kMessageTooLarge);
}

TEST(QuorumServiceTest, ServicesNotRunningFailProposalsAndCallsAtOnce) {
  TestQuorum quorum({.voters = 1});
  RecordingMachine machine;
  QuorumService idle(quorum.config(1), machine);
  EXPECT_FALSE(idle.status().running);
  EXPECT_EQ(idle.propose(bytes("a")).get().code(), ErrorCode::kNotController);
  EXPECT_EQ(idle.call_leader(bytes("a"), 5s).code(), ErrorCode::kNotController);

  quorum.start_all();
  ASSERT_EQ(quorum.wait_for_controller(5s), 1);
  quorum.service(1).stop();
  EXPECT_FALSE(quorum.service(1).status().running);
  EXPECT_TRUE(quorum.service(1).failure());
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(quorum.service(1).propose(bytes("a")).get().code(), ErrorCode::kNotController);
  EXPECT_EQ(quorum.service(1).call_leader(bytes("a"), 5s).code(), ErrorCode::kNotController);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
}

TEST(QuorumServiceTest, InvalidConfigsAndUnusableEndpointsFailStart) {
  TestQuorum quorum({.voters = 1});
  RecordingMachine machine;
  QuorumConfig config = quorum.config(1);
  config.id = 9;  // a dynamic observer, which must listen where the voters can reach it
  config.listen_endpoint = "tcp://0.0.0.0:0";
  QuorumService unreachable(config, machine);
  Status refused = unreachable.start();
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidConfig) << refused.to_string();

  quorum.start_all();  // holds the port
  QuorumConfig same_port = quorum.config(1);
  same_port.storage_dir += "-other";
  QuorumService clash(same_port, machine);
  Status started = clash.start();
  EXPECT_EQ(started.code(), ErrorCode::kNetworkError) << started.to_string();
}

// A controller handler that answers "<node>:<request>@<caller>", replying only after
// the request committed as a proposal (so the reply comes later, from the
// quorum thread's apply path, as the broker's controller will do).
ControllerHandler committing_handler(TestQuorum& quorum, NodeId id) {
  return [&quorum, id](NodeId from, Bytes request, ReplyFn reply) {
    std::string answer = std::to_string(id) + ":" + text(request) + "@" + std::to_string(from);
    quorum.service(id).propose(std::move(request), [reply, answer](Result<uint64_t> committed) {
      if (!committed) return reply(committed.status());
      reply(bytes(answer));
    });
  };
}

TEST(QuorumServiceTest, ControllerCallsReachTheLeadersHandlerFromAnyMember) {
  TestQuorum quorum;
  for (NodeId id = 1; id <= 3; ++id) quorum.start(id, committing_handler(quorum, id));
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  NodeId follower = some_follower(quorum, leader);

  Result<Bytes> remote = quorum.service(follower).call_leader(bytes("register"), 5s);
  ASSERT_TRUE(remote) << remote.status().to_string();
  EXPECT_EQ(text(remote.value()), std::to_string(leader) + ":register@" + std::to_string(follower));
  Result<Bytes> local = quorum.service(leader).call_leader(bytes("local"), 5s);
  ASSERT_TRUE(local) << local.status().to_string();
  EXPECT_EQ(text(local.value()), std::to_string(leader) + ":local@" + std::to_string(leader));
  EXPECT_EQ(quorum.service(follower).status().counters.calls_sent, 1u);
  EXPECT_EQ(quorum.service(leader).status().counters.calls_handled, 2u);

  // Many callers at once, from every member.
  std::vector<std::thread> callers;
  std::atomic<int> answered{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  for (NodeId id = 1; id <= 3; ++id) {
    callers.emplace_back([&, id] {
      for (int i = 0; i < 50; ++i) {
        auto sent = std::chrono::steady_clock::now();
        Result<Bytes> reply = quorum.service(id).call_leader(bytes(std::to_string(i)), 10s);
        if (reply && text(reply.value()) == std::to_string(leader) + ":" + std::to_string(i) + "@" +
                                                std::to_string(id)) {
          ++answered;
          continue;
        }
        std::lock_guard lock(errors_mutex);
        errors.push_back("node " + std::to_string(id) + " call " + std::to_string(i) + " after " +
                         std::to_string((std::chrono::steady_clock::now() - sent) / 1ms) + " ms: " +
                         (reply ? "answer " + text(reply.value()) : reply.status().to_string()));
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(answered.load(), 150) << (errors.empty() ? "" : errors.front());
}

TEST(QuorumServiceTest, ControllerCallsAreRetriedAcrossALeaderChange) {
  TestQuorum quorum;
  // The first leader's handler holds its replies (as if it were stuck), the
  // others answer at once.
  std::mutex held_mutex;
  std::vector<ReplyFn> held;
  std::atomic<NodeId> first_leader{raft::kNoNode};
  for (NodeId id = 1; id <= 3; ++id) {
    quorum.start(id, [&, id](NodeId, Bytes request, ReplyFn reply) {
      if (id == first_leader.load()) {
        std::lock_guard lock(held_mutex);
        held.push_back(std::move(reply));
        return;
      }
      reply(bytes(std::to_string(id) + ":" + text(request)));
    });
  }
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);
  first_leader = leader;
  NodeId caller = some_follower(quorum, leader);

  Result<Bytes> reply = Status(ErrorCode::kUnknown, "not called");
  std::thread call([&] { reply = quorum.service(caller).call_leader(bytes("move"), 20s); });
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(held_mutex);
        return !held.empty();
      },
      5s, kPoll));
  quorum.stop(leader);  // the call in flight there fails over to the next leader
  call.join();
  ASSERT_TRUE(reply) << reply.status().to_string();
  NodeId new_leader = quorum.wait_for_controller(10s);
  EXPECT_NE(new_leader, leader);
  EXPECT_EQ(text(reply.value()), std::to_string(new_leader) + ":move");
  {
    std::lock_guard lock(held_mutex);
    held.clear();  // replies of a stopped service go nowhere
  }

  // A call started while no leader can be elected times out, bounded: the
  // leader stops (one member is left, which cannot elect anybody) and the
  // call comes from the last member. Only once the new leader has not heard
  // from the first for a while: a stopping leader hands over to a member
  // only while it hears from a quorum, and the first one answered it while
  // it stopped.
  NodeId last = some_follower(quorum, new_leader);
  ASSERT_NE(last, raft::kNoNode);
  ASSERT_TRUE(eventually(
      [&] {
        for (const MemberProgress& member : quorum.service(new_leader).status().members) {
          if (member.id == leader) return member.heard_ms_ago < 0 || member.heard_ms_ago > 100;
        }
        return false;
      },
      5s, kPoll));
  quorum.stop(new_leader);
  auto started = std::chrono::steady_clock::now();
  Result<Bytes> lost = quorum.service(last).call_leader(bytes("lost"), 1500ms);
  EXPECT_FALSE(lost);
  EXPECT_TRUE(lost.code() == ErrorCode::kNotController || lost.code() == ErrorCode::kNetworkError ||
              lost.code() == ErrorCode::kRequestTimedOut)
      << lost.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST(QuorumServiceTest, ADroppedReplyAnswersTheCallerAtOnce) {
  TestQuorum quorum({.voters = 1});
  quorum.start(1, [](NodeId, Bytes, ReplyFn) {});
  ASSERT_EQ(quorum.wait_for_controller(5s), 1);
  auto started = std::chrono::steady_clock::now();
  Result<Bytes> reply = quorum.service(1).call_leader(bytes("x"), 10s);
  EXPECT_EQ(reply.code(), ErrorCode::kUnknown) << reply.status().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// Sends `frames` as one message from a raw DEALER.
void send_raw(zmq::socket_t& socket, const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    socket.send(zmq::buffer(frames[i]),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

std::vector<std::string> as_strings(const transport::Frames& frames) {
  std::vector<std::string> out;
  for (const auto& frame : frames) out.emplace_back(frame.as_string_view());
  return out;
}

TEST(QuorumServiceTest, MalformedFramesAreDroppedAndTheQuorumKeepsWorking) {
  TestQuorum quorum;
  quorum.start_all();
  NodeId leader = quorum.wait_for_controller(10s);
  ASSERT_NE(leader, raft::kNoNode);

  zmq::context_t context;
  std::vector<zmq::socket_t> sockets;
  for (NodeId id = 1; id <= 3; ++id) {
    sockets.emplace_back(context, zmq::socket_type::dealer);
    sockets.back().set(zmq::sockopt::linger, 0);
    sockets.back().connect(quorum.config(id).listen_endpoint);
  }
  std::string header = as_strings(encode_raft_frames({1, 2, raft::VoteRequest{}}))[0];
  raft::Message stranger{9, leader, raft::AppendEntriesRequest{.term = 1000}};
  raft::Message misdirected{1, 7, raft::VoteRequest{.term = 1000}};
  const std::vector<std::vector<std::string>> garbage = {
      {"x"},
      {"", ""},
      {std::string("\xff\xff\x00\x00", 4), "body"},
      {header, "not a raft message"},
      {header, std::string(1000, '\xee')},
      {header, "a", "b", "c", "d"},
      as_strings(encode_raft_frames(stranger)),
      as_strings(encode_raft_frames(misdirected)),
      as_strings(encode_call_request(1, {.from = 9, .request = bytes("who")})),
      // Hellos naming the leader as their sender, or announcing no endpoint
      // or a member's. (A follower's hello to the leader is no garbage: a
      // voter announces itself so when it hears no leader.)
      as_strings(
          encode_raft_frames({leader, leader, raft::ObserverHello{1000, "tcp://127.0.0.1:1"}})),
      as_strings(encode_raft_frames({9, leader, raft::ObserverHello{1000, "nowhere"}})),
      as_strings(encode_raft_frames(
          {9, leader, raft::ObserverHello{1000, quorum.config(1).listen_endpoint}})),
  };
  for (auto& socket : sockets) {
    for (const auto& message : garbage) send_raw(socket, message);
  }
  ASSERT_TRUE(eventually(
      [&] {
        for (NodeId id = 1; id <= 3; ++id) {
          if (quorum.service(id).status().counters.frames_rejected < garbage.size()) return false;
        }
        return true;
      },
      5s, kPoll));

  // The term 1000 of the strangers' messages was never adopted, none of
  // them became a member, and the quorum still commits.
  EXPECT_EQ(quorum.service(leader).status().members.size(), 3u);
  for (NodeId id = 1; id <= 3; ++id) EXPECT_LT(quorum.service(id).status().term, 1000u);
  EXPECT_EQ(quorum.wait_for_controller(5s), leader);
  std::vector<uint64_t> indexes = quorum.propose_all(leader, "ok", 10);
  ASSERT_EQ(indexes.size(), 10u);
  ASSERT_TRUE(quorum.wait_applied(indexes.back(), 5s));

  // A well-formed call from a member's id is answered on the same socket,
  // with the documented frames.
  NodeId follower = some_follower(quorum, leader);
  zmq::socket_t& to_follower = sockets[static_cast<size_t>(follower - 1)];
  send_raw(to_follower, as_strings(encode_call_request(77, {.from = leader, .request = {}})));
  std::vector<zmq::message_t> parts;
  to_follower.set(zmq::sockopt::rcvtimeo, 5000);
  ASSERT_TRUE(zmq::recv_multipart(to_follower, std::back_inserter(parts)));
  transport::Frames frames;
  for (auto& part : parts) frames.push_back(transport::Frame::copy_of(part.to_string_view()));
  Result<InboundReply> reply = decode_reply(frames);
  ASSERT_TRUE(reply) << reply.status().to_string();
  EXPECT_EQ(reply->correlation_id, 77);
  EXPECT_EQ(reply->response.error_code, ErrorCode::kNotController);
  EXPECT_EQ(reply->response.leader_id, leader);
}

TEST(QuorumServiceTest, LeaderInReadsTheLeaderFromErrors) {
  EXPECT_EQ(leader_in(Status(ErrorCode::kNotController, "x (leader: 3)")), 3);
  EXPECT_EQ(leader_in(Status(ErrorCode::kNotController, "x (leader: none)")), raft::kNoNode);
  EXPECT_EQ(leader_in(Status(ErrorCode::kNotController, "x")), raft::kNoNode);
  EXPECT_EQ(leader_in(Status(ErrorCode::kNotController, "x (leader: 3")), raft::kNoNode);
}

// Runs a voter change until the leader takes it: it refuses while the node
// catches up (REPLICA_NOT_AVAILABLE) or an earlier change commits.
Result<uint64_t> change_voters(
    const std::function<void(std::function<void(Result<uint64_t>)>)>& change) {
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (true) {
    auto promise = std::make_shared<std::promise<Result<uint64_t>>>();
    change([promise](Result<uint64_t> result) { promise->set_value(std::move(result)); });
    Result<uint64_t> result = promise->get_future().get();
    bool retry = result.code() == ErrorCode::kReplicaNotAvailable ||
                 result.code() == ErrorCode::kVoterChangeInProgress;
    if (!retry || std::chrono::steady_clock::now() > deadline) return result;
    std::this_thread::sleep_for(20ms);
  }
}

TEST(QuorumServiceTest, AOneVoterQuorumGrowsToThreeVotersAndItsFirstVoterLeaves) {
  TestQuorum quorum({.voters = 1});
  quorum.start(1);
  ASSERT_EQ(quorum.wait_for_controller(10s), 1);
  ASSERT_EQ(quorum.propose_all(1, "alone", 5).size(), 5u);
  NodeId a = quorum.add_dynamic_observer(/*fixed_port=*/true);
  NodeId b = quorum.add_dynamic_observer(/*fixed_port=*/true);
  quorum.start(a);
  quorum.start(b);

  // A node nobody runs, a bad endpoint and an endpoint other than the one
  // the node announced are refused.
  auto add = [&](NodeId id, std::string endpoint) {
    return change_voters([&, id, endpoint](auto done) {
      quorum.service(1).add_voter(id, endpoint, std::move(done));
    });
  };
  EXPECT_EQ(quorum.service(1).status().voters.size(), 1u);
  auto refused_promise = std::make_shared<std::promise<Result<uint64_t>>>();
  quorum.service(1).add_voter(42, "tcp://127.0.0.1:1", [refused_promise](Result<uint64_t> r) {
    refused_promise->set_value(std::move(r));
  });
  Result<uint64_t> refused = refused_promise->get_future().get();
  EXPECT_EQ(refused.code(), ErrorCode::kReplicaNotAvailable) << refused.status().to_string();
  EXPECT_EQ(add(a, "nowhere").code(), ErrorCode::kInvalidRequest);
  Result<uint64_t> wrong = add(a, "tcp://127.0.0.1:1");
  EXPECT_EQ(wrong.code(), ErrorCode::kInvalidRequest) << wrong.status().to_string();

  Result<uint64_t> added_a = add(a, quorum.service(a).endpoint());
  ASSERT_TRUE(added_a) << added_a.status().to_string();
  EXPECT_EQ(add(a, quorum.service(a).endpoint()).code(), ErrorCode::kDuplicateVoter);
  Result<uint64_t> added_b = add(b, quorum.service(b).endpoint());
  ASSERT_TRUE(added_b) << added_b.status().to_string();
  QuorumStatus status = quorum.service(1).status();
  ASSERT_EQ(status.voters.size(), 3u);
  for (const raft::Voter& voter : status.voters) {
    EXPECT_FALSE(voter.directory_id.empty()) << voter.id;
    if (voter.id != 1) {
      EXPECT_EQ(voter.address, quorum.service(voter.id).endpoint());
    }
  }
  EXPECT_TRUE(quorum.service(a).status().voter);
  EXPECT_EQ(quorum.service(a).status().directory_id, status.voters[1].id == a
                                                         ? status.voters[1].directory_id
                                                         : status.voters[2].directory_id);

  // The first voter removes itself: it hands over and the other two lead.
  // An election on a loaded machine may interrupt the call (NOT_CONTROLLER);
  // as a client does, it is asked again of whoever leads then, and a removal
  // that committed anyway is answered VOTER_NOT_FOUND.
  Result<uint64_t> removed = Status(ErrorCode::kNotController, "not asked yet");
  bool asked_again = false;
  for (int attempt = 0; attempt < 20 && removed.code() == ErrorCode::kNotController; ++attempt) {
    NodeId at = quorum.wait_for_controller(5s);
    if (at == raft::kNoNode) continue;
    asked_again = attempt > 0;
    removed =
        change_voters([&](auto done) { quorum.service(at).remove_voter(1, std::move(done)); });
  }
  ASSERT_TRUE(removed.is_ok() || (asked_again && removed.code() == ErrorCode::kVoterNotFound))
      << removed.status().to_string();
  NodeId leader = raft::kNoNode;
  ASSERT_TRUE(eventually(
      [&] {
        leader = quorum.wait_for_controller(1s);
        return leader == a || leader == b;
      },
      10s, kPoll));
  EXPECT_FALSE(quorum.service(1).status().voter);
  quorum.stop(1);
  std::vector<uint64_t> later = quorum.propose_all(leader, "grown", 5);
  ASSERT_EQ(later.size(), 5u);
  ASSERT_TRUE(quorum.wait_applied(later.back(), 10s));

  // Restarted, a voter added at run time finds the others from its log (no
  // configuration file names them), and the two still commit.
  NodeId other = leader == a ? b : a;
  quorum.stop(other);
  quorum.start(other);
  ASSERT_TRUE(
      eventually([&] { return quorum.service(other).status().leader == leader; }, 10s, kPoll));
  std::vector<uint64_t> again = quorum.propose_all(leader, "restarted", 3);
  ASSERT_EQ(again.size(), 3u);
  ASSERT_TRUE(quorum.wait_applied(again.back(), 10s));
  EXPECT_EQ(quorum.machine(other).applied_count(), quorum.machine(leader).applied_count());
}

}  // namespace
}  // namespace mq::quorum
