// ReplicaFetcher against an in-process leader: replication with acks=all,
// byte-identical logs, truncation of divergent tails by leader epoch
// (including epochs the leader never had, and a leader whose history starts
// after the follower's latest epoch), a restart at the leader's log start,
// and a fenced epoch that waits for new metadata.
#include "broker/replica_fetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/broker/leader_node.h"
#include "tests/store/batches.h"
#include "tests/support/eventually.h"
#include "transport/produce.h"

namespace mq::broker {
namespace {

using namespace mq::transport;
using mq::testing::log_bytes;
using mq::testing::make_batch;
constexpr int kTimeoutMs = 10000;

using mq::testing::eventually;  // bounded by 10 s (the bound, not a measurement)

class ReplicaFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    node_.start("t");
    leader_ = node_.partition("t");
  }
  // Appends `n` one-record batches to the leader.
  void leader_appends(int n) {
    for (int i = 0; i < n; i++) {
      std::string batch = make_batch(1, 1000 + i, "leader");
      ASSERT_TRUE(leader_->append_as_leader(as_writable_bytes(batch), 1).is_ok());
    }
  }
  void become_leader(int32_t epoch, std::vector<int32_t> isr) {
    ASSERT_TRUE(leader_
                    ->become_leader({.leader_epoch = epoch,
                                     .partition_epoch = epoch,
                                     .replicas = {1, 2},
                                     .isr = std::move(isr),
                                     .local_broker_id = 1})
                    .is_ok());
  }
  // The follower's log, opened before it becomes a Partition.
  std::unique_ptr<Log> open_follower_log() {
    auto log = Log::open(follower_dir_.path() + "/t-0", LogConfig{});
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return std::move(log).value();
  }
  // Copies the leader's batches below `end` into `log` as a follower would.
  void copy_leader_prefix(Log& log, int64_t end) {
    Result<LogReadResult> read = leader_->log().read(0, 1 << 20, end);
    ASSERT_TRUE(read.is_ok());
    ASSERT_TRUE(log.append(as_writable_bytes(read->bytes), {.assign_offsets = false}).is_ok());
  }
  // Appends `n` batches of the follower's own in `epoch` (a divergent tail).
  void follower_own_appends(Log& log, int n, int32_t epoch) {
    for (int i = 0; i < n; i++) {
      std::string batch = make_batch(1, 5000 + i, "divergent");
      ASSERT_TRUE(
          log.append(as_writable_bytes(batch), {.assign_offsets = true, .leader_epoch = epoch})
              .is_ok());
    }
  }
  void make_follower(std::unique_ptr<Log> log, int32_t epoch) {
    follower_ = std::make_shared<Partition>("t", 0, std::move(log), 0, 1);
    ASSERT_TRUE(follower_
                    ->become_follower({.leader_epoch = epoch,
                                       .partition_epoch = epoch,
                                       .leader_id = 1,
                                       .replicas = {1, 2}})
                    .is_ok());
  }
  void start_fetcher(int32_t epoch) {
    fetcher_ = std::make_unique<ReplicaFetcher>(ReplicaFetcherOptions{
        .local_broker_id = 2,
        .leader_id = 1,
        .leader_endpoint = node_.endpoint(),
        .fetch_max_wait_ms = 50,
        .retry_backoff_ms = 50,
    });
    fetcher_->add_partition(follower_, epoch);
    fetcher_->start();
  }
  bool in_step() {
    return follower_->log().log_end_offset() == leader_->log().log_end_offset() &&
           follower_->high_watermark() == leader_->high_watermark();
  }
  void expect_identical_logs() {
    EXPECT_EQ(follower_->log().log_start_offset(), leader_->log().log_start_offset());
    EXPECT_EQ(follower_->log().log_end_offset(), leader_->log().log_end_offset());
    EXPECT_EQ(log_bytes(follower_->log()), log_bytes(leader_->log()));
    EXPECT_EQ(follower_->log().leader_epochs().entries(), leader_->log().leader_epochs().entries());
  }

  mq::testing::LeaderNode node_;
  mq::testing::TempDir follower_dir_;
  std::shared_ptr<Partition> leader_;
  std::shared_ptr<Partition> follower_;
  std::unique_ptr<ReplicaFetcher> fetcher_;
};

TEST_F(ReplicaFetcherTest, AcksAllWaitsForTheFollowerWhichEndsByteIdentical) {
  become_leader(1, {1, 2});
  make_follower(open_follower_log(), 1);
  auto conn = node_.connect();
  ProduceRequest req;
  req.acks = kAcksAll;
  req.timeout_ms = kTimeoutMs;
  req.topics.push_back({.name = "t"});
  req.topics[0].partitions.push_back({.partition_index = 0, .records = Frame(make_batch(3))});
  auto sent = conn->send(req, 0);
  ASSERT_TRUE(sent.is_ok());
  EXPECT_EQ(conn->receive_for(*sent, 200).code(), ErrorCode::kRequestTimedOut)
      << "no answer before the follower has the batch";

  start_fetcher(1);
  auto answered = conn->receive_for(*sent, kTimeoutMs);
  ASSERT_TRUE(answered.is_ok()) << answered.status().to_string();
  auto response = decode_response<ProduceResponse>(*answered);
  ASSERT_TRUE(response.is_ok());
  EXPECT_EQ(response->topics[0].partitions[0].error_code, ErrorCode::kNone);
  EXPECT_GE(follower_->log().log_end_offset(), 3) << "acknowledged only once the follower has it";
  EXPECT_GE(leader_->high_watermark(), 3);

  for (int i = 0; i < 5; i++) {
    req.topics[0].partitions[0].records = Frame(make_batch(2, 2000 + i));
    auto more = conn->call(req, kTimeoutMs);
    ASSERT_TRUE(more.is_ok());
    EXPECT_EQ(more->topics[0].partitions[0].error_code, ErrorCode::kNone);
  }
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  EXPECT_EQ(leader_->high_watermark(), 13);
  expect_identical_logs();
  auto status = fetcher_->status("t", 0);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->phase, FollowPhase::kFetching);
  EXPECT_EQ(status->lag_messages, 0);
  EXPECT_EQ(status->bytes_fetched, log_bytes(leader_->log()).size());
  EXPECT_EQ(status->last_error, ErrorCode::kNone);
  fetcher_->stop();
}

TEST_F(ReplicaFetcherTest, TruncatesADivergentTailByLeaderEpochBeforeFetching) {
  // Both have epoch 1 up to offset 3; the follower then wrote 3..4 in epoch 1
  // that never reached the leader, which wrote 3..5 in epoch 2.
  become_leader(1, {1});
  leader_appends(3);
  std::unique_ptr<Log> log = open_follower_log();
  copy_leader_prefix(*log, 3);
  follower_own_appends(*log, 2, 1);
  ASSERT_EQ(log->log_end_offset(), 5);
  become_leader(2, {1, 2});
  leader_appends(3);
  make_follower(std::move(log), 2);
  start_fetcher(2);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  expect_identical_logs();
  EXPECT_EQ(follower_->log().leader_epochs().entries(), (std::vector<EpochEntry>{{1, 0}, {2, 3}}));
}

TEST_F(ReplicaFetcherTest, WalksBackThroughEpochsTheLeaderNeverHad) {
  // Leader: epoch 1 [0,3), 2 [3,4), 4 [4,6). Follower: epoch 1 [0,3), then 3
  // [3,5), an epoch the leader never saw. Asked about 3, the leader answers
  // "2 ends at 4"; the follower has no epoch 2, cuts to where its epoch 1
  // ends (3) and asks again about 1: "ends at 3".
  become_leader(1, {1});
  leader_appends(3);
  std::unique_ptr<Log> log = open_follower_log();
  copy_leader_prefix(*log, 3);
  follower_own_appends(*log, 2, 3);
  become_leader(2, {1});
  leader_appends(1);
  become_leader(4, {1});
  leader_appends(2);
  make_follower(std::move(log), 4);
  start_fetcher(4);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  expect_identical_logs();
}

TEST_F(ReplicaFetcherTest, RestartsAtTheLeadersLogStartWhenFarBehind) {
  become_leader(1, {1});
  leader_appends(5);
  ASSERT_TRUE(leader_->log().delete_records_before(3).is_ok());
  ASSERT_EQ(leader_->log().log_start_offset(), 3);
  std::unique_ptr<Log> log = open_follower_log();
  make_follower(std::move(log), 1);
  start_fetcher(1);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  EXPECT_EQ(follower_->log().log_start_offset(), 3);
  EXPECT_EQ(log_bytes(follower_->log()), log_bytes(leader_->log()));
}

// The metadata named the leader before the leader itself applied it: its
// NOT_LEADER answers are asked again soon, without new metadata, and
// replication starts as soon as it leads.
TEST_F(ReplicaFetcherTest, ALeaderThatHasNotAppliedItsLeadershipYetIsAskedAgain) {
  ASSERT_TRUE(leader_
                  ->become_follower(
                      {.leader_epoch = 1, .partition_epoch = 0, .leader_id = 3, .replicas = {1, 2}})
                  .is_ok());
  make_follower(open_follower_log(), 1);
  start_fetcher(1);
  ASSERT_TRUE(eventually([&] {
    auto s = fetcher_->status("t", 0);
    // Its epoch is behind ours (UNKNOWN_LEADER_EPOCH) or it follows (NOT_LEADER).
    return s && (s->last_error == ErrorCode::kUnknownLeaderEpoch ||
                 s->last_error == ErrorCode::kNotLeader);
  })) << "last error "
      << error_name(fetcher_->status("t", 0)->last_error) << ": "
      << fetcher_->status("t", 0)->last_error_message;
  EXPECT_NE(fetcher_->status("t", 0)->phase, FollowPhase::kAwaitingMetadata);
  become_leader(1, {1, 2});
  leader_appends(3);
  // in_step() already holds once the follower has the records, before its
  // next fetch tells the leader so (both high watermarks still 0).
  ASSERT_TRUE(eventually([&] { return in_step() && leader_->high_watermark() == 3; }))
      << "follower at " << follower_->log().log_end_offset() << ", leader's high watermark "
      << leader_->high_watermark();
}

// An unclean election made a replica with a shorter log leader; its history
// starts in epoch 2. A follower holding offsets 0-4 of epoch 1, which the
// leader never had, asks where epoch 1 ends: "at 0", where the leader's first
// epoch starts (Kafka's answer). It drops all five, although it had seen them
// committed, and then holds exactly the leader's log. Answered "unknown", it
// kept the records up to its high watermark: at offsets 0-1 its own, where
// the leader has others.
TEST_F(ReplicaFetcherTest, AFollowerWhoseEpochIsOlderThanTheLeadersHistoryIsCutToItsStart) {
  become_leader(2, {1, 2});
  leader_appends(2);
  std::unique_ptr<Log> log = open_follower_log();
  follower_own_appends(*log, 5, 1);  // offsets 0-4 in epoch 1, which the leader never had
  make_follower(std::move(log), 2);
  follower_->update_follower_high_watermark(5);  // it had seen them committed
  ASSERT_EQ(follower_->high_watermark(), 5);
  start_fetcher(2);
  ASSERT_TRUE(eventually([&] { return in_step(); }))
      << "follower at " << follower_->log().log_end_offset() << ", leader at "
      << leader_->log().log_end_offset();
  leader_appends(3);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  expect_identical_logs();
}

// The follower's own history is all newer than the epoch the leader answers
// with. Leader: epoch 1 [0,2), 3 [2,3). Follower: epoch 2 [0,2), which the
// leader never had. Asked about 2, the leader answers "1 ends at 2"; the
// follower has nothing of epoch 1, so by its own history epoch 1 ends where
// its first epoch starts, 0: it cuts there, not at 2 (which kept its own
// records at 0-1).
TEST_F(ReplicaFetcherTest, AFollowerWithOnlyEpochsNewerThanTheLeadersAnswerIsCutToItsFirstEpoch) {
  become_leader(1, {1});
  leader_appends(2);
  become_leader(3, {1, 2});
  leader_appends(1);
  std::unique_ptr<Log> log = open_follower_log();
  follower_own_appends(*log, 2, 2);
  make_follower(std::move(log), 3);
  start_fetcher(3);
  ASSERT_TRUE(eventually([&] { return in_step(); }))
      << "follower at " << follower_->log().log_end_offset() << ", leader at "
      << leader_->log().log_end_offset();
  expect_identical_logs();
}

// Without any epoch history (records written before leader epochs), the
// follower keeps what it had seen committed; being ahead of the leader, it is
// then cut to the leader's log end instead of asking again forever. The
// records it keeps below that are its own (Kafka's fallback too).
TEST_F(ReplicaFetcherTest, AFollowerWithoutEpochsAheadOfTheLeaderIsCutToItsLogEnd) {
  become_leader(2, {1, 2});
  leader_appends(2);
  std::unique_ptr<Log> log = open_follower_log();
  follower_own_appends(*log, 5, -1);  // offsets 0-4, no leader epoch
  ASSERT_FALSE(log->leader_epochs().latest().has_value());
  make_follower(std::move(log), 2);
  follower_->update_follower_high_watermark(5);  // it had seen them committed
  ASSERT_EQ(follower_->high_watermark(), 5);
  start_fetcher(2);
  ASSERT_TRUE(eventually([&] { return in_step(); }))
      << "follower at " << follower_->log().log_end_offset() << ", leader at "
      << leader_->log().log_end_offset();
  leader_appends(3);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  EXPECT_EQ(follower_->log().log_end_offset(), 5);
}

TEST_F(ReplicaFetcherTest, AFencedEpochWaitsForNewMetadata) {
  become_leader(2, {1, 2});
  leader_appends(2);
  make_follower(open_follower_log(), 1);
  start_fetcher(1);  // an epoch older than the leader's
  ASSERT_TRUE(eventually([&] {
    auto s = fetcher_->status("t", 0);
    return s && s->phase == FollowPhase::kAwaitingMetadata;
  }));
  EXPECT_EQ(fetcher_->status("t", 0)->last_error, ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(follower_->log().log_end_offset(), 0);
  // New metadata: the follower moves to epoch 2 and the fetcher is told.
  ASSERT_TRUE(follower_
                  ->become_follower(
                      {.leader_epoch = 2, .partition_epoch = 2, .leader_id = 1, .replicas = {1, 2}})
                  .is_ok());
  fetcher_->add_partition(follower_, 2);
  ASSERT_TRUE(eventually([&] { return in_step(); }));
  expect_identical_logs();
  fetcher_->remove_partition("t", 0);
  EXPECT_EQ(fetcher_->partition_count(), 0u);
}

// A fetch in flight that is not answered soon (here a long poll held for
// 30 s; after a leader restarted at the same address, never) must not hold a
// partition added meanwhile: add_partition() abandons it.
TEST_F(ReplicaFetcherTest, APartitionAddedDuringAFetchInFlightIsFetchedWithoutWaitingForIt) {
  become_leader(1, {1, 2});  // "t": nothing to fetch, so the leader holds the long poll
  node_.add_topic("u");
  std::shared_ptr<Partition> u_leader = node_.partition("u");
  ASSERT_TRUE(u_leader
                  ->become_leader({.leader_epoch = 1,
                                   .partition_epoch = 1,
                                   .replicas = {1, 2},
                                   .isr = {1, 2},
                                   .local_broker_id = 1})
                  .is_ok());
  for (int i = 0; i < 3; i++) {
    std::string batch = make_batch(1, 2000 + i, "u");
    ASSERT_TRUE(u_leader->append_as_leader(as_writable_bytes(batch), 1).is_ok());
  }
  make_follower(open_follower_log(), 1);
  ReplicaFetcher fetcher(ReplicaFetcherOptions{.local_broker_id = 2,
                                               .leader_id = 1,
                                               .leader_endpoint = node_.endpoint(),
                                               .fetch_max_wait_ms = 30000,
                                               .request_timeout_ms = 600000,
                                               .retry_backoff_ms = 50});
  fetcher.add_partition(follower_, 1);
  fetcher.start();
  ASSERT_TRUE(eventually([&] {
    auto s = fetcher.status("t", 0);
    return s && s->phase == FollowPhase::kFetching;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the long poll is in flight

  auto u_log = Log::open(follower_dir_.path() + "/u-0", LogConfig{});
  ASSERT_TRUE(u_log.is_ok());
  auto u_follower = std::make_shared<Partition>("u", 0, std::move(u_log).value(), 0, 1);
  ASSERT_TRUE(u_follower
                  ->become_follower(
                      {.leader_epoch = 1, .partition_epoch = 1, .leader_id = 1, .replicas = {1, 2}})
                  .is_ok());
  fetcher.add_partition(u_follower, 1);
  // Within the 10 s bound, far less than the 30 s the held poll would take.
  ASSERT_TRUE(eventually([&] { return u_follower->log().log_end_offset() == 3; }))
      << "u follower at " << u_follower->log().log_end_offset() << ", interrupted "
      << fetcher.interrupted_calls() << ", responses " << fetcher.fetch_responses() << ", u error "
      << fetcher.status("u", 0)->last_error_message;
  EXPECT_GE(fetcher.interrupted_calls(), 1u);
  EXPECT_EQ(fetcher.connection_errors(), 0u) << "the connection is kept";
  EXPECT_TRUE(eventually([&] { return u_leader->high_watermark() == 3; }));
  fetcher.stop();
}

TEST_F(ReplicaFetcherTest, UnreachableLeaderIsRetriedWithPositionsKept) {
  make_follower(open_follower_log(), 1);
  // Nothing listens on port 1: every connection attempt fails.
  ReplicaFetcher fetcher(ReplicaFetcherOptions{.local_broker_id = 2,
                                               .leader_id = 1,
                                               .leader_endpoint = "tcp://127.0.0.1:1",
                                               .request_timeout_ms = 100,
                                               .retry_backoff_ms = 20});
  fetcher.add_partition(follower_, 1);
  fetcher.start();
  ASSERT_TRUE(eventually([&] { return fetcher.connection_errors() >= 2; }));
  auto status = fetcher.status("t", 0);
  ASSERT_TRUE(status);
  EXPECT_NE(status->phase, FollowPhase::kAwaitingMetadata) << "network errors are retried";
  EXPECT_EQ(fetcher.fetch_responses(), 0u);
  fetcher.stop();
}

}  // namespace
}  // namespace mq::broker
