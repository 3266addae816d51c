// "ID@HOST:PORT": a node and where it is reached, as cluster.voters and
// cluster.observers list quorum members and `mqctl cluster add-voter` takes
// one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mq {

struct NodeAddress {
  int32_t id = -1;
  std::string host;
  int port = 0;

  std::string host_port() const { return host + ":" + std::to_string(port); }
  bool operator==(const NodeAddress&) const = default;
};

// kInvalidConfig naming the text: no '@' or no ':' after it, an id that is
// not a number from 0 to 2147483647, an empty host or one holding '/', ' '
// or '@', a port outside 1-65535. The host is taken as it is (a name, an
// IPv4 address or a bracketed IPv6 one).
Result<NodeAddress> parse_node_address(std::string_view text);

// "tcp://host:port" (or "host:port") -> host and port, as Metadata and
// FindCoordinator advertise a broker; port 0 when there is none or it is not
// a number.
void split_endpoint(const std::string& endpoint, std::string* host, int32_t* port);

}  // namespace mq
