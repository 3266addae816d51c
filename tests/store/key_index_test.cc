// The per-segment key index and Log::find_by_key: entries at append, across
// segments, after a restart (clean, unclean, with the index lost or damaged),
// truncation, retention and compaction.
#include "store/key_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "store/log.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;

class KeyIndexTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.fsync_policy = FsyncPolicy::kNever;
    c.segment_bytes = 2048;  // a few dozen records per segment
    return c;
  }
  std::unique_ptr<Log> open(const LogConfig& c) {
    Result<std::unique_ptr<Log>> log = Log::open(dir_.path(), c);
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  // One batch per call: records keyed `keys` (empty string: no key), values "v<offset>".
  void append(Log& log, const std::vector<std::string>& keys,
              Compression codec = Compression::kNone) {
    RecordBatchBuilder builder(codec);
    int64_t offset = log.log_end_offset();
    std::vector<std::string> values;
    for (size_t i = 0; i < keys.size(); ++i) values.push_back("v" + std::to_string(offset + i));
    for (size_t i = 0; i < keys.size(); ++i) {
      std::optional<std::string_view> key;
      if (!keys[i].empty()) key = keys[i];
      builder.add(1000, key, std::string_view(values[i]));
    }
    std::string batch = *builder.build();
    Result<AppendResult> r = log.append(as_writable_bytes(batch));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  }
  // Offsets find_by_key returns (checking each record's key and value).
  std::vector<int64_t> find(const Log& log, const std::string& key, size_t limit = 100,
                            bool* more = nullptr) {
    Result<KeyLookup> found = log.find_by_key(key, log.log_end_offset(), limit);
    EXPECT_TRUE(found.is_ok()) << found.status().to_string();
    std::vector<int64_t> offsets;
    if (!found.is_ok()) return offsets;
    if (more != nullptr) *more = found->more;
    BatchCursor cursor(as_bytes(found->batches));
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      RecordBatchReader reader;
      std::vector<Record> records;
      EXPECT_TRUE(verify_batch(batch).is_ok());
      EXPECT_TRUE(reader.decode(batch, &records).is_ok());
      for (const Record& r : records) {
        EXPECT_EQ(*r.key, key);
        EXPECT_EQ(*r.value, "v" + std::to_string(r.offset));
        offsets.push_back(r.offset);
      }
    }
    EXPECT_EQ(offsets.size(), found->matches);
    return offsets;
  }
  // 300 records in batches of 3, one segment every few dozen: key "k<i % 7>", every 5th unkeyed.
  void fill(Log& log) {
    for (int b = 0; b < 100; ++b) {
      std::vector<std::string> keys;
      for (int i = b * 3; i < b * 3 + 3; ++i) {
        keys.push_back(i % 5 == 4 ? "" : "k" + std::to_string(i % 7));
      }
      append(log, keys, b % 2 == 0 ? Compression::kNone : Compression::kLz4);
    }
  }
  static std::vector<int64_t> expected(const std::string& key, int64_t from = 0) {
    std::vector<int64_t> out;
    for (int i = static_cast<int>(from); i < 300; ++i) {
      if (i % 5 != 4 && "k" + std::to_string(i % 7) == key) out.push_back(i);
    }
    return out;
  }
  std::vector<std::string> key_index_files() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
      if (e.path().extension() == ".keyindex") out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  TempDir dir_;
};

TEST_F(KeyIndexTest, FindsEveryRecordOfAKeyAcrossSegments) {
  auto log = open(config());
  fill(*log);
  ASSERT_GT(log->segment_count(), 3u);
  EXPECT_EQ(find(*log, "k3"), expected("k3"));
  EXPECT_EQ(find(*log, "k0"), expected("k0"));
  EXPECT_TRUE(find(*log, "nope").empty());
  EXPECT_TRUE(find(*log, "").empty()) << "unkeyed records are not the empty key";
  EXPECT_EQ(key_index_files().size(), log->segment_count());
}

TEST_F(KeyIndexTest, TheLimitKeepsTheLatestMatches) {
  auto log = open(config());
  fill(*log);
  std::vector<int64_t> all = expected("k2");
  bool more = false;
  EXPECT_EQ(find(*log, "k2", 3, &more), std::vector<int64_t>(all.end() - 3, all.end()));
  EXPECT_TRUE(more);
  EXPECT_EQ(find(*log, "k2", all.size(), &more), all);
  EXPECT_FALSE(more);
}

TEST_F(KeyIndexTest, TheEmptyKeyIsAKey) {
  auto log = open(config());
  RecordBatchBuilder builder;
  builder.add(1, std::string_view(""), std::string_view("v0"));
  builder.add(1, std::nullopt, std::string_view("v1"));
  std::string batch = *builder.build();
  ASSERT_TRUE(log->append(as_writable_bytes(batch)).is_ok());
  EXPECT_EQ(find(*log, ""), std::vector<int64_t>{0});
}

TEST_F(KeyIndexTest, SurvivesARestartAndIsRebuiltWhenLostOrDamaged) {
  {
    auto log = open(config());
    fill(*log);
    ASSERT_TRUE(log->close().is_ok());
  }
  {
    auto log = open(config());
    EXPECT_EQ(find(*log, "k5"), expected("k5"));
    ASSERT_TRUE(log->close().is_ok());
  }
  std::vector<std::string> files = key_index_files();
  ASSERT_GT(files.size(), 2u);
  std::filesystem::remove(files[0]);                                // lost
  std::filesystem::resize_file(files[1], 8);                        // cut short (a crash)
  std::ofstream(files[2], std::ios::app) << std::string(24, '\0');  // zeros appended
  auto log = open(config());
  EXPECT_EQ(find(*log, "k5"), expected("k5"));
  EXPECT_EQ(find(*log, "k1"), expected("k1"));
}

TEST_F(KeyIndexTest, IsRebuiltByRecoveryAfterAnUncleanStop) {
  {
    auto log = open(config());
    fill(*log);
    ASSERT_TRUE(log->close().is_ok());
  }
  // As after a crash with no checkpoint: recovery verifies every segment.
  std::filesystem::remove(dir_.file(".clean-shutdown"));
  std::filesystem::remove(dir_.file("log-state.checkpoint"));
  for (const std::string& file : key_index_files()) std::filesystem::resize_file(file, 0);
  auto log = open(config());
  EXPECT_GT(log->recovery_report().segments_scanned, 2);
  EXPECT_EQ(find(*log, "k4"), expected("k4"));
}

TEST_F(KeyIndexTest, FollowsTruncationAndRetention) {
  auto log = open(config());
  fill(*log);
  ASSERT_TRUE(log->truncate_to(150).is_ok());
  std::vector<int64_t> below;
  for (int64_t o : expected("k6")) {
    if (o < log->log_end_offset()) below.push_back(o);
  }
  EXPECT_EQ(find(*log, "k6"), below);
  append(*log, {"k6", "k6"});
  below.push_back(log->log_end_offset() - 2);
  below.push_back(log->log_end_offset() - 1);
  EXPECT_EQ(find(*log, "k6"), below);

  ASSERT_TRUE(log->delete_records_before(100).is_ok());
  std::erase_if(below, [](int64_t o) { return o < 100; });
  EXPECT_EQ(find(*log, "k6"), below);
}

TEST_F(KeyIndexTest, FindsTheRecordsCompactionKept) {
  LogConfig c = config();
  c.cleanup_policy = CleanupPolicy::kCompact;
  c.segment_bytes = 1024;
  auto log = open(c);
  for (int round = 0; round < 60; ++round) append(*log, {"a", "b", "c"});
  ASSERT_TRUE(log->compact({.ignore_dirty_ratio = true}).is_ok());
  std::vector<int64_t> found = find(*log, "b");
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.back(), 178) << "the latest record of b is kept";
  EXPECT_LT(found.size(), 60u) << "compaction removed older ones";
  ASSERT_TRUE(log->close().is_ok());
  auto reopened = open(c);
  EXPECT_EQ(find(*reopened, "b"), found);
}

TEST_F(KeyIndexTest, AnUnkeyedBatchLeavesOneMarker) {
  auto log = open(config());
  append(*log, {"", "", ""});
  append(*log, {"", ""});
  ASSERT_TRUE(log->flush().is_ok());
  std::vector<std::string> files = key_index_files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(files[0]), 2 * kKeyIndexEntryBytes);
}

TEST(KeyIndexHash, IsCrc32cButNeverTheMarker) {
  EXPECT_EQ(key_index_hash("123456789"), 0xE3069283u);
  EXPECT_NE(key_index_hash(""), kKeyIndexMarker);
}

}  // namespace
}  // namespace mq
