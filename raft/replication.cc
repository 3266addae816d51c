// Log replication of the Raft state machine: the leader's appends with flow
// control, heartbeats, snapshots sent in chunks and commitment, and a
// follower's answers to them. Elections, roles and the application
// interface are in raft_node.cc.
#include <algorithm>
#include <functional>

#include "raft/invariant.h"
#include "raft/raft_node.h"

namespace mq::raft {

// ---- appends and snapshots received ---------------------------------------

void RaftNode::on_append_request(NodeId from, const AppendEntriesRequest& request) {
  follow(from);

  AppendEntriesResponse response;
  response.term = term_;
  response.rejected_index = request.prev_log_index;
  response.request_id = request.request_id;
  response.directory_id = config_.directory_id;
  uint64_t prev = request.prev_log_index;
  uint64_t prev_term = request.prev_log_term;
  size_t skip = 0;
  if (prev < commit_) {
    // Committed entries are in every later leader's log: they match.
    skip = static_cast<size_t>(std::min<uint64_t>(commit_ - prev, request.entries.size()));
    prev = commit_;
    prev_term = *log_.term_at(commit_);
  }
  if (!log_.matches(prev, prev_term)) {
    uint64_t hint = std::min(prev, log_.last_index());
    while (hint > commit_ && log_.at(hint).term > prev_term) --hint;
    response.hint_index = hint;
    response.hint_term = *log_.term_at(hint);
    send(from, response);
    return;
  }
  std::vector<Entry> entries(request.entries.begin() + static_cast<ptrdiff_t>(skip),
                             request.entries.end());
  uint64_t truncated = log_.merge(entries);
  MQ_RAFT_INVARIANT(truncated == 0 || truncated > commit_, "committed entries are never truncated");
  // A configuration entry rules once appended; a truncated one no longer
  // does. A truncation is at one of `entries`: rescanning from the first
  // covers both.
  bool reconfigured =
      truncated != 0 && log_memberships_.lower_bound(truncated) != log_memberships_.end();
  for (const Entry& entry : entries) reconfigured |= entry.type == EntryType::kConfig;
  if (reconfigured) {
    rescan_memberships(entries.front().index);
    refresh_membership();
  }
  uint64_t last_new = prev + entries.size();
  commit_ = std::max(commit_, std::min(request.leader_commit, last_new));
  response.success = true;
  response.match_index = last_new;
  send(from, response);
}

void RaftNode::on_append_response(NodeId from, const AppendEntriesResponse& response) {
  if (role_ != Role::kLeader) return;
  Progress& progress = progress_.at(from);
  progress.recent_active = true;
  progress.ticks_since_heard = 0;
  if (!response.directory_id.empty() && response.directory_id != progress.directory_id) {
    // Another directory answers for this member: what the old one held is
    // not in it (docs/raft.md, "A voter that lost its directory").
    if (!progress.directory_id.empty()) {
      progress.match = 0;
      progress.match_request_id = append_requests_sent_;
    }
    progress.directory_id = response.directory_id;
  }
  if (!response.success) {
    // A member that held `match` when it got this request still holds it
    // (the leader's entries never conflict with its own, and acknowledged
    // entries were persisted). So a refusal at or below `match` of a request
    // sent after `match` was learned means the member lost its log: it
    // restarted from empty storage. Its old acknowledgement no longer counts
    // for commit, and replication starts over from its answer's hint. An
    // older refusal of that kind was answered before the acknowledgement
    // overtook it: stale, like the other cases below.
    bool log_lost = response.rejected_index <= progress.match &&
                    response.request_id > progress.match_request_id;
    if (log_lost) {
      progress.match = 0;
      progress.match_request_id = append_requests_sent_;
    }
    if (progress.state == ReplicationState::kSnapshot) return;
    if (!log_lost) {
      // Answers to appends sent before the last change of course are stale.
      if (progress.state == ReplicationState::kReplicate &&
          response.rejected_index <= progress.match)
        return;
      if (progress.state == ReplicationState::kProbe &&
          response.rejected_index != progress.next - 1)
        return;
    }
    uint64_t next;
    if (response.hint_index < log_.snapshot_index()) {
      next = response.hint_index + 1;  // below the log start: the snapshot follows
    } else {
      uint64_t index = std::min(response.hint_index, log_.last_index());
      while (index > log_.snapshot_index() && log_.at(index).term > response.hint_term) --index;
      bool below_start =
          index == log_.snapshot_index() && log_.snapshot_term() > response.hint_term;
      next = below_start ? index : index + 1;
    }
    progress.become_probe();
    progress.next = std::max(next, progress.match + 1);
    send_append(from, progress, /*as_heartbeat=*/true);
    return;
  }
  if (response.match_index > progress.match) {
    progress.match = response.match_index;
    progress.match_request_id = append_requests_sent_;
    progress.ticks_since_progress = 0;
  }
  progress.acknowledge(progress.match);
  if (progress.state == ReplicationState::kProbe) {
    progress.become_replicate();
  } else if (progress.state == ReplicationState::kSnapshot) {
    if (progress.match >= progress.snapshot_index) progress.become_replicate();
  } else {
    progress.next = std::max(progress.next, progress.match + 1);
  }
  maybe_commit();
  flush_pending_ = true;
}

void RaftNode::on_snapshot_request(NodeId from, const InstallSnapshotRequest& request) {
  follow(from);

  InstallSnapshotResponse response{term_, request.last_included_index, 0, false};
  if (request.last_included_index <= commit_) {
    // Everything it covers is committed here already.
    incoming_snapshot_.reset();
    response.done = true;
    send(from, response);
    return;
  }
  if (!incoming_snapshot_ || incoming_snapshot_->index != request.last_included_index ||
      incoming_snapshot_->term != request.last_included_term) {
    if (request.offset != 0) {
      send(from, response);  // next_offset 0: start over
      return;
    }
    incoming_snapshot_ = Snapshot{request.last_included_index, request.last_included_term, {}};
  }
  Bytes& data = incoming_snapshot_->data;
  if (request.offset == data.size()) {
    data.insert(data.end(), request.data.begin(), request.data.end());
  }
  response.next_offset = data.size();
  if (request.done && request.offset + request.data.size() == data.size()) {
    log_.compact_to(incoming_snapshot_->index, incoming_snapshot_->term);
    commit_ = incoming_snapshot_->index;
    incoming_snapshot_->membership = request.membership;
    snapshot_membership_.reset();
    if (!request.membership.empty()) {
      Result<Membership> membership = decode_membership(request.membership);
      if (membership) snapshot_membership_ = std::move(membership).value();
    }
    rescan_memberships(0);
    refresh_membership();
    snapshot_ = std::move(incoming_snapshot_);
    incoming_snapshot_.reset();
    snapshot_pending_ = true;
    restore_pending_ = true;
    response.done = true;
  }
  send(from, response);
}

void RaftNode::on_snapshot_response(NodeId from, const InstallSnapshotResponse& response) {
  if (role_ != Role::kLeader) return;
  Progress& progress = progress_.at(from);
  progress.recent_active = true;
  progress.ticks_since_heard = 0;
  if (response.done) {
    if (response.last_included_index > progress.match) {
      progress.match = response.last_included_index;
      progress.match_request_id = append_requests_sent_;
    }
    if (progress.state == ReplicationState::kSnapshot) {
      progress.become_probe();
      send_append(from, progress, /*as_heartbeat=*/true);
    }
    return;
  }
  if (progress.state != ReplicationState::kSnapshot ||
      response.last_included_index != progress.snapshot_index) {
    return;
  }
  if (response.next_offset > progress.snapshot_offset) {
    progress.snapshot_offset = response.next_offset;
    send_snapshot_chunk(from, progress);
  } else {
    // The follower lost its partial copy; the resend timer restarts from here.
    progress.snapshot_offset = response.next_offset;
  }
}

// ---- replication -----------------------------------------------------------

bool RaftNode::maybe_commit() {
  if (role_ != Role::kLeader) return false;
  std::vector<uint64_t> matches;
  for (const Voter& voter : membership_.voters) {
    if (voter.id == config_.id) {
      matches.push_back(is_voter_ ? log_.persisted_index() : 0);
      continue;
    }
    const Progress& progress = progress_.at(voter.id);
    matches.push_back(counts(voter.id, progress) ? progress.match : 0);
  }
  std::sort(matches.begin(), matches.end(), std::greater<>());
  uint64_t majority = matches[quorum() - 1];
  // Only an entry of the current term is committed by counting replicas
  // (Raft §5.4.2, the Figure 8 case); earlier ones commit beneath it.
  if (majority <= commit_ || log_.term_at(majority) != term_) return false;
  commit_ = majority;
  commit_broadcast_pending_ = true;
  flush_pending_ = true;
  return true;
}

void RaftNode::send_append(NodeId to, Progress& progress, bool as_heartbeat) {
  if (progress.state == ReplicationState::kSnapshot) return;
  if (progress.state == ReplicationState::kProbe && progress.probe_sent) return;
  if (progress.state == ReplicationState::kReplicate &&
      progress.inflight.size() >= config_.max_inflight_appends) {
    return;
  }
  uint64_t prev = progress.next - 1;
  MQ_RAFT_INVARIANT(prev <= log_.last_index(), "next index within the log");
  std::optional<uint64_t> prev_term = log_.term_at(prev);
  if (!prev_term) {
    // The entries it needs were compacted away: send the snapshot instead.
    MQ_RAFT_INVARIANT(snapshot_.has_value(), "a compacted log has a snapshot");
    progress.state = ReplicationState::kSnapshot;
    progress.inflight.clear();
    progress.snapshot_index = snapshot_->index;
    progress.snapshot_offset = 0;
    send_snapshot_chunk(to, progress);
    return;
  }
  std::vector<Entry> entries =
      log_.slice(progress.next, config_.max_entries_per_append, config_.max_bytes_per_append);
  if (entries.empty() && !as_heartbeat) return;
  if (progress.state == ReplicationState::kReplicate && !entries.empty()) {
    if (progress.inflight.empty()) progress.ticks_since_progress = 0;
    progress.next = entries.back().index + 1;
    progress.inflight.push_back(entries.back().index);
  }
  if (progress.state == ReplicationState::kProbe) progress.probe_sent = true;
  progress.sent_this_round = true;
  send_append_request(to,
                      AppendEntriesRequest{term_, prev, *prev_term, commit_, std::move(entries)});
}

void RaftNode::send_append_request(NodeId to, AppendEntriesRequest request) {
  append_requests_sent_ += 1;
  request.request_id = append_requests_sent_;
  send(to, std::move(request));
}

// An empty append at the follower's match index: always accepted, it keeps
// the follower from campaigning and tells it the commit index up to match.
void RaftNode::send_heartbeat(NodeId to, const Progress& progress) {
  AppendEntriesRequest request;
  request.term = term_;
  if (std::optional<uint64_t> match_term = log_.term_at(progress.match)) {
    request.prev_log_index = progress.match;
    request.prev_log_term = *match_term;
    request.leader_commit = std::min(commit_, progress.match);
  }
  send_append_request(to, std::move(request));
}

void RaftNode::send_snapshot_chunk(NodeId to, Progress& progress) {
  MQ_RAFT_INVARIANT(snapshot_.has_value(), "sending a snapshot needs one");
  if (progress.snapshot_index != snapshot_->index) {
    progress.snapshot_index = snapshot_->index;  // compacted again meanwhile: send the new one
    progress.snapshot_offset = 0;
  }
  const Bytes& data = snapshot_->data;
  uint64_t offset = std::min<uint64_t>(progress.snapshot_offset, data.size());
  uint64_t length = std::min<uint64_t>(config_.snapshot_chunk_bytes, data.size() - offset);
  InstallSnapshotRequest request;
  request.term = term_;
  request.last_included_index = snapshot_->index;
  request.last_included_term = snapshot_->term;
  request.offset = offset;
  request.data.assign(data.begin() + static_cast<ptrdiff_t>(offset),
                      data.begin() + static_cast<ptrdiff_t>(offset + length));
  request.done = offset + length == data.size();
  request.membership = snapshot_->membership;
  progress.ticks_since_progress = 0;
  progress.sent_this_round = true;
  send(to, std::move(request));
}

void RaftNode::broadcast_heartbeats() {
  // Appends or chunks unanswered this long were probably lost: resend.
  const int stall_ticks = std::max(2, config_.election_ticks / 2);
  for (auto& [id, progress] : progress_) {
    switch (progress.state) {
      case ReplicationState::kProbe:
        progress.probe_sent = false;
        send_append(id, progress, /*as_heartbeat=*/true);
        break;
      case ReplicationState::kReplicate:
        if (!progress.inflight.empty() && progress.ticks_since_progress >= stall_ticks) {
          progress.become_probe();
          send_append(id, progress, /*as_heartbeat=*/true);
        } else {
          send_heartbeat(id, progress);
        }
        break;
      case ReplicationState::kSnapshot:
        if (progress.ticks_since_progress >= stall_ticks) send_snapshot_chunk(id, progress);
        send_heartbeat(id, progress);
        break;
    }
  }
}

// Sends what accumulated since the last Ready: new entries, as many batches
// as flow control allows, and the commit index to those that got nothing.
void RaftNode::flush_appends() {
  if (role_ != Role::kLeader) {
    flush_pending_ = false;
    commit_broadcast_pending_ = false;
    return;
  }
  for (auto& [id, progress] : progress_) {
    progress.sent_this_round = false;
    while (true) {
      size_t before = outbox_.size();
      send_append(id, progress, /*as_heartbeat=*/false);
      if (outbox_.size() == before || progress.state != ReplicationState::kReplicate) break;
    }
    if (commit_broadcast_pending_ && !progress.sent_this_round &&
        progress.state != ReplicationState::kSnapshot) {
      send_heartbeat(id, progress);
    }
  }
  flush_pending_ = false;
  commit_broadcast_pending_ = false;
}

}  // namespace mq::raft
