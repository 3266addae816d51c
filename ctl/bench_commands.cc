// mqctl bench produce|consume: load through the client library against a
// running cluster, with a progress bar on a terminal and a report of
// throughput and latency (see ctl/bench_report.h). Produce latency is send()
// to acknowledgement, measured on every 8th message; consume latency is the message's age when read
// (its end-to-end latency when a producer runs at the same time).
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "client/consumer.h"
#include "client/producer.h"
#include "ctl/arguments.h"
#include "ctl/bench_report.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/progress.h"

namespace mq::ctl {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchFlags {
  std::string topic;
  int64_t count = 100'000;
  int64_t size_bytes = 100;
  double rate = 0;  // messages/s over all producers; 0 = as fast as possible
  std::string acks = "1";
  int producers = 1;
  int threads = 1;  // sending threads per producer
  int consumers = 1;
  client::MessageFilter filter;  // bench consume --tags / --filter
  int32_t partitions = -1;
  std::string linger = "5ms";  // the producers' linger_ms
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The bar bench draws while it runs (ProgressLine: terminals only).
ProgressLine bench_progress(const Context& ctx, std::function<uint64_t()> done, uint64_t total) {
  return ProgressLine(ctx, [done = std::move(done), total, start = Clock::now()] {
    uint64_t n = done();
    return progress_bar(n, total, static_cast<double>(n) / seconds_since(start));
  });
}

// Per producer: written only by that producer's I/O thread (its callbacks),
// on a cache line of its own so producers do not slow each other down.
struct alignas(64) ProducerTally {
  std::vector<double> latencies_ms;
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<uint64_t> errors{0};  // also counted by the sending thread
  std::string first_error;          // written by the I/O thread only
};

// Latency is measured on one message in this many: two clock reads per
// message would cost the producer more than the rest of a send.
constexpr uint64_t kLatencySampleEvery = 8;
// --rate sleeps only when the next message is due at least this far ahead.
constexpr auto kPaceStep = std::chrono::milliseconds(1);

int report(Context& ctx, BenchResult& result, const std::string& what) {
  nlohmann::ordered_json doc = bench_json(result);
  ctx.print(doc, bench_table);
  if (result.errors > 0) {
    ctx.error(what + ": " + std::to_string(result.errors) + " errors");
    return kExitFailed;
  }
  return kExitOk;
}

int create_topic_if_missing(Context& ctx, const BenchFlags& flags) {
  if (flags.partitions < 0) {
    int32_t partitions = 0;  // as a producer asks: created if the broker allows
    return ctx.partitions_for_producing(flags.topic, &partitions);
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto created = admin->create_topics({{flags.topic, flags.partitions, -1, {}}});
  if (!created.is_ok())
    return ctx.fail("cannot create topic \"" + flags.topic + "\"", created.status());
  const Status& status = created->front().status;
  if (status.code() == ErrorCode::kTopicAlreadyExists) {
    ctx.note("topic \"" + flags.topic + "\" exists; --partitions applies only to new topics");
  } else if (!status.is_ok()) {
    return ctx.fail("cannot create topic \"" + flags.topic + "\"", status);
  }
  return kExitOk;
}

int bench_produce(Context& ctx, const BenchFlags& flags) {
  Result<int> acks = parse_acks(flags.acks);
  if (!acks.is_ok()) return ctx.usage(acks.status().message());
  if (flags.count < 1) return ctx.usage("--count: must be >= 1");
  if (flags.size_bytes < 0 || flags.size_bytes > 1'000'000)
    return ctx.usage("--size: 0 to 1000000 bytes");
  if (flags.producers < 1 || flags.producers > 64) return ctx.usage("--producers: 1 to 64");
  if (flags.threads < 1 || flags.threads > 64) return ctx.usage("--threads: 1 to 64");
  if (flags.rate < 0) return ctx.usage("--rate: must be >= 0");
  Result<int64_t> linger = parse_duration_ms(flags.linger);
  if (!linger.is_ok()) return ctx.usage("--linger: " + linger.status().message());
  if (*linger < 0 || *linger > 60'000) return ctx.usage("--linger: 0 to 1m");
  if (int code = create_topic_if_missing(ctx, flags); code != kExitOk) return code;

  std::string payload(static_cast<size_t>(flags.size_bytes), 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::vector<ProducerTally> tallies(static_cast<size_t>(flags.producers));
  auto acknowledged = [&tallies] {
    uint64_t n = 0;
    for (const ProducerTally& tally : tallies) n += tally.acknowledged.load();
    return n;
  };
  std::vector<std::unique_ptr<client::Producer>> producers;
  for (ProducerTally& tally : tallies) {
    tally.latencies_ms.reserve(
        static_cast<size_t>(flags.count / flags.producers / kLatencySampleEvery + 1));
    client::ProducerConfig config = ctx.producer_config(*acks);
    config.client_id = "mqctl-bench";
    config.linger_ms = static_cast<int>(*linger);
    ctx.apply_client_settings(config);
    auto producer = client::Producer::create(config);
    if (!producer.is_ok()) return ctx.fail("cannot start a producer", producer.status());
    producers.push_back(std::move(producer).value());
  }

  auto total = static_cast<uint64_t>(flags.count);
  auto start = Clock::now();
  {
    ProgressLine progress = bench_progress(ctx, acknowledged, total);
    std::vector<std::thread> threads;
    const size_t senders = producers.size() * static_cast<size_t>(flags.threads);
    for (size_t t = 0; t < senders; ++t) {
      threads.emplace_back([&, t] {
        uint64_t mine = total / senders + (t < total % senders ? 1 : 0);
        double per_second = flags.rate / static_cast<double>(senders);
        // Threads of one producer share it (send() is thread-safe) and its
        // tally, which only its I/O thread writes.
        const size_t p = t / static_cast<size_t>(flags.threads);
        ProducerTally* tally = &tallies[p];
        for (uint64_t i = 0; i < mine; ++i) {
          if (per_second > 0) {
            // Paced in steps of kPaceStep, as Kafka's producer-perf-test
            // throttles: a sleep per message would cost more than the send.
            auto due =
                start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(static_cast<double>(i) / per_second));
            if (due - Clock::now() >= kPaceStep) std::this_thread::sleep_until(due);
          }
          client::ProducerRecordView record{.topic = flags.topic, .value = payload};
          Status sent;
          if (i % kLatencySampleEvery == 0) {
            auto sent_at = Clock::now();
            sent = producers[p]->send_view(
                record, [tally, sent_at](const Result<client::RecordMetadata>& result) {
                  if (!result.is_ok()) {
                    if (tally->errors.fetch_add(1) == 0)
                      tally->first_error = result.status().to_string();
                    return;
                  }
                  tally->latencies_ms.push_back(
                      std::chrono::duration<double, std::milli>(Clock::now() - sent_at).count());
                  tally->acknowledged.fetch_add(1, std::memory_order_relaxed);
                });
          } else {
            sent = producers[p]->send_view(
                record, [tally](const Result<client::RecordMetadata>& result) {
                  if (!result.is_ok()) {
                    if (tally->errors.fetch_add(1) == 0)
                      tally->first_error = result.status().to_string();
                    return;
                  }
                  tally->acknowledged.fetch_add(1, std::memory_order_relaxed);
                });
          }
          if (!sent.is_ok()) {
            tally->errors.fetch_add(1);
          }
        }
        // Records fail by themselves after delivery_timeout_ms: this wait ends.
        (void)producers[p]->flush();
      });
    }
    for (auto& thread : threads) thread.join();
  }
  BenchResult result;
  result.seconds = seconds_since(start);
  for (size_t p = 0; p < producers.size(); ++p) {
    (void)producers[p]->close(ctx.timeout_ms);
    ProducerTally& tally = tallies[p];
    result.errors += tally.errors.load();
    if (!tally.first_error.empty()) ctx.error("bench produce: first error: " + tally.first_error);
    result.latencies_ms.insert(result.latencies_ms.end(), tally.latencies_ms.begin(),
                               tally.latencies_ms.end());
  }
  result.count = acknowledged();
  result.bytes = result.count * static_cast<uint64_t>(flags.size_bytes);
  return report(ctx, result, "bench produce");
}

int bench_consume(Context& ctx, const BenchFlags& flags) {
  if (flags.count < 1) return ctx.usage("--count: must be >= 1");
  if (flags.consumers < 1 || flags.consumers > 64) return ctx.usage("--consumers: 1 to 64");
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto metadata = admin->describe_cluster(std::vector<std::string>{flags.topic});
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  int32_t partitions = metadata->partition_count(flags.topic);
  if (partitions == 0) {
    return ctx.not_found("topic", flags.topic);
  }
  // Partitions dealt round-robin; consumers beyond the partition count would idle.
  size_t consumer_count =
      std::min<size_t>(static_cast<size_t>(flags.consumers), static_cast<size_t>(partitions));
  std::vector<std::vector<client::TopicPartition>> assignments(consumer_count);
  for (int32_t p = 0; p < partitions; ++p) {
    assignments[static_cast<size_t>(p) % consumer_count].push_back({flags.topic, p});
  }
  auto total = static_cast<uint64_t>(flags.count);
  std::atomic<uint64_t> consumed{0}, bytes{0}, errors{0};
  std::atomic<int64_t> last_progress_ms{now_ms()};
  std::vector<std::vector<double>> latencies(consumer_count);
  std::mutex error_mu;
  std::string first_error;
  auto start = Clock::now();
  {
    ProgressLine progress = bench_progress(
        ctx, [&consumed] { return consumed.load(); }, total);
    std::vector<std::thread> threads;
    for (size_t c = 0; c < consumer_count; ++c) {
      threads.emplace_back([&, c] {
        client::ConsumerConfig config = ctx.consumer_config();
        config.client_id = "mqctl-bench";
        config.max_poll_records = 10'000;
        ctx.apply_client_settings(config);
        auto consumer = client::Consumer::create(config);
        Status st = consumer.is_ok() ? (*consumer)->set_filter(flags.topic, flags.filter)
                                     : consumer.status();
        if (st.is_ok()) st = (*consumer)->assign(assignments[c]);
        while (st.is_ok() && consumed.load() < total) {
          // Views, not copies: the bench counts what a consumer that does not
          // keep its records gets.
          uint64_t seen = 0, seen_bytes = 0;
          int64_t now = -1;  // read once per poll, when its first record arrives
          auto records = (*consumer)->poll_each(100, [&](const client::ConsumerRecordView& record) {
            if (now < 0) now = now_ms();
            if (seen++ % kLatencySampleEvery == 0) {
              latencies[c].push_back(static_cast<double>(now - record.timestamp_ms));
            }
            seen_bytes += record.value ? record.value->size() : 0;
          });
          if (!records.is_ok()) {
            st = records.status();
            break;
          }
          // Claim records up to --count; what the last poll brought beyond it is not counted.
          uint64_t before = consumed.fetch_add(*records);
          if (before < total) bytes.fetch_add(seen_bytes, std::memory_order_relaxed);
          now = now_ms();
          if (*records > 0) {
            last_progress_ms = now;
          } else if (now - last_progress_ms.load() > ctx.timeout_ms) {
            break;  // the topic ran dry before --count
          }
        }
        if (!st.is_ok()) {
          errors.fetch_add(1);
          std::lock_guard lock(error_mu);
          if (first_error.empty()) first_error = st.to_string();
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  BenchResult result;
  result.seconds = seconds_since(start);
  result.count = std::min(consumed.load(), total);
  result.bytes = bytes.load();
  result.errors = errors.load();
  for (auto& l : latencies)
    result.latencies_ms.insert(result.latencies_ms.end(), l.begin(), l.end());
  if (!first_error.empty()) ctx.error("bench consume: " + first_error);
  if (result.count < total && result.errors == 0) {
    ctx.error("bench consume: read " + std::to_string(result.count) + " of " +
              std::to_string(total) + " messages; none came for --timeout");
    result.errors = total - result.count;
  }
  return report(ctx, result, "bench consume");
}

}  // namespace

void add_bench_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* bench =
      root.add_subcommand("bench", "Load a cluster and report throughput and latency");
  bench->require_subcommand(1);
  auto flags = std::make_shared<BenchFlags>();

  CLI::App* produce = bench->add_subcommand("produce", "Send COUNT messages of SIZE bytes");
  produce->add_option("--topic", flags->topic, "Topic")->required();
  produce->add_option("--count", flags->count, "Messages (default 100000)");
  produce->add_option("--size", flags->size_bytes, "Payload bytes per message (default 100)");
  produce->add_option("--rate", flags->rate,
                      "Messages per second over all producers (default: no limit)");
  produce->add_option("--acks", flags->acks, "0, 1 (default) or all");
  produce->add_option("--linger", flags->linger,
                      "The producers' linger: how long a batch waits for more messages (default "
                      "5ms; 0ms for the lowest latency at a low rate)");
  produce->add_option("--producers", flags->producers,
                      "Producers, each with its own I/O thread and connections (default 1)");
  produce->add_option("--threads", flags->threads,
                      "Threads sending through each producer, which they share (default 1)");
  produce->add_option("--partitions", flags->partitions,
                      "Create the topic with N partitions if missing");
  produce->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return bench_produce(ctx, *flags); }; });

  CLI::App* consume = bench->add_subcommand("consume", "Read COUNT messages from the beginning");
  consume->add_option("--topic", flags->topic, "Topic")->required();
  consume->add_option("--count", flags->count, "Messages (default 100000)");
  consume->add_option("--consumers", flags->consumers,
                      "Consumers splitting the partitions (default 1)");
  consume->add_option("--tags", flags->filter.tags,
                      "Read only messages with these tags (\"A || B\"), filtered on the broker; "
                      "COUNT counts those");
  consume->add_option("--filter", flags->filter.where,
                      "Read only messages whose headers pass this SQL92 condition");
  consume->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return bench_consume(ctx, *flags); }; });
}

}  // namespace mq::ctl
