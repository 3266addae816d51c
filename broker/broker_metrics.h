// The broker's Prometheus metrics (names mq_*, base units, _total counters).
// docs/metrics.md describes each one and what to alert on.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "base/error_code.h"
#include "broker/disk_monitor.h"
#include "group/coordinator.h"

namespace mq::broker {

class ReplicaManager;

class BrokerMetrics {
 public:
  BrokerMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void observe_request(std::string_view api, ErrorCode error, double seconds);
  void add_produced(const std::string& topic, uint64_t bytes, uint64_t messages);
  void add_fetched(const std::string& topic, uint64_t bytes, uint64_t messages);
  void observe_fsync(double seconds);
  // Requests the listener answered itself: unreadable header, unknown api or version, too large.
  void add_rejected_requests(uint64_t count);
  // Client connections open now, and accepted / refused since the last call.
  void update_connections(int64_t open, uint64_t accepted, uint64_t refused);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;
  prometheus::Family<prometheus::Counter>& bytes_in_;
  prometheus::Family<prometheus::Counter>& bytes_out_;
  prometheus::Family<prometheus::Counter>& messages_in_;
  prometheus::Family<prometheus::Counter>& messages_out_;
  prometheus::Histogram& fsync_seconds_;
  prometheus::Counter& rejected_;
  prometheus::Gauge& connections_;
  prometheus::Counter& connections_accepted_;
  prometheus::Counter& connections_refused_;
};

// Per-partition gauges read from the logs at scrape time:
// mq_partition_log_start_offset, mq_partition_log_end_offset,
// mq_partition_high_watermark, mq_partition_size_bytes, mq_partition_segments.
class PartitionCollector : public prometheus::Collectable {
 public:
  explicit PartitionCollector(const ReplicaManager& replicas) : replicas_(replicas) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const ReplicaManager& replicas_;
};

// The data directory's filesystem: mq_storage_free_bytes,
// mq_storage_total_bytes, mq_storage_full, mq_storage_produce_refused_total.
class StorageCollector : public prometheus::Collectable {
 public:
  explicit StorageCollector(const DiskMonitor& disk) : disk_(disk) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const DiskMonitor& disk_;
};

// Consumer group figures read from the coordinator at scrape time:
// mq_group_members, mq_group_state, mq_group_rebalances_total,
// mq_group_offset_commits_total, mq_group_lag, mq_group_total_lag.
class GroupCollector : public prometheus::Collectable {
 public:
  explicit GroupCollector(const group::GroupCoordinator& coordinator) : coordinator_(coordinator) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const group::GroupCoordinator& coordinator_;
};

}  // namespace mq::broker
