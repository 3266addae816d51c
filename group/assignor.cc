// Assignors; docs/protocol.md §15.3 states each rule.
#include "group/assignor.h"

#include <algorithm>
#include <set>
#include <utility>

#include "transport/consumer_protocol.h"

namespace mq::group {
namespace {

using transport::kAssignorBroadcast;
using transport::kAssignorRange;
using transport::kAssignorRoundRobin;
using transport::kAssignorSticky;

using TopicPartition = std::pair<std::string, int32_t>;

// Members sorted by id, each with its subscribed topics as a set.
struct Eligibility {
  std::vector<std::string> members;
  std::map<std::string, std::set<std::string>> topics_of;
  bool subscribed(const std::string& member, const std::string& topic) const {
    return topics_of.at(member).count(topic) > 0;
  }
};

Eligibility eligibility(const std::vector<MemberSubscription>& members) {
  Eligibility e;
  for (const auto& m : members) {
    e.members.push_back(m.member_id);
    e.topics_of[m.member_id].insert(m.topics.begin(), m.topics.end());
  }
  std::sort(e.members.begin(), e.members.end());
  return e;
}

// Every partition of a subscribed, existing topic, sorted.
std::vector<TopicPartition> subscribed_partitions(
    const std::vector<MemberSubscription>& members,
    const std::map<std::string, int32_t>& partition_counts) {
  std::set<std::string> topics;
  for (const auto& m : members) topics.insert(m.topics.begin(), m.topics.end());
  std::vector<TopicPartition> out;
  for (const auto& topic : topics) {
    auto count = partition_counts.find(topic);
    if (count == partition_counts.end()) continue;
    for (int32_t p = 0; p < count->second; p++) out.emplace_back(topic, p);
  }
  return out;
}

GroupAssignment empty_for(const std::vector<MemberSubscription>& members) {
  GroupAssignment out;
  for (const auto& m : members) out[m.member_id];
  return out;
}

void sort_partitions(GroupAssignment& assignment) {
  for (auto& [member, topics] : assignment) {
    for (auto& [topic, partitions] : topics) std::sort(partitions.begin(), partitions.end());
  }
}

GroupAssignment range(const std::vector<MemberSubscription>& members,
                      const std::map<std::string, int32_t>& partition_counts) {
  GroupAssignment out = empty_for(members);
  Eligibility e = eligibility(members);
  std::set<std::string> topics;
  for (const auto& m : members) topics.insert(m.topics.begin(), m.topics.end());
  for (const auto& topic : topics) {
    auto count = partition_counts.find(topic);
    if (count == partition_counts.end()) continue;
    std::vector<std::string> subscribers;
    for (const auto& member : e.members) {
      if (e.subscribed(member, topic)) subscribers.push_back(member);
    }
    const int32_t n = static_cast<int32_t>(subscribers.size());
    const int32_t per = count->second / n;
    const int32_t extra = count->second % n;
    int32_t next = 0;
    for (int32_t i = 0; i < n; i++) {
      int32_t take = per + (i < extra ? 1 : 0);
      if (take == 0) continue;
      auto& partitions = out[subscribers[i]][topic];
      for (int32_t k = 0; k < take; k++) partitions.push_back(next++);
    }
  }
  return out;
}

GroupAssignment round_robin(const std::vector<MemberSubscription>& members,
                            const std::map<std::string, int32_t>& partition_counts) {
  GroupAssignment out = empty_for(members);
  Eligibility e = eligibility(members);
  size_t turn = 0;
  for (const auto& [topic, partition] : subscribed_partitions(members, partition_counts)) {
    // The next member in turn that subscribes to the topic (one always does).
    for (size_t tried = 0; tried < e.members.size(); tried++, turn++) {
      const std::string& member = e.members[turn % e.members.size()];
      if (!e.subscribed(member, topic)) continue;
      out[member][topic].push_back(partition);
      turn++;
      break;
    }
  }
  return out;
}

GroupAssignment sticky(const std::vector<MemberSubscription>& members,
                       const std::map<std::string, int32_t>& partition_counts) {
  Eligibility e = eligibility(members);
  std::vector<TopicPartition> all = subscribed_partitions(members, partition_counts);
  std::map<std::string, std::vector<TopicPartition>> owns;
  for (const auto& member : e.members) owns[member];
  std::set<TopicPartition> taken;

  // Fair share when everyone could take everything; members above it give
  // partitions back in the balancing pass below anyway.
  const size_t ceiling =
      e.members.empty() ? 0 : (all.size() + e.members.size() - 1) / e.members.size();
  std::set<TopicPartition> exists(all.begin(), all.end());
  for (const auto& m : members) {
    for (const auto& [topic, partitions] : m.owned) {
      if (!e.subscribed(m.member_id, topic)) continue;
      for (int32_t p : partitions) {
        TopicPartition tp{topic, p};
        if (!exists.count(tp) || taken.count(tp) || owns[m.member_id].size() >= ceiling) continue;
        owns[m.member_id].push_back(tp);
        taken.insert(tp);
      }
    }
  }
  // The rest, one at a time, to the eligible member with the fewest.
  for (const auto& tp : all) {
    if (taken.count(tp)) continue;
    const std::string* best = nullptr;
    for (const auto& member : e.members) {
      if (!e.subscribed(member, tp.first)) continue;
      if (best == nullptr || owns[member].size() < owns[*best].size()) best = &member;
    }
    owns[*best].push_back(tp);
    taken.insert(tp);
  }
  // Balance: move from a member with at least two more than an eligible other.
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& from : e.members) {
      for (const auto& to : e.members) {
        if (owns[from].size() < owns[to].size() + 2) continue;
        auto& source = owns[from];
        // The last-placed partition the receiver can take.
        for (auto it = source.rbegin(); it != source.rend(); ++it) {
          if (!e.subscribed(to, it->first)) continue;
          owns[to].push_back(*it);
          source.erase(std::next(it).base());
          moved = true;
          break;
        }
        if (moved) break;
      }
      if (moved) break;
    }
  }
  GroupAssignment out = empty_for(members);
  for (const auto& [member, tps] : owns) {
    for (const auto& [topic, partition] : tps) out[member][topic].push_back(partition);
  }
  return out;
}

GroupAssignment broadcast(const std::vector<MemberSubscription>& members,
                          const std::map<std::string, int32_t>& partition_counts) {
  GroupAssignment out = empty_for(members);
  for (const auto& m : members) {
    for (const auto& topic : std::set<std::string>(m.topics.begin(), m.topics.end())) {
      auto count = partition_counts.find(topic);
      if (count == partition_counts.end()) continue;
      auto& partitions = out[m.member_id][topic];
      for (int32_t p = 0; p < count->second; p++) partitions.push_back(p);
    }
  }
  return out;
}

}  // namespace

bool is_known_assignor(std::string_view name) {
  return name == kAssignorRange || name == kAssignorRoundRobin || name == kAssignorSticky ||
         name == kAssignorBroadcast;
}

GroupAssignment assign(std::string_view assignor, const std::vector<MemberSubscription>& members,
                       const std::map<std::string, int32_t>& partition_counts) {
  GroupAssignment out;
  if (assignor == kAssignorRange) {
    out = range(members, partition_counts);
  } else if (assignor == kAssignorRoundRobin) {
    out = round_robin(members, partition_counts);
  } else if (assignor == kAssignorSticky) {
    out = sticky(members, partition_counts);
  } else {
    out = broadcast(members, partition_counts);
  }
  sort_partitions(out);
  return out;
}

}  // namespace mq::group
