// Deterministic simulation of whole Raft clusters: 3 or 5 voters and an
// observer over a network that drops, delays, duplicates and reorders
// messages, partitions and heals, while nodes crash (losing whatever they
// had not persisted) and restart from their storage, and values are proposed
// throughout. After every step it checks election safety, log matching,
// leader completeness and state machine safety; after healing, liveness.
// A second scenario keeps one leader while members (voters and the observer)
// lose their storage and restart empty, one at a time: they must catch up
// and apply the same sequence. A third changes the voter set throughout the
// chaos (nodes added and removed one at a time, the leader too) while nodes
// with directory ids lose their storage and must not vote until the leader
// has taken them back.
//
// MQ_RAFT_SIM_SEEDS=n runs n seeds per cluster size (default 300);
// MQ_RAFT_SIM_SEED=s runs only seed s (a failure prints its seed).
#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "raft/memory_storage.h"
#include "raft/raft_node.h"

namespace mq::raft {
namespace {

constexpr int kStepsPerTick = 10;
constexpr int kElectionTicks = 10;
constexpr int kChaosTicks = 300;
constexpr int kLivenessTicks = 150;  // bound for a leader and a commit after healing
constexpr size_t kSnapshotPadding = 150;
constexpr int kFirstWipeTick = 40;  // kWipes: after the first election

enum class Scenario {
  kChaos,  // partitions, crashes, a lossy network; leaders come and go
  kWipes,  // one leader throughout; followers lose their storage and restart empty
  // kChaos, with three more nodes listed nowhere, voters added and removed
  // at random and, with directory ids, a node's storage lost now and then
  kMembership,
};

volatile uint64_t current_seed = 0;
volatile int current_voters = 0;

void print_seed_on_abort(int) {
  char line[128];
  int n = std::snprintf(line, sizeof(line),
                        "\nraft simulation aborted: rerun with MQ_RAFT_SIM_SEED=%llu (%d voters)\n",
                        static_cast<unsigned long long>(current_seed), current_voters);
  if (n > 0) (void)!::write(2, line, static_cast<size_t>(n));
}

uint64_t mix(uint64_t digest, const Entry& entry) {
  uint64_t h = digest ^ (entry.index * 0x9E3779B97F4A7C15ULL) ^ (entry.term << 17);
  for (uint8_t byte : entry.data) h = (h ^ byte) * 0x100000001B3ULL;
  return h * 0xBF58476D1CE4E5B9ULL + static_cast<uint64_t>(entry.type);
}

Bytes encode_u64(uint64_t value) {
  Bytes out(8);
  std::memcpy(out.data(), &value, 8);
  return out;
}
uint64_t decode_u64(const Bytes& bytes, size_t at) {
  uint64_t value = 0;
  std::memcpy(&value, bytes.data() + at, 8);
  return value;
}

class Simulation {
 public:
  Simulation(int voters, uint64_t seed, Scenario scenario = Scenario::kChaos)
      : random_(seed),
        scenario_(scenario),
        // The wipe and membership scenarios run mq's configuration: a wiped
        // voter, or one removed while it was away, must not disrupt the
        // leader (without pre-vote they do: Raft thesis §4.2.3).
        pre_vote_(scenario != Scenario::kChaos || seed % 4 != 1),
        check_quorum_(scenario != Scenario::kChaos || seed % 4 != 2) {
    for (int i = 1; i <= voters; ++i) voters_.push_back(i);
    if (scenario == Scenario::kMembership) {
      // Listed nowhere: they announce themselves and may be made voters.
      for (int i = voters + 1; i <= voters + 3; ++i) nodes_[i];
    } else {
      observers_.push_back(voters + 1);
    }
    for (NodeId id : voters_) nodes_[id];
    for (NodeId id : observers_) nodes_[id];
    for (auto& [id, node] : nodes_) node.phase = static_cast<int>(draw(kStepsPerTick));
    for (auto& [id, node] : nodes_) start(id);
    record_.push_back({});  // index 0
    digests_.push_back(0);
  }

  // Empty if every check held; otherwise what broke.
  std::string run() {
    for (int tick = 0; tick < kChaosTicks && failure_.empty(); ++tick) {
      chaos();
      for (int step = 0; step < kStepsPerTick && failure_.empty(); ++step) this->step();
      if (std::getenv("MQ_RAFT_SIM_TRACE") != nullptr) trace();
    }
    if (!failure_.empty()) return failure_;
    heal_everything();
    check_liveness();
    return failure_;
  }

  uint64_t committed() const { return record_.size() - 1; }
  int elections() const { return static_cast<int>(leaders_by_term_.size()); }
  int crashes() const { return crashes_; }
  int wipes() const { return wipes_; }
  int voter_changes() const { return voter_changes_; }

 private:
  struct SimNode {
    MemoryStorage storage;
    std::optional<RaftNode> raft;
    int phase = 0;
    int down_until_tick = 0;
    int group = 0;  // partition side
    uint64_t applied = 0;
    uint64_t digest = 0;
    uint64_t commit_seen = 0;  // commit index when last checked
    int generation = 0;        // kMembership: storage lost this many times (its directory id)
  };
  struct Recorded {
    uint64_t term = 0;
    EntryType type = EntryType::kCommand;
    Bytes data;
  };

  uint64_t draw(uint64_t bound) { return random_() % bound; }
  bool chance(double p) { return static_cast<double>(random_() >> 11) * 0x1.0p-53 < p; }
  int tick_now() const { return static_cast<int>(now_ / kStepsPerTick); }

  void fail(const std::string& what) {
    if (failure_.empty()) {
      failure_ = "tick " + std::to_string(tick_now()) + ": " + what;
    }
  }

  RaftConfig config_for(NodeId id) {
    RaftConfig config;
    config.id = id;
    config.voters = voters_;
    config.observers = observers_;
    config.election_ticks = kElectionTicks;
    config.heartbeat_ticks = 1;
    config.max_entries_per_append = 8;
    config.max_bytes_per_append = 256;
    config.max_inflight_appends = 4;
    config.snapshot_chunk_bytes = 48;
    config.pre_vote = pre_vote_;
    config.check_quorum = check_quorum_;
    config.random_seed = random_();
    if (scenario_ == Scenario::kMembership) config.directory_id = directory_of(id);
    return config;
  }

  std::string directory_of(NodeId id) {
    return "dir-" + std::to_string(id) + "-" + std::to_string(nodes_[id].generation);
  }

  void start(NodeId id) {
    SimNode& node = nodes_[id];
    Result<PersistentState> state = node.storage.load();
    if (!state.is_ok()) return fail("load: " + state.status().to_string());
    node.applied = 0;
    node.digest = 0;
    if (state->snapshot) restore(id, node, *state->snapshot);
    Result<RaftNode> raft = RaftNode::create(config_for(id), std::move(state).value());
    if (!raft.is_ok()) return fail("restart: " + raft.status().to_string());
    node.raft.emplace(std::move(raft).value());
    node.commit_seen = node.raft->commit_index();
  }

  // A crash loses what was not persisted; half the time it strikes after a
  // Ready was persisted but before its messages went out.
  void crash(NodeId id) {
    SimNode& node = nodes_[id];
    if (chance(0.5) && node.raft->has_ready()) {
      Ready ready = node.raft->ready();
      Status persisted = persist_ready(node.storage, ready);
      if (!persisted.is_ok()) fail("persist: " + persisted.to_string());
    }
    node.raft.reset();
    node.down_until_tick = tick_now() + 5 + static_cast<int>(draw(40));
    crashes_++;
  }

  void restore(NodeId id, SimNode& node, const Snapshot& snapshot) {
    uint64_t index = decode_u64(snapshot.data, 0);
    uint64_t digest = decode_u64(snapshot.data, 8);
    if (index != snapshot.index) return fail("snapshot data names another index");
    if (index >= digests_.size() || digests_[index] != digest) {
      return fail("node " + std::to_string(id) + " restored a snapshot at " +
                  std::to_string(index) + " that disagrees with the committed entries");
    }
    node.applied = index;
    node.digest = digest;
  }

  void apply(NodeId id, SimNode& node, const Entry& entry) {
    if (entry.index != node.applied + 1) {
      return fail("node " + std::to_string(id) + " applied " + std::to_string(entry.index) +
                  " after " + std::to_string(node.applied));
    }
    node.digest = mix(node.digest, entry);
    node.applied = entry.index;
    if (entry.index < record_.size()) {
      const Recorded& first = record_[entry.index];
      if (first.term != entry.term || first.data != entry.data || first.type != entry.type) {
        return fail("state machine safety: node " + std::to_string(id) + " applied entry " +
                    std::to_string(entry.index) + " of term " + std::to_string(entry.term) +
                    ", another node applied one of term " + std::to_string(first.term));
      }
      if (digests_[entry.index] != node.digest)
        fail("applied sequences differ before " + std::to_string(entry.index));
      return;
    }
    if (entry.index != record_.size()) return fail("an entry was applied before its predecessors");
    record_.push_back(Recorded{entry.term, entry.type, entry.data});
    digests_.push_back(node.digest);
  }

  void handle_ready(NodeId id, SimNode& node) {
    Ready ready = node.raft->ready();
    Status persisted = persist_ready(node.storage, ready);
    if (!persisted.is_ok()) return fail("persist: " + persisted.to_string());
    for (Message& message : ready.messages) send(std::move(message));
    if (ready.restore_from_snapshot) restore(id, node, *ready.snapshot);
    for (const Entry& entry : ready.committed_entries) apply(id, node, entry);
    node.raft->advance(ready);
    // The application snapshots its state every so often.
    if (node.applied >= node.raft->log().snapshot_index() + 40 && chance(0.3)) {
      Bytes data = encode_u64(node.applied);
      Bytes digest = encode_u64(node.digest);
      data.insert(data.end(), digest.begin(), digest.end());
      data.resize(16 + kSnapshotPadding, static_cast<uint8_t>(node.applied));
      Status compacted = node.raft->compact(node.applied, std::move(data));
      if (!compacted.is_ok()) fail("compact: " + compacted.to_string());
    }
  }

  void send(Message message) {
    if (chance(drop_rate_)) return;
    int copies = chance(duplicate_rate_) ? 2 : 1;
    for (int i = 0; i < copies; ++i) {
      uint64_t delay = 1 + draw(max_delay_steps_);
      network_.emplace(std::make_pair(now_ + delay, sequence_++), message);
    }
  }

  void deliver_due() {
    while (!network_.empty() && network_.begin()->first.first <= now_) {
      Message message = std::move(network_.begin()->second);
      network_.erase(network_.begin());
      SimNode& to = nodes_[message.to];
      if (!to.raft || nodes_[message.from].group != to.group) continue;
      Status stepped = to.raft->step(message);
      // With a changing voter set, a node still sends to those it believes
      // members (a removed voter campaigns, a new leader's appends reach a
      // node that has not learned of it): refused as the quorum endpoint
      // refuses them, and harmless.
      if (!stepped.is_ok() && scenario_ == Scenario::kMembership &&
          stepped.code() == ErrorCode::kInvalidRequest) {
        continue;
      }
      if (!stepped.is_ok()) fail("step: " + stepped.to_string());
    }
  }

  void step() {
    deliver_due();
    for (auto& [id, node] : nodes_) {
      if (!node.raft) continue;
      if (static_cast<int>(now_ % kStepsPerTick) == node.phase) node.raft->tick();
      // Nodes fall behind on their Ready at random, so crashes find work undone.
      if (node.raft->has_ready() && chance(0.6)) handle_ready(id, node);
    }
    if (chance(propose_rate_)) propose();
    check();
    now_ += 1;
  }

  void propose() {
    for (auto& [id, node] : nodes_) {
      if (!node.raft || node.raft->role() != Role::kLeader) continue;
      Result<Proposal> proposal = node.raft->propose(encode_u64(next_value_++));
      if (!proposal.is_ok()) fail("leader refused a proposal: " + proposal.status().to_string());
      return;
    }
  }

  // The storage of a follower (voter or observer) is lost: it restarts empty
  // a little later. One at a time, so a majority of voters keeps its log.
  void wipe_a_follower() {
    std::vector<NodeId> followers;
    for (auto& [id, node] : nodes_) {
      if (!node.raft) return;
      if (node.raft->role() != Role::kLeader) followers.push_back(id);
    }
    if (followers.empty()) return;
    SimNode& node = nodes_[followers[draw(followers.size())]];
    node.raft.reset();
    node.storage = MemoryStorage{};
    node.down_until_tick = tick_now() + 1 + static_cast<int>(draw(20));
    wipes_++;
  }

  // The leader of the highest term, if any node leads.
  RaftNode* current_leader() {
    RaftNode* leader = nullptr;
    for (auto& [id, node] : nodes_) {
      if (node.raft && node.raft->role() == Role::kLeader &&
          (leader == nullptr || node.raft->term() > leader->term())) {
        leader = &*node.raft;
      }
    }
    return leader;
  }

  // Adds a node that is no voter, or removes a voter (the leader too), one
  // at a time; the leader refuses what it cannot do yet.
  void change_voters() {
    RaftNode* leader = current_leader();
    if (leader == nullptr) return;
    const Membership& membership = leader->membership();
    std::vector<NodeId> voters;
    std::vector<NodeId> others;
    for (auto& [id, node] : nodes_) {
      (membership.contains(id) ? voters : others).push_back(id);
    }
    const bool add = !others.empty() && (voters.size() < 3 || (voters.size() < 5 && chance(0.5)));
    // Not a removal while a voter that lost its storage is not taken back
    // yet: the set would lose two voters' worth of tolerance at once (the
    // leader may not have heard of the loss yet), which a quorum cannot
    // survive.
    if (!add && (voters.size() <= 1 || directory_lost_unrecorded(*leader))) return;
    NodeId id = add ? others[draw(others.size())] : voters[draw(voters.size())];
    Result<Proposal> change =
        add ? leader->add_voter(id, "node-" + std::to_string(id)) : leader->remove_voter(id);
    if (change.is_ok()) {
      voter_changes_++;
      if (std::getenv("MQ_RAFT_SIM_TRACE") != nullptr) {
        std::fprintf(stderr, "tick %d: voter change at %llu: %s\n", tick_now(),
                     static_cast<unsigned long long>(change->index),
                     leader->membership().describe().c_str());
      }
    } else if (change.code() != ErrorCode::kVoterChangeInProgress &&
               change.code() != ErrorCode::kReplicaNotAvailable &&
               change.code() != ErrorCode::kNotEnoughReplicas) {
      fail("voter change refused: " + change.status().to_string());
    }
  }

  bool directory_lost_unrecorded(const RaftNode& leader) {
    for (const Voter& voter : leader.membership().voters) {
      if (voter.directory_id != directory_of(voter.id)) return true;
    }
    return false;
  }

  // A node loses its storage and comes back with a new directory id. Only
  // while the leader has recorded every voter's current directory and its
  // set has committed: one such loss at a time, so a majority of the voters
  // keeps the log (more would be a quorum lost for good, not a bug).
  void maybe_lose_a_directory() {
    RaftNode* leader = current_leader();
    if (leader == nullptr || leader->membership_index() > leader->commit_index()) return;
    for (const Voter& voter : leader->membership().voters) {
      if (voter.directory_id != directory_of(voter.id) || !nodes_[voter.id].raft) return;
    }
    // Every running node's log records each voter's directory: a candidate
    // whose log predates a voter's recorded directory would still get the
    // vote of that voter's empty replacement (docs/raft.md, "A voter that
    // lost its directory", says what is not covered yet).
    for (auto& [id, node] : nodes_) {
      if (!node.raft) return;
      for (const Voter& voter : node.raft->membership().voters) {
        if (voter.directory_id.empty()) return;
      }
    }
    // Nor while a node of the static set has an empty log: two of those
    // with empty logs can bootstrap a new quorum from it, as a majority of
    // Kafka's static controller.quorum.voters can (docs/raft.md,
    // "Membership" says what an operator must avoid).
    for (NodeId id : voters_) {
      Result<PersistentState> state = nodes_[id].storage.load();
      if (state->entries.empty() && !state->snapshot) return;
    }
    // A voter only from a set of three or more: a set of two that loses
    // one has lost its quorum.
    const Membership& membership = leader->membership();
    std::vector<NodeId> candidates;
    for (auto& [id, node] : nodes_) {
      if (!node.raft || &*node.raft == leader) continue;
      if (membership.contains(id) && membership.voters.size() < 3) continue;
      candidates.push_back(id);
    }
    if (candidates.empty()) return;
    SimNode& node = nodes_[candidates[draw(candidates.size())]];
    node.raft.reset();
    node.storage = MemoryStorage{};
    node.generation += 1;
    if (std::getenv("MQ_RAFT_SIM_TRACE") != nullptr) {
      std::fprintf(stderr, "tick %d: a node loses its storage\n", tick_now());
    }
    node.down_until_tick = tick_now() + 1 + static_cast<int>(draw(20));
    wipes_++;
  }

  void chaos() {
    int tick = tick_now();
    for (auto& [id, node] : nodes_) {
      if (!node.raft && tick >= node.down_until_tick) start(id);
    }
    if (scenario_ == Scenario::kMembership) {
      if (chance(0.05)) change_voters();
      if (chance(0.01)) maybe_lose_a_directory();
    }
    if (scenario_ == Scenario::kWipes) {
      if (tick >= kFirstWipeTick && chance(0.03)) wipe_a_follower();
      if (chance(0.05)) {
        // Losses low enough that the leader keeps its quorum; reordering galore.
        drop_rate_ = chance(0.5) ? 0.0 : 0.02 * static_cast<double>(draw(5));
        duplicate_rate_ = 0.05 * static_cast<double>(draw(3));
        max_delay_steps_ = 1 + draw(2 * kStepsPerTick);
      }
      return;
    }
    if (chance(0.03)) {
      std::vector<NodeId> up;
      for (auto& [id, node] : nodes_) {
        if (node.raft) up.push_back(id);
      }
      if (!up.empty()) crash(up[draw(up.size())]);
    }
    if (chance(0.05)) {
      // A random split (sometimes one node alone) or a heal.
      if (chance(0.4)) {
        for (auto& [id, node] : nodes_) node.group = 0;
      } else {
        for (auto& [id, node] : nodes_) node.group = static_cast<int>(draw(2));
      }
    }
    if (chance(0.05)) {
      drop_rate_ = chance(0.5) ? 0.0 : 0.02 * static_cast<double>(draw(10));
      duplicate_rate_ = 0.05 * static_cast<double>(draw(3));
      max_delay_steps_ = 1 + draw(3 * kStepsPerTick);
    }
  }

  void heal_everything() {
    for (auto& [id, node] : nodes_) {
      node.group = 0;
      if (!node.raft) start(id);
    }
    drop_rate_ = 0;
    duplicate_rate_ = 0;
    max_delay_steps_ = kStepsPerTick;
  }

  // Every node, voters and observer, must apply a new value committed after
  // healing. Like a client, the driver proposes again to each new leader.
  void check_liveness() {
    propose_rate_ = 0;
    int deadline = tick_now() + kLivenessTicks;
    std::vector<std::pair<uint64_t, uint64_t>> markers;  // (index, value) proposed
    uint64_t proposed_in_term = 0;
    while (tick_now() < deadline && failure_.empty()) {
      for (int step = 0; step < kStepsPerTick && failure_.empty(); ++step) this->step();
      if (std::getenv("MQ_RAFT_SIM_TRACE") != nullptr) trace();
      for (auto& [id, node] : nodes_) {
        if (node.raft->role() != Role::kLeader || node.raft->term() == proposed_in_term) continue;
        Result<Proposal> proposal = node.raft->propose(encode_u64(next_value_));
        if (!proposal.is_ok()) return fail("leader refused a proposal");
        markers.emplace_back(proposal->index, next_value_++);
        proposed_in_term = proposal->term;
      }
      for (auto [index, value] : markers) {
        bool everyone = true;
        for (auto& [id, node] : nodes_) everyone = everyone && node.applied >= index;
        if (everyone && record_[index].data == encode_u64(value)) return;
      }
    }
    if (failure_.empty()) {
      fail("liveness: no new value applied on every node within " + std::to_string(kLivenessTicks) +
           " ticks of healing (" + std::to_string(markers.size()) + " proposed)");
    }
  }

  // One line per node and tick, for reading what a failing seed did.
  void trace() {
    for (auto& [id, node] : nodes_) {
      const RaftNode& raft = *node.raft;
      std::fprintf(stderr,
                   "tick %d node %d %s term %llu leader %d commit %llu applied %llu last %llu/%llu "
                   "snap %llu",
                   tick_now(), id, std::string(role_name(raft.role())).c_str(),
                   (unsigned long long)raft.term(), raft.leader(),
                   (unsigned long long)raft.commit_index(), (unsigned long long)node.applied,
                   (unsigned long long)raft.log().last_index(),
                   (unsigned long long)raft.log().last_term(),
                   (unsigned long long)raft.log().snapshot_index());
      for (const MemberStatus& m : raft.members()) {
        std::fprintf(stderr, " [%d m%llu s%d a%d%s%s]", m.id, (unsigned long long)m.match_index,
                     static_cast<int>(m.state), m.recent_active, m.voter ? " voter" : "",
                     m.directory_mismatch ? " mismatch" : "");
      }
      std::fprintf(stderr, " voters: %s (%s)", raft.membership().describe().c_str(),
                   raft.is_voter() ? "one of them" : "not one");
      std::fprintf(stderr, "\n");
    }
  }

  void check() {
    for (auto& [id, node] : nodes_) {
      if (!node.raft) continue;
      const RaftNode& raft = *node.raft;
      if (raft.role() == Role::kLeader) {
        auto [it, fresh] = leaders_by_term_.emplace(raft.term(), id);
        if (it->second != id) {
          return fail("election safety: nodes " + std::to_string(it->second) + " and " +
                      std::to_string(id) + " both lead term " + std::to_string(raft.term()));
        }
        check_leader_completeness(id, raft);
      }
      check_log_matching(id, raft);
      note_commit(node);
    }
  }

  // Leader completeness: an entry committed in term U is in the log of every
  // leader of a term after U. The term an entry was committed in is bounded
  // by the term of the first node seen with a commit index covering it.
  void note_commit(SimNode& node) {
    const RaftNode& raft = *node.raft;
    if (raft.commit_index() <= node.commit_seen) return;
    node.commit_seen = raft.commit_index();
    while (commit_terms_.size() <= raft.commit_index()) commit_terms_.push_back(raft.term());
  }

  void check_leader_completeness(NodeId id, const RaftNode& raft) {
    uint64_t& checked = leader_checked_[{id, raft.term()}];
    uint64_t from = std::max(checked, raft.log().snapshot_index()) + 1;
    for (uint64_t index = from;
         index <= committed() && index < commit_terms_.size() && commit_terms_[index] < raft.term();
         ++index) {
      const Recorded& recorded = record_[index];
      std::optional<uint64_t> term = raft.log().term_at(index);
      if (!term || *term != recorded.term || raft.log().at(index).data != recorded.data) {
        return fail("leader completeness: leader " + std::to_string(id) + " of term " +
                    std::to_string(raft.term()) + " lacks entry " + std::to_string(index) +
                    " committed in term " + std::to_string(commit_terms_[index]));
      }
      checked = index;
    }
  }

  // Entries with the same index and term hold the same data and follow the
  // same predecessor (which by induction makes the logs identical up to there).
  void check_log_matching(NodeId id, const RaftNode& raft) {
    const RaftLog& log = raft.log();
    uint64_t from = std::max(raft.commit_index(), log.snapshot_index()) + 1;
    for (uint64_t index = from; index <= log.last_index(); ++index) {
      const Entry& entry = log.at(index);
      uint64_t previous_term = *log.term_at(index - 1);
      auto [it, fresh] =
          seen_entries_.try_emplace({index, entry.term}, mix(0, entry), previous_term);
      if (!fresh && (it->second.first != mix(0, entry) || it->second.second != previous_term)) {
        return fail("log matching: node " + std::to_string(id) + " holds entry " +
                    std::to_string(index) + " of term " + std::to_string(entry.term) +
                    " unlike another node's");
      }
    }
  }

  std::mt19937_64 random_;
  Scenario scenario_;
  // Most seeds run the configuration mq uses; some turn pre-vote or
  // check-quorum off, so the rules beneath them are exercised bare.
  bool pre_vote_;
  bool check_quorum_;
  std::vector<NodeId> voters_;
  std::vector<NodeId> observers_;
  std::map<NodeId, SimNode> nodes_;
  std::map<std::pair<uint64_t, uint64_t>, Message> network_;  // (due step, sequence)
  uint64_t now_ = 0;
  uint64_t sequence_ = 0;
  double drop_rate_ = 0.05;
  double duplicate_rate_ = 0.05;
  uint64_t max_delay_steps_ = 2 * kStepsPerTick;
  double propose_rate_ = 0.05;
  uint64_t next_value_ = 1;
  int crashes_ = 0;
  int wipes_ = 0;
  int voter_changes_ = 0;

  std::vector<Recorded> record_;   // the committed sequence, as first applied
  std::vector<uint64_t> digests_;  // state machine digest after each committed entry
  std::map<uint64_t, NodeId> leaders_by_term_;
  std::vector<uint64_t> commit_terms_{0};  // per index: a term it was committed in or before
  std::map<std::pair<NodeId, uint64_t>, uint64_t> leader_checked_;
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> seen_entries_;
  std::string failure_;
};

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

void run_seeds(int voters, Scenario scenario = Scenario::kChaos) {
  std::signal(SIGABRT, print_seed_on_abort);
  std::vector<uint64_t> seeds;
  if (std::getenv("MQ_RAFT_SIM_SEED") != nullptr) {
    seeds.push_back(env_or("MQ_RAFT_SIM_SEED", 0));
  } else {
    uint64_t count = env_or("MQ_RAFT_SIM_SEEDS", 300);
    for (uint64_t seed = 1; seed <= count; ++seed) seeds.push_back(seed);
  }
  uint64_t committed = 0;
  int elections = 0;
  int crashes = 0;
  int wipes = 0;
  int voter_changes = 0;
  for (uint64_t seed : seeds) {
    current_seed = seed;
    current_voters = voters;
    Simulation simulation(voters, seed, scenario);
    std::string failure = simulation.run();
    ASSERT_TRUE(failure.empty()) << "seed " << seed << " (" << voters
                                 << " voters; rerun with MQ_RAFT_SIM_SEED=" << seed
                                 << "): " << failure;
    if (scenario == Scenario::kWipes) {
      // Otherwise the seed did not test what it is for.
      ASSERT_EQ(simulation.elections(), 1) << "seed " << seed << ": the leader changed";
    }
    committed += simulation.committed();
    elections += simulation.elections();
    crashes += simulation.crashes();
    wipes += simulation.wipes();
    voter_changes += simulation.voter_changes();
  }
  std::printf(
      "%zu seeds, %d voters + %s: %llu entries committed, %d terms with a leader, "
      "%d crashes, %d wipes, %d voter changes\n",
      seeds.size(), voters,
      scenario == Scenario::kMembership ? "3 nodes listed nowhere" : "1 observer",
      static_cast<unsigned long long>(committed), elections, crashes, wipes, voter_changes);
  if (scenario == Scenario::kMembership) {
    // Each seed changes the voter set several times, and some lose storage.
    EXPECT_GT(voter_changes, static_cast<int>(3 * seeds.size()));
    EXPECT_GT(wipes, static_cast<int>(seeds.size() / 4));
  }
  if (scenario == Scenario::kWipes) {
    EXPECT_GT(wipes, static_cast<int>(seeds.size()));
  }
  // The chaos must not be so harsh that nothing happens.
  EXPECT_GT(committed, seeds.size() * 20);
}

TEST(RaftSimulationTest, ThreeVotersAndAnObserverStaySafeAndLive) {
  run_seeds(3);
}

TEST(RaftSimulationTest, FiveVotersAndAnObserverStaySafeAndLive) {
  run_seeds(5);
}

TEST(RaftSimulationTest, VotersAddedAndRemovedUnderChaosStaySafeAndLive) {
  run_seeds(3, Scenario::kMembership);
}

TEST(RaftSimulationTest, MembersThatLoseTheirStorageCatchUpUnderTheSameLeader) {
  run_seeds(3, Scenario::kWipes);
  run_seeds(5, Scenario::kWipes);
}

}  // namespace
}  // namespace mq::raft
