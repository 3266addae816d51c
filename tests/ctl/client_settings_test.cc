// -X client settings: parsing, validation, applying to each client's config.
#include "ctl/client_settings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace mq::ctl {
namespace {

TEST(ClientSettingsTest, EachNameIsListedOnceAndReadsBackFromEveryClientItNames) {
  std::set<std::string_view> names;
  client::ProducerConfig p;
  client::ConsumerConfig c;
  client::AdminConfig a;
  ClientConfigs all{&p, &c, &a};
  for (const ClientSetting& s : client_settings()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    EXPECT_FALSE(s.description.empty()) << s.name;
    EXPECT_TRUE(s.get(all).has_value()) << s.name;
    // Each client it names holds it: reading from that client alone works.
    for (auto [client, configs] : {std::pair{"producer", ClientConfigs{&p, nullptr, nullptr}},
                                   std::pair{"consumer", ClientConfigs{nullptr, &c, nullptr}},
                                   std::pair{"admin", ClientConfigs{nullptr, nullptr, &a}}}) {
      bool names_it = s.clients.find(client) != std::string_view::npos;
      EXPECT_EQ(s.get(configs).has_value(), names_it) << s.name << " / " << client;
    }
  }
  EXPECT_GE(names.size(), 25u);
}

TEST(ClientSettingsTest, AppliesOnlyToTheClientsASettingBelongsTo) {
  Result<ClientOverrides> o = ClientOverrides::parse(
      {"linger.ms=50ms", "client.id=ops", "fetch.max.bytes=1MiB", "request.timeout.ms=2s",
       "compression.type=zstd", "auto.offset.reset=none", "check.crcs=false",
       "partition.assignment.strategy=range,sticky", "batch.size=64KiB"});
  ASSERT_TRUE(o.is_ok()) << o.status().message();
  client::ProducerConfig p;
  client::ConsumerConfig c;
  client::AdminConfig a;
  o->apply({&p, nullptr, nullptr});
  o->apply({nullptr, &c, nullptr});
  o->apply({nullptr, nullptr, &a});
  EXPECT_EQ(p.linger_ms, 50);
  EXPECT_EQ(p.batch_size_bytes, 64 * 1024);
  EXPECT_EQ(p.compression, Compression::kZstd);
  EXPECT_EQ(p.client_id, "ops");
  EXPECT_EQ(c.client_id, "ops");
  EXPECT_EQ(a.client_id, "ops");
  EXPECT_EQ(p.request_timeout_ms, 2000);
  EXPECT_EQ(a.request_timeout_ms, 2000);
  EXPECT_EQ(c.fetch_max_bytes, 1024 * 1024);
  EXPECT_EQ(c.auto_offset_reset, client::OffsetReset::kNone);
  EXPECT_FALSE(c.check_crcs);
  EXPECT_EQ(c.partition_assignment_strategy, (std::vector<std::string>{"range", "sticky"}));
}

TEST(ClientSettingsTest, ALaterValueWinsAndAcksAloneCarriesIdempotence) {
  Result<ClientOverrides> o = ClientOverrides::parse({"acks=0", "linger.ms=1", "linger.ms=7"});
  ASSERT_TRUE(o.is_ok());
  client::ProducerConfig p;
  p.bootstrap_servers = "127.0.0.1:9092";
  o->apply({&p, nullptr, nullptr});
  EXPECT_EQ(p.acks, 0);
  EXPECT_FALSE(p.enable_idempotence) << "acks=0 cannot be idempotent";
  EXPECT_EQ(p.linger_ms, 7);
  EXPECT_TRUE(p.validate().is_ok()) << p.validate().message();

  Result<ClientOverrides> explicit_both =
      ClientOverrides::parse({"acks=1", "enable.idempotence=true"});
  ASSERT_TRUE(explicit_both.is_ok());
  client::ProducerConfig q;
  explicit_both->apply({&q, nullptr, nullptr});
  EXPECT_TRUE(q.enable_idempotence) << "set explicitly: left to the producer's validation";
}

TEST(ClientSettingsTest, BadEntriesAreRefusedNamingTheSetting) {
  struct Case {
    const char* entry;
    const char* says;
  } cases[] = {
      {"nokey", "expected key=value"},
      {"=5", "expected key=value"},
      {"lingr.ms=5", "did you mean linger.ms?"},
      {"bootstrap.servers=x:1", "unknown client setting"},
      {"linger.ms=soon", "-X linger.ms=soon: expected milliseconds"},
      {"batch.size=big", "expected a whole number"},
      {"linger.ms=-5", "must not be negative"},
      {"max.poll.records=99999999999", "too large"},
      {"check.crcs=yes", "expected true or false"},
      {"compression.type=gzip", "expected none, lz4 or zstd"},
      {"auto.offset.reset=smallest", "expected earliest, latest or none"},
      {"partition.assignment.strategy=fair", "partition.assignment.strategy"},
  };
  for (const Case& c : cases) {
    Result<ClientOverrides> o = ClientOverrides::parse({c.entry});
    ASSERT_FALSE(o.is_ok()) << c.entry;
    EXPECT_EQ(o.code(), ErrorCode::kInvalidConfig) << c.entry;
    EXPECT_NE(o.status().message().find(c.says), std::string::npos)
        << c.entry << ": " << o.status().message();
  }
}

}  // namespace
}  // namespace mq::ctl
