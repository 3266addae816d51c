// The broker's Prometheus metrics (names mq_*, base units, _total counters).
// docs/metrics.md describes each one and what to alert on.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "base/error_code.h"
#include "broker/disk_monitor.h"
#include "broker/partition.h"
#include "broker/replica_fetcher.h"
#include "group/coordinator.h"
#include "metadata/image.h"
#include "quorum/quorum_service.h"
#include "transport/principals.h"

namespace mq::broker {

class ClusterMember;
class ReplicaManager;

class BrokerMetrics {
 public:
  BrokerMetrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void observe_request(std::string_view api, ErrorCode error, double seconds);
  void add_produced(const std::string& topic, uint64_t bytes, uint64_t messages);
  void add_fetched(const std::string& topic, uint64_t bytes, uint64_t messages);
  // Records a produce left out: their message id was in the de-duplication window.
  void add_duplicates(const std::string& topic, uint64_t records);
  // A filtered fetch of one partition: log bytes looked at, batches passed
  // over on their tag summary without decoding.
  void add_filtered(uint64_t scanned_bytes, uint64_t skipped_batches);
  void observe_fsync(double seconds);
  // Delayed delivery: copies appended, cancels, and each copy's lateness.
  void add_delayed_delivered(const std::string& topic, uint64_t messages);
  void add_delayed_cancelled(const std::string& topic);
  void observe_delayed_lateness(double seconds);
  // Queue consumption: messages handed out (`redelivered` of them again),
  // acknowledged, given back, and held after their last delivery; the time
  // from hand-out to ack.
  void add_queue_delivered(const std::string& topic, uint64_t messages, uint64_t redelivered);
  void add_queue_settled(const std::string& topic, uint64_t acked, uint64_t nacked);
  void add_queue_held(const std::string& topic, uint64_t messages);
  void add_queue_dead_lettered(const std::string& topic, uint64_t messages);
  void add_queue_redriven(const std::string& topic, uint64_t messages);
  void observe_queue_ack_latency(double seconds);
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
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Counter& filter_scanned_bytes_;
  prometheus::Counter& filter_skipped_batches_;
  prometheus::Histogram& fsync_seconds_;
  prometheus::Counter& rejected_;
  prometheus::Gauge& connections_;
  prometheus::Counter& connections_accepted_;
  prometheus::Counter& connections_refused_;
  prometheus::Family<prometheus::Counter>& delayed_delivered_;
  prometheus::Family<prometheus::Counter>& delayed_cancelled_;
  prometheus::Histogram& delayed_lateness_;
  prometheus::Family<prometheus::Counter>& queue_delivered_;
  prometheus::Family<prometheus::Counter>& queue_redelivered_;
  prometheus::Family<prometheus::Counter>& queue_acked_;
  prometheus::Family<prometheus::Counter>& queue_nacked_;
  prometheus::Family<prometheus::Counter>& queue_held_;
  prometheus::Family<prometheus::Counter>& queue_dead_lettered_;
  prometheus::Family<prometheus::Counter>& queue_redriven_;
  prometheus::Histogram& queue_ack_latency_;
};

// Per-partition gauges read from the logs at scrape time:
// mq_partition_log_start_offset, mq_partition_log_end_offset, mq_delayed_pending,
// mq_queue_in_flight, mq_queue_waiting, mq_queue_held, mq_queue_backlog,
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

class Authorizer;
class ClusterView;

// Security figures read at scrape time: from the principals mq_principals,
// mq_principals_file_error, mq_authentication_failures_total; with
// authorization on, mq_acls and mq_authorization_denials_total.
class SecurityCollector : public prometheus::Collectable {
 public:
  // `authorizer` nullptr: authorization is off.
  SecurityCollector(std::shared_ptr<const transport::Principals> principals,
                    const Authorizer* authorizer, const ClusterView& cluster)
      : principals_(std::move(principals)), authorizer_(authorizer), cluster_(cluster) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::shared_ptr<const transport::Principals> principals_;
  const Authorizer* authorizer_;
  const ClusterView& cluster_;
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

// What ClusterCollector reads at scrape time; every function is called from
// the scraping thread and must be safe to call concurrently with the broker.
struct ClusterMetricsSource {
  int32_t broker_id = -1;
  std::function<quorum::QuorumStatus()> quorum_status;
  std::function<std::shared_ptr<const metadata::MetadataImage>()> image;
  std::function<bool()> fenced;
  std::function<std::vector<std::shared_ptr<Partition>>()> partitions;
  std::function<std::vector<FollowerPartitionStatus>()> followers;
};

// Cluster mode only: the metadata quorum, this broker's standing with the
// controller, replication health and follower progress, read at scrape time
// (docs/metrics.md, "Cluster, quorum and replication"):
// mq_cluster_active_controller, mq_quorum_role, mq_quorum_term,
// mq_quorum_leader, mq_quorum_commit_index, mq_quorum_applied_index,
// mq_quorum_voter_lag, mq_quorum_messages_dropped_total,
// mq_quorum_frames_rejected_total, mq_broker_fenced, mq_cluster_brokers,
// mq_partitions_leader, mq_partitions_under_replicated,
// mq_partitions_under_min_isr, mq_partitions_offline (active controller only),
// mq_isr_shrinks_total, mq_isr_expands_total, mq_leader_elections_total,
// mq_follower_lag_messages, mq_follower_fetched_bytes_total.
class ClusterCollector : public prometheus::Collectable {
 public:
  explicit ClusterCollector(ClusterMetricsSource source);
  // Reads `member` (quorum, image, fencing) and `replicas` (the local
  // partitions); `followers` gives the followed partitions' fetch status
  // (ClusterNode::follower_statuses). All must outlive the collector.
  ClusterCollector(const ClusterMember& member, const ReplicaManager& replicas,
                   std::function<std::vector<FollowerPartitionStatus>()> followers);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct IsrCounts {
    uint64_t shrinks = 0;
    uint64_t expands = 0;
  };
  // Sums the partitions' ISR counters, keeping those of partitions no longer
  // on this broker so the totals never go down. mu_ held.
  IsrCounts isr_counts_locked(const std::vector<std::shared_ptr<Partition>>& partitions) const;
  // Leader epoch increases since the first scrape (partitions created later
  // count from their epoch 0). mu_ held.
  uint64_t elections_locked(const metadata::MetadataImage& image) const;

  ClusterMetricsSource source_;
  mutable std::mutex mu_;
  mutable std::map<std::weak_ptr<Partition>, IsrCounts, std::owner_less<>> isr_seen_;
  mutable IsrCounts isr_retired_;
  // (topic id, partition) -> {leader epoch counted from, last leader epoch seen}.
  mutable std::map<std::pair<metadata::TopicId, int32_t>, std::pair<int32_t, int32_t>> epochs_;
  mutable uint64_t elections_retired_ = 0;
  mutable bool epochs_baselined_ = false;
};

}  // namespace mq::broker
