// The checker finds each anomaly it names in a history made by hand, and
// nothing in a clean one; histories survive their JSON form.
#include "tests/faults/checker.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace mq::faults {
namespace {

class HistoryBuilder {
 public:
  HistoryBuilder& sent(const std::string& process, const std::string& value, int32_t partition,
                       int64_t offset) {
    add({.process = process, .type = OpType::kInvoke, .fn = OpFn::kSend, .value = value});
    add({.process = process,
         .type = OpType::kOk,
         .fn = OpFn::kSend,
         .value = value,
         .partition = partition,
         .offset = offset});
    return *this;
  }
  HistoryBuilder& send_failed(const std::string& value, OpType outcome) {
    add({.process = "producer-9", .type = OpType::kInvoke, .fn = OpFn::kSend, .value = value});
    add({.process = "producer-9",
         .type = outcome,
         .fn = OpFn::kSend,
         .value = value,
         .error = "timed out"});
    return *this;
  }
  HistoryBuilder& assigned(const std::string& process, std::vector<int32_t> partitions) {
    add({.process = process, .type = OpType::kOk, .fn = OpFn::kAssign, .partitions = partitions});
    return *this;
  }
  HistoryBuilder& polled(const std::string& process, std::vector<Read> reads) {
    add({.process = process, .type = OpType::kInvoke, .fn = OpFn::kPoll});
    add({.process = process, .type = OpType::kOk, .fn = OpFn::kPoll, .reads = std::move(reads)});
    return *this;
  }
  HistoryBuilder& committed(const std::string& process, std::map<int32_t, int64_t> offsets) {
    add({.process = process, .type = OpType::kInvoke, .fn = OpFn::kCommit, .offsets = offsets});
    add({.process = process, .type = OpType::kOk, .fn = OpFn::kCommit, .offsets = offsets});
    return *this;
  }
  HistoryBuilder& final_read(std::vector<Read> reads) {
    add({.process = "final",
         .type = OpType::kOk,
         .fn = OpFn::kFinalRead,
         .reads = std::move(reads)});
    return *this;
  }
  const std::vector<Op>& ops() const { return ops_; }
  void add(Op op) {
    op.time_us = static_cast<int64_t>(ops_.size()) * 1000;
    ops_.push_back(std::move(op));
  }

 private:
  std::vector<Op> ops_;
};

// Two producers, one consumer that reads everything and commits: no anomaly.
HistoryBuilder clean() {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .sent("producer-2", "b", 1, 0)
      .sent("producer-1", "c", 0, 1)
      .send_failed("d", OpType::kInfo)  // timed out, yet stored: fine
      .send_failed("e", OpType::kFail)  // never stored: fine
      .assigned("consumer-1", {0, 1})
      .polled("consumer-1", {{0, 0, "a"}, {1, 0, "b"}})
      .committed("consumer-1", {{0, 1}, {1, 1}})
      .polled("consumer-1", {{0, 1, "c"}, {0, 2, "d"}})
      .committed("consumer-1", {{0, 3}})
      .final_read({{0, 0, "a"}, {0, 1, "c"}, {0, 2, "d"}, {1, 0, "b"}});
  return h;
}

Verdict must_check(const std::vector<Op>& ops) {
  Result<Verdict> verdict = check(ops);
  EXPECT_TRUE(verdict.is_ok()) << verdict.status().to_string();
  return verdict.is_ok() ? *verdict : Verdict{};
}

TEST(CheckerTest, ACleanHistoryHasNoAnomaly) {
  HistoryBuilder h = clean();
  Verdict verdict = must_check(h.ops());
  EXPECT_TRUE(verdict.valid()) << verdict.report(h.ops());
  EXPECT_EQ(verdict.sends_ok, 3u);
  EXPECT_EQ(verdict.sends_unknown, 1u);
  EXPECT_EQ(verdict.sends_failed, 1u);
  EXPECT_EQ(verdict.records_polled, 4u);
  EXPECT_EQ(verdict.commits_ok, 2u);
  EXPECT_EQ(verdict.final_records, 4u);
}

TEST(CheckerTest, FindsALostWrite) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0).sent("producer-1", "b", 0, 1).final_read({{0, 0, "a"}});
  Verdict verdict = must_check(h.ops());
  ASSERT_EQ(verdict.anomalies.size(), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies[0].kind, AnomalyKind::kLostWrite);
  EXPECT_NE(verdict.anomalies[0].what.find("'b' was acknowledged at p0@1"), std::string::npos);
  // Overwritten by another value (a truncated leader's offset reused).
  HistoryBuilder over;
  over.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "x", 0, 1)
      .send_failed("y", OpType::kInfo)
      .final_read({{0, 0, "a"}, {0, 1, "y"}});
  Verdict overwritten = must_check(over.ops());
  ASSERT_EQ(overwritten.count(AnomalyKind::kLostWrite), 1u) << overwritten.report(over.ops());
  EXPECT_NE(overwritten.report(over.ops()).find("the log holds 'y' there"), std::string::npos);
}

TEST(CheckerTest, AnAckWithoutAnOffsetNeedsTheValueSomewhere) {
  // DUPLICATE_SEQUENCE: the producer reports success with offset -1.
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, -1).sent("producer-1", "b", 1, -1).final_read({{0, 0, "a"}});
  Verdict verdict = must_check(h.ops());
  EXPECT_EQ(verdict.sends_ok_offset_unknown, 2u);
  ASSERT_EQ(verdict.anomalies.size(), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies[0].kind, AnomalyKind::kLostWrite);
  EXPECT_NE(verdict.anomalies[0].what.find("'b' was acknowledged (offset unknown)"),
            std::string::npos);
}

// One in-sync replica of partition 0 read from disk after the run; with an
// error, a replica that could not be read.
Op replica_read(const std::string& node, std::vector<Read> reads, const std::string& error = "") {
  return {.time_us = 99'000,
          .process = node,
          .type = error.empty() ? OpType::kOk : OpType::kFail,
          .fn = OpFn::kReplicaRead,
          .partition = 0,
          .reads = std::move(reads),
          .error = error};
}

// 'a' and 'b' acknowledged at p0@0 and p0@1, and read there at the end.
std::vector<Op> a_and_b_stored() {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 1)
      .final_read({{0, 0, "a"}, {0, 1, "b"}});
  return h.ops();
}

TEST(CheckerTest, FindsAReplicaThatDiffersFromTheLogClientsRead) {
  std::vector<Op> ops = a_and_b_stored();
  auto replica = [&](const std::string& node, std::vector<Read> reads) {
    ops.push_back(replica_read(node, std::move(reads)));
  };
  replica("node-1", {{0, 0, "a"}, {0, 1, "b"}});               // the same
  replica("node-3", {{0, 0, "a"}, {0, 1, "x"}, {0, 2, "y"}});  // kept a divergent tail
  replica("node-4", {{0, 0, "a"}, {0, 1, "b"}, {0, 2, "z"}});  // past the end: not compared
  Verdict verdict = must_check(ops);
  EXPECT_EQ(verdict.replicas_read, 3u);
  ASSERT_EQ(verdict.anomalies.size(), 1u) << verdict.report(ops);
  EXPECT_EQ(verdict.anomalies[0].kind, AnomalyKind::kInconsistentOffset);
  EXPECT_NE(verdict.anomalies[0].what.find("node-3's replica holds 'x' at p0@1 where the log"),
            std::string::npos)
      << verdict.anomalies[0].what;
}

TEST(CheckerTest, FindsAnInSyncReplicaThatEndsShortOrCannotBeRead) {
  // In the ISR, a replica holds at least the high watermark the final read
  // reached: one that lost records (a damaged file cut them and it was not
  // noticed), or whose records fail their CRC, is damaged.
  std::vector<Op> ops = a_and_b_stored();
  ops.push_back(replica_read("node-2", {{0, 0, "a"}}));
  ops.push_back(
      replica_read("node-3", {}, "CORRUPT_MESSAGE: batch at position 61: checksum mismatch"));
  Verdict verdict = must_check(ops);
  EXPECT_EQ(verdict.count(AnomalyKind::kDamagedReplica), 2u) << verdict.report(ops);
  EXPECT_EQ(verdict.anomalies.size(), 2u) << verdict.report(ops);
  EXPECT_NE(verdict.report(ops).find("node-2's in-sync replica of p0 ends at offset 0, the log "
                                     "the clients read at 1"),
            std::string::npos)
      << verdict.report(ops);
  EXPECT_NE(verdict.report(ops).find("node-3's in-sync replica of p0 cannot be read: "
                                     "CORRUPT_MESSAGE"),
            std::string::npos)
      << verdict.report(ops);
}

TEST(CheckerTest, FindsADuplicate) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0).final_read({{0, 0, "a"}, {0, 1, "a"}});
  Verdict verdict = must_check(h.ops());
  EXPECT_EQ(verdict.count(AnomalyKind::kDuplicate), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies.size(), 1u) << verdict.report(h.ops());
}

TEST(CheckerTest, FindsANonMonotonicPollAndASkip) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 1)
      .sent("producer-1", "c", 0, 2)
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 0, "a"}, {0, 1, "b"}})
      .polled("consumer-1", {{0, 0, "a"}})  // back in the same assignment
      .polled("consumer-1", {{0, 2, "c"}})  // skips b after a
      .final_read({{0, 0, "a"}, {0, 1, "b"}, {0, 2, "c"}});
  Verdict verdict = must_check(h.ops());
  EXPECT_EQ(verdict.count(AnomalyKind::kNonMonotonicPoll), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.count(AnomalyKind::kSkippedPoll), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies.size(), 2u) << verdict.report(h.ops());
  // A new assignment starts over (a rebalance hands back the committed offset).
  HistoryBuilder again;
  again.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 1)
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 0, "a"}, {0, 1, "b"}})
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 1, "b"}})
      .final_read({{0, 0, "a"}, {0, 1, "b"}});
  Verdict fine = must_check(again.ops());
  EXPECT_TRUE(fine.valid()) << fine.report(again.ops());
}

TEST(CheckerTest, FindsASkipAcrossARebalance) {
  // consumer-2 takes p0 over from consumer-1, which committed 1 ('b' next),
  // and begins at 'c': 'b' is never delivered to the group.
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 1)
      .sent("producer-1", "c", 0, 2)
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 0, "a"}})
      .committed("consumer-1", {{0, 1}})
      .assigned("consumer-1", {})
      .assigned("consumer-2", {0})
      .polled("consumer-2", {{0, 2, "c"}})
      .final_read({{0, 0, "a"}, {0, 1, "b"}, {0, 2, "c"}});
  Verdict verdict = must_check(h.ops());
  ASSERT_EQ(verdict.anomalies.size(), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies[0].kind, AnomalyKind::kSkippedPoll);
  EXPECT_NE(verdict.anomalies[0].what.find("consumer-2 began its assignment of p0 at p0@2, "
                                           "skipping 1 record(s) the log holds after the "
                                           "committed offset 1"),
            std::string::npos)
      << verdict.anomalies[0].what;
  // Not a skip: resuming from a commit whose answer was lost (it may have
  // been stored), or where the consumer itself had read up to, or reading
  // the log from its start when nothing was committed.
  HistoryBuilder fine;
  fine.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 1)
      .sent("producer-1", "c", 0, 2)
      .assigned("consumer-2", {0})
      .polled("consumer-2", {{0, 0, "a"}})
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 0, "a"}, {0, 1, "b"}})
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 2, "c"}});
  fine.add(
      {.process = "consumer-1", .type = OpType::kInvoke, .fn = OpFn::kCommit, .offsets = {{0, 3}}});
  fine.add({.process = "consumer-1",
            .type = OpType::kInfo,
            .fn = OpFn::kCommit,
            .offsets = {{0, 3}},
            .error = "timed out"});
  fine.sent("producer-1", "d", 0, 3)
      .assigned("consumer-2", {0})
      .polled("consumer-2", {{0, 3, "d"}})
      .final_read({{0, 0, "a"}, {0, 1, "b"}, {0, 2, "c"}, {0, 3, "d"}});
  Verdict clean_verdict = must_check(fine.ops());
  EXPECT_TRUE(clean_verdict.valid()) << clean_verdict.report(fine.ops());
}

TEST(CheckerTest, FindsAReadOfDataTheLogDoesNotHold) {
  // Read from a leader that later lost it (an aborted read in Jepsen's terms).
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .send_failed("b", OpType::kInfo)
      .assigned("consumer-1", {0})
      .polled("consumer-1", {{0, 0, "a"}, {0, 1, "b"}})
      .final_read({{0, 0, "a"}});
  Verdict verdict = must_check(h.ops());
  ASSERT_EQ(verdict.anomalies.size(), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies[0].kind, AnomalyKind::kNeverCommittedRead);
}

TEST(CheckerTest, FindsReadersThatDisagreeAndAcksAtTheWrongOffset) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .sent("producer-1", "b", 0, 5)  // acknowledged at 5, stored at 1
      .polled("consumer-1", {{0, 0, "a"}})
      .polled("consumer-2", {{0, 0, "b"}})
      .final_read({{0, 0, "a"}, {0, 1, "b"}});
  Verdict verdict = must_check(h.ops());
  // The ack at 5, consumer-2 against consumer-1, consumer-2 against the log.
  EXPECT_EQ(verdict.count(AnomalyKind::kInconsistentOffset), 2u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.anomalies.size(), 2u) << verdict.report(h.ops());
}

TEST(CheckerTest, FindsACommitThatWentBackAndAValueNobodySent) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0)
      .committed("consumer-1", {{0, 5}})
      .committed("consumer-2", {{0, 3}})
      .final_read({{0, 0, "a"}, {0, 1, "garbage"}});
  Verdict verdict = must_check(h.ops());
  EXPECT_EQ(verdict.count(AnomalyKind::kCommitBackwards), 1u) << verdict.report(h.ops());
  EXPECT_EQ(verdict.count(AnomalyKind::kUnknownValue), 1u) << verdict.report(h.ops());
  std::string report = verdict.report(h.ops());
  EXPECT_NE(report.find("p0 committed at 5, then at 3"), std::string::npos) << report;
  EXPECT_NE(report.find("consumer-2 ok commit p0->3"), std::string::npos) << report;
}

TEST(CheckerTest, OverlappingCommitsAreNotOrdered) {
  std::vector<Op> ops = {
      {.time_us = 0,
       .process = "c1",
       .type = OpType::kInvoke,
       .fn = OpFn::kCommit,
       .offsets = {{0, 5}}},
      {.time_us = 1,
       .process = "c2",
       .type = OpType::kInvoke,
       .fn = OpFn::kCommit,
       .offsets = {{0, 3}}},
      {.time_us = 2, .process = "c1", .type = OpType::kOk, .fn = OpFn::kCommit},
      {.time_us = 3, .process = "c2", .type = OpType::kOk, .fn = OpFn::kCommit},
      {.time_us = 4, .process = "final", .type = OpType::kOk, .fn = OpFn::kFinalRead},
  };
  Verdict verdict = must_check(ops);
  EXPECT_TRUE(verdict.valid()) << verdict.report(ops);
}

TEST(CheckerTest, AHistoryWithoutAWholeFinalReadCannotBeJudged) {
  HistoryBuilder h;
  h.sent("producer-1", "a", 0, 0);
  EXPECT_FALSE(check(h.ops()).is_ok());
  h.final_read({{0, 1, "a"}, {0, 0, "b"}});
  Result<Verdict> verdict = check(h.ops());
  ASSERT_FALSE(verdict.is_ok());
  EXPECT_NE(verdict.status().message().find("not one pass"), std::string::npos);
}

TEST(CheckerTest, HistoriesRoundTripThroughTheirFile) {
  HistoryBuilder h = clean();
  History history;
  for (const Op& op : h.ops()) history.add(op);
  testing::TempDir dir;
  ASSERT_TRUE(history.write(dir.file("history.jsonl")).is_ok());
  Result<std::vector<Op>> read = History::read(dir.file("history.jsonl"));
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_EQ(*read, history.ops());
  EXPECT_TRUE(must_check(*read).valid());
  // A damaged line is named, not skipped.
  for (std::string bad : {"{", "[1]", R"({"t":1,"process":"p","type":"done","f":"send"})",
                          R"({"t":1,"process":"p","type":"ok","f":"poll","reads":[[0,1]]})"}) {
    EXPECT_FALSE(decode_op(bad).is_ok()) << bad;
  }
  std::ofstream(dir.file("bad.jsonl")) << encode_op(h.ops()[0]) << "\nnot json\n";
  Result<std::vector<Op>> bad = History::read(dir.file("bad.jsonl"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("bad.jsonl:2"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace mq::faults
