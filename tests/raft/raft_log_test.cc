// The in-memory Raft log: terms, merging a leader's entries, compaction and
// the persistence watermark.
#include "raft/raft_log.h"

#include <gtest/gtest.h>

namespace mq::raft {
namespace {

Entry entry(uint64_t index, uint64_t term, uint8_t value = 0) {
  return Entry{index, term, EntryType::kCommand, {value}};
}

RaftLog log_with_terms(std::vector<uint64_t> terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) entries.push_back(entry(i + 1, terms[i]));
  return RaftLog(0, 0, entries);
}

TEST(RaftLogTest, KnowsTermsFromTheSnapshotToTheEnd) {
  RaftLog log(5, 2, {entry(6, 2), entry(7, 3)});
  EXPECT_EQ(log.first_index(), 6u);
  EXPECT_EQ(log.last_index(), 7u);
  EXPECT_EQ(log.last_term(), 3u);
  EXPECT_EQ(log.term_at(5), 2u);
  EXPECT_EQ(log.term_at(7), 3u);
  EXPECT_FALSE(log.term_at(4).has_value());
  EXPECT_FALSE(log.term_at(8).has_value());
  EXPECT_TRUE(log.matches(6, 2));
  EXPECT_FALSE(log.matches(6, 3));
  EXPECT_EQ(log.persisted_index(), 7u);
}

TEST(RaftLogTest, MergeSkipsPresentEntriesAndTruncatesFromTheFirstConflict) {
  RaftLog log = log_with_terms({1, 1, 2, 2});
  // A delayed, shorter copy of what is already there changes nothing.
  EXPECT_EQ(log.merge({entry(2, 1), entry(3, 2)}), 0u);
  EXPECT_EQ(log.last_index(), 4u);
  // A new leader's entries replace the conflicting suffix.
  EXPECT_EQ(log.merge({entry(3, 2), entry(4, 3), entry(5, 3)}), 4u);
  EXPECT_EQ(log.last_index(), 5u);
  EXPECT_EQ(log.term_at(4), 3u);
  EXPECT_EQ(log.persisted_index(), 3u);
  std::vector<Entry> unpersisted = log.unpersisted();
  ASSERT_EQ(unpersisted.size(), 2u);
  EXPECT_EQ(unpersisted.front().index, 4u);
  log.mark_persisted(5);
  EXPECT_TRUE(log.unpersisted().empty());
}

TEST(RaftLogTest, SliceHonoursEntryAndByteLimitsButReturnsAtLeastOne) {
  RaftLog log;
  for (uint64_t i = 1; i <= 10; ++i) log.append(Entry{i, 1, EntryType::kCommand, Bytes(100, 1)});
  EXPECT_EQ(log.slice(1, 4, 1 << 20).size(), 4u);
  EXPECT_EQ(log.slice(1, 100, 250).size(), 2u);
  EXPECT_EQ(log.slice(1, 100, 10).size(), 1u);
  EXPECT_EQ(log.slice(9, 100, 1 << 20).size(), 2u);
  EXPECT_TRUE(log.slice(11, 100, 1 << 20).empty());
}

TEST(RaftLogTest, CompactionKeepsTheSuffixOnlyWhenTheSnapshotEntryMatches) {
  RaftLog kept = log_with_terms({1, 1, 2, 2});
  kept.compact_to(2, 1);
  EXPECT_EQ(kept.first_index(), 3u);
  EXPECT_EQ(kept.last_index(), 4u);
  EXPECT_EQ(kept.term_at(2), 1u);

  RaftLog replaced = log_with_terms({1, 1, 2, 2});
  replaced.compact_to(3, 5);  // a leader's snapshot that disagrees with entry 3
  EXPECT_EQ(replaced.last_index(), 3u);
  EXPECT_EQ(replaced.last_term(), 5u);
  EXPECT_EQ(replaced.persisted_index(), 3u);

  RaftLog beyond = log_with_terms({1});
  beyond.compact_to(9, 4);
  EXPECT_EQ(beyond.last_index(), 9u);
  EXPECT_FALSE(beyond.term_at(1).has_value());
}

}  // namespace
}  // namespace mq::raft
