// quorum-bench: proposals committed per second through three QuorumService
// members in one process — real threads, loopback ZeroMQ, FileStorage with
// an fdatasync per Ready on every member. Proposals are made on the leader
// with a window of them in flight; each counts once the leader has applied
// it. Also runs with a window of 1 for the latency of a lone proposal.
//
//   quorum-bench [--proposals N] [--entry-bytes B] [--window W] [--dir DIR]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quorum/quorum_service.h"
#include "tests/support/free_port.h"

namespace mq::quorum {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int proposals = 20'000;
  int entry_bytes = 100;
  int window = 1'000;
  std::string dir;
};

// Counts what it applies; its snapshot is the count.
class CountingMachine : public StateMachine {
 public:
  void apply(uint64_t, std::span<const uint8_t> data) override {
    applied_ += 1;
    bytes_ += data.size();
  }
  Status restore(uint64_t, std::span<const uint8_t> snapshot) override {
    if (snapshot.size() != 8) return Status(ErrorCode::kCorruptMessage, "bench snapshot");
    std::memcpy(&applied_, snapshot.data(), 8);
    return Status::ok();
  }
  Bytes snapshot() override {
    Bytes out(8);
    std::memcpy(out.data(), &applied_, 8);
    return out;
  }

 private:
  uint64_t applied_ = 0;
  uint64_t bytes_ = 0;
};

using mq::testing::free_port;

bool parse_int(const char* text, int* out) {
  std::string_view view(text);
  auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), *out);
  return error == std::errc() && end == view.data() + view.size() && *out > 0;
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    bool known =
        flag == "--proposals" || flag == "--entry-bytes" || flag == "--window" || flag == "--dir";
    if (!known || i + 1 >= argc) {
      std::fprintf(stderr,
                   "usage: quorum-bench [--proposals N] [--entry-bytes B] [--window W] "
                   "[--dir DIR]\n");
      std::exit(2);
    }
    const char* value = argv[++i];
    bool ok = true;
    if (flag == "--proposals") ok = parse_int(value, &options.proposals);
    if (flag == "--entry-bytes") ok = parse_int(value, &options.entry_bytes);
    if (flag == "--window") ok = parse_int(value, &options.window);
    if (flag == "--dir") options.dir = value;
    if (!ok) {
      std::fprintf(stderr, "quorum-bench: %s needs a positive integer, not \"%s\"\n", flag.c_str(),
                   value);
      std::exit(2);
    }
  }
  if (options.dir.empty()) {
    const char* tmp = std::getenv("MQ_BENCH_DIR");
    options.dir = (std::filesystem::path(tmp != nullptr ? tmp : "/tmp") /
                   ("mq-quorum-bench-" + std::to_string(::getpid())))
                      .string();
  }
  return options;
}

// Keeps `window` proposals in flight until `count` were applied; returns the
// wall time and each proposal's latency.
struct Run {
  std::chrono::nanoseconds elapsed{};
  std::vector<double> latencies_ms;
  int failed = 0;
};

Run run(QuorumService& leader, int count, int window, int entry_bytes) {
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int finished = 0;
  Run result;
  result.latencies_ms.reserve(static_cast<size_t>(count));
  Clock::time_point start = Clock::now();
  for (int i = 0; i < count; ++i) {
    {
      std::unique_lock lock(mutex);
      changed.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    Bytes data(static_cast<size_t>(entry_bytes), static_cast<uint8_t>(i));
    Clock::time_point sent = Clock::now();
    leader.propose(std::move(data), [&, sent](Result<uint64_t> applied) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
      std::lock_guard lock(mutex);
      result.latencies_ms.push_back(ms);
      if (!applied) ++result.failed;
      --in_flight;
      ++finished;
      changed.notify_all();
    });
  }
  std::unique_lock lock(mutex);
  changed.wait(lock, [&] { return finished == count; });
  result.elapsed = Clock::now() - start;
  return result;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t at = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[at];
}

void report(const char* name, const Run& result, int count, int entry_bytes) {
  double seconds = std::chrono::duration<double>(result.elapsed).count();
  std::printf(
      "%-22s %8d proposals in %7.3f s = %9.0f/s (%6.2f MB/s)  latency p50 %7.2f ms"
      "  p99 %7.2f ms  max %7.2f ms  failed %d\n",
      name, count, seconds, count / seconds, count * double(entry_bytes) / seconds / 1e6,
      percentile(result.latencies_ms, 0.50), percentile(result.latencies_ms, 0.99),
      percentile(result.latencies_ms, 1.0), result.failed);
}

int main_bench(int argc, char** argv) {
  Options options = parse(argc, argv);
  std::filesystem::remove_all(options.dir);
  std::map<NodeId, std::string> voters;
  for (NodeId id : {1, 2, 3}) voters[id] = "tcp://127.0.0.1:" + std::to_string(free_port());
  std::vector<std::unique_ptr<CountingMachine>> machines;
  std::vector<std::unique_ptr<QuorumService>> services;
  for (NodeId id : {1, 2, 3}) {
    QuorumConfig config;
    config.id = id;
    config.voters = voters;
    config.listen_endpoint = voters[id];
    config.storage_dir = options.dir + "/node-" + std::to_string(id);
    config.random_seed = 7;
    machines.push_back(std::make_unique<CountingMachine>());
    services.push_back(std::make_unique<QuorumService>(config, *machines.back()));
    Status started = services.back()->start();
    if (!started) {
      std::fprintf(stderr, "quorum-bench: %s\n", started.to_string().c_str());
      return 1;
    }
  }
  QuorumService* leader = nullptr;
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
  while (leader == nullptr && Clock::now() < deadline) {
    for (auto& service : services) {
      if (service->status().am_controller) leader = service.get();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (leader == nullptr) {
    std::fprintf(stderr, "quorum-bench: no leader within 30 s\n");
    return 1;
  }
  std::printf("3 voters in one process, loopback ZeroMQ, FileStorage in %s, %d-byte entries\n",
              options.dir.c_str(), options.entry_bytes);
  run(*leader, std::min(options.proposals, 1'000), options.window, options.entry_bytes);  // warm-up
  Run windowed = run(*leader, options.proposals, options.window, options.entry_bytes);
  std::string name = "window " + std::to_string(options.window);
  report(name.c_str(), windowed, options.proposals, options.entry_bytes);
  int lone = std::min(options.proposals, 500);
  report("window 1", run(*leader, lone, 1, options.entry_bytes), lone, options.entry_bytes);
  QuorumStatus status = leader->status();
  std::printf("leader: term %llu, applied %llu, snapshot at %llu, %llu snapshots taken\n",
              static_cast<unsigned long long>(status.term),
              static_cast<unsigned long long>(status.applied_index),
              static_cast<unsigned long long>(status.snapshot_index),
              static_cast<unsigned long long>(status.counters.snapshots_taken));
  for (auto& service : services) service->stop();
  services.clear();
  std::filesystem::remove_all(options.dir);
  return windowed.failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace mq::quorum

int main(int argc, char** argv) {
  return mq::quorum::main_bench(argc, argv);
}
