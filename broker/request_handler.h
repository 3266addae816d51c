// Turns one decoded request into its response: the produce, fetch, offsets,
// metadata and admin paths of the broker, readable top to bottom here.
// Runs on the scheduler's worker threads; never touches the socket.
#pragma once

#include <functional>
#include <string>

#include "broker/broker_metrics.h"
#include "broker/replica_manager.h"
#include "broker/scheduler.h"
#include "transport/message.h"

namespace mq::broker {

struct BrokerIdentity {
  int32_t node_id = 1;
  std::string host;
  int32_t port = 0;
};

class RequestHandler {
 public:
  // Delivers the encoded response (empty frames: none is due, acks=0).
  using Reply = std::function<void(transport::Frames)>;

  RequestHandler(ReplicaManager& replicas, Scheduler& scheduler, BrokerMetrics& metrics,
                 BrokerIdentity identity)
      : replicas_(replicas), scheduler_(scheduler), metrics_(metrics), identity_(identity) {}

  // Set once, before the server starts reading requests.
  void set_identity(const BrokerIdentity& identity) { identity_ = identity; }

  // Handles `request` and calls `reply` exactly once, maybe later (long poll).
  void handle(transport::InboundRequest request, Reply reply);

 private:
  struct FetchState;
  void produce(const transport::InboundRequest& request, const Reply& reply);
  void fetch(std::shared_ptr<FetchState> state);
  void metadata(const transport::InboundRequest& request, const Reply& reply);
  void list_offsets(const transport::InboundRequest& request, const Reply& reply);
  void init_producer_id(const transport::InboundRequest& request, const Reply& reply);
  void api_versions(const transport::InboundRequest& request, const Reply& reply);
  void create_topics(const transport::InboundRequest& request, const Reply& reply);
  void delete_topics(const transport::InboundRequest& request, const Reply& reply);
  void create_partitions(const transport::InboundRequest& request, const Reply& reply);
  void describe_configs(const transport::InboundRequest& request, const Reply& reply);
  void alter_configs(const transport::InboundRequest& request, const Reply& reply);

  // The partition, auto-creating its topic when the broker allows it.
  std::shared_ptr<Partition> find_partition(const std::string& topic, int32_t index,
                                            bool may_create, ErrorCode* error);

  ReplicaManager& replicas_;
  Scheduler& scheduler_;
  BrokerMetrics& metrics_;
  BrokerIdentity identity_;
};

}  // namespace mq::broker
