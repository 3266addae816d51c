// Tests of the api key table: names, ranges, support and negotiation.
#include "transport/api.h"

#include <gtest/gtest.h>

#include <set>

#include "transport/messages.h"

namespace mq::transport {
namespace {

TEST(ApiTest, SupportedApisAreSortedAndUnique) {
  std::span<const SupportedApi> apis = supported_apis();
  for (size_t i = 1; i < apis.size(); ++i) {
    EXPECT_LT(static_cast<int16_t>(apis[i - 1].api_key), static_cast<int16_t>(apis[i].api_key));
  }
}

TEST(ApiTest, EverySupportedApiHasMessagesAndANameAndAValidRange) {
  std::set<std::string_view> names;
  for (const SupportedApi& api : supported_apis()) {
    bool has_messages = visit_api(api.api_key, []<class Request>() {});
    EXPECT_TRUE(has_messages) << api_name(api.api_key);
    EXPECT_NE(api_name(api.api_key), "Unknown");
    EXPECT_TRUE(names.insert(api_name(api.api_key)).second);
    EXPECT_LE(api.versions.min_version, api.versions.max_version);
  }
}

TEST(ApiTest, MessageTypesDeclareTheKeyTheyAreDispatchedUnder) {
  for (const SupportedApi& api : supported_apis()) {
    visit_api(api.api_key, [&]<class Request>() {
      EXPECT_EQ(Request::kApiKey, api.api_key);
      EXPECT_EQ(Request::Response::kApiKey, api.api_key);
    });
  }
}

TEST(ApiTest, ReservedQuorumAndReplicationKeysAreInTheirRangesAndNotServed) {
  for (ApiKey key :
       {ApiKey::kVote, ApiKey::kBeginQuorumEpoch, ApiKey::kAppendEntries, ApiKey::kInstallSnapshot,
        ApiKey::kBrokerRegistration, ApiKey::kBrokerHeartbeat}) {
    int16_t number = static_cast<int16_t>(key);
    EXPECT_GE(number, kQuorumApiKeyFirst);
    EXPECT_LE(number, kQuorumApiKeyLast);
    EXPECT_FALSE(supported_versions(key).has_value()) << api_name(key);
  }
  EXPECT_FALSE(supported_versions(ApiKey::kAlterPartition).has_value());
  int16_t offset_for_leader_epoch = static_cast<int16_t>(ApiKey::kOffsetForLeaderEpoch);
  EXPECT_GE(offset_for_leader_epoch, kReplicationApiKeyFirst);
  EXPECT_LE(offset_for_leader_epoch, kReplicationApiKeyLast);
  EXPECT_TRUE(is_supported(ApiKey::kOffsetForLeaderEpoch, 0));
}

TEST(ApiTest, UnknownKeysAreNotSupported) {
  EXPECT_FALSE(is_supported(static_cast<ApiKey>(999), 0));
  EXPECT_EQ(api_name(static_cast<ApiKey>(999)), "Unknown");
  EXPECT_TRUE(is_supported(ApiKey::kProduce, 2));
  EXPECT_FALSE(is_supported(ApiKey::kProduce, 3));
  EXPECT_FALSE(is_supported(ApiKey::kProduce, -1));
}

TEST(ApiTest, NegotiationPicksTheHighestCommonVersion) {
  EXPECT_EQ(negotiate_version({0, 3}, {1, 5}), std::optional<int16_t>(3));
  EXPECT_EQ(negotiate_version({2, 6}, {0, 4}), std::optional<int16_t>(4));
  EXPECT_EQ(negotiate_version({0, 0}, {0, 0}), std::optional<int16_t>(0));
  EXPECT_EQ(negotiate_version({0, 1}, {2, 3}), std::nullopt);
}

}  // namespace
}  // namespace mq::transport
