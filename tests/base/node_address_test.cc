// parse_node_address: "ID@HOST:PORT", as cluster.voters lists quorum members
// and mqctl cluster add-voter takes one; split_endpoint: a listener's
// "tcp://host:port" as Metadata advertises it.
#include "base/node_address.h"

#include <gtest/gtest.h>

namespace mq {
namespace {

TEST(NodeAddressTest, ParsesIdHostAndPort) {
  Result<NodeAddress> member = parse_node_address("2@10.0.0.2:9093");
  ASSERT_TRUE(member.is_ok()) << member.status().to_string();
  EXPECT_EQ(*member, (NodeAddress{2, "10.0.0.2", 9093}));
  EXPECT_EQ(member->host_port(), "10.0.0.2:9093");
  EXPECT_EQ(parse_node_address("3@[::1]:9093")->host, "[::1]");
  EXPECT_EQ(parse_node_address("0@h:1")->id, 0);
  EXPECT_EQ(parse_node_address("2147483647@h:65535")->port, 65535);
}

TEST(NodeAddressTest, RefusesWhatIsNotIdAtHostPortNamingTheText) {
  for (const char* bad : {"2", "10.0.0.2:9093", "@127.0.0.1:9293", "x@h:1", "-1@127.0.0.1:9293",
                          "2147483648@h:1", "2@h", "2@127.0.0.1", "2@:9093", "2@h:0", "2@h:70000",
                          "2@h:port", "2@h:-1", "2@a/b:1", "2@a@b:1", "2@a b:1", "1-h:1"}) {
    Result<NodeAddress> parsed = parse_node_address(bad);
    EXPECT_EQ(parsed.code(), ErrorCode::kInvalidConfig) << bad;
    EXPECT_NE(parsed.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << "the error names the text: " << parsed.status().message();
  }
  EXPECT_EQ(parse_node_address("1-h:1").status().message(), "'1-h:1' is not ID@HOST:PORT");
  EXPECT_EQ(parse_node_address("x@h:1").status().message(),
            "'x@h:1': the id must be a number from 0 to 2147483647");
  EXPECT_EQ(parse_node_address("1@:5").status().message(), "'1@:5': the host is empty");
  EXPECT_EQ(parse_node_address("1@h:99999").status().message(),
            "'1@h:99999': the port must be from 1 to 65535");
}

TEST(SplitEndpointTest, HostAndPortWithOrWithoutScheme) {
  std::string host;
  int32_t port = -1;
  split_endpoint("tcp://127.0.0.1:9092", &host, &port);
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9092);
  split_endpoint("broker-2.internal:19092", &host, &port);
  EXPECT_EQ(host, "broker-2.internal");
  EXPECT_EQ(port, 19092);
  split_endpoint("tcp://[::1]:9092", &host, &port);
  EXPECT_EQ(host, "[::1]");
  EXPECT_EQ(port, 9092);
}

TEST(SplitEndpointTest, AMissingOrUnreadablePortIsZero) {
  std::string host;
  int32_t port = -1;
  split_endpoint("tcp://localhost", &host, &port);
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 0);
  split_endpoint("tcp://localhost:http", &host, &port);
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, 0);
}

}  // namespace
}  // namespace mq
