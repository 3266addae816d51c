// Tests of the ApiVersions messages and of version negotiation against them.
#include "transport/api_versions.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(ApiVersionsTest, RequestRoundTrips) {
  expect_request_round_trip(
      ApiVersionsRequest{.client_software_name = "mq-cpp", .client_software_version = "0.1.0"});
}

TEST(ApiVersionsTest, LocalAnswerRoundTripsAndListsEverySupportedApi) {
  ApiVersionsResponse local = local_api_versions();
  ASSERT_EQ(local.api_keys.size(), supported_apis().size());
  ApiVersionsResponse decoded = expect_response_round_trip(local);
  EXPECT_EQ(decoded.api_keys.front().api_key, static_cast<int16_t>(ApiKey::kApiVersions));
}

TEST(ApiVersionsTest, NegotiatesTheHighestVersionBothSupport) {
  ApiVersionsResponse broker;
  broker.api_keys.push_back(
      {.api_key = static_cast<int16_t>(ApiKey::kFetch), .min_version = 0, .max_version = 7});
  // This build speaks Fetch v0 and v1, so v1 is the highest common version.
  EXPECT_EQ(negotiate_version(broker, ApiKey::kFetch), std::optional<int16_t>(1));
  broker.api_keys.back().max_version = 0;  // an older broker
  EXPECT_EQ(negotiate_version(broker, ApiKey::kFetch), std::optional<int16_t>(0));
}

TEST(ApiVersionsTest, NegotiationFailsWhenTheBrokerLacksTheApi) {
  ApiVersionsResponse broker;
  broker.api_keys.push_back({.api_key = static_cast<int16_t>(ApiKey::kFetch)});
  EXPECT_EQ(negotiate_version(broker, ApiKey::kProduce), std::nullopt);
}

TEST(ApiVersionsTest, NegotiationFailsWhenRangesDoNotOverlap) {
  ApiVersionsResponse broker;
  broker.api_keys.push_back(
      {.api_key = static_cast<int16_t>(ApiKey::kFetch), .min_version = 3, .max_version = 9});
  EXPECT_EQ(negotiate_version(broker, ApiKey::kFetch), std::nullopt);
}

TEST(ApiVersionsTest, NegotiationRejectsAnInvertedBrokerRange) {
  ApiVersionsResponse broker;
  broker.api_keys.push_back(
      {.api_key = static_cast<int16_t>(ApiKey::kFetch), .min_version = 2, .max_version = 0});
  EXPECT_EQ(negotiate_version(broker, ApiKey::kFetch), std::nullopt);
}

}  // namespace
}  // namespace mq::transport
