// Delayed delivery in the log (store/schedule_index.h, Log::append): every
// append of scheduled records, delivered copies and cancel records moves the
// partition's schedule, on leader and follower appends alike; bad scheduled
// batches are refused; the schedule survives restarts (snapshot, or the log
// alone), follows truncation (a cut copy puts its message back) and
// retention.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "store/log.h"
#include "store/schedule_index.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;
using Entry = ScheduleIndex::Entry;

class ScheduleTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.fsync_policy = FsyncPolicy::kNever;
    c.clock_ms = [this] { return now_ms_.load(); };
    return c;
  }
  std::unique_ptr<Log> open(const std::string& dir, const LogConfig& c) {
    Result<std::unique_ptr<Log>> log = Log::open(dir, c);
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  // A scheduled batch: one record per delivery time.
  static std::string scheduled(const std::vector<int64_t>& times) {
    RecordBatchBuilder builder;
    builder.set_schedule_bits(kAttrScheduled);
    for (int64_t at : times) {
      std::string value = std::to_string(at);
      RecordHeader h{kDeliverAtHeader, value};
      builder.add(1'000'000, std::nullopt, "v" + value, std::span(&h, 1));
    }
    return *builder.build();
  }
  // Delivered copies (kAttrDelivered) or cancel records (kAttrScheduled) of `entries`.
  static std::string marks(const std::vector<Entry>& entries, bool cancel) {
    RecordBatchBuilder builder;
    builder.set_schedule_bits(cancel ? kAttrScheduled : kAttrDelivered);
    for (const Entry& e : entries) {
      std::string at = std::to_string(e.deliver_at);
      std::string target = std::to_string(e.offset);
      RecordHeader h[2] = {{kDeliverAtHeader, at},
                           {cancel ? kDelayedCancelHeader : kDelayedFromHeader, target}};
      builder.add(1'000'000, std::nullopt, "copy", h);
    }
    return *builder.build();
  }
  static Result<AppendResult> append(Log& log, std::string bytes, bool internal = false) {
    return log.append(as_writable_bytes(bytes), AppendOptions{.internal = internal});
  }

  TempDir dir_;
  std::atomic<int64_t> now_ms_{1'000'000};
};

TEST(ScheduleIndexTest, DueInTimeOrderAndRemovalsComeBackOnTruncation) {
  ScheduleIndex index;
  index.add({300, 0});
  index.add({100, 1});
  index.add({200, 2});
  EXPECT_EQ(index.next_at(), 100);
  EXPECT_EQ(index.due(200, 10), (std::vector<Entry>{{100, 1}, {200, 2}}));
  EXPECT_EQ(index.due(200, 1), (std::vector<Entry>{{100, 1}}));
  EXPECT_TRUE(index.remove({100, 1}, 5));
  EXPECT_FALSE(index.remove({100, 1}, 6));  // not pending any more
  EXPECT_TRUE(index.remove({200, 2}, 7));
  index.forget_removals_below(6);  // the removal at 5 is committed
  index.truncate_from(6);          // cuts the removal at 7
  EXPECT_EQ(index.list(10), (std::vector<Entry>{{200, 2}, {300, 0}}));
  index.truncate_from(1);  // cuts the entries at 1 and 2 themselves
  EXPECT_EQ(index.list(10), (std::vector<Entry>{{300, 0}}));
  EXPECT_EQ(index.drop_below(1), 1u);
  EXPECT_EQ(index.size(), 0u);
}

TEST_F(ScheduleTest, AppendsScheduleDeliverAndCancel) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, scheduled({2'000'000, 1'500'000, 3'000'000})).is_ok());
  EXPECT_EQ(log->scheduled_count(), 3u);
  EXPECT_EQ(log->next_scheduled_at(), 1'500'000);
  EXPECT_EQ(log->due_scheduled(2'000'000, 10),
            (std::vector<Entry>{{1'500'000, 1}, {2'000'000, 0}}));
  EXPECT_EQ(log->scheduled_entry(2), (Entry{3'000'000, 2}));
  // The leader's copies of two and a cancel of the third.
  ASSERT_TRUE(append(*log, marks({{1'500'000, 1}, {2'000'000, 0}}, false), true).is_ok());
  EXPECT_EQ(log->list_scheduled(10), (std::vector<Entry>{{3'000'000, 2}}));
  ASSERT_TRUE(append(*log, marks({{3'000'000, 2}}, true), true).is_ok());
  EXPECT_EQ(log->scheduled_count(), 0u);
}

TEST_F(ScheduleTest, ProducersMayNotWriteCopiesCancelsOrStrayHeaders) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, scheduled({2'000'000})).is_ok());
  Result<AppendResult> copy = append(*log, marks({{2'000'000, 0}}, false));
  EXPECT_EQ(copy.code(), ErrorCode::kInvalidRecord) << copy.status().to_string();
  Result<AppendResult> cancel = append(*log, marks({{2'000'000, 0}}, true));
  EXPECT_EQ(cancel.code(), ErrorCode::kInvalidRecord);
  EXPECT_EQ(log->scheduled_count(), 1u);

  // A deliver-at header in a batch without the scheduled bit.
  RecordBatchBuilder plain;
  RecordHeader h{kDeliverAtHeader, "2000000"};
  plain.add(1'000'000, std::nullopt, "v", std::span(&h, 1));
  Result<AppendResult> stray = append(*log, *plain.build());
  EXPECT_EQ(stray.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(stray.status().message().find("bit 6"), std::string::npos);

  // A scheduled batch with a record lacking a good deliver-at.
  for (std::string_view bad : {"", "12a", "-5", "1234567890123456789"}) {
    RecordBatchBuilder b;
    b.set_schedule_bits(kAttrScheduled);
    RecordHeader at{kDeliverAtHeader, bad};
    b.add(1'000'000, std::nullopt, "v", std::span(&at, 1));
    Result<AppendResult> r = append(*log, *b.build());
    EXPECT_EQ(r.code(), ErrorCode::kInvalidRecord) << bad;
    EXPECT_NE(r.status().message().find("mq.deliver-at"), std::string::npos) << bad;
  }
  RecordBatchBuilder none;
  none.set_schedule_bits(kAttrScheduled);
  none.add(1'000'000, std::nullopt, "v");
  EXPECT_EQ(append(*log, *none.build()).code(), ErrorCode::kInvalidRecord);
  EXPECT_EQ(log->scheduled_count(), 1u);
  EXPECT_EQ(log->log_end_offset(), 1);
}

TEST_F(ScheduleTest, RefusedBeyondRetentionAndOnCompactedTopics) {
  LogConfig c = config();
  c.retention_ms = 60'000;
  auto log = open(dir_.path(), c);
  Result<AppendResult> late = append(*log, scheduled({now_ms_ + 61'000}));
  EXPECT_EQ(late.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(late.status().message().find("retention.ms"), std::string::npos);
  EXPECT_TRUE(append(*log, scheduled({now_ms_ + 59'000})).is_ok());
  log.reset();

  LogConfig compacted = config();
  compacted.cleanup_policy = CleanupPolicy::kCompact;
  auto clog = open(dir_.path() + "/compacted", compacted);
  RecordBatchBuilder b;
  b.set_schedule_bits(kAttrScheduled);
  RecordHeader at{kDeliverAtHeader, "2000000"};
  b.add(1'000'000, std::string_view("k"), "v", std::span(&at, 1));
  Result<AppendResult> r = append(*clog, *b.build());
  EXPECT_EQ(r.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(r.status().message().find("compacted"), std::string::npos);
}

TEST_F(ScheduleTest, SurvivesRestartsFromTheSnapshotAndFromTheLogAlone) {
  {
    auto log = open(dir_.path(), config());
    ASSERT_TRUE(append(*log, scheduled({2'000'000, 3'000'000, 4'000'000})).is_ok());
    ASSERT_TRUE(append(*log, marks({{2'000'000, 0}}, false), true).is_ok());
    ASSERT_TRUE(log->close().is_ok());
  }
  const std::vector<Entry> expected{{3'000'000, 1}, {4'000'000, 2}};
  {
    auto log = open(dir_.path(), config());  // from the snapshot
    EXPECT_EQ(log->list_scheduled(10), expected);
    // Appended after the snapshot: replayed from the log on the next open.
    ASSERT_TRUE(append(*log, marks({{3'000'000, 1}}, true), true).is_ok());
    ASSERT_TRUE(append(*log, scheduled({5'000'000})).is_ok());
  }  // not closed: an unclean stop, the snapshot is the one written at open
  const std::vector<Entry> after{{4'000'000, 2}, {5'000'000, 5}};
  {
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->list_scheduled(10), after);
    ASSERT_TRUE(log->close().is_ok());
  }
  // Without a snapshot the whole log is read.
  std::filesystem::remove(dir_.path() + "/delayed-schedule.checkpoint");
  {
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->list_scheduled(10), after);
    ASSERT_TRUE(log->close().is_ok());
  }
  // A damaged snapshot is reported and the log read instead.
  {
    std::ofstream(dir_.path() + "/delayed-schedule.checkpoint")
        << "mq-delayed-schedule 1\ngarbage\n";
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->list_scheduled(10), after);
    bool noted = false;
    for (const std::string& note : log->recovery_report().notes) {
      noted = noted || note.find("schedule read from the log") != std::string::npos;
    }
    EXPECT_TRUE(noted);
  }
}

TEST_F(ScheduleTest, TruncationPutsBackWhatACutCopyDelivered) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, scheduled({2'000'000, 3'000'000})).is_ok());  // offsets 0, 1
  log->note_committed(2);
  ASSERT_TRUE(append(*log, marks({{2'000'000, 0}}, false), true).is_ok());  // offset 2
  ASSERT_TRUE(append(*log, marks({{3'000'000, 1}}, true), true).is_ok());   // offset 3
  EXPECT_EQ(log->scheduled_count(), 0u);
  ASSERT_TRUE(log->truncate_to(3).is_ok());  // the cancel is cut: offset 1 is pending again
  EXPECT_EQ(log->list_scheduled(10), (std::vector<Entry>{{3'000'000, 1}}));
  ASSERT_TRUE(log->truncate_to(1).is_ok());  // so is the scheduled record itself
  EXPECT_EQ(log->scheduled_count(), 0u);
  ASSERT_TRUE(log->close().is_ok());
  auto reopened = open(dir_.path(), config());
  EXPECT_EQ(reopened->scheduled_count(), 0u);
}

TEST_F(ScheduleTest, ARemovalSurvivesARestartUntilCommitted) {
  {
    auto log = open(dir_.path(), config());
    ASSERT_TRUE(append(*log, scheduled({2'000'000})).is_ok());                // offset 0
    ASSERT_TRUE(append(*log, marks({{2'000'000, 0}}, false), true).is_ok());  // offset 1
    ASSERT_TRUE(log->close().is_ok());
  }
  // The copy was never committed: a new leader's log may lack it, and the
  // truncation to that log puts the message back, after the restart too.
  auto log = open(dir_.path(), config());
  EXPECT_EQ(log->scheduled_count(), 0u);
  ASSERT_TRUE(log->truncate_to(1).is_ok());
  EXPECT_EQ(log->list_scheduled(10), (std::vector<Entry>{{2'000'000, 0}}));
  // A copy for a message no longer pending is refused: never delivered twice.
  ASSERT_TRUE(append(*log, marks({{2'000'000, 0}}, false), true).is_ok());
  Result<AppendResult> again = append(*log, marks({{2'000'000, 0}}, false), true);
  EXPECT_EQ(again.code(), ErrorCode::kInvalidRecord);
  EXPECT_EQ(log->scheduled_entry(0), std::nullopt);
}

TEST_F(ScheduleTest, FollowerAppendsBuildTheSameSchedule) {
  auto leader = open(dir_.path() + "/leader", config());
  auto follower = open(dir_.path() + "/follower", config());
  ASSERT_TRUE(append(*leader, scheduled({2'000'000, 3'000'000})).is_ok());
  ASSERT_TRUE(append(*leader, marks({{2'000'000, 0}}, false), true).is_ok());
  Result<LogReadResult> read = leader->read(0, 1 << 20);
  ASSERT_TRUE(read.is_ok());
  ASSERT_TRUE(follower->append(as_writable_bytes(read->bytes), {.assign_offsets = false}).is_ok());
  EXPECT_EQ(follower->list_scheduled(10), leader->list_scheduled(10));
  EXPECT_EQ(follower->list_scheduled(10), (std::vector<Entry>{{3'000'000, 1}}));
}

TEST_F(ScheduleTest, RetentionDropsWhatItDeletes) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, scheduled({2'000'000})).is_ok());
  ASSERT_TRUE(append(*log, scheduled({3'000'000})).is_ok());
  ASSERT_TRUE(append(*log, scheduled({4'000'000})).is_ok());
  ASSERT_TRUE(log->delete_records(2).is_ok());
  EXPECT_EQ(log->list_scheduled(10), (std::vector<Entry>{{4'000'000, 2}}));
}

}  // namespace
}  // namespace mq
