// A cluster of RaftNodes over in-memory storage for the rule-by-rule tests:
// messages are queued and delivered on request, so a test decides exactly
// what reaches whom. Every Ready is handled the way the broker will: persist,
// send, apply, advance.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raft_node.h"

namespace mq::raft::harness {

// Messages in `messages` that `predicate` selects.
inline int count(const std::deque<Message>& messages, auto predicate) {
  int n = 0;
  for (const Message& m : messages) n += predicate(m) ? 1 : 0;
  return n;
}

struct TestMember {
  MemoryStorage storage;
  std::optional<RaftNode> node;
  std::vector<Entry> applied;  // every entry applied, restores included as a marker
  Bytes restored_from;         // data of the last snapshot restored
};

class TestCluster {
 public:
  TestCluster(std::vector<NodeId> voters, std::vector<NodeId> observers = {},
              std::function<void(RaftConfig&)> adjust = {})
      : voters_(std::move(voters)), observers_(std::move(observers)), adjust_(std::move(adjust)) {
    for (NodeId id : voters_) start(id);
    for (NodeId id : observers_) start(id);
  }

  RaftConfig config_for(NodeId id) const {
    RaftConfig config;
    config.id = id;
    config.voters = voters_;
    config.observers = observers_;
    config.random_seed = 42;
    config.address = "node-" + std::to_string(id);
    // As in a deployment, the static voters are listed where they are.
    for (NodeId voter : voters_) config.voter_addresses[voter] = "node-" + std::to_string(voter);
    if (adjust_) adjust_(config);
    return config;
  }

  // (Re)builds node `id` from whatever its storage holds.
  void start(NodeId id) {
    TestMember& member = members_[id];
    Result<PersistentState> state = member.storage.load();
    ASSERT_TRUE(state.is_ok());
    member.applied.clear();
    if (state->snapshot) member.restored_from = state->snapshot->data;
    Result<RaftNode> node = RaftNode::create(config_for(id), std::move(state).value());
    ASSERT_TRUE(node.is_ok()) << node.status().to_string();
    member.node.emplace(std::move(node).value());
  }
  // Starts node `id`, listed in no config, as a dynamic observer: it
  // announces itself on its first tick.
  void join(NodeId id) { start(id); }
  void crash(NodeId id) { members_[id].node.reset(); }
  // Node `id` lost its disk: it restarts with empty storage (no term, no vote,
  // no log), as a member whose data directory was replaced.
  void wipe(NodeId id) {
    crash(id);
    members_[id].storage = MemoryStorage{};
    members_[id].restored_from.clear();
    start(id);
  }

  RaftNode& node(NodeId id) { return *members_.at(id).node; }
  TestMember& member(NodeId id) { return members_.at(id); }
  const std::deque<Message>& in_flight() const { return in_flight_; }

  // Handles every pending Ready of every running node.
  void process() {
    for (auto& [id, member] : members_) {
      if (!member.node) continue;
      while (member.node->has_ready()) {
        Ready ready = member.node->ready();
        ASSERT_TRUE(persist_ready(member.storage, ready).is_ok());
        for (Message& message : ready.messages) in_flight_.push_back(std::move(message));
        if (ready.restore_from_snapshot) member.restored_from = ready.snapshot->data;
        for (const Entry& entry : ready.committed_entries) member.applied.push_back(entry);
        member.node->advance(ready);
      }
    }
  }

  // Delivers queued messages (and the ones they cause) until none are left.
  // `drop` decides which are lost; isolated nodes neither send nor receive.
  void deliver_all() {
    process();
    while (!in_flight_.empty()) {
      Message message = std::move(in_flight_.front());
      in_flight_.pop_front();
      if (isolated_.contains(message.from) || isolated_.contains(message.to)) continue;
      if (drop && drop(message)) continue;
      TestMember& target = members_.at(message.to);
      if (!target.node) continue;
      ASSERT_TRUE(target.node->step(message).is_ok()) << describe(message);
      process();
    }
  }

  // Removes the queued messages `pick` selects and returns them in order, so
  // a test can deliver them in another order (deliver()) or not at all.
  std::vector<Message> take(const std::function<bool(const Message&)>& pick) {
    std::vector<Message> taken;
    std::deque<Message> kept;
    for (Message& message : in_flight_) {
      if (pick(message)) {
        taken.push_back(std::move(message));
      } else {
        kept.push_back(std::move(message));
      }
    }
    in_flight_ = std::move(kept);
    return taken;
  }
  // Delivers one message now and handles the Readies it causes; what they
  // send is queued, not delivered.
  void deliver(const Message& message) {
    ASSERT_TRUE(node(message.to).step(message).is_ok()) << describe(message);
    process();
  }

  void tick(NodeId id, int times = 1) {
    for (int i = 0; i < times; ++i) {
      node(id).tick();
      process();
    }
  }
  void tick_all(int times = 1) {
    for (int i = 0; i < times; ++i) {
      for (auto& [id, member] : members_) {
        if (member.node) member.node->tick();
      }
      deliver_all();
    }
  }

  // Ticks only `id` until it starts a campaign, then lets the messages flow.
  void campaign(NodeId id) {
    Role before = node(id).role();
    for (int i = 0; i < 4 * node(id).config().election_ticks; ++i) {
      node(id).tick();
      if (node(id).role() != before && node(id).role() != Role::kFollower) break;
    }
    deliver_all();
  }
  void elect(NodeId id) {
    campaign(id);
    ASSERT_EQ(node(id).role(), Role::kLeader) << "node " << id << " did not win";
  }

  Proposal propose(NodeId leader, uint8_t value) {
    Result<Proposal> proposal = node(leader).propose({value});
    EXPECT_TRUE(proposal.is_ok()) << proposal.status().to_string();
    return proposal.is_ok() ? *proposal : Proposal{};
  }

  std::vector<uint8_t> applied_values(NodeId id) {
    std::vector<uint8_t> values;
    for (const Entry& entry : member(id).applied) {
      if (entry.type == EntryType::kCommand) values.push_back(entry.data.at(0));
    }
    return values;
  }

  void isolate(NodeId id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }

  std::function<bool(const Message&)> drop;

 private:
  std::vector<NodeId> voters_;
  std::vector<NodeId> observers_;
  std::function<void(RaftConfig&)> adjust_;
  std::map<NodeId, TestMember> members_;
  std::deque<Message> in_flight_;
  std::set<NodeId> isolated_;
};

// What `leader` reports about member `id`.
inline MemberStatus member_status(TestCluster& cluster, NodeId leader, NodeId id) {
  for (const MemberStatus& member : cluster.node(leader).members()) {
    if (member.id == id) return member;
  }
  ADD_FAILURE() << "node " << leader << " reports no member " << id;
  return {};
}

// The logs of `a` and `b` hold the same entries above both snapshots.
inline void expect_same_log(TestCluster& cluster, NodeId a, NodeId b) {
  const RaftLog& log_a = cluster.node(a).log();
  const RaftLog& log_b = cluster.node(b).log();
  ASSERT_EQ(log_a.last_index(), log_b.last_index());
  uint64_t from = std::max(log_a.snapshot_index(), log_b.snapshot_index()) + 1;
  for (uint64_t i = from; i <= log_a.last_index(); ++i) {
    EXPECT_EQ(log_a.at(i), log_b.at(i)) << "entry " << i;
  }
}

}  // namespace mq::raft::harness
