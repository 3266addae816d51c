// BrokerMetrics and the scrape-time collectors.
#include "broker/broker_metrics.h"

#include <prometheus/metric_family.h>

#include <algorithm>
#include <chrono>
#include <set>

#include "broker/authorizer.h"
#include "broker/cluster_member.h"
#include "broker/cluster_view.h"
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
      duplicates_(prometheus::BuildCounter()
                      .Name("mq_produce_duplicates_total")
                      .Help("Records producers sent that were not appended: their message id "
                            "was in the partition's de-duplication window, by topic.")
                      .Register(*registry_)),
      filter_scanned_bytes_(prometheus::BuildCounter()
                                .Name("mq_fetch_filter_scanned_bytes_total")
                                .Help("Log bytes filtered fetches looked at (tags, property "
                                      "filters) to find the records they return.")
                                .Register(*registry_)
                                .Add({})),
      filter_skipped_batches_(prometheus::BuildCounter()
                                  .Name("mq_fetch_filter_skipped_batches_total")
                                  .Help("Batches filtered fetches passed over on their tag "
                                        "summary alone, without decoding their records.")
                                  .Register(*registry_)
                                  .Add({})),
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
                               .Add({})),
      delayed_delivered_(prometheus::BuildCounter()
                             .Name("mq_delayed_delivered_total")
                             .Help("Delayed messages delivered (their copies appended), by topic.")
                             .Register(*registry_)),
      delayed_cancelled_(prometheus::BuildCounter()
                             .Name("mq_delayed_cancelled_total")
                             .Help("Delayed messages cancelled before their time, by topic.")
                             .Register(*registry_)),
      delayed_lateness_(prometheus::BuildHistogram()
                            .Name("mq_delayed_lateness_seconds")
                            .Help("How long after its delivery time each delayed message was "
                                  "appended to its partition.")
                            .Register(*registry_)
                            .Add({}, latency_buckets())),
      queue_delivered_(prometheus::BuildCounter()
                           .Name("mq_queue_delivered_total")
                           .Help("Messages handed out to queue groups' consumers, by topic.")
                           .Register(*registry_)),
      queue_redelivered_(prometheus::BuildCounter()
                             .Name("mq_queue_redelivered_total")
                             .Help("Messages handed out to a queue group again (a delivery after "
                                   "a nack or an invisible time that passed), by topic.")
                             .Register(*registry_)),
      queue_acked_(prometheus::BuildCounter()
                       .Name("mq_queue_acked_total")
                       .Help("Messages queue groups' consumers acknowledged, by topic.")
                       .Register(*registry_)),
      queue_nacked_(prometheus::BuildCounter()
                        .Name("mq_queue_nacked_total")
                        .Help("Messages queue groups' consumers gave back (nack), by topic.")
                        .Register(*registry_)),
      queue_held_(prometheus::BuildCounter()
                      .Name("mq_queue_held_total")
                      .Help("Messages held after queue.max.deliveries deliveries, by topic.")
                      .Register(*registry_)),
      queue_dead_lettered_(
          prometheus::BuildCounter()
              .Name("mq_queue_dead_lettered_total")
              .Help("Messages moved to their queue group's dead-letter topic, by the topic "
                    "they came from.")
              .Register(*registry_)),
      queue_redriven_(prometheus::BuildCounter()
                          .Name("mq_queue_redriven_total")
                          .Help("Messages put back to their queue group (mqctl dlq redrive), by "
                                "topic.")
                          .Register(*registry_)),
      queue_ack_latency_(prometheus::BuildHistogram()
                             .Name("mq_queue_ack_latency_seconds")
                             .Help("From a message's hand-out to its acknowledgement.")
                             .Register(*registry_)
                             .Add({}, latency_buckets())) {}

void BrokerMetrics::add_queue_delivered(const std::string& topic, uint64_t messages,
                                        uint64_t redelivered) {
  if (messages > 0)
    queue_delivered_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
  if (redelivered > 0) {
    queue_redelivered_.Add({{"topic", topic}}).Increment(static_cast<double>(redelivered));
  }
}

void BrokerMetrics::add_queue_settled(const std::string& topic, uint64_t acked, uint64_t nacked) {
  if (acked > 0) queue_acked_.Add({{"topic", topic}}).Increment(static_cast<double>(acked));
  if (nacked > 0) queue_nacked_.Add({{"topic", topic}}).Increment(static_cast<double>(nacked));
}

void BrokerMetrics::add_queue_held(const std::string& topic, uint64_t messages) {
  queue_held_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::add_queue_dead_lettered(const std::string& topic, uint64_t messages) {
  queue_dead_lettered_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::add_queue_redriven(const std::string& topic, uint64_t messages) {
  queue_redriven_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::observe_queue_ack_latency(double seconds) {
  queue_ack_latency_.Observe(seconds);
}

void BrokerMetrics::add_delayed_delivered(const std::string& topic, uint64_t messages) {
  delayed_delivered_.Add({{"topic", topic}}).Increment(static_cast<double>(messages));
}

void BrokerMetrics::add_delayed_cancelled(const std::string& topic) {
  delayed_cancelled_.Add({{"topic", topic}}).Increment();
}

void BrokerMetrics::observe_delayed_lateness(double seconds) {
  delayed_lateness_.Observe(seconds);
}

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

void BrokerMetrics::add_duplicates(const std::string& topic, uint64_t records) {
  duplicates_.Add({{"topic", topic}}).Increment(static_cast<double>(records));
}

void BrokerMetrics::add_filtered(uint64_t scanned_bytes, uint64_t skipped_batches) {
  filter_scanned_bytes_.Increment(static_cast<double>(scanned_bytes));
  filter_skipped_batches_.Increment(static_cast<double>(skipped_batches));
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
  prometheus::MetricFamily delayed =
      family("mq_delayed_pending",
             "Delayed messages waiting for their time, per partition led by this broker.");
  prometheus::MetricFamily in_flight =
      family("mq_queue_in_flight",
             "Messages handed out to a queue group and not settled, still invisible, per "
             "partition led by this broker.");
  prometheus::MetricFamily waiting =
      family("mq_queue_waiting",
             "A queue group's unfinished messages waiting for their retry time or for an "
             "earlier message of their key, per partition led by this broker.");
  prometheus::MetricFamily held = family("mq_queue_held",
                                         "A queue group's messages held after queue.max.deliveries "
                                         "deliveries, per partition led by this broker.");
  prometheus::MetricFamily backlog =
      family("mq_queue_backlog",
             "Committed offsets a queue group has not reached yet, per "
             "partition led by this broker.");
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (const auto& p : replicas_.partitions()) {
    std::vector<prometheus::ClientMetric::Label> labels = {
        {"topic", p->topic()}, {"partition", std::to_string(p->index())}};
    if (p->is_leader()) {
      const int64_t hw = p->high_watermark();
      const int64_t start = p->log().log_start_offset();
      p->log().read_queue_state([&](const QueueState& state) {
        for (const auto& [id, g] : state.groups()) {
          QueueState::Group::Counts c = g.counts(now_ms);
          auto group_labels = labels;
          group_labels.push_back({"group", id});
          auto put = [&](prometheus::MetricFamily& f, double v) {
            prometheus::ClientMetric m;
            m.label = group_labels;
            m.gauge.value = v;
            f.metric.push_back(std::move(m));
          };
          put(in_flight, static_cast<double>(c.in_flight));
          put(waiting, static_cast<double>(c.waiting));
          put(held, static_cast<double>(c.held));
          put(backlog, static_cast<double>(std::max<int64_t>(0, hw - std::max(g.next, start))));
        }
      });
    }
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
    if (p->is_leader()) add(delayed, static_cast<double>(p->log().scheduled_count()));
  }
  return {start, end, hw, size, segments, delayed, in_flight, waiting, held, backlog};
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

namespace {
// A family of one unlabelled series.
prometheus::MetricFamily single_series(const char* name, const char* help,
                                       prometheus::MetricType type, double v) {
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
}
}  // namespace

std::vector<prometheus::MetricFamily> SecurityCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> families = {
      single_series("mq_principals", "Keys in the principals file in force.", MetricType::Gauge,
                    static_cast<double>(principals_->size())),
      single_series("mq_principals_file_error",
                    "1 while the principals file failed to load at the last SIGHUP (the "
                    "principals loaded before stay in force).",
                    MetricType::Gauge, principals_->reload_failed() ? 1 : 0),
      single_series("mq_authentication_failures_total",
                    "CURVE handshakes and requests refused because their key is not in the "
                    "principals file.",
                    MetricType::Counter, static_cast<double>(principals_->rejected()))};
  if (authorizer_ != nullptr) {
    std::shared_ptr<const metadata::MetadataImage> image = cluster_.image();
    families.push_back(single_series("mq_acls", "ACL bindings stored in the cluster metadata.",
                                     MetricType::Gauge,
                                     image ? static_cast<double>(image->acls().size()) : 0));
    families.push_back(
        single_series("mq_authorization_denials_total",
                      "Requests (or topics, groups within one) the ACLs denied to their principal.",
                      MetricType::Counter, static_cast<double>(authorizer_->denials())));
  }
  return families;
}

std::vector<prometheus::MetricFamily> StorageCollector::Collect() const {
  auto one = single_series;
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

ClusterCollector::ClusterCollector(ClusterMetricsSource source) : source_(std::move(source)) {}

ClusterCollector::ClusterCollector(const ClusterMember& member, const ReplicaManager& replicas,
                                   std::function<std::vector<FollowerPartitionStatus>()> followers)
    : ClusterCollector(
          ClusterMetricsSource{.broker_id = member.broker_id(),
                               .quorum_status = [&member] { return member.quorum_status(); },
                               .image = [&member] { return member.image(); },
                               .fenced = [&member] { return member.fenced(); },
                               .partitions = [&replicas] { return replicas.partitions(); },
                               .followers = std::move(followers)}) {}

ClusterCollector::IsrCounts ClusterCollector::isr_counts_locked(
    const std::vector<std::shared_ptr<Partition>>& partitions) const {
  std::set<std::weak_ptr<Partition>, std::owner_less<>> current(partitions.begin(),
                                                                partitions.end());
  for (auto it = isr_seen_.begin(); it != isr_seen_.end();) {
    if (current.count(it->first) > 0) {
      ++it;
      continue;
    }
    // Gone from this broker (moved away, topic deleted): its counts stay in the totals.
    isr_retired_.shrinks += it->second.shrinks;
    isr_retired_.expands += it->second.expands;
    it = isr_seen_.erase(it);
  }
  IsrCounts total = isr_retired_;
  for (const auto& p : partitions) {
    IsrCounts now{p->isr_shrinks(), p->isr_expands()};
    isr_seen_[p] = now;
    total.shrinks += now.shrinks;
    total.expands += now.expands;
  }
  return total;
}

uint64_t ClusterCollector::elections_locked(const metadata::MetadataImage& image) const {
  // Until this broker is first unfenced its image may still be replaying the
  // log: every scrape takes the epochs as they are as the starting point.
  bool baseline = !epochs_baselined_;
  if (baseline && !source_.fenced()) epochs_baselined_ = true;
  std::set<std::pair<metadata::TopicId, int32_t>> current;
  for (const auto& [name, topic] : image.topics()) {
    for (size_t i = 0; i < topic.partitions.size(); i++) {
      std::pair<metadata::TopicId, int32_t> key{topic.topic_id, static_cast<int32_t>(i)};
      int32_t epoch = topic.partitions[i].leader_epoch;
      current.insert(key);
      auto it = epochs_.find(key);
      if (it == epochs_.end()) {
        // Seen for the first time: at the baseline its elections so far are
        // history; later it is a new partition, whose epochs start at 0.
        epochs_.emplace(key, std::pair<int32_t, int32_t>{baseline ? epoch : 0, epoch});
      } else {
        if (baseline) it->second.first = epoch;
        it->second.second = std::max(it->second.second, epoch);
      }
    }
  }
  for (auto it = epochs_.begin(); it != epochs_.end();) {
    if (current.count(it->first) > 0) {
      ++it;
      continue;
    }
    elections_retired_ += static_cast<uint64_t>(it->second.second - it->second.first);
    it = epochs_.erase(it);
  }
  uint64_t total = elections_retired_;
  for (const auto& [key, epochs] : epochs_) {
    total += static_cast<uint64_t>(epochs.second - epochs.first);
  }
  return total;
}

std::vector<prometheus::MetricFamily> ClusterCollector::Collect() const {
  using prometheus::MetricType;
  using Labels = std::vector<prometheus::ClientMetric::Label>;
  auto family = [](const char* name, const char* help, MetricType type) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
  };
  auto add = [](prometheus::MetricFamily& f, Labels labels, double v) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    if (f.type == MetricType::Counter) {
      m.counter.value = v;
    } else {
      m.gauge.value = v;
    }
    f.metric.push_back(std::move(m));
  };
  auto d = [](auto v) { return static_cast<double>(v); };

  quorum::QuorumStatus q = source_.quorum_status();
  std::shared_ptr<const metadata::MetadataImage> image = source_.image();
  if (!image) image = std::make_shared<const metadata::MetadataImage>();
  bool fenced = source_.fenced();
  std::vector<std::shared_ptr<Partition>> partitions = source_.partitions();
  std::vector<FollowerPartitionStatus> followers = source_.followers();

  // The quorum.
  auto active = family("mq_cluster_active_controller",
                       "1 on the broker that is the active controller (the quorum leader).",
                       MetricType::Gauge);
  add(active, {}, q.am_controller ? 1 : 0);
  auto role = family("mq_quorum_role", "1 for this member's current Raft role, 0 for the others.",
                     MetricType::Gauge);
  for (raft::Role r : {raft::Role::kFollower, raft::Role::kPreCandidate, raft::Role::kCandidate,
                       raft::Role::kLeader}) {
    add(role, {{"role", std::string(raft::role_name(r))}}, q.running && q.role == r ? 1 : 0);
  }
  auto voter = family("mq_quorum_voter", "1 if this member is a voter, 0 for an observer.",
                      MetricType::Gauge);
  add(voter, {}, q.voter ? 1 : 0);
  auto term = family("mq_quorum_term", "The current Raft term.", MetricType::Gauge);
  add(term, {}, d(q.term));
  auto leader = family("mq_quorum_leader",
                       "Node id of the quorum leader as this member knows it, -1 if none.",
                       MetricType::Gauge);
  add(leader, {}, d(q.leader));
  auto commit = family("mq_quorum_commit_index", "Highest metadata log index known committed.",
                       MetricType::Gauge);
  add(commit, {}, d(q.commit_index));
  auto applied =
      family("mq_quorum_applied_index",
             "Highest metadata log index applied to this broker's image.", MetricType::Gauge);
  add(applied, {}, d(q.applied_index));
  auto voter_lag = family("mq_quorum_voter_lag",
                          "On the quorum leader: entries each voter is behind the leader's log.",
                          MetricType::Gauge);
  for (const quorum::MemberProgress& m : q.members) {
    if (m.voter) add(voter_lag, {{"voter", std::to_string(m.id)}}, d(m.lag));
  }
  auto dropped =
      family("mq_quorum_messages_dropped_total",
             "Raft messages not sent: peer unreachable or its queue full.", MetricType::Counter);
  add(dropped, {}, d(q.counters.messages_dropped));
  auto rejected =
      family("mq_quorum_frames_rejected_total",
             "Quorum frames dropped: malformed, or from an unknown member.", MetricType::Counter);
  add(rejected, {}, d(q.counters.frames_rejected));

  // This broker and the brokers of the image.
  auto fenced_f = family("mq_broker_fenced",
                         "1 while this broker is fenced (not registered, or not caught up "
                         "with the metadata, or missed heartbeats).",
                         MetricType::Gauge);
  add(fenced_f, {}, fenced ? 1 : 0);
  auto brokers = family("mq_cluster_brokers", "Registered brokers in the metadata, by state.",
                        MetricType::Gauge);
  int alive = 0;
  int fenced_brokers = 0;
  for (const auto& [id, b] : image->brokers()) (b.fenced ? fenced_brokers : alive)++;
  add(brokers, {{"state", "alive"}}, alive);
  add(brokers, {{"state", "fenced"}}, fenced_brokers);

  // Partitions this broker leads.
  auto leading = family("mq_partitions_leader", "Partitions this broker leads.", MetricType::Gauge);
  auto under_replicated =
      family("mq_partitions_under_replicated",
             "Partitions this broker leads whose ISR is smaller than their replica set.",
             MetricType::Gauge);
  auto under_min_isr =
      family("mq_partitions_under_min_isr",
             "Partitions this broker leads whose ISR is smaller than min.insync.replicas.",
             MetricType::Gauge);
  int n_leading = 0;
  int n_under_replicated = 0;
  int n_under_min_isr = 0;
  for (const auto& p : partitions) {
    // A replica opened but not yet given a role is the single-node default
    // leader (leader id -1): not counted.
    if (!p->is_leader() || p->leader_id() != source_.broker_id || p->leader_id() < 0) continue;
    n_leading++;
    size_t isr = p->isr().size();
    if (isr < p->replicas().size()) n_under_replicated++;
    if (static_cast<int64_t>(isr) < p->min_insync_replicas()) n_under_min_isr++;
  }
  add(leading, {}, n_leading);
  add(under_replicated, {}, n_under_replicated);
  add(under_min_isr, {}, n_under_min_isr);

  // Each follower of the partitions this broker leads, as the leader sees it.
  auto replica_lag = family("mq_replica_lag_messages",
                            "On the leader: offsets a follower replica is behind the leader's "
                            "log end, from the position of its last fetch.",
                            MetricType::Gauge);
  auto replica_lag_bytes = family("mq_replica_lag_bytes",
                                  "On the leader: bytes of the leader's log past a follower "
                                  "replica's position at its last fetch (what it has to copy).",
                                  MetricType::Gauge);
  for (const auto& p : partitions) {
    if (!p->is_leader() || p->leader_id() != source_.broker_id || p->leader_id() < 0) continue;
    int64_t end = p->log().log_end_offset();
    for (const FollowerProgress& f : p->followers()) {
      if (f.log_end_offset < 0) continue;  // not fetched yet in this leader epoch
      Labels labels = {{"topic", p->topic()},
                       {"partition", std::to_string(p->index())},
                       {"replica", std::to_string(f.broker_id)}};
      add(replica_lag, labels, d(std::max<int64_t>(0, end - f.log_end_offset)));
      Result<uint64_t> bytes = p->log().bytes_from(f.log_end_offset);
      if (bytes.is_ok()) add(replica_lag_bytes, labels, d(*bytes));
    }
  }
  auto offline = family("mq_partitions_offline",
                        "Exported by the active controller only: partitions of the cluster "
                        "without a leader.",
                        MetricType::Gauge);
  if (q.am_controller) {
    int n_offline = 0;
    for (const auto& [name, topic] : image->topics()) {
      for (const metadata::PartitionState& p : topic.partitions) {
        if (p.leader == metadata::kNoLeader) n_offline++;
      }
    }
    add(offline, {}, n_offline);
  }

  auto shrinks =
      family("mq_isr_shrinks_total",
             "Committed ISR changes removing a replica, on partitions this broker was leading.",
             MetricType::Counter);
  auto expands =
      family("mq_isr_expands_total",
             "Committed ISR changes adding a replica, on partitions this broker was leading.",
             MetricType::Counter);
  auto elections = family("mq_leader_elections_total",
                          "Partition leader epoch increases this broker saw in the metadata.",
                          MetricType::Counter);
  {
    std::lock_guard lock(mu_);
    IsrCounts isr = isr_counts_locked(partitions);
    add(shrinks, {}, d(isr.shrinks));
    add(expands, {}, d(isr.expands));
    add(elections, {}, d(elections_locked(*image)));
  }

  // Partitions this broker follows.
  auto lag = family("mq_follower_lag_messages",
                    "Offsets this follower is behind the leader's log end, as of its last fetch.",
                    MetricType::Gauge);
  auto fetched = family("mq_follower_fetched_bytes_total",
                        "Record bytes this follower appended from the leader since it "
                        "started following it.",
                        MetricType::Counter);
  for (const FollowerPartitionStatus& f : followers) {
    Labels labels = {{"topic", f.topic}, {"partition", std::to_string(f.partition)}};
    add(lag, labels, d(f.lag_messages));
    add(fetched, labels, d(f.bytes_fetched));
  }

  return {
      active,  role,     voter,     term,    leader,  commit,           applied,          voter_lag,
      dropped, rejected, fenced_f,  brokers, leading, under_replicated, under_min_isr,    offline,
      shrinks, expands,  elections, lag,     fetched, replica_lag,      replica_lag_bytes};
}

}  // namespace mq::broker
