// The server-side assignors of consumer groups (docs/protocol.md §15.3):
// range, roundrobin, sticky and broadcast. Pure functions of the members'
// subscriptions, the topics' partition counts and, for sticky, who owned what.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mq::group {

struct MemberSubscription {
  std::string member_id;
  std::vector<std::string> topics;
  // topic -> partitions the member owned last generation (sticky only).
  std::map<std::string, std::vector<int32_t>> owned;
};

// member id -> topic -> partitions (sorted). Every member appears, maybe with nothing.
using GroupAssignment = std::map<std::string, std::map<std::string, std::vector<int32_t>>>;

bool is_known_assignor(std::string_view name);

// Topics missing from `partition_counts` (not created yet) are left out.
// `assignor` must be known.
GroupAssignment assign(std::string_view assignor, const std::vector<MemberSubscription>& members,
                       const std::map<std::string, int32_t>& partition_counts);

}  // namespace mq::group
