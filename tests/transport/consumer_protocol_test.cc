// The consumer protocol's subscription and assignment bytes (docs/protocol.md §15.2).
#include "transport/consumer_protocol.h"

#include <gtest/gtest.h>

namespace mq::transport {
namespace {

TEST(ConsumerProtocolTest, SubscriptionRoundTripsWithTheDocumentedLayout) {
  ConsumerSubscription s;
  s.topics = {"a", "bc"};
  s.owned_partitions = {{"a", {0, 2}}};
  Bytes bytes = encode_subscription(s);
  // version, 2 topics ("a", "bc"), 1 owned (topic "a", 2 partitions), empty user data.
  Bytes expected = {0, 0,   2, 0, 0, 0, 1, 0, 'a', 2, 0, 'b', 'c', 1, 0, 0, 0, 1,
                    0, 'a', 2, 0, 0, 0, 0, 0, 0,   0, 2, 0,   0,   0, 0, 0, 0, 0};
  EXPECT_EQ(bytes, expected);
  auto decoded = decode_subscription(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, s);
}

TEST(ConsumerProtocolTest, AssignmentRoundTripsAndEmptyBytesMeanNothing) {
  ConsumerAssignment a;
  a.partitions = {{"t", {1, 3, 5}}, {"u", {0}}};
  auto decoded = decode_assignment(encode_assignment(a));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(*decoded, a);
  auto empty = decode_assignment({});
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->partitions.empty());
}

TEST(ConsumerProtocolTest, MalformedBytesAreInconsistentProtocol) {
  ConsumerSubscription s;
  s.topics = {"topic"};
  Bytes bytes = encode_subscription(s);
  for (size_t cut = 0; cut < bytes.size(); cut++) {
    auto decoded = decode_subscription(std::span<const uint8_t>(bytes).first(cut));
    ASSERT_FALSE(decoded.is_ok()) << "cut at " << cut;
    EXPECT_EQ(decoded.code(), ErrorCode::kInconsistentGroupProtocol);
  }
  Bytes trailing = bytes;
  trailing.push_back(7);
  EXPECT_FALSE(decode_subscription(trailing).is_ok());
  Bytes future = bytes;
  future[0] = 1;  // version 1
  auto decoded = decode_subscription(future);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("version 1"), std::string::npos);
  Bytes huge_count = {0, 0, 0xff, 0xff, 0xff, 0x7f};
  EXPECT_FALSE(decode_subscription(huge_count).is_ok());
}

}  // namespace
}  // namespace mq::transport
