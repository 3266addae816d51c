// Reassignment plans: the file format's checks, printing, and the generator.
#include "ctl/reassignment_plan.h"

#include <gtest/gtest.h>

#include <map>

namespace mq::ctl {
namespace {

std::string error_of(std::string_view text) {
  Result<std::vector<PlanEntry>> plan = parse_plan(text);
  EXPECT_FALSE(plan.is_ok()) << text;
  return plan.is_ok() ? "" : plan.status().message();
}

TEST(ReassignmentPlanTest, ParsesAPlanAndPrintsItBack) {
  std::string text = R"({"version": 1, "partitions": [
      {"topic": "orders", "partition": 0, "replicas": [2, 3, 4]},
      {"topic": "orders", "partition": 1, "replicas": [4], "log_dirs": ["any"]}]})";
  Result<std::vector<PlanEntry>> plan = parse_plan(text);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0], (PlanEntry{"orders", 0, {2, 3, 4}}));
  EXPECT_EQ((*plan)[1], (PlanEntry{"orders", 1, {4}}));
  Result<std::vector<PlanEntry>> again = parse_plan(plan_to_json(*plan));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(*again, *plan);
  EXPECT_TRUE(parse_plan(R"({"version": 1, "partitions": []})").is_ok());
}

TEST(ReassignmentPlanTest, BadPlansAreRefusedNamingTheEntry) {
  EXPECT_NE(error_of("{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(error_of("[]").find("must be an object"), std::string::npos);
  EXPECT_NE(error_of(R"({"partitions": []})").find("version"), std::string::npos);
  EXPECT_NE(error_of(R"({"version": 2, "partitions": []})").find("must be 1"), std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1})").find("partitions"), std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [], "extra": 1})").find("\"extra\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [{"partition": 0, "replicas": [1]}]})")
                .find("partitions[0].topic"),
            std::string::npos);
  EXPECT_NE(
      error_of(
          R"({"version": 1, "partitions": [{"topic": "t", "partition": -1, "replicas": [1]}]})")
          .find("partitions[0].partition"),
      std::string::npos);
  EXPECT_NE(
      error_of(R"({"version": 1, "partitions": [{"topic": "t", "partition": 0, "replicas": []}]})")
          .find("partitions[0].replicas"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [
      {"topic": "t", "partition": 0, "replicas": [1]},
      {"topic": "t", "partition": 1, "replicas": [2, 2]}]})")
                .find("partitions[1].replicas: broker 2 is listed twice"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [
      {"topic": "t", "partition": 0, "replicas": ["1"]}]})")
                .find("not a broker id"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [
      {"topic": "t", "partition": 0, "replicas": [1]},
      {"topic": "t", "partition": 0, "replicas": [2]}]})")
                .find("already listed"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"version": 1, "partitions": [
      {"topic": "t", "partition": 0, "replicas": [1], "log_dirs": ["/data"]}]})")
                .find("log_dirs"),
            std::string::npos);
}

TEST(ReassignmentPlanTest, GenerateMovesOnlyTheReplicasOnBrokersLeaving) {
  // Decommission broker 3 of {1,2,3,4}: its replicas go to the least loaded.
  std::vector<PlanEntry> current = {
      {"t", 0, {1, 2}}, {"t", 1, {2, 3}}, {"t", 2, {3, 1}}, {"t", 3, {1, 4}}, {"u", 0, {3}}};
  Result<std::vector<PlanEntry>> plan = generate_plan(current, {1, 2, 4});
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  // Kept: 1 x3, 2 x2, 4 x1 before filling.
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0], (PlanEntry{"t", 1, {2, 4}}));  // 4 least loaded
  // t-2 lost its preferred leader 3: the new first is whichever of its
  // replicas is first on the fewest partitions.
  EXPECT_EQ((*plan)[1].topic, "t");
  EXPECT_EQ((*plan)[1].partition, 2);
  EXPECT_EQ((*plan)[1].replicas.size(), 2u);
  EXPECT_NE(std::find((*plan)[1].replicas.begin(), (*plan)[1].replicas.end(), 1),
            (*plan)[1].replicas.end());
  EXPECT_EQ((*plan)[2].replicas.size(), 1u);
  for (const PlanEntry& e : *plan) {
    for (int32_t id : e.replicas) EXPECT_NE(id, 3);
  }
  // Every replica count stays; no broker holds more than one more than another.
  std::map<int32_t, int> load;
  std::map<std::pair<std::string, int32_t>, std::vector<int32_t>> after;
  for (const PlanEntry& e : current) after[{e.topic, e.partition}] = e.replicas;
  for (const PlanEntry& e : *plan) after[{e.topic, e.partition}] = e.replicas;
  for (const auto& [tp, replicas] : after) {
    for (int32_t id : replicas) ++load[id];
  }
  EXPECT_EQ(load[1] + load[2] + load[4], 9);
  EXPECT_LE(std::max({load[1], load[2], load[4]}) - std::min({load[1], load[2], load[4]}), 1);
}

TEST(ReassignmentPlanTest, GenerateOntoANewBrokerAndItsErrors) {
  std::vector<PlanEntry> current = {{"t", 0, {1, 2}}, {"t", 1, {2, 1}}};
  // Moving onto {2, 3} (adding 3, removing 1).
  Result<std::vector<PlanEntry>> plan = generate_plan(current, {2, 3});
  ASSERT_TRUE(plan.is_ok());
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].replicas.size(), 2u);
  EXPECT_EQ((*plan)[1], (PlanEntry{"t", 1, {2, 3}}));
  // Nothing to move.
  plan = generate_plan(current, {1, 2});
  ASSERT_TRUE(plan.is_ok());
  EXPECT_TRUE(plan->empty());
  EXPECT_FALSE(generate_plan(current, {}).is_ok());
  EXPECT_FALSE(generate_plan(current, {1, 1}).is_ok());
  Result<std::vector<PlanEntry>> too_few = generate_plan(current, {2});
  ASSERT_FALSE(too_few.is_ok());
  EXPECT_NE(too_few.status().message().find("needs 2 replicas but only 1 brokers"),
            std::string::npos)
      << too_few.status().message();
}

TEST(ReassignmentPlanTest, GenerateGivesABrokerJustAddedItsShare) {
  // Six partitions of RF 2 on brokers 1-3 (four replicas each, two leads each);
  // broker 4 joins.
  std::vector<PlanEntry> current = {{"t", 0, {1, 2}}, {"t", 1, {2, 3}}, {"t", 2, {3, 1}},
                                    {"t", 3, {1, 3}}, {"t", 4, {2, 1}}, {"t", 5, {3, 2}}};
  Result<std::vector<PlanEntry>> plan = generate_plan(current, {1, 2, 3, 4});
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  std::map<std::pair<std::string, int32_t>, std::vector<int32_t>> after;
  for (const PlanEntry& e : current) after[{e.topic, e.partition}] = e.replicas;
  for (const PlanEntry& e : *plan) after[{e.topic, e.partition}] = e.replicas;
  std::map<int32_t, int> load, leads;
  for (const auto& [tp, replicas] : after) {
    ASSERT_EQ(replicas.size(), 2u);
    EXPECT_NE(replicas[0], replicas[1]);
    for (int32_t id : replicas) ++load[id];
    ++leads[replicas.front()];
  }
  EXPECT_EQ(load[4], 3) << "12 replicas over 4 brokers";
  for (int32_t id : {1, 2, 3}) EXPECT_EQ(load[id], 3) << id;
  for (int32_t id : {1, 2, 3, 4}) EXPECT_GE(leads[id], 1) << id;
  EXPECT_LE(plan->size(), 4u) << "only what has to move to balance";
}

TEST(ReassignmentPlanTest, GenerateRaisesAndLowersTheReplicationFactor) {
  // A cluster grown from one node: three partitions on broker 1 alone.
  std::vector<PlanEntry> current = {{"t", 0, {1}}, {"t", 1, {1}}, {"t", 2, {1}}};
  Result<std::vector<PlanEntry>> plan = generate_plan(current, {1, 2, 3}, 3);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  ASSERT_EQ(plan->size(), 3u);
  std::map<int32_t, int> leads;
  for (const PlanEntry& e : *plan) {
    std::vector<int32_t> sorted = e.replicas;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<int32_t>{1, 2, 3})) << e.topic << "-" << e.partition;
    ++leads[e.replicas.front()];
  }
  EXPECT_EQ(leads.size(), 3u) << "each broker prefers one partition";
  // Already at the factor: nothing moves.
  std::vector<PlanEntry> three = {{"t", 0, {1, 2, 3}}};
  EXPECT_TRUE(generate_plan(three, {1, 2, 3}, 3)->empty());
  // Lower: the preferred leader stays, the last replicas go.
  Result<std::vector<PlanEntry>> lower = generate_plan(three, {1, 2, 3}, 2);
  ASSERT_TRUE(lower.is_ok());
  ASSERT_EQ(lower->size(), 1u);
  EXPECT_EQ((*lower)[0].replicas, (std::vector<int32_t>{1, 2}));
  // Errors.
  EXPECT_EQ(generate_plan(current, {1, 2}, 3).code(), ErrorCode::kInvalidReplicaAssignment);
  EXPECT_EQ(generate_plan(current, {1, 2}, 0).code(), ErrorCode::kInvalidReplicationFactor);
}

TEST(ReassignmentPlanTest, CopyProgressComparesEachNewReplicaWithItsLeader) {
  client::TopicPartition a{"orders", 0}, b{"orders", 1}, c{"orders", 2};
  std::vector<client::OngoingReassignment> moving = {
      {.partition = a, .adding_replicas = {4, 5}, .leader_id = 1},
      {.partition = b, .adding_replicas = {4}, .leader_id = 2},
      {.partition = c, .adding_replicas = {6}, .leader_id = 3},  // leader's size unknown
  };
  std::map<std::pair<int32_t, client::TopicPartition>, int64_t> sizes = {
      {{1, a}, 1000},
      {{4, a}, 250},   // a quarter copied
      {{5, a}, 1200},  // more than the leader (its tail): counted as all
      {{2, b}, 600},   // replica 4 of b has nothing yet
  };
  CopyProgress p = copy_progress(moving, sizes);
  EXPECT_EQ(p.replicas, 3u);
  EXPECT_EQ(p.total_bytes, 1000 + 1000 + 600);
  EXPECT_EQ(p.copied_bytes, 250 + 1000 + 0);
  EXPECT_EQ(copy_progress({}, sizes).replicas, 0u);
}

}  // namespace
}  // namespace mq::ctl
