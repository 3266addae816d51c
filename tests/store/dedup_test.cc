// De-duplication by message id (store/dedup_window.h, Log::append): a record
// re-sent with an id in the window is left out and reported with the first
// offset, outside it appended again; the pieces a batch is stored in keep
// offsets and producer sequences; the window survives restarts (snapshot,
// replay, the log alone), follows truncation, and is built by follower appends.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "store/dedup_window.h"
#include "store/log.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;

constexpr int64_t kWindowMs = 60'000;

struct Sent {
  std::string id;  // empty: no message id
  std::string value;
};

class DedupTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.fsync_policy = FsyncPolicy::kNever;
    c.dedup_window_ms = kWindowMs;
    c.clock_ms = [this] { return now_ms_.load(); };
    return c;
  }
  std::unique_ptr<Log> open(const std::string& dir, const LogConfig& c) {
    Result<std::unique_ptr<Log>> log = Log::open(dir, c);
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  static std::string batch(const std::vector<Sent>& records, int64_t producer_id = -1,
                           int32_t sequence = -1, Compression codec = Compression::kNone,
                           int64_t timestamp = 1'000'000) {
    RecordBatchBuilder builder(codec);
    if (producer_id >= 0) builder.set_producer(producer_id, 0, sequence);
    for (const Sent& r : records) {
      std::vector<RecordHeader> headers;
      if (!r.id.empty()) headers.push_back({kMessageIdHeader, r.id});
      builder.add(timestamp, std::nullopt, r.value, headers);
    }
    return *builder.build();
  }
  static Result<AppendResult> append(Log& log, std::string bytes) {
    return log.append(as_writable_bytes(bytes));
  }
  // offset -> value of every record in the log.
  static std::map<int64_t, std::string> contents(const Log& log) {
    std::map<int64_t, std::string> out;
    Result<LogReadResult> read = log.read(log.log_start_offset(), 64 << 20);
    EXPECT_TRUE(read.is_ok());
    if (!read.is_ok()) return out;
    BatchCursor cursor(as_bytes(read->bytes));
    RecordBatchReader reader;
    std::vector<Record> records;
    for (auto b = cursor.next(); !b.empty(); b = cursor.next()) {
      EXPECT_TRUE(verify_batch(b).is_ok());
      EXPECT_TRUE(reader.decode(b, &records).is_ok());
      for (const Record& r : records) out[r.offset] = std::string(*r.value);
    }
    return out;
  }

  TempDir dir_;
  std::atomic<int64_t> now_ms_{1'000'000};
};

TEST_F(DedupTest, AnIdInTheWindowIsStoredOnceAndAnsweredWithItsOffset) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, batch({{"a", "A"}, {"b", "B"}, {"c", "C"}})).is_ok());
  Result<AppendResult> again = append(*log, batch({{"b", "B again"}, {"d", "D"}, {"", "plain"}}));
  ASSERT_TRUE(again.is_ok()) << again.status().to_string();
  EXPECT_EQ(again->base_offset, 3);
  EXPECT_EQ(again->last_offset, 5);
  EXPECT_EQ(again->record_count, 2);
  ASSERT_EQ(again->duplicates.size(), 1u);
  EXPECT_EQ(again->duplicates[0].index, 0);
  EXPECT_EQ(again->duplicates[0].offset, 1);
  // Offset 3 is held by a batch without records; the others keep base + index.
  EXPECT_EQ(contents(*log),
            (std::map<int64_t, std::string>{{0, "A"}, {1, "B"}, {2, "C"}, {4, "D"}, {5, "plain"}}));
  EXPECT_EQ(log->log_end_offset(), 6);
  EXPECT_EQ(log->dedup_offset("d"), 4);
}

TEST_F(DedupTest, AnIdRepeatedInsideOneAppendIsStoredOnce) {
  auto log = open(dir_.path(), config());
  Result<AppendResult> r = append(*log, batch({{"x", "1"}, {"y", "2"}, {"x", "3"}}));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->duplicates.size(), 1u);
  EXPECT_EQ(r->duplicates[0].index, 2);
  EXPECT_EQ(r->duplicates[0].offset, 0);
  EXPECT_EQ(contents(*log), (std::map<int64_t, std::string>{{0, "1"}, {1, "2"}}));
  EXPECT_EQ(log->log_end_offset(), 3);
}

TEST_F(DedupTest, OutsideTheWindowTheIdIsAppendedAgain) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, batch({{"a", "first"}})).is_ok());
  now_ms_ += kWindowMs + 1;
  Result<AppendResult> r = append(*log, batch({{"a", "second"}}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->duplicates.empty());
  EXPECT_EQ(contents(*log), (std::map<int64_t, std::string>{{0, "first"}, {1, "second"}}));
  EXPECT_EQ(log->dedup_offset("a"), 1);
}

TEST_F(DedupTest, AWindowOfZeroTurnsItOff) {
  LogConfig c = config();
  c.dedup_window_ms = 0;
  auto log = open(dir_.path(), c);
  ASSERT_TRUE(append(*log, batch({{"a", "1"}})).is_ok());
  Result<AppendResult> r = append(*log, batch({{"a", "2"}}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->duplicates.empty());
  EXPECT_EQ(log->log_end_offset(), 2);
  EXPECT_EQ(log->dedup_window_size(), 0u);
}

TEST_F(DedupTest, AnIdempotentProducersSequenceGoesOnAcrossTheLeftOutRecords) {
  for (Compression codec : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    SCOPED_TRACE(static_cast<int>(codec));
    TempDir dir;
    auto log = open(dir.path(), config());
    ASSERT_TRUE(append(*log, batch({{"a", "A"}, {"b", "B"}}, 7, 0, codec)).is_ok());
    // A new producer instance re-sends b (a duplicate in the middle and at
    // the end), then goes on with its next sequence.
    std::string resent = batch({{"c", "C"}, {"b", "B"}, {"d", "D"}, {"a", "A"}}, 8, 0, codec);
    Result<AppendResult> r = append(*log, resent);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->duplicates.size(), 2u);
    EXPECT_EQ(r->duplicates[0].offset, 1);
    EXPECT_EQ(r->duplicates[1].offset, 0);
    Result<AppendResult> next = append(*log, batch({{"e", "E"}}, 8, 4, codec));
    ASSERT_TRUE(next.is_ok()) << next.status().to_string();
    EXPECT_EQ(next->base_offset, 6);
    // A retry of the stored-in-pieces batch gets its offsets and duplicates again.
    Result<AppendResult> retry = append(*log, resent);
    ASSERT_TRUE(retry.is_ok()) << retry.status().to_string();
    EXPECT_TRUE(retry->duplicate);
    EXPECT_EQ(retry->base_offset, 2);
    EXPECT_EQ(retry->last_offset, 5);
    EXPECT_EQ(retry->duplicates.size(), 2u);
    // Every record of a batch a duplicate: its sequence is stored all the same.
    ASSERT_TRUE(append(*log, batch({{"a", "A"}, {"c", "C"}}, 9, 0, codec)).is_ok());
    Result<AppendResult> after = append(*log, batch({{"f", "F"}}, 9, 2, codec));
    ASSERT_TRUE(after.is_ok()) << after.status().to_string();
    EXPECT_EQ(contents(*log), (std::map<int64_t, std::string>{
                                  {0, "A"}, {1, "B"}, {2, "C"}, {4, "D"}, {6, "E"}, {9, "F"}}));
    // The producer state rebuilt from the log agrees.
    ASSERT_TRUE(log->close().is_ok());
    std::filesystem::remove(dir.path() + "/producer-state.checkpoint");
    log = open(dir.path(), config());
    EXPECT_TRUE(append(*log, batch({{"g", "G"}}, 9, 3, codec)).is_ok());
    EXPECT_TRUE(append(*log, batch({{"h", "H"}}, 8, 5, codec)).is_ok());
  }
}

TEST_F(DedupTest, TheWindowSurvivesARestartFromItsSnapshotAndFromTheLogAlone) {
  {
    auto log = open(dir_.path(), config());
    ASSERT_TRUE(append(*log, batch({{"a", "A"}, {"b", "B"}})).is_ok());
    ASSERT_TRUE(log->close().is_ok());
  }
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/dedup-window.checkpoint"));
  {
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->dedup_window_size(), 2u);
    // Appended after the snapshot, and the log is not closed: replayed on open.
    ASSERT_TRUE(append(*log, batch({{"c", "C"}})).is_ok());
  }
  {
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->dedup_offset("c"), 2);
    Result<AppendResult> r = append(*log, batch({{"a", "A"}, {"c", "C"}}));
    ASSERT_TRUE(r.is_ok());
    EXPECT_EQ(r->duplicates.size(), 2u);
    ASSERT_TRUE(log->close().is_ok());
  }
  // The snapshot lost or damaged: the ids come from the log's recent part.
  for (bool damaged : {false, true}) {
    std::string snapshot = dir_.path() + "/dedup-window.checkpoint";
    if (damaged) {
      std::ofstream(snapshot, std::ios::app) << "garbage\n";
    } else {
      std::filesystem::remove(snapshot);
    }
    auto log = open(dir_.path(), config());
    EXPECT_EQ(log->dedup_offset("a"), 0);
    EXPECT_EQ(log->dedup_offset("c"), 2);
    ASSERT_TRUE(log->close().is_ok());
  }
  // Records older than the window are not read back.
  now_ms_ += kWindowMs + 1;
  std::filesystem::remove(dir_.path() + "/dedup-window.checkpoint");
  auto log = open(dir_.path(), config());
  EXPECT_EQ(log->dedup_window_size(), 0u);
}

TEST_F(DedupTest, TruncationForgetsTheIdsItCuts) {
  auto log = open(dir_.path(), config());
  ASSERT_TRUE(append(*log, batch({{"a", "A"}})).is_ok());
  ASSERT_TRUE(append(*log, batch({{"b", "B"}})).is_ok());
  ASSERT_TRUE(log->truncate_to(1).is_ok());
  EXPECT_FALSE(log->dedup_offset("b"));
  EXPECT_EQ(log->dedup_offset("a"), 0);
  Result<AppendResult> r = append(*log, batch({{"b", "B2"}}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->duplicates.empty());
}

// A snapshot names the epoch of the batch it ends at: one left from before a
// truncation (written while the log was cut, say) is not trusted by a log
// that holds other records there now.
TEST_F(DedupTest, ASnapshotOfRecordsTheLogNoLongerHoldsIsNotTrusted) {
  std::string snapshot = dir_.path() + "/dedup-window.checkpoint";
  std::string stale;
  {
    auto log = open(dir_.path(), config());
    std::string a = batch({{"a", "A"}});
    ASSERT_TRUE(log->append(as_writable_bytes(a), {.leader_epoch = 0}).is_ok());
    std::string b = batch({{"b", "B"}});
    ASSERT_TRUE(log->append(as_writable_bytes(b), {.leader_epoch = 0}).is_ok());
    ASSERT_TRUE(log->close().is_ok());
    std::ifstream in(snapshot);
    stale.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  {
    auto log = open(dir_.path(), config());
    ASSERT_TRUE(log->truncate_to(1).is_ok());
    std::string c = batch({{"c", "C"}});
    ASSERT_TRUE(log->append(as_writable_bytes(c), {.leader_epoch = 1}).is_ok());
    ASSERT_TRUE(log->close().is_ok());
  }
  std::ofstream(snapshot, std::ios::trunc) << stale;
  auto log = open(dir_.path(), config());
  EXPECT_EQ(log->dedup_offset("a"), 0);
  EXPECT_EQ(log->dedup_offset("c"), 1);
  EXPECT_FALSE(log->dedup_offset("b")) << "b was cut with offset 1";
  bool noted = false;
  for (const std::string& note : log->recovery_report().notes) {
    noted |= note.find("does not match the log") != std::string::npos;
  }
  EXPECT_TRUE(noted);
}

TEST_F(DedupTest, AFollowerRemembersTheIdsItCopiesAndTheEmptyBatches) {
  auto leader = open(dir_.path() + "/leader", config());
  ASSERT_TRUE(append(*leader, batch({{"a", "A"}, {"b", "B"}})).is_ok());
  ASSERT_TRUE(append(*leader, batch({{"a", "A"}, {"c", "C"}})).is_ok());
  auto follower = open(dir_.path() + "/follower", config());
  Result<LogReadResult> read = leader->read(0, 1 << 20);
  ASSERT_TRUE(read.is_ok());
  std::string copy = read->bytes;
  Result<AppendResult> copied =
      follower->append(as_writable_bytes(copy), {.assign_offsets = false});
  ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
  EXPECT_EQ(follower->log_end_offset(), 4);
  EXPECT_EQ(contents(*follower), contents(*leader));
  // Become the leader: the ids its predecessor accepted are known.
  Result<AppendResult> r = append(*follower, batch({{"c", "C"}, {"b", "B"}}));
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->duplicates.size(), 2u);
  EXPECT_EQ(r->duplicates[0].offset, 3);
  EXPECT_EQ(r->duplicates[1].offset, 1);
}

TEST_F(DedupTest, BadMessageIdsAreRefusedWithTheRecordNamed) {
  auto log = open(dir_.path(), config());
  auto refused = [&](std::string bytes, const std::string& words) {
    Result<AppendResult> r = append(*log, std::move(bytes));
    EXPECT_EQ(r.code(), ErrorCode::kInvalidRecord) << words;
    if (!r.is_ok()) {
      EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status().message();
    }
  };
  refused(batch({{"ok", "1"}, {std::string(256, 'x'), "2"}}), "record 1: message id of 256 bytes");
  {
    RecordBatchBuilder builder;
    std::vector<RecordHeader> two = {{kMessageIdHeader, "a"}, {kMessageIdHeader, "b"}};
    builder.add(1, std::nullopt, "v", two);
    refused(*builder.build(), "more than one message id");
    std::vector<RecordHeader> null_id = {{kMessageIdHeader, std::nullopt}};
    builder.add(1, std::nullopt, "v", null_id);
    refused(*builder.build(), "null message id");
  }
  // The attribute bit must say whether there are ids.
  std::string without_bit = batch({{"a", "1"}});
  BatchHeader h = *parse_batch_header(as_bytes(without_bit));
  h.attributes &= ~kAttrMessageIds;
  write_batch_header(as_writable_bytes(without_bit), h);
  refused(without_bit, "without attribute bit 5");
  std::string stray_bit = batch({{"", "1"}});
  h = *parse_batch_header(as_bytes(stray_bit));
  h.attributes |= kAttrMessageIds;
  write_batch_header(as_writable_bytes(stray_bit), h);
  refused(stray_bit, "set on a batch without message ids");
  // A producer may not send a batch without records.
  BatchHeader original = *parse_batch_header(as_bytes(batch({{"", "1"}})));
  refused(empty_batch(original, 0, 1), "batch with no records");
  EXPECT_EQ(log->log_end_offset(), 0);
}

TEST(DedupWindowTest, ExpiresInOrderAndKeepsARepeatedIdForItsLaterEntry) {
  DedupWindow window;
  window.add("a", 0, 100);
  window.add("b", 1, 200);
  window.add("a", 2, 300);
  EXPECT_EQ(window.find("a"), 2);
  window.expire(/*now_ms=*/250, /*window_ms=*/100);  // drops entries before 150
  EXPECT_EQ(window.find("a"), 2);
  EXPECT_EQ(window.find("b"), 1);
  window.truncate_from(2);
  EXPECT_FALSE(window.find("a"));
  EXPECT_EQ(window.size(), 1u);
}

TEST(DedupWindowTest, TheSnapshotRoundTripsAnyBytesAndRefusesBadLines) {
  TempDir dir;
  std::string path = dir.path() + "/dedup-window.checkpoint";
  DedupWindow window;
  std::string binary("\x00\xff id\n", 6);
  window.add(binary, 5, 10);
  window.add("plain", 6, 11);
  ASSERT_TRUE(window.write_snapshot(path, {.offset = 7, .epoch = 3}).is_ok());
  DedupWindow loaded;
  Result<DedupWindow::Covered> covered = loaded.load_snapshot(path);
  ASSERT_TRUE(covered.is_ok()) << covered.status().to_string();
  EXPECT_EQ(covered->offset, 7);
  EXPECT_EQ(covered->epoch, 3);
  EXPECT_EQ(loaded.find(binary), 5);
  EXPECT_EQ(loaded.find("plain"), 6);
  // An entry at or past the offset the snapshot covers is a bad line.
  ASSERT_TRUE(window.write_snapshot(path, {.offset = 6, .epoch = 3}).is_ok());
  Result<DedupWindow::Covered> bad = loaded.load_snapshot(path);
  EXPECT_EQ(bad.code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(loaded.size(), 0u);
}

// The open-addressing table against a plain model, through random adds,
// expiries, truncations and growth.
TEST(DedupWindowTest, AgreesWithAModelThroughRandomOperations) {
  std::mt19937 random(7);
  DedupWindow window;
  struct Added {
    std::string id;
    int64_t offset, time;
  };
  std::vector<Added> model;  // every add in order; the latest entry of an id wins
  int64_t offset = 0, now = 0;
  auto expected = [&](const std::string& id) -> std::optional<int64_t> {
    for (auto it = model.rbegin(); it != model.rend(); ++it) {
      if (it->id == id) return it->offset;
    }
    return std::nullopt;
  };
  for (int step = 0; step < 20000; ++step) {
    int op = std::uniform_int_distribution<int>(0, 99)(random);
    if (op < 80) {
      std::string id = "id-" + std::to_string(std::uniform_int_distribution<int>(0, 3000)(random));
      window.add(id, offset++, now);
      model.push_back({id, offset - 1, now});
      now += std::uniform_int_distribution<int>(0, 2)(random);
    } else if (op < 90) {
      int64_t window_ms = std::uniform_int_distribution<int64_t>(0, 3000)(random);
      window.expire(now, window_ms);
      std::erase_if(model, [&](const Added& a) { return a.time < now - window_ms; });
    } else if (op < 98 && offset > 0) {
      int64_t cut = offset - std::uniform_int_distribution<int64_t>(0, 50)(random);
      window.truncate_from(cut);
      std::erase_if(model, [&](const Added& a) { return a.offset >= cut; });
      offset = std::max<int64_t>(cut, model.empty() ? 0 : model.back().offset + 1);
    } else {
      window.clear();
      model.clear();
    }
    if (step % 97 == 0 || op >= 80) {
      std::set<std::string> ids;
      for (const Added& a : model) ids.insert(a.id);
      ASSERT_EQ(window.size(), ids.size()) << "step " << step;
      for (const std::string& id : ids) ASSERT_EQ(window.find(id), expected(id)) << id;
      ASSERT_FALSE(window.find("never"));
    }
  }
}

TEST(EmptyBatchTest, HoldsOffsetsAndSequencesWithoutRecords) {
  RecordBatchBuilder builder;
  builder.set_producer(3, 1, 10);
  for (int i = 0; i < 5; i++) builder.add(1000 + i, std::nullopt, "v");
  std::string original = *builder.build();
  BatchHeader h = *parse_batch_header(as_bytes(original));
  std::string empty = empty_batch(h, 2, 3);
  Result<BatchHeader> e = verify_batch(as_bytes(empty));
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ(e->record_count, 0);
  EXPECT_EQ(e->base_offset, 2);
  EXPECT_EQ(e->last_offset(), 4);
  EXPECT_EQ(e->base_sequence, 12);
  EXPECT_EQ(e->last_sequence(), 14);
  RecordBatchReader reader;
  std::vector<Record> records;
  EXPECT_TRUE(reader.decode(as_bytes(empty), &records).is_ok());
  EXPECT_TRUE(records.empty());
}

}  // namespace
}  // namespace mq
