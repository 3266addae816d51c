// store-bench: append, read, recovery and compaction throughput of the
// partition log, next to a raw write(2) baseline on the same filesystem.
// Data goes to $MQ_BENCH_DIR (default: $TMPDIR or /tmp).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "store/file.h"
#include "store/log.h"

namespace {

namespace fs = std::filesystem;
using mq::FsyncPolicy;

constexpr size_t kRecordBytes = 100;
constexpr size_t kBatchBytes = 16 * 1024;

std::string bench_dir(const std::string& name) {
  const char* base = std::getenv("MQ_BENCH_DIR");
  if (base == nullptr) base = std::getenv("TMPDIR");
  std::string dir = std::string(base ? base : "/tmp") + "/mq-store-bench-" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// One 16 KiB batch of 100-byte records, and how many records it holds.
std::string make_batch(int* records) {
  mq::RecordBatchBuilder builder;
  std::string value(kRecordBytes, 'v');
  *records = 0;
  while (builder.estimated_size() + kRecordBytes + 8 <= kBatchBytes) {
    value[0] = static_cast<char>('a' + *records % 26);
    builder.add(1'700'000'000'000 + *records, std::nullopt, value);
    ++*records;
  }
  return *builder.build();
}

std::unique_ptr<mq::Log> open_log(const std::string& dir, FsyncPolicy policy) {
  mq::LogConfig config;
  config.fsync_policy = policy;
  auto log = mq::Log::open(dir, config);
  if (!log.is_ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().to_string().c_str());
    std::abort();
  }
  return std::move(log).value();
}

// Raw baseline: write(2) calls of range(0) bytes to one file, like `dd bs=1M`.
void BM_RawWrite(benchmark::State& state) {
  ::sync();
  std::string dir = bench_dir("raw");
  int fd = ::open((dir + "/raw.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string block(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      state.SkipWithError("write failed");
      break;
    }
  }
  ::close(fd);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  fs::remove_all(dir);
}
BENCHMARK(BM_RawWrite)->Arg(1 << 20)->Arg(16 << 10)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Appends of one 16 KiB batch of 100-byte records, each decoded and CRC-checked.
// range(0) batches per append call: 1 is a producer's batch, 64 (1 MiB) a
// follower's replication fetch.
void BM_Append(benchmark::State& state, FsyncPolicy policy) {
  ::sync();  // start without the previous benchmark's dirty pages
  std::string dir = bench_dir(std::string(mq::fsync_policy_name(policy)));
  auto log = open_log(dir, policy);
  int one_batch_records = 0;
  std::string one = make_batch(&one_batch_records);
  std::string batch;
  for (int64_t i = 0; i < state.range(0); i++) batch += one;
  int records = one_batch_records * static_cast<int>(state.range(0));
  std::atomic<bool> stop{false};
  // The broker calls maybe_flush() periodically; stand in for it here.
  std::thread flusher([&] {
    while (!stop) {
      (void)log->maybe_flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (auto _ : state) {
    auto r = log->append(mq::as_writable_bytes(batch));
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
  }
  stop = true;
  flusher.join();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * records);
  state.counters["records_per_batch"] = one_batch_records;
  log.reset();
  fs::remove_all(dir);
}
BENCHMARK_CAPTURE(BM_Append, fsync_never, FsyncPolicy::kNever)
    ->ArgName("batches")
    ->Arg(1)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, fsync_interval, FsyncPolicy::kInterval)
    ->ArgName("batches")
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, fsync_always, FsyncPolicy::kAlways)
    ->ArgName("batches")
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(1.0);

// Sequential reads of 1 MiB slices of a 512 MiB log, CRC of every batch checked.
void BM_Read(benchmark::State& state) {
  ::sync();
  std::string dir = bench_dir("read");
  auto log = open_log(dir, FsyncPolicy::kNever);
  int records = 0;
  std::string batch = make_batch(&records);
  const size_t batches = (512u << 20) / batch.size();
  for (size_t i = 0; i < batches; i++) (void)log->append(mq::as_writable_bytes(batch));
  int64_t offset = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto r = log->read(offset, 1 << 20);
    if (!r.is_ok()) {
      state.SkipWithError(r.status().to_string().c_str());
      break;
    }
    bytes += r->bytes.size();
    offset = r->next_offset >= log->log_end_offset() ? 0 : r->next_offset;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(bytes / batch.size()) * records);
  log.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_Read)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Opening a 1 GiB log after an unclean shutdown with no recovery point:
// every batch of every segment is read and its CRC verified, indexes rebuilt.
void BM_RecoverUnclean1GiB(benchmark::State& state) {
  std::string dir = bench_dir("recover");
  {
    auto log = open_log(dir, FsyncPolicy::kNever);
    int records = 0;
    std::string batch = make_batch(&records);
    const size_t batches = (1024u << 20) / batch.size();
    for (size_t i = 0; i < batches; i++) (void)log->append(mq::as_writable_bytes(batch));
  }
  for (auto _ : state) {
    state.PauseTiming();
    // Unclean, and nothing vouched for: the worst case.
    (void)mq::remove_file(dir + "/.clean-shutdown");
    (void)mq::remove_file(dir + "/log-state.checkpoint");
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.path().extension() == ".index" || entry.path().extension() == ".timeindex") {
        fs::remove(entry.path());
      }
    }
    state.ResumeTiming();
    auto log = open_log(dir, FsyncPolicy::kNever);
    state.PauseTiming();
    state.counters["scanned_GiB"] =
        static_cast<double>(log->recovery_report().bytes_scanned) / (1 << 30);
    log.reset();
    state.ResumeTiming();
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_RecoverUnclean1GiB)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

// One compaction pass over a 256 MiB log of 16 KiB batches of 100-byte
// records whose keys repeat every 10,000 records, in 64 MiB segments: the key
// map reads the whole log, then every closed segment is rewritten (most
// records go) and the results merged. range(0) is the codec of the batches.
// Bytes processed: the size of the compacted part before the pass.
void BM_Compact256MiB(benchmark::State& state) {
  auto codec = static_cast<mq::Compression>(state.range(0));
  std::string dir = bench_dir("compact");
  uint64_t compacted_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(dir);
    mq::LogConfig config;
    config.fsync_policy = FsyncPolicy::kNever;
    config.cleanup_policy = mq::CleanupPolicy::kCompact;
    config.segment_bytes = 64u << 20;
    auto opened = mq::Log::open(dir, config);
    if (!opened.is_ok()) {
      state.SkipWithError(opened.status().to_string().c_str());
      break;
    }
    auto log = std::move(opened).value();
    std::string value(kRecordBytes, 'v');
    int64_t record = 0;
    while (log->size_bytes() < (256u << 20)) {
      mq::RecordBatchBuilder builder(codec);
      for (int i = 0; i < 148; i++, record++) {
        value[record % kRecordBytes] = static_cast<char>('a' + record % 26);
        builder.add(1'700'000'000'000 + record, "key-" + std::to_string(record % 10000), value);
      }
      std::string batch = *builder.build();
      (void)log->append(mq::as_writable_bytes(batch));
    }
    ::sync();
    state.ResumeTiming();
    auto report = log->compact({.ignore_dirty_ratio = true});
    state.PauseTiming();
    if (!report.is_ok()) {
      state.SkipWithError(report.status().to_string().c_str());
      break;
    }
    compacted_bytes += report->bytes_before;
    state.counters["segments_after"] = report->segments_after;
    state.counters["MiB_after"] = static_cast<double>(report->bytes_after) / (1 << 20);
    log.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(compacted_bytes));
  fs::remove_all(dir);
}
BENCHMARK(BM_Compact256MiB)
    ->Arg(static_cast<int>(mq::Compression::kNone))
    ->Arg(static_cast<int>(mq::Compression::kLz4))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
