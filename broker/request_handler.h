// Turns one decoded request into its response: looks up the API's handler
// (broker/handlers/, one file per API), holds requests while a starting
// broker catches up with the cluster metadata, and records each request's
// outcome in the metrics. Runs on the scheduler's worker threads; never
// touches the socket.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/handlers/handlers.h"
#include "transport/message.h"

namespace mq::broker {

class RequestHandler {
 public:
  // Delivers the encoded response (empty frames: none is due, acks=0).
  using Reply = handlers::Reply;

  RequestHandler(ReplicaManager& replicas, Scheduler& scheduler, BrokerMetrics& metrics,
                 BrokerIdentity identity)
      : ctx_{.replicas = replicas,
             .scheduler = scheduler,
             .metrics = metrics,
             .identity = std::move(identity)} {}

  // The setters are called once, before the server starts reading requests
  // (handlers::Context says what each part is for).
  void set_identity(const BrokerIdentity& identity) { ctx_.identity = identity; }
  void set_coordinator(group::GroupCoordinator* coordinator) { ctx_.coordinator = coordinator; }
  void set_cluster(ClusterView* cluster) { ctx_.cluster = cluster; }
  void set_disk_monitor(DiskMonitor* disk) { ctx_.disk = disk; }
  void set_broker_settings(BrokerSettings* settings) { ctx_.settings = settings; }
  void set_delayed_delivery(DelayedDelivery* delayed) { ctx_.delayed = delayed; }
  void set_queue_service(QueueService* queue) { ctx_.queue = queue; }
  void set_authorizer(Authorizer* authorizer) { ctx_.authorizer = authorizer; }

  // Handles `request` and calls `reply` exactly once, maybe later (long
  // poll, or held while a starting cluster broker catches up).
  void handle(transport::InboundRequest request, Reply reply);

  // A stopping broker's last moments: every request from now on is
  // answered at once with LEADER_NOT_AVAILABLE (COORDINATOR_NOT_AVAILABLE
  // for group requests), retriable, so its client asks another broker
  // instead of waiting for a connection that is about to close.
  void refuse_new_requests() { refusing_ = true; }

  // How long a request that needs the metadata waits for a starting cluster
  // broker to catch up before it is refused (retriably).
  static constexpr std::chrono::milliseconds kCatchUpHold{5000};

 private:
  struct HeldRequest;
  // `handler`: the api's entry in the handler table, looked up once per
  // request (nullptr: none).
  void dispatch(const handlers::Handler* handler, transport::InboundRequest request, Reply reply,
                std::chrono::steady_clock::time_point started);
  // Dispatches the request once the cluster metadata has caught up; past
  // kCatchUpHold answers LEADER_NOT_AVAILABLE (COORDINATOR_NOT_AVAILABLE
  // for group requests).
  void hold_until_caught_up(std::shared_ptr<HeldRequest> held);

  // The request-level answer of a broker that cannot serve `request` now.
  static transport::Frames unavailable(const transport::RequestHeader& header,
                                       const handlers::Handler* handler, const std::string& why);

  handlers::Context ctx_;
  std::atomic<bool> refusing_{false};
};

}  // namespace mq::broker
