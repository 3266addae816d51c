// Connections to brokers and the metadata that says which one leads what.
#include "client/cluster.h"

#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "client/clock.h"

namespace mq::client {

const BrokerInfo* ClusterMetadata::broker(int32_t node_id) const {
  auto it = std::ranges::find(brokers, node_id, &BrokerInfo::node_id);
  return it == brokers.end() ? nullptr : &*it;
}

const TopicInfo* ClusterMetadata::topic(const std::string& name) const {
  auto it = topics.find(name);
  return it == topics.end() ? nullptr : &it->second;
}

const PartitionInfo* ClusterMetadata::partition(const std::string& topic_name,
                                                int32_t partition) const {
  const TopicInfo* info = topic(topic_name);
  if (info == nullptr || partition < 0 ||
      static_cast<size_t>(partition) >= info->partitions.size()) {
    return nullptr;
  }
  return &info->partitions[static_cast<size_t>(partition)];
}

int32_t ClusterMetadata::partition_count(const std::string& topic_name) const {
  const TopicInfo* info = topic(topic_name);
  if (info == nullptr || info->error != ErrorCode::kNone) return 0;
  return static_cast<int32_t>(info->partitions.size());
}

void ClusterMetadata::merge(const transport::MetadataResponse& response, int64_t now_ms) {
  brokers.clear();
  for (const auto& broker : response.brokers) {
    brokers.push_back({broker.node_id, broker.host, broker.port, broker.rack});
  }
  cluster_id = response.cluster_id;
  controller_id = response.controller_id;
  for (const auto& topic : response.topics) {
    TopicInfo info{.name = topic.name, .error = topic.error_code, .is_internal = topic.is_internal};
    auto known = topics.find(topic.name);
    bool same_shape = known != topics.end() && known->second.error == ErrorCode::kNone &&
                      known->second.partitions.size() == topic.partitions.size();
    for (const auto& p : topic.partitions) {
      if (p.partition_index < 0 || p.partition_index > 1'000'000) continue;
      // Index by partition number, whatever order the broker listed them in.
      auto index = static_cast<size_t>(p.partition_index);
      if (info.partitions.size() <= index) info.partitions.resize(index + 1);
      PartitionInfo& out = info.partitions[index];
      out = {p.partition_index, p.error_code, p.leader_id,        p.leader_epoch,
             p.replica_nodes,   p.isr_nodes,  p.offline_replicas, now_ms};
      if (same_shape && index < known->second.partitions.size()) {
        const PartitionInfo& before = known->second.partitions[index];
        if (before.leader_epoch > p.leader_epoch && before.leader_id >= 0 &&
            now_ms - before.leader_learned_ms < kKeepNewerLeaderMs) {
          out.error = ErrorCode::kNone;
          out.leader_id = before.leader_id;
          out.leader_epoch = before.leader_epoch;
          out.leader_learned_ms = before.leader_learned_ms;
        }
      }
    }
    topics.insert_or_assign(topic.name, std::move(info));
  }
}

bool Cluster::note_leader(const std::string& topic, int32_t partition, int32_t leader_id,
                          int32_t leader_epoch) {
  auto known = metadata_.topics.find(topic);
  if (known == metadata_.topics.end() || partition < 0 ||
      static_cast<size_t>(partition) >= known->second.partitions.size() || leader_id < 0 ||
      metadata_.broker(leader_id) == nullptr) {
    return false;
  }
  PartitionInfo& info = known->second.partitions[static_cast<size_t>(partition)];
  if (leader_epoch <= info.leader_epoch) return false;
  info.leader_id = leader_id;
  info.leader_epoch = leader_epoch;
  info.leader_learned_ms = steady_ms();
  info.error = ErrorCode::kNone;
  return true;
}

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<transport::Connection>> Cluster::open(const std::string& endpoint) {
  transport::ConnectionOptions connection_options{
      .client_id = options_.client_id,
      .send_timeout_ms = options_.request_timeout_ms,
      .linger_ms = options_.linger_ms,
      .connect_timeout_ms = options_.connection_setup_timeout_ms,
      .curve = options_.curve};
  MQ_ASSIGN_OR_RETURN(std::unique_ptr<transport::Connection> connection,
                      transport::Connection::connect(endpoint, connection_options));
  int setup_ms = std::min(options_.request_timeout_ms, options_.connection_setup_timeout_ms);
  MQ_RETURN_IF_ERROR(connection->negotiate_versions(setup_ms).status());
  return connection;
}

Result<transport::Connection*> Cluster::connection(int32_t node_id) {
  auto it = connections_.find(node_id);
  if (it != connections_.end()) {
    // A connection that broke while nothing was in flight on it (the broker
    // restarted since) is noticed here, not by the next request's failure:
    // a new one is opened at once. One with requests in flight is watched by
    // receive_any, so the produce and fetch path reads no monitor here.
    if (it->second->in_flight() > 0 || it->second->poll_events().is_ok()) {
      return it->second.get();
    }
    connections_.erase(it);
    if (last_good_node_ == node_id) last_good_node_.reset();
  }
  std::string endpoint;
  if (node_id < 0) {
    auto index = static_cast<size_t>(-node_id - 1);
    if (index >= options_.bootstrap_endpoints.size()) {
      return Status(ErrorCode::kBrokerNotAvailable, "no bootstrap broker " + std::to_string(index));
    }
    endpoint = options_.bootstrap_endpoints[index];
  } else {
    const BrokerInfo* broker = metadata_.broker(node_id);
    if (broker == nullptr) {
      return Status(ErrorCode::kBrokerNotAvailable,
                    "broker " + std::to_string(node_id) + " is not in the metadata");
    }
    endpoint = broker->endpoint();
  }
  if (auto backoff = backoff_.find(node_id); backoff != backoff_.end()) {
    int64_t wait_ms = backoff->second.retry_at_ms - steady_ms();
    if (wait_ms > 0) {
      return Status(ErrorCode::kBrokerNotAvailable, "broker " + endpoint + " unreachable (" +
                                                        backoff->second.last_error.to_string() +
                                                        "); next attempt in " +
                                                        std::to_string(wait_ms) + " ms");
    }
  }
  Result<std::unique_ptr<transport::Connection>> connection = open(endpoint);
  if (!connection.is_ok()) {
    note_failure(node_id, connection.status());
    return connection.status();
  }
  backoff_.erase(node_id);
  serials_[node_id] = next_serial_++;
  return connections_.emplace(node_id, std::move(connection).value()).first->second.get();
}

void Cluster::note_failure(int32_t node_id, const Status& why) {
  Backoff& backoff = backoff_[node_id];
  backoff.last_error = why;
  int shift = std::min(backoff.failures, 16);
  int64_t wait_ms = std::min<int64_t>(static_cast<int64_t>(options_.reconnect_backoff_ms) << shift,
                                      options_.reconnect_backoff_max_ms);
  ++backoff.failures;
  backoff.retry_at_ms = steady_ms() + wait_ms;
}

Result<int32_t> Cluster::any_node() {
  std::vector<int32_t> candidates;
  if (last_good_node_) candidates.push_back(*last_good_node_);
  for (const BrokerInfo& broker : metadata_.brokers) candidates.push_back(broker.node_id);
  for (size_t i = 0; i < options_.bootstrap_endpoints.size(); ++i) {
    candidates.push_back(-static_cast<int32_t>(i) - 1);
  }
  Status last_error(ErrorCode::kBrokerNotAvailable, "no bootstrap brokers configured");
  for (int32_t node : candidates) {
    Result<transport::Connection*> connection = this->connection(node);
    if (connection.is_ok()) return node;
    last_error = connection.status();
  }
  return Status(ErrorCode::kBrokerNotAvailable,
                "no broker reachable; last error: " + last_error.to_string());
}

uint64_t Cluster::connection_serial(int32_t node_id) const {
  auto it = serials_.find(node_id);
  return it == serials_.end() || !connections_.contains(node_id) ? 0 : it->second;
}

void Cluster::disconnect(int32_t node_id) {
  auto it = connections_.find(node_id);
  if (it != connections_.end()) {
    Status why = it->second->broken();
    note_failure(node_id, why.is_ok() ? Status(ErrorCode::kNetworkError,
                                               "connection to " + it->second->endpoint() +
                                                   " closed after a failure")
                                      : why);
    connections_.erase(it);
  }
  if (last_good_node_ == node_id) last_good_node_.reset();
}

Status Cluster::refresh_metadata(const std::optional<std::vector<std::string>>& topics,
                                 bool allow_auto_create) {
  transport::MetadataRequest request{.topics = topics,
                                     .allow_auto_topic_creation = allow_auto_create};
  Status last_error;
  // One retry through another broker if the first one fails mid-call.
  for (int attempt = 0; attempt < 2; ++attempt) {
    MQ_ASSIGN_OR_RETURN(int32_t node, any_node());
    Result<transport::MetadataResponse> response = call(node, request);
    if (response.is_ok()) {
      last_good_node_ = node;
      metadata_.merge(*response, steady_ms());
      return Status::ok();
    }
    last_error = response.status();
    disconnect(node);
  }
  return last_error;
}

void Cluster::forget(int32_t node_id, int32_t correlation_id) {
  auto it = connections_.find(node_id);
  if (it != connections_.end()) it->second->forget(correlation_id);
}

size_t Cluster::in_flight() const {
  size_t total = 0;
  for (const auto& [node, connection] : connections_) total += connection->in_flight();
  return total;
}

Result<std::optional<NodeResponse>> Cluster::receive_any(int timeout_ms, int wake_fd) {
  const int64_t deadline = steady_ms() + timeout_ms;
  std::vector<int32_t> busy;
  std::vector<zmq_pollitem_t> items;
  while (true) {
    busy.clear();
    for (const auto& [node, connection] : connections_) {
      if (connection->in_flight() > 0) busy.push_back(node);
    }
    // Nothing in flight: only the wake fd (if any) can end the wait early.
    if (busy.empty() && wake_fd < 0) return std::optional<NodeResponse>();
    // What already arrived (or broke) is returned first, round-robin over
    // the connections so a busy one cannot starve the others.
    for (size_t i = 0; i < busy.size(); ++i) {
      int32_t node = busy[(receive_cursor_ + i) % busy.size()];
      Result<transport::InboundResponse> response = connections_.at(node)->receive(0);
      if (response.is_ok()) {
        receive_cursor_ = (receive_cursor_ + i + 1) % busy.size();
        last_good_node_ = node;
        return std::optional<NodeResponse>(
            NodeResponse{node, Status::ok(), std::move(response).value()});
      }
      if (response.code() != ErrorCode::kRequestTimedOut) {
        disconnect(node);
        return std::optional<NodeResponse>(NodeResponse{node, response.status(), {}});
      }
    }
    int64_t left = deadline - steady_ms();
    if (left <= 0) return std::optional<NodeResponse>();
    items.clear();
    for (int32_t node : busy) {
      for (void* handle : connections_.at(node)->poll_handles()) {
        items.push_back({handle, 0, ZMQ_POLLIN, 0});
      }
    }
    if (wake_fd >= 0) items.push_back({nullptr, wake_fd, ZMQ_POLLIN, 0});
    int ready = zmq_poll(items.data(), static_cast<int>(items.size()), left);
    if (ready < 0 && zmq_errno() != EINTR) {
      return Status(ErrorCode::kNetworkError,
                    std::string("zmq_poll failed: ") + zmq_strerror(zmq_errno()));
    }
    if (wake_fd >= 0 && (items.back().revents & ZMQ_POLLIN) != 0) {
      return std::optional<NodeResponse>();
    }
  }
}

}  // namespace mq::client
