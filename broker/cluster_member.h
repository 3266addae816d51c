// ClusterMember: this broker's place in a cluster. It runs the quorum member
// (voter or observer) with the MetadataStore as its state machine, the
// ClusterController while this node leads, and the broker's lifecycle
// thread: register with the controller (a new incarnation each start),
// heartbeat every cluster.broker_heartbeat_interval_ms with the metadata
// index handed over so far (and soon after each new image, so admin calls
// waiting for every broker learn it has their change), and hand every new
// image's changes for this broker to the broker (which opens replicas and
// makes them leaders or followers).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/cluster_controller.h"
#include "broker/config.h"
#include "broker/controller_rpc.h"
#include "broker/metadata_store.h"
#include "quorum/quorum_service.h"

namespace mq::broker {

struct ClusterMemberOptions {
  std::string client_endpoint;  // registered: where clients and followers connect
  bool clean_shutdown = true;   // whether the previous run closed every log cleanly
};

class ClusterMember {
 public:
  // Changes for this broker between the last image handed over and `image`,
  // on the lifecycle thread, in order; images are coalesced when they come
  // faster than the broker takes them.
  using ChangeHandler =
      std::function<void(const metadata::MetadataImage& image,
                         const std::vector<metadata::LocalPartitionChange>& changes)>;

  ClusterMember(const BrokerConfig& config, ClusterMemberOptions options);
  ~ClusterMember();  // stop()

  void set_change_handler(ChangeHandler handler);
  // Starts the quorum member and the lifecycle thread. Registration and
  // unfencing happen in the background: registered() and fenced() tell.
  Status start();
  void stop();

  // A call to the active controller, retried across leader changes until `timeout`.
  template <class Reply, class Request>
  Result<Reply> call(CallKind kind, const Request& request, std::chrono::milliseconds timeout) {
    MQ_ASSIGN_OR_RETURN(Bytes reply, quorum_->call_leader(encode_call(kind, request), timeout));
    return decode_reply<Reply>(reply);
  }

  // The same with the bytes of a call as they are (tests of malformed calls).
  Result<Bytes> call_bytes(Bytes request, std::chrono::milliseconds timeout) {
    return quorum_->call_leader(std::move(request), timeout);
  }

  std::shared_ptr<const metadata::MetadataImage> image() const { return store_.image(); }
  const MetadataStore& store() const { return store_; }
  quorum::QuorumStatus quorum_status() const { return quorum_->status(); }
  const std::string& quorum_endpoint() const { return quorum_->endpoint(); }
  int32_t broker_id() const { return config_.node_id; }
  // 0 until registered; the epoch of this incarnation's registration.
  int64_t broker_epoch() const { return broker_epoch_.load(); }
  bool fenced() const { return fenced_.load(); }
  // True once this incarnation has caught up with the metadata as the quorum
  // had it when it registered: every batch up to its registration record
  // (whose index is its broker epoch, past the commit index when it started)
  // was handed to the broker, and the controller has unfenced it once. Before
  // that the image may lack topics, or show leaderships of the previous
  // incarnation, and a topic created through it could not be placed on this
  // broker, so it answers no client from it.
  bool caught_up() const { return caught_up_.load(); }
  uint64_t incarnation_id() const { return incarnation_id_; }

 private:
  void run();
  void heartbeat();
  void hand_over_changes();
  void check_caught_up();  // lifecycle thread

  BrokerConfig config_;
  ClusterMemberOptions options_;
  uint64_t incarnation_id_;
  MetadataStore store_;
  std::unique_ptr<quorum::QuorumService> quorum_;
  std::unique_ptr<ClusterController> controller_;
  ChangeHandler on_changes_;

  std::atomic<int64_t> broker_epoch_{0};
  std::atomic<bool> fenced_{true};
  std::atomic<bool> caught_up_{false};
  std::shared_ptr<const metadata::MetadataImage> handed_over_;  // lifecycle thread
  uint64_t reported_offset_ = 0;  // lifecycle thread: the last offset a heartbeat carried

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool image_changed_ = false;
  std::thread thread_;
};

}  // namespace mq::broker
