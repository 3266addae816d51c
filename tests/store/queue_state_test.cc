// Queue state in the log (store/queue_state.h, Log::append): the encoding of
// queue-state records and its bad cases, what each op does to a group, the
// snapshot, and the state every replica rebuilds from its log: after a
// restart (snapshot, or the log alone), after a truncation that cuts ops,
// and with the leader's version check.
#include "store/queue_state.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "store/log.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using testing::TempDir;
using Kind = QueueOp::Kind;
using Item = QueueOp::Item;

QueueOp deliver(const std::string& group, int64_t next, std::vector<Item> items,
                int64_t time = 1000) {
  return {.kind = Kind::kDeliver, .group = group, .time_ms = time, .next = next, .items = items};
}
QueueOp simple(Kind kind, const std::string& group, std::vector<int64_t> offsets,
               int64_t available_at = 0) {
  QueueOp op{.kind = kind, .group = group, .time_ms = 1000};
  for (int64_t o : offsets) op.items.push_back({.offset = o, .available_at = available_at});
  return op;
}
Item handed(int64_t offset, int32_t deliveries = 1, uint32_t key = 0) {
  return {.offset = offset,
          .deliveries = deliveries,
          .invisible_until = 31000,
          .available_at = 41000,
          .key_hash = key};
}

TEST(QueueOpTest, EveryKindRoundTrips) {
  std::vector<QueueOp> ops = {
      deliver("g", 10, {handed(3, 2, 77), handed(7), {.offset = 8}}),
      deliver("orders", 5, {}),
      simple(Kind::kAck, "g", {3, 7}),
      simple(Kind::kRelease, "g", {8}, 99000),
      {.kind = Kind::kExtend,
       .group = "g",
       .time_ms = 5000,
       .items = {{.offset = 1, .invisible_until = 65000, .available_at = 75000}}},
      simple(Kind::kDead, "g", {1}),
      simple(Kind::kExpire, "g", {0, 1, 2}),
  };
  for (const QueueOp& op : ops) {
    std::string bytes = encode_queue_op(op);
    Result<QueueOp> back = decode_queue_op(as_bytes(bytes));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, op) << queue_op_kind_name(op.kind);
  }
}

TEST(QueueOpTest, MalformedValuesAreRefusedSayingWhy) {
  std::string good = encode_queue_op(deliver("g", 10, {handed(3), handed(7)}));
  auto error = [](std::string bytes) {
    Result<QueueOp> r = decode_queue_op(as_bytes(bytes));
    EXPECT_FALSE(r.is_ok());
    EXPECT_EQ(r.code(), ErrorCode::kCorruptMessage);
    return r.status().message();
  };
  EXPECT_NE(error("").find("shorter"), std::string::npos);
  std::string version = good;
  version[0] = 1;
  EXPECT_NE(error(version).find("unknown version"), std::string::npos);
  std::string kind = good;
  kind[1] = 9;
  EXPECT_NE(error(kind).find("unknown kind 9"), std::string::npos);
  EXPECT_NE(error(good.substr(0, good.size() - 1)).find("truncated"), std::string::npos);
  EXPECT_NE(error(good + "x").find("after the last item"), std::string::npos);
  EXPECT_NE(error(encode_queue_op(deliver("", 10, {}))).find("group length"), std::string::npos);
  // Offsets must rise; a deliver op's items lie below its new next offset.
  EXPECT_NE(error(encode_queue_op(deliver("g", 10, {handed(7), handed(3)}))).find("increasing"),
            std::string::npos);
  EXPECT_NE(error(encode_queue_op(deliver("g", 5, {handed(7)}))).find("next offset"),
            std::string::npos);
}

TEST(QueueStateTest, OpsMoveEntriesThroughTheirLives) {
  QueueState state;
  const uint64_t v0 = state.version();
  state.apply(deliver("g", 4, {handed(0), handed(1), handed(2, 1, 9), handed(3, 1, 9)}));
  EXPECT_GT(state.version(), v0);
  const QueueState::Group* g = state.group("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->next, 4);
  EXPECT_EQ(g->entries().size(), 4u);
  EXPECT_EQ(g->counts(30000).in_flight, 4u);
  EXPECT_EQ(g->entry(0)->delivered_at, 1000);
  EXPECT_TRUE(g->available(40999, 10).empty());
  EXPECT_EQ(g->available(41000, 10).size(), 4u);
  EXPECT_EQ(g->first_with_key(9), 2);
  EXPECT_EQ(g->first_with_key(5), std::nullopt);

  state.apply(simple(Kind::kAck, "g", {0, 2}));
  EXPECT_EQ(g->entry(0), nullptr);
  EXPECT_EQ(g->first_with_key(9), 3);
  // A release makes it visible at once and available at its time.
  state.apply(simple(Kind::kRelease, "g", {1}, 2000));
  EXPECT_EQ(g->entry(1)->invisible_until, 1000);
  ASSERT_EQ(g->available(2000, 10).size(), 1u);
  EXPECT_EQ(g->available(2000, 10)[0].first, 1);
  EXPECT_EQ(g->counts(1500).in_flight, 1u);  // offset 3 only
  EXPECT_EQ(g->counts(1500).waiting, 1u);    // offset 1
  state.apply({.kind = Kind::kExtend,
               .group = "g",
               .time_ms = 1000,
               .items = {{.offset = 3, .invisible_until = 90000, .available_at = 95000}}});
  EXPECT_EQ(g->entry(3)->invisible_until, 90000);
  EXPECT_EQ(g->available(50000, 10).size(), 1u);  // offset 1 only
  state.apply(simple(Kind::kDead, "g", {1}));
  state.apply(simple(Kind::kAck, "g", {42}));  // not there: nothing happens
  EXPECT_EQ(g->entries().size(), 1u);
  // Groups are separate; retention drops what it deleted and moves next up.
  state.apply(deliver("h", 2, {handed(1)}));
  EXPECT_EQ(state.entry_count(), 2u);
  EXPECT_EQ(state.drop_below(5), 2u);
  EXPECT_EQ(state.group("h")->next, 5);
  EXPECT_EQ(state.group("g")->next, 5);
}

TEST(QueueStateTest, AHeldMessageHoldsBackNoLaterMessageOfItsKey) {
  QueueState state;
  state.apply(deliver("g", 3, {handed(0, 1, 5), {.offset = 1, .key_hash = 5}}));
  EXPECT_EQ(state.group("g")->first_with_key(5), 0);
  state.apply(
      {.kind = Kind::kExtend,
       .group = "g",
       .time_ms = 1000,
       .items = {{.offset = 0, .invisible_until = 1000, .available_at = QueueState::kHeldAt}}});
  EXPECT_EQ(state.group("g")->first_with_key(5), 1);
  EXPECT_EQ(state.group("g")->available(INT64_MAX / 4, 10).size(), 1u);  // offset 1 only
  state.apply(simple(Kind::kAck, "g", {1}));
  EXPECT_EQ(state.group("g")->first_with_key(5), std::nullopt);
  // Held entries are listed for the dead-letter mover, lowest offset first.
  std::vector<int64_t> held;
  state.group("g")->for_each_held([&](int64_t offset, const QueueState::Entry& e) {
    EXPECT_EQ(e.available_at, QueueState::kHeldAt);
    held.push_back(offset);
    return true;
  });
  EXPECT_EQ(held, std::vector<int64_t>{0});
  // A redrive puts a done message back as never handed out (deliver, 0
  // deliveries, `next` unchanged); the dead op then removes a held one.
  state.apply({.kind = Kind::kDeliver,
               .group = "g",
               .time_ms = 2000,
               .next = -1,
               .items = {{.offset = 1, .available_at = 2000, .key_hash = 5}}});
  EXPECT_EQ(state.group("g")->next, 3);
  EXPECT_EQ(state.group("g")->entry(1)->deliveries, 0);
  EXPECT_EQ(state.group("g")->available(2000, 10).size(), 1u);
  state.apply(simple(Kind::kDead, "g", {0}));
  held.clear();
  state.group("g")->for_each_held([&](int64_t offset, const QueueState::Entry&) {
    held.push_back(offset);
    return true;
  });
  EXPECT_TRUE(held.empty());
}

TEST(QueueStateTest, SnapshotRoundTripsAndBadLinesAreRefused) {
  TempDir dir;
  QueueState state;
  state.apply(deliver("g 1", 6, {handed(2, 3, 5), {.offset = 4}}));
  state.apply(deliver("other", 9, {}));
  const std::string path = dir.path() + "/queue-state.checkpoint";
  ASSERT_TRUE(
      write_checkpoint(path, kQueueSnapshotKind, kQueueSnapshotVersion,
                       QueueState::snapshot_lines({.offset = 12, .epoch = 3}, state.groups()))
          .is_ok());
  QueueState loaded;
  Result<QueueState::Covered> covered = loaded.load_snapshot(path);
  ASSERT_TRUE(covered.is_ok()) << covered.status().to_string();
  EXPECT_EQ(covered->offset, 12);
  EXPECT_EQ(covered->epoch, 3);
  EXPECT_EQ(loaded.groups(), state.groups());
  EXPECT_EQ(loaded.group("g 1")->first_with_key(5), 2);

  for (const std::vector<std::string>& body :
       {std::vector<std::string>{"2 1 3 4 0 1"},               // an entry before any group
        std::vector<std::string>{"group 6 g", "7 1 3 4 0 1"},  // an entry at or past next
        std::vector<std::string>{"group 6 g", "2 1 3 4 0 1", "2 1 3 4 0 1"},  // offsets must rise
        std::vector<std::string>{"group 6 g", "2 -1 3 4 0 1"},                // negative deliveries
        std::vector<std::string>{"group 6 g", "2 1 3 4 0"},                   // a field short
        std::vector<std::string>{"group 60 g"},                 // next past the coverage
        std::vector<std::string>{"group 6 g", "group 6 g"}}) {  // the same group twice
    std::vector<std::string> lines{"offset 12 epoch 3"};
    lines.insert(lines.end(), body.begin(), body.end());
    ASSERT_TRUE(write_checkpoint(path, kQueueSnapshotKind, kQueueSnapshotVersion, lines).is_ok());
    Result<QueueState::Covered> bad = loaded.load_snapshot(path);
    EXPECT_EQ(bad.code(), ErrorCode::kCorruptMessage) << body.back();
    EXPECT_TRUE(loaded.groups().empty());
  }
}

class QueueLogTest : public ::testing::Test {
 protected:
  LogConfig config() {
    LogConfig c;
    c.fsync_policy = FsyncPolicy::kNever;
    c.clock_ms = [] { return int64_t{1'000'000}; };
    return c;
  }
  std::unique_ptr<Log> open() {
    Result<std::unique_ptr<Log>> log = Log::open(dir_.path(), config());
    EXPECT_TRUE(log.is_ok()) << log.status().to_string();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }
  static std::string messages(int n) {
    RecordBatchBuilder builder;
    for (int i = 0; i < n; ++i) builder.add(1000, std::nullopt, "m" + std::to_string(i));
    return *builder.build();
  }
  static std::string ops(const std::vector<QueueOp>& list) {
    RecordBatchBuilder builder;
    builder.set_schedule_bits(kAttrQueueState);
    for (const QueueOp& op : list) builder.add(1000, std::nullopt, encode_queue_op(op));
    return *builder.build();
  }
  static Result<AppendResult> append(Log& log, std::string bytes, AppendOptions options) {
    return log.append(as_writable_bytes(bytes), options);
  }
  static QueueState::Groups groups(const Log& log) {
    QueueState::Groups out;
    log.read_queue_state([&](const QueueState& s) { out = s.groups(); });
    return out;
  }

  TempDir dir_;
};

TEST_F(QueueLogTest, OnlyTheLeaderWritesQueueStateAndNamesTheVersionItSaw) {
  auto log = open();
  ASSERT_TRUE(append(*log, messages(5), {}).is_ok());
  Result<AppendResult> forged = append(*log, ops({deliver("g", 5, {handed(0)})}), {});
  EXPECT_EQ(forged.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(forged.status().message().find("leader only"), std::string::npos);
  RecordBatchBuilder bad;
  bad.set_schedule_bits(kAttrQueueState);
  bad.add(1000, std::nullopt, "not an op");
  std::string bad_bytes = *bad.build();
  EXPECT_EQ(log->append(as_writable_bytes(bad_bytes), {.internal = true}).code(),
            ErrorCode::kCorruptMessage);
  EXPECT_TRUE(groups(*log).empty());

  const uint64_t seen = log->queue_state_version();
  ASSERT_TRUE(append(*log, ops({deliver("g", 5, {handed(0), handed(1)})}),
                     {.internal = true, .queue_version = seen})
                  .is_ok());
  // Decided from the state before that append: refused, nothing applied.
  Result<AppendResult> stale = append(*log, ops({deliver("g", 5, {handed(0, 2)})}),
                                      {.internal = true, .queue_version = seen});
  EXPECT_EQ(stale.code(), ErrorCode::kFencedLeaderEpoch);
  EXPECT_EQ(groups(*log).at("g").entry(0)->deliveries, 1);
  EXPECT_EQ(log->log_end_offset(), 6);
}

TEST_F(QueueLogTest, StateSurvivesRestartsFromTheSnapshotOrTheLogAlone) {
  QueueState::Groups before;
  {
    auto log = open();
    ASSERT_TRUE(append(*log, messages(6), {}).is_ok());
    ASSERT_TRUE(
        append(*log,
               ops({deliver("g", 6, {handed(0), handed(1), handed(2, 1, 4)}), deliver("h", 6, {})}),
               {.internal = true})
            .is_ok());
    ASSERT_TRUE(append(*log, ops({simple(Kind::kAck, "g", {1})}), {.internal = true}).is_ok());
    before = groups(*log);
    ASSERT_TRUE(log->close().is_ok());
  }
  ASSERT_TRUE(std::filesystem::exists(dir_.path() + "/queue-state.checkpoint"));
  {
    auto log = open();
    EXPECT_EQ(groups(*log), before);
    // Follower appends (offsets kept) apply the same way.
    std::string more = ops({simple(Kind::kAck, "g", {0})});
    set_base_offset(as_writable_bytes(more), log->log_end_offset());
    ASSERT_TRUE(log->append(as_writable_bytes(more), {.assign_offsets = false}).is_ok());
    before = groups(*log);
    EXPECT_EQ(before.at("g").entries().size(), 1u);
    ASSERT_TRUE(log->close().is_ok());
  }
  // Without its snapshot (and with a damaged one) the log alone says the same.
  std::filesystem::remove(dir_.path() + "/queue-state.checkpoint");
  {
    auto log = open();
    EXPECT_EQ(groups(*log), before);
    ASSERT_TRUE(log->close().is_ok());
  }
  std::ofstream(dir_.path() + "/queue-state.checkpoint") << "garbage\n";
  {
    auto log = open();
    EXPECT_EQ(groups(*log), before);
    bool noted = false;
    for (const std::string& n : log->recovery_report().notes) {
      noted = noted || n.find("queue state read from the log") != std::string::npos;
    }
    EXPECT_TRUE(noted);
  }
}

TEST_F(QueueLogTest, TruncationUndoesTheOpsItCuts) {
  auto log = open();
  ASSERT_TRUE(append(*log, messages(4), {}).is_ok());
  ASSERT_TRUE(
      append(*log, ops({deliver("g", 4, {handed(0), handed(1)})}), {.internal = true}).is_ok());
  ASSERT_TRUE(log->flush().is_ok());
  const QueueState::Groups handed_out = groups(*log);
  const int64_t cut_at = log->log_end_offset();
  ASSERT_TRUE(append(*log, ops({simple(Kind::kAck, "g", {0, 1})}), {.internal = true}).is_ok());
  EXPECT_TRUE(groups(*log).at("g").entries().empty());
  ASSERT_TRUE(log->truncate_to(cut_at).is_ok());
  EXPECT_EQ(groups(*log), handed_out);
  // And the rebuilt state is what a restart finds.
  ASSERT_TRUE(log->close().is_ok());
  log = open();
  EXPECT_EQ(groups(*log), handed_out);
}

}  // namespace
}  // namespace mq
