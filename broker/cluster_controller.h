// ClusterController: the active controller's runtime. While this node is the
// quorum's controller it owns a metadata::Controller (the decisions) and one
// thread that takes controller calls and timers one at a time: decide from
// the latest image, propose the records through the quorum, wait until they
// are applied here, answer. One decision at a time is what
// metadata::Controller's contract asks for (docs/cluster.md, "The
// controller").
#pragma once

#include <array>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/controller_rpc.h"
#include "broker/metadata_store.h"
#include "metadata/controller.h"
#include "quorum/quorum_service.h"

namespace mq::broker {

struct ClusterControllerConfig {
  metadata::ControllerConfig decisions;
  int64_t tick_interval_ms = 100;     // fencing, elections, rebalance checks
  int64_t commit_timeout_ms = 10000;  // a proposal not applied by then fails the call
};

class ClusterController {
 public:
  ClusterController(ClusterControllerConfig config, quorum::QuorumService& quorum,
                    MetadataStore& store);
  ~ClusterController();  // stop()
  ClusterController(const ClusterController&) = delete;
  ClusterController& operator=(const ClusterController&) = delete;

  // The quorum's controller handler: queues the call (any thread, never
  // blocks). `from` is the calling broker's node id: a call that names the
  // broker it comes from (registration, heartbeat, ISR change, producer ids,
  // controlled shutdown, producer epoch bump) must name that one.
  void handle(quorum::NodeId from, Bytes request, quorum::ReplyFn reply);
  // From MetadataStore's leader listener.
  void set_active(bool active);
  void stop();

  uint64_t decisions() const;

 private:
  struct Call {
    quorum::NodeId from;
    Bytes request;
    quorum::ReplyFn reply;
  };
  void run();
  void activate();
  Bytes dispatch(quorum::NodeId from, const Bytes& request);
  // Proposes `batch` and waits until it is applied here: the raft index, or
  // why it failed (not controller any more, rejected by the image, timeout).
  Result<uint64_t> commit(const metadata::RecordBatch& batch);
  // Runs one decision that returns records and a response.
  template <class Response, class Decide>
  Result<Response> decide(Decide decide);
  // Adds or removes a quorum voter through the quorum; waits for the commit.
  Result<EmptyReply> change_voters(bool add, const VoterChangeCall& call);

  // The controller calls' handlers, one per CallKind (kHandlers maps them;
  // docs/cluster.md, "Controller calls"); on the controller thread only.
  Result<RegisterBrokerReply> register_broker(const metadata::BrokerRegistration& call);
  Result<metadata::HeartbeatResponse> heartbeat(const metadata::BrokerHeartbeat& call);
  Result<AlterPartitionReply> alter_partition(const metadata::AlterPartitionRequest& call);
  Result<metadata::ProducerIdBlock> allocate_producer_ids(const BrokerEpochCall& call);
  Result<CreateTopicReply> create_topic(const CreateTopicCall& call);
  Result<EmptyReply> delete_topic(const DeleteTopicCall& call);
  Result<EmptyReply> add_partitions(const AddPartitionsCall& call);
  Result<EmptyReply> alter_topic_configs(const AlterTopicConfigsCall& call);
  Result<ElectLeadersReply> elect_leaders(const ElectLeadersCall& call);
  // Reassignments and cancellations, each partition decided on its own, one commit.
  Result<AlterReassignmentsReply> alter_reassignments(const AlterReassignmentsCall& call);
  Result<metadata::ControlledShutdownResponse> controlled_shutdown(const BrokerEpochCall& call);
  Result<BumpProducerEpochReply> bump_producer_epoch(const BumpProducerEpochCall& call);
  Result<BrokersBehindReply> brokers_behind(const BrokersBehindCall& call);
  Result<EmptyReply> add_voter(const VoterChangeCall& call);
  Result<EmptyReply> remove_voter(const VoterChangeCall& call);
  Result<EmptyReply> unregister_broker(const UnregisterBrokerCall& call);
  Result<transport::CreateAclsResponse> create_acls(const transport::CreateAclsRequest& call);
  Result<transport::DeleteAclsResponse> delete_acls(const transport::DeleteAclsRequest& call);

  struct Handler;
  static const std::array<Handler, 18> kHandlers;

  ClusterControllerConfig config_;
  quorum::QuorumService& quorum_;
  MetadataStore& store_;
  std::unique_ptr<metadata::Controller> controller_;  // controller thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Call> calls_;
  bool active_ = false;
  uint64_t activation_ = 0;  // bumped on every change of active_
  bool stop_ = false;
  uint64_t decisions_ = 0;
  std::thread thread_;
};

}  // namespace mq::broker
