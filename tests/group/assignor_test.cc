// The assignors of docs/protocol.md §15.3.
#include "group/assignor.h"

#include <gtest/gtest.h>

#include <set>

namespace mq::group {
namespace {

using Counts = std::map<std::string, int32_t>;

std::vector<MemberSubscription> members(int n, std::vector<std::string> topics) {
  std::vector<MemberSubscription> out;
  for (int i = 0; i < n; i++) out.push_back({"m" + std::to_string(i), topics, {}});
  return out;
}

// Each partition of `counts` owned exactly once (or, for broadcast, by everyone).
void expect_each_owned_once(const GroupAssignment& a, const Counts& counts) {
  std::map<std::pair<std::string, int32_t>, int> owners;
  for (const auto& [member, topics] : a) {
    for (const auto& [topic, partitions] : topics) {
      for (int32_t p : partitions) owners[{topic, p}]++;
    }
  }
  for (const auto& [topic, count] : counts) {
    for (int32_t p = 0; p < count; p++) {
      EXPECT_EQ((owners[{topic, p}]), 1) << topic << "-" << p;
    }
  }
}

size_t total(const GroupAssignment& a, const std::string& member) {
  size_t n = 0;
  for (const auto& [topic, partitions] : a.at(member)) n += partitions.size();
  return n;
}

TEST(AssignorTest, RangeCutsEachTopicIntoContiguousRanges) {
  Counts counts{{"t", 7}};
  auto a = assign("range", members(3, {"t"}), counts);
  expect_each_owned_once(a, counts);
  EXPECT_EQ(a["m0"]["t"], (std::vector<int32_t>{0, 1, 2}));
  EXPECT_EQ(a["m1"]["t"], (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(a["m2"]["t"], (std::vector<int32_t>{5, 6}));
}

TEST(AssignorTest, RoundRobinDealsPartitionsInTurnSkippingUnsubscribed) {
  Counts counts{{"a", 3}, {"b", 2}};
  auto subs = members(2, {"a"});
  subs[1].topics.push_back("b");
  auto a = assign("roundrobin", subs, counts);
  expect_each_owned_once(a, counts);
  EXPECT_EQ(a["m0"]["a"], (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(a["m1"]["a"], (std::vector<int32_t>{1}));
  EXPECT_EQ(a["m1"]["b"], (std::vector<int32_t>{0, 1})) << "m0 does not subscribe to b";
}

TEST(AssignorTest, StickyBalancesAndKeepsPartitionsWithTheirOwners) {
  Counts counts{{"t", 6}};
  auto first = assign("sticky", members(2, {"t"}), counts);
  expect_each_owned_once(first, counts);
  EXPECT_EQ(total(first, "m0"), 3u);
  EXPECT_EQ(total(first, "m1"), 3u);

  // A third member joins: each old member gives up exactly one partition.
  auto subs = members(3, {"t"});
  subs[0].owned = first["m0"];
  subs[1].owned = first["m1"];
  auto second = assign("sticky", subs, counts);
  expect_each_owned_once(second, counts);
  for (const auto& m : {"m0", "m1", "m2"}) EXPECT_EQ(total(second, m), 2u) << m;
  for (const auto& m : {"m0", "m1"}) {
    std::set<int32_t> before(first[m]["t"].begin(), first[m]["t"].end());
    int kept = 0;
    for (int32_t p : second[m]["t"]) kept += before.count(p);
    EXPECT_EQ(kept, 2) << m << " keeps what it can";
  }

  // m1 leaves: its two partitions go to the others, nothing else moves.
  std::vector<MemberSubscription> after = {subs[0], subs[2]};
  after[0].owned = second["m0"];
  after[1].owned = second["m2"];
  auto third = assign("sticky", after, counts);
  expect_each_owned_once(third, counts);
  EXPECT_EQ(total(third, "m0"), 3u);
  EXPECT_EQ(total(third, "m2"), 3u);
  for (const auto& m : {"m0", "m2"}) {
    for (int32_t p : second[m]["t"]) {
      EXPECT_NE(std::find(third[m]["t"].begin(), third[m]["t"].end(), p), third[m]["t"].end());
    }
  }
}

TEST(AssignorTest, StickyIgnoresClaimsOnPartitionsThatAreGoneOrClaimedTwice) {
  Counts counts{{"t", 2}};
  auto subs = members(2, {"t"});
  subs[0].owned = {{"t", {0, 1, 5}}};  // 5 does not exist
  subs[1].owned = {{"t", {0}}};        // already claimed by m0
  auto a = assign("sticky", subs, counts);
  expect_each_owned_once(a, counts);
  EXPECT_EQ(total(a, "m0"), 1u);
  EXPECT_EQ(total(a, "m1"), 1u);
}

TEST(AssignorTest, BroadcastGivesEveryMemberEverything) {
  Counts counts{{"t", 3}};
  auto a = assign("broadcast", members(3, {"t"}), counts);
  for (const auto& m : {"m0", "m1", "m2"}) {
    EXPECT_EQ(a[m]["t"], (std::vector<int32_t>{0, 1, 2}));
  }
}

TEST(AssignorTest, UnknownTopicsAndMoreMembersThanPartitions) {
  Counts counts{{"t", 2}};
  for (const char* name : {"range", "roundrobin", "sticky"}) {
    auto a = assign(name, members(4, {"t", "missing"}), counts);
    expect_each_owned_once(a, counts);
    EXPECT_EQ(a.size(), 4u) << "every member appears";
    EXPECT_EQ(a["m0"].count("missing"), 0u);
  }
  EXPECT_TRUE(is_known_assignor("sticky"));
  EXPECT_FALSE(is_known_assignor("cooperative-sticky"));
}

TEST(AssignorTest, ManyMembersManyTopicsStayBalanced) {
  Counts counts;
  for (int t = 0; t < 5; t++) counts["t" + std::to_string(t)] = 7;
  std::vector<std::string> topics;
  for (const auto& [t, n] : counts) topics.push_back(t);
  for (const char* name : {"roundrobin", "sticky"}) {
    auto a = assign(name, members(6, topics), counts);
    expect_each_owned_once(a, counts);
    size_t lo = SIZE_MAX, hi = 0;
    for (const auto& [m, t] : a) {
      lo = std::min(lo, total(a, m));
      hi = std::max(hi, total(a, m));
    }
    EXPECT_LE(hi - lo, 1u) << name;
  }
}

}  // namespace
}  // namespace mq::group
