// The file-backed Raft storage: round trips, suffix truncation, snapshots,
// torn tails cut on open, corruption reported by file and offset, and a
// node restarted from what it persisted.
#include "raft/file_storage.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "raft/raft_node.h"
#include "store/coding.h"
#include "store/crc32c.h"
#include "store/file.h"
#include "tests/support/temp_dir.h"

namespace mq::raft {
namespace {

Entry entry(uint64_t index, uint64_t term, size_t size = 10) {
  return Entry{index, term, EntryType::kCommand, Bytes(size, static_cast<uint8_t>(index))};
}

std::vector<Entry> entries(uint64_t first, uint64_t last, uint64_t term, size_t size = 10) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) out.push_back(entry(i, term, size));
  return out;
}

std::unique_ptr<FileStorage> open_ok(const std::string& dir, FileStorageOptions options = {}) {
  Result<std::unique_ptr<FileStorage>> storage = FileStorage::open(dir, options);
  EXPECT_TRUE(storage.is_ok()) << storage.status().to_string();
  return storage.is_ok() ? std::move(storage).value() : nullptr;
}

PersistentState reopen(const std::string& dir, FileStorageOptions options = {}) {
  auto storage = open_ok(dir, options);
  Result<PersistentState> state = storage->load();
  EXPECT_TRUE(state.is_ok()) << state.status().to_string();
  return state.is_ok() ? std::move(state).value() : PersistentState{};
}

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("log-")) names.push_back(e.path().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void append_raw(const std::string& path, const std::string& bytes) {
  Result<File> file = File::open(path, false);
  ASSERT_TRUE(file.is_ok());
  uint64_t size = *file->size();
  ASSERT_TRUE(file->write_at(size, mq::as_bytes(bytes)).is_ok());
}

TEST(FileStorageTest, StartsEmpty) {
  testing::TempDir dir;
  PersistentState state = reopen(dir.path() + "/raft");
  EXPECT_EQ(state.hard_state, HardState{});
  EXPECT_FALSE(state.snapshot.has_value());
  EXPECT_TRUE(state.entries.empty());
}

TEST(FileStorageTest, RoundTripsHardStateEntriesAndSnapshotAcrossRestarts) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->save_hard_state(HardState{5, 3, 4}).is_ok());
    ASSERT_TRUE(storage->append(entries(1, 6, 5)).is_ok());
  }
  PersistentState state = reopen(dir.path());
  EXPECT_EQ(state.hard_state, (HardState{5, 3, 4}));
  EXPECT_EQ(state.entries, entries(1, 6, 5));
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->save_snapshot(Snapshot{4, 5, {9, 9}}).is_ok());
    ASSERT_TRUE(storage->append(entries(7, 8, 6)).is_ok());
  }
  state = reopen(dir.path());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_EQ(*state.snapshot, (Snapshot{4, 5, {9, 9}}));
  std::vector<Entry> expected = entries(5, 6, 5);
  for (const Entry& e : entries(7, 8, 6)) expected.push_back(e);
  EXPECT_EQ(state.entries, expected);
}

TEST(FileStorageTest, AppendReplacesAConflictingSuffixAcrossSegments) {
  testing::TempDir dir;
  FileStorageOptions small{.segment_bytes = 200};
  {
    auto storage = open_ok(dir.path(), small);
    for (uint64_t i = 1; i <= 20; i += 2)
      ASSERT_TRUE(storage->append(entries(i, i + 1, 1)).is_ok());
    EXPECT_GT(segment_files(dir.path()).size(), 3u);
    ASSERT_TRUE(storage->append(entries(6, 7, 2)).is_ok());
    PersistentState live = *storage->load();
    EXPECT_EQ(live.entries.size(), 7u);
  }
  PersistentState state = reopen(dir.path(), small);
  std::vector<Entry> expected = entries(1, 5, 1);
  for (const Entry& e : entries(6, 7, 2)) expected.push_back(e);
  EXPECT_EQ(state.entries, expected);
}

TEST(FileStorageTest, RejectsAppendsThatLeaveAGap) {
  testing::TempDir dir;
  auto storage = open_ok(dir.path());
  ASSERT_TRUE(storage->append(entries(1, 3, 1)).is_ok());
  Status gap = storage->append(entries(5, 5, 1));
  EXPECT_EQ(gap.code(), ErrorCode::kInvalidRequest);
  ASSERT_TRUE(storage->save_snapshot(Snapshot{3, 1, {}}).is_ok());
  EXPECT_EQ(storage->append(entries(3, 3, 1)).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(storage->append(entries(4, 4, 1)).is_ok());
}

TEST(FileStorageTest, SnapshotDeletesCoveredSegmentsOrTheWholeDisagreeingLog) {
  testing::TempDir dir;
  FileStorageOptions small{.segment_bytes = 100};
  auto storage = open_ok(dir.path(), small);
  for (uint64_t i = 1; i <= 12; ++i) ASSERT_TRUE(storage->append(entries(i, i, 1)).is_ok());
  size_t before = segment_files(dir.path()).size();
  ASSERT_TRUE(storage->save_snapshot(Snapshot{8, 1, {1}}).is_ok());
  EXPECT_LT(segment_files(dir.path()).size(), before);
  EXPECT_EQ(reopen(dir.path(), small).entries, entries(9, 12, 1));

  // A leader's snapshot whose entry 10 has another term: the log goes.
  ASSERT_TRUE(storage->save_snapshot(Snapshot{10, 4, {2}}).is_ok());
  EXPECT_TRUE(segment_files(dir.path()).empty());
  ASSERT_TRUE(storage->append(entries(11, 11, 4)).is_ok());
  PersistentState state = reopen(dir.path(), small);
  EXPECT_EQ(state.snapshot->index, 10u);
  EXPECT_EQ(state.entries, entries(11, 11, 4));
}

TEST(FileStorageTest, RecoveryFinishesASnapshotSaveInterruptedBeforeTheLogWasCut) {
  testing::TempDir source;
  testing::TempDir crashed;
  {
    auto storage = open_ok(source.path());
    ASSERT_TRUE(storage->append(entries(1, 5, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(Snapshot{3, 2, {7}}).is_ok());  // disagrees with entry 3
  }
  {
    auto storage = open_ok(crashed.path());
    ASSERT_TRUE(storage->append(entries(1, 5, 1)).is_ok());
  }
  // The crash: the snapshot file is in place, the old log still beside it.
  std::filesystem::copy_file(source.file("snapshot"), crashed.file("snapshot"));
  PersistentState state = reopen(crashed.path());
  EXPECT_EQ(state.snapshot->index, 3u);
  EXPECT_TRUE(state.entries.empty());
  EXPECT_TRUE(segment_files(crashed.path()).empty());
}

TEST(FileStorageTest, CutsATornTailBackToTheLastWholeEntry) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->append(entries(1, 4, 1)).is_ok());
  }
  std::string segment = segment_files(dir.path()).back();
  uint64_t whole = std::filesystem::file_size(segment);

  // Half a frame: a crash in the middle of the write.
  std::string frame(8 + 17 + 10, 'x');
  uint32_t length = 27;
  std::memcpy(frame.data(), &length, 4);
  append_raw(segment, frame.substr(0, 20));
  auto storage = open_ok(dir.path());
  EXPECT_EQ(storage->truncated_bytes(), 20u);
  EXPECT_EQ(std::filesystem::file_size(segment), whole);
  EXPECT_EQ(storage->load()->entries, entries(1, 4, 1));
  // And the log continues from there.
  ASSERT_TRUE(storage->append(entries(5, 5, 1)).is_ok());
  EXPECT_EQ(reopen(dir.path()).entries, entries(1, 5, 1));
}

TEST(FileStorageTest, CutsAZeroFilledOrUnchecksummedLastFrame) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->append(entries(1, 3, 1)).is_ok());
  }
  std::string segment = segment_files(dir.path()).back();
  uint64_t whole = std::filesystem::file_size(segment);
  // The file grew but its blocks never reached the disk.
  append_raw(segment, std::string(4096, '\0'));
  EXPECT_EQ(reopen(dir.path()).entries.size(), 3u);
  EXPECT_EQ(std::filesystem::file_size(segment), whole);

  // A whole last frame whose payload is garbage: the unacknowledged append.
  std::string frame(8 + 27, 'g');
  uint32_t length = 27;
  std::memcpy(frame.data(), &length, 4);
  append_raw(segment, frame);
  EXPECT_EQ(reopen(dir.path()).entries.size(), 3u);
  EXPECT_EQ(std::filesystem::file_size(segment), whole);
}

TEST(FileStorageTest, ReportsCorruptionBeforeTheTailWithFileAndOffset) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->append(entries(1, 4, 1)).is_ok());
  }
  std::string segment = segment_files(dir.path()).back();
  // Flip a data byte of the second entry (frames are 8 + 17 + 10 = 35 bytes).
  {
    Result<File> file = File::open(segment, false);
    ASSERT_TRUE(file.is_ok());
    uint8_t byte = 0xFF;
    ASSERT_TRUE(file->write_at(35 + 30, {&byte, 1}).is_ok());
  }
  Result<std::unique_ptr<FileStorage>> opened = FileStorage::open(dir.path());
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(opened.status().message().find(segment), std::string::npos)
      << opened.status().message();
  EXPECT_NE(opened.status().message().find("offset 35: checksum mismatch"), std::string::npos)
      << opened.status().message();
}

TEST(FileStorageTest, KeepsTheSnapshotsVoterSetAndReadsVersionOneSnapshots) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->append(entries(1, 3, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(Snapshot{2, 1, Bytes(20, 7), Bytes{9, 8, 7}}).is_ok());
  }
  PersistentState state = reopen(dir.path());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_EQ(state.snapshot->membership, (Bytes{9, 8, 7}));
  EXPECT_EQ(state.snapshot->data, Bytes(20, 7));

  // A version 1 file (written by an earlier release): no voter set.
  std::string v1(40 + 5, '\0');
  auto* p = reinterpret_cast<uint8_t*>(v1.data());
  std::memcpy(p, "MQRAFTSS", 8);
  coding::put_fixed<uint32_t>(p + 8, 1);
  coding::put_fixed<uint64_t>(p + 16, 2);
  coding::put_fixed<uint64_t>(p + 24, 1);
  coding::put_fixed<uint64_t>(p + 32, 5);
  std::memset(p + 40, 4, 5);
  coding::put_fixed<uint32_t>(p + 12, crc32c::value(p + 16, v1.size() - 16));
  ASSERT_TRUE(write_file_atomically(dir.file("snapshot"), v1).is_ok());
  state = reopen(dir.path());
  ASSERT_TRUE(state.snapshot.has_value());
  EXPECT_TRUE(state.snapshot->membership.empty());
  EXPECT_EQ(state.snapshot->data, Bytes(5, 4));

  // A voter set that claims more bytes than the file has.
  coding::put_fixed<uint32_t>(p + 8, 2);
  coding::put_fixed<uint32_t>(p + 40, 1000);
  ASSERT_TRUE(write_file_atomically(dir.file("snapshot"), v1).is_ok());
  Result<std::unique_ptr<FileStorage>> opened = FileStorage::open(dir.path());
  ASSERT_FALSE(opened.is_ok());
  EXPECT_NE(opened.status().message().find("runs past the end"), std::string::npos);
}

TEST(FileStorageTest, ReportsACorruptSnapshotOrHardStateFile) {
  testing::TempDir dir;
  {
    auto storage = open_ok(dir.path());
    ASSERT_TRUE(storage->append(entries(1, 2, 1)).is_ok());
    ASSERT_TRUE(storage->save_snapshot(Snapshot{2, 1, Bytes(64, 5)}).is_ok());
    ASSERT_TRUE(storage->save_hard_state(HardState{1, 1, 2}).is_ok());
  }
  {
    Result<File> file = File::open(dir.file("snapshot"), false);
    uint8_t byte = 0;
    ASSERT_TRUE(file->write_at(50, {&byte, 1}).is_ok());
  }
  Result<std::unique_ptr<FileStorage>> opened = FileStorage::open(dir.path());
  ASSERT_FALSE(opened.is_ok());
  EXPECT_NE(opened.status().message().find(dir.file("snapshot")), std::string::npos);
  EXPECT_NE(opened.status().message().find("checksum mismatch"), std::string::npos);

  ASSERT_TRUE(write_file_atomically(dir.file("hard-state"), "raft-hard-state 1\nterm 1\n").is_ok());
  opened = FileStorage::open(dir.path());
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(opened.status().message().find(dir.file("hard-state")), std::string::npos);
}

// Runs a single-voter node on `storage` until it leads and has committed
// three proposals, handling every Ready; returns the node's commit index.
uint64_t lead_and_commit_three(const RaftConfig& config, FileStorage& storage) {
  RaftNode node = *RaftNode::create(config, *storage.load());
  while (node.role() != Role::kLeader) node.tick();
  for (uint8_t v = 1; v <= 3; ++v) EXPECT_TRUE(node.propose({v}).is_ok());
  while (node.has_ready()) {
    Ready ready = node.ready();
    EXPECT_TRUE(persist_ready(storage, ready).is_ok());
    node.advance(ready);
  }
  return node.commit_index();
}

TEST(FileStorageTest, ANodeRestartsFromWhatItPersisted) {
  testing::TempDir dir;
  RaftConfig config;
  config.id = 1;
  config.voters = {1};
  FileStorageOptions every_commit{.commit_write_interval = 1};
  {
    auto storage = open_ok(dir.path(), every_commit);
    EXPECT_EQ(lead_and_commit_three(config, *storage), 4u);  // no-op + 3
  }
  auto storage = open_ok(dir.path(), every_commit);
  Result<RaftNode> restarted = RaftNode::create(config, *storage->load());
  ASSERT_TRUE(restarted.is_ok());
  EXPECT_EQ(restarted->term(), 1u);
  EXPECT_EQ(restarted->vote(), 1);
  EXPECT_EQ(restarted->commit_index(), 4u);
  EXPECT_EQ(restarted->log().last_index(), 4u);
  Ready ready = restarted->ready();
  ASSERT_EQ(ready.committed_entries.size(), 4u);  // re-applied: the state machine is rebuilt
  EXPECT_EQ(ready.committed_entries[3].data, Bytes{3});
}

TEST(FileStorageTest, WritesACommitOnlyChangeOnceItHasMovedFarEnough) {
  testing::TempDir dir;
  FileStorageOptions options{.commit_write_interval = 10};
  auto storage = open_ok(dir.path(), options);
  ASSERT_TRUE(storage->save_hard_state(HardState{2, 1, 0}).is_ok());
  ASSERT_TRUE(storage->save_hard_state(HardState{2, 1, 9}).is_ok());
  EXPECT_EQ(reopen(dir.path(), options).hard_state, (HardState{2, 1, 0}));
  ASSERT_TRUE(storage->save_hard_state(HardState{2, 1, 10}).is_ok());
  EXPECT_EQ(reopen(dir.path(), options).hard_state, (HardState{2, 1, 10}));
  // A new term or vote is always written at once.
  ASSERT_TRUE(storage->save_hard_state(HardState{3, -1, 11}).is_ok());
  EXPECT_EQ(reopen(dir.path(), options).hard_state, (HardState{3, -1, 11}));

  // A node restarted with a stale commit index re-learns it: here by leading again.
  testing::TempDir node_dir;
  RaftConfig config;
  config.id = 1;
  config.voters = {1};
  {
    auto node_storage = open_ok(node_dir.path());
    EXPECT_EQ(lead_and_commit_three(config, *node_storage), 4u);
  }
  auto node_storage = open_ok(node_dir.path());
  EXPECT_EQ(node_storage->load()->hard_state.commit, 0u);
  EXPECT_EQ(lead_and_commit_three(config, *node_storage), 8u);  // term 2's no-op + 3 more
}

}  // namespace
}  // namespace mq::raft
