// The network side of mqd: one thread owns the ZeroMQ ROUTER socket (ZeroMQ
// sockets are single-threaded), hands each request to the worker pool and
// sends back the responses the workers queue for it.
//
// Back-pressure: requests and responses in flight are counted, in bytes and in
// number; past limits.buffer_memory_bytes or limits.max_inflight_requests the
// thread stops reading the socket, so ZeroMQ's queues fill and TCP pushes back
// on the clients, instead of mqd's memory growing without bound.
#pragma once

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"
#include "broker/broker_metrics.h"
#include "broker/request_handler.h"
#include "broker/scheduler.h"
#include "transport/listener.h"
#include "transport/principals.h"

namespace mq::broker {

struct ServerOptions {
  std::string endpoint;
  int64_t max_request_bytes = 100 * 1024 * 1024;
  int64_t buffer_memory_bytes = 512 * 1024 * 1024;
  int64_t max_inflight_requests = 10000;
  int64_t max_connections = 10000;  // 0: no limit
  transport::CurveServer curve;     // empty secret key: plain text
  // Authentication (docs/security.md); null: any CURVE client is served.
  std::shared_ptr<const transport::Authenticator> authenticator;
};

class Server {
 public:
  Server(RequestHandler& handler, Scheduler& scheduler, BrokerMetrics& metrics)
      : handler_(handler), scheduler_(scheduler), metrics_(metrics) {}
  ~Server();

  // Binds the socket (endpoint() then has the real port).
  Status bind(const ServerOptions& options);
  // Starts the network thread.
  void serve();
  const std::string& endpoint() const { return endpoint_; }
  // Keeps serving until requests stop arriving (20 ms without one and none
  // in flight, at most 300 ms), then answers new ones with a retriable
  // error (RequestHandler::refuse_new_requests) while the ones in flight
  // finish, then stops reading and closes the socket; all within
  // `timeout_ms`.
  void stop(int64_t timeout_ms);
  // New back-pressure limits (SIGHUP).
  void set_limits(int64_t buffer_memory_bytes, int64_t max_inflight_requests,
                  int64_t max_connections) {
    buffer_limit_ = buffer_memory_bytes;
    inflight_limit_ = max_inflight_requests;
    connection_limit_ = max_connections;
  }
  // Seconds since the network thread last went round its loop: /healthz fails
  // when it is stuck.
  double seconds_since_last_loop() const;
  int64_t in_flight_requests() const { return in_flight_requests_.load(); }

 private:
  struct Outbound {
    std::string peer;
    transport::Frames frames;
    int64_t request_bytes;
  };
  void loop();
  bool has_room() const;
  void dispatch(transport::InboundRequest request, int64_t bytes);
  void send_ready_responses();

  RequestHandler& handler_;
  Scheduler& scheduler_;
  BrokerMetrics& metrics_;
  std::unique_ptr<transport::Listener> listener_;
  std::string endpoint_;
  ServerOptions options_;
  int wake_fd_ = -1;  // eventfd: workers signal queued responses
  std::mutex outbound_mu_;
  std::deque<Outbound> outbound_;
  std::atomic<int64_t> buffered_bytes_{0};
  std::atomic<int64_t> buffer_limit_{0};
  std::atomic<int64_t> inflight_limit_{0};
  std::atomic<int64_t> connection_limit_{0};
  std::atomic<int64_t> in_flight_requests_{0};
  std::atomic<bool> accepting_{true};
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> last_loop_ns_{0};
  std::atomic<int64_t> last_request_ns_{0};  // when the network thread last read a request
  std::thread thread_;
  void update_connection_metrics();
  uint64_t rejected_seen_ = 0;                 // network thread only
  transport::ListenerStats connections_seen_;  // network thread only
  // Peers with a request being handled, and their requests waiting behind it
  // (with their sizes). Network thread only.
  std::map<std::string, std::deque<std::pair<transport::InboundRequest, int64_t>>> peers_;
};

}  // namespace mq::broker
