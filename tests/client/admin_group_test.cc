// The admin client's group calls against the fake broker: list, describe
// with lag, delete groups and offsets, and every offset-reset mode's plan
// (clamping, CSV errors, partition selection), its application, and the
// refusal to reset a group with members.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/client/fake_broker.h"

namespace mq::client {
namespace {

using testing::FakeBroker;
constexpr int64_t kHourMs = 3'600'000;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AdminGroups : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string();
    Result<std::unique_ptr<Admin>> admin = Admin::create(
        AdminConfig{.bootstrap_servers = broker_.bootstrap(), .request_timeout_ms = 5'000});
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(admin).value();
    // t: three partitions of ten records; record i is (10 - i) hours old.
    ASSERT_TRUE(broker_.create_topic("t", 3).is_ok());
    Result<std::unique_ptr<Producer>> producer =
        Producer::create(ProducerConfig{.bootstrap_servers = broker_.bootstrap()});
    ASSERT_TRUE(producer.is_ok());
    for (int32_t p = 0; p < 3; ++p) {
      for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE((*producer)
                        ->send_sync({.topic = "t",
                                     .value = std::to_string(i),
                                     .partition = p,
                                     .timestamp_ms = base_ms_ - (10 - i) * kHourMs})
                        .is_ok());
      }
    }
  }

  // A subscribed consumer of group g, polled until it owns every partition.
  std::unique_ptr<Consumer> active_member() {
    Result<std::unique_ptr<Consumer>> consumer =
        Consumer::create(ConsumerConfig{.bootstrap_servers = broker_.bootstrap(),
                                        .client_id = "worker",
                                        .auto_offset_reset = OffsetReset::kEarliest,
                                        .fetch_max_wait_ms = 50,
                                        .request_timeout_ms = 5'000,
                                        .group_id = "g",
                                        .session_timeout_ms = 3'000,
                                        .heartbeat_interval_ms = 100,
                                        .enable_auto_commit = false});
    EXPECT_TRUE(consumer.is_ok());
    EXPECT_TRUE((*consumer)->subscribe({"t"}).is_ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((*consumer)->assignment().size() < 3 && std::chrono::steady_clock::now() < deadline) {
      EXPECT_TRUE((*consumer)->poll(20).is_ok());
    }
    EXPECT_EQ((*consumer)->assignment().size(), 3u);
    return std::move(consumer).value();
  }

  // Plans `spec` for group g; the new offset per partition.
  std::map<TopicPartition, int64_t> plan(OffsetResetSpec spec) {
    Result<OffsetResetPlan> plan = admin_->plan_offset_reset("g", spec);
    EXPECT_TRUE(plan.is_ok()) << plan.status().to_string();
    std::map<TopicPartition, int64_t> out;
    if (!plan.is_ok()) return out;
    EXPECT_EQ(plan->group_id, "g");
    for (const OffsetResetEntry& e : plan->entries) out[e.partition] = e.new_offset;
    return out;
  }

  const int64_t base_ms_ = now_ms();
  FakeBroker broker_;
  std::unique_ptr<Admin> admin_;
};

using Offsets = std::map<TopicPartition, int64_t>;
Offsets all_three(int64_t p0, int64_t p1, int64_t p2) {
  return {{{"t", 0}, p0}, {{"t", 1}, p1}, {{"t", 2}, p2}};
}

TEST_F(AdminGroups, ListsAndDescribesMembersAssignmentsAndLag) {
  auto member = active_member();
  ASSERT_TRUE(member->commit_sync({{{"t", 0}, 4}, {{"t", 1}, 10}}).is_ok());
  Result<std::vector<GroupListing>> groups = admin_->list_groups();
  ASSERT_TRUE(groups.is_ok()) << groups.status().to_string();
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].group_id, "g");
  EXPECT_EQ((*groups)[0].state, "Stable");
  EXPECT_EQ((*groups)[0].protocol_type, "consumer");
  EXPECT_EQ((*groups)[0].coordinator_id, FakeBroker::kNodeId);

  Result<GroupDescription> group = admin_->describe_group("g");
  ASSERT_TRUE(group.is_ok()) << group.status().to_string();
  EXPECT_EQ(group->state, "Stable");
  EXPECT_EQ(group->assignor, "sticky");
  EXPECT_EQ(group->coordinator_id, FakeBroker::kNodeId);
  ASSERT_EQ(group->members.size(), 1u);
  const GroupMemberDescription& m = group->members[0];
  EXPECT_EQ(m.member_id, member->group_metadata().member_id);
  EXPECT_EQ(m.client_id, "worker");
  EXPECT_EQ(m.client_host, "127.0.0.1");
  EXPECT_EQ(m.topics, std::vector<std::string>{"t"});
  EXPECT_EQ(m.assignment, (std::vector<TopicPartition>{{"t", 0}, {"t", 1}, {"t", 2}}));
  ASSERT_EQ(group->partitions.size(), 3u);
  const GroupPartitionLag& p0 = group->partitions[0];
  EXPECT_EQ(p0.partition, (TopicPartition{"t", 0}));
  EXPECT_EQ(p0.committed_offset, 4);
  EXPECT_EQ(p0.log_end_offset, 10);
  EXPECT_EQ(p0.lag, 6);
  EXPECT_EQ(p0.member_id, m.member_id);
  EXPECT_EQ(group->partitions[1].lag, 0);
  EXPECT_EQ(group->partitions[2].committed_offset, -1);
  EXPECT_EQ(group->partitions[2].lag, -1) << "no commit, no lag";
  EXPECT_EQ(group->total_lag, 6);

  Result<GroupDescription> unknown = admin_->describe_group("nobody");
  ASSERT_TRUE(unknown.is_ok()) << unknown.status().to_string();
  EXPECT_EQ(unknown->state, "Dead");
}

TEST_F(AdminGroups, DeletesOnlyEmptyGroupsAndOffsetsOfUnsubscribedTopics) {
  auto member = active_member();
  ASSERT_TRUE(member->commit_sync({{{"t", 0}, 4}}).is_ok());
  Status offsets = admin_->delete_group_offsets("g", "t");
  EXPECT_EQ(offsets.code(), ErrorCode::kGroupSubscribedToTopic) << offsets.to_string();
  Result<std::vector<ItemResult>> deleted = admin_->delete_groups({"g"});
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_EQ((*deleted)[0].status.code(), ErrorCode::kGroupNotEmpty);
  EXPECT_NE((*deleted)[0].status.message().find("stop its consumers"), std::string::npos);
  ASSERT_TRUE(member->close().is_ok());

  EXPECT_TRUE(admin_->delete_group_offsets("g", "t").is_ok());
  EXPECT_FALSE(broker_.groups().committed("g", "t", 0).has_value());
  EXPECT_EQ(admin_->delete_group_offsets("g", "t").code(), ErrorCode::kNotFound);
  deleted = admin_->delete_groups({"g", "nobody"});
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_TRUE((*deleted)[0].status.is_ok()) << (*deleted)[0].status.to_string();
  EXPECT_EQ((*deleted)[1].status.code(), ErrorCode::kGroupIdNotFound);
  EXPECT_TRUE(admin_->list_groups()->empty());
}

class AdminOffsetReset : public AdminGroups {
 protected:
  void SetUp() override {
    AdminGroups::SetUp();
    broker_.groups().set_committed("g", "t", 0, 4);
    broker_.groups().set_committed("g", "t", 1, 8);
  }
};

TEST_F(AdminOffsetReset, PlansEveryModeClampedToTheLog) {
  using Mode = OffsetResetMode;
  EXPECT_EQ(plan({.mode = Mode::kToEarliest}), all_three(0, 0, 0));
  EXPECT_EQ(plan({.mode = Mode::kToLatest}), all_three(10, 10, 10));
  EXPECT_EQ(plan({.mode = Mode::kToOffset, .value = 5}), all_three(5, 5, 5));
  EXPECT_EQ(plan({.mode = Mode::kToOffset, .value = 50}), all_three(10, 10, 10));
  // t-2 has no commit: it shifts from where a consumer would start, the end.
  EXPECT_EQ(plan({.mode = Mode::kShiftBy, .value = -6}), all_three(0, 2, 4));
  EXPECT_EQ(plan({.mode = Mode::kShiftBy, .value = 5}), all_three(9, 10, 10));
  // Record 7 is the first no older than 3.5 hours.
  EXPECT_EQ(plan({.mode = Mode::kToDatetime, .value = base_ms_ - 7 * kHourMs / 2}),
            all_three(7, 7, 7));
  EXPECT_EQ(plan({.mode = Mode::kToDatetime, .value = base_ms_ + kHourMs}), all_three(10, 10, 10))
      << "nothing that recent: the end";
  EXPECT_EQ(plan({.mode = Mode::kByDuration, .value = 7 * kHourMs / 2}), all_three(7, 7, 7));
  EXPECT_EQ(plan({.mode = Mode::kToCurrent}), all_three(4, 8, 10));
  EXPECT_EQ(plan({.mode = Mode::kFromCsv, .csv = "t,0,3\n\n t , 2 , 99\r\n"}),
            (Offsets{{{"t", 0}, 3}, {{"t", 2}, 10}}));
}

TEST_F(AdminOffsetReset, PlansReportCurrentOffsetsAndSelectPartitions) {
  Result<OffsetResetPlan> full = admin_->plan_offset_reset("g", {});
  ASSERT_TRUE(full.is_ok()) << full.status().to_string();
  ASSERT_EQ(full->entries.size(), 3u) << "every partition of the topics the group has offsets for";
  EXPECT_EQ(full->entries[0].current_offset, 4);
  EXPECT_EQ(full->entries[1].current_offset, 8);
  EXPECT_EQ(full->entries[2].current_offset, -1);

  Result<TopicSelection> selection = parse_topic_selection("t:1,2");
  ASSERT_TRUE(selection.is_ok());
  EXPECT_EQ(plan({.mode = OffsetResetMode::kToLatest, .topics = {*selection}}),
            (Offsets{{{"t", 1}, 10}, {{"t", 2}, 10}}));
  Result<OffsetResetPlan> missing =
      admin_->plan_offset_reset("g", {.topics = {{.topic = "t", .partitions = {7}}}});
  EXPECT_EQ(missing.code(), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(missing.status().message().find("no partition 7 (it has 3)"), std::string::npos)
      << missing.status().message();
  EXPECT_EQ(admin_->plan_offset_reset("g", {.topics = {{.topic = "nope"}}}).code(),
            ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(admin_->plan_offset_reset("fresh", {}).code(), ErrorCode::kNotFound)
      << "a group without offsets needs its topics named";
}

TEST_F(AdminOffsetReset, CsvErrorsNameTheLine) {
  struct Case {
    const char* csv;
    const char* expected;
  };
  const Case cases[] = {
      {"t,0\n", "CSV line 1 ('t,0'): expected topic,partition,offset"},
      {"t,0,3\nt,x,1\n", "CSV line 2 ('t,x,1'): the partition is not a number >= 0"},
      {"\n\nt,0,-1", "CSV line 3 ('t,0,-1'): the offset is not a number >= 0"},
      {",0,1", "CSV line 1 (',0,1'): the topic is empty"},
      {"t,0,3\nt,0,4", "CSV line 2 ('t,0,4'): t-0 is listed twice"},
      {"\n \n", "the CSV names no partitions"},
  };
  for (const Case& c : cases) {
    Result<OffsetResetPlan> plan =
        admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kFromCsv, .csv = c.csv});
    EXPECT_EQ(plan.code(), ErrorCode::kInvalidRequest) << c.csv;
    EXPECT_EQ(plan.status().message(), c.expected);
  }
  EXPECT_EQ(
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kFromCsv, .csv = "t,5,1"}).code(),
      ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(AdminOffsetReset, DryRunWritesNothingAndApplyWritesThePlan) {
  Result<OffsetResetPlan> plan =
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kToOffset, .value = 6});
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  EXPECT_EQ(broker_.groups().committed("g", "t", 0), 4);
  EXPECT_FALSE(broker_.groups().committed("g", "t", 2).has_value());
  Status applied = admin_->apply_offset_reset(*plan);
  ASSERT_TRUE(applied.is_ok()) << applied.to_string();
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(broker_.groups().committed("g", "t", p), 6);
}

TEST_F(AdminOffsetReset, RefusesToResetAGroupWithMembersBeforeWritingAnything) {
  Result<OffsetResetPlan> plan =
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kToEarliest});
  ASSERT_TRUE(plan.is_ok());
  auto member = active_member();
  Result<OffsetResetPlan> refused =
      admin_->plan_offset_reset("g", {.mode = OffsetResetMode::kToEarliest});
  EXPECT_EQ(refused.code(), ErrorCode::kGroupNotEmpty);
  EXPECT_EQ(refused.status().message(),
            "group g has 1 active member (state Stable): stop its consumers, then reset");
  Status applied = admin_->apply_offset_reset(*plan);
  EXPECT_EQ(applied.code(), ErrorCode::kGroupNotEmpty);
  EXPECT_EQ(applied.message(), refused.status().message());
  EXPECT_EQ(broker_.groups().committed("g", "t", 0), 4) << "nothing written";
  EXPECT_EQ(broker_.groups().requests(transport::ApiKey::kOffsetCommit), 0);
}

TEST(AdminTopicSelection, ParsesTopicsWithOptionalPartitions) {
  Result<TopicSelection> all = parse_topic_selection("orders");
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(all->topic, "orders");
  EXPECT_TRUE(all->partitions.empty());
  Result<TopicSelection> some = parse_topic_selection("orders:0, 2,5");
  ASSERT_TRUE(some.is_ok());
  EXPECT_EQ(some->partitions, (std::vector<int32_t>{0, 2, 5}));
  for (const char* bad : {"", ":1", "orders:", "orders:x", "orders:1,-2"}) {
    EXPECT_EQ(parse_topic_selection(bad).code(), ErrorCode::kInvalidRequest) << bad;
  }
}

}  // namespace
}  // namespace mq::client
