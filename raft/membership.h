// The voter set of a quorum, as the log records it (docs/raft.md,
// "Membership"). A configuration entry (EntryType::kConfig) carries the
// whole new set; a node follows the latest one in its log, committed or not
// (Raft thesis §4.1), and the snapshot carries the set in effect at its
// index. Before any configuration entry the set comes from the static
// configuration (RaftConfig::voters), with no directory ids.
//
//   Membership                      Voter
//     voters  array of Voter          id            int32
//                                     directory_id  string  (empty: not known yet)
//                                     address       string  (opaque to raft)
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "raft/messages.h"

namespace mq::raft {

struct Voter {
  NodeId id = kNoNode;
  // The voter's quorum directory, named when it was created: a node that
  // lost its directory comes back with another id and is not this voter
  // until the leader has seen it catch up (docs/raft.md, "A voter that lost
  // its directory"). Empty: not learned yet, any directory matches.
  std::string directory_id;
  std::string address;  // where the members reach it; raft passes it on untouched

  bool operator==(const Voter&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("id", m.id);
    c("directory_id", m.directory_id);
    c("address", m.address);
  }
};

struct Membership {
  std::vector<Voter> voters;  // by id, no id twice

  bool operator==(const Membership&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("voters", m.voters);
  }

  const Voter* find(NodeId id) const;
  bool contains(NodeId id) const { return find(id) != nullptr; }
  // `id` is a voter and `directory_id` is its directory (or its directory
  // is not known yet).
  bool is_voter(NodeId id, std::string_view directory_id) const;
  size_t quorum() const { return voters.size() / 2 + 1; }
  // "1, 2@<dir>, 3"-style summary for logs.
  std::string describe() const;
};

// The set with `voter` added (kept sorted by id) or `id` removed.
Membership with_voter(Membership membership, Voter voter);
Membership without_voter(Membership membership, NodeId id);

Bytes encode_membership(const Membership& membership);
// kCorruptMessage naming the field and offset; also for an empty set or an
// id listed twice.
Result<Membership> decode_membership(std::span<const uint8_t> bytes);

}  // namespace mq::raft
