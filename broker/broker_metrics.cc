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

}  // namespace mq::broker
