// mqctl log dump: partition directories written by the real log, then
// damaged on purpose (a flipped byte, a cut tail, a wrong magic, garbage,
// unknown and empty files), dumped in-process and through the mqctl binary.
#include "ctl/log_dump.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "ctl/app.h"
#include "store/checkpoint.h"
#include "store/cleaner_checkpoint.h"
#include "store/log.h"
#include "store/queue_state.h"
#include "tests/ctl/run_mqctl.h"
#include "tests/store/batches.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/temp_dir.h"

namespace mq::ctl {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using mq::testing::TempDir;

constexpr int kBatches = 30;
constexpr int kRecordsPerBatch = 3;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void overwrite_at(const std::string& path, uint64_t position, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(position));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// What a dump printed and found.
struct Dumped {
  LogDumpSummary summary;
  std::string out;
  json doc;  // the output parsed, for -o json
};

Dumped dump(const std::vector<std::string>& paths, OutputFormat format = OutputFormat::kJson,
            bool records = false) {
  char* data = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&data, &size);
  Dumped dumped;
  {
    std::unique_ptr<DumpSink> printer = make_dump_printer(format, out);
    dumped.summary = dump_log_paths(paths, {.records = records}, *printer);
  }
  std::fclose(out);
  dumped.out.assign(data, size);
  std::free(data);
  if (format == OutputFormat::kJson) {
    dumped.doc = json::parse(dumped.out, nullptr, false);
    EXPECT_FALSE(dumped.doc.is_discarded()) << dumped.out;
  }
  return dumped;
}

// The files of a dump of kind `kind`.
std::vector<json> files_of(const Dumped& dumped, const std::string& kind) {
  std::vector<json> out;
  for (const json& file : dumped.doc["files"]) {
    if (file["kind"] == kind) out.push_back(file);
  }
  return out;
}

class LogDumpTest : public ::testing::Test {
 protected:
  void SetUp() override { write_partition(); }

  // kBatches batches of kRecordsPerBatch keyed records over several 1 KiB
  // segments, in leader epochs 1 then 2; one batch lz4, one idempotent, one
  // with a binary value and a header. Closed cleanly, so every index and
  // checkpoint is on disk.
  void write_partition() {
    LogConfig config;
    config.fsync_policy = FsyncPolicy::kNever;
    config.segment_bytes = 1024;
    config.index_interval_bytes = 128;
    Result<std::unique_ptr<Log>> log = Log::open(dir_.path(), config);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    for (int i = 0; i < kBatches; ++i) {
      std::string batch;
      if (i == 7) {
        batch = mq::testing::make_idempotent_batch(kRecordsPerBatch, /*producer_id=*/42,
                                                   /*epoch=*/3, /*base_sequence=*/0, 5000);
      } else if (i == 1) {
        RecordBatchBuilder builder;
        RecordHeader header{"trace", "abc"};
        builder.add(2000, "bin", std::string("\x00\x01\xff", 3), std::span(&header, 1));
        builder.add(2001, std::nullopt, "line\nbreak");
        RecordHeader id{kMessageIdHeader, "order-7"};
        builder.add(2002, "k", std::nullopt, std::span(&id, 1));
        batch = *builder.build();
      } else {
        mq::testing::KeyedRecords records;
        for (int r = 0; r < kRecordsPerBatch; ++r) {
          records.emplace_back("key-" + std::to_string(i), "value-" + std::to_string(r));
        }
        batch = mq::testing::make_keyed_batch(
            records, {.timestamp_ms = 1000 + 10 * i,
                      .codec = i == 3 ? Compression::kLz4 : Compression::kNone});
      }
      ASSERT_TRUE((*log)
                      ->append(as_writable_bytes(batch), {.leader_epoch = i < kBatches / 2 ? 1 : 2})
                      .is_ok());
    }
    bases_ = (*log)->segment_base_offsets();
    ASSERT_TRUE((*log)->close().is_ok());
    ASSERT_GE(bases_.size(), 3u);
    CleanerCheckpoint cleaner;
    cleaner.record_pass(15, 1'700'000'000'000, 86'400'000);
    ASSERT_TRUE(cleaner.write(dir_.file("cleaner.checkpoint")).is_ok());
  }

  std::string segment(size_t i, const char* extension = ".log") const {
    return segment_stem(dir_.path(), bases_[i]) + extension;
  }

  TempDir dir_;
  std::vector<int64_t> bases_;
};

TEST_F(LogDumpTest, DumpsEveryFileOfAPartitionDirectoryInOrder) {
  Dumped d = dump({dir_.path()});
  EXPECT_EQ(d.summary.problems, 0) << d.out;
  EXPECT_TRUE(d.summary.damaged.empty());

  std::vector<std::string> kinds;
  for (const json& file : d.doc["files"]) kinds.push_back(file["kind"]);
  std::vector<std::string> expected;
  for (size_t i = 0; i < bases_.size(); ++i) {
    expected.insert(expected.end(), {"segment", "offset-index", "time-index", "key-index"});
  }
  expected.insert(expected.end(), {"log-state", "leader-epochs", "producer-state", "dedup-window",
                                   "delayed-schedule", "cleaner", "clean-shutdown"});
  EXPECT_EQ(kinds, expected);
  EXPECT_EQ(d.doc["summary"]["files"], expected.size());
  EXPECT_EQ(d.doc["summary"]["problems"], 0);

  // Batches: every offset once, in order, at the positions their sizes add up to.
  int64_t next_offset = 0;
  int batches = 0;
  for (const json& file : files_of(d, "segment")) {
    EXPECT_EQ(file["base_offset"], next_offset);
    uint64_t position = 0;
    for (const json& batch : file["batches"]) {
      EXPECT_EQ(batch["base_offset"], next_offset);
      EXPECT_EQ(batch["position"], position);
      EXPECT_EQ(batch["record_count"], kRecordsPerBatch);
      EXPECT_TRUE(batch["crc"]["valid"]);
      EXPECT_EQ(batch["crc"]["expected"], batch["crc"]["actual"]);
      EXPECT_FALSE(batch.contains("records")) << "records only with --records";
      next_offset = batch["last_offset"].get<int64_t>() + 1;
      position += batch["size_bytes"].get<uint64_t>();
      ++batches;
    }
    EXPECT_EQ(file["size_bytes"], position);
    EXPECT_EQ(file["summary"]["batches"], file["batches"].size());
    EXPECT_TRUE(file["problems"].empty());
  }
  EXPECT_EQ(batches, kBatches);
  EXPECT_EQ(next_offset, kBatches * kRecordsPerBatch);

  json first = files_of(d, "segment")[0]["batches"];
  EXPECT_EQ(first[0]["leader_epoch"], 1);
  EXPECT_EQ(first[0]["compression"], "none");
  EXPECT_EQ(first[0]["timestamp_type"], "CreateTime");
  EXPECT_EQ(first[3]["compression"], "lz4");
  EXPECT_EQ(first[7]["idempotent"], true);
  EXPECT_EQ(first[7]["producer_id"], 42);
  EXPECT_EQ(first[7]["producer_epoch"], 3);
  EXPECT_EQ(first[7]["base_sequence"], 0);
  EXPECT_EQ(first[7]["last_sequence"], kRecordsPerBatch - 1);
  EXPECT_EQ(first[0]["producer_id"], -1);
  EXPECT_EQ(first[0]["first_timestamp"], 1000);
  EXPECT_EQ(first[0]["max_timestamp"], 1002);

  // Indexes: entries that point at batches, checked against their segment.
  size_t offset_entries = 0;
  for (const json& file : files_of(d, "offset-index")) {
    EXPECT_EQ(file["summary"]["checked_against"],
              segment_stem(dir_.path(), file["base_offset"].get<int64_t>()) + ".log");
    for (const json& entry : file["entries"]) {
      EXPECT_EQ(entry["offset"],
                file["base_offset"].get<int64_t>() + entry["relative_offset"].get<int64_t>());
    }
    offset_entries += file["entries"].size();
  }
  EXPECT_GT(offset_entries, 0u);
  EXPECT_FALSE(files_of(d, "time-index")[0]["entries"].empty());

  // Checkpoints, decoded.
  json state = files_of(d, "log-state")[0]["contents"];
  EXPECT_EQ(state["recovery_point"], kBatches * kRecordsPerBatch);
  EXPECT_EQ(state["log_start_offset"], 0);
  json epochs = files_of(d, "leader-epochs")[0]["contents"]["epochs"];
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0], (json{{"epoch", 1}, {"start_offset", 0}}));
  EXPECT_EQ(epochs[1]["epoch"], 2);
  EXPECT_EQ(epochs[1]["start_offset"], kBatches / 2 * kRecordsPerBatch);
  json producers = files_of(d, "producer-state")[0]["contents"]["producers"];
  ASSERT_EQ(producers.size(), 1u);
  EXPECT_EQ(producers[0]["producer_id"], 42);
  EXPECT_EQ(producers[0]["batches"][0]["base_offset"], 7 * kRecordsPerBatch);
  json dedup = files_of(d, "dedup-window")[0]["contents"];
  EXPECT_EQ(dedup["offset"], kBatches * kRecordsPerBatch);
  ASSERT_EQ(dedup["ids"].size(), 1u);
  EXPECT_EQ(dedup["ids"][0]["id"], "order-7");
  EXPECT_EQ(dedup["ids"][0]["offset"], kRecordsPerBatch + 2);
  json schedule = files_of(d, "delayed-schedule")[0]["contents"];
  EXPECT_EQ(schedule["offset"], kBatches * kRecordsPerBatch);
  EXPECT_EQ(schedule["pending"], json::array());
  json cleaner = files_of(d, "cleaner")[0]["contents"];
  EXPECT_EQ(cleaner["first_dirty_offset"], 15);
  EXPECT_EQ(cleaner["passes"][0], (json{{"end_offset", 15}, {"time_ms", 1'700'000'000'000}}));
}

TEST_F(LogDumpTest, RecordsShowKeysValuesAndHeadersWithBinaryEscaped) {
  Dumped d = dump({segment(0)}, OutputFormat::kJson, /*records=*/true);
  ASSERT_EQ(d.summary.problems, 0) << d.out;
  const json& batches = d.doc["files"][0]["batches"];
  const json& plain = batches[0]["records"];
  ASSERT_EQ(plain.size(), static_cast<size_t>(kRecordsPerBatch));
  EXPECT_EQ(plain[1], (json{{"offset", 1},
                            {"timestamp", 1001},
                            {"key", "key-0"},
                            {"value", "value-1"},
                            {"headers", json::array()}}));
  const json& special = batches[1]["records"];
  EXPECT_EQ(special[0]["key"], "bin");
  EXPECT_EQ(special[0]["value"], "\\x00\\x01\\xff");
  EXPECT_EQ(special[0]["headers"], (json::array({{{"key", "trace"}, {"value", "abc"}}})));
  EXPECT_EQ(special[1]["key"], nullptr);
  EXPECT_EQ(special[1]["value"], "line\\nbreak");
  EXPECT_EQ(special[2]["value"], nullptr);
  EXPECT_EQ(batches[3]["records"][0]["value"], "value-0") << "lz4 records are decompressed";

  Dumped text = dump({segment(0)}, OutputFormat::kTable, /*records=*/true);
  EXPECT_NE(text.out.find("  record offset=3 timestamp=2000 key=\"bin\" value=\"\\x00\\x01\\xff\" "
                          "headers=[\"trace\"=\"abc\"]\n"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("key=null value=\"line\\nbreak\""), std::string::npos) << text.out;
}

TEST(PrintableTextTest, KeepsPrintableUtf8AndEscapesEverythingElse) {
  EXPECT_EQ(printable_text("plain text, with \\ and \""), "plain text, with \\ and \"");
  EXPECT_EQ(printable_text("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(printable_text("a\\b\n"), "a\\\\b\\n") << "escaped text doubles its backslashes";
  EXPECT_EQ(printable_text(std::string("\x00\t\r\x7f", 4)), "\\x00\\t\\r\\x7f");
  EXPECT_EQ(printable_text("\xc3\x28"), "\\xc3(") << "invalid UTF-8";
  EXPECT_EQ(printable_text("\xc0\xaf"), "\\xc0\\xaf") << "overlong";
  EXPECT_EQ(printable_text("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "surrogate";
  EXPECT_EQ(printable_text("\xc2\x85"), "\\xc2\\x85") << "C1 control";
  EXPECT_EQ(printable_text(""), "");
}

TEST_F(LogDumpTest, TextOutputHasALinePerFileBatchAndEntry) {
  Dumped d = dump({dir_.path()}, OutputFormat::kTable);
  EXPECT_EQ(d.summary.problems, 0);
  EXPECT_NE(d.out.find("file path=" + segment(0) + " kind=segment size_bytes="), std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("\nbatch base_offset=0 last_offset=2 position=0 size_bytes="),
            std::string::npos);
  EXPECT_NE(d.out.find("compression=none timestamp_type=CreateTime idempotent=false crc=valid\n"),
            std::string::npos);
  EXPECT_NE(d.out.find("\nentry number=0 relative_offset="), std::string::npos);
  EXPECT_NE(d.out.find("\nleader-epochs\n  epoch epoch=1 start_offset=0\n"), std::string::npos);
  EXPECT_NE(d.out.find("\nlog-state recovery_point=90 log_start_offset=0\n"), std::string::npos);
  EXPECT_NE(d.out.find("\ncleaner first_dirty_offset=15\n  pass end_offset=15 time_ms="),
            std::string::npos);
  EXPECT_NE(d.out.find("\nsummary batches="), std::string::npos);
  EXPECT_EQ(d.out.find("\nproblem"), std::string::npos);
  EXPECT_TRUE(d.out.ends_with("total files=" + std::to_string(d.summary.files) + " problems=0\n"))
      << d.out;
}

TEST_F(LogDumpTest, YamlOutputIsTheSameDocument) {
  Dumped d = dump({segment(0), dir_.file("log-state.checkpoint")}, OutputFormat::kYaml);
  EXPECT_TRUE(d.out.starts_with("files:\n  - path: ")) << d.out;
  EXPECT_NE(d.out.find("\n    kind: segment\n"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("\n    batches:\n      - base_offset: 0\n        last_offset: 2\n"),
            std::string::npos)
      << d.out;
  EXPECT_NE(d.out.find("\n    contents:\n      recovery_point: 90\n"), std::string::npos) << d.out;
  EXPECT_NE(d.out.find("\n    problems: []\n    summary:\n"), std::string::npos) << d.out;
  EXPECT_TRUE(d.out.ends_with("summary:\n  files: 2\n  problems: 0\n")) << d.out;
}

TEST_F(LogDumpTest, FlippedByteIsACrcMismatchAndTheNextBatchIsStillDumped) {
  Dumped before = dump({segment(0)});
  const json& batches = before.doc["files"][0]["batches"];
  uint64_t second = batches[1]["position"];
  std::string bytes = read_file(segment(0));
  // A byte of the second batch's records, covered by its CRC.
  bytes[second + kBatchHeaderSize + 2] ^= 0x40;
  write_file(segment(0), bytes);

  Dumped d = dump({segment(0)});
  const json& file = d.doc["files"][0];
  EXPECT_EQ(file["batches"].size(), batches.size()) << "every batch is still dumped";
  EXPECT_TRUE(file["batches"][0]["crc"]["valid"]);
  const json& damaged = file["batches"][1];
  EXPECT_FALSE(damaged["crc"]["valid"]);
  EXPECT_NE(damaged["crc"]["expected"], damaged["crc"]["actual"]);
  EXPECT_EQ(damaged["crc"]["expected"], batches[1]["crc"]["expected"]);
  EXPECT_TRUE(file["batches"][2]["crc"]["valid"]);
  ASSERT_EQ(file["problems"].size(), 1u) << d.out;
  EXPECT_EQ(file["problems"][0]["position"], second);
  std::string message = file["problems"][0]["message"];
  EXPECT_NE(message.find("CRC mismatch in batch at base offset 3: expected " +
                         damaged["crc"]["expected"].get<std::string>() + " (stored), actual " +
                         damaged["crc"]["actual"].get<std::string>()),
            std::string::npos)
      << message;
  EXPECT_EQ(d.summary.problems, 1);
  ASSERT_EQ(d.summary.damaged.size(), 1u);
  EXPECT_EQ(d.summary.damaged[0].path, segment(0));

  Dumped text = dump({segment(0)}, OutputFormat::kTable);
  EXPECT_NE(text.out.find("crc=mismatch(expected="), std::string::npos);
  EXPECT_NE(text.out.find("\nproblem at position " + std::to_string(second) + ": CRC mismatch"),
            std::string::npos)
      << text.out;
}

TEST_F(LogDumpTest, TornLastBatchIsReportedWithTheBytesLeftOver) {
  std::string path = segment(bases_.size() - 1);
  Dumped before = dump({path});
  const json& last = before.doc["files"][0]["batches"].back();
  uint64_t position = last["position"];
  uint64_t size = last["size_bytes"];
  fs::resize_file(path, position + size - 10);

  Dumped d = dump({path});
  const json& file = d.doc["files"][0];
  EXPECT_EQ(file["batches"].size(), before.doc["files"][0]["batches"].size() - 1);
  ASSERT_EQ(file["problems"].size(), 1u);
  EXPECT_EQ(file["problems"][0]["position"], position);
  EXPECT_EQ(file["problems"][0]["message"],
            "torn batch at base offset " + std::to_string(last["base_offset"].get<int64_t>()) +
                ": its header says " + std::to_string(size) + " bytes, " +
                std::to_string(size - 10) + " bytes left over (torn write)");

  // Fewer bytes than a header: the tail is counted too.
  fs::resize_file(path, position + 20);
  d = dump({path});
  ASSERT_EQ(d.doc["files"][0]["problems"].size(), 1u);
  EXPECT_EQ(d.doc["files"][0]["problems"][0]["position"], position);
  EXPECT_NE(d.doc["files"][0]["problems"][0]["message"].get<std::string>().find(
                "torn tail: 20 bytes left over after the last batch"),
            std::string::npos);
}

TEST_F(LogDumpTest, BadMagicIsSkippedByItsLengthAndOffsetsThatGoBackAreReported) {
  Dumped before = dump({segment(0)});
  const json& batches = before.doc["files"][0]["batches"];
  uint64_t second = batches[1]["position"];
  overwrite_at(segment(0), second + 16, std::string("\x02", 1));  // magic
  uint64_t third = batches[2]["position"];
  // The third batch claims offset 0 again: not covered by the CRC, caught by order.
  overwrite_at(segment(0), third, std::string(8, '\0'));

  Dumped d = dump({segment(0)});
  const json& file = d.doc["files"][0];
  ASSERT_EQ(file["problems"].size(), 2u) << d.out;
  EXPECT_EQ(file["problems"][0]["position"], second);
  EXPECT_NE(file["problems"][0]["message"].get<std::string>().find(
                "bad batch header: unknown batch format version 2; skipped its " +
                std::to_string(batches[1]["size_bytes"].get<uint64_t>()) + " bytes"),
            std::string::npos)
      << file["problems"][0];
  EXPECT_EQ(file["problems"][1]["position"], third);
  EXPECT_NE(file["problems"][1]["message"].get<std::string>().find(
                "batch has base offset 0, expected 3 or more (offsets go back)"),
            std::string::npos)
      << file["problems"][1];
  EXPECT_EQ(file["batches"].size(), batches.size() - 1) << "only the unreadable one is missing";
  EXPECT_EQ(file["batches"][1]["position"], third);
  EXPECT_EQ(file["batches"][2]["base_offset"], batches[3]["base_offset"]);
}

TEST_F(LogDumpTest, GarbageNeverCrashesAndIsReported) {
  TempDir garbage;
  std::mt19937 random(20240611);
  for (int round = 0; round < 50; ++round) {
    std::string bytes(std::uniform_int_distribution<size_t>(1, 4096)(random), '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    for (const char* name :
         {"00000000000000000000.log", "00000000000000000000.index",
          "00000000000000000000.timeindex", "log-state.checkpoint", "leader-epoch-checkpoint",
          "producer-state.checkpoint", "dedup-window.checkpoint", "cleaner.checkpoint"}) {
      write_file(garbage.file(name), bytes);
    }
    Dumped d = dump({garbage.path()});
    ASSERT_FALSE(d.doc.is_discarded()) << "round " << round;
    EXPECT_GT(d.summary.problems, 0) << "round " << round << "\n" << d.out;
    for (const json& file : d.doc["files"]) {
      if (file["kind"] == "segment" || file["kind"] == "log-state") {
        EXPECT_FALSE(file["problems"].empty()) << "round " << round << ": " << file;
      }
    }
  }
  // A garbage file's problems say where they are.
  write_file(garbage.file("00000000000000000000.log"), std::string(100, '\x7f'));
  Dumped d = dump({garbage.file("00000000000000000000.log")});
  EXPECT_EQ(d.doc["files"][0]["problems"][0]["position"], 0);
  EXPECT_NE(d.doc["files"][0]["problems"][0]["message"].get<std::string>().find(
                "bad batch header: unknown batch format version 127"),
            std::string::npos);
}

TEST_F(LogDumpTest, EmptyFilesAndUnknownNames) {
  TempDir other;
  write_file(other.file("00000000000000000500.log"), "");
  write_file(other.file("00000000000000000500.index"), "");
  write_file(other.file("log-state.checkpoint"), "");
  write_file(other.file("notes.txt"), "hello");
  write_file(other.file("log-state.checkpoint.tmp"), "half");
  Dumped d = dump({other.path()});

  // An empty segment and index are what a freshly rolled segment looks like.
  json log = files_of(d, "segment")[0];
  EXPECT_TRUE(log["batches"].empty());
  EXPECT_TRUE(log["problems"].empty());
  EXPECT_EQ(log["base_offset"], 500);
  EXPECT_TRUE(files_of(d, "offset-index")[0]["problems"].empty());
  EXPECT_EQ(files_of(d, "temporary").size(), 1u);
  EXPECT_TRUE(files_of(d, "temporary")[0]["problems"].empty());
  // An empty checkpoint is not one.
  json state = files_of(d, "log-state")[0];
  EXPECT_TRUE(state["contents"].is_null());
  ASSERT_EQ(state["problems"].size(), 1u);
  EXPECT_EQ(state["problems"][0]["message"], "no checksum line");
  EXPECT_TRUE(state["problems"][0]["position"].is_null());
  json unknown = files_of(d, "unknown")[0];
  EXPECT_NE(unknown["problems"][0]["message"].get<std::string>().find("unknown file"),
            std::string::npos);
  EXPECT_EQ(d.summary.problems, 2);
}

TEST_F(LogDumpTest, KeyIndexEntriesAreListedAndChecked) {
  Dumped clean = dump({segment(0, ".keyindex")});
  ASSERT_EQ(clean.summary.problems, 0) << clean.out;
  const json& entries = clean.doc["files"][0]["entries"];
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries[0]["offset"], entries[0]["relative_offset"]);
  EXPECT_TRUE(entries[0].contains("key_hash"));

  auto entry = [](uint32_t hash, uint32_t relative_offset) {
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &hash, 4);
    std::memcpy(bytes.data() + 4, &relative_offset, 4);
    return bytes;
  };
  write_file(segment(0, ".keyindex"), entry(7, 2) + entry(0, 1) + entry(9, 1'000'000) + "abc");
  Dumped d = dump({segment(0, ".keyindex")});
  const json& file = d.doc["files"][0];
  EXPECT_EQ(file["entries"][1]["marker"], true);
  EXPECT_EQ(file["entries"][0]["key_hash"], "00000007");
  const json& problems = file["problems"];
  ASSERT_EQ(problems.size(), 3u) << file;
  EXPECT_NE(problems[0]["message"].get<std::string>().find("entry 1 is out of order"),
            std::string::npos);
  EXPECT_NE(problems[1]["message"].get<std::string>().find("entry 2 points past the segment"),
            std::string::npos);
  EXPECT_EQ(problems[2]["position"], 24);
}

TEST_F(LogDumpTest, QueueStateSnapshotListsEachGroupsEntries) {
  QueueState state;
  state.apply({.kind = QueueOp::Kind::kDeliver,
               .group = "workers",
               .time_ms = 1000,
               .next = 9,
               .items = {{.offset = 4,
                          .deliveries = 2,
                          .invisible_until = 31000,
                          .available_at = 41000,
                          .key_hash = 7}}});
  const std::string path = dir_.file("queue-state.checkpoint");
  ASSERT_TRUE(
      write_checkpoint(path, kQueueSnapshotKind, kQueueSnapshotVersion,
                       QueueState::snapshot_lines({.offset = 12, .epoch = 2}, state.groups()))
          .is_ok());
  Dumped d = dump({path});
  EXPECT_EQ(d.summary.problems, 0) << d.out;
  EXPECT_EQ(d.doc["files"][0]["kind"], "queue-state");
  const json& contents = d.doc["files"][0]["contents"];
  EXPECT_EQ(contents["offset"], 12);
  EXPECT_EQ(contents["groups"][0]["group"], "workers");
  EXPECT_EQ(contents["groups"][0]["next"], 9);
  EXPECT_EQ(contents["groups"][0]["entries"][0], (json{{"offset", 4},
                                                       {"deliveries", 2},
                                                       {"invisible_until_ms", 31000},
                                                       {"available_at_ms", 41000},
                                                       {"key_hash", 7},
                                                       {"delivered_at_ms", 1000}}));
  write_file(path, "mq-queue-state 1\ngarbage\n");
  EXPECT_EQ(dump({path}).summary.problems, 1);
}

TEST_F(LogDumpTest, DamagedCheckpointsAndIndexesAreReported) {
  std::string state = read_file(dir_.file("log-state.checkpoint"));
  state[state.find("recovery_point") + 1] = 'E';
  write_file(dir_.file("log-state.checkpoint"), state);
  ASSERT_TRUE(write_checkpoint(dir_.file("leader-epoch-checkpoint"), "mq-leader-epochs", 2, {"1 0"})
                  .is_ok());

  // Entries: one fine, one out of order, one not at a batch boundary, one
  // past the end of the segment, then part of an entry.
  Dumped before = dump({segment(0)});
  const json& batches = before.doc["files"][0]["batches"];
  auto entry = [](uint32_t relative_offset, uint32_t position) {
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &relative_offset, 4);
    std::memcpy(bytes.data() + 4, &position, 4);
    return bytes;
  };
  uint32_t second = batches[1]["position"];
  uint32_t third = batches[2]["position"];
  write_file(segment(0, ".index"), entry(6, third) + entry(3, second) + entry(12, third + 1) +
                                       entry(15, 1'000'000) + "abc");
  std::string time_entry(12, '\0');
  int64_t timestamp = 999'999;
  uint32_t relative = 1'000;
  std::memcpy(time_entry.data(), &timestamp, 8);
  std::memcpy(time_entry.data() + 8, &relative, 4);
  write_file(segment(0, ".timeindex"), time_entry);

  Dumped d = dump({dir_.file("log-state.checkpoint"), dir_.file("leader-epoch-checkpoint"),
                   segment(0, ".index"), segment(0, ".timeindex")});
  const json& files = d.doc["files"];
  EXPECT_EQ(files[0]["problems"][0]["message"], "checksum mismatch");
  EXPECT_EQ(files[1]["problems"][0]["message"],
            "expected 'mq-leader-epochs 1', found 'mq-leader-epochs 2'");

  const json& index = files[2];
  EXPECT_EQ(index["entries"].size(), 4u);
  EXPECT_EQ(index["entries"][0],
            (json{{"number", 0}, {"relative_offset", 6}, {"offset", 6}, {"position", third}}));
  const json& problems = index["problems"];
  ASSERT_EQ(problems.size(), 4u) << index;
  EXPECT_EQ(problems[0]["position"], 8);
  EXPECT_NE(problems[0]["message"].get<std::string>().find("entry 1 is out of order"),
            std::string::npos);
  EXPECT_EQ(problems[1]["position"], 16);
  EXPECT_NE(problems[1]["message"].get<std::string>().find("entry 2: no batch starts at position"),
            std::string::npos)
      << problems[1];
  EXPECT_EQ(problems[2]["position"], 24);
  EXPECT_NE(problems[2]["message"].get<std::string>().find(
                "entry 3 points past the segment: position 1000000"),
            std::string::npos)
      << problems[2];
  EXPECT_EQ(problems[3]["position"], 32);
  EXPECT_NE(
      problems[3]["message"].get<std::string>().find("3 bytes left over after the last entry"),
      std::string::npos);

  const json& time_index = files[3];
  ASSERT_EQ(time_index["problems"].size(), 1u);
  EXPECT_NE(time_index["problems"][0]["message"].get<std::string>().find(
                "entry 0 points past the segment: offset 1000"),
            std::string::npos);
  EXPECT_EQ(d.summary.problems, 7);
}

TEST_F(LogDumpTest, NeverChangesAFile) {
  // Damage first: a reader that "repaired" would show here.
  fs::resize_file(segment(1), fs::file_size(segment(1)) - 7);
  std::map<std::string, std::pair<std::string, fs::file_time_type>> before;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    before[entry.path()] = {read_file(entry.path()), fs::last_write_time(entry.path())};
  }
  for (OutputFormat format : {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml}) {
    dump({dir_.path()}, format, /*records=*/true);
  }
  std::map<std::string, std::pair<std::string, fs::file_time_type>> after;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    after[entry.path()] = {read_file(entry.path()), fs::last_write_time(entry.path())};
  }
  EXPECT_TRUE(before == after);
}

// The command line, in-process: exit codes and stderr.
using testing::CommandResult;

CommandResult run(const std::vector<std::string>& args) {
  return testing::run_in_process(args);
}

TEST_F(LogDumpTest, ExitCodesAndStderr) {
  TempDir config;
  ::setenv("XDG_CONFIG_HOME", config.path().c_str(), 1);
  ::unsetenv("MQ_BROKERS");

  CommandResult clean = run({"log", "dump", dir_.path()});
  EXPECT_EQ(clean.code, 0) << clean.err;
  EXPECT_TRUE(clean.err.empty()) << clean.err;

  CommandResult missing = run({"log", "dump", dir_.path(), dir_.file("no-such-file.log")});
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(missing.out.empty()) << "nothing is dumped before the error";
  EXPECT_EQ(missing.err, "mqctl: log dump: \"" + dir_.file("no-such-file.log") +
                             "\": no such file or directory\n");

  CommandResult no_path = run({"log", "dump"});
  EXPECT_EQ(no_path.code, 2);
  EXPECT_NE(no_path.err.find("path is required"), std::string::npos) << no_path.err;

  fs::resize_file(segment(0), fs::file_size(segment(0)) - 1);
  CommandResult damaged = run({"log", "dump", segment(0), "--records", "-o", "json"});
  EXPECT_EQ(damaged.code, 4);
  EXPECT_FALSE(json::parse(damaged.out, nullptr, false).is_discarded());
  EXPECT_NE(damaged.err.find("mqctl: " + segment(0) + ": 1 problem, the first at position "),
            std::string::npos)
      << damaged.err;
  EXPECT_NE(damaged.err.find("torn batch"), std::string::npos) << damaged.err;
}

TEST_F(LogDumpTest, TheMqctlBinaryDumpsWithoutABroker) {
  TempDir scratch;
  std::string mqctl = std::string("MQ_BROKERS= XDG_CONFIG_HOME=") + scratch.file("config") +
                      " timeout 60 " + MQ_MQCTL_BINARY + " log dump ";
  mq::testing::Shell clean =
      mq::testing::run_shell(mqctl + dir_.path() + " -o json", scratch.file("err"));
  EXPECT_EQ(clean.code, 0) << clean.err;
  json doc = mq::testing::json_of(clean);
  ASSERT_FALSE(doc.is_discarded()) << clean.out;
  EXPECT_EQ(doc["summary"]["problems"], 0);
  EXPECT_EQ(doc["files"][0]["kind"], "segment");

  std::string bytes = read_file(segment(0));
  bytes[kBatchHeaderSize + 1] ^= 1;
  write_file(segment(0), bytes);
  mq::testing::Shell damaged =
      mq::testing::run_shell(mqctl + "--records " + dir_.path() + " -o json", scratch.file("err"));
  EXPECT_EQ(damaged.code, 4) << damaged.err;
  doc = mq::testing::json_of(damaged);
  ASSERT_FALSE(doc.is_discarded()) << damaged.out;
  EXPECT_EQ(doc["summary"]["problems"], 1);
  EXPECT_FALSE(doc["files"][0]["batches"][0]["crc"]["valid"]);
  EXPECT_NE(damaged.err.find("CRC mismatch"), std::string::npos) << damaged.err;

  mq::testing::Shell text = mq::testing::run_shell(mqctl + dir_.path(), scratch.file("err"));
  EXPECT_EQ(text.code, 4);
  EXPECT_NE(text.out.find("\nproblem at position 0: CRC mismatch"), std::string::npos) << text.out;

  mq::testing::Shell missing =
      mq::testing::run_shell(mqctl + scratch.file("nothing-here"), scratch.file("err"));
  EXPECT_EQ(missing.code, 1);
}

}  // namespace
}  // namespace mq::ctl
