#include "tests/faults/workload.h"

#include <chrono>
#include <map>
#include <random>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "transport/list_offsets.h"

namespace mq::faults {
namespace {

using Clock = std::chrono::steady_clock;
using client::TopicPartition;

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

Workload::Workload(WorkloadOptions options, History& history)
    : options_(std::move(options)), history_(history) {}

Workload::~Workload() {
  stop();
}

Status Workload::create_topic() {
  client::AdminConfig config;
  config.bootstrap_servers = options_.bootstrap;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<client::Admin> admin, client::Admin::create(config));
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  // Until every broker has registered, a replication factor of three is
  // more than the live brokers: asked again.
  for (bool created = false; !created;) {
    MQ_ASSIGN_OR_RETURN(
        std::vector<client::ItemResult> items,
        admin->create_topics({{.name = options_.topic, .num_partitions = options_.partitions}}));
    created = true;
    for (const client::ItemResult& item : items) {
      if (item.status.is_ok() || item.status.code() == ErrorCode::kTopicAlreadyExists) continue;
      if (item.status.code() != ErrorCode::kInvalidReplicationFactor || Clock::now() > deadline) {
        return item.status;
      }
      created = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  while (Clock::now() < deadline) {
    Result<client::ClusterMetadata> metadata = admin->describe_cluster({{options_.topic}});
    if (metadata.is_ok()) {
      const client::TopicInfo* topic = metadata->topic(options_.topic);
      bool led = topic != nullptr && topic->error == ErrorCode::kNone &&
                 static_cast<int32_t>(topic->partitions.size()) == options_.partitions;
      for (size_t p = 0; led && p < topic->partitions.size(); ++p) {
        led = topic->partitions[p].leader_id >= 0;
      }
      if (led) return Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status(ErrorCode::kRequestTimedOut,
                "topic " + options_.topic + " has no leader for every partition after 30 s");
}

void Workload::start() {
  for (int i = 1; i <= options_.producers; ++i) threads_.emplace_back([this, i] { produce(i); });
  for (int i = 1; i <= options_.consumers; ++i) threads_.emplace_back([this, i] { consume(i); });
}

void Workload::stop() {
  stopping_ = true;
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Workload::produce(int index) {
  const std::string process = "producer-" + std::to_string(index);
  client::ProducerConfig config;
  config.bootstrap_servers = options_.bootstrap;
  config.client_id = process;
  config.acks = -1;
  config.enable_idempotence = true;
  config.request_timeout_ms = 5'000;
  config.delivery_timeout_ms = 30'000;
  Result<std::unique_ptr<client::Producer>> made = client::Producer::create(config);
  if (!made.is_ok()) {
    history_.add({.process = process,
                  .type = OpType::kInfo,
                  .fn = OpFn::kSend,
                  .error = "no producer: " + made.status().to_string()});
    return;
  }
  std::unique_ptr<client::Producer> producer = std::move(made).value();
  const auto start = Clock::now();
  uint64_t sent = 0;
  while (!stopping_) {
    // Paced: the sends due by now, at most 20 at a time.
    const uint64_t due = static_cast<uint64_t>(ms_since(start)) *
                         static_cast<uint64_t>(options_.sends_per_second) / 1000;
    for (int burst = 0; sent < due && burst < 20 && !stopping_; ++burst, ++sent) {
      std::string value = process + "-" + std::to_string(sent);
      history_.add(
          {.process = process, .type = OpType::kInvoke, .fn = OpFn::kSend, .value = value});
      client::ProducerRecord record{.topic = options_.topic, .key = value, .value = value};
      Status queued = producer->send(
          std::move(record), [this, process, value](const Result<client::RecordMetadata>& result) {
            if (result.is_ok()) {
              acknowledged_++;
              history_.add({.process = process,
                            .type = OpType::kOk,
                            .fn = OpFn::kSend,
                            .value = value,
                            .partition = result->partition,
                            .offset = result->offset});
            } else {
              // A failed send may still be stored (a timeout after the
              // leader appended it): its outcome is unknown.
              history_.add({.process = process,
                            .type = OpType::kInfo,
                            .fn = OpFn::kSend,
                            .value = value,
                            .error = result.status().to_string()});
            }
          });
      if (!queued.is_ok()) {
        history_.add({.process = process,
                      .type = OpType::kFail,
                      .fn = OpFn::kSend,
                      .value = value,
                      .error = queued.to_string()});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Every outstanding send gets its outcome (acknowledged or timed out).
  (void)producer->flush(config.delivery_timeout_ms + 10'000);
  (void)producer->close(5'000);
}

void Workload::consume(int index) {
  const std::string process = "consumer-" + std::to_string(index);
  std::mt19937_64 rng(options_.seed * 1000 + static_cast<uint64_t>(index));
  std::exponential_distribution<double> rejoin_after(1.0 / options_.rejoin_every_ms);
  while (!stopping_) {
    client::ConsumerConfig config;
    config.bootstrap_servers = options_.bootstrap;
    config.client_id = process;
    config.group_id = "faults";
    config.auto_offset_reset = client::OffsetReset::kEarliest;
    config.enable_auto_commit = false;
    config.session_timeout_ms = 6'000;
    config.heartbeat_interval_ms = 1'000;
    config.request_timeout_ms = 5'000;
    config.fetch_max_wait_ms = 200;
    Result<std::unique_ptr<client::Consumer>> made = client::Consumer::create(config);
    if (!made.is_ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    std::unique_ptr<client::Consumer> consumer = std::move(made).value();
    // Next offset to read of each partition read in this assignment.
    std::map<int32_t, int64_t> next;
    auto commit = [&](const std::map<int32_t, int64_t>& offsets) {
      if (offsets.empty()) return;
      std::map<TopicPartition, int64_t> request;
      for (const auto& [p, o] : offsets) request[{options_.topic, p}] = o;
      history_.add(
          {.process = process, .type = OpType::kInvoke, .fn = OpFn::kCommit, .offsets = offsets});
      Status committed = consumer->commit_sync(request);
      history_.add({.process = process,
                    .type = committed.is_ok() ? OpType::kOk : OpType::kFail,
                    .fn = OpFn::kCommit,
                    .offsets = offsets,
                    .error = committed.is_ok() ? "" : committed.to_string()});
    };
    auto partitions_of = [](const std::vector<TopicPartition>& tps) {
      std::vector<int32_t> out;
      for (const TopicPartition& tp : tps) out.push_back(tp.partition);
      return out;
    };
    client::RebalanceCallbacks callbacks;
    callbacks.on_revoked = [&](const std::vector<TopicPartition>& tps) {
      commit(next);
      next.clear();
      history_.add({.process = process,
                    .type = OpType::kOk,
                    .fn = OpFn::kRevoke,
                    .partitions = partitions_of(tps)});
    };
    callbacks.on_assigned = [&](const std::vector<TopicPartition>& tps) {
      next.clear();
      history_.add({.process = process,
                    .type = OpType::kOk,
                    .fn = OpFn::kAssign,
                    .partitions = partitions_of(tps)});
    };
    if (Status subscribed = consumer->subscribe({options_.topic}, callbacks); !subscribed.is_ok()) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    const auto member_until =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(rejoin_after(rng)));
    auto last_commit = Clock::now();
    while (!stopping_ && Clock::now() < member_until) {
      Result<std::vector<client::ConsumerRecord>> polled = consumer->poll(200);
      if (!polled.is_ok()) {
        history_.add({.process = process,
                      .type = OpType::kFail,
                      .fn = OpFn::kPoll,
                      .error = polled.status().to_string()});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (!polled->empty()) {
        Op op{.process = process, .type = OpType::kOk, .fn = OpFn::kPoll};
        for (const client::ConsumerRecord& r : *polled) {
          op.reads.push_back({r.partition, r.offset, r.value.value_or("")});
          next[r.partition] = r.offset + 1;
        }
        history_.add(std::move(op));
      }
      if (Clock::now() - last_commit > std::chrono::seconds(1)) {
        commit(next);
        last_commit = Clock::now();
      }
    }
    // Leaving (on_revoked commits what was read): the others rebalance.
    (void)consumer->close();
  }
}

Status Workload::final_read(int timeout_ms) {
  client::AdminConfig admin_config;
  admin_config.bootstrap_servers = options_.bootstrap;
  admin_config.default_api_timeout_ms = timeout_ms;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<client::Admin> admin, client::Admin::create(admin_config));
  std::vector<TopicPartition> partitions;
  std::map<TopicPartition, int64_t> latest;
  for (int32_t p = 0; p < options_.partitions; ++p) {
    partitions.push_back({options_.topic, p});
    latest[partitions.back()] = transport::kLatestTimestamp;
  }
  MQ_ASSIGN_OR_RETURN(auto ends, admin->list_offsets(latest));

  client::ConsumerConfig config;
  config.bootstrap_servers = options_.bootstrap;
  config.client_id = "final";
  config.auto_offset_reset = client::OffsetReset::kEarliest;
  config.request_timeout_ms = 5'000;
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<client::Consumer> consumer, client::Consumer::create(config));
  MQ_RETURN_IF_ERROR(consumer->assign(partitions));
  MQ_RETURN_IF_ERROR(consumer->seek_to_beginning(partitions));
  std::map<int32_t, std::vector<Read>> reads;
  std::map<int32_t, int64_t> next;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto done = [&] {
    for (const auto& [tp, end] : ends) {
      if (next[tp.partition] < end.offset) return false;
    }
    return true;
  };
  while (!done()) {
    if (Clock::now() > deadline) {
      std::string where;
      for (const auto& [tp, end] : ends) {
        where += " p" + std::to_string(tp.partition) + " at " + std::to_string(next[tp.partition]) +
                 " of " + std::to_string(end.offset);
      }
      return Status(ErrorCode::kRequestTimedOut, "the final read did not finish:" + where);
    }
    Result<std::vector<client::ConsumerRecord>> polled = consumer->poll(500);
    if (!polled.is_ok()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    for (const client::ConsumerRecord& r : *polled) {
      // Past the end taken before the read, or again after a position reset.
      if (r.offset >= ends[{options_.topic, r.partition}].offset || r.offset < next[r.partition]) {
        continue;
      }
      reads[r.partition].push_back({r.partition, r.offset, r.value.value_or("")});
      next[r.partition] = r.offset + 1;
    }
  }
  Op op{.process = "final", .type = OpType::kOk, .fn = OpFn::kFinalRead};
  for (auto& [p, list] : reads) op.reads.insert(op.reads.end(), list.begin(), list.end());
  history_.add(std::move(op));
  return Status::ok();
}

}  // namespace mq::faults
