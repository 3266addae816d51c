// Log compaction: what stays, offsets and reads over gaps, tombstones,
// compressed and idempotent batches, concurrency, crashes during the swap,
// corrupt input, producer state, retention and the dirty ratio.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "store/log.h"
#include "tests/store/batches.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

namespace fs = std::filesystem;
using testing::KeyedBatchOptions;
using testing::KeyedRecords;
using testing::make_batch;
using testing::make_keyed_batch;
using testing::TempDir;

constexpr int64_t kStartMs = 1'700'000'000'000;

struct ReadRecord {
  int64_t offset;
  int64_t timestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
};

class LogCleanerTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.clock_ms = [this] { return now_ms_.load(); };
    c.fsync_policy = FsyncPolicy::kNever;
    c.cleanup_policy = CleanupPolicy::kCompact;
    c.segment_bytes = 1024;
    c.index_interval_bytes = 128;
    c.retention_ms = -1;
    return c;
  }
  std::unique_ptr<Log> open(const std::string& dir, const LogConfig& c) {
    Result<std::unique_ptr<Log>> log = Log::open(dir, c);
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  std::unique_ptr<Log> open() { return open(dir_.path(), config()); }
  static AppendResult append(Log& log, std::string batch, AppendOptions options = {}) {
    Result<AppendResult> r = log.append(as_writable_bytes(batch), options);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : AppendResult{};
  }
  // One record per batch: key "k<i % keys>", value "v<i>", timestamp kStartMs + i.
  static void append_versions(Log& log, int from, int count, int keys) {
    for (int i = from; i < from + count; i++) {
      append(log, make_keyed_batch({{"k" + std::to_string(i % keys), "v" + std::to_string(i)}},
                                   {.timestamp_ms = kStartMs + i}));
    }
  }
  static CompactionReport compact(Log& log) {
    Result<CompactionReport> r = log.compact({.ignore_dirty_ratio = true});
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? *r : CompactionReport{};
  }
  // Every record from the log start to the end; checks each batch and that
  // offsets only increase.
  static std::vector<ReadRecord> read_all(const Log& log) {
    std::vector<ReadRecord> out;
    auto copy = [](std::optional<std::string_view> v) {
      return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
    };
    testing::for_each_record(log, [&](const Record& r) {
      if (!out.empty()) {
        EXPECT_GT(r.offset, out.back().offset) << "offsets increase";
      }
      out.push_back({r.offset, r.timestamp, copy(r.key), copy(r.value)});
    });
    return out;
  }
  // Replaying the records: each key's final value (nullopt: deleted).
  static std::map<std::string, std::optional<std::string>> replay(
      const std::vector<ReadRecord>& records) {
    std::map<std::string, std::optional<std::string>> state;
    for (const auto& r : records) {
      if (r.key) state[*r.key] = r.value;
    }
    return state;
  }
  static int count_key(const std::vector<ReadRecord>& records, const std::string& key) {
    int n = 0;
    for (const auto& r : records) n += r.key == key;
    return n;
  }

  TempDir dir_;
  std::atomic<int64_t> now_ms_{kStartMs + 1'000'000};
};

TEST_F(LogCleanerTest, LatestValuePerKeyWinsAndSmallSegmentsMerge) {
  auto log = open();
  append_versions(*log, 0, 300, 10);
  std::vector<ReadRecord> before = read_all(*log);
  ASSERT_EQ(before.size(), 300u);
  size_t segments = log->segment_count();
  ASSERT_GT(segments, 10u);

  CompactionReport first = compact(*log);
  EXPECT_TRUE(first.compacted);
  EXPECT_EQ(first.segments_before, static_cast<int>(segments - 1));
  EXPECT_GT(first.records_removed, 200);
  EXPECT_LT(first.bytes_after, first.bytes_before);
  std::vector<ReadRecord> after = read_all(*log);
  EXPECT_EQ(replay(after), replay(before));
  EXPECT_EQ(static_cast<int64_t>(after.size()), 300 - first.records_removed);
  // Kept: the latest of each key, plus at most the first and last record of
  // each cleaned segment, plus the active segment as it is.
  size_t active = 0;
  for (const auto& r : after) active += r.offset >= first.cleaned_end_offset;
  EXPECT_LE(after.size() - active, 10u + 2u * static_cast<size_t>(first.segments_after));

  // The cleaned segments are small now: the next pass merges them.
  CompactionReport second = compact(*log);
  EXPECT_TRUE(second.compacted);
  EXPECT_LT(second.segments_after, second.segments_before);
  EXPECT_LT(log->segment_count(), segments / 2);
  EXPECT_EQ(replay(read_all(*log)), replay(before));
  EXPECT_EQ(log->log_end_offset(), 300);
  EXPECT_EQ(log->log_start_offset(), 0);
}

TEST_F(LogCleanerTest, OffsetsArePreservedAndReadsWorkOverGaps) {
  auto log = open();
  append_versions(*log, 0, 200, 7);
  CompactionReport report = compact(*log);
  ASSERT_GT(report.records_removed, 0);
  std::vector<ReadRecord> after = read_all(*log);
  for (const auto& r : after) {
    // Values name the record's original position, which was its offset.
    EXPECT_EQ(*r.value, "v" + std::to_string(r.offset));
    EXPECT_EQ(r.timestamp, kStartMs + r.offset);
  }
  auto next_surviving = [&](int64_t offset) {
    for (const auto& r : after) {
      if (r.offset >= offset) return r.offset;
    }
    return int64_t{-1};
  };
  int gaps = 0;
  RecordBatchReader reader;
  std::vector<Record> records;
  for (int64_t offset = 0; offset < log->log_end_offset(); offset++) {
    int64_t expected = next_surviving(offset);
    gaps += expected != offset;
    // A fetch from an offset compacted away returns the next surviving batch.
    Result<LogReadResult> r = log->read(offset, 1);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    BatchCursor cursor(as_bytes(r->bytes));
    auto batch = cursor.next();
    ASSERT_FALSE(batch.empty()) << "offset " << offset;
    ASSERT_TRUE(reader.decode(batch, &records).is_ok());
    int64_t first = -1;
    for (const auto& rec : records) {
      if (rec.offset >= offset && first < 0) first = rec.offset;
    }
    EXPECT_EQ(first, expected) << "read from " << offset;
    // And the time lookup lands on the first surviving record at or after it.
    Result<std::optional<int64_t>> by_time = log->offset_for_timestamp(kStartMs + offset);
    ASSERT_TRUE(by_time.is_ok());
    ASSERT_TRUE(by_time->has_value());
    EXPECT_EQ(**by_time, expected) << "timestamp of offset " << offset;
  }
  EXPECT_GT(gaps, 100);
}

TEST_F(LogCleanerTest, TombstonesStayForDeleteRetentionThenGo) {
  LogConfig c = config();
  c.delete_retention_ms = 10'000;
  auto log = open(dir_.path(), c);
  append(*log, make_keyed_batch({{"first", "x"}, {"doomed", "v1"}, {"doomed", std::nullopt}}));
  append_versions(*log, 3, 60, 60);  // distinct keys: nothing else goes

  CompactionReport first = compact(*log);
  EXPECT_EQ(first.records_removed, 1);
  std::vector<ReadRecord> after = read_all(*log);
  ASSERT_EQ(count_key(after, "doomed"), 1);
  EXPECT_EQ(replay(after).at("doomed"), std::nullopt) << "the tombstone is what stays";

  now_ms_ += 9'999;
  EXPECT_EQ(compact(*log).tombstones_removed, 0);
  EXPECT_EQ(count_key(read_all(*log), "doomed"), 1);

  now_ms_ += 1;
  CompactionReport late = compact(*log);
  EXPECT_EQ(late.tombstones_removed, 1);
  std::vector<ReadRecord> final_records = read_all(*log);
  EXPECT_EQ(count_key(final_records, "doomed"), 0);
  EXPECT_EQ(final_records.size(), 61u);

  // The pass history survives a restart: a tombstone's age still counts
  // from the pass that first covered it.
  append(*log,
         make_keyed_batch({{"pad", "x"}, {"second", "v"}, {"second", std::nullopt}, {"pad", "y"}}));
  append_versions(*log, 100, 30, 30);
  EXPECT_EQ(compact(*log).tombstones_removed, 0);
  EXPECT_EQ(count_key(read_all(*log), "second"), 1);
  log.reset();
  log = open(dir_.path(), c);
  now_ms_ += 10'000;
  EXPECT_EQ(compact(*log).tombstones_removed, 1);
  EXPECT_EQ(count_key(read_all(*log), "second"), 0);
}

TEST_F(LogCleanerTest, TombstoneStaysWhileAnOlderRecordOfItsKeyMustStay) {
  LogConfig c = config();
  c.delete_retention_ms = 0;
  auto log = open(dir_.path(), c);
  // Offset 0 is the first record of the first segment: it always stays, so
  // the tombstone must too, or replaying the log would resurrect "k".
  append(*log, make_keyed_batch({{"k", "old"}, {"j", "old"}, {"j", std::nullopt}}));
  append(*log, make_keyed_batch({{"k", std::nullopt}}));
  append_versions(*log, 4, 60, 60);
  EXPECT_EQ(compact(*log).tombstones_removed, 1);
  now_ms_ += 1000;
  EXPECT_EQ(compact(*log).tombstones_removed, 0);
  std::vector<ReadRecord> after = read_all(*log);
  EXPECT_EQ(count_key(after, "k"), 2);
  EXPECT_EQ(replay(after).at("k"), std::nullopt);
  EXPECT_EQ(count_key(after, "j"), 0) << "no older record of j stays: its tombstone goes";
}

TEST_F(LogCleanerTest, CompactedLogsRefuseUnkeyedRecordsAndKeepOlderOnes) {
  LogConfig c = config();
  c.cleanup_policy = CleanupPolicy::kDelete;
  auto log = open(dir_.path(), c);
  append(*log, make_batch(3, kStartMs, "unkeyed"));
  append_versions(*log, 3, 60, 5);
  EXPECT_EQ(log->compact().code(), ErrorCode::kInvalidRequest) << "not a compacted log";

  c.cleanup_policy = CleanupPolicy::kCompact;
  ASSERT_TRUE(log->reconfigure(c).is_ok());
  EXPECT_TRUE(log->compacted());
  std::string unkeyed = make_batch(1);
  Result<AppendResult> refused = log->append(as_writable_bytes(unkeyed));
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(refused.status().message().find("no key"), std::string::npos);
  // A follower copies what its leader accepted.
  std::string copied = make_batch(1);
  int64_t end = log->log_end_offset();
  set_base_offset(as_writable_bytes(copied), end);
  EXPECT_TRUE(log->append(as_writable_bytes(copied), {.assign_offsets = false}).is_ok());

  compact(*log);
  std::vector<ReadRecord> after = read_all(*log);
  int unkeyed_kept = 0;
  for (const auto& r : after) unkeyed_kept += !r.key;
  EXPECT_EQ(unkeyed_kept, 4) << "records without a key are kept as they are";
  EXPECT_EQ(replay(after).at("k0"), "v60");
}

class CompressedCompactionTest : public LogCleanerTest,
                                 public ::testing::WithParamInterface<Compression> {};

TEST_P(CompressedCompactionTest, SplitBatchesKeepTheirHeaderFields) {
  auto log = open();
  append(*log, make_keyed_batch({{"pad", "x"}}));
  // Copied from a leader (as a follower does): the producer is mid-sequence.
  auto replicate = [&](std::string batch, int32_t leader_epoch) {
    set_base_offset(as_writable_bytes(batch), log->log_end_offset());
    set_leader_epoch(as_writable_bytes(batch), leader_epoch);
    return append(*log, std::move(batch), {.assign_offsets = false});
  };
  AppendResult a = replicate(
      make_keyed_batch({{"c0", "a0"}, {"c1", "a1"}, {"c2", "a2"}, {"c3", "a3"}, {"c4", "a4"}},
                       {.timestamp_ms = kStartMs,
                        .codec = GetParam(),
                        .producer_id = 7,
                        .producer_epoch = 2,
                        .base_sequence = 10}),
      3);
  replicate(make_keyed_batch({{"c1", "b1"}, {"c2", "b2"}}, {.codec = GetParam()}), 4);
  append_versions(*log, 100, 60, 60);
  CompactionReport report = compact(*log);
  EXPECT_EQ(report.records_removed, 2);

  Result<LogReadResult> r = log->read(a.base_offset, 1 << 20);
  ASSERT_TRUE(r.is_ok());
  BatchCursor cursor(as_bytes(r->bytes));
  std::vector<BatchHeader> headers;
  RecordBatchReader reader;
  std::vector<Record> records;
  std::vector<std::string> values;
  for (auto batch = cursor.next(); !batch.empty() && headers.size() < 3; batch = cursor.next()) {
    Result<BatchHeader> h = verify_batch(batch);
    ASSERT_TRUE(h.is_ok()) << h.status().to_string();
    headers.push_back(*h);
    ASSERT_TRUE(reader.decode(batch, &records).is_ok());
    for (const auto& rec : records) values.emplace_back(*rec.value);
  }
  ASSERT_EQ(headers.size(), 3u);
  EXPECT_EQ(values, (std::vector<std::string>{"a0", "a3", "a4", "b1", "b2"}));
  // [c0] and [c3, c4]: one batch per run of kept records.
  const BatchHeader& run0 = headers[0];
  const BatchHeader& run1 = headers[1];
  EXPECT_EQ(run0.base_offset, a.base_offset);
  EXPECT_EQ(run0.record_count, 1);
  EXPECT_EQ(run0.base_sequence, 10);
  EXPECT_EQ(run1.base_offset, a.base_offset + 3);
  EXPECT_EQ(run1.record_count, 2);
  EXPECT_EQ(run1.base_sequence, 13);
  EXPECT_EQ(run1.last_sequence(), 14);
  for (const BatchHeader* h : {&run0, &run1}) {
    EXPECT_EQ(h->compression(), GetParam());
    EXPECT_EQ(h->producer_id, 7);
    EXPECT_EQ(h->producer_epoch, 2);
    EXPECT_EQ(h->leader_epoch, 3);
    EXPECT_EQ(h->timestamp_type(), TimestampType::kCreateTime);
  }
  EXPECT_EQ(run0.first_timestamp, kStartMs);
  EXPECT_EQ(run0.max_timestamp, kStartMs);
  EXPECT_EQ(run1.first_timestamp, kStartMs + 3);
  EXPECT_EQ(run1.max_timestamp, kStartMs + 4);
  EXPECT_EQ(headers[2].leader_epoch, 4);
  EXPECT_EQ(headers[2].base_offset, a.base_offset + 5) << "untouched batch, untouched offsets";
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressedCompactionTest,
                         ::testing::Values(Compression::kNone, Compression::kLz4,
                                           Compression::kZstd),
                         [](const auto& info) {
                           return std::string(compression_name(info.param));
                         });

TEST_F(LogCleanerTest, LogAppendTimeBatchesKeepTheirAppendTime) {
  LogConfig c = config();
  c.timestamp_type = TimestampType::kLogAppendTime;
  auto log = open(dir_.path(), c);
  append(*log, make_keyed_batch({{"pad", "x"}}));
  int64_t appended_at = now_ms_.load();
  AppendResult a =
      append(*log, make_keyed_batch({{"t0", "a"}, {"t1", "a"}, {"t2", "a"}}, {.timestamp_ms = 5}));
  now_ms_ += 1000;
  append(*log, make_keyed_batch({{"t1", "b"}}));
  append_versions(*log, 100, 60, 60);
  compact(*log);
  Result<LogReadResult> r = log->read(a.base_offset, 1);
  ASSERT_TRUE(r.is_ok());
  Result<BatchHeader> h = parse_batch_header(as_bytes(r->bytes));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ(h->record_count, 1);
  EXPECT_EQ(h->timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h->max_timestamp, appended_at);
  EXPECT_TRUE(verify_batch(as_bytes(r->bytes).first(h->total_size())).is_ok());
}

TEST_F(LogCleanerTest, AppendsAndReadsContinueDuringCompaction) {
  auto log = open();
  constexpr int kRecords = 3000;
  constexpr int kKeys = 50;
  std::atomic<bool> writing{true};
  std::atomic<int> passes{0};
  std::thread compactor([&] {
    while (writing.load()) {
      Result<CompactionReport> r = log->compact({.ignore_dirty_ratio = true});
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      passes += r->compacted;
    }
  });
  std::thread reader([&] {
    while (writing.load()) {
      std::vector<ReadRecord> records = read_all(*log);
      for (const auto& r : records) ASSERT_EQ(*r.value, "v" + std::to_string(r.offset));
    }
  });
  append_versions(*log, 0, kRecords, kKeys);
  writing = false;
  compactor.join();
  reader.join();
  EXPECT_GT(passes.load(), 0);
  compact(*log);
  std::map<std::string, std::optional<std::string>> expected;
  for (int i = kRecords - kKeys; i < kRecords; i++) {
    expected["k" + std::to_string(i % kKeys)] = "v" + std::to_string(i);
  }
  EXPECT_EQ(replay(read_all(*log)), expected);
  EXPECT_EQ(log->log_end_offset(), kRecords);
  // And what is on disk is what was served.
  log.reset();
  log = open();
  EXPECT_EQ(replay(read_all(*log)), expected);
}

// The files a crash at each step of a swap leaves, rebuilt from a log before
// and after one compaction pass that merges every closed segment into one.
class CompactionCrashTest : public LogCleanerTest {
 protected:
  void SetUp() override {
    {
      auto log = open(live_.path(), config());
      append_versions(*log, 0, 150, 8);
    }
    fs::copy(live_.path(), before_.path(), fs::copy_options::recursive);
    LogConfig merging = config();
    merging.segment_bytes = 1 << 20;
    auto log = open(live_.path(), merging);
    old_bases_ = log->segment_base_offsets();
    report_ = compact(*log);
    ASSERT_EQ(report_.segments_after, 1);
    old_bases_.pop_back();  // the active segment stays
    log.reset();
    fs::copy(live_.path(), after_.path(), fs::copy_options::recursive);
    auto before_log = open(before_.path(), config());
    before_records_ = read_all(*before_log);
    auto after_log = open(after_.path(), config());
    after_records_ = read_all(*after_log);
    ASSERT_LT(after_records_.size(), before_records_.size());
  }
  // A fresh copy of the directory before the pass, as a crash leaves it.
  std::string crash_image() {
    crashes_.push_back(std::make_unique<TempDir>());
    std::string dir = crashes_.back()->path();
    fs::copy(before_.path(), dir,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::remove(dir + "/.clean-shutdown");
    return dir;
  }
  std::string stem(const std::string& dir, int64_t base) { return segment_stem(dir, base); }
  void copy_new(const std::string& dir, const char* ext, const std::string& suffix) {
    fs::copy_file(stem(after_.path(), 0) + ext, stem(dir, 0) + ext + suffix,
                  fs::copy_options::overwrite_existing);
  }
  void remove_old(const std::string& dir, int64_t base) {
    for (const char* ext : {".log", ".index", ".timeindex"}) fs::remove(stem(dir, base) + ext);
  }
  // Opens the crash image and checks it holds exactly the old or the new log.
  void expect_recovers_to(const std::string& dir, const std::vector<ReadRecord>& expected,
                          const std::string& note) {
    auto log = open(dir, config());
    ASSERT_NE(log, nullptr);
    std::vector<ReadRecord> got = read_all(*log);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); i++) {
      EXPECT_EQ(got[i].offset, expected[i].offset);
      EXPECT_EQ(got[i].value, expected[i].value);
    }
    bool noted = false;
    for (const auto& n : log->recovery_report().notes) noted |= n.find(note) != std::string::npos;
    EXPECT_TRUE(noted) << "recovery notes should mention: " << note;
    for (const auto& entry : fs::directory_iterator(dir)) {
      std::string name = entry.path().filename().string();
      EXPECT_FALSE(name.ends_with(".cleaned") || name.ends_with(".swap")) << name;
    }
    EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
    append(*log, make_keyed_batch({{"after", "crash"}}));
    EXPECT_EQ(log->log_end_offset(), 151);
    // A second open verifies everything again from scratch.
    log.reset();
    fs::remove(dir + "/.clean-shutdown");
    fs::remove(dir + "/log-state.checkpoint");
    log = open(dir, config());
    EXPECT_EQ(read_all(*log).size(), expected.size() + 1);
  }

  TempDir live_, before_, after_;
  std::vector<std::unique_ptr<TempDir>> crashes_;
  std::vector<int64_t> old_bases_;
  CompactionReport report_;
  std::vector<ReadRecord> before_records_, after_records_;
};

TEST_F(CompactionCrashTest, BeforeTheCommitTheOldSegmentsStay) {
  std::string dir = crash_image();
  copy_new(dir, ".log", ".cleaned");
  copy_new(dir, ".index", ".cleaned");
  expect_recovers_to(dir, before_records_, "uncommitted compaction output");
}

TEST_F(CompactionCrashTest, HalfWrittenCleanedSegmentIsDropped) {
  std::string dir = crash_image();
  copy_new(dir, ".log", ".cleaned");
  fs::resize_file(stem(dir, 0) + ".log.cleaned", 100);
  expect_recovers_to(dir, before_records_, "uncommitted compaction output");
}

TEST_F(CompactionCrashTest, RightAfterTheCommitTheSwapIsFinished) {
  std::string dir = crash_image();
  copy_new(dir, ".log", ".swap");
  copy_new(dir, ".index", ".cleaned");
  copy_new(dir, ".timeindex", ".cleaned");
  expect_recovers_to(dir, after_records_, "finished an interrupted compaction swap");
}

TEST_F(CompactionCrashTest, WhileDeletingOldSegmentsTheSwapIsFinished) {
  std::string dir = crash_image();
  copy_new(dir, ".log", ".swap");
  remove_old(dir, old_bases_.back());  // newest first
  remove_old(dir, old_bases_[old_bases_.size() - 2]);
  fs::remove(stem(dir, old_bases_[old_bases_.size() - 3]) + ".log");  // its indexes not yet
  expect_recovers_to(dir, after_records_, "finished an interrupted compaction swap");
}

TEST_F(CompactionCrashTest, AfterTheIndexesMovedTheSwapIsFinished) {
  std::string dir = crash_image();
  for (size_t i = 1; i < old_bases_.size(); i++) remove_old(dir, old_bases_[i]);
  copy_new(dir, ".index", "");
  copy_new(dir, ".timeindex", "");
  copy_new(dir, ".log", ".swap");
  expect_recovers_to(dir, after_records_, "finished an interrupted compaction swap");
}

TEST_F(CompactionCrashTest, BeforeTheCheckpointTheNewSegmentsStand) {
  std::string dir = crash_image();
  for (size_t i = 1; i < old_bases_.size(); i++) remove_old(dir, old_bases_[i]);
  for (const char* ext : {".log", ".index", ".timeindex"}) copy_new(dir, ext, "");
  auto log = open(dir, config());
  EXPECT_EQ(read_all(*log).size(), after_records_.size());
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  EXPECT_EQ(log->recovery_report().segments_removed, 0);
  EXPECT_EQ(log->first_dirty_offset(), 0) << "no checkpoint: the next pass sees it all as dirty";
}

TEST_F(CompactionCrashTest, CorruptSwapFileFailsTheOpenInsteadOfGuessing) {
  std::string dir = crash_image();
  copy_new(dir, ".log", ".swap");
  std::fstream f(stem(dir, 0) + ".log.swap", std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(70);
  f.put('\x7f');
  f.close();
  Result<std::unique_ptr<Log>> log = Log::open(dir, config());
  EXPECT_EQ(log.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(log.status().message().find("interrupted compaction swap"), std::string::npos);
}

TEST_F(LogCleanerTest, CorruptBatchStopsCompactionAndLeavesTheLogUnchanged) {
  auto log = open();
  append_versions(*log, 0, 100, 5);
  std::vector<int64_t> bases = log->segment_base_offsets();
  std::string victim = segment_stem(dir_.path(), bases[1]) + ".log";
  {
    // The last byte of the segment's first batch: inside its records.
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    uint8_t prefix[kBatchLengthPrefix];
    f.read(reinterpret_cast<char*>(prefix), sizeof(prefix));
    auto last = static_cast<std::streamoff>(peek_batch_size(prefix) - 1);
    char c;
    f.seekg(last);
    f.get(c);
    f.seekp(last);
    f.put(static_cast<char>(c ^ 0x20));
  }
  auto snapshot = [&] {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      std::ifstream in(entry.path(), std::ios::binary);
      files[entry.path().filename().string()] =
          std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    return files;
  };
  auto files_before = snapshot();
  Result<CompactionReport> r = log->compact({.ignore_dirty_ratio = true});
  EXPECT_EQ(r.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(r.status().message().find("compaction stopped, log unchanged"), std::string::npos);
  EXPECT_NE(r.status().message().find(fs::path(victim).filename().string()), std::string::npos)
      << r.status().message();
  EXPECT_EQ(snapshot(), files_before);
  EXPECT_EQ(log->segment_base_offsets(), bases);
  EXPECT_EQ(log->first_dirty_offset(), 0);
}

TEST_F(LogCleanerTest, ProducerStateRebuiltFromACompactedLogKeepsLiveProducers) {
  LogConfig c = config();
  c.producer_expiration_ms = 24LL * 3600 * 1000;
  auto log = open(dir_.path(), c);
  auto idempotent = [&](int64_t producer_id, int32_t sequence, int64_t timestamp_ms) {
    return KeyedBatchOptions{.timestamp_ms = timestamp_ms,
                             .producer_id = producer_id,
                             .producer_epoch = 1,
                             .base_sequence = sequence};
  };
  append(*log, make_keyed_batch({{"pad", "x"}}));
  append(*log, make_keyed_batch({{"p0", "a"}, {"p1", "a"}}, idempotent(42, 0, now_ms_)));
  append(*log, make_keyed_batch({{"p2", "a"}, {"p3", "a"}}, idempotent(42, 2, now_ms_)));
  // Not heard from for longer than producer.id.expiration.ms: may be forgotten.
  append(*log, make_keyed_batch({{"p4", "a"}}, idempotent(43, 0, now_ms_ - 48LL * 3600 * 1000)));
  append(*log, make_keyed_batch({{"p0", "n"}, {"p1", "n"}, {"p2", "n"}, {"p3", "n"}, {"p4", "n"}}));
  append_versions(*log, 100, 60, 60);
  compact(*log);
  std::vector<ReadRecord> after = read_all(*log);
  EXPECT_EQ(count_key(after, "p3"), 2) << "producer 42's last record stays";
  EXPECT_EQ(count_key(after, "p2"), 1);
  EXPECT_EQ(count_key(after, "p0"), 1);
  EXPECT_EQ(count_key(after, "p4"), 1) << "expired producer 43 keeps nothing";
  EXPECT_EQ(replay(after).at("p3"), "n");

  // Without a snapshot the state comes from the compacted log.
  log.reset();
  fs::remove(dir_.file("producer-state.checkpoint"));
  log = open(dir_.path(), c);
  std::optional<ProducerEntry> p = log->producer(42);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->epoch, 1);
  ASSERT_FALSE(p->batches.empty());
  EXPECT_EQ(p->batches.back().last_sequence, 3);
  EXPECT_FALSE(log->producer(43).has_value());
  AppendResult next = append(*log, make_keyed_batch({{"p5", "a"}}, idempotent(42, 4, now_ms_)));
  EXPECT_FALSE(next.duplicate);
  AppendResult retry = append(*log, make_keyed_batch({{"p5", "a"}}, idempotent(42, 4, now_ms_)));
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.base_offset, next.base_offset);
}

TEST_F(LogCleanerTest, RetentionDeletesOnlyWithTheDeletePolicy) {
  LogConfig c = config();
  c.retention_ms = 1000;
  auto log = open(dir_.path(), c);
  append_versions(*log, 0, 100, 100);  // timestamps far in the past
  size_t segments = log->segment_count();
  Result<int> none = log->apply_retention();
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(*none, 0) << "cleanup.policy=compact deletes nothing by age";
  EXPECT_EQ(log->segment_count(), segments);
  c.cleanup_policy = CleanupPolicy::kCompactDelete;
  ASSERT_TRUE(log->reconfigure(c).is_ok());
  Result<int> deleted = log->apply_retention();
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_GT(*deleted, 0);
  EXPECT_TRUE(log->compact().is_ok()) << "and compact,delete still compacts";
}

TEST_F(LogCleanerTest, DirtyRatioDecidesWhenToCompactAndSurvivesRestart) {
  auto log = open();
  append_versions(*log, 0, 200, 10);
  Result<CompactionReport> first = log->compact();
  ASSERT_TRUE(first.is_ok());
  EXPECT_TRUE(first->compacted);
  EXPECT_DOUBLE_EQ(first->dirty_ratio, 1.0);
  EXPECT_EQ(log->first_dirty_offset(), first->cleaned_end_offset);

  Result<CompactionReport> idle = log->compact();
  ASSERT_TRUE(idle.is_ok());
  EXPECT_FALSE(idle->compacted);
  EXPECT_EQ(idle->dirty_ratio, 0.0);

  // A little new data: below the default ratio of 0.5.
  append_versions(*log, 200, 20, 10);
  Result<CompactionReport> little = log->compact();
  ASSERT_TRUE(little.is_ok());
  EXPECT_FALSE(little->compacted);
  EXPECT_GT(little->dirty_ratio, 0.0);
  EXPECT_LT(little->dirty_ratio, 0.5);

  int64_t first_dirty = log->first_dirty_offset();
  log.reset();
  log = open();
  EXPECT_EQ(log->first_dirty_offset(), first_dirty);
  LogConfig eager = config();
  eager.min_cleanable_dirty_ratio = little->dirty_ratio;
  ASSERT_TRUE(log->reconfigure(eager).is_ok());
  Result<CompactionReport> now = log->compact();
  ASSERT_TRUE(now.is_ok());
  EXPECT_TRUE(now->compacted);
  EXPECT_GT(log->first_dirty_offset(), first_dirty);
}

TEST_F(LogCleanerTest, RecordsYoungerThanTheLagAreNotCompacted) {
  LogConfig c = config();
  c.min_compaction_lag_ms = 60'000;
  auto log = open(dir_.path(), c);
  for (int i = 0; i < 100; i++) {
    append(*log, make_keyed_batch({{"k", "v" + std::to_string(i)}}, {.timestamp_ms = now_ms_}));
  }
  CompactionReport young = compact(*log);
  EXPECT_FALSE(young.compacted);
  EXPECT_EQ(read_all(*log).size(), 100u);
  now_ms_ += 60'000;
  CompactionReport old = compact(*log);
  EXPECT_TRUE(old.compacted);
  EXPECT_GT(old.records_removed, 50);
}

TEST_F(LogCleanerTest, FullVerificationAfterACrashAcceptsCompactionGaps) {
  auto log = open();
  append_versions(*log, 0, 200, 10);
  compact(*log);
  std::vector<ReadRecord> after = read_all(*log);
  log.reset();
  // No clean-shutdown marker, no recovery point: every batch is verified.
  fs::remove(dir_.file(".clean-shutdown"));
  fs::remove(dir_.file("log-state.checkpoint"));
  log = open();
  EXPECT_GT(log->recovery_report().segments_scanned, 1);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 0u);
  EXPECT_EQ(log->recovery_report().segments_removed, 0);
  EXPECT_EQ(read_all(*log).size(), after.size());
  EXPECT_EQ(log->log_end_offset(), 200);
}

TEST_F(LogCleanerTest, TruncatingIntoAGapEndsAtTheLastKeptBatch) {
  auto log = open();
  append_versions(*log, 0, 200, 10);
  compact(*log);
  std::vector<ReadRecord> after = read_all(*log);
  // A removed offset with a survivor below it.
  int64_t gap = -1, below = -1;
  for (size_t i = 1; i < after.size() && gap < 0; i++) {
    if (after[i].offset > after[i - 1].offset + 1) {
      below = after[i - 1].offset;
      gap = below + 1;
    }
  }
  ASSERT_GE(gap, 0);
  ASSERT_TRUE(log->truncate_to(gap).is_ok());
  EXPECT_EQ(log->log_end_offset(), below + 1);
  EXPECT_LE(log->first_dirty_offset(), below + 1);
  AppendResult next = append(*log, make_keyed_batch({{"k", "again"}}));
  EXPECT_EQ(next.base_offset, below + 1);
  log.reset();
  log = open();
  EXPECT_EQ(log->log_end_offset(), below + 2);
}

TEST(LogConfigCompaction, ParsesPoliciesAndValidatesSettings) {
  EXPECT_EQ(*parse_cleanup_policy("compact"), CleanupPolicy::kCompact);
  EXPECT_EQ(*parse_cleanup_policy("delete"), CleanupPolicy::kDelete);
  EXPECT_EQ(*parse_cleanup_policy("compact,delete"), CleanupPolicy::kCompactDelete);
  EXPECT_EQ(*parse_cleanup_policy("delete,compact"), CleanupPolicy::kCompactDelete);
  EXPECT_EQ(parse_cleanup_policy("compacted").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(cleanup_policy_name(CleanupPolicy::kCompactDelete), "compact,delete");
  LogConfig c;
  EXPECT_TRUE(c.validate().is_ok());
  c.min_cleanable_dirty_ratio = 1.5;
  EXPECT_EQ(c.validate().code(), ErrorCode::kInvalidConfig);
  c.min_cleanable_dirty_ratio = 0.5;
  c.delete_retention_ms = -1;
  EXPECT_EQ(c.validate().code(), ErrorCode::kInvalidConfig);
  c.delete_retention_ms = 0;
  c.min_compaction_lag_ms = -5;
  EXPECT_NE(c.validate().message().find("min.compaction.lag.ms"), std::string::npos);
}

}  // namespace
}  // namespace mq
