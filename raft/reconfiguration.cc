// Membership of the Raft state machine: the voter set recorded in the log
// (configuration entries, in effect once appended), its changes one voter
// at a time, directory ids and the step-down of a leader that removed itself
// (docs/raft.md, "Membership").
#include <algorithm>

#include "raft/invariant.h"
#include "raft/raft_node.h"

namespace mq::raft {

uint64_t RaftNode::membership_index() const {
  return log_memberships_.empty() ? 0 : log_memberships_.rbegin()->first;
}

bool RaftNode::counts(NodeId id, const Progress& progress) const {
  const Voter* voter = membership_.find(id);
  return voter != nullptr && (voter->directory_id.empty() || progress.directory_id.empty() ||
                              voter->directory_id == progress.directory_id);
}

Membership RaftNode::membership_at(uint64_t index) const {
  auto recorded = log_memberships_.upper_bound(index);
  if (recorded != log_memberships_.begin()) return std::prev(recorded)->second;
  return snapshot_membership_ ? *snapshot_membership_ : static_membership_;
}

void RaftNode::rescan_memberships(uint64_t from) {
  log_memberships_.erase(log_memberships_.lower_bound(from), log_memberships_.end());
  for (uint64_t index = std::max(from, log_.first_index()); index <= log_.last_index(); ++index) {
    const Entry& entry = log_.at(index);
    if (entry.type != EntryType::kConfig) continue;
    Result<Membership> membership = decode_membership(entry.data);
    MQ_RAFT_INVARIANT(membership.is_ok(), "configuration entries decode");
    log_memberships_[index] = std::move(membership).value();
  }
}

void RaftNode::refresh_membership() {
  Membership next = log_memberships_.empty()
                        ? (snapshot_membership_ ? *snapshot_membership_ : static_membership_)
                        : log_memberships_.rbegin()->second;
  if (next != membership_ || membership_version_ == 0) {
    membership_ = std::move(next);
    ++membership_version_;
  }
  is_voter_ = membership_.is_voter(config_.id, config_.directory_id);
  if (role_ != Role::kLeader) return;
  for (const Voter& voter : membership_.voters) {
    if (voter.id == config_.id) continue;
    auto [it, added] = progress_.try_emplace(voter.id);
    if (added) it->second.next = log_.last_index() + 1;
    it->second.voter = true;
    it->second.dynamic = false;
  }
  // A removed voter still receives the log, as an observer: listed, or
  // dynamic until it has been silent too long.
  for (auto& [id, progress] : progress_) {
    if (!progress.voter || membership_.contains(id)) continue;
    progress.voter = false;
    if (!config_.is_observer(id)) {
      progress.dynamic = true;
      progress.silent_ticks = 0;
    }
  }
}

Status RaftNode::check_change_allowed() const {
  if (role_ != Role::kLeader) {
    std::string known =
        leader_ == kNoNode ? "no leader is known" : "the leader is node " + std::to_string(leader_);
    return Status(ErrorCode::kNotLeader,
                  "raft node " + std::to_string(config_.id) + " is not the leader; " + known);
  }
  // One change at a time, each committed before the next (thesis §4.1), and
  // none before this leader committed an entry of its own term: otherwise a
  // change of a deposed leader could still commit beside this one (the
  // single-server change bug, raft-dev, 2015).
  if (membership_index() > commit_) {
    return Status(ErrorCode::kVoterChangeInProgress, "the voter change at index " +
                                                         std::to_string(membership_index()) +
                                                         " has not committed yet");
  }
  if (log_.term_at(commit_) != term_) {
    return Status(ErrorCode::kVoterChangeInProgress,
                  "the leader has not committed an entry of its term yet");
  }
  return Status::ok();
}

// The voters of `next` that answer the leader now (heard within an election
// timeout, with the recorded directory) must form its quorum: otherwise the
// change itself, and everything after it, could not commit.
Status RaftNode::check_quorum_after(const Membership& next, NodeId joining) const {
  size_t live = 0;
  for (const Voter& voter : next.voters) {
    if (voter.id == config_.id) {
      live += is_voter_ || voter.id == joining ? 1 : 0;
      continue;
    }
    auto it = progress_.find(voter.id);
    if (it == progress_.end()) continue;
    const Progress& progress = it->second;
    bool same_directory = voter.directory_id.empty() || progress.directory_id.empty() ||
                          voter.directory_id == progress.directory_id;
    if (same_directory && progress.ticks_since_heard <= config_.election_ticks) live += 1;
  }
  if (live >= next.quorum()) return Status::ok();
  return Status(ErrorCode::kNotEnoughReplicas,
                "the new voter set (" + next.describe() + ") would have " + std::to_string(live) +
                    " voter(s) answering, fewer than its quorum of " +
                    std::to_string(next.quorum()));
}

Result<Proposal> RaftNode::append_membership(Membership next) {
  Entry entry{log_.last_index() + 1, term_, EntryType::kConfig, encode_membership(next)};
  Proposal proposal{entry.index, entry.term};
  log_.append(std::move(entry));
  log_memberships_[proposal.index] = std::move(next);
  refresh_membership();
  flush_pending_ = true;
  return proposal;
}

Result<Proposal> RaftNode::add_voter(NodeId id, std::string address) {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "add_voter() between ready() and advance()");
  MQ_RETURN_IF_ERROR(check_change_allowed());
  if (membership_.contains(id)) {
    return Status(ErrorCode::kDuplicateVoter, "node " + std::to_string(id) + " is a voter already");
  }
  auto it = progress_.find(id);
  if (id < 0 || it == progress_.end()) {
    return Status(ErrorCode::kReplicaNotAvailable,
                  "the leader does not replicate to node " + std::to_string(id) +
                      ": start it first (it joins as an observer) and wait until it has caught up");
  }
  if (it->second.match < commit_) {
    return Status(ErrorCode::kReplicaNotAvailable,
                  "node " + std::to_string(id) + " has not caught up yet: it holds the log to " +
                      std::to_string(it->second.match) + ", the leader has committed " +
                      std::to_string(commit_));
  }
  Membership next = with_voter(membership_, Voter{id, it->second.directory_id, std::move(address)});
  MQ_RETURN_IF_ERROR(check_quorum_after(next, id));
  return append_membership(std::move(next));
}

Result<Proposal> RaftNode::remove_voter(NodeId id) {
  MQ_RAFT_INVARIANT(!ready_outstanding_, "remove_voter() between ready() and advance()");
  MQ_RETURN_IF_ERROR(check_change_allowed());
  if (!membership_.contains(id)) {
    return Status(ErrorCode::kVoterNotFound, "node " + std::to_string(id) + " is not a voter");
  }
  if (membership_.voters.size() == 1) {
    return Status(ErrorCode::kInvalidRequest,
                  "node " + std::to_string(id) + " is the last voter; the quorum needs one");
  }
  Membership next = without_voter(membership_, id);
  MQ_RETURN_IF_ERROR(check_quorum_after(next, kNoNode));
  return append_membership(std::move(next));
}

// Leader, once per heartbeat: records the directory ids of voters the set
// does not name one for yet (the static set names none), and takes back a
// voter that came back with a new directory once it has every committed
// entry — one such voter per change. Records where a voter is reached when
// that changed: its own address (RaftConfig::address) for the leader, the
// address a voter announced with its recorded directory for the others
// (on_observer_hello).
void RaftNode::maybe_record_voters() {
  if (!check_change_allowed().is_ok()) return;
  Membership next = membership_;
  bool changed = false;
  for (Voter& voter : next.voters) {
    if (voter.id == config_.id) {
      if (voter.directory_id.empty() && !config_.directory_id.empty()) {
        voter.directory_id = config_.directory_id;
        changed = true;
      }
      if (!config_.address.empty() && voter.address != config_.address) {
        voter.address = config_.address;
        changed = true;
      }
      continue;
    }
    auto it = progress_.find(voter.id);
    if (it == progress_.end()) continue;
    Progress& progress = it->second;
    if (!progress.address.empty() && progress.address != voter.address &&
        progress.directory_id == voter.directory_id) {
      voter.address = progress.address;
      changed = true;
    }
    progress.address.clear();
    if (progress.directory_id.empty() || progress.directory_id == voter.directory_id) continue;
    if (voter.directory_id.empty()) {
      voter.directory_id = progress.directory_id;
      changed = true;
    } else if (progress.match >= commit_) {
      voter.directory_id = progress.directory_id;
      changed = true;
      break;
    }
  }
  if (changed) (void)append_membership(std::move(next));
}

// A leader that removed itself leads until that change commits (it counts
// no longer towards quorums), then hands over; if no voter can take over
// now it steps down and the others elect one.
void RaftNode::maybe_step_down_removed() {
  if (role_ != Role::kLeader || membership_.contains(config_.id)) return;
  if (commit_ < membership_index()) return;
  if (!transfer_leadership().is_ok()) become_follower(term_, kNoNode);
}

}  // namespace mq::raft
