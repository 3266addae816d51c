// Test support: a Listener served on its own thread that answers ApiVersions,
// Metadata, Produce and Fetch with predictable contents, for end-to-end tests
// of Connection and Listener over real ZeroMQ sockets.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "transport/listener.h"
#include "transport/messages.h"

namespace mq::transport::testing {

// Produce responses carry base_offset = correlation_id * 1000 + partition_index,
// so tests can check that each response answers its own request.
inline int64_t expected_base_offset(int32_t correlation_id, int32_t partition_index) {
  return static_cast<int64_t>(correlation_id) * 1000 + partition_index;
}

// Fetch responses carry, per partition, partition_max_bytes bytes of the
// letter 'a' + partition_index.
inline std::string expected_fetch_bytes(int32_t partition_index, int32_t size) {
  return std::string(static_cast<size_t>(size), static_cast<char>('a' + partition_index % 26));
}

class TestBroker {
 public:
  static constexpr const char* kUnencodable = "unencodable";

  explicit TestBroker(const ListenerOptions& options = {}, bool serve = true) {
    Result<std::unique_ptr<Listener>> listener = Listener::bind(options);
    status_ = listener.status();
    if (!listener.is_ok()) return;
    listener_ = std::move(listener).value();
    endpoint_ = listener_->endpoint();
    // The socket moves to the serving thread; thread start is the memory
    // barrier ZeroMQ requires for that.
    if (serve) thread_ = std::thread([this] { serve_until_stopped(); });
  }
  ~TestBroker() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  const Status& status() const { return status_; }
  const std::string& endpoint() const { return endpoint_; }
  int produce_requests() const { return produce_requests_; }
  int rejected_requests() const { return rejected_requests_; }
  // Who sent the last request served (InboundRequest::principal).
  std::string last_principal() const {
    std::lock_guard lock(mu_);
    return last_principal_;
  }
  // Only when constructed with serve = false.
  Listener& listener() { return *listener_; }

 private:
  void serve_until_stopped() {
    while (!stop_) {
      Result<std::optional<InboundRequest>> request = listener_->receive(20);
      rejected_requests_ = static_cast<int>(listener_->stats().requests_rejected);
      if (!request.is_ok() || !request->has_value()) continue;
      handle(**request);
    }
  }

  void handle(const InboundRequest& request) {
    {
      std::lock_guard lock(mu_);
      last_principal_ = request.principal;
    }
    Status status;
    switch (request.header.api_key) {
      case ApiKey::kApiVersions:
        status = listener_->reply(request, local_api_versions());
        break;
      case ApiKey::kMetadata:
        status = answer_metadata(request);
        break;
      case ApiKey::kProduce:
        status = answer_produce(request);
        break;
      case ApiKey::kFetch:
        status = answer_fetch(request);
        break;
      default:
        status = listener_->reply_error(
            request, Status(ErrorCode::kUnknown, "the test broker does not implement this API"));
    }
    (void)status;  // a client that left does not concern the other tests
  }

  Status answer_metadata(const InboundRequest& request) {
    Result<MetadataRequest> decoded = decode_request<MetadataRequest>(request);
    if (!decoded.is_ok()) return listener_->reply_error(request, decoded.status());
    MetadataResponse response{.cluster_id = "test", .controller_id = 1};
    // A request for this topic gets a response the format cannot carry.
    if (decoded->topics && !decoded->topics->empty() && decoded->topics->front() == kUnencodable) {
      response.cluster_id = std::string(kMaxStringBytes + 1, 'c');
    }
    response.brokers.push_back({.node_id = 1, .host = "127.0.0.1", .port = 0});
    return listener_->reply(request, response);
  }

  Status answer_produce(const InboundRequest& request) {
    ++produce_requests_;
    Result<ProduceRequest> decoded = decode_request<ProduceRequest>(request);
    if (!decoded.is_ok()) return listener_->reply_error(request, decoded.status());
    ProduceResponse response;
    for (const ProduceRequest::Topic& topic : decoded->topics) {
      ProduceResponse::Topic& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const ProduceRequest::Topic::Partition& partition : topic.partitions) {
        out.partitions.push_back(
            {.partition_index = partition.partition_index,
             .base_offset =
                 expected_base_offset(request.header.correlation_id, partition.partition_index),
             .log_start_offset = static_cast<int64_t>(partition.records.size())});
      }
    }
    return listener_->reply(request, response);
  }

  Status answer_fetch(const InboundRequest& request) {
    Result<FetchRequest> decoded = decode_request<FetchRequest>(request);
    if (!decoded.is_ok()) return listener_->reply_error(request, decoded.status());
    FetchResponse response;
    for (const FetchRequest::Topic& topic : decoded->topics) {
      FetchResponse::Topic& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const FetchRequest::Topic::Partition& partition : topic.partitions) {
        out.partitions.push_back({.partition_index = partition.partition_index,
                                  .high_watermark = partition.fetch_offset + 1,
                                  .records = Frame(expected_fetch_bytes(
                                      partition.partition_index, partition.partition_max_bytes))});
      }
    }
    return listener_->reply(request, response);
  }

  Status status_;
  std::unique_ptr<Listener> listener_;
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::string last_principal_;
  std::atomic<int> produce_requests_{0};
  std::atomic<int> rejected_requests_{0};
};

}  // namespace mq::transport::testing
