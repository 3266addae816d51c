// Benchmarks of the transport: encode/decode throughput of Produce requests
// and Fetch responses (record frames are shared, never copied), a
// field-heavy Metadata response, and the pipelined request/response rate over
// loopback ZeroMQ (tcp://127.0.0.1) with a window of requests in flight.
#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

#include "transport/connection.h"
#include "transport/listener.h"
#include "transport/messages.h"

namespace mq::transport {
namespace {

ProduceRequest produce_request(int partitions, size_t batch_bytes) {
  ProduceRequest request{.acks = kAcksAll};
  ProduceRequest::Topic& topic = request.topics.emplace_back();
  topic.name = "bench-topic";
  for (int p = 0; p < partitions; ++p) {
    topic.partitions.push_back(
        {.partition_index = p, .records = Frame(std::string(batch_bytes, 'x'))});
  }
  return request;
}

FetchResponse fetch_response(int partitions, size_t batch_bytes) {
  FetchResponse response;
  FetchResponse::Topic& topic = response.topics.emplace_back();
  topic.name = "bench-topic";
  for (int p = 0; p < partitions; ++p) {
    topic.partitions.push_back({.partition_index = p,
                                .high_watermark = 1'000'000,
                                .last_stable_offset = 1'000'000,
                                .log_start_offset = 0,
                                .log_end_offset = 1'000'000,
                                .records = Frame(std::string(batch_bytes, 'y'))});
  }
  return response;
}

MetadataResponse metadata_response(int topics, int partitions_per_topic) {
  MetadataResponse response{.cluster_id = "bench", .controller_id = 1};
  for (int b = 1; b <= 3; ++b) {
    response.brokers.push_back({.node_id = b, .host = "broker-" + std::to_string(b), .port = 9092});
  }
  for (int t = 0; t < topics; ++t) {
    MetadataResponse::Topic& topic = response.topics.emplace_back();
    topic.name = "topic-" + std::to_string(t);
    for (int p = 0; p < partitions_per_topic; ++p) {
      topic.partitions.push_back({.partition_index = p,
                                  .leader_id = 1 + p % 3,
                                  .leader_epoch = 7,
                                  .replica_nodes = {1, 2, 3},
                                  .isr_nodes = {1, 2, 3}});
    }
  }
  return response;
}

void set_counters(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * bytes_per_iteration);
}

// Args: partitions, batch bytes per partition.
void BM_EncodeProduceRequest(benchmark::State& state) {
  ProduceRequest request = produce_request(static_cast<int>(state.range(0)), state.range(1));
  RequestHeader header{.correlation_id = 1, .client_id = "bench"};
  for (auto _ : state) {
    Result<Frames> frames = encode_request(request, header);
    benchmark::DoNotOptimize(frames);
  }
  set_counters(state, state.range(0) * state.range(1));
}
BENCHMARK(BM_EncodeProduceRequest)->Args({1, 16384})->Args({16, 16384})->Args({64, 1024});

void BM_DecodeProduceRequest(benchmark::State& state) {
  ProduceRequest request = produce_request(static_cast<int>(state.range(0)), state.range(1));
  Frames frames = encode_request(request, RequestHeader{.client_id = "bench"}).value();
  for (auto _ : state) {
    Result<InboundRequest> inbound = parse_request(frames);
    Result<ProduceRequest> decoded = decode_request<ProduceRequest>(*inbound);
    benchmark::DoNotOptimize(decoded);
  }
  set_counters(state, state.range(0) * state.range(1));
}
BENCHMARK(BM_DecodeProduceRequest)->Args({1, 16384})->Args({16, 16384})->Args({64, 1024});

void BM_EncodeFetchResponse(benchmark::State& state) {
  FetchResponse response = fetch_response(static_cast<int>(state.range(0)), state.range(1));
  RequestHeader request{.api_key = ApiKey::kFetch, .correlation_id = 1};
  for (auto _ : state) {
    Result<Frames> frames = encode_response(response, request);
    benchmark::DoNotOptimize(frames);
  }
  set_counters(state, state.range(0) * state.range(1));
}
BENCHMARK(BM_EncodeFetchResponse)->Args({1, 1 << 20})->Args({16, 65536})->Args({64, 1024});

void BM_DecodeFetchResponse(benchmark::State& state) {
  FetchResponse response = fetch_response(static_cast<int>(state.range(0)), state.range(1));
  Frames frames = encode_response(response, RequestHeader{.api_key = ApiKey::kFetch}).value();
  for (auto _ : state) {
    Result<InboundResponse> inbound = parse_response(frames);
    Result<FetchResponse> decoded = decode_response<FetchResponse>(*inbound);
    benchmark::DoNotOptimize(decoded);
  }
  set_counters(state, state.range(0) * state.range(1));
}
BENCHMARK(BM_DecodeFetchResponse)->Args({1, 1 << 20})->Args({16, 65536})->Args({64, 1024});

// Field-by-field cost: 100 topics x 8 partitions, ~50 KB of body.
void BM_EncodeMetadataResponse(benchmark::State& state) {
  MetadataResponse response = metadata_response(100, 8);
  RequestHeader request{.api_key = ApiKey::kMetadata};
  int64_t body_bytes = 0;
  for (auto _ : state) {
    Result<Frames> frames = encode_response(response, request);
    body_bytes = static_cast<int64_t>((*frames)[1].size());
    benchmark::DoNotOptimize(frames);
  }
  set_counters(state, body_bytes);
}
BENCHMARK(BM_EncodeMetadataResponse);

void BM_DecodeMetadataResponse(benchmark::State& state) {
  Frames frames =
      encode_response(metadata_response(100, 8), RequestHeader{.api_key = ApiKey::kMetadata})
          .value();
  for (auto _ : state) {
    Result<InboundResponse> inbound = parse_response(frames);
    Result<MetadataResponse> decoded = decode_response<MetadataResponse>(*inbound);
    benchmark::DoNotOptimize(decoded);
  }
  set_counters(state, static_cast<int64_t>(frames[1].size()));
}
BENCHMARK(BM_DecodeMetadataResponse);

// A broker stand-in on its own thread: decodes each Produce and answers it.
class LoopbackBroker {
 public:
  LoopbackBroker() {
    listener_ = Listener::bind(ListenerOptions{}).value();
    thread_ = std::thread([this] {
      while (!stop_) {
        Result<std::optional<InboundRequest>> request = listener_->receive(20);
        if (!request.is_ok() || !request->has_value()) continue;
        Result<ProduceRequest> produce = decode_request<ProduceRequest>(**request);
        if (!produce.is_ok()) {
          (void)listener_->reply_error(**request, produce.status());
          continue;
        }
        ProduceResponse response;
        for (const ProduceRequest::Topic& topic : produce->topics) {
          ProduceResponse::Topic& out = response.topics.emplace_back();
          out.name = topic.name;
          for (const ProduceRequest::Topic::Partition& partition : topic.partitions) {
            out.partitions.push_back(
                {.partition_index = partition.partition_index, .base_offset = next_offset_++});
          }
        }
        (void)listener_->reply(**request, response);
      }
    });
  }
  ~LoopbackBroker() {
    stop_ = true;
    thread_.join();
  }
  const std::string& endpoint() const { return listener_->endpoint(); }

 private:
  std::unique_ptr<Listener> listener_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  int64_t next_offset_ = 0;
};

// Args: requests kept in flight, batch bytes (one partition per request).
void BM_PipelinedProduceOverLoopback(benchmark::State& state) {
  LoopbackBroker broker;
  std::unique_ptr<Connection> connection = Connection::connect(broker.endpoint()).value();
  const int64_t window = state.range(0);
  ProduceRequest request = produce_request(1, state.range(1));
  // Warm up the TCP connection so the handshake is not measured.
  if (!connection->call(request, 0, 5000).is_ok()) {
    state.SkipWithError("loopback broker did not answer");
    return;
  }
  int64_t in_flight = 0;
  for (auto _ : state) {
    while (in_flight < window) {
      if (!connection->send(request, 0).is_ok()) {
        state.SkipWithError("send failed");
        return;
      }
      ++in_flight;
    }
    Result<InboundResponse> response = connection->receive(5000);
    if (!response.is_ok()) {
      state.SkipWithError(response.status().to_string().c_str());
      return;
    }
    --in_flight;
  }
  while (in_flight-- > 0) (void)connection->receive(5000);
  set_counters(state, state.range(1));
}
BENCHMARK(BM_PipelinedProduceOverLoopback)
    ->Args({1, 100})
    ->Args({64, 100})
    ->Args({1024, 100})
    ->Args({64, 16384})
    ->UseRealTime();

}  // namespace
}  // namespace mq::transport

BENCHMARK_MAIN();
