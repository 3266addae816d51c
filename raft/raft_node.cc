// The Raft state machine: elections with pre-vote and check-quorum, roles,
// leadership transfer and the application interface (replication.cc has
// log replication, snapshots and commitment).
#include "raft/raft_node.h"

#include <algorithm>
#include <set>

#include "raft/invariant.h"

namespace mq::raft {

Status validate(const RaftConfig& config) {
  auto invalid = [](const std::string& why) {
    return Status(ErrorCode::kInvalidConfig, "raft: " + why);
  };
  size_t voters = config.voters.size();
  if (voters != 1 && voters != 3 && voters != 5) {
    return invalid("the quorum has 1, 3 or 5 voters, not " + std::to_string(voters));
  }
  std::set<NodeId> seen;
  for (const auto* ids : {&config.voters, &config.observers}) {
    for (NodeId id : *ids) {
      if (id < 0) return invalid("node id " + std::to_string(id) + " is negative");
      if (!seen.insert(id).second) {
        return invalid("node " + std::to_string(id) + " is listed twice");
      }
    }
  }
  // An id in neither list is a dynamic observer (docs/raft.md, "Dynamic observers").
  if (config.id < 0) return invalid("node id " + std::to_string(config.id) + " is negative");
  if (config.heartbeat_ticks < 1 || config.election_ticks <= config.heartbeat_ticks) {
    return invalid("need 1 <= heartbeat_ticks < election_ticks");
  }
  if (config.max_entries_per_append < 1 || config.max_bytes_per_append < 1 ||
      config.max_inflight_appends < 1 || config.snapshot_chunk_bytes < 1) {
    return invalid("append, in-flight and chunk limits must be at least 1");
  }
  return Status::ok();
}

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

Status persist_ready(RaftStorage& storage, const Ready& ready) {
  if (ready.snapshot) MQ_RETURN_IF_ERROR(storage.save_snapshot(*ready.snapshot));
  if (!ready.entries.empty()) MQ_RETURN_IF_ERROR(storage.append(ready.entries));
  if (ready.hard_state) MQ_RETURN_IF_ERROR(storage.save_hard_state(*ready.hard_state));
  return Status::ok();
}

Result<RaftNode> RaftNode::create(const RaftConfig& config, PersistentState state) {
  MQ_RETURN_IF_ERROR(validate(config));
  uint64_t base = state.snapshot ? state.snapshot->index : 0;
  for (size_t i = 0; i < state.entries.size(); ++i) {
    if (state.entries[i].index != base + 1 + i) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft: restored log has entry " + std::to_string(state.entries[i].index) +
                        " where " + std::to_string(base + 1 + i) + " belongs");
    }
  }
  if (state.hard_state.commit > base + state.entries.size()) {
    return Status(ErrorCode::kCorruptMessage,
                  "raft: restored commit index " + std::to_string(state.hard_state.commit) +
                      " is past the last entry " + std::to_string(base + state.entries.size()));
  }
  if (state.snapshot && !state.snapshot->membership.empty()) {
    Result<Membership> membership = decode_membership(state.snapshot->membership);
    if (!membership) {
      return Status(ErrorCode::kCorruptMessage,
                    "raft: restored snapshot's voter set: " + membership.status().message());
    }
  }
  for (const Entry& entry : state.entries) {
    if (entry.type != EntryType::kConfig) continue;
    Result<Membership> membership = decode_membership(entry.data);
    if (!membership) {
      return Status(ErrorCode::kCorruptMessage, "raft: restored configuration entry " +
                                                    std::to_string(entry.index) + ": " +
                                                    membership.status().message());
    }
  }
  return RaftNode(config, std::move(state));
}

RaftNode::RaftNode(const RaftConfig& config, PersistentState state)
    : config_(config),
      // Nodes given the same seed still draw different timeouts.
      random_(config.random_seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(config.id)) {
  for (NodeId id : config_.voters) {
    auto address = config_.voter_addresses.find(id);
    static_membership_ =
        with_voter(std::move(static_membership_),
                   Voter{id, "", address == config_.voter_addresses.end() ? "" : address->second});
  }
  if (state.snapshot && !state.snapshot->membership.empty()) {
    snapshot_membership_ = decode_membership(state.snapshot->membership).value();
  }
  uint64_t snapshot_index = state.snapshot ? state.snapshot->index : 0;
  uint64_t snapshot_term = state.snapshot ? state.snapshot->term : 0;
  log_ = RaftLog(snapshot_index, snapshot_term, std::move(state.entries));
  snapshot_ = std::move(state.snapshot);
  term_ = state.hard_state.term;
  vote_ = state.hard_state.vote;
  commit_ = std::max(state.hard_state.commit, snapshot_index);
  applied_ = snapshot_index;
  persisted_hard_state_ = state.hard_state;
  rescan_memberships(log_.first_index());
  refresh_membership();
  become_follower(term_, kNoNode);
}

bool RaftConfig::is_observer(NodeId node) const {
  return std::find(observers.begin(), observers.end(), node) != observers.end();
}

bool RaftNode::is_listed(NodeId node) const {
  return membership_.contains(node) || config_.is_observer(node);
}

bool RaftNode::is_member(NodeId id) const {
  return is_listed(id) || replicates_to_dynamic_observer(id);
}

bool RaftNode::replicates_to_dynamic_observer(NodeId node) const {
  auto it = progress_.find(node);
  return role_ == Role::kLeader && it != progress_.end() && it->second.dynamic;
}

// Heard from a live leader within the last election timeout: a vote request
// now comes from a node that is partitioned or restarting, not from a
// quorum that lost its leader, so it must not disrupt the term.
bool RaftNode::in_leader_lease() const {
  return leader_ != kNoNode && election_elapsed_ < config_.election_ticks;
}

void RaftNode::reset_election_timer() {
  election_elapsed_ = 0;
  randomized_election_ticks_ =
      config_.election_ticks +
      static_cast<int>(random_() % static_cast<uint64_t>(config_.election_ticks));
}

void RaftNode::send(NodeId to, MessageBody body) {
  outbox_.push_back(Message{config_.id, to, std::move(body)});
}

// ---- roles -----------------------------------------------------------------

void RaftNode::become_follower(uint64_t term, NodeId leader) {
  if (term > term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  role_ = Role::kFollower;
  leader_ = leader;
  votes_.clear();
  progress_.clear();
  reset_election_timer();
}

void RaftNode::become_pre_candidate() {
  role_ = Role::kPreCandidate;
  leader_ = kNoNode;
  votes_ = {{config_.id, true}};
  reset_election_timer();
  if (votes_.size() >= quorum()) return become_candidate();
  for (const Voter& voter : membership_.voters) {
    if (voter.id == config_.id) continue;
    send(voter.id, VoteRequest{term_ + 1, log_.last_index(), log_.last_term(), /*pre_vote=*/true,
                               voter.directory_id});
  }
}

void RaftNode::become_candidate() {
  term_ += 1;
  vote_ = config_.id;
  role_ = Role::kCandidate;
  leader_ = kNoNode;
  votes_ = {{config_.id, true}};
  reset_election_timer();
  if (votes_.size() >= quorum()) return become_leader();
  for (const Voter& voter : membership_.voters) {
    if (voter.id == config_.id) continue;
    send(voter.id, VoteRequest{term_, log_.last_index(), log_.last_term(), /*pre_vote=*/false,
                               voter.directory_id});
  }
}

void RaftNode::become_leader() {
  role_ = Role::kLeader;
  leader_ = config_.id;
  votes_.clear();
  progress_.clear();
  append_requests_sent_ = 0;
  auto add = [&](NodeId id, bool voter) {
    if (id == config_.id) return;
    Progress progress;
    progress.voter = voter;
    progress.next = log_.last_index() + 1;
    progress_[id] = progress;
  };
  for (NodeId id : config_.observers) add(id, false);
  for (const Voter& voter : membership_.voters) add(voter.id, true);
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  // Entries of earlier terms commit only under one of this term (§5.4.2).
  log_.append(Entry{log_.last_index() + 1, term_, EntryType::kNoop, {}});
  flush_pending_ = true;
}

void RaftNode::campaign() {
  if (config_.pre_vote) {
    become_pre_candidate();
  } else {
    become_candidate();
  }
}

// ---- clock -----------------------------------------------------------------

void RaftNode::tick() {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "tick() between ready() and advance()");
  if (role_ == Role::kLeader) return tick_leader();
  election_elapsed_ += 1;
  // A sole voter has no one to wait for: it leads from its first tick.
  bool sole_voter = is_voter_ && membership_.voters.size() == 1;
  if (is_voter_ && (sole_voter || election_elapsed_ >= randomized_election_ticks_)) campaign();
  // A node that does not vote forgets a leader silent for an election
  // timeout (it may no longer lead, or no longer send to this node).
  if (!is_voter_ && election_elapsed_ >= config_.election_ticks) leader_ = kNoNode;
  if (is_dynamic_observer()) {
    announce_elapsed_ += 1;
    // At once after a start, then once per election timeout without a
    // leader: a new leader does not know this node until told.
    if (!announced_ || announce_elapsed_ >= config_.election_ticks) announce();
  } else if (leader_ == kNoNode) {
    // No leader for an election timeout: this node may have been removed
    // from the voters while it was away (or lost its storage since), and
    // the voters that no longer list it send it nothing unless told. The
    // ones that still list it ignore the hello.
    announce_elapsed_ += 1;
    if (announce_elapsed_ >= config_.election_ticks) announce();
  }
}

void RaftNode::announce() {
  announced_ = true;
  announce_elapsed_ = 0;
  for (const Voter& voter : membership_.voters) {
    if (voter.id != config_.id)
      send(voter.id, ObserverHello{term_, config_.address, config_.directory_id});
  }
}

// A dynamic observer that stopped answering (gone, or following another
// leader) is forgotten; if it is alive it announces itself again.
void RaftNode::expire_dynamic_observers() {
  for (auto it = progress_.begin(); it != progress_.end();) {
    Progress& progress = it->second;
    if (progress.dynamic && ++progress.silent_ticks >= config_.dynamic_observer_expiry_ticks()) {
      it = progress_.erase(it);
    } else {
      ++it;
    }
  }
}

void RaftNode::tick_leader() {
  heartbeat_elapsed_ += 1;
  election_elapsed_ += 1;
  if (election_elapsed_ >= config_.election_ticks) {
    election_elapsed_ = 0;
    if (config_.check_quorum) {
      size_t active = is_voter_ ? 1 : 0;
      for (auto& [id, progress] : progress_) {
        if (progress.voter && progress.recent_active && counts(id, progress)) active += 1;
        progress.recent_active = false;
      }
      // A leader cut off from a majority steps down rather than keep a
      // client waiting on a term the others have left.
      if (active < quorum()) return become_follower(term_, kNoNode);
    }
  }
  for (auto& [id, progress] : progress_) {
    progress.ticks_since_progress += 1;
    progress.ticks_since_heard = std::min(progress.ticks_since_heard + 1, Progress::kNeverHeard);
  }
  expire_dynamic_observers();
  if (heartbeat_elapsed_ >= config_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    maybe_record_voters();
    broadcast_heartbeats();
  }
  maybe_step_down_removed();
}

// ---- messages --------------------------------------------------------------

Status RaftNode::step(const Message& message) {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "step() between ready() and advance()");
  if (message.to != config_.id) {
    return Status(ErrorCode::kInvalidRequest, "raft node " + std::to_string(config_.id) +
                                                  " got a message for " +
                                                  std::to_string(message.to));
  }
  if (const auto* hello = std::get_if<ObserverHello>(&message.body)) {
    // Before the term rules: a hello never changes a term.
    return on_observer_hello(message.from, *hello);
  }
  const bool answer = std::holds_alternative<AppendEntriesResponse>(message.body) ||
                      std::holds_alternative<InstallSnapshotResponse>(message.body);
  // A voter set this node has not seen yet (it was away while nodes were
  // added) may have elected a node it does not know: with no leader heard
  // within an election timeout, it follows such a leader's requests and
  // votes for such a candidate, as Raft does (KIP-853 does the same); it
  // learns the voter set from the log. With a live leader, the requests of
  // strangers are refused, except that leader's own (a leader that removed
  // itself sends appends and, handing over, TimeoutNow).
  const bool stranger = message.from < 0 || message.from == config_.id || !is_member(message.from);
  const bool unknown_sender_allowed = stranger && message.from >= 0 && message.from != config_.id &&
                                      is_request(message) &&
                                      (!in_leader_lease() || leader_ == message.from);
  if (stranger && !unknown_sender_allowed) {
    // A dynamic observer's answer to a leadership this node has lost, or to
    // a leader that forgot it: nothing to act on, and its term must not count.
    if (message.from != config_.id && message.from >= 0 && answer && !is_listed(message.from)) {
      return Status::ok();
    }
    return Status(ErrorCode::kInvalidRequest,
                  "raft node " + std::to_string(config_.id) + " got a message from " +
                      std::to_string(message.from) + ", not a member of the quorum");
  }
  if (!stranger && !is_listed(message.from)) {
    // Only answers are taken from a dynamic observer: it never leads or votes.
    if (!answer) {
      return Status(ErrorCode::kInvalidRequest, "raft node " + std::to_string(config_.id) +
                                                    " got " + describe(message) +
                                                    " from a dynamic observer");
    }
    progress_.at(message.from).silent_ticks = 0;
  }
  const uint64_t term = message_term(message);
  const auto* vote_request = std::get_if<VoteRequest>(&message.body);
  if (term > term_) {
    if (vote_request != nullptr) {
      if (config_.check_quorum && in_leader_lease()) return Status::ok();
      if (!vote_request->pre_vote) become_follower(term, kNoNode);
    } else if (const auto* vote = std::get_if<VoteResponse>(&message.body);
               vote != nullptr && vote->pre_vote && vote->granted) {
      // The term the pre-candidate asked about, not one anybody is in.
    } else if (is_request(message)) {
      become_follower(term, message.from);
    } else {
      become_follower(term, kNoNode);
    }
  } else if (term < term_) {
    if (vote_request != nullptr) {
      send(message.from, VoteResponse{term_, false, vote_request->pre_vote, config_.directory_id});
    } else if (is_request(message)) {
      reject_stale_leader(message);
    }
    return Status::ok();
  }

  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) on_vote_request(message.from, body);
        if constexpr (std::is_same_v<T, VoteResponse>) on_vote_response(message.from, body);
        if constexpr (std::is_same_v<T, AppendEntriesRequest>) {
          on_append_request(message.from, body);
        }
        if constexpr (std::is_same_v<T, AppendEntriesResponse>) {
          on_append_response(message.from, body);
        }
        if constexpr (std::is_same_v<T, InstallSnapshotRequest>) {
          on_snapshot_request(message.from, body);
        }
        if constexpr (std::is_same_v<T, InstallSnapshotResponse>) {
          on_snapshot_response(message.from, body);
        }
        if constexpr (std::is_same_v<T, TimeoutNow>) on_timeout_now(message.from, body);
      },
      message.body);
  return Status::ok();
}

// A leader of an old term learns the current one from the answer and steps down.
void RaftNode::reject_stale_leader(const Message& message) {
  if (const auto* append = std::get_if<AppendEntriesRequest>(&message.body)) {
    AppendEntriesResponse response;
    response.term = term_;
    response.rejected_index = append->prev_log_index;
    response.request_id = append->request_id;
    send(message.from, response);
  } else if (const auto* chunk = std::get_if<InstallSnapshotRequest>(&message.body)) {
    send(message.from, InstallSnapshotResponse{term_, chunk->last_included_index, 0, false});
  }
}

void RaftNode::on_vote_request(NodeId from, const VoteRequest& request) {
  // Asked, a node votes even if its own log does not (yet) make it a voter:
  // it may have been added by an entry it has not received (Raft thesis
  // §4.1: requests are answered without consulting the configuration). The
  // candidate counts only the votes of its own voter set.
  // The candidate names the directory it knows this voter by: a node that
  // has lost its storage since is not that voter and does not vote (a
  // candidate that lost its own gets no votes by its empty log).
  bool known = request.directory_id.empty() || request.directory_id == config_.directory_id;
  bool log_ok =
      known &&
      (request.last_log_term > log_.last_term() ||
       (request.last_log_term == log_.last_term() && request.last_log_index >= log_.last_index()));
  if (request.pre_vote) {
    bool granted = request.term > term_ && log_ok && !in_leader_lease();
    send(from, VoteResponse{granted ? request.term : term_, granted, true, config_.directory_id});
    return;
  }
  bool can_vote = vote_ == from || (vote_ == kNoNode && leader_ == kNoNode);
  bool granted = can_vote && log_ok;
  if (granted) {
    vote_ = from;
    reset_election_timer();
  }
  send(from, VoteResponse{term_, granted, false, config_.directory_id});
}

// The leader of this term hands its leadership over: the candidate
// campaigns now (no pre-vote: its log is the leader's); every other voter
// forgets the leader, so the lease no longer keeps it from voting.
void RaftNode::on_timeout_now(NodeId from, const TimeoutNow& request) {
  if (role_ == Role::kLeader || from != leader_ || !is_voter_) return;
  if (request.candidate == config_.id) {
    become_candidate();
    return;
  }
  leader_ = kNoNode;
  reset_election_timer();
}

void RaftNode::on_vote_response(NodeId from, const VoteResponse& response) {
  bool counts = membership_.is_voter(from, response.directory_id);
  if (role_ == Role::kPreCandidate) {
    counts = counts && response.pre_vote;
  } else if (role_ == Role::kCandidate) {
    counts = counts && !response.pre_vote && response.term == term_;
  } else {
    counts = false;
  }
  if (!counts) return;
  votes_.emplace(from, response.granted);
  size_t granted = 0;
  for (const auto& [id, yes] : votes_) granted += yes ? 1 : 0;
  size_t rejected = votes_.size() - granted;
  if (granted >= quorum()) {
    if (role_ == Role::kPreCandidate) {
      become_candidate();
    } else {
      become_leader();
    }
  } else if (rejected >= quorum()) {
    become_follower(term_, kNoNode);
  }
}

// The sender leads this node's term: follow it and hold the election timer.
void RaftNode::follow(NodeId leader) {
  MQ_RAFT_INVARIANT(role_ != Role::kLeader, "two leaders in one term");
  if (role_ != Role::kFollower) become_follower(term_, leader);
  leader_ = leader;
  election_elapsed_ = 0;
  announce_elapsed_ = 0;
}

// The hello's address is for the transport (quorum/), which has already
// connected to it; raft needs only the sender's id.
Status RaftNode::on_observer_hello(NodeId from, const ObserverHello& hello) {
  if (from < 0 || from == config_.id) {
    return Status(ErrorCode::kInvalidRequest, "raft node " + std::to_string(config_.id) +
                                                  " got an ObserverHello from node " +
                                                  std::to_string(from));
  }
  // A listed node announces itself while it hears no leader (it may have
  // been removed, lost its storage, or moved): the leader notes where a
  // voter says it is now, if it names the voter's recorded directory, and
  // records the address at the next heartbeat (maybe_record_voters).
  if (is_listed(from)) {
    const Voter* voter = membership_.find(from);
    if (role_ == Role::kLeader && voter != nullptr && !hello.address.empty() &&
        !voter->directory_id.empty() && hello.directory_id == voter->directory_id) {
      if (auto it = progress_.find(from); it != progress_.end()) {
        it->second.address = hello.address;
        it->second.directory_id = hello.directory_id;
      }
    }
    return Status::ok();
  }
  // Every voter it knows gets the hello; only the leader replicates. The
  // others pass it on to the leader they follow, once (it may be a voter
  // the observer has not heard of); if one of them is elected instead, the
  // observer announces itself to it once the old leader has gone quiet.
  if (role_ != Role::kLeader) {
    if (!hello.forwarded && leader_ != kNoNode && leader_ != from) {
      ObserverHello forwarded = hello;
      forwarded.forwarded = true;
      outbox_.push_back(Message{from, leader_, std::move(forwarded)});
    }
    return Status::ok();
  }
  auto [it, added] = progress_.try_emplace(from);
  Progress& progress = it->second;
  progress.silent_ticks = 0;
  if (!hello.directory_id.empty()) progress.directory_id = hello.directory_id;
  if (added) {
    progress.dynamic = true;
    progress.voter = false;
    progress.next = log_.last_index() + 1;
    // A probe at the end of the log: the answer's hint says where its log
    // ends, and the snapshot follows if that is before the log start.
    send_append(from, progress, /*as_heartbeat=*/true);
  }
  return Status::ok();
}

// ---- application interface -------------------------------------------------

Result<Proposal> RaftNode::propose(Bytes data) {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "propose() between ready() and advance()");
  if (role_ != Role::kLeader) {
    std::string known =
        leader_ == kNoNode ? "no leader is known" : "the leader is node " + std::to_string(leader_);
    return Status(ErrorCode::kNotLeader,
                  "raft node " + std::to_string(config_.id) + " is not the leader; " + known);
  }
  Entry entry{log_.last_index() + 1, term_, EntryType::kCommand, std::move(data)};
  Proposal proposal{entry.index, entry.term};
  log_.append(std::move(entry));
  flush_pending_ = true;
  return proposal;
}

Result<NodeId> RaftNode::transfer_leadership() {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "transfer_leadership() between ready() and advance()");
  if (role_ != Role::kLeader) {
    return Status(ErrorCode::kNotLeader,
                  "raft node " + std::to_string(config_.id) + " is not the leader");
  }
  // A voter with the whole log that answered within the last two heartbeats
  // (one that stopped a moment ago could not take over), among others that
  // form a quorum without this node: otherwise the new leader could not
  // commit anything once this one is gone.
  NodeId target = kNoNode;
  size_t heard = 0;
  for (const auto& [id, progress] : progress_) {
    if (!progress.voter || !counts(id, progress) ||
        progress.ticks_since_heard > 2 * config_.heartbeat_ticks) {
      continue;
    }
    heard += 1;
    if (target == kNoNode && progress.match == log_.last_index()) target = id;
  }
  if (heard < quorum()) {
    return Status(ErrorCode::kNotEnoughReplicas,
                  "the other voters heard from lately are not a quorum without this node");
  }
  if (target == kNoNode) {
    return Status(ErrorCode::kLeaderNotAvailable,
                  "no other voter has every entry of the leader's log yet");
  }
  for (const Voter& voter : membership_.voters) {
    if (voter.id != config_.id && voter.id != target) send(voter.id, TimeoutNow{term_, target});
  }
  send(target, TimeoutNow{term_, target});
  // A follower that knows no leader: no more heartbeats, and it votes for
  // the candidate's term like the others.
  become_follower(term_, kNoNode);
  return target;
}

Status RaftNode::compact(uint64_t index, Bytes data) {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "compact() between ready() and advance()");
  if (index <= log_.snapshot_index() || index > applied_) {
    return Status(ErrorCode::kInvalidRequest, "raft: cannot snapshot at " + std::to_string(index) +
                                                  " (snapshot at " +
                                                  std::to_string(log_.snapshot_index()) +
                                                  ", applied " + std::to_string(applied_) + ")");
  }
  uint64_t term = *log_.term_at(index);
  // The voter set recorded at `index` goes into the snapshot; none while
  // only the static configuration has spoken.
  auto recorded = log_memberships_.upper_bound(index);
  if (recorded != log_memberships_.begin()) snapshot_membership_ = std::prev(recorded)->second;
  log_memberships_.erase(log_memberships_.begin(), recorded);
  log_.compact_to(index, term);
  snapshot_ = Snapshot{index, term, std::move(data),
                       snapshot_membership_ ? encode_membership(*snapshot_membership_) : Bytes{}};
  snapshot_pending_ = true;
  return Status::ok();
}

bool RaftNode::has_ready() const {
  return hard_state() != persisted_hard_state_ || snapshot_pending_ ||
         log_.persisted_index() < log_.last_index() || !outbox_.empty() || commit_ > applied_ ||
         (flush_pending_ && role_ == Role::kLeader);
}

Ready RaftNode::ready() {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "ready() twice without advance()");
  flush_appends();
  Ready ready;
  if (hard_state() != persisted_hard_state_) ready.hard_state = hard_state();
  if (snapshot_pending_) {
    ready.snapshot = *snapshot_;
    ready.restore_from_snapshot = restore_pending_;
  }
  ready.entries = log_.unpersisted();
  ready.messages = std::move(outbox_);
  outbox_.clear();
  uint64_t first = (restore_pending_ ? snapshot_->index : applied_) + 1;
  for (uint64_t index = first; index <= commit_; ++index) {
    ready.committed_entries.push_back(log_.at(index));
  }
  ready_outstanding_ = true;
  return ready;
}

void RaftNode::advance(const Ready& ready) {
  MQ_RAFT_INVARIANT(ready_outstanding_, "advance() without ready()");
  ready_outstanding_ = false;
  if (ready.hard_state) persisted_hard_state_ = *ready.hard_state;
  if (ready.snapshot) {
    if (ready.restore_from_snapshot) applied_ = std::max(applied_, ready.snapshot->index);
    snapshot_pending_ = false;
    restore_pending_ = false;
  }
  if (!ready.entries.empty()) log_.mark_persisted(ready.entries.back().index);
  if (!ready.committed_entries.empty()) applied_ = ready.committed_entries.back().index;
  // The leader's own entries count towards a quorum once they are on its disk.
  maybe_commit();
  maybe_step_down_removed();
}

std::vector<MemberStatus> RaftNode::members() const {
  std::vector<MemberStatus> out;
  if (role_ != Role::kLeader) return out;
  out.push_back(MemberStatus{config_.id, is_voter_, config_.directory_id, false,
                             is_dynamic_observer(), log_.persisted_index(),
                             ReplicationState::kReplicate, true, 0});
  for (const auto& [id, progress] : progress_) {
    out.push_back(MemberStatus{id, progress.voter, progress.directory_id,
                               progress.voter && !counts(id, progress), progress.dynamic,
                               progress.match, progress.state, progress.recent_active,
                               progress.ticks_since_heard});
  }
  return out;
}

}  // namespace mq::raft
