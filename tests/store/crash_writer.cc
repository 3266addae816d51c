// Crash-test writer: appends batches to a log under fsync=always and prints
// "READY" once the log is open, then "ACK <base> <last> <tag>" for each
// acknowledged append, until killed.
// Usage: store-crash-writer DIR SEED
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "store/log.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s DIR SEED\n", argv[0]);
    return 2;
  }
  mq::LogConfig config;
  config.fsync_policy = mq::FsyncPolicy::kAlways;
  config.segment_bytes = 256 * 1024;
  config.index_interval_bytes = 1024;
  config.max_batch_bytes = 1 << 20;
  mq::Result<std::unique_ptr<mq::Log>> log = mq::Log::open(argv[1], config);
  if (!log.is_ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().to_string().c_str());
    return 1;
  }
  // The test starts its kill timer only now, so a kill always lands on appends.
  if (::write(STDOUT_FILENO, "READY\n", 6) != 6) return 1;
  std::mt19937_64 rng(std::strtoull(argv[2], nullptr, 10));
  for (uint64_t n = 0;; n++) {
    // Tag records so the checker can tell this append's bytes from any other.
    std::string tag = std::to_string(getpid()) + "." + std::to_string(n);
    int batches = 1 + static_cast<int>(rng() % 3);
    std::string bytes;
    for (int b = 0; b < batches; b++) {
      mq::RecordBatchBuilder builder(rng() % 4 == 0 ? mq::Compression::kLz4
                                                    : mq::Compression::kNone);
      int records = 1 + static_cast<int>(rng() % 50);
      size_t value_size = rng() % 8 == 0 ? 2000 : 40;
      for (int i = 0; i < records; i++) {
        std::string value = tag + "-" + std::to_string(b) + "-" + std::to_string(i);
        value.resize(std::max(value.size(), value_size), '.');
        builder.add(1000 + static_cast<int64_t>(n), std::nullopt, value);
      }
      bytes += *builder.build();
    }
    mq::Result<mq::AppendResult> r = (*log)->append(mq::as_writable_bytes(bytes));
    if (!r.is_ok()) {
      std::fprintf(stderr, "append: %s\n", r.status().to_string().c_str());
      return 1;
    }
    char line[128];
    int len = std::snprintf(line, sizeof(line), "ACK %lld %lld %s\n",
                            static_cast<long long>(r->base_offset),
                            static_cast<long long>(r->last_offset), tag.c_str());
    if (::write(STDOUT_FILENO, line, static_cast<size_t>(len)) != len) return 1;
  }
}
