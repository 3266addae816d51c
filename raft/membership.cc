// Encoding and lookups of the quorum's voter set.
#include "raft/membership.h"

#include <algorithm>
#include <set>

namespace mq::raft {

const Voter* Membership::find(NodeId id) const {
  for (const Voter& voter : voters) {
    if (voter.id == id) return &voter;
  }
  return nullptr;
}

bool Membership::is_voter(NodeId id, std::string_view directory_id) const {
  const Voter* voter = find(id);
  return voter != nullptr && (voter->directory_id.empty() || voter->directory_id == directory_id);
}

std::string Membership::describe() const {
  std::string text;
  for (const Voter& voter : voters) {
    if (!text.empty()) text += ", ";
    text += std::to_string(voter.id);
    if (!voter.directory_id.empty()) text += " (directory " + voter.directory_id + ")";
  }
  return text.empty() ? "no voters" : text;
}

Membership with_voter(Membership membership, Voter voter) {
  membership = without_voter(std::move(membership), voter.id);
  auto at = std::lower_bound(membership.voters.begin(), membership.voters.end(), voter.id,
                             [](const Voter& v, NodeId id) { return v.id < id; });
  membership.voters.insert(at, std::move(voter));
  return membership;
}

Membership without_voter(Membership membership, NodeId id) {
  std::erase_if(membership.voters, [id](const Voter& voter) { return voter.id == id; });
  return membership;
}

Bytes encode_membership(const Membership& membership) {
  std::string out;
  transport::Frames records;
  transport::BodyEncoder encoder(0, &out, &records);
  encoder.put(membership);
  return Bytes(out.begin(), out.end());
}

Result<Membership> decode_membership(std::span<const uint8_t> bytes) {
  transport::BodyDecoder decoder(0, bytes, {}, ErrorCode::kCorruptMessage, "raft membership");
  Membership membership;
  decoder("membership", membership);
  MQ_RETURN_IF_ERROR(decoder.finish());
  if (membership.voters.empty()) {
    return Status(ErrorCode::kCorruptMessage, "raft membership: no voters");
  }
  std::set<NodeId> seen;
  for (const Voter& voter : membership.voters) {
    if (voter.id < 0 || !seen.insert(voter.id).second) {
      return Status(
          ErrorCode::kCorruptMessage,
          "raft membership: voter id " + std::to_string(voter.id) + " is negative or listed twice");
    }
  }
  return membership;
}

}  // namespace mq::raft
