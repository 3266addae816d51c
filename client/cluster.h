// Cluster: the client's connections to brokers and its view of the cluster.
// Bootstraps from the configured broker list, learns the brokers and leaders
// from Metadata, and opens one Connection per broker on first use
// (negotiating api versions). Shared by the producer, consumer and admin
// client; internal to client/.
//
// Not thread-safe: ZeroMQ sockets are single-threaded, so one thread owns a
// Cluster (the producer's I/O thread, the consumer's poll() caller, the admin
// client's calls under its mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/metadata.h"
#include "transport/connection.h"

namespace mq::client {

// The connection settings of a client's CurveSettings (the public half of
// its secret key derived when the connection is made).

struct ClusterOptions {
  std::vector<std::string> bootstrap_endpoints;  // "tcp://host:port"
  std::string client_id;
  int request_timeout_ms = 30'000;
  // Opening a connection (TCP connect and version negotiation) may take this
  // long; a broker that does not answer in time counts as unreachable.
  int connection_setup_timeout_ms = 10'000;
  // After a broker was unreachable or its connection broke, it is not tried
  // again for this long, doubling per consecutive failure up to the max
  // (Kafka's reconnect.backoff.ms / reconnect.backoff.max.ms).
  int reconnect_backoff_ms = 50;
  int reconnect_backoff_max_ms = 1'000;
  // How long closing a connection may take to deliver what is queued on it
  // (ZeroMQ's linger): 0 drops it. An acks=0 producer's records count as
  // sent once queued, so its connections deliver them before they close.
  int linger_ms = 0;
  // Encryption of every connection (docs/security.md).
  transport::CurveClient curve;
};

// A response and the node whose connection it came from. A non-ok `error`
// means the connection to the node failed and was closed: every request in
// flight on it is lost.
struct NodeResponse {
  int32_t node_id = -1;
  Status error;
  transport::InboundResponse response;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // Fetches metadata for `topics` (nullopt = all topics) from any reachable
  // broker and merges it into metadata(). With `allow_auto_create` the
  // broker creates the missing ones if its topics.auto_create allows.
  Status refresh_metadata(const std::optional<std::vector<std::string>>& topics,
                          bool allow_auto_create = false);
  const ClusterMetadata& metadata() const { return metadata_; }
  // A broker's answer named `leader_id` (a broker the metadata lists) as the
  // partition's leader in `leader_epoch`: recorded if that epoch is newer
  // than the one known. Returns whether it was.
  bool note_leader(const std::string& topic, int32_t partition, int32_t leader_id,
                   int32_t leader_epoch);

  // The connection to broker `node_id`, opened (and versions negotiated) on
  // first use. Bootstrap connections have node ids -1, -2, ...
  Result<transport::Connection*> connection(int32_t node_id);
  // Some broker that answers: the last one that did, else each bootstrap broker in turn.
  Result<int32_t> any_node();
  // Closes the connection to `node_id` after a failure; requests in flight on it are lost.
  void disconnect(int32_t node_id);
  // Names the current connection to `node_id` (0: none). A request sent on
  // a connection that is no longer the current one will never be answered:
  // whoever closed it (a failed call, a broken socket) lost it.
  uint64_t connection_serial(int32_t node_id) const;

  // Sends `request` to `node_id` at the negotiated version and waits for its answer.
  template <class Request>
  Result<typename Request::Response> call(int32_t node_id, const Request& request) {
    MQ_ASSIGN_OR_RETURN(transport::Connection * connection, this->connection(node_id));
    Result<typename Request::Response> response =
        connection->call(request, options_.request_timeout_ms);
    if (!response.is_ok() && (response.code() == ErrorCode::kNetworkError ||
                              response.code() == ErrorCode::kRequestTimedOut)) {
      disconnect(node_id);
    }
    return response;
  }

  // Waits up to `timeout_ms` for a response on any connection with requests
  // in flight, or for a connection to break (a NodeResponse with an error:
  // every request in flight on it is lost, and the connection is closed).
  // nullopt on timeout or when `wake_fd` (a file descriptor, -1 for none)
  // became readable; at once when nothing is in flight and there is no wake_fd.
  Result<std::optional<NodeResponse>> receive_any(int timeout_ms, int wake_fd = -1);
  // Requests in flight over all connections.
  size_t in_flight() const;
  // Stops waiting for a request that timed out; a late answer is dropped.
  void forget(int32_t node_id, int32_t correlation_id);

  int request_timeout_ms() const { return options_.request_timeout_ms; }

 private:
  Result<std::unique_ptr<transport::Connection>> open(const std::string& endpoint);

  struct Backoff {
    int failures = 0;
    int64_t retry_at_ms = 0;  // steady clock
    Status last_error;        // why the node was last given up on
  };
  void note_failure(int32_t node_id, const Status& why);

  ClusterOptions options_;
  ClusterMetadata metadata_;
  std::map<int32_t, Backoff> backoff_;  // nodes that failed lately
  std::map<int32_t, std::unique_ptr<transport::Connection>> connections_;
  std::map<int32_t, uint64_t> serials_;  // of the connections in connections_
  uint64_t next_serial_ = 1;
  std::optional<int32_t> last_good_node_;
  size_t receive_cursor_ = 0;  // round-robin start of receive_any
};

}  // namespace mq::client
