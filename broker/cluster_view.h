// ClusterView: what the request handler asks of the cluster (a single node
// is a cluster of one voter). Metadata is answered from the metadata image;
// topic changes go to the active controller and return once they are
// committed and every live broker has applied them (bounded: see
// ClusterNode::await_everywhere).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/topic_config.h"
#include "metadata/image.h"
#include "transport/acls.h"
#include "transport/cluster_admin.h"
#include "transport/metadata.h"

namespace mq::broker {

class ClusterView {
 public:
  virtual ~ClusterView() = default;

  // False while a starting broker's metadata is behind the quorum's as of
  // its start (ClusterMember::caught_up): the handler holds the requests it
  // would answer from the metadata until then.
  virtual bool caught_up() const = 0;
  virtual transport::MetadataResponse metadata(const transport::MetadataRequest& request) = 0;
  // Every registered broker with its fencing state, from this broker's image.
  virtual transport::DescribeClusterResponse describe_cluster() = 0;
  // Whether the metadata knows the partition (one that is not on this
  // broker is NOT_LEADER, not UNKNOWN_TOPIC_OR_PARTITION).
  virtual bool knows_partition(const std::string& topic, int32_t index) const = 0;
  // Who leads the partition in this broker's image (the id is -1 when it
  // has no leader now); nullopt when the image does not know the partition.
  struct Leader {
    int32_t id = -1;
    int32_t epoch = -1;
  };
  virtual std::optional<Leader> leader_of(const std::string& topic, int32_t index) const = 0;
  // partitions / replication_factor -1: the broker defaults. `assignment`:
  // one replica list per partition, or empty for the controller's choice.
  virtual Status create_topic(const std::string& name, int32_t partitions,
                              int32_t replication_factor, const TopicOverrides& configs,
                              const std::vector<std::vector<int32_t>>& assignment,
                              bool validate_only) = 0;
  virtual Status delete_topic(const std::string& name) = 0;
  virtual Status add_partitions(const std::string& name, int32_t total, bool validate_only) = 0;
  virtual Status alter_topic_configs(const std::string& name, const TopicOverrides& set,
                                     const std::vector<std::string>& remove,
                                     bool validate_only) = 0;
  // Leader elections by the active controller; answers once the new leaders
  // are committed and in every live broker's image (docs/protocol.md, ElectLeaders).
  virtual transport::ElectLeadersResponse elect_leaders(
      const transport::ElectLeadersRequest& request) = 0;
  // This node's view of the metadata quorum; members' progress on the leader only.
  virtual transport::DescribeQuorumResponse describe_quorum() = 0;
  // Voter changes through the active controller; answered once the new
  // voter set is committed (docs/protocol.md, AddRaftVoter).
  virtual transport::AddRaftVoterResponse add_raft_voter(
      const transport::AddRaftVoterRequest& request) = 0;
  virtual transport::RemoveRaftVoterResponse remove_raft_voter(
      const transport::RemoveRaftVoterRequest& request) = 0;
  // Removes a retired broker's registration; answered once no live broker's
  // image lists it.
  virtual transport::UnregisterBrokerResponse unregister_broker(
      const transport::UnregisterBrokerRequest& request) = 0;
  // Reassignments through the active controller; answers once the decisions
  // are committed and in every live broker's image (docs/protocol.md).
  virtual transport::AlterPartitionReassignmentsResponse alter_reassignments(
      const transport::AlterPartitionReassignmentsRequest& request) = 0;
  // The partitions being reassigned, from this broker's image.
  virtual transport::ListPartitionReassignmentsResponse list_reassignments(
      const transport::ListPartitionReassignmentsRequest& request) = 0;
  // This broker's metadata image (the authorizer reads its ACLs).
  virtual std::shared_ptr<const metadata::MetadataImage> image() const = 0;
  // The ACLs in this broker's image that the filter selects.
  virtual transport::DescribeAclsResponse describe_acls(
      const transport::DescribeAclsRequest& request) = 0;
  // ACL changes through the active controller; answered once committed and
  // in every live broker's image (docs/protocol.md, CreateAcls).
  virtual transport::CreateAclsResponse create_acls(
      const transport::CreateAclsRequest& request) = 0;
  virtual transport::DeleteAclsResponse delete_acls(
      const transport::DeleteAclsRequest& request) = 0;
};

}  // namespace mq::broker
