// The bench report: percentiles, JSON schema, progress bar.
#include "ctl/bench_report.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

TEST(BenchReport, NearestRankPercentiles) {
  std::vector<double> values;
  for (int i = 1; i <= 1000; ++i) values.push_back(i);
  EXPECT_EQ(percentile(values, 0.5), 500);
  EXPECT_EQ(percentile(values, 0.99), 990);
  EXPECT_EQ(percentile(values, 0.999), 999);
  EXPECT_EQ(percentile(values, 1.0), 1000);
  EXPECT_EQ(percentile({}, 0.5), 0);
  EXPECT_EQ(percentile({7}, 0.001), 7);
}

TEST(BenchReport, JsonHasTheDocumentedFields) {
  BenchResult result{
      .count = 4, .errors = 1, .bytes = 4'000'000, .seconds = 2.0, .latencies_ms = {4, 1, 3, 2}};
  auto doc = bench_json(result);
  EXPECT_EQ(doc["count"], 4);
  EXPECT_EQ(doc["errors"], 1);
  EXPECT_EQ(doc["msgs_per_sec"], 2.0);
  EXPECT_EQ(doc["mb_per_sec"], 2.0);
  EXPECT_EQ(doc["latency_ms"]["p50"], 2.0);
  EXPECT_EQ(doc["latency_ms"]["p99"], 4.0);
  EXPECT_EQ(doc["latency_ms"]["p999"], 4.0);
  EXPECT_EQ(doc["latency_ms"]["max"], 4.0);
  EXPECT_NE(bench_table(doc).find("latency_ms.p999"), std::string::npos);
}

TEST(BenchReport, ProgressBarFillsWithTheFraction) {
  EXPECT_EQ(progress_bar(0, 100, 0, 10), "[>         ]   0%  0 msg/s");
  EXPECT_EQ(progress_bar(50, 100, 1234.4, 10), "[=====>    ]  50%  1234 msg/s");
  EXPECT_EQ(progress_bar(100, 100, 10, 10), "[==========] 100%  10 msg/s");
}

}  // namespace
}  // namespace mq::ctl
