// Percentiles and the bench report.
#include "ctl/bench_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ctl/output.h"

namespace mq::ctl {

double percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

nlohmann::ordered_json bench_json(BenchResult& result) {
  std::sort(result.latencies_ms.begin(), result.latencies_ms.end());
  double seconds = std::max(result.seconds, 1e-9);
  auto round3 = [](double v) { return std::round(v * 1000) / 1000; };
  const auto& l = result.latencies_ms;
  return {{"count", result.count},
          {"errors", result.errors},
          {"seconds", round3(result.seconds)},
          {"msgs_per_sec", std::round(static_cast<double>(result.count) / seconds)},
          {"mb_per_sec", round3(static_cast<double>(result.bytes) / 1e6 / seconds)},
          {"latency_ms",
           {{"p50", round3(percentile(l, 0.5))},
            {"p99", round3(percentile(l, 0.99))},
            {"p999", round3(percentile(l, 0.999))},
            {"max", round3(l.empty() ? 0 : l.back())}}}};
}

std::string bench_table(const nlohmann::ordered_json& doc) {
  Table table({"METRIC", "VALUE"});
  for (const char* key : {"count", "errors", "seconds", "msgs_per_sec", "mb_per_sec"}) {
    table.add_row({key, cell(doc[key])});
  }
  for (const char* key : {"p50", "p99", "p999", "max"}) {
    table.add_row({std::string("latency_ms.") + key, cell(doc["latency_ms"][key])});
  }
  return table.render();
}

std::string progress_bar(uint64_t done, uint64_t total, double msgs_per_sec, size_t width) {
  double fraction =
      total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  auto filled = static_cast<size_t>(fraction * static_cast<double>(width));
  std::string bar = "[" + std::string(filled, '=');
  if (filled < width) bar += ">" + std::string(width - filled - 1, ' ');
  bar += "]";
  char tail[64];
  std::snprintf(tail, sizeof(tail), " %3d%%  %.0f msg/s", static_cast<int>(fraction * 100),
                msgs_per_sec);
  return bar + tail;
}

}  // namespace mq::ctl
