// Partition as leader and follower: high watermark over the (maximal) ISR,
// ISR proposals on a fake clock, acks=all outcomes, role checks and wake-ups,
// DeleteRecords and the low watermark, a follower following the log start.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <vector>

#include "broker/partition.h"
#include "tests/store/batches.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

using mq::testing::make_batch;

// Records proposals; the test answers them through `answer`.
struct FakeIsrChanger : IsrChanger {
  std::vector<IsrProposal> proposals;
  std::vector<std::function<void(Status)>> callbacks;
  void propose(const IsrProposal& proposal, std::function<void(Status)> done) override {
    proposals.push_back(proposal);
    callbacks.push_back(std::move(done));
  }
  void answer(size_t i, Status status) { callbacks.at(i)(std::move(status)); }
};

class PartitionReplicationTest : public ::testing::Test {
 protected:
  std::shared_ptr<Partition> make(int32_t min_insync_replicas = 1) {
    Result<std::unique_ptr<Log>> log =
        Log::open(dir_.path() + "/t-" + std::to_string(count_++), LogConfig{});
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    auto p = std::make_shared<Partition>("t", 0, std::move(log).value(), 0, min_insync_replicas);
    p->set_replication_settings(
        {.lag_time_max_ms = 100, .isr_retry_backoff_ms = 50, .now_ms = [this] { return now_; }});
    p->set_isr_changer(&changer_);
    return p;
  }
  // Appends `records` one-record batches as leader; returns the last offset.
  int64_t append(Partition& p, int records, int16_t acks = 1) {
    int64_t last = -1;
    for (int i = 0; i < records; i++) {
      std::string batch = make_batch(1);
      Result<AppendResult> r = p.append_as_leader(as_writable_bytes(batch), acks);
      EXPECT_TRUE(r.is_ok()) << r.status().to_string();
      if (r.is_ok()) last = r->last_offset;
    }
    return last;
  }
  static LeaderState leader(int32_t epoch, int32_t partition_epoch, std::vector<int32_t> replicas,
                            std::vector<int32_t> isr) {
    return {.leader_epoch = epoch,
            .partition_epoch = partition_epoch,
            .replicas = std::move(replicas),
            .isr = std::move(isr),
            .local_broker_id = 1};
  }

  mq::testing::TempDir dir_;
  int count_ = 0;
  int64_t now_ = 1000;
  FakeIsrChanger changer_;
};

TEST_F(PartitionReplicationTest, DefaultIsSingleNodeLeaderWithHighWatermarkAtLogEnd) {
  auto p = make();
  EXPECT_TRUE(p->is_leader());
  EXPECT_EQ(append(*p, 3, -1), 2);
  EXPECT_EQ(p->high_watermark(), 3);
  EXPECT_EQ(p->acks_all_outcome(2, 0), ErrorCode::kNone) << "committed as soon as appended";
  EXPECT_EQ(p->check_leader(-1), ErrorCode::kNone);
  EXPECT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kReplicaNotAvailable)
      << "a single node has no followers";
  EXPECT_TRUE(changer_.proposals.empty());
}

TEST_F(PartitionReplicationTest, HighWatermarkIsMinimumLogEndOverIsr) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2, 3}, {1, 2, 3})).is_ok());
  append(*p, 10);
  EXPECT_EQ(p->high_watermark(), 0) << "followers' positions are unknown until they fetch";
  EXPECT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 0) << "follower 3 has not fetched yet";
  EXPECT_EQ(p->record_follower_fetch(3, 7), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 5);
  EXPECT_EQ(p->record_follower_fetch(2, 10), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 7);
  EXPECT_EQ(p->record_follower_fetch(3, 10), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 10);
  EXPECT_EQ(p->record_follower_fetch(3, 11), ErrorCode::kOffsetOutOfRange) << "past the log end";
}

TEST_F(PartitionReplicationTest, HighWatermarkNeverMovesBackwards) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1, 2})).is_ok());
  append(*p, 10);
  ASSERT_EQ(p->record_follower_fetch(2, 10), ErrorCode::kNone);
  ASSERT_EQ(p->high_watermark(), 10);
  // A new leader epoch forgets positions but keeps the high watermark.
  ASSERT_TRUE(p->become_leader(leader(2, 2, {1, 2}, {1, 2})).is_ok());
  EXPECT_EQ(p->high_watermark(), 10);
  append(*p, 2);
  EXPECT_EQ(p->record_follower_fetch(2, 4), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 10) << "a follower behind the HW does not pull it back";
  EXPECT_EQ(p->record_follower_fetch(2, 12), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 12);
}

TEST_F(PartitionReplicationTest, BecomingLeaderStampsTheEpochAtTheLogEnd) {
  auto p = make();
  append(*p, 5);  // epoch 0, single-node
  ASSERT_TRUE(p->become_leader(leader(3, 1, {1, 2}, {1, 2})).is_ok());
  auto latest = p->log().leader_epochs().latest();
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->epoch, 3);
  EXPECT_EQ(latest->start_offset, 5);
  // Where epoch 0 ends, for a follower reconciling: where epoch 3 began.
  auto end = p->log().leader_epochs().end_offset_for(0, p->log().log_end_offset());
  ASSERT_TRUE(end);
  EXPECT_EQ(end->start_offset, 5);
  append(*p, 1);
  EXPECT_EQ(p->log().leader_epochs().entries().size(), 2u) << "appends do not re-stamp the epoch";
}

TEST_F(PartitionReplicationTest, RejectsInconsistentAndStaleStates) {
  auto p = make();
  EXPECT_EQ(p->become_leader(leader(1, 1, {2, 3}, {2})).code(), ErrorCode::kInvalidRequest)
      << "the local broker must be a replica";
  EXPECT_EQ(p->become_leader(leader(1, 1, {1, 2}, {2})).code(), ErrorCode::kInvalidRequest)
      << "the leader must be in the ISR";
  EXPECT_EQ(p->become_leader(leader(1, 1, {1, 2}, {1, 3})).code(), ErrorCode::kInvalidRequest)
      << "ISR members must be replicas";
  EXPECT_EQ(p->become_leader(leader(1, 1, {1, 1}, {1})).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(p->become_leader(leader(-1, 1, {1}, {1})).code(), ErrorCode::kInvalidRequest);
  ASSERT_TRUE(p->become_leader(leader(5, 3, {1, 2}, {1, 2})).is_ok());
  EXPECT_EQ(p->become_leader(leader(4, 9, {1, 2}, {1, 2})).code(), ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->become_leader(leader(5, 2, {1, 2}, {1, 2})).code(), ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->become_follower({.leader_epoch = 4, .partition_epoch = 9, .leader_id = 2}).code(),
            ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->become_follower({.leader_epoch = 6, .partition_epoch = 9, .leader_id = 1}).code(),
            ErrorCode::kInvalidRequest)
      << "a broker cannot follow itself";
  EXPECT_EQ(p->become_follower({.leader_epoch = 6, .partition_epoch = 9, .leader_id = -2}).code(),
            ErrorCode::kInvalidRequest)
      << "-1 is no leader, -2 nothing";
  EXPECT_TRUE(p->is_leader());
  EXPECT_EQ(p->leader_epoch(), 5);
}

TEST_F(PartitionReplicationTest, FollowerRefusesLeaderWorkAndChecksEpochs) {
  auto p = make();
  append(*p, 4);
  ASSERT_TRUE(p->become_follower(
                   {.leader_epoch = 2, .partition_epoch = 1, .leader_id = 2, .replicas = {1, 2}})
                  .is_ok());
  EXPECT_FALSE(p->is_leader());
  EXPECT_EQ(p->leader_id(), 2);
  std::string batch = make_batch(1);
  EXPECT_EQ(p->append_as_leader(as_writable_bytes(batch), 1).code(), ErrorCode::kNotLeader);
  EXPECT_EQ(p->check_leader(-1), ErrorCode::kNotLeader);
  EXPECT_EQ(p->check_leader(1), ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->check_leader(3), ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(p->record_follower_fetch(3, 0), ErrorCode::kNotLeader);
  // Follower appends must be in the epoch it follows and continue the log.
  Result<LogReadResult> read = p->log().read(0, 1 << 20);
  ASSERT_TRUE(read.is_ok());
  std::string copy = read->bytes;
  EXPECT_EQ(p->append_as_follower(as_writable_bytes(copy), 1).code(),
            ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->append_as_follower(as_writable_bytes(copy), 3).code(),
            ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(p->append_as_follower(as_writable_bytes(copy), 2).code(), ErrorCode::kOffsetOutOfRange)
      << "batches at 0..3 do not continue a log ending at 4";
  // The high watermark is min(leader's, own end), and truncation caps it.
  p->update_follower_high_watermark(100);
  EXPECT_EQ(p->high_watermark(), 4);
  ASSERT_TRUE(p->truncate_to(2, 2).is_ok());
  EXPECT_EQ(p->log().log_end_offset(), 2);
  EXPECT_EQ(p->high_watermark(), 2);
  EXPECT_EQ(p->truncate_to(0, 1).code(), ErrorCode::kFencedLeaderEpoch);
  ASSERT_TRUE(p->truncate_fully_and_start_at(40, 2).is_ok());
  EXPECT_EQ(p->log().log_start_offset(), 40);
  EXPECT_EQ(p->high_watermark(), 40);
}

TEST_F(PartitionReplicationTest, ReplicaOfALeaderlessPartitionWaitsForALeader) {
  auto p = make();
  append(*p, 2);
  ASSERT_TRUE(p->become_leader(leader(3, 4, {1}, {1})).is_ok());
  // Its broker went away and came back: the metadata names no leader yet.
  Status leaderless = p->become_follower(
      {.leader_epoch = 4, .partition_epoch = 6, .leader_id = kNoLeaderId, .replicas = {1}});
  ASSERT_TRUE(leaderless.is_ok()) << leaderless.to_string();
  EXPECT_FALSE(p->is_leader());
  EXPECT_EQ(p->leader_id(), kNoLeaderId);
  std::string batch = make_batch(1);
  Result<AppendResult> refused = p->append_as_leader(as_writable_bytes(batch), 1);
  EXPECT_EQ(refused.code(), ErrorCode::kLeaderNotAvailable) << "retriable: an election is due";
  EXPECT_EQ(p->check_leader(-1), ErrorCode::kLeaderNotAvailable);
  EXPECT_EQ(p->check_leader(3), ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kNotLeader);
  EXPECT_EQ(p->high_watermark(), 2) << "its log is kept";
  // Elected again: it leads from its log end in the new epoch.
  ASSERT_TRUE(p->become_leader(leader(5, 7, {1}, {1})).is_ok());
  EXPECT_EQ(append(*p, 1), 2);
  EXPECT_EQ(p->log().leader_epochs().latest()->epoch, 5);
}

TEST_F(PartitionReplicationTest, ShrinkProposesDroppingFollowersThatStoppedCatchingUp) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2, 3}, {1, 2, 3})).is_ok());
  append(*p, 5);
  p->maybe_shrink_isr();
  EXPECT_TRUE(changer_.proposals.empty()) << "ISR members start caught up";
  now_ += 60;
  ASSERT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);  // 2 keeps up, 3 is silent
  now_ += 60;
  p->maybe_shrink_isr();
  ASSERT_EQ(changer_.proposals.size(), 1u);
  const IsrProposal& proposal = changer_.proposals[0];
  EXPECT_EQ(proposal.isr, (std::vector<int32_t>{1, 2}));
  EXPECT_FALSE(proposal.expansion);
  EXPECT_EQ(proposal.leader_epoch, 1);
  EXPECT_EQ(proposal.partition_epoch, 1);
  // Pending shrink: the current ISR still counts (3 still holds the HW back).
  EXPECT_EQ(p->isr(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(p->maximal_isr(), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(p->high_watermark(), 0);
  now_ += 500;
  p->maybe_shrink_isr();
  EXPECT_EQ(changer_.proposals.size(), 1u) << "one change in flight at a time";
  changer_.answer(0, Status::ok());
  EXPECT_TRUE(p->pending_isr_change()) << "accepted, but not committed yet";
  // The committed metadata applies it.
  ASSERT_TRUE(p->become_leader(leader(1, 2, {1, 2, 3}, {1, 2})).is_ok());
  EXPECT_FALSE(p->pending_isr_change());
  EXPECT_EQ(p->high_watermark(), 5) << "only 1 and 2 count now";
}

TEST_F(PartitionReplicationTest, LastCaughtUpTimeFollowsKafkasRule) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1, 2})).is_ok());
  append(*p, 5);
  now_ += 10;
  ASSERT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kNone);  // behind the end (5)
  now_ += 10;
  // Reaching the end as of its previous fetch (5) makes it caught up as of then.
  append(*p, 1);
  ASSERT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);
  auto followers = p->followers();
  ASSERT_EQ(followers.size(), 1u);
  EXPECT_EQ(followers[0].last_caught_up_ms, 1010);
  EXPECT_EQ(followers[0].last_fetch_ms, 1020);
  EXPECT_EQ(followers[0].log_end_offset, 5);
  now_ += 10;
  ASSERT_EQ(p->record_follower_fetch(2, 6), ErrorCode::kNone);
  EXPECT_EQ(p->followers()[0].last_caught_up_ms, 1030) << "fetched from the end: caught up now";
}

TEST_F(PartitionReplicationTest, ExpansionUsesTheMaximalIsrWhilePending) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1})).is_ok());
  append(*p, 5);
  EXPECT_EQ(p->high_watermark(), 5) << "alone in the ISR, the leader commits at once";
  ASSERT_EQ(p->record_follower_fetch(2, 3), ErrorCode::kNone);
  EXPECT_TRUE(changer_.proposals.empty()) << "not caught up to the HW";
  ASSERT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);
  ASSERT_EQ(changer_.proposals.size(), 1u);
  EXPECT_TRUE(changer_.proposals[0].expansion);
  EXPECT_EQ(changer_.proposals[0].isr, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(p->isr(), (std::vector<int32_t>{1}));
  EXPECT_EQ(p->maximal_isr(), (std::vector<int32_t>{1, 2}));
  // The joining replica already holds the HW and acks=all back.
  int64_t last = append(*p, 3, -1);
  EXPECT_EQ(p->high_watermark(), 5);
  EXPECT_EQ(p->acks_all_outcome(last, 1), std::nullopt);
  ASSERT_EQ(p->record_follower_fetch(2, 8), ErrorCode::kNone);
  EXPECT_EQ(p->high_watermark(), 8);
  EXPECT_EQ(p->acks_all_outcome(last, 1), ErrorCode::kNone);
  ASSERT_TRUE(p->become_leader(leader(1, 2, {1, 2}, {1, 2})).is_ok());
  EXPECT_FALSE(p->pending_isr_change());
  EXPECT_EQ(p->isr(), (std::vector<int32_t>{1, 2}));
}

TEST_F(PartitionReplicationTest, ExpansionWaitsForTheStartOfTheLeaderEpoch) {
  auto p = make();
  append(*p, 5);
  ASSERT_TRUE(p->become_follower(
                   {.leader_epoch = 1, .partition_epoch = 1, .leader_id = 3, .replicas = {1, 2, 3}})
                  .is_ok());
  p->update_follower_high_watermark(2);
  ASSERT_EQ(p->high_watermark(), 2);
  // Leader in epoch 2 from offset 5 with 3 in the ISR (silent): the HW stays at 2.
  ASSERT_TRUE(p->become_leader(leader(2, 2, {1, 2, 3}, {1, 3})).is_ok());
  ASSERT_EQ(p->high_watermark(), 2);
  ASSERT_EQ(p->record_follower_fetch(2, 3), ErrorCode::kNone);
  EXPECT_TRUE(changer_.proposals.empty()) << "past the HW but short of the epoch start (5)";
  ASSERT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);
  ASSERT_EQ(changer_.proposals.size(), 1u);
  EXPECT_EQ(changer_.proposals[0].isr, (std::vector<int32_t>{1, 3, 2}));
}

TEST_F(PartitionReplicationTest, FailedProposalIsRetriedAfterTheBackOff) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1})).is_ok());
  ASSERT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kNone);
  ASSERT_EQ(changer_.proposals.size(), 1u);
  changer_.answer(0, Status(ErrorCode::kNotController, "no controller"));
  EXPECT_FALSE(p->pending_isr_change());
  EXPECT_EQ(p->maximal_isr(), (std::vector<int32_t>{1}));
  ASSERT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kNone);
  EXPECT_EQ(changer_.proposals.size(), 1u) << "backing off";
  now_ += 51;
  ASSERT_EQ(p->record_follower_fetch(2, 0), ErrorCode::kNone);
  ASSERT_EQ(changer_.proposals.size(), 2u);
  changer_.answer(0, Status(ErrorCode::kNotController, "late answer to the first"));
  EXPECT_TRUE(p->pending_isr_change()) << "an answer to an older proposal changes nothing";
}

TEST_F(PartitionReplicationTest, AcksAllOutcomes) {
  auto p = make(/*min_insync_replicas=*/2);
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2, 3}, {1, 2})).is_ok());
  int64_t last = append(*p, 5, -1);
  EXPECT_EQ(p->acks_all_outcome(last, 1), std::nullopt);
  ASSERT_EQ(p->record_follower_fetch(2, 5), ErrorCode::kNone);
  EXPECT_EQ(p->acks_all_outcome(last, 1), ErrorCode::kNone);

  p->set_min_insync_replicas(3);
  std::string batch = make_batch(1);
  Result<AppendResult> refused = p->append_as_leader(as_writable_bytes(batch), -1);
  EXPECT_EQ(refused.code(), ErrorCode::kNotEnoughReplicas);
  EXPECT_NE(refused.status().message().find("min.insync.replicas is 3"), std::string::npos);
  EXPECT_EQ(p->log().log_end_offset(), 5) << "refused before the append";
  EXPECT_TRUE(p->append_as_leader(as_writable_bytes(batch), 1).is_ok()) << "acks=1 is not";

  // The ISR shrinks below min.insync.replicas while a batch waits.
  p->set_min_insync_replicas(2);
  last = append(*p, 1, -1);
  ASSERT_TRUE(p->become_leader(leader(1, 2, {1, 2, 3}, {1})).is_ok());
  EXPECT_EQ(p->acks_all_outcome(last, 1), ErrorCode::kNotEnoughReplicasAfterAppend);

  // Leadership moves while a batch waits.
  ASSERT_TRUE(p->become_leader(leader(2, 3, {1, 2, 3}, {1, 2})).is_ok());
  last = append(*p, 1, -1);
  EXPECT_EQ(p->acks_all_outcome(last, 1), ErrorCode::kNotLeader) << "appended in another epoch";
  EXPECT_EQ(p->acks_all_outcome(last, 2), std::nullopt);
  ASSERT_TRUE(
      p->become_follower({.leader_epoch = 3, .partition_epoch = 4, .leader_id = 2}).is_ok());
  EXPECT_EQ(p->acks_all_outcome(last, 2), ErrorCode::kNotLeader);
}

TEST_F(PartitionReplicationTest, WaitersWakeOnTheirBoundAndOnRoleChanges) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1, 2})).is_ok());
  int hw_wakes = 0, end_wakes = 0, role_wakes = 0;
  p->on_data_after(
      0, [&] { hw_wakes++; }, WaitBound::kHighWatermark);
  p->on_data_after(
      0, [&] { end_wakes++; }, WaitBound::kLogEnd);
  append(*p, 2);
  EXPECT_EQ(end_wakes, 1) << "a follower's long poll wakes on the append";
  EXPECT_EQ(hw_wakes, 0) << "a consumer's waits for the HW";
  ASSERT_EQ(p->record_follower_fetch(2, 2), ErrorCode::kNone);
  EXPECT_EQ(hw_wakes, 1);
  EXPECT_EQ(p->on_data_after(1, [&] { hw_wakes++; }), 0u) << "already past: woken at once";
  EXPECT_EQ(hw_wakes, 2);
  uint64_t ticket = p->on_data_after(5, [&] { role_wakes++; });
  EXPECT_NE(ticket, 0u);
  ASSERT_TRUE(
      p->become_follower({.leader_epoch = 2, .partition_epoch = 2, .leader_id = 2}).is_ok());
  EXPECT_EQ(role_wakes, 1) << "waiters re-check after a role change";
}

TEST_F(PartitionReplicationTest, DeleteRecordsMovesTheLogStartAndWaitsForTheIsrsLowWatermark) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2, 3}, {1, 2, 3})).is_ok());
  append(*p, 10);
  ASSERT_EQ(p->record_follower_fetch(2, 10, 0), ErrorCode::kNone);
  ASSERT_EQ(p->record_follower_fetch(3, 8, 0), ErrorCode::kNone);
  ASSERT_EQ(p->high_watermark(), 8);
  EXPECT_EQ(p->low_watermark(), 0);
  // Only committed records can go; -1 means the high watermark.
  EXPECT_EQ(p->delete_records(9).code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(p->delete_records(-2).code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(p->log().log_start_offset(), 0);

  bool woken = false;
  int32_t epoch = -1;
  Result<int64_t> start = p->delete_records(5, &epoch);
  ASSERT_TRUE(start.is_ok()) << start.status().to_string();
  EXPECT_EQ(*start, 5);
  EXPECT_EQ(epoch, 1);
  EXPECT_EQ(p->log().log_start_offset(), 5);
  EXPECT_EQ(p->delete_outcome(5, 1), std::nullopt) << "the followers still hold offsets 0-4";
  EXPECT_NE(p->on_data_after(
                4, [&] { woken = true; }, WaitBound::kLowWatermark),
            0u);
  ASSERT_EQ(p->record_follower_fetch(2, 10, 5), ErrorCode::kNone);
  EXPECT_EQ(p->low_watermark(), 0) << "follower 3 has not deleted yet";
  EXPECT_FALSE(woken);
  ASSERT_EQ(p->record_follower_fetch(3, 10, 5), ErrorCode::kNone);
  EXPECT_EQ(p->low_watermark(), 5);
  EXPECT_TRUE(woken);
  EXPECT_EQ(p->delete_outcome(5, 1), ErrorCode::kNone);
  EXPECT_EQ(p->delete_outcome(5, 0), ErrorCode::kNotLeader) << "another leader epoch";

  // Up to the high watermark, and never backwards.
  Result<int64_t> to_hw = p->delete_records(-1);
  ASSERT_TRUE(to_hw.is_ok());
  EXPECT_EQ(*to_hw, 10);
  Result<int64_t> back = p->delete_records(3);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, 10) << "a lower offset leaves the log start where it is";
}

TEST_F(PartitionReplicationTest, DeleteRecordsWakesFollowerFetchesAndIsRefusedOnAFollower) {
  auto p = make();
  ASSERT_TRUE(p->become_leader(leader(1, 1, {1, 2}, {1, 2})).is_ok());
  append(*p, 4);
  ASSERT_EQ(p->record_follower_fetch(2, 4, 0), ErrorCode::kNone);
  bool follower_woken = false, consumer_woken = false;
  p->on_data_after(
      4, [&] { follower_woken = true; }, WaitBound::kLogEnd);
  p->on_data_after(
      4, [&] { consumer_woken = true; }, WaitBound::kHighWatermark);
  ASSERT_TRUE(p->delete_records(2).is_ok());
  EXPECT_TRUE(follower_woken) << "its answer carries the new log start";
  EXPECT_FALSE(consumer_woken);

  ASSERT_TRUE(p->become_follower(
                   {.leader_epoch = 2, .partition_epoch = 2, .leader_id = 2, .replicas = {1, 2}})
                  .is_ok());
  EXPECT_EQ(p->delete_records(3).code(), ErrorCode::kNotLeader);
  EXPECT_EQ(p->low_watermark(), -1);
}

TEST_F(PartitionReplicationTest, AFollowerFollowsTheLeadersLogStartUpToItsHighWatermark) {
  auto p = make();
  append(*p, 10);  // as the single-node leader it starts as
  ASSERT_TRUE(p->become_follower(
                   {.leader_epoch = 1, .partition_epoch = 1, .leader_id = 2, .replicas = {1, 2}})
                  .is_ok());
  p->update_follower_high_watermark(6);
  ASSERT_EQ(p->high_watermark(), 6);
  ASSERT_TRUE(p->follow_log_start(8, 1).is_ok());
  EXPECT_EQ(p->log().log_start_offset(), 6) << "not past what it knows is committed";
  p->update_follower_high_watermark(10);
  ASSERT_TRUE(p->follow_log_start(8, 1).is_ok());
  EXPECT_EQ(p->log().log_start_offset(), 8);
  ASSERT_TRUE(p->follow_log_start(3, 1).is_ok());
  EXPECT_EQ(p->log().log_start_offset(), 8) << "never backwards";
  EXPECT_EQ(p->follow_log_start(9, 0).code(), ErrorCode::kFencedLeaderEpoch);
}

}  // namespace
}  // namespace mq::broker
