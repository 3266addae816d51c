// The __consumer_offsets record codecs.
#include "group/offsets_records.h"

#include <gtest/gtest.h>

namespace mq::group {
namespace {

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(OffsetsRecordsTest, KeysAndValuesRoundTrip) {
  OffsetsKey key{.group = "g", .member_key = "", .topic = "t", .partition = 3};
  auto k = decode_key(bytes(encode_key(key)));
  ASSERT_TRUE(k.is_ok());
  EXPECT_EQ(*k, key);
  OffsetValue value{.offset = 42, .leader_epoch = 7, .metadata = "m", .commit_timestamp = 99};
  auto v = decode_offset_value(bytes(encode_offset_value(value)));
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(*v, value);
  GroupValue group{.protocol_type = "consumer", .protocol_name = "sticky", .generation = 5};
  auto g = decode_group_value(bytes(encode_group_value(group)));
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(*g, group);
}

TEST(OffsetsRecordsTest, BadBytesAreCorruptNotCrashes) {
  std::string key = encode_key({.group = "g", .topic = "t", .partition = 0});
  for (size_t cut = 0; cut < key.size(); cut++) {
    auto decoded = decode_key(bytes(key.substr(0, cut)));
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
  }
  std::string unknown_type = key;
  unknown_type[2] = 9;
  EXPECT_FALSE(decode_key(bytes(unknown_type)).is_ok());
  std::string future = key;
  future[0] = 1;
  EXPECT_FALSE(decode_key(bytes(future)).is_ok());
  EXPECT_FALSE(decode_offset_value(bytes("x")).is_ok());
}

}  // namespace
}  // namespace mq::group
