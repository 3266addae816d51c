// Log: append, read, lookups, rolling, truncation, retention, idempotence, fsync policies.
#include "store/log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/store/batches.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::make_batch;
using testing::make_idempotent_batch;
using testing::make_sized_batch;
using testing::TempDir;

class LogTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.clock_ms = [this] { return now_ms_.load(); };
    c.fsync_policy = FsyncPolicy::kNever;
    return c;
  }
  std::unique_ptr<Log> open(const LogConfig& c, const std::string& path = "") {
    Result<std::unique_ptr<Log>> log = Log::open(path.empty() ? dir_.path() : path, c);
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  AppendResult append(Log& log, std::string batch, AppendOptions options = {}) {
    Result<AppendResult> r = log.append(as_writable_bytes(batch), options);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : AppendResult{};
  }
  // All records readable from `offset` to the end, as decoded offsets.
  std::vector<int64_t> read_all_offsets(Log& log, int64_t offset) {
    std::vector<int64_t> out;
    RecordBatchReader reader;
    std::vector<Record> records;
    while (offset < log.log_end_offset()) {
      Result<LogReadResult> r = log.read(offset, 4096);
      EXPECT_TRUE(r.is_ok()) << r.status().to_string();
      if (!r.is_ok() || r->bytes.empty()) break;
      BatchCursor cursor(as_bytes(r->bytes));
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        EXPECT_TRUE(reader.decode(batch, &records).is_ok());
        for (const auto& rec : records) {
          if (rec.offset >= offset) out.push_back(rec.offset);
        }
      }
      offset = r->next_offset;
    }
    return out;
  }

  TempDir dir_;
  TempDir crashed_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
};

TEST_F(LogTest, AssignsDenseOffsetsAndReadsThemBack) {
  auto log = open(config());
  EXPECT_EQ(log->log_end_offset(), 0);
  AppendResult a = append(*log, make_batch(3));
  AppendResult b = append(*log, make_batch(5));
  EXPECT_EQ(a.base_offset, 0);
  EXPECT_EQ(a.last_offset, 2);
  EXPECT_EQ(b.base_offset, 3);
  EXPECT_EQ(b.last_offset, 7);
  EXPECT_EQ(log->log_end_offset(), 8);
  std::vector<int64_t> expected = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(read_all_offsets(*log, 0), expected);
  // A read from the middle of a batch returns that whole batch.
  Result<LogReadResult> mid = log->read(4, 1 << 20);
  ASSERT_TRUE(mid.is_ok());
  Result<BatchHeader> first = parse_batch_header(as_bytes(mid->bytes));
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->base_offset, 3);
  EXPECT_EQ(mid->next_offset, 8);
}

TEST_F(LogTest, AppendsSeveralBatchesAtOnce) {
  auto log = open(config());
  AppendResult r = append(*log, make_batch(2) + make_batch(3) + make_batch(1));
  EXPECT_EQ(r.base_offset, 0);
  EXPECT_EQ(r.last_offset, 5);
  EXPECT_EQ(r.record_count, 6);
  EXPECT_EQ(read_all_offsets(*log, 0).size(), 6u);
}

TEST_F(LogTest, RejectsBadInputWithoutChangingTheLog) {
  auto log = open(config());
  append(*log, make_batch(2));
  std::string corrupt = make_batch(2);
  corrupt[corrupt.size() - 1] ^= 0x01;
  EXPECT_EQ(log->append(as_writable_bytes(corrupt)).code(), ErrorCode::kCorruptMessage);
  std::string partial = make_batch(2) + make_batch(2).substr(0, 30);
  EXPECT_EQ(log->append(as_writable_bytes(partial)).code(), ErrorCode::kCorruptMessage);
  std::string empty;
  EXPECT_EQ(log->append(as_writable_bytes(empty)).code(), ErrorCode::kInvalidRequest);
  LogConfig small = config();
  log.reset();
  small.max_batch_bytes = 200;
  log = open(small);
  std::string big = make_sized_batch(500);
  EXPECT_EQ(log->append(as_writable_bytes(big)).code(), ErrorCode::kMessageTooLarge);
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_EQ(read_all_offsets(*log, 0).size(), 2u);
}

TEST_F(LogTest, BytesFromCountsWhatAReplicaAtAnOffsetHasToCopy) {
  LogConfig c = config();
  c.segment_bytes = 3500;  // three 1000-byte batches per segment
  auto log = open(c);
  std::vector<int64_t> batch_starts;
  for (int i = 0; i < 10; i++)
    batch_starts.push_back(append(*log, make_sized_batch(1000)).base_offset);
  ASSERT_GT(log->segment_count(), 2u);
  uint64_t total = log->size_bytes();
  EXPECT_EQ(*log->bytes_from(0), total);
  EXPECT_EQ(*log->bytes_from(-5), total) << "older than the start: all of it";
  EXPECT_EQ(*log->bytes_from(log->log_end_offset()), 0u);
  EXPECT_EQ(*log->bytes_from(log->log_end_offset() + 7), 0u);
  uint64_t batch = total / 10;
  for (int i = 0; i < 10; i++) {
    EXPECT_EQ(*log->bytes_from(batch_starts[i]), total - batch * i) << "from batch " << i;
  }
}

TEST_F(LogTest, ReadRespectsByteLimitButReturnsAtLeastOneBatch) {
  auto log = open(config());
  for (int i = 0; i < 10; i++) append(*log, make_sized_batch(1000));
  Result<LogReadResult> r = log->read(0, 2500);
  ASSERT_TRUE(r.is_ok());
  BatchCursor cursor(as_bytes(r->bytes));
  int batches = 0;
  while (!cursor.next().empty()) batches++;
  EXPECT_EQ(batches, 2);
  Result<LogReadResult> tiny = log->read(0, 10);
  ASSERT_TRUE(tiny.is_ok());
  EXPECT_GT(tiny->bytes.size(), 1000u) << "one whole batch even when larger than the limit";
}

TEST_F(LogTest, ReadStopsAtMaxOffset) {
  auto log = open(config());
  for (int i = 0; i < 5; i++) append(*log, make_batch(2));
  Result<LogReadResult> r = log->read(0, 1 << 20, /*max_offset=*/6);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->next_offset, 6);
  Result<LogReadResult> none = log->read(6, 1 << 20, 6);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->bytes.empty());
}

TEST_F(LogTest, ReadOutsideTheLogIsOutOfRange) {
  auto log = open(config());
  append(*log, make_batch(2));
  EXPECT_EQ(log->read(3, 100).code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(log->read(-1, 100).code(), ErrorCode::kOffsetOutOfRange);
  Result<LogReadResult> at_end = log->read(2, 100);
  ASSERT_TRUE(at_end.is_ok());
  EXPECT_TRUE(at_end->bytes.empty());
}

TEST_F(LogTest, RollsSegmentsBySizeAndReadsAcrossThem) {
  LogConfig c = config();
  c.segment_bytes = 4096;
  c.index_interval_bytes = 512;
  auto log = open(c);
  for (int i = 0; i < 40; i++) append(*log, make_sized_batch(300));
  EXPECT_GT(log->segment_count(), 3u);
  std::vector<int64_t> all = read_all_offsets(*log, 0);
  ASSERT_EQ(all.size(), 40u);
  for (int64_t i = 0; i < 40; i++) EXPECT_EQ(all[i], i);
  for (int64_t i = 0; i < 40; i++) {
    Result<LogReadResult> r = log->read(i, 1);
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(parse_batch_header(as_bytes(r->bytes))->base_offset, i);
  }
}

TEST_F(LogTest, RollsSegmentsByAge) {
  LogConfig c = config();
  c.segment_ms = 1000;
  auto log = open(c);
  append(*log, make_batch(1, now_ms_));
  append(*log, make_batch(1, now_ms_));
  EXPECT_EQ(log->segment_count(), 1u);
  now_ms_ += 1500;
  append(*log, make_batch(1, now_ms_));
  EXPECT_EQ(log->segment_count(), 2u);
  EXPECT_EQ(log->segment_base_offsets().back(), 2);
}

TEST_F(LogTest, FindsOffsetForTimestamp) {
  LogConfig c = config();
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  auto log = open(c);
  // 50 batches of 4 records, timestamps 10000 + 10*i + j
  for (int i = 0; i < 50; i++) append(*log, make_batch(4, 10000 + 10 * i));
  auto lookup = [&](int64_t ts) {
    Result<std::optional<int64_t>> r = log->offset_for_timestamp(ts);
    EXPECT_TRUE(r.is_ok());
    return r.is_ok() && *r ? **r : -1;
  };
  EXPECT_EQ(lookup(0), 0);
  EXPECT_EQ(lookup(10000), 0);
  EXPECT_EQ(lookup(10002), 2);
  EXPECT_EQ(lookup(10004), 4) << "between batches: first record of the next";
  EXPECT_EQ(lookup(10253), 103);
  EXPECT_EQ(lookup(10493), 199);
  EXPECT_EQ(lookup(10494), -1) << "later than everything";
}

TEST_F(LogTest, TimestampLookupSurvivesReopen) {
  LogConfig c = config();
  c.segment_bytes = 2048;
  c.index_interval_bytes = 256;
  {
    auto log = open(c);
    for (int i = 0; i < 30; i++) append(*log, make_batch(4, 10000 + 10 * i));
  }
  auto log = open(c);
  Result<std::optional<int64_t>> r = log->offset_for_timestamp(10151);
  ASSERT_TRUE(r.is_ok() && r->has_value());
  EXPECT_EQ(**r, 61);
}

TEST_F(LogTest, TruncatesToAnOffsetAcrossSegments) {
  LogConfig c = config();
  c.segment_bytes = 1024;
  auto log = open(c);
  for (int i = 0; i < 30; i++) append(*log, make_batch(4), {.leader_epoch = i < 15 ? 1 : 2});
  size_t segments = log->segment_count();
  ASSERT_GT(segments, 2u);
  ASSERT_TRUE(log->truncate_to(42).is_ok());
  EXPECT_EQ(log->log_end_offset(), 40) << "whole batches: 40..43 goes";
  EXPECT_LT(log->segment_count(), segments);
  EXPECT_EQ(read_all_offsets(*log, 0).size(), 40u);
  EXPECT_EQ(log->leader_epochs().latest()->epoch, 1);
  AppendResult next = append(*log, make_batch(2), {.leader_epoch = 3});
  EXPECT_EQ(next.base_offset, 40);
  EXPECT_EQ(log->leader_epochs().latest()->epoch, 3);
  EXPECT_EQ(log->leader_epochs().latest()->start_offset, 40);
  log.reset();
  log = open(c);
  EXPECT_EQ(log->log_end_offset(), 42);
  EXPECT_EQ(read_all_offsets(*log, 0).size(), 42u);
}

TEST_F(LogTest, TruncateBelowStartEmptiesTheLog) {
  auto log = open(config());
  append(*log, make_batch(5));
  ASSERT_TRUE(log->delete_records_before(5).is_ok());
  ASSERT_TRUE(log->truncate_to(2).is_ok());
  EXPECT_EQ(log->log_start_offset(), 2);
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_EQ(append(*log, make_batch(1)).base_offset, 2);
}

TEST_F(LogTest, TruncateFullyStartsAtNewOffset) {
  auto log = open(config());
  append(*log, make_batch(5));
  ASSERT_TRUE(log->truncate_fully_and_start_at(1000).is_ok());
  EXPECT_EQ(log->log_start_offset(), 1000);
  EXPECT_EQ(log->log_end_offset(), 1000);
  EXPECT_EQ(append(*log, make_batch(1)).base_offset, 1000);
  log.reset();
  log = open(config());
  EXPECT_EQ(log->log_start_offset(), 1000);
  EXPECT_EQ(log->log_end_offset(), 1001);
}

TEST_F(LogTest, FollowerAppendsKeepOffsetsAndNeverOverlapTheLog) {
  auto log = open(config());
  std::string batch = make_batch(3);
  set_base_offset(as_writable_bytes(batch), 0);
  set_leader_epoch(as_writable_bytes(batch), 4);
  Result<AppendResult> ok = log->append(as_writable_bytes(batch), {.assign_offsets = false});
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(log->leader_epochs().latest()->epoch, 4);
  // Offsets 3..9 were compacted away on the leader with their batches: the
  // follower copies the gap as it is.
  std::string after_gap = make_batch(2);
  set_base_offset(as_writable_bytes(after_gap), 10);
  set_leader_epoch(as_writable_bytes(after_gap), 4);
  Result<AppendResult> gap = log->append(as_writable_bytes(after_gap), {.assign_offsets = false});
  ASSERT_TRUE(gap.is_ok()) << gap.status().to_string();
  EXPECT_EQ(gap->base_offset, 10);
  EXPECT_EQ(log->log_end_offset(), 12);
  EXPECT_EQ(read_all_offsets(*log, 0), (std::vector<int64_t>{0, 1, 2, 10, 11}));
  EXPECT_EQ(read_all_offsets(*log, 5), (std::vector<int64_t>{10, 11})) << "a read in the gap";
  // Below the end is a divergence, never an append.
  for (int64_t base : {0, 11}) {
    std::string overlap = make_batch(2);
    set_base_offset(as_writable_bytes(overlap), base);
    Result<AppendResult> refused =
        log->append(as_writable_bytes(overlap), {.assign_offsets = false});
    EXPECT_EQ(refused.code(), ErrorCode::kOffsetOutOfRange) << base;
  }
  EXPECT_EQ(log->log_end_offset(), 12);
  // The gap survives a restart.
  log.reset();
  log = open(config());
  EXPECT_EQ(log->log_end_offset(), 12);
  EXPECT_EQ(read_all_offsets(*log, 0), (std::vector<int64_t>{0, 1, 2, 10, 11}));
}

TEST_F(LogTest, DeleteRecordsAdvancesStartAndDropsWholeSegments) {
  LogConfig c = config();
  c.segment_bytes = 1024;
  auto log = open(c);
  for (int i = 0; i < 30; i++) append(*log, make_batch(4));
  size_t before = log->segment_count();
  Result<int> deleted = log->delete_records_before(50);
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_EQ(log->segment_count(), before - static_cast<size_t>(*deleted));
  EXPECT_EQ(log->log_start_offset(), 50);
  EXPECT_EQ(log->read(49, 100).code(), ErrorCode::kOffsetOutOfRange);
  EXPECT_EQ(read_all_offsets(*log, 50).front(), 50);
  EXPECT_EQ(log->delete_records_before(1000).code(), ErrorCode::kOffsetOutOfRange);
  log.reset();
  log = open(c);
  EXPECT_EQ(log->log_start_offset(), 50) << "the start offset is checkpointed";
}

TEST_F(LogTest, DeleteRecordsIsRefusedOnACompactedLog) {
  LogConfig c = config();
  c.cleanup_policy = CleanupPolicy::kCompact;
  auto log = open(c);
  Result<int> deleted = log->delete_records(0);
  EXPECT_EQ(deleted.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(deleted.status().message().find("compact"), std::string::npos);
  EXPECT_EQ(log->log_start_offset(), 0);
  // A follower mirroring its leader's log start is not refused.
  EXPECT_TRUE(log->delete_records_before(0).is_ok());
}

TEST_F(LogTest, RetentionByAgeDeletesOldSegmentsAndKeepsTheActiveOne) {
  LogConfig c = config();
  c.segment_bytes = 2048;
  c.retention_ms = 60'000;
  auto log = open(c);
  for (int i = 0; i < 20; i++) append(*log, make_batch(4, now_ms_ - 120'000));
  int64_t old_end = log->log_end_offset();
  for (int i = 0; i < 20; i++) append(*log, make_batch(4, now_ms_));
  Result<int> deleted = log->apply_retention();
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_LE(log->log_start_offset(), old_end);
  EXPECT_GT(log->log_start_offset(), 0);
  EXPECT_EQ(log->log_end_offset(), 160);
  now_ms_ += 3'600'000;
  ASSERT_TRUE(log->apply_retention().is_ok());
  EXPECT_EQ(log->log_start_offset(), 160) << "everything expired";
  EXPECT_EQ(log->segment_count(), 1u);
  EXPECT_EQ(append(*log, make_batch(1, now_ms_)).base_offset, 160);
}

TEST_F(LogTest, RetentionBySizeKeepsAtMostTheLimit) {
  LogConfig c = config();
  c.segment_bytes = 4096;
  c.retention_bytes = 10'000;
  auto log = open(c);
  for (int i = 0; i < 100; i++) append(*log, make_sized_batch(200, now_ms_));
  ASSERT_TRUE(log->apply_retention().is_ok());
  EXPECT_LE(log->size_bytes(), 10'000u + 4096u);
  EXPECT_GT(log->size_bytes(), 10'000u - 4096u);
  EXPECT_EQ(log->log_end_offset(), 100);
}

TEST_F(LogTest, IdempotentRetryReturnsOriginalOffsets) {
  auto log = open(config());
  std::string first = make_idempotent_batch(3, 42, 0, 0);
  std::string second = make_idempotent_batch(2, 42, 0, 3);
  AppendResult a = append(*log, first);
  AppendResult b = append(*log, second);
  EXPECT_EQ(b.base_offset, 3);
  AppendResult retry = append(*log, make_idempotent_batch(3, 42, 0, 0));
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.base_offset, a.base_offset);
  EXPECT_EQ(retry.last_offset, a.last_offset);
  EXPECT_EQ(log->log_end_offset(), 5) << "a retry is never appended twice";
  std::string gap = make_idempotent_batch(1, 42, 0, 9);
  EXPECT_EQ(log->append(as_writable_bytes(gap)).code(), ErrorCode::kOutOfOrderSequence);
  std::string fenced = make_idempotent_batch(1, 42, -0, 5);
  append(*log, make_idempotent_batch(1, 42, 1, 0));  // epoch bump
  EXPECT_EQ(log->append(as_writable_bytes(fenced)).code(), ErrorCode::kInvalidProducerEpoch);
  std::string unknown = make_idempotent_batch(1, 7, 0, 5);
  EXPECT_EQ(log->append(as_writable_bytes(unknown)).code(), ErrorCode::kUnknownProducerId);
  std::string two = make_idempotent_batch(1, 9, 0, 0) + make_idempotent_batch(1, 9, 0, 1);
  EXPECT_EQ(log->append(as_writable_bytes(two)).code(), ErrorCode::kInvalidRequest);
}

TEST_F(LogTest, ProducerStateSurvivesCleanAndUncleanRestart) {
  LogConfig c = config();
  {
    auto log = open(c);
    append(*log, make_idempotent_batch(2, 5, 1, 0));
    append(*log, make_idempotent_batch(2, 5, 1, 2));
  }
  {
    auto log = open(c);
    AppendResult retry = append(*log, make_idempotent_batch(2, 5, 1, 2));
    EXPECT_TRUE(retry.duplicate);
    EXPECT_EQ(retry.base_offset, 2);
    append(*log, make_idempotent_batch(2, 5, 1, 4));
    // A crash: the files exactly as they are while the log is open (what a
    // kill -9 leaves), with a snapshot older than the log.
    std::filesystem::copy(dir_.path(), crashed_.path(), std::filesystem::copy_options::recursive);
  }
  auto log = open(c, crashed_.path());
  EXPECT_FALSE(log->recovery_report().clean_shutdown);
  AppendResult retry = append(*log, make_idempotent_batch(2, 5, 1, 4));
  EXPECT_TRUE(retry.duplicate) << "state rebuilt from the log past the snapshot";
  EXPECT_EQ(retry.base_offset, 4);
}

TEST_F(LogTest, LogAppendTimeStampsBatches) {
  LogConfig c = config();
  c.timestamp_type = TimestampType::kLogAppendTime;
  auto log = open(c);
  AppendResult r = append(*log, make_batch(2, 5));
  EXPECT_EQ(r.log_append_time, now_ms_.load());
  Result<LogReadResult> read = log->read(0, 1000);
  Result<BatchHeader> h = verify_batch(as_bytes(read->bytes));
  ASSERT_TRUE(h.is_ok()) << "CRC recomputed after stamping";
  EXPECT_EQ(h->max_timestamp, now_ms_.load());
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
}

TEST_F(LogTest, FsyncAlwaysSyncsBeforeReturningAndSharesFsyncs) {
  LogConfig c = config();
  c.fsync_policy = FsyncPolicy::kAlways;
  std::atomic<int> fsyncs{0};
  c.fsync_observer = [&](int64_t) { fsyncs++; };
  auto log = open(c);
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; i++) {
        std::string b = make_batch(1);
        Result<AppendResult> r = log->append(as_writable_bytes(b));
        ASSERT_TRUE(r.is_ok());
        EXPECT_GT(log->recovery_point(), r->last_offset) << "returned before its fsync";
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log->log_end_offset(), kThreads * kPerThread);
  EXPECT_LE(fsyncs.load(), kThreads * kPerThread);
  std::printf("fsync=always: %d appends, %d fsyncs\n", kThreads * kPerThread, fsyncs.load());
}

TEST_F(LogTest, FsyncIntervalFlushesWhenDue) {
  LogConfig c = config();
  c.fsync_policy = FsyncPolicy::kInterval;
  c.flush_interval_ms = 1000;
  auto log = open(c);
  append(*log, make_batch(3));
  EXPECT_EQ(log->recovery_point(), 0);
  ASSERT_TRUE(log->maybe_flush().is_ok());
  EXPECT_EQ(log->recovery_point(), 0) << "not due yet";
  now_ms_ += 1000;
  ASSERT_TRUE(log->maybe_flush().is_ok());
  EXPECT_EQ(log->recovery_point(), 3);
}

TEST_F(LogTest, ConcurrentReadersSeeOnlyWholeBatches) {
  LogConfig c = config();
  c.segment_bytes = 64 * 1024;
  auto log = open(c);
  std::atomic<bool> done{false};
  std::atomic<int64_t> bad{0};
  std::thread reader([&] {
    RecordBatchReader decoder;
    std::vector<Record> records;
    while (!done) {
      int64_t end = log->log_end_offset();
      int64_t offset = 0;
      while (offset < end) {
        Result<LogReadResult> r = log->read(offset, 8192);
        if (!r.is_ok() || r->bytes.empty()) {
          bad++;
          break;
        }
        BatchCursor cursor(as_bytes(r->bytes));
        for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
          if (!verify_batch(batch).is_ok()) bad++;
        }
        offset = r->next_offset;
      }
    }
  });
  for (int i = 0; i < 3000; i++) append(*log, make_batch(1 + i % 7));
  done = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(LogTest, ReconfigureChangesLimitsAndRetentionAtRunTime) {
  auto log = open(config());
  std::string big = make_sized_batch(2000);
  ASSERT_TRUE(log->append(as_writable_bytes(big)).is_ok());
  LogConfig smaller = config();
  smaller.max_batch_bytes = 1000;
  smaller.retention_ms = 1;
  smaller.segment_bytes = 1024;
  ASSERT_TRUE(log->reconfigure(smaller).is_ok());
  big = make_sized_batch(2000);
  EXPECT_EQ(log->append(as_writable_bytes(big)).code(), ErrorCode::kMessageTooLarge);
  append(*log, make_batch(1, now_ms_));  // rolls: the active segment is over 1024 bytes
  EXPECT_EQ(log->segment_count(), 2u);
  now_ms_ += 10;
  ASSERT_TRUE(log->apply_retention().is_ok());
  EXPECT_EQ(log->log_start_offset(), 2) << "everything expired under the new retention";
  LogConfig invalid = config();
  invalid.segment_bytes = 1;
  EXPECT_EQ(log->reconfigure(invalid).code(), ErrorCode::kInvalidConfig);
}

TEST_F(LogTest, ClosedLogRefusesAppends) {
  auto log = open(config());
  ASSERT_TRUE(log->close().is_ok());
  std::string b = make_batch(1);
  EXPECT_FALSE(log->append(as_writable_bytes(b)).is_ok());
}

TEST(LogConfigTest, RejectsOutOfRangeSettingsByName) {
  LogConfig c;
  c.segment_bytes = 10;
  EXPECT_NE(c.validate().message().find("segment.bytes"), std::string::npos);
  c = LogConfig();
  c.retention_ms = -7;
  EXPECT_NE(c.validate().message().find("retention.ms"), std::string::npos);
  c = LogConfig();
  c.max_batch_bytes = 1;
  EXPECT_NE(c.validate().message().find("max.message.bytes"), std::string::npos);
  EXPECT_EQ(parse_fsync_policy("sometimes").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(*parse_fsync_policy("always"), FsyncPolicy::kAlways);
}

}  // namespace
}  // namespace mq
