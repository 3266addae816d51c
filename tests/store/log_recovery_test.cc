// Recovery of damaged logs: each kind of damage is made on purpose, on a copy
// of a live log directory (what kill -9 leaves behind), then the log is opened.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "store/checkpoint.h"
#include "store/file.h"
#include "store/log.h"
#include "tests/store/batches.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

namespace fs = std::filesystem;
using testing::make_batch;
using testing::TempDir;

class LogRecoveryTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.fsync_policy = FsyncPolicy::kNever;
    c.segment_bytes = 4096;
    c.index_interval_bytes = 256;
    return c;
  }
  std::unique_ptr<Log> open(const std::string& dir) {
    Result<std::unique_ptr<Log>> log = Log::open(dir, config());
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  // Writes `batches` batches of 5 records (offsets 5*i .. 5*i+4), epochs 1 then 2,
  // and leaves a crash image of the live directory in crashed_.
  void write_and_crash(int batches) {
    auto log = open(live_.path());
    for (int i = 0; i < batches; i++) {
      std::string b = make_batch(5, 1000 + i);
      ASSERT_TRUE(
          log->append(as_writable_bytes(b), {.leader_epoch = i < batches / 2 ? 1 : 2}).is_ok());
    }
    fs::copy(live_.path(), crashed_.path(), fs::copy_options::recursive);
    bases_ = log->segment_base_offsets();
  }
  std::string segment_file(int64_t base, const char* ext) {
    return segment_stem(crashed_.path(), base) + ext;
  }
  static void write_at(const std::string& path, uint64_t position, const std::string& bytes) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(position));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  static void append_to(const std::string& path, const std::string& bytes) {
    std::ofstream f(path, std::ios::app | std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // Every record offset readable from the log start, checking CRC and density.
  static std::vector<int64_t> read_everything(Log& log) {
    std::vector<int64_t> out;
    testing::for_each_record(log, [&](const Record& r) { out.push_back(r.offset); });
    for (size_t i = 0; i < out.size(); i++) {
      EXPECT_EQ(out[i], log.log_start_offset() + static_cast<int64_t>(i)) << "offsets are dense";
    }
    return out;
  }
  bool notes_mention(const Log& log, const std::string& text) {
    for (const auto& n : log.recovery_report().notes) {
      if (n.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // 1000 records in 200 batches, a clean shutdown, then bit rot in the
  // middle of the first sealed segment: returns the damaged batch's offset.
  int64_t write_then_damage_a_sealed_segment() {
    {
      auto log = open(live_.path());
      for (int i = 0; i < 200; i++) {
        std::string b = make_batch(5);
        EXPECT_TRUE(log->append(as_writable_bytes(b)).is_ok());
      }
      bases_ = log->segment_base_offsets();
    }
    std::string first = segment_stem(live_.path(), bases_[0]) + ".log";
    uint64_t size = fs::file_size(first);
    std::ifstream in(first, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    size_t position = 0;
    BatchCursor cursor(as_bytes(bytes));
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      if (position > size / 2) {
        write_at(first, position + kBatchHeaderSize + 2, "\x42\x42");
        return parse_batch_header(batch)->base_offset;
      }
      position += batch.size();
    }
    return -1;
  }

  TempDir live_;
  TempDir crashed_;
  std::vector<int64_t> bases_;
};
TEST_F(LogRecoveryTest, CleanShutdownSkipsTheScan) {
  {
    auto log = open(live_.path());
    for (int i = 0; i < 100; i++) {
      std::string b = make_batch(5);
      ASSERT_TRUE(log->append(as_writable_bytes(b)).is_ok());
    }
  }
  EXPECT_TRUE(file_exists(live_.file(".clean-shutdown")));
  auto log = open(live_.path());
  EXPECT_TRUE(log->recovery_report().clean_shutdown);
  EXPECT_EQ(log->recovery_report().segments_scanned, 0);
  EXPECT_FALSE(file_exists(live_.file(".clean-shutdown"))) << "a crash from now on is unclean";
  EXPECT_EQ(log->log_end_offset(), 500);
  EXPECT_EQ(read_everything(*log).size(), 500u);
}

TEST_F(LogRecoveryTest, UncleanShutdownScansOnlyPastTheRecoveryPoint) {
  write_and_crash(200);
  ASSERT_GT(bases_.size(), 3u);
  auto log = open(crashed_.path());
  const RecoveryReport& report = log->recovery_report();
  EXPECT_FALSE(report.clean_shutdown);
  EXPECT_GE(report.segments_scanned, 1);
  EXPECT_LT(report.segments_scanned, static_cast<int>(bases_.size()))
      << "rolled segments were synced and checkpointed";
  EXPECT_EQ(report.bytes_truncated, 0u);
  EXPECT_EQ(log->log_end_offset(), 1000);
  EXPECT_EQ(read_everything(*log).size(), 1000u);
}

TEST_F(LogRecoveryTest, TornTailIsCut) {
  write_and_crash(50);
  std::string last = segment_file(bases_.back(), ".log");
  uint64_t size = fs::file_size(last);
  fs::resize_file(last, size - 7);  // the last batch lost its final bytes
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), 245) << "the last (torn) batch of 5 is gone";
  EXPECT_GT(log->recovery_report().bytes_truncated, 0u);
  EXPECT_TRUE(notes_mention(*log, "torn write"));
  EXPECT_EQ(read_everything(*log).size(), 245u);
  std::string b = make_batch(1);
  EXPECT_EQ(log->append(as_writable_bytes(b))->base_offset, 245) << "appends continue densely";
}

TEST_F(LogRecoveryTest, TornHeaderIsCut) {
  write_and_crash(50);
  append_to(segment_file(bases_.back(), ".log"), std::string(20, '\x05'));
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), 250);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 20u);
}

TEST_F(LogRecoveryTest, ZeroFilledTailIsCut) {
  write_and_crash(50);
  append_to(segment_file(bases_.back(), ".log"), std::string(4096, '\0'));
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), 250);
  EXPECT_EQ(log->recovery_report().bytes_truncated, 4096u);
  EXPECT_TRUE(notes_mention(*log, "zero-filled"));
}

TEST_F(LogRecoveryTest, FlippedBitCutsFromThatBatchOn) {
  write_and_crash(50);
  std::string last = segment_file(bases_.back(), ".log");
  uint64_t size = fs::file_size(last);
  ASSERT_GT(size, 300u);
  // Damage a byte in the records of some batch in the middle of the last segment.
  std::ifstream in(last, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t position = 0, victim = 0;
  int64_t victim_offset = -1;
  BatchCursor cursor(as_bytes(bytes));
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    if (position > size / 2 && victim_offset < 0) {
      victim = position;
      victim_offset = parse_batch_header(batch)->base_offset;
    }
    position += batch.size();
  }
  ASSERT_GE(victim_offset, 0);
  write_at(last, victim + kBatchHeaderSize + 3,
           std::string(1, static_cast<char>(bytes[victim + kBatchHeaderSize + 3] ^ 0x04)));
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), victim_offset);
  EXPECT_TRUE(notes_mention(*log, "CRC mismatch"));
  EXPECT_EQ(read_everything(*log).size(), static_cast<size_t>(victim_offset));
}

TEST_F(LogRecoveryTest, DamageInAnEarlySegmentRemovesLaterSegments) {
  write_and_crash(200);
  ASSERT_GT(bases_.size(), 3u);
  ASSERT_TRUE(remove_file(crashed_.file("log-state.checkpoint")).is_ok());  // verify everything
  std::string second = segment_file(bases_[1], ".log");
  write_at(second, 100, "garbage!");
  auto log = open(crashed_.path());
  EXPECT_LT(log->log_end_offset(), bases_[2]);
  EXPECT_GE(log->log_end_offset(), bases_[1]);
  EXPECT_EQ(log->segment_count(), 2u) << "a log is a prefix, never a log with a hole";
  EXPECT_GT(log->recovery_report().segments_removed, 0);
  EXPECT_FALSE(file_exists(segment_file(bases_[2], ".log")));
  EXPECT_EQ(read_everything(*log).size(), static_cast<size_t>(log->log_end_offset()));
}

TEST_F(LogRecoveryTest, MissingIndexIsRebuilt) {
  {
    auto log = open(live_.path());
    for (int i = 0; i < 200; i++) {
      std::string b = make_batch(5, 1000 + i);
      ASSERT_TRUE(log->append(as_writable_bytes(b)).is_ok());
    }
    bases_ = log->segment_base_offsets();
  }
  std::string index = segment_stem(live_.path(), bases_[1]) + ".index";
  std::string timeindex = segment_stem(live_.path(), bases_[1]) + ".timeindex";
  uint64_t index_size = fs::file_size(index);
  ASSERT_GT(index_size, 0u);
  fs::remove(index);
  auto log = open(live_.path());
  EXPECT_TRUE(log->recovery_report().clean_shutdown);
  EXPECT_TRUE(notes_mention(*log, "index"));
  EXPECT_EQ(fs::file_size(index), index_size) << "rebuilt to the same entries";
  EXPECT_GT(fs::file_size(timeindex), 0u);
  EXPECT_EQ(read_everything(*log).size(), 1000u);
  // Batch i holds timestamps 1000+i .. 1000+i+4: 1150 first appears in batch 146.
  Result<std::optional<int64_t>> ts = log->offset_for_timestamp(1000 + 150);
  ASSERT_TRUE(ts.is_ok() && ts->has_value());
  EXPECT_EQ(**ts, 146 * 5 + 4);
}

TEST_F(LogRecoveryTest, GarbageAndTruncatedIndexesAreRebuilt) {
  {
    auto log = open(live_.path());
    for (int i = 0; i < 200; i++) {
      std::string b = make_batch(5, 1000 + i);
      ASSERT_TRUE(log->append(as_writable_bytes(b)).is_ok());
    }
    bases_ = log->segment_base_offsets();
  }
  std::string garbage = segment_stem(live_.path(), bases_[1]) + ".index";
  std::string truncated = segment_stem(live_.path(), bases_[2]) + ".index";
  std::string timeindex = segment_stem(live_.path(), bases_[0]) + ".timeindex";
  uint64_t garbage_size = fs::file_size(garbage);
  write_at(garbage, 0, std::string(16, '\xEE') + std::string(8, '\x01'));
  fs::resize_file(truncated, fs::file_size(truncated) - 3);
  write_at(timeindex, 0, std::string(24, '\x7F') + std::string(12, '\x00'));
  auto log = open(live_.path());
  EXPECT_GE(log->recovery_report().notes.size(), 3u);
  EXPECT_EQ(fs::file_size(garbage), garbage_size);
  EXPECT_EQ(fs::file_size(truncated) % 8, 0u);
  EXPECT_EQ(read_everything(*log).size(), 1000u);
  for (int64_t offset : {0L, 7L, 333L, 512L, 999L}) {
    Result<LogReadResult> r = log->read(offset, 1);
    ASSERT_TRUE(r.is_ok());
    Result<BatchHeader> h = parse_batch_header(as_bytes(r->bytes));
    ASSERT_TRUE(h.is_ok());
    EXPECT_LE(h->base_offset, offset);
    EXPECT_GE(h->last_offset(), offset);
  }
}

TEST_F(LogRecoveryTest, CorruptionInASealedSegmentIsReportedAndNeverServed) {
  const int64_t victim_offset = write_then_damage_a_sealed_segment();
  ASSERT_GT(victim_offset, 0);
  auto log = open(live_.path());
  EXPECT_EQ(log->log_end_offset(), 1000) << "sealed segments are not rewritten on a clean start";
  Result<LogReadResult> bad = log->read(victim_offset, 1 << 16);
  EXPECT_EQ(bad.code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(log->corrupt_reads(), 1u);
  Result<LogReadResult> before = log->read(0, 1 << 20);
  ASSERT_TRUE(before.is_ok()) << "the good batches before it are served";
  BatchCursor served(as_bytes(before->bytes));
  for (auto batch = served.next(); !batch.empty(); batch = served.next()) {
    ASSERT_TRUE(verify_batch(batch).is_ok());
    EXPECT_LT(parse_batch_header(batch)->base_offset, victim_offset);
  }
  EXPECT_EQ(before->next_offset, victim_offset);
}

TEST_F(LogRecoveryTest, ADamagedBatchMarkedWhenReadIsCutAtTheNextOpen) {
  // The broker's repair of a replica whose other replicas hold the data: the
  // read reports where, the log is marked, the next open cuts it there.
  const int64_t victim_offset = write_then_damage_a_sealed_segment();
  ASSERT_GT(victim_offset, 0);
  std::vector<std::pair<std::string, int64_t>> reported;
  LogConfig c = config();
  c.corrupt_read_observer = [&](const std::string& dir, int64_t offset) {
    reported.emplace_back(dir, offset);
  };
  {
    Result<std::unique_ptr<Log>> log = Log::open(live_.path(), c);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    ASSERT_EQ((*log)->read(victim_offset, 1 << 16).code(), ErrorCode::kCorruptMessage);
    ASSERT_EQ(reported.size(), 1u);
    EXPECT_EQ(reported[0].first, live_.path());
    EXPECT_EQ(reported[0].second, victim_offset);
    ASSERT_TRUE((*log)->mark_damaged(victim_offset).is_ok());
  }
  auto log = open(live_.path());
  EXPECT_EQ(log->log_end_offset(), victim_offset) << "cut at the damaged batch";
  EXPECT_TRUE(
      notes_mention(*log, "failing its CRC at or after offset " + std::to_string(victim_offset)));
  EXPECT_EQ(read_everything(*log).size(), static_cast<size_t>(victim_offset))
      << "everything before it is intact and served";
  EXPECT_FALSE(fs::exists(live_.path() + "/damaged.checkpoint")) << "applied once";
  std::string b = make_batch(5);
  EXPECT_TRUE(log->append(as_writable_bytes(b)).is_ok()) << "appends (fetches) go on from there";
  EXPECT_EQ(log->log_end_offset(), victim_offset + 5);
}

TEST_F(LogRecoveryTest, AnIndexEntryThatPassesTheChecksButPointsAmissIsNotFollowed) {
  // An entry whose position lost a bit but stays in order: load() keeps it,
  // so lookups must check that it points at the batch it names.
  {
    auto log = open(live_.path());
    for (int i = 0; i < 200; i++) {
      std::string b = make_batch(5);
      ASSERT_TRUE(log->append(as_writable_bytes(b)).is_ok());
    }
    bases_ = log->segment_base_offsets();
  }
  const std::string index = segment_stem(live_.path(), bases_[0]) + ".index";
  ASSERT_GE(fs::file_size(index), 24u) << "three entries at least";
  std::ifstream in(index, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  // Entry 1 of 8 bytes: relative offset, position (little-endian u32s).
  uint32_t relative = 0, position = 0;
  std::memcpy(&relative, bytes.data() + 8, 4);
  std::memcpy(&position, bytes.data() + 12, 4);
  const uint32_t amiss = position + 7;  // inside its batch, before the next entry's
  write_at(index, 12, std::string(reinterpret_cast<const char*>(&amiss), 4));
  auto log = open(live_.path());
  const int64_t offset = bases_[0] + relative;
  Result<LogReadResult> read = log->read(offset, 1 << 16);
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  BatchCursor cursor(as_bytes(read->bytes));
  std::span<const uint8_t> batch = cursor.next();
  ASSERT_FALSE(batch.empty());
  EXPECT_TRUE(verify_batch(batch).is_ok());
  EXPECT_EQ(parse_batch_header(batch)->base_offset, offset);
  EXPECT_EQ(log->corrupt_reads(), 0u);
  EXPECT_EQ(read_everything(*log).size(), 1000u);
}

TEST_F(LogRecoveryTest, AnUnreadableDamageMarkIsIgnored) {
  write_and_crash(4);
  append_to(crashed_.path() + "/damaged.checkpoint", "mq-damaged 1\ntruncate_to 3\ncrc32c 0\n");
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), 20) << "nothing cut on a mark that fails its checksum";
  EXPECT_TRUE(notes_mention(*log, "ignored"));
  EXPECT_FALSE(fs::exists(crashed_.path() + "/damaged.checkpoint"));
}

TEST_F(LogRecoveryTest, LeaderEpochsAreCutToTheRecoveredLog) {
  write_and_crash(200);  // epoch 1 from offset 0, epoch 2 from offset 500
  // Cut the log below where epoch 2 began: the epoch must go too.
  ASSERT_TRUE(remove_file(crashed_.file("log-state.checkpoint")).is_ok());
  int64_t holding_500 = 0;
  for (auto base : bases_) {
    if (base <= 500) holding_500 = base;
  }
  ASSERT_GT(holding_500, 0);
  for (auto base : bases_) {
    if (base >= holding_500) fs::resize_file(segment_file(base, ".log"), 5);
  }
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), holding_500);
  std::vector<EpochEntry> epochs = log->leader_epochs().entries();
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].epoch, 1);
  auto end = log->leader_epochs().end_offset_for(2, log->log_end_offset());
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->epoch, 1);
  EXPECT_EQ(end->start_offset, log->log_end_offset());
}

TEST_F(LogRecoveryTest, GarbageCheckpointsAreRebuiltFromTheLog) {
  write_and_crash(50);
  write_at(crashed_.file("leader-epoch-checkpoint"), 0, "mq-leader-epochs 1\n9 9\n");
  write_at(crashed_.file("log-state.checkpoint"), 0, "\x01\x02\x03garbage");
  write_at(crashed_.file("producer-state.checkpoint"), 0, "nonsense");
  auto log = open(crashed_.path());
  EXPECT_EQ(log->log_end_offset(), 250);
  EXPECT_EQ(log->recovery_report().segments_scanned, static_cast<int>(bases_.size()))
      << "no trusted recovery point: verify everything";
  std::vector<EpochEntry> epochs = log->leader_epochs().entries();
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0], (EpochEntry{1, 0}));
  EXPECT_EQ(epochs[1], (EpochEntry{2, 125}));
}

TEST_F(LogRecoveryTest, LeftoverTempFilesAndOrphanIndexesAreRemoved) {
  write_and_crash(10);
  append_to(crashed_.file("log-state.checkpoint.tmp"), "half written");
  append_to(segment_stem(crashed_.path(), 999999) + ".index", std::string(8, '\0'));
  auto log = open(crashed_.path());
  EXPECT_FALSE(file_exists(crashed_.file("log-state.checkpoint.tmp")));
  EXPECT_FALSE(file_exists(segment_stem(crashed_.path(), 999999) + ".index"));
  EXPECT_EQ(log->log_end_offset(), 50);
}

}  // namespace
}  // namespace mq
