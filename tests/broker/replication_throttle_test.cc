// ReplicationThrottle: the shared byte budget of replicas being added.
#include "broker/replication_throttle.h"

#include <gtest/gtest.h>

namespace mq::broker {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(ReplicationThrottleTest, OffUnlessARateIsSet) {
  ReplicationThrottle throttle;
  throttle.record(1 << 30, 0);
  EXPECT_FALSE(throttle.blocked(0));
  EXPECT_EQ(throttle.fetch_bytes(8 << 20), 8 << 20);
}

TEST(ReplicationThrottleTest, BytesFetchedHoldTheReplicasForTheirTimeAtTheRate) {
  ReplicationThrottle throttle;
  throttle.set_rate(1000);  // bytes per second
  EXPECT_FALSE(throttle.blocked(0));
  throttle.record(500, 0);  // half a second's worth
  EXPECT_TRUE(throttle.blocked(0));
  EXPECT_TRUE(throttle.blocked(kSecond / 2 - 1));
  EXPECT_FALSE(throttle.blocked(kSecond / 2));
  // Debt accumulates from where it stands, not from now, while blocked.
  throttle.record(1000, kSecond / 4);
  EXPECT_TRUE(throttle.blocked(kSecond + kSecond / 2 - 1));
  EXPECT_FALSE(throttle.blocked(kSecond + kSecond / 2));
  // An idle throttle does not bank credit: a later burst waits again.
  throttle.record(1000, 10 * kSecond);
  EXPECT_TRUE(throttle.blocked(10 * kSecond + kSecond / 2));
}

TEST(ReplicationThrottleTest, RemovingTheRateForgivesTheDebt) {
  ReplicationThrottle throttle;
  throttle.set_rate(10);
  throttle.record(1'000'000, 0);
  EXPECT_TRUE(throttle.blocked(kSecond));
  throttle.set_rate(0);
  EXPECT_FALSE(throttle.blocked(kSecond));
  throttle.set_rate(-5);
  EXPECT_EQ(throttle.rate(), 0);
}

TEST(ReplicationThrottleTest, FetchSizeIsATenthOfASecondWithinBounds) {
  ReplicationThrottle throttle;
  throttle.set_rate(50'000'000);
  EXPECT_EQ(throttle.fetch_bytes(8 << 20), 5'000'000);
  throttle.set_rate(1000);
  EXPECT_EQ(throttle.fetch_bytes(8 << 20), 16 * 1024);  // at least one small batch
  EXPECT_EQ(throttle.fetch_bytes(4096), 4096);          // never above the limit
  throttle.set_rate(1'000'000'000);
  EXPECT_EQ(throttle.fetch_bytes(8 << 20), 8 << 20);
}

}  // namespace
}  // namespace mq::broker
