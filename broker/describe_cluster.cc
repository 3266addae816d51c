// The DescribeCluster handler: every registered broker with its state. In
// cluster mode the metadata image answers, fenced brokers included; a
// single-node broker is the only broker there is, never fenced.
#include "broker/request_handler.h"

namespace mq::broker {

transport::DescribeClusterResponse RequestHandler::describe_cluster(
    const transport::DescribeClusterRequest&) {
  if (cluster_ != nullptr) return cluster_->describe_cluster();
  transport::DescribeClusterResponse response{.cluster_id = replicas_.cluster_id(),
                                              .controller_id = identity_.node_id};
  transport::DescribeClusterResponse::Broker& self = response.brokers.emplace_back();
  self.node_id = identity_.node_id;
  self.host = identity_.host;
  self.port = identity_.port;
  std::string rack = replicas_.config().cluster.rack;
  if (!rack.empty()) self.rack = rack;
  return response;
}

}  // namespace mq::broker
