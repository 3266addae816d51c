// The cluster admin requests: DescribeCluster, ElectLeaders, DescribeQuorum
// and the partition reassignments. The ClusterView answers them: the
// metadata image for the brokers, the active controller for elections and
// reassignments, the quorum as this node sees it.
#include "broker/request_handler.h"

namespace mq::broker {

transport::DescribeClusterResponse RequestHandler::describe_cluster(
    const transport::DescribeClusterRequest&) {
  return cluster_->describe_cluster();
}

transport::ElectLeadersResponse RequestHandler::elect_leaders(
    const transport::ElectLeadersRequest& request) {
  return cluster_->elect_leaders(request);
}

transport::DescribeQuorumResponse RequestHandler::describe_quorum(
    const transport::DescribeQuorumRequest&) {
  return cluster_->describe_quorum();
}

transport::AlterPartitionReassignmentsResponse RequestHandler::alter_reassignments(
    const transport::AlterPartitionReassignmentsRequest& request) {
  return cluster_->alter_reassignments(request);
}

transport::ListPartitionReassignmentsResponse RequestHandler::list_reassignments(
    const transport::ListPartitionReassignmentsRequest& request) {
  return cluster_->list_reassignments(request);
}

}  // namespace mq::broker
