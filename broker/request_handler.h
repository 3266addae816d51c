// Turns one decoded request into its response: the produce, fetch, offsets,
// metadata and admin paths of the broker, readable top to bottom here.
// Runs on the scheduler's worker threads; never touches the socket.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "broker/broker_metrics.h"
#include "broker/cluster_view.h"
#include "broker/delayed_produce.h"
#include "broker/disk_monitor.h"
#include "broker/replica_manager.h"
#include "broker/scheduler.h"
#include "group/coordinator.h"
#include "transport/message.h"
#include "transport/messages.h"

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
  // The group coordinator; group requests are answered COORDINATOR_NOT_AVAILABLE without one.
  void set_coordinator(group::GroupCoordinator* coordinator) { coordinator_ = coordinator; }
  // Answers Metadata, DescribeCluster, ElectLeaders, DescribeQuorum and the
  // reassignments, and takes the topic changes. Required for them; an
  // in-process harness that only produces, fetches and replicates may leave
  // it unset.
  void set_cluster(ClusterView* cluster) { cluster_ = cluster; }
  // Produce is refused while it says the data directory is full.
  void set_disk_monitor(DiskMonitor* disk) { disk_ = disk; }

  // Handles `request` and calls `reply` exactly once, maybe later (long
  // poll, or held while a starting cluster broker catches up).
  void handle(transport::InboundRequest request, Reply reply);

  // How long a request that needs the metadata waits for a starting cluster
  // broker to catch up before it is refused (retriably).
  static constexpr std::chrono::milliseconds kCatchUpHold{5000};

 private:
  struct FetchState;
  struct HeldRequest;
  void dispatch(transport::InboundRequest request, Reply reply,
                std::chrono::steady_clock::time_point started);
  // Dispatches the request once the cluster metadata has caught up; past
  // kCatchUpHold answers LEADER_NOT_AVAILABLE (COORDINATOR_NOT_AVAILABLE
  // for group requests).
  void hold_until_caught_up(std::shared_ptr<HeldRequest> held);
  // Decodes a `Request`, answers it with `handler(request)`, or with the
  // decoding error; no answer when the client asked for none (acks=0).
  template <class Request, class Handler>
  void serve(const transport::InboundRequest& request, const Reply& reply, Handler handler) {
    Result<Request> decoded = transport::decode_request<Request>(request);
    if (!decoded.is_ok()) {
      return reply(transport::encode_error_response(request.header, decoded.code(),
                                                    decoded.status().message()));
    }
    auto response = handler(*decoded);
    if (!request.header.expects_response()) return reply({});
    reply(encode(request.header, response));
  }
  // The response's frames, or UNKNOWN_SERVER_ERROR if it cannot be encoded.
  template <class Response>
  static transport::Frames encode(const transport::RequestHeader& header,
                                  const Response& response) {
    Result<transport::Frames> frames = transport::encode_response(response, header);
    if (frames.is_ok()) return std::move(frames).value();
    return transport::encode_error_response(header, ErrorCode::kUnknown, frames.status().message());
  }
  // Answers a group request: NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE
  // unless this broker coordinates `group_id`, else `handler(coordinator)`.
  template <class Request, class Handler>
  void serve_group(const transport::InboundRequest& request, const Reply& reply, Handler handler);
  void join_group(const transport::InboundRequest& request, const Reply& reply);
  // NONE when this broker coordinates the group.
  ErrorCode coordinator_error(const std::string& group_id) const;
  // Several groups, maybe coordinated by different brokers.
  transport::DescribeGroupsResponse describe_groups(
      group::GroupCoordinator& coordinator, const transport::DescribeGroupsRequest& request);
  transport::DeleteGroupsResponse delete_groups(group::GroupCoordinator& coordinator,
                                                const transport::DeleteGroupsRequest& request);
  // Where a leader epoch ends, for a follower truncating a divergent tail.
  transport::OffsetForLeaderEpochResponse offset_for_leader_epoch(
      const transport::OffsetForLeaderEpochRequest& request);
  transport::FindCoordinatorResponse find_coordinator(
      const transport::FindCoordinatorRequest& request);

  void fetch(std::shared_ptr<FetchState> state);
  // Appends; answers now, or once acks=all batches are replicated (DelayedProduce).
  void produce(const transport::InboundRequest& request, const Reply& reply);
  transport::ProduceResponse produce(const transport::ProduceRequest& request,
                                     std::vector<DelayedProduce::Pending>* pending);
  // INVALID_PRODUCER_EPOCH if a batch's producer epoch is older than the
  // id's current one (InitProducerId bumped it since), even on a partition
  // that has not seen the newer epoch yet.
  Status check_producer_epochs(std::span<const uint8_t> batches) const;
  transport::ListOffsetsResponse list_offsets(const transport::ListOffsetsRequest& request);
  transport::InitProducerIdResponse init_producer_id(
      const transport::InitProducerIdRequest& request);
  transport::ApiVersionsResponse api_versions(const transport::ApiVersionsRequest& request);
  // topic_requests.cc
  transport::CreateTopicsResponse create_topics(const transport::CreateTopicsRequest& request);
  transport::DeleteTopicsResponse delete_topics(const transport::DeleteTopicsRequest& request);
  transport::CreatePartitionsResponse create_partitions(
      const transport::CreatePartitionsRequest& request);
  transport::DescribeConfigsResponse describe_configs(
      const transport::DescribeConfigsRequest& request);
  transport::AlterConfigsResponse alter_configs(const transport::AlterConfigsRequest& request);
  // The partition, auto-creating its topic when the broker allows it.
  std::shared_ptr<Partition> find_partition(const std::string& topic, int32_t index,
                                            bool may_create, ErrorCode* error);

  ReplicaManager& replicas_;
  Scheduler& scheduler_;
  BrokerMetrics& metrics_;
  BrokerIdentity identity_;
  group::GroupCoordinator* coordinator_ = nullptr;
  DiskMonitor* disk_ = nullptr;
  ClusterView* cluster_ = nullptr;
};

}  // namespace mq::broker
