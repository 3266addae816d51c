// Process metrics in the names every Prometheus client library uses
// (process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds,
// ...), read from /proc/self at scrape time.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace mq::metrics {

class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double start_time_seconds_ = 0;
};

}  // namespace mq::metrics
