// Tests of config validation and bootstrap list parsing.
#include "client/config.h"

#include <gtest/gtest.h>

#include "transport/curve.h"

namespace mq::client {
namespace {

TEST(ConfigBootstrap, AcceptsHostPortAndTcpUrlsWithSpaces) {
  Result<std::vector<std::string>> endpoints =
      parse_bootstrap_servers("a:9092, tcp://b.example:19092 ,127.0.0.1:1");
  ASSERT_TRUE(endpoints.is_ok()) << endpoints.status().to_string();
  EXPECT_EQ(*endpoints, (std::vector<std::string>{"tcp://a:9092", "tcp://b.example:19092",
                                                  "tcp://127.0.0.1:1"}));
}

TEST(ConfigBootstrap, RejectsEntriesWithoutAValidPort) {
  for (const char* bad : {"", "a", "a:", ":9092", "a:0", "a:65536", "a:9x", "a:1,,b:2"}) {
    Result<std::vector<std::string>> endpoints = parse_bootstrap_servers(bad);
    EXPECT_EQ(endpoints.code(), ErrorCode::kInvalidConfig) << bad;
  }
  EXPECT_NE(parse_bootstrap_servers("a:0").status().message().find("bootstrap_servers"),
            std::string::npos);
}

ProducerConfig producer() {
  return ProducerConfig{.bootstrap_servers = "localhost:9092"};
}

TEST(ProducerConfigValidation, DefaultsAreValid) {
  EXPECT_TRUE(producer().validate().is_ok());
}

TEST(ProducerConfigValidation, NamesTheBadSetting) {
  struct Case {
    void (*change)(ProducerConfig&);
    const char* setting;
  };
  const Case cases[] = {
      {[](ProducerConfig& c) { c.bootstrap_servers = ""; }, "bootstrap_servers"},
      {[](ProducerConfig& c) { c.acks = 2; }, "acks"},
      {[](ProducerConfig& c) { c.acks = 0; }, "enable_idempotence"},
      {[](ProducerConfig& c) { c.max_in_flight_per_partition = 6; }, "max_in_flight_per_partition"},
      {[](ProducerConfig& c) { c.max_in_flight_per_partition = 0; }, "max_in_flight_per_partition"},
      {[](ProducerConfig& c) { c.batch_size_bytes = 0; }, "batch_size_bytes"},
      {[](ProducerConfig& c) { c.linger_ms = -1; }, "linger_ms"},
      {[](ProducerConfig& c) { c.buffer_memory_bytes = 1024; }, "max_request_size_bytes"},
      {[](ProducerConfig& c) { c.batch_size_bytes = 2 << 20; }, "batch_size_bytes"},
      {[](ProducerConfig& c) { c.retry_backoff_max_ms = 1; }, "retry_backoff_max_ms"},
      {[](ProducerConfig& c) { c.delivery_timeout_ms = 1000; }, "delivery_timeout_ms"},
      {[](ProducerConfig& c) { c.request_timeout_ms = 0; }, "request_timeout_ms"},
      {[](ProducerConfig& c) { c.retries = -1; }, "retries"},
  };
  for (const Case& c : cases) {
    ProducerConfig config = producer();
    c.change(config);
    Status status = config.validate();
    EXPECT_EQ(status.code(), ErrorCode::kInvalidConfig) << c.setting;
    EXPECT_TRUE(status.message().starts_with(c.setting)) << status.message();
  }
}

TEST(ProducerConfigValidation, AcksZeroIsValidWithoutIdempotence) {
  ProducerConfig config = producer();
  config.acks = 0;
  config.enable_idempotence = false;
  config.max_in_flight_per_partition = 50;
  EXPECT_TRUE(config.validate().is_ok());
}

TEST(ConsumerConfigValidation, DefaultsAreValidAndBadValuesNamed) {
  ConsumerConfig config{.bootstrap_servers = "h:1"};
  EXPECT_TRUE(config.validate().is_ok());
  config.request_timeout_ms = config.fetch_max_wait_ms;
  EXPECT_TRUE(config.validate().message().starts_with("request_timeout_ms"));
  config = ConsumerConfig{.bootstrap_servers = "h:1", .max_poll_records = 0};
  EXPECT_TRUE(config.validate().message().starts_with("max_poll_records"));
  config = ConsumerConfig{.bootstrap_servers = "nope"};
  EXPECT_EQ(config.validate().code(), ErrorCode::kInvalidConfig);
}

TEST(ConsumerConfigValidation, ParsesOffsetResetNames) {
  EXPECT_EQ(*parse_offset_reset("earliest"), OffsetReset::kEarliest);
  EXPECT_EQ(*parse_offset_reset("latest"), OffsetReset::kLatest);
  EXPECT_EQ(*parse_offset_reset("none"), OffsetReset::kNone);
  EXPECT_EQ(parse_offset_reset("smallest").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(offset_reset_name(OffsetReset::kLatest), "latest");
}

TEST(ConsumerConfigValidation, NamesTheBadGroupSetting) {
  struct Case {
    void (*change)(ConsumerConfig&);
    const char* setting;
  };
  const Case cases[] = {
      {[](ConsumerConfig& c) { c.group_instance_id = ""; }, "group_instance_id"},
      {[](ConsumerConfig& c) { c.session_timeout_ms = 0; }, "session_timeout_ms"},
      {[](ConsumerConfig& c) { c.heartbeat_interval_ms = 0; }, "heartbeat_interval_ms"},
      {[](ConsumerConfig& c) { c.heartbeat_interval_ms = c.session_timeout_ms; },
       "heartbeat_interval_ms"},
      {[](ConsumerConfig& c) { c.max_poll_interval_ms = -1; }, "max_poll_interval_ms"},
      {[](ConsumerConfig& c) { c.auto_commit_interval_ms = 0; }, "auto_commit_interval_ms"},
      {[](ConsumerConfig& c) { c.partition_assignment_strategy = {}; },
       "partition_assignment_strategy"},
      {[](ConsumerConfig& c) { c.partition_assignment_strategy = {"cooperative-sticky"}; },
       "partition_assignment_strategy"},
      {[](ConsumerConfig& c) {
         c.partition_assignment_strategy = {"range", "range"};
       },
       "partition_assignment_strategy"},
      {[](ConsumerConfig& c) {
         c.partition_assignment_strategy = {"broadcast", "sticky"};
       },
       "partition_assignment_strategy"},
      // Broadcast offsets are kept per client_id: the default would be shared.
      {[](ConsumerConfig& c) { c.partition_assignment_strategy = {"broadcast"}; },
       "partition_assignment_strategy"},
  };
  for (const Case& c : cases) {
    ConsumerConfig config{.bootstrap_servers = "h:1", .group_id = "g"};
    c.change(config);
    Status status = config.validate();
    EXPECT_EQ(status.code(), ErrorCode::kInvalidConfig) << c.setting;
    EXPECT_TRUE(status.message().starts_with(c.setting)) << status.message();
  }
  ConsumerConfig broadcast{.bootstrap_servers = "h:1",
                           .client_id = "worker-7",
                           .group_id = "g",
                           .partition_assignment_strategy = {"broadcast"}};
  EXPECT_TRUE(broadcast.validate().is_ok());
  broadcast.client_id = ConsumerConfig{}.client_id;
  broadcast.group_instance_id = "host-3";
  EXPECT_TRUE(broadcast.validate().is_ok());
}

TEST(ConsumerConfigValidation, ParsesAssignorLists) {
  EXPECT_EQ(*parse_assignment_strategies("sticky"), std::vector<std::string>{"sticky"});
  EXPECT_EQ(*parse_assignment_strategies(" range , roundrobin,sticky"),
            (std::vector<std::string>{"range", "roundrobin", "sticky"}));
  Result<std::vector<std::string>> bad = parse_assignment_strategies("range,rr");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad.status().message().find("'rr'"), std::string::npos) << bad.status().message();
  EXPECT_EQ(parse_assignment_strategies("range,range").code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(parse_assignment_strategies("").code(), ErrorCode::kInvalidConfig);
}

TEST(AdminConfigValidation, NeedsBootstrapAndAPositiveTimeout) {
  EXPECT_TRUE(AdminConfig{.bootstrap_servers = "h:1"}.validate().is_ok());
  EXPECT_EQ(AdminConfig{}.validate().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ((AdminConfig{.bootstrap_servers = "h:1", .request_timeout_ms = 0}.validate().code()),
            ErrorCode::kInvalidConfig);
}

TEST(CurveSettingsValidation, OneOrTwoServerKeysAndASecretPerKey) {
  std::string a = transport::generate_curve_key_pair().value().public_key;
  std::string b = transport::generate_curve_key_pair().value().public_key;
  std::string s1 = transport::generate_curve_key_pair().value().secret_key;
  std::string s2 = transport::generate_curve_key_pair().value().secret_key;
  EXPECT_TRUE((CurveSettings{.server_key = a, .secret_key = s1}).validate().is_ok());
  CurveSettings both{.server_key = a + "," + b, .secret_key = s1 + "," + s2};
  ASSERT_TRUE(both.validate().is_ok());
  transport::CurveClient client = curve_client_of(both);
  EXPECT_EQ(client.server_key, a);
  EXPECT_EQ(client.other_server_key, b);
  EXPECT_EQ(client.secret_key, s1);
  EXPECT_EQ(client.other_secret_key, s2);
  transport::CurveClient shared = curve_client_of({.server_key = a + "," + b, .secret_key = s1});
  EXPECT_TRUE(shared.other_secret_key.empty()) << "one secret key for both server keys";
  Status more = CurveSettings{.server_key = a, .secret_key = s1 + "," + s2}.validate();
  EXPECT_NE(more.message().find("one secret key per server key"), std::string::npos)
      << more.to_string();
  EXPECT_EQ((CurveSettings{.server_key = a + "," + a}).validate().code(),
            ErrorCode::kInvalidConfig);
  EXPECT_EQ((CurveSettings{.server_key = "x"}).validate().code(), ErrorCode::kInvalidConfig);
  EXPECT_TRUE(curve_client_of({}).server_key.empty());
}

}  // namespace
}  // namespace mq::client
