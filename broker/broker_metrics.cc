// BrokerMetrics and PartitionCollector.
#include "broker/broker_metrics.h"

#include <prometheus/metric_family.h>

#include "broker/replica_manager.h"

namespace mq::broker {
namespace {

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
          0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

}  // namespace

BrokerMetrics::BrokerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("mq_requests_total")
                    .Help("Requests handled, by api and error code (NONE when it succeeded).")
                    .Register(*registry_)),
      request_seconds_(prometheus::BuildHistogram()
                           .Name("mq_request_duration_seconds")
                           .Help("Time from receiving a request to its response being queued.")
                           .Register(*registry_)),
      bytes_in_(prometheus::BuildCounter()
                    .Name("mq_produced_bytes_total")
                    .Help("Record batch bytes appended by producers, by topic.")
                    .Register(*registry_)),
      bytes_out_(prometheus::BuildCounter()
                     .Name("mq_fetched_bytes_total")
                     .Help("Record batch bytes sent to consumers, by topic.")
                     .Register(*registry_)),
      messages_in_(prometheus::BuildCounter()
                       .Name("mq_produced_messages_total")
                       .Help("Records appended by producers, by topic.")
                       .Register(*registry_)),
      messages_out_(prometheus::BuildCounter()
                        .Name("mq_fetched_messages_total")
                        .Help("Records sent to consumers, by topic (whole batches).")
                        .Register(*registry_)),
      fsync_seconds_(prometheus::BuildHistogram()
                         .Name("mq_log_fsync_duration_seconds")
                         .Help("Duration of each data fsync of a partition log.")
                         .Register(*registry_)
                         .Add({}, latency_buckets())),
      rejected_(prometheus::BuildCounter()
                    .Name("mq_requests_rejected_total")
                    .Help("Requests answered with an error before reaching a handler: "
                          "unreadable header, unknown api or version, too large.")
                    .Register(*registry_)
                    .Add({})),
      connections_(prometheus::BuildGauge()
                       .Name("mq_connections")
                       .Help("Client connections open now.")
                       .Register(*registry_)
                       .Add({})),
      connections_accepted_(prometheus::BuildCounter()
                                .Name("mq_connections_accepted_total")
                                .Help("Client connections accepted.")
                                .Register(*registry_)
                                .Add({})),
      connections_refused_(prometheus::BuildCounter()
                               .Name("mq_connections_refused_total")
                               .Help("Client connections closed at once because "
                                     "limits.max_connections were open.")
                               .Register(*registry_)
                               .Add({})) {}

void BrokerMetrics::observe_request(std::string_view api, ErrorCode error, double seconds) {
  requests_.Add({{"api", std::string(api)}, {"error", std::string(error_name(error))}}).Increment();
  request_seconds_.Add({{"api", std::string(api)}}, latency_buckets()).Observe(seconds);
}

void BrokerMetrics::add_produced(const std::string& topic, uint64_t bytes, uint64_t messages) {
  bytes_in_.Add({{"topic", topic}}).Increment(static_cast<double>(bytes));
  messages_in_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::add_fetched(const std::string& topic, uint64_t bytes, uint64_t messages) {
  bytes_out_.Add({{"topic", topic}}).Increment(static_cast<double>(bytes));
  messages_out_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::observe_fsync(double seconds) {
  fsync_seconds_.Observe(seconds);
}

void BrokerMetrics::add_rejected_requests(uint64_t count) {
  rejected_.Increment(static_cast<double>(count));
}

void BrokerMetrics::update_connections(int64_t open, uint64_t accepted, uint64_t refused) {
  connections_.Set(static_cast<double>(open));
  connections_accepted_.Increment(static_cast<double>(accepted));
  connections_refused_.Increment(static_cast<double>(refused));
}

std::vector<prometheus::MetricFamily> PartitionCollector::Collect() const {
  auto family = [](const char* name, const char* help) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = prometheus::MetricType::Gauge;
    return f;
  };
  prometheus::MetricFamily start = family("mq_partition_log_start_offset", "First offset served.");
  prometheus::MetricFamily end =
      family("mq_partition_log_end_offset", "Offset the next record gets.");
  prometheus::MetricFamily hw = family("mq_partition_high_watermark",
                                       "Offsets below it are committed and readable by consumers.");
  prometheus::MetricFamily size =
      family("mq_partition_size_bytes", "Bytes of the partition's segments.");
  prometheus::MetricFamily segments =
      family("mq_partition_segments", "Segment files of the partition.");
  for (const auto& p : replicas_.partitions()) {
    std::vector<prometheus::ClientMetric::Label> labels = {
        {"topic", p->topic()}, {"partition", std::to_string(p->index())}};
    auto add = [&](prometheus::MetricFamily& f, double v) {
      prometheus::ClientMetric m;
      m.label = labels;
      m.gauge.value = v;
      f.metric.push_back(std::move(m));
    };
    add(start, static_cast<double>(p->log().log_start_offset()));
    add(end, static_cast<double>(p->log().log_end_offset()));
    add(hw, static_cast<double>(p->high_watermark()));
    add(size, static_cast<double>(p->log().size_bytes()));
    add(segments, static_cast<double>(p->log().segment_count()));
  }
  return {start, end, hw, size, segments};
}

std::vector<prometheus::MetricFamily> GroupCollector::Collect() const {
  auto family = [](const char* name, const char* help, prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
  };
  using prometheus::MetricType;
  auto members = family("mq_group_members", "Members of the group now.", MetricType::Gauge);
  auto state = family("mq_group_state", "1 for the group's current state.", MetricType::Gauge);
  auto rebalances = family("mq_group_rebalances_total", "Rebalances the group went through.",
                           MetricType::Counter);
  auto commits = family("mq_group_offset_commits_total", "OffsetCommit requests written.",
                        MetricType::Counter);
  auto lag = family("mq_group_lag",
                    "High watermark minus committed offset, per partition the group has "
                    "committed (member: broadcast groups, per member).",
                    MetricType::Gauge);
  auto total_lag = family("mq_group_total_lag", "mq_group_lag summed over the group's partitions.",
                          MetricType::Gauge);
  auto add = [](prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
                double v) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    if (f.type == prometheus::MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
  };
  // Offsets-only groups whose partitions are gone report no lag for them.
  constexpr int64_t kGone = -1;
  for (const group::GroupStats& g : coordinator_.stats()) {
    add(members, {{"group", g.group}}, g.members);
    add(state, {{"group", g.group}, {"state", g.state}}, 1);
    add(rebalances, {{"group", g.group}}, static_cast<double>(g.rebalances));
    add(commits, {{"group", g.group}}, static_cast<double>(g.commits));
    int64_t sum = 0;
    for (const auto& l : g.lags) {
      if (l.lag == kGone) continue;
      std::vector<prometheus::ClientMetric::Label> labels = {
          {"group", g.group}, {"topic", l.topic}, {"partition", std::to_string(l.partition)}};
      if (!l.member_key.empty()) labels.push_back({"member", l.member_key});
      add(lag, std::move(labels), static_cast<double>(l.lag));
      sum += l.lag;
    }
    add(total_lag, {{"group", g.group}}, static_cast<double>(sum));
  }
  return {members, state, rebalances, commits, lag, total_lag};
}

std::vector<prometheus::MetricFamily> StorageCollector::Collect() const {
  auto one = [](const char* name, const char* help, prometheus::MetricType type, double v) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
    return f;
  };
  using prometheus::MetricType;
  return {one("mq_storage_free_bytes", "Free bytes of the data directory's filesystem.",
              MetricType::Gauge, static_cast<double>(disk_.free_bytes())),
          one("mq_storage_total_bytes", "Size of the data directory's filesystem.",
              MetricType::Gauge, static_cast<double>(disk_.total_bytes())),
          one("mq_storage_full", "1 while produce is refused because the data directory is full.",
              MetricType::Gauge, disk_.full() ? 1 : 0),
          one("mq_storage_produce_refused_total", "Partition writes refused with DISK_FULL.",
              MetricType::Counter, static_cast<double>(disk_.refused()))};
}

}  // namespace mq::broker
