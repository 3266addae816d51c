// What `mqctl bench` reports: throughput and latency percentiles, as the
// JSON object documented in docs/mqctl.md:
//   {"count", "errors", "seconds", "msgs_per_sec", "mb_per_sec",
//    "latency_ms": {"p50", "p99", "p999", "max"}}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mq::ctl {

struct BenchResult {
  uint64_t count = 0;  // messages acknowledged (produce) or read (consume)
  uint64_t errors = 0;
  uint64_t bytes = 0;  // payload bytes of those messages
  double seconds = 0;
  std::vector<double> latencies_ms;  // one per message; sorted by to_json()
};

// The nearest-rank percentile (0 < q <= 1) of sorted values; 0 when empty.
double percentile(const std::vector<double>& sorted, double q);

nlohmann::ordered_json bench_json(BenchResult& result);
std::string bench_table(const nlohmann::ordered_json& doc);

// "[=====>    ]  52%  123456 msg/s", for a terminal's status line.
std::string progress_bar(uint64_t done, uint64_t total, double msgs_per_sec, size_t width = 30);

}  // namespace mq::ctl
