// The Raft messages the voters and observers exchange, and the log entry they
// carry. Each body lists its fields once (transport/codec.h), so the encoder
// and the decoder cannot disagree; docs/raft.md describes every field.
//
//   Message (encode_message)          VoteRequest              VoteResponse
//     kind   int8 (MessageKind)         term           uint64    term     uint64
//     from   int32 node id              last_log_index uint64    granted  bool
//     to     int32 node id              last_log_term  uint64    pre_vote bool
//     body   the kind's fields          pre_vote       bool      directory_id string (v1)
//                                       directory_id   string (v1: the receiver's, as recorded)
//
//   AppendEntriesRequest              AppendEntriesResponse
//     term           uint64             term           uint64
//     prev_log_index uint64             success        bool
//     prev_log_term  uint64             match_index    uint64  (success: log matches up to here)
//     leader_commit  uint64             rejected_index uint64  (the request's prev_log_index)
//     entries        array of Entry     hint_index     uint64  (failure: where to probe next)
//     request_id     uint64             hint_term      uint64
//       (numbers the leader's appends)  request_id     uint64  (the request's, echoed)
//                                     directory_id   string  (v1: the member's)
//   Entry
//     index uint64, term uint64, type int8 (EntryType), data bytes
//     (a kConfig entry's data is a voter set, raft/membership.h)
//
//   InstallSnapshotRequest            InstallSnapshotResponse
//     term                uint64        term                uint64
//     last_included_index uint64        last_included_index uint64
//     last_included_term  uint64        next_offset         uint64  (bytes received so far)
//     offset              uint64        done                bool    (snapshot installed)
//     data                bytes  (one chunk)
//     done                bool   (last chunk)
//     membership          bytes  (v1: the voter set at last_included_index)
//
//   ObserverHello (a node listed nowhere -> each voter; docs/raft.md, "Dynamic observers")
//     term    uint64  (the sender's; never adopted by the receiver)
//     address string  (where the members reach the sender; opaque to raft)
//     directory_id string (v1), forwarded bool (v1: passed on to the leader once)
//
//   TimeoutNow (a stopping leader -> each voter; docs/raft.md, "Leadership transfer")
//     term      uint64
//     candidate int32   (the voter that campaigns now)
//
// All integers little-endian; a Message is one self-contained byte string.
// The broker carries them on the quorum api keys (transport/api.h): Vote and
// PreVote on kVote, AppendEntries on kAppendEntries, InstallSnapshot on
// kInstallSnapshot, ObserverHello on kAppendEntries, TimeoutNow on kVote.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::raft {

using Bytes = transport::Bytes;
using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

enum class EntryType : int8_t {
  kCommand = 0,  // data proposed by the application
  kNoop = 1,     // appended by every new leader to commit its predecessors' entries (§5.4.2)
  kConfig = 2,   // data: the new voter set (raft/membership.h), in effect once appended
};

// Version 1 added the directory ids and the snapshot's voter set (the fields
// read `if (c.version() >= 1)`); version 0 is the layout before them.
inline constexpr int16_t kMessageVersion = 1;

struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  EntryType type = EntryType::kCommand;
  Bytes data;

  bool operator==(const Entry&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("index", m.index);
    c("term", m.term);
    c("type", m.type);
    c("data", m.data);
  }
};

// Both RequestVote and the pre-vote: a pre-vote carries the term the
// candidate would campaign in (its term + 1) and changes nobody's term.
struct VoteRequest {
  uint64_t term = 0;
  uint64_t last_log_index = 0;
  uint64_t last_log_term = 0;
  bool pre_vote = false;

  bool operator==(const VoteRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("last_log_index", m.last_log_index);
    c("last_log_term", m.last_log_term);
    c("pre_vote", m.pre_vote);
    if (c.version() >= 1) c("directory_id", m.directory_id);
  }
  // The receiver's directory as the candidate's voter set records it; empty
  // if not recorded (v1). A receiver with another directory does not vote.
  std::string directory_id;
};

struct VoteResponse {
  uint64_t term = 0;  // a granted pre-vote echoes the request's term
  bool granted = false;
  bool pre_vote = false;

  bool operator==(const VoteResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("granted", m.granted);
    c("pre_vote", m.pre_vote);
    if (c.version() >= 1) c("directory_id", m.directory_id);
  }
  std::string directory_id;  // the voter's (v1)
};

// Also the heartbeat: no entries, prev_log_index at what the follower is
// known to hold, so it is always accepted and carries the commit index.
struct AppendEntriesRequest {
  uint64_t term = 0;
  uint64_t prev_log_index = 0;
  uint64_t prev_log_term = 0;
  uint64_t leader_commit = 0;
  std::vector<Entry> entries;
  // Numbers the leader's appends (heartbeats included) in its term, from 1.
  // The answer echoes it, which tells the leader whether the member answered
  // after it had acknowledged its match index (docs/raft.md, "A member that
  // lost its log").
  uint64_t request_id = 0;

  bool operator==(const AppendEntriesRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("prev_log_index", m.prev_log_index);
    c("prev_log_term", m.prev_log_term);
    c("leader_commit", m.leader_commit);
    c("entries", m.entries);
    c("request_id", m.request_id);
  }
};

struct AppendEntriesResponse {
  uint64_t term = 0;
  bool success = false;
  uint64_t match_index = 0;
  uint64_t rejected_index = 0;
  // On failure: the follower's last index at or before rejected_index whose
  // term is at most the request's prev_log_term, and that term. The leader
  // resumes after the last entry of its own log not newer than it, skipping
  // a whole conflicting term per round trip.
  uint64_t hint_index = 0;
  uint64_t hint_term = 0;
  uint64_t request_id = 0;  // the request's, echoed

  bool operator==(const AppendEntriesResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("success", m.success);
    c("match_index", m.match_index);
    c("rejected_index", m.rejected_index);
    c("hint_index", m.hint_index);
    c("hint_term", m.hint_term);
    c("request_id", m.request_id);
    if (c.version() >= 1) c("directory_id", m.directory_id);
  }
  std::string directory_id;  // the member's (v1): the leader learns who answers
};

struct InstallSnapshotRequest {
  uint64_t term = 0;
  uint64_t last_included_index = 0;
  uint64_t last_included_term = 0;
  uint64_t offset = 0;  // of `data` within the snapshot
  Bytes data;
  bool done = false;

  bool operator==(const InstallSnapshotRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("last_included_index", m.last_included_index);
    c("last_included_term", m.last_included_term);
    c("offset", m.offset);
    c("data", m.data);
    c("done", m.done);
    if (c.version() >= 1) c("membership", m.membership);
  }
  // The voter set in effect at last_included_index, encode_membership()'s
  // bytes; empty when the log has recorded none yet (v1).
  Bytes membership;
};

struct InstallSnapshotResponse {
  uint64_t term = 0;
  uint64_t last_included_index = 0;
  uint64_t next_offset = 0;
  bool done = false;

  bool operator==(const InstallSnapshotResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("last_included_index", m.last_included_index);
    c("next_offset", m.next_offset);
    c("done", m.done);
  }
};

// Sent by a node that is in neither the voters nor the observers of its
// config (a dynamic observer) to every voter: when it starts and whenever it
// has heard nothing from a leader for an election timeout. The leader then
// replicates to it as to an observer. It changes nobody's term or vote, so a
// node that is not listed cannot disturb elections.
struct ObserverHello {
  uint64_t term = 0;    // the sender's term, for logs only
  std::string address;  // how the members reach the sender; raft passes it on untouched

  bool operator==(const ObserverHello&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("address", m.address);
    if (c.version() >= 1) {
      c("directory_id", m.directory_id);
      c("forwarded", m.forwarded);
    }
  }
  std::string directory_id;  // the sender's (v1)
  // Passed on by a voter to the leader it follows; `from` is still the
  // observer's id (v1). A forwarded hello is not forwarded again.
  bool forwarded = false;
};

// A leader handing its leadership over (it is stopping): sent to every
// voter of its term. `candidate` campaigns at once, without a pre-vote; the
// others stop counting on the leader's lease, so they grant it their vote
// (Raft thesis §3.10, "leadership transfer").
struct TimeoutNow {
  uint64_t term = 0;
  NodeId candidate = kNoNode;

  bool operator==(const TimeoutNow&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("term", m.term);
    c("candidate", m.candidate);
  }
};

// The variant index is the wire kind; append new kinds at the end.
using MessageBody =
    std::variant<VoteRequest, VoteResponse, AppendEntriesRequest, AppendEntriesResponse,
                 InstallSnapshotRequest, InstallSnapshotResponse, ObserverHello, TimeoutNow>;

struct Message {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  MessageBody body;

  bool operator==(const Message&) const = default;
};

uint64_t message_term(const Message& message);
bool is_request(const Message& message);
// The reserved api key (transport/api.h) that carries this message.
transport::ApiKey api_key(const Message& message);
// "AppendEntriesRequest 1->2 term 3", for logs and test failures.
std::string describe(const Message& message);

// Encoded at `version` (kMessageVersion, or 0 for the layout before it).
std::string encode_message(const Message& message, int16_t version = kMessageVersion);
// Fails with kCorruptMessage naming the field and byte offset.
Result<Message> decode_message(std::span<const uint8_t> bytes, int16_t version = kMessageVersion);

}  // namespace mq::raft
