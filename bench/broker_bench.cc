// broker-bench: load against a running mqd over the wire protocol.
//   produce: N messages of S bytes, in batches of B bytes, W requests in flight
//            per connection, from P producer threads over the topic's partitions
//   consume: fetch every message of the topic back, 1 MiB per partition per fetch
//   latency: a steady R messages/s in small batches; produce round-trip percentiles
// Prints one "RESULT key=value ..." line per phase (bench/broker.sh parses it).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <thread>

#include "store/record_batch.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace {

using namespace mq;
using namespace mq::transport;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint;
  std::string topic = "bench";
  std::string mode = "produce";
  int64_t messages = 2'000'000;
  int size = 100;
  int batch_bytes = 16 * 1024;
  int window = 32;
  int partitions = 1;
  int producers = 1;
  int16_t acks = 1;
  int rate = 50'000;
  int seconds = 10;
};

// Current time: old timestamps would fall to the broker's retention.ms.
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<Connection> connect(const Options& o) {
  auto c = Connection::connect(o.endpoint);
  if (!c.is_ok() || !(*c)->negotiate_versions(10000).is_ok()) {
    std::fprintf(stderr, "cannot connect to %s\n", o.endpoint.c_str());
    std::exit(1);
  }
  return std::move(c).value();
}

std::string make_batch(int records, int size, int64_t timestamp) {
  RecordBatchBuilder builder;
  std::string value(static_cast<size_t>(size), 'm');
  for (int i = 0; i < records; i++) builder.add(timestamp, std::nullopt, value);
  return *builder.build();
}

ProduceRequest request_for(const Options& o, int32_t partition, const Frame& batch) {
  ProduceRequest req;
  req.acks = o.acks;
  auto& t = req.topics.emplace_back();
  t.name = o.topic;
  t.partitions.push_back({.partition_index = partition, .records = batch});
  return req;
}

bool check(const InboundResponse& response) {
  auto decoded = decode_response<ProduceResponse>(response);
  if (!decoded.is_ok()) return false;
  const auto& p = decoded->topics.at(0).partitions.at(0);
  if (p.error_code != ErrorCode::kNone) {
    std::fprintf(stderr, "produce: %s %s\n", std::string(error_name(p.error_code)).c_str(),
                 p.error_message.value_or("").c_str());
    return false;
  }
  return true;
}

void ensure_topic(const Options& o) {
  auto c = connect(o);
  CreateTopicsRequest req;
  req.topics.push_back({.name = o.topic, .num_partitions = o.partitions, .replication_factor = 1});
  auto r = c->call(req, 10000);
  if (!r.is_ok() || (r->topics[0].error_code != ErrorCode::kNone &&
                     r->topics[0].error_code != ErrorCode::kTopicAlreadyExists)) {
    std::fprintf(stderr, "cannot create topic %s\n", o.topic.c_str());
    std::exit(1);
  }
}

void produce(const Options& o) {
  ensure_topic(o);
  int per_batch = std::max(1, (o.batch_bytes - 61) / (o.size + 8));
  Frame batch(make_batch(per_batch, o.size, now_ms()));
  int64_t batches_total = (o.messages + per_batch - 1) / per_batch;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.producers; t++) {
    threads.emplace_back([&, t] {
      auto conn = connect(o);
      int16_t version = *conn->version_for(ApiKey::kProduce);
      std::deque<int32_t> in_flight;
      int32_t partition = t % o.partitions;
      while (!failed) {
        while (static_cast<int>(in_flight.size()) < o.window && next.fetch_add(1) < batches_total) {
          auto id = conn->send(request_for(o, partition, batch), version);
          if (!id.is_ok()) {
            failed = true;
            return;
          }
          in_flight.push_back(*id);
        }
        if (in_flight.empty()) return;
        auto resp = conn->receive_for(in_flight.front(), 30000);
        in_flight.pop_front();
        if (!resp.is_ok() || !check(*resp)) {
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  int64_t sent = batches_total * per_batch;
  std::printf(
      "RESULT phase=produce msgs=%lld size=%d batch_msgs=%d producers=%d partitions=%d window=%d "
      "seconds=%.3f msgs_per_s=%.0f MiB_per_s=%.1f ok=%d\n",
      static_cast<long long>(sent), o.size, per_batch, o.producers, o.partitions, o.window, secs,
      sent / secs, sent * static_cast<double>(o.size) / secs / (1 << 20), failed ? 0 : 1);
}

void consume(const Options& o) {
  auto conn = connect(o);
  int16_t version = *conn->version_for(ApiKey::kFetch);
  std::vector<int64_t> offsets(static_cast<size_t>(o.partitions), 0);
  int64_t messages = 0, bytes = 0;
  auto started = Clock::now();
  // Two fetches in flight: one being answered while the previous is counted.
  auto make = [&] {
    FetchRequest req;
    req.max_wait_ms = 0;
    req.max_bytes = 8 << 20;
    auto& t = req.topics.emplace_back();
    t.name = o.topic;
    for (int p = 0; p < o.partitions; p++) {
      t.partitions.push_back({.partition_index = p,
                              .fetch_offset = offsets[static_cast<size_t>(p)],
                              .partition_max_bytes = 1 << 20});
    }
    return req;
  };
  while (true) {
    auto resp = conn->call(make(), version, 30000);
    if (!resp.is_ok()) {
      std::fprintf(stderr, "fetch: %s\n", resp.status().to_string().c_str());
      break;
    }
    bool any = false;
    for (const auto& p : resp->topics.at(0).partitions) {
      BatchCursor cursor(p.records.bytes());
      for (auto b = cursor.next(); !b.empty(); b = cursor.next()) {
        auto h = parse_batch_header(b);
        if (!h.is_ok()) continue;
        messages += h->record_count;
        bytes += static_cast<int64_t>(b.size());
        offsets[static_cast<size_t>(p.partition_index)] = h->next_offset();
        any = true;
      }
    }
    if (!any) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - started).count();
  std::printf("RESULT phase=consume msgs=%lld seconds=%.3f msgs_per_s=%.0f MiB_per_s=%.1f\n",
              static_cast<long long>(messages), secs, messages / secs, bytes / secs / (1 << 20));
}

void latency(const Options& o) {
  ensure_topic(o);
  auto conn = connect(o);
  int16_t version = *conn->version_for(ApiKey::kProduce);
  constexpr int kPerBatch = 10;  // 10 messages per request: 5,000 requests/s at 50k msg/s
  Frame batch(make_batch(kPerBatch, o.size, now_ms()));
  auto interval = std::chrono::nanoseconds(1'000'000'000LL * kPerBatch / o.rate);
  int64_t total = static_cast<int64_t>(o.rate) * o.seconds / kPerBatch;
  std::vector<double> rtt_us;
  std::map<int32_t, Clock::time_point> sent_at;
  auto next_send = Clock::now();
  int64_t sent = 0;
  while (sent < total || !sent_at.empty()) {
    if (sent < total && Clock::now() >= next_send) {
      auto id = conn->send(request_for(o, 0, batch), version);
      if (!id.is_ok()) break;
      sent_at[*id] = Clock::now();
      next_send += interval;
      sent++;
      continue;
    }
    auto wait =
        sent < total
            ? std::chrono::duration_cast<std::chrono::milliseconds>(next_send - Clock::now())
                  .count()
            : 1000;
    auto resp = conn->receive(static_cast<int>(std::max<int64_t>(0, wait)));
    if (!resp.is_ok()) continue;
    auto it = sent_at.find(resp->header.correlation_id);
    if (it == sent_at.end()) continue;
    rtt_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - it->second).count());
    sent_at.erase(it);
  }
  std::sort(rtt_us.begin(), rtt_us.end());
  auto pct = [&](double q) {
    return rtt_us.empty() ? 0 : rtt_us[static_cast<size_t>(q * (rtt_us.size() - 1))];
  };
  std::printf(
      "RESULT phase=latency rate=%d msgs=%lld requests=%zu p50_us=%.0f p99_us=%.0f p999_us=%.0f "
      "max_us=%.0f\n",
      o.rate, static_cast<long long>(sent * kPerBatch), rtt_us.size(), pct(0.5), pct(0.99),
      pct(0.999), rtt_us.empty() ? 0 : rtt_us.back());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"broker-bench: load against a running mqd"};
  app.add_option("--endpoint", o.endpoint, "tcp://HOST:PORT of mqd")->required();
  app.add_option("--mode", o.mode, "produce | consume | latency")
      ->check(CLI::IsMember({"produce", "consume", "latency"}));
  app.add_option("--topic", o.topic);
  app.add_option("--messages", o.messages);
  app.add_option("--size", o.size, "message bytes")->check(CLI::Range(1, 1 << 20));
  app.add_option("--batch-bytes", o.batch_bytes)->check(CLI::Range(100, 1 << 20));
  app.add_option("--window", o.window, "requests in flight per connection")
      ->check(CLI::Range(1, 10000));
  app.add_option("--partitions", o.partitions)->check(CLI::Range(1, 1000));
  app.add_option("--producers", o.producers)->check(CLI::Range(1, 64));
  app.add_option("--acks", o.acks)->check(CLI::IsMember({-1, 0, 1}));
  app.add_option("--rate", o.rate, "latency mode: messages per second")
      ->check(CLI::Range(10, 10'000'000));
  app.add_option("--seconds", o.seconds, "latency mode: duration")->check(CLI::Range(1, 3600));
  CLI11_PARSE(app, argc, argv);
  if (o.mode == "produce") produce(o);
  if (o.mode == "consume") consume(o);
  if (o.mode == "latency") latency(o);
  return 0;
}
