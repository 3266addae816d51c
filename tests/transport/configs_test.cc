// Round trips of DescribeConfigs and AlterConfigs.
#include "transport/configs.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(ConfigsTest, DescribeConfigsRoundTrips) {
  DescribeConfigsRequest request;
  request.resources.push_back({.resource_type = ConfigResourceType::kTopic,
                               .resource_name = "orders",
                               .configuration_keys = std::vector<std::string>{"retention.ms"}});
  request.resources.push_back({.resource_type = ConfigResourceType::kBroker, .resource_name = "1"});
  DescribeConfigsRequest decoded = expect_request_round_trip(request);
  EXPECT_FALSE(decoded.resources[1].configuration_keys.has_value());

  DescribeConfigsResponse response;
  response.results.push_back({.resource_type = ConfigResourceType::kTopic,
                              .resource_name = "orders",
                              .configs = {{.name = "retention.ms",
                                           .value = "604800000",
                                           .config_source = ConfigSource::kTopicConfig},
                                          {.name = "ssl.key.password",
                                           .value = std::nullopt,
                                           .read_only = true,
                                           .config_source = ConfigSource::kStaticBrokerConfig,
                                           .is_sensitive = true}}});
  DescribeConfigsResponse decoded_response = expect_response_round_trip(response);
  EXPECT_EQ(decoded_response.results[0].configs[1].config_source,
            ConfigSource::kStaticBrokerConfig);
}

TEST(ConfigsTest, AlterConfigsWithSetAndDeleteRoundTrips) {
  AlterConfigsRequest request{.validate_only = true};
  request.resources.push_back(
      {.resource_name = "orders",
       .configs = {{.name = "retention.ms", .operation = AlterConfigOp::kSet, .value = "1000"},
                   {.name = "segment.bytes", .operation = AlterConfigOp::kDelete}}});
  AlterConfigsRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.resources[0].configs[1].operation, AlterConfigOp::kDelete);

  AlterConfigsResponse response;
  response.responses.push_back({.error_code = ErrorCode::kInvalidConfig,
                                .error_message = "retention.ms must be >= -1",
                                .resource_name = "orders"});
  expect_response_round_trip(response);
}

}  // namespace
}  // namespace mq::transport
