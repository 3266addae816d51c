// TEST FIXTURE, not a broker: a single-node stand-in for mqd, so the client
// tests run before broker/ exists. One store::Log per partition in a temp
// dir, served by a transport::Listener on its own thread over
// tcp://127.0.0.1 (ephemeral port). It answers ApiVersions, Metadata,
// Produce (the log's idempotent-producer checks give the real duplicate and
// sequence answers), Fetch (waits at most 100 ms for data), ListOffsets,
// InitProducerId, the topic and config admin APIs, and the group APIs
// (fake_group_coordinator.h). No replication: the high watermark is the log
// end. Tests can make it drop or fail responses.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/log.h"
#include "tests/client/fake_group_coordinator.h"
#include "tests/support/temp_dir.h"
#include "transport/listener.h"
#include "transport/messages.h"

namespace mq::client::testing {

class FakeBroker {
 public:
  static constexpr int32_t kNodeId = 1;

  FakeBroker() {
    Result<std::unique_ptr<transport::Listener>> listener =
        transport::Listener::bind(transport::ListenerOptions{});
    status_ = listener.status();
    if (!listener.is_ok()) return;
    listener_ = std::move(listener).value();
    const std::string& endpoint = listener_->endpoint();
    port_ = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
    groups_ = std::make_unique<FakeGroupCoordinator>(listener_.get(), [this](const std::string& t) {
      auto it = topics_.find(t);  // the serving thread holds mu_
      return it == topics_.end() ? 0 : static_cast<int32_t>(it->second.partitions.size());
    });
    groups_->set_endpoint("127.0.0.1", port_);
    // The socket moves to the serving thread; thread start is the barrier ZeroMQ needs.
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeBroker() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  const Status& status() const { return status_; }
  // For the clients' bootstrap_servers.
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

  Status create_topic(const std::string& name, int32_t partitions) {
    std::lock_guard lock(mu_);
    return create_topic_locked(name, partitions);
  }

  // The next `n` produce requests are appended but get no response.
  void drop_produce_responses(int n) { drop_produce_responses_ = n; }
  // The next `n` produce requests are refused with `code` and not appended.
  void fail_produce_requests(int n, ErrorCode code) {
    fail_code_ = code;
    fail_produce_requests_ = n;
  }
  int produce_requests() const { return produce_requests_; }
  int metadata_requests() const { return metadata_requests_; }
  int fetch_requests() const { return fetch_requests_; }
  // The group coordinator's state and test hooks.
  FakeGroupCoordinator& groups() { return *groups_; }

  int64_t log_end_offset(const std::string& topic, int32_t partition) {
    std::lock_guard lock(mu_);
    Log* log = find_locked(topic, partition);
    return log == nullptr ? -1 : log->log_end_offset();
  }
  // Every record of a partition, decoded, for checking what the log holds.
  std::vector<std::pair<int64_t, std::string>> values(const std::string& topic, int32_t partition) {
    std::lock_guard lock(mu_);
    std::vector<std::pair<int64_t, std::string>> out;
    Log* log = find_locked(topic, partition);
    if (log == nullptr) return out;
    Result<LogReadResult> read = log->read(0, 64 * 1024 * 1024);
    if (!read.is_ok()) return out;
    BatchCursor cursor(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(read->bytes.data()), read->bytes.size()));
    RecordBatchReader reader;
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      std::vector<Record> records;
      if (!reader.decode(batch, &records).is_ok()) break;
      for (const Record& r : records) out.emplace_back(r.offset, std::string(r.value.value_or("")));
    }
    return out;
  }

 private:
  struct Topic {
    std::vector<std::unique_ptr<Log>> partitions;
    std::map<std::string, std::string> configs;
  };
  struct ParkedFetch {
    transport::InboundRequest request;
    transport::FetchRequest fetch;
    std::chrono::steady_clock::time_point deadline;
  };

  Status create_topic_locked(const std::string& name, int32_t partitions) {
    if (name.empty() || name.find('/') != std::string::npos) {
      return Status(ErrorCode::kInvalidTopic, "bad topic name '" + name + "'");
    }
    if (topics_.contains(name)) return Status(ErrorCode::kTopicAlreadyExists, name + " exists");
    return grow_locked(topics_[name], name, partitions);
  }

  Status grow_locked(Topic& topic, const std::string& name, int32_t partitions) {
    for (auto p = static_cast<int32_t>(topic.partitions.size()); p < partitions; ++p) {
      LogConfig config;
      config.fsync_policy = FsyncPolicy::kNever;
      config.segment_bytes = 1024 * 1024;
      Result<std::unique_ptr<Log>> log = Log::open(
          dir_.file(name + "-" + std::to_string(p) + "." + std::to_string(generation_)), config);
      if (!log.is_ok()) return log.status();
      topic.partitions.push_back(std::move(log).value());
    }
    return Status::ok();
  }

  Log* find_locked(const std::string& topic, int32_t partition) {
    auto it = topics_.find(topic);
    if (it == topics_.end() || partition < 0 ||
        static_cast<size_t>(partition) >= it->second.partitions.size()) {
      return nullptr;
    }
    return it->second.partitions[static_cast<size_t>(partition)].get();
  }

  void serve() {
    while (!stop_) {
      Result<std::optional<transport::InboundRequest>> request = listener_->receive(5);
      if (request.is_ok() && request->has_value()) handle(**request);
      answer_parked_fetches(/*force=*/false);
      std::lock_guard lock(mu_);
      groups_->tick();
    }
  }

  template <class Request, class Handler>
  void with_decoded(const transport::InboundRequest& request, Handler&& handler) {
    Result<Request> decoded = transport::decode_request<Request>(request);
    if (!decoded.is_ok()) {
      (void)listener_->reply_error(request, decoded.status());
      return;
    }
    std::lock_guard lock(mu_);
    handler(*decoded);
  }

  void handle(const transport::InboundRequest& request) {
    using namespace transport;
    switch (request.header.api_key) {
      case ApiKey::kApiVersions:
        (void)listener_->reply(request, local_api_versions());
        return;
      case ApiKey::kMetadata:
        ++metadata_requests_;
        return with_decoded<MetadataRequest>(request, [&](const MetadataRequest& r) {
          (void)listener_->reply(request, metadata(r));
        });
      case ApiKey::kProduce:
        return with_decoded<ProduceRequest>(request, [&](const ProduceRequest& r) {
          ++produce_requests_;
          ProduceResponse response = produce(r);
          if (drop_produce_responses_ > 0) {
            --drop_produce_responses_;
            return;
          }
          (void)listener_->reply(request, response);
        });
      case ApiKey::kFetch:
        ++fetch_requests_;
        return with_decoded<FetchRequest>(request, [&](const FetchRequest& r) {
          auto wait = std::chrono::milliseconds(std::min(r.max_wait_ms, 100));
          parked_.push_back({request, r, std::chrono::steady_clock::now() + wait});
        });
      case ApiKey::kListOffsets:
        return with_decoded<ListOffsetsRequest>(request, [&](const ListOffsetsRequest& r) {
          (void)listener_->reply(request, list_offsets(r));
        });
      case ApiKey::kInitProducerId:
        return with_decoded<InitProducerIdRequest>(request, [&](const InitProducerIdRequest&) {
          (void)listener_->reply(request, InitProducerIdResponse{.producer_id = next_producer_id_++,
                                                                 .producer_epoch = 0});
        });
      case ApiKey::kCreateTopics:
        return with_decoded<CreateTopicsRequest>(request, [&](const CreateTopicsRequest& r) {
          (void)listener_->reply(request, create_topics(r));
        });
      case ApiKey::kDeleteTopics:
        return with_decoded<DeleteTopicsRequest>(request, [&](const DeleteTopicsRequest& r) {
          DeleteTopicsResponse response;
          for (const std::string& name : r.topic_names) {
            bool found = topics_.erase(name) > 0;
            response.responses.push_back(
                {.name = name,
                 .error_code = found ? ErrorCode::kNone : ErrorCode::kUnknownTopicOrPartition});
          }
          ++generation_;  // a re-created topic gets fresh log directories
          (void)listener_->reply(request, response);
        });
      case ApiKey::kCreatePartitions:
        return with_decoded<CreatePartitionsRequest>(
            request, [&](const CreatePartitionsRequest& r) {
              CreatePartitionsResponse response;
              for (const auto& t : r.topics) {
                auto it = topics_.find(t.name);
                Status status = it == topics_.end()
                                    ? Status(ErrorCode::kUnknownTopicOrPartition, "no such topic")
                                : t.count <= static_cast<int32_t>(it->second.partitions.size())
                                    ? Status(ErrorCode::kInvalidPartitions, "count must grow")
                                : r.validate_only ? Status::ok()
                                                  : grow_locked(it->second, t.name, t.count);
                response.results.push_back({.name = t.name,
                                            .error_code = status.code(),
                                            .error_message = status.message()});
              }
              (void)listener_->reply(request, response);
            });
      case ApiKey::kDescribeConfigs:
        return with_decoded<DescribeConfigsRequest>(request, [&](const DescribeConfigsRequest& r) {
          DescribeConfigsResponse response;
          for (const auto& resource : r.resources) {
            auto& out = response.results.emplace_back();
            out.resource_type = resource.resource_type;
            out.resource_name = resource.resource_name;
            auto it = topics_.find(resource.resource_name);
            if (it == topics_.end()) {
              out.error_code = ErrorCode::kUnknownTopicOrPartition;
              continue;
            }
            for (const auto& [name, value] : it->second.configs) {
              out.configs.push_back(
                  {.name = name, .value = value, .config_source = ConfigSource::kTopicConfig});
            }
          }
          (void)listener_->reply(request, response);
        });
      case ApiKey::kAlterConfigs:
        return with_decoded<AlterConfigsRequest>(request, [&](const AlterConfigsRequest& r) {
          AlterConfigsResponse response;
          for (const auto& resource : r.resources) {
            auto& out = response.responses.emplace_back();
            out.resource_type = resource.resource_type;
            out.resource_name = resource.resource_name;
            auto it = topics_.find(resource.resource_name);
            if (it == topics_.end()) {
              out.error_code = ErrorCode::kUnknownTopicOrPartition;
              continue;
            }
            if (r.validate_only) continue;
            for (const auto& config : resource.configs) {
              if (config.operation == AlterConfigOp::kDelete) {
                it->second.configs.erase(config.name);
              } else {
                it->second.configs[config.name] = config.value.value_or("");
              }
            }
          }
          (void)listener_->reply(request, response);
        });
      default:
        if (FakeGroupCoordinator::is_group_api(request.header.api_key)) {
          std::lock_guard lock(mu_);
          return groups_->handle(request);
        }
        (void)listener_->reply_error(
            request, Status(ErrorCode::kUnsupportedVersion, "the fake broker lacks this API"));
    }
  }

  transport::MetadataResponse metadata(const transport::MetadataRequest& request) {
    transport::MetadataResponse response{.cluster_id = "fake", .controller_id = kNodeId};
    response.brokers.push_back({.node_id = kNodeId, .host = "127.0.0.1", .port = port_});
    std::vector<std::string> names;
    if (request.topics) {
      names = *request.topics;
    } else {
      for (const auto& [name, topic] : topics_) names.push_back(name);
    }
    for (const std::string& name : names) {
      auto& out = response.topics.emplace_back();
      out.name = name;
      auto it = topics_.find(name);
      if (it == topics_.end()) {
        out.error_code = ErrorCode::kUnknownTopicOrPartition;
        continue;
      }
      for (size_t p = 0; p < it->second.partitions.size(); ++p) {
        out.partitions.push_back({.partition_index = static_cast<int32_t>(p),
                                  .leader_id = kNodeId,
                                  .leader_epoch = 0,
                                  .replica_nodes = {kNodeId},
                                  .isr_nodes = {kNodeId}});
      }
    }
    return response;
  }

  transport::ProduceResponse produce(const transport::ProduceRequest& request) {
    transport::ProduceResponse response;
    bool fail = fail_produce_requests_ > 0;
    if (fail) --fail_produce_requests_;
    for (const auto& topic : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const auto& partition : topic.partitions) {
        auto& result = out.partitions.emplace_back();
        result.partition_index = partition.partition_index;
        Log* log = find_locked(topic.name, partition.partition_index);
        if (fail || log == nullptr) {
          result.error_code = fail ? fail_code_.load() : ErrorCode::kUnknownTopicOrPartition;
          continue;
        }
        std::string bytes(partition.records.as_string_view());
        Result<AppendResult> appended =
            log->append(std::span<uint8_t>(reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()));
        if (!appended.is_ok()) {
          result.error_code = appended.code();
          result.error_message = appended.status().message();
          continue;
        }
        result.base_offset = appended->base_offset;
        result.log_append_time_ms = appended->log_append_time;
        result.log_start_offset = log->log_start_offset();
      }
    }
    return response;
  }

  void answer_parked_fetches(bool force) {
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    for (auto it = parked_.begin(); it != parked_.end();) {
      bool answered = try_fetch(*it, force || now >= it->deadline);
      it = answered ? parked_.erase(it) : std::next(it);
    }
  }

  // Answers when there is data (or an error), or when `must_answer`.
  bool try_fetch(const ParkedFetch& parked, bool must_answer) {
    transport::FetchResponse response;
    bool worth_answering = must_answer;
    for (const auto& topic : parked.fetch.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const auto& partition : topic.partitions) {
        auto& result = out.partitions.emplace_back();
        result.partition_index = partition.partition_index;
        Log* log = find_locked(topic.name, partition.partition_index);
        if (log == nullptr) {
          result.error_code = ErrorCode::kUnknownTopicOrPartition;
          worth_answering = true;
          continue;
        }
        result.log_start_offset = log->log_start_offset();
        result.log_end_offset = log->log_end_offset();
        result.high_watermark = result.last_stable_offset = result.log_end_offset;
        if (partition.fetch_offset < result.log_start_offset ||
            partition.fetch_offset > result.log_end_offset) {
          result.error_code = ErrorCode::kOffsetOutOfRange;
          worth_answering = true;
          continue;
        }
        Result<LogReadResult> read =
            log->read(partition.fetch_offset, static_cast<size_t>(partition.partition_max_bytes));
        if (!read.is_ok()) {
          result.error_code = read.code();
          worth_answering = true;
          continue;
        }
        if (!read->bytes.empty()) worth_answering = true;
        result.records = transport::Frame(std::move(read->bytes));
      }
    }
    if (worth_answering) (void)listener_->reply(parked.request, response);
    return worth_answering;
  }

  transport::ListOffsetsResponse list_offsets(const transport::ListOffsetsRequest& request) {
    transport::ListOffsetsResponse response;
    for (const auto& topic : request.topics) {
      auto& out = response.topics.emplace_back();
      out.name = topic.name;
      for (const auto& partition : topic.partitions) {
        auto& result = out.partitions.emplace_back();
        result.partition_index = partition.partition_index;
        Log* log = find_locked(topic.name, partition.partition_index);
        if (log == nullptr) {
          result.error_code = ErrorCode::kUnknownTopicOrPartition;
        } else if (partition.timestamp == transport::kEarliestTimestamp) {
          result.offset = log->log_start_offset();
        } else if (partition.timestamp == transport::kLatestTimestamp) {
          result.offset = log->log_end_offset();
        } else {
          Result<std::optional<int64_t>> found = log->offset_for_timestamp(partition.timestamp);
          if (!found.is_ok()) {
            result.error_code = found.code();
          } else if (found->has_value()) {
            result.offset = **found;
            result.timestamp = partition.timestamp;
          }
        }
      }
    }
    return response;
  }

  transport::CreateTopicsResponse create_topics(const transport::CreateTopicsRequest& request) {
    transport::CreateTopicsResponse response;
    for (const auto& topic : request.topics) {
      int32_t partitions = topic.num_partitions < 0 ? 1 : topic.num_partitions;
      Status status = partitions == 0 ? Status(ErrorCode::kInvalidPartitions, "0 partitions")
                      : topics_.contains(topic.name)
                          ? Status(ErrorCode::kTopicAlreadyExists, topic.name + " exists")
                      : request.validate_only ? Status::ok()
                                              : create_topic_locked(topic.name, partitions);
      if (status.is_ok() && !request.validate_only) {
        for (const auto& config : topic.configs) {
          topics_[topic.name].configs[config.name] = config.value.value_or("");
        }
      }
      response.topics.push_back(
          {.name = topic.name,
           .error_code = status.code(),
           .error_message = status.is_ok() ? std::nullopt : std::optional(status.message()),
           .num_partitions = partitions,
           .replication_factor = 1});
    }
    return response;
  }

  mq::testing::TempDir dir_;
  Status status_;
  std::unique_ptr<transport::Listener> listener_;
  int32_t port_ = 0;
  std::unique_ptr<FakeGroupCoordinator> groups_;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;  // topics_: the serving thread and the test thread both read logs
  std::map<std::string, Topic> topics_;
  std::vector<ParkedFetch> parked_;  // serving thread only
  int generation_ = 0;
  int64_t next_producer_id_ = 1000;

  std::atomic<int> drop_produce_responses_{0};
  std::atomic<int> fail_produce_requests_{0};
  std::atomic<ErrorCode> fail_code_{ErrorCode::kNone};
  std::atomic<int> produce_requests_{0};
  std::atomic<int> metadata_requests_{0};
  std::atomic<int> fetch_requests_{0};
};

}  // namespace mq::client::testing
