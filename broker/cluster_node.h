// ClusterNode: mqd's data plane in cluster mode, driven by the metadata. It
// owns the ClusterMember (quorum, controller, registration), answers the
// request handler's ClusterView questions from the metadata image, and turns
// each image's changes for this broker into actions: open the local replica,
// make it leader or follower with the committed epochs, replicas and ISR,
// start or stop following with one ReplicaFetcher per leader broker, delete
// replicas moved away and topics deleted. It also sends the leaders' ISR
// proposals to the controller (AlterPartition), asks leaders to shrink their
// ISR periodically and fetches producer-id blocks from the controller.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "broker/cluster_member.h"
#include "broker/cluster_view.h"
#include "broker/config.h"
#include "broker/partition.h"
#include "broker/replica_fetcher.h"
#include "broker/replica_manager.h"

namespace mq::broker {

class ClusterNode : public ClusterView, private IsrChanger {
 public:
  ClusterNode(const BrokerConfig& config, ReplicaManager& replicas);
  ~ClusterNode() override;  // stop()

  // After the client listener is bound: registers that endpoint.
  Status start(const std::string& client_endpoint);
  // Before stop(), on a clean shutdown: asks the controller to move this
  // broker's leaderships to other in-sync replicas and waits until its
  // image shows none led here, up to `timeout`. Errors are only logged: the
  // broker stops anyway and its partitions fail over after its session.
  void controlled_shutdown(std::chrono::milliseconds timeout);
  void stop();

  ClusterMember& member() { return *member_; }

  // Told, on the ClusterMember's lifecycle thread, whenever the metadata
  // makes this broker the leader of a partition (`leading`, with its leader
  // epoch; repeated for ISR-only changes) or a follower, or removes the
  // replica (not leading, epoch -1). The group coordinator follows the
  // __consumer_offsets partitions with it. Must not block; set it before
  // start() and clear it (empty function) before what it calls goes away:
  // clearing waits for a call in progress.
  using LeadershipListener = std::function<void(const std::string& topic, int32_t partition,
                                                bool leading, int32_t leader_epoch)>;
  void set_leadership_listener(LeadershipListener listener);
  // Every followed partition's replication status, for metrics.
  std::vector<FollowerPartitionStatus> follower_statuses() const;

  // ClusterView
  bool caught_up() const override { return member_ != nullptr && member_->caught_up(); }
  transport::MetadataResponse metadata(const transport::MetadataRequest& request) override;
  transport::DescribeClusterResponse describe_cluster() override;
  bool knows_partition(const std::string& topic, int32_t index) const override;
  std::optional<Leader> leader_of(const std::string& topic, int32_t index) const override;
  Status create_topic(const std::string& name, int32_t partitions, int32_t replication_factor,
                      const TopicOverrides& configs,
                      const std::vector<std::vector<int32_t>>& assignment,
                      bool validate_only) override;
  Status delete_topic(const std::string& name) override;
  Status add_partitions(const std::string& name, int32_t total, bool validate_only) override;
  Status alter_topic_configs(const std::string& name, const TopicOverrides& set,
                             const std::vector<std::string>& remove, bool validate_only) override;
  transport::ElectLeadersResponse elect_leaders(
      const transport::ElectLeadersRequest& request) override;
  transport::DescribeQuorumResponse describe_quorum() override;
  transport::AddRaftVoterResponse add_raft_voter(
      const transport::AddRaftVoterRequest& request) override;
  transport::RemoveRaftVoterResponse remove_raft_voter(
      const transport::RemoveRaftVoterRequest& request) override;
  transport::UnregisterBrokerResponse unregister_broker(
      const transport::UnregisterBrokerRequest& request) override;
  std::shared_ptr<const metadata::MetadataImage> image() const override;
  transport::DescribeAclsResponse describe_acls(
      const transport::DescribeAclsRequest& request) override;
  transport::CreateAclsResponse create_acls(const transport::CreateAclsRequest& request) override;
  transport::DeleteAclsResponse delete_acls(const transport::DeleteAclsRequest& request) override;
  transport::AlterPartitionReassignmentsResponse alter_reassignments(
      const transport::AlterPartitionReassignmentsRequest& request) override;
  transport::ListPartitionReassignmentsResponse list_reassignments(
      const transport::ListPartitionReassignmentsRequest& request) override;

 private:
  // ClusterMember's change handler (its lifecycle thread).
  void apply(const metadata::MetadataImage& image,
             const std::vector<metadata::LocalPartitionChange>& changes);
  void apply_one(const metadata::MetadataImage& image,
                 const metadata::LocalPartitionChange& change);
  // `throttled`: this broker is being added to the partition by a
  // reassignment, so it fetches under the reassignment throttle.
  void follow(const metadata::MetadataImage& image, const std::shared_ptr<Partition>& partition,
              int32_t leader, int32_t leader_epoch, bool throttled);
  void unfollow(const std::string& topic, int32_t partition);
  void tell_leadership(const std::string& topic, int32_t partition, bool leading,
                       int32_t leader_epoch);
  // IsrChanger: queued for the worker thread, which makes the call.
  void propose(const IsrProposal& proposal, std::function<void(Status)> done) override;
  void work();
  // Waits until this broker's image satisfies `done` (a committed change has
  // reached it), so a client's next request here sees it: woken by each new
  // image, no polling.
  Status await_image(const std::function<bool(const metadata::MetadataImage&)>& done);
  // await_image(), then until every live broker has acted on this image too
  // (the controller's BrokersBehind), so a client's next request to any
  // broker sees the change. Both bounded by call_timeout(); brokers still
  // behind then are logged and the change is answered anyway (it is
  // committed).
  Status await_everywhere(const std::function<bool(const metadata::MetadataImage&)>& done);
  std::chrono::milliseconds call_timeout() const;

  BrokerConfig config_;
  ReplicaManager& replicas_;
  std::shared_ptr<ReplicationThrottle> reassignment_throttle_;  // shared by the fetchers
  std::unique_ptr<ClusterMember> member_;
  std::mutex listener_mu_;
  LeadershipListener listener_;

  mutable std::mutex fetchers_mu_;
  std::map<int32_t, std::unique_ptr<ReplicaFetcher>> fetchers_;  // by leader broker id
  std::map<std::pair<std::string, int32_t>, int32_t> followed_;  // partition -> leader id

  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> work_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace mq::broker
