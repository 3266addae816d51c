// The consumer in a group, against the fake broker's coordinator: join
// (MEMBER_ID_REQUIRED, sync, heartbeats), positions from committed offsets,
// rebalances with revoke-before-assign (heartbeats going on until the member
// rejoins), fenced commits, auto-commit, async commits, close, the poll
// interval, broadcast and manual assignment.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client/consumer.h"
#include "client/producer.h"
#include "tests/client/fake_broker.h"
#include "tests/support/eventually.h"

namespace mq::client {
namespace {

using mq::testing::eventually;
using testing::FakeBroker;
using transport::ApiKey;

class ConsumerGroup : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.status().is_ok()) << broker_.status().to_string();
    ASSERT_TRUE(broker_.create_topic("t", 3).is_ok());
  }

  ConsumerConfig config(const std::string& client_id = "c") {
    ConsumerConfig c;
    c.bootstrap_servers = broker_.bootstrap();
    c.client_id = client_id;
    c.group_id = "g";
    c.auto_offset_reset = OffsetReset::kEarliest;
    c.fetch_max_wait_ms = 50;
    c.request_timeout_ms = 5'000;
    c.session_timeout_ms = 3'000;
    c.heartbeat_interval_ms = 50;
    c.max_poll_interval_ms = 5'000;
    c.enable_auto_commit = false;
    return c;
  }

  std::unique_ptr<Consumer> make(const ConsumerConfig& c) {
    Result<std::unique_ptr<Consumer>> consumer = Consumer::create(c);
    EXPECT_TRUE(consumer.is_ok()) << consumer.status().to_string();
    return consumer.is_ok() ? std::move(consumer).value() : nullptr;
  }

  // Ten records "<partition>:<i>" in each partition of t.
  void produce_per_partition(int count) {
    Result<std::unique_ptr<Producer>> producer =
        Producer::create(ProducerConfig{.bootstrap_servers = broker_.bootstrap()});
    ASSERT_TRUE(producer.is_ok());
    for (int32_t p = 0; p < 3; ++p) {
      for (int i = 0; i < count; ++i) {
        ASSERT_TRUE((*producer)
                        ->send_sync({.topic = "t",
                                     .value = std::to_string(p) + ":" + std::to_string(i),
                                     .partition = p})
                        .is_ok());
      }
    }
  }

  // Polls every consumer in turn until `done` or 10 s; what they return
  // collects in records_[consumer].
  void poll_until(std::vector<Consumer*> consumers, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      for (Consumer* consumer : consumers) {
        Result<std::vector<ConsumerRecord>> records = consumer->poll(20);
        EXPECT_TRUE(records.is_ok()) << records.status().to_string();
        if (records.is_ok()) {
          records_[consumer].insert(records_[consumer].end(), records->begin(), records->end());
        }
      }
    }
    EXPECT_TRUE(done()) << "condition not reached in 10 s";
  }

  std::map<Consumer*, std::vector<ConsumerRecord>> records_;
  FakeBroker broker_;
};

// Callbacks that log "revoked" and "assigned" in order.
RebalanceCallbacks recording_to(std::vector<std::string>* events) {
  return {.on_revoked = [events](auto&) { events->push_back("revoked"); },
          .on_assigned = [events](auto&) { events->push_back("assigned"); }};
}

std::vector<TopicPartition> all_of_t() {
  return {{"t", 0}, {"t", 1}, {"t", 2}};
}

TEST_F(ConsumerGroup, JoinsWithTheMemberIdTheCoordinatorGivesAndHeartbeatsBetweenPolls) {
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment() == all_of_t(); });
  GroupMetadata group = consumer->group_metadata();
  EXPECT_EQ(group.group_id, "g");
  EXPECT_EQ(group.generation_id, 1);
  EXPECT_EQ(group.assignor, "sticky");
  EXPECT_TRUE(group.member_id.starts_with("c-")) << group.member_id;
  // The first JoinGroup got MEMBER_ID_REQUIRED; the second joined with that id.
  EXPECT_EQ(broker_.groups().requests(ApiKey::kJoinGroup), 2);
  EXPECT_EQ(broker_.groups().requests(ApiKey::kSyncGroup), 1);
  // The application is busy: the heartbeat thread keeps the member alive.
  int before = broker_.groups().requests(ApiKey::kHeartbeat);
  EXPECT_TRUE(eventually([&] {
    return broker_.groups().requests(ApiKey::kHeartbeat) >= before + 3;
  })) << "no heartbeats without polls";
  EXPECT_EQ(broker_.groups().state("g"), "Stable");
  EXPECT_EQ(broker_.groups().member_count("g"), 1u);
}

TEST_F(ConsumerGroup, StartsAtCommittedOffsetsElseByAutoOffsetReset) {
  produce_per_partition(10);
  broker_.groups().set_committed("g", "t", 1, 7);
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  const auto& records = records_[consumer.get()];
  poll_until({consumer.get()}, [&] { return records.size() >= 23; });
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (const ConsumerRecord& r : records) offsets[r.partition].push_back(r.offset);
  EXPECT_EQ(offsets[0].size(), 10u);
  EXPECT_EQ(offsets[2].size(), 10u);
  EXPECT_EQ(offsets[1], (std::vector<int64_t>{7, 8, 9}));
}

TEST_F(ConsumerGroup, RebalanceCommitsThenRevokesEverythingBeforeAssigning) {
  produce_per_partition(10);
  ConsumerConfig c = config();
  c.enable_auto_commit = true;
  c.auto_commit_interval_ms = 60'000;  // only the commit before revoking
  // Declared first: the consumer's destructor closes, which calls on_revoked.
  std::vector<std::string> events;
  auto consumer = make(c);
  RebalanceCallbacks callbacks{
      .on_revoked =
          [&](const std::vector<TopicPartition>& partitions) {
            // Still owned, and their positions already committed.
            EXPECT_EQ(consumer->assignment(), partitions);
            for (const TopicPartition& tp : partitions) {
              EXPECT_EQ(broker_.groups().committed("g", tp.topic, tp.partition),
                        consumer->position(tp).value());
            }
            events.push_back("revoked " + std::to_string(partitions.size()));
          },
      .on_assigned =
          [&](const std::vector<TopicPartition>& partitions) {
            events.push_back("assigned " + std::to_string(partitions.size()));
          }};
  ASSERT_TRUE(consumer->subscribe({"t"}, callbacks).is_ok());
  poll_until({consumer.get()}, [&] { return records_[consumer.get()].size() == 30; });
  ASSERT_EQ(events, std::vector<std::string>{"assigned 3"});
  broker_.groups().force_rebalance("g");
  poll_until({consumer.get()}, [&] { return events.size() == 3; });
  EXPECT_EQ(events, (std::vector<std::string>{"assigned 3", "revoked 3", "assigned 3"}));
  EXPECT_EQ(consumer->group_metadata().generation_id, 2);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(broker_.groups().committed("g", "t", p), 10);
  // Reassigned partitions resume at the committed offsets: nothing is read twice.
  produce_per_partition(1);
  records_.clear();
  poll_until({consumer.get()}, [&] { return records_[consumer.get()].size() >= 3; });
  ASSERT_EQ(records_[consumer.get()].size(), 3u);
  for (const ConsumerRecord& r : records_[consumer.get()]) EXPECT_EQ(r.offset, 10);
  ASSERT_TRUE(consumer->close().is_ok());
  EXPECT_EQ(events.back(), "revoked 3");
}

TEST_F(ConsumerGroup, TwoMembersSplitThePartitionsAndTogetherReadEverythingOnce) {
  produce_per_partition(20);
  auto a = make(config("a"));
  auto b = make(config("b"));
  ASSERT_TRUE(a->subscribe({"t"}).is_ok());
  poll_until({a.get()}, [&] { return a->assignment().size() == 3; });
  ASSERT_TRUE(b->subscribe({"t"}).is_ok());
  std::set<std::string> values;
  poll_until({a.get(), b.get()}, [&] {
    values.clear();
    for (Consumer* consumer : {a.get(), b.get()}) {
      for (const ConsumerRecord& r : records_[consumer]) values.insert(*r.value);
    }
    return !a->assignment().empty() && !b->assignment().empty() &&
           a->assignment().size() + b->assignment().size() == 3 && values.size() == 60;
  });
  std::set<TopicPartition> owned;
  for (const auto& tp : a->assignment()) owned.insert(tp);
  for (const auto& tp : b->assignment()) EXPECT_TRUE(owned.insert(tp).second) << tp.to_string();
  EXPECT_EQ(owned.size(), 3u);
  EXPECT_EQ(a->group_metadata().generation_id, b->group_metadata().generation_id);
}

TEST_F(ConsumerGroup, FencedCommitIsAnErrorAndTheNextPollRejoins) {
  // Declared first: the consumer's destructor closes, which calls on_revoked.
  std::vector<std::string> events;
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}, recording_to(&events)).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  broker_.groups().fail_next(ApiKey::kOffsetCommit, 1, ErrorCode::kIllegalGeneration);
  Status status = consumer->commit_sync({{{"t", 0}, 1}});
  EXPECT_EQ(status.code(), ErrorCode::kIllegalGeneration) << status.to_string();
  EXPECT_NE(status.message().find("t-0"), std::string::npos) << status.message();
  EXPECT_FALSE(broker_.groups().committed("g", "t", 0).has_value());
  int joins = broker_.groups().requests(ApiKey::kJoinGroup);
  poll_until({consumer.get()}, [&] { return events.size() == 3; });
  EXPECT_EQ(events, (std::vector<std::string>{"assigned", "revoked", "assigned"}));
  EXPECT_EQ(broker_.groups().requests(ApiKey::kJoinGroup), joins + 1);
  EXPECT_TRUE(consumer->commit_sync({{{"t", 0}, 1}}).is_ok());
  EXPECT_EQ(broker_.groups().committed("g", "t", 0), 1);
}

TEST_F(ConsumerGroup, HeartbeatFencingMakesThePollRejoinWithANewMemberIdWhenUnknown) {
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  std::string first_id = consumer->group_metadata().member_id;
  int joins = broker_.groups().requests(ApiKey::kJoinGroup);
  int beats = broker_.groups().requests(ApiKey::kHeartbeat);
  broker_.groups().fail_next(ApiKey::kHeartbeat, 1, ErrorCode::kUnknownMemberId);
  // No poll until a heartbeat went out: it (or, rarely, the next one) gets
  // UNKNOWN_MEMBER_ID.
  ASSERT_TRUE(eventually([&] { return broker_.groups().requests(ApiKey::kHeartbeat) > beats; }));
  poll_until({consumer.get()}, [&] {
    return consumer->group_metadata().generation_id > 1 && consumer->assignment().size() == 3;
  });
  // UNKNOWN_MEMBER_ID: a new first join (MEMBER_ID_REQUIRED), then the join.
  EXPECT_EQ(broker_.groups().requests(ApiKey::kJoinGroup), joins + 2);
  EXPECT_NE(consumer->group_metadata().member_id, first_id);
}

TEST_F(ConsumerGroup, HeartbeatsGoOnDuringARebalanceUntilTheMemberRejoins) {
  ConsumerConfig c = config();
  c.session_timeout_ms = 300;
  auto consumer = make(c);
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  std::string member_id = consumer->group_metadata().member_id;
  int joins = broker_.groups().requests(ApiKey::kJoinGroup);
  broker_.groups().force_rebalance("g");
  // The application is busy for several session timeouts, well within
  // max_poll_interval_ms: the heartbeats (answered REBALANCE_IN_PROGRESS)
  // keep the member in the group until its next poll rejoins.
  int beats = broker_.groups().requests(ApiKey::kHeartbeat);
  std::this_thread::sleep_for(std::chrono::milliseconds(1'000));  // > 3 session timeouts
  EXPECT_GE(broker_.groups().requests(ApiKey::kHeartbeat), beats + 5);
  EXPECT_EQ(broker_.groups().member_count("g"), 1u) << "expired while the group rebalanced";
  EXPECT_EQ(broker_.groups().state("g"), "PreparingRebalance");
  poll_until({consumer.get()}, [&] {
    return consumer->group_metadata().generation_id == 2 && consumer->assignment().size() == 3;
  });
  // One JoinGroup with the same member id: no MEMBER_ID_REQUIRED round.
  EXPECT_EQ(broker_.groups().requests(ApiKey::kJoinGroup), joins + 1);
  EXPECT_EQ(consumer->group_metadata().member_id, member_id);
}

TEST_F(ConsumerGroup, RetriesCoordinatorErrorsByFindingTheCoordinatorAgain) {
  broker_.groups().fail_next(ApiKey::kFindCoordinator, 2, ErrorCode::kCoordinatorNotAvailable);
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  EXPECT_EQ(broker_.groups().requests(ApiKey::kFindCoordinator), 3);
  broker_.groups().fail_next(ApiKey::kOffsetCommit, 2, ErrorCode::kNotCoordinator);
  Status status = consumer->commit_sync({{{"t", 2}, 4}});
  EXPECT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(broker_.groups().committed("g", "t", 2), 4);
  EXPECT_EQ(broker_.groups().requests(ApiKey::kFindCoordinator), 5);
  broker_.groups().fail_next(ApiKey::kOffsetFetch, 1, ErrorCode::kCoordinatorLoadInProgress);
  Result<std::map<TopicPartition, int64_t>> committed = consumer->committed({{"t", 2}, {"t", 1}});
  ASSERT_TRUE(committed.is_ok()) << committed.status().to_string();
  EXPECT_EQ(*committed, (std::map<TopicPartition, int64_t>{{{"t", 1}, -1}, {{"t", 2}, 4}}));
}

TEST_F(ConsumerGroup, HeartbeatNotCoordinatorMakesThePollFindItAgainWithoutRejoining) {
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  int finds = broker_.groups().requests(ApiKey::kFindCoordinator);
  int joins = broker_.groups().requests(ApiKey::kJoinGroup);
  broker_.groups().fail_next(ApiKey::kHeartbeat, 2, ErrorCode::kNotCoordinator);
  poll_until({consumer.get()},
             [&] { return broker_.groups().requests(ApiKey::kFindCoordinator) > finds; });
  // The generation is still valid at the (same) coordinator: no revoke, no join.
  int beats = broker_.groups().requests(ApiKey::kHeartbeat);
  poll_until({consumer.get()},
             [&] { return broker_.groups().requests(ApiKey::kHeartbeat) >= beats + 3; });
  EXPECT_EQ(broker_.groups().requests(ApiKey::kJoinGroup), joins);
  EXPECT_EQ(consumer->group_metadata().generation_id, 1);
  EXPECT_EQ(consumer->assignment().size(), 3u);
}

TEST_F(ConsumerGroup, AutoCommitsPositionsFromPollOnTheInterval) {
  produce_per_partition(5);
  ConsumerConfig c = config();
  c.enable_auto_commit = true;
  c.auto_commit_interval_ms = 100;
  auto consumer = make(c);
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] {
    for (int32_t p = 0; p < 3; ++p) {
      if (broker_.groups().committed("g", "t", p) != 5) return false;
    }
    return true;
  });
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(broker_.groups().committed("g", "t", p), 5);
}

TEST_F(ConsumerGroup, AsyncCommitReportsThroughItsCallbackInALaterPoll) {
  auto consumer = make(config());
  ASSERT_TRUE(consumer->subscribe({"t"}).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  std::vector<Status> results;
  consumer->commit_async({{{"t", 1}, 3}}, [&](const auto& offsets, const Status& status) {
    EXPECT_EQ(offsets.size(), 1u);
    results.push_back(status);
  });
  poll_until({consumer.get()}, [&] { return !results.empty(); });
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].is_ok()) << results[0].to_string();
  EXPECT_EQ(broker_.groups().committed("g", "t", 1), 3);
}

TEST_F(ConsumerGroup, CloseCommitsRevokesAndLeaves) {
  produce_per_partition(4);
  ConsumerConfig c = config();
  c.enable_auto_commit = true;
  c.auto_commit_interval_ms = 60'000;
  auto consumer = make(c);
  bool revoked = false;
  ASSERT_TRUE(consumer->subscribe({"t"}, {.on_revoked = [&](auto&) { revoked = true; }}).is_ok());
  poll_until({consumer.get()}, [&] { return records_[consumer.get()].size() == 12; });
  EXPECT_FALSE(broker_.groups().committed("g", "t", 0).has_value());
  Status closed = consumer->close();
  EXPECT_TRUE(closed.is_ok()) << closed.to_string();
  EXPECT_TRUE(revoked);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(broker_.groups().committed("g", "t", p), 4);
  EXPECT_EQ(broker_.groups().requests(ApiKey::kLeaveGroup), 1);
  EXPECT_EQ(broker_.groups().member_count("g"), 0u);
  EXPECT_EQ(broker_.groups().state("g"), "Empty");
  EXPECT_EQ(consumer->poll(0).code(), ErrorCode::kInvalidRequest);
}

TEST_F(ConsumerGroup, AMemberThatStopsPollingLeavesAndRejoinsOnItsNextPoll) {
  ConsumerConfig c = config();
  c.max_poll_interval_ms = 300;
  // Declared first: the consumer's destructor closes, which calls on_revoked.
  std::vector<std::string> events;
  auto consumer = make(c);
  ASSERT_TRUE(consumer->subscribe({"t"}, recording_to(&events)).is_ok());
  poll_until({consumer.get()}, [&] { return consumer->assignment().size() == 3; });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (broker_.groups().member_count("g") > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(broker_.groups().member_count("g"), 0u) << "left after max_poll_interval_ms";
  EXPECT_EQ(broker_.groups().requests(ApiKey::kLeaveGroup), 1);
  poll_until({consumer.get()}, [&] { return events.size() == 3; });
  EXPECT_EQ(events, (std::vector<std::string>{"assigned", "revoked", "assigned"}));
  EXPECT_EQ(broker_.groups().member_count("g"), 1u);
}

TEST_F(ConsumerGroup, BroadcastGivesEveryMemberEveryPartitionAndItsOwnOffsets) {
  produce_per_partition(3);
  ConsumerConfig ca = config("a");
  ca.partition_assignment_strategy = {"broadcast"};
  ConsumerConfig cb = config("b");
  cb.partition_assignment_strategy = {"broadcast"};
  auto a = make(ca);
  auto b = make(cb);
  ASSERT_TRUE(a->subscribe({"t"}).is_ok());
  ASSERT_TRUE(b->subscribe({"t"}).is_ok());
  auto distinct = [&](Consumer* consumer) {
    std::set<std::string> values;
    for (const ConsumerRecord& r : records_[consumer]) values.insert(*r.value);
    return values.size();
  };
  poll_until({a.get(), b.get()}, [&] {
    return a->group_metadata().generation_id == b->group_metadata().generation_id &&
           a->assignment().size() == 3 && b->assignment().size() == 3 && distinct(a.get()) == 9 &&
           distinct(b.get()) == 9;
  });
  EXPECT_EQ(a->group_metadata().assignor, "broadcast");
  ASSERT_TRUE(a->commit_sync({{{"t", 0}, 2}}).is_ok());
  ASSERT_TRUE(b->commit_sync({{{"t", 0}, 3}}).is_ok());
  EXPECT_EQ(broker_.groups().committed("g", "t", 0, "a"), 2);
  EXPECT_EQ(broker_.groups().committed("g", "t", 0, "b"), 3);
  EXPECT_EQ(a->committed({{"t", 0}}).value().at({"t", 0}), 2);
  EXPECT_EQ(b->committed({{"t", 0}}).value().at({"t", 0}), 3);
}

TEST_F(ConsumerGroup, ManualAssignmentCommitsForAGroupWithoutMembers) {
  auto manual = make(config("manual"));
  ASSERT_TRUE(manual->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(manual->commit_sync({{{"t", 0}, 2}}).is_ok());
  EXPECT_EQ(broker_.groups().committed("g", "t", 0), 2);
  EXPECT_EQ(manual->subscribe({"t"}).code(), ErrorCode::kInvalidRequest);
  auto member = make(config("member"));
  ASSERT_TRUE(member->subscribe({"t"}).is_ok());
  poll_until({member.get()}, [&] { return member->assignment().size() == 3; });
  EXPECT_EQ(member->assign({{"t", 1}}).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(manual->commit_sync({{{"t", 0}, 3}}).code(), ErrorCode::kGroupNotEmpty);
}

TEST_F(ConsumerGroup, SubscribeNeedsAGroupIdAndTopics) {
  ConsumerConfig c = config();
  c.group_id.clear();
  auto consumer = make(c);
  EXPECT_EQ(consumer->subscribe({"t"}).code(), ErrorCode::kInvalidGroupId);
  EXPECT_EQ(consumer->commit_sync({{{"t", 0}, 1}}).code(), ErrorCode::kInvalidGroupId);
  auto grouped = make(config());
  EXPECT_EQ(grouped->subscribe({}).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(grouped->subscribe({""}).code(), ErrorCode::kInvalidTopic);
}

}  // namespace
}  // namespace mq::client
