// The client library against a real mqd: admin, producer (idempotent, every
// acks level, keys, compression) and consumer (in order, seek, by timestamp).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "client/admin.h"
#include "client/cluster.h"
#include "client/consumer.h"
#include "client/producer.h"
#include "tests/support/eventually.h"
#include "tests/support/free_port.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace mq::client {
namespace {

using mq::testing::MqdProcess;
using mq::testing::TempDir;

class ClientBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"));
    ASSERT_TRUE(broker_->start()) << broker_->log();
    bootstrap_ = broker_->endpoint();
    AdminConfig config;
    config.bootstrap_servers = bootstrap_;
    auto admin = Admin::create(config);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    admin_ = std::move(admin).value();
  }
  std::unique_ptr<Producer> producer(int acks, Compression codec = Compression::kNone) {
    ProducerConfig config;
    config.bootstrap_servers = bootstrap_;
    config.acks = acks;
    config.compression = codec;
    config.enable_idempotence = acks == -1;
    auto p = Producer::create(config);
    EXPECT_TRUE(p.is_ok()) << p.status().to_string();
    return p.is_ok() ? std::move(p).value() : nullptr;
  }
  std::unique_ptr<Consumer> consumer() {
    ConsumerConfig config;
    config.bootstrap_servers = bootstrap_;
    config.auto_offset_reset = OffsetReset::kEarliest;
    auto c = Consumer::create(config);
    EXPECT_TRUE(c.is_ok()) << c.status().to_string();
    return c.is_ok() ? std::move(c).value() : nullptr;
  }
  std::vector<ConsumerRecord> read(Consumer& c, size_t want) {
    std::vector<ConsumerRecord> out;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
      auto batch = c.poll(200);
      EXPECT_TRUE(batch.is_ok()) << batch.status().to_string();
      if (!batch.is_ok()) break;
      out.insert(out.end(), batch->begin(), batch->end());
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  std::string bootstrap_;
  std::unique_ptr<Admin> admin_;
};

TEST_F(ClientBrokerTest, ProducesAndConsumesInOrderAtEveryAcksLevel) {
  auto created =
      admin_->create_topics({{.name = "events", .num_partitions = 3, .replication_factor = 1}});
  ASSERT_TRUE(created.is_ok());
  ASSERT_TRUE((*created)[0].status.is_ok()) << (*created)[0].status.to_string();
  int n = 0;
  for (int acks : {-1, 1, 0}) {
    auto p = producer(acks, acks == 1 ? Compression::kLz4 : Compression::kNone);
    ASSERT_NE(p, nullptr);
    for (int i = 0; i < 300; i++, n++) {
      ProducerRecord r{
          .topic = "events", .key = "k" + std::to_string(n % 7), .value = "v" + std::to_string(n)};
      r.headers.push_back({"seq", std::to_string(n)});
      ASSERT_TRUE(p->send(std::move(r), [](const Result<RecordMetadata>& m) {
                     EXPECT_TRUE(m.is_ok()) << m.status().to_string();
                   }).is_ok());
    }
    ASSERT_TRUE(p->flush(20000).is_ok());
    ASSERT_TRUE(p->close(20000).is_ok());
  }
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"events", 0}, {"events", 1}, {"events", 2}}).is_ok());
  std::vector<ConsumerRecord> records = read(*c, 900);
  ASSERT_EQ(records.size(), 900u);
  std::map<int32_t, int64_t> next_offset;
  std::map<std::string, std::set<int32_t>> partitions_of_key;
  std::set<std::string> values;
  for (const auto& r : records) {
    EXPECT_EQ(r.offset, next_offset[r.partition]++) << "dense, in order, per partition";
    partitions_of_key[*r.key].insert(r.partition);
    values.insert(*r.value);
    ASSERT_EQ(r.headers.size(), 1u);
  }
  EXPECT_EQ(values.size(), 900u) << "each record exactly once";
  for (const auto& [key, parts] : partitions_of_key) EXPECT_EQ(parts.size(), 1u) << key;
}

// Tags and property filters through the public API: the producer stamps the
// tag summary, the broker returns only the matching records (compressed and
// mixed batches included), and positions move past the rest.
TEST_F(ClientBrokerTest, FiltersByTagAndPropertyOnTheBroker) {
  auto created =
      admin_->create_topics({{.name = "orders", .num_partitions = 1, .replication_factor = 1}});
  ASSERT_TRUE(created.is_ok());
  auto p = producer(-1, Compression::kZstd);
  ASSERT_NE(p, nullptr);
  std::vector<int> rare;
  for (int i = 0; i < 5000; i++) {
    ProducerRecord r{.topic = "orders", .value = "v" + std::to_string(i)};
    if (i % 100 == 7) {
      r.headers.push_back({"mq.tag", "rare"});
      rare.push_back(i);
    } else if (i % 2 == 0) {
      r.headers.push_back({"mq.tag", "common"});
    }
    r.headers.push_back({"amount", std::to_string(i)});
    ASSERT_TRUE(p->send_oneway(std::move(r)).is_ok());
  }
  ProducerRecord bad{.topic = "orders", .value = "x"};
  bad.headers.push_back({"mq.tag", "a||b"});
  Status refused = p->send_oneway(std::move(bad));
  EXPECT_EQ(refused.code(), ErrorCode::kInvalidRecord) << refused.to_string();
  ASSERT_TRUE(p->flush(20000).is_ok());

  auto c = consumer();
  ASSERT_TRUE(c->assign({{"orders", 0}}).is_ok());
  ASSERT_TRUE(c->set_filter("orders", {.tags = "rare"}).is_ok());
  std::vector<ConsumerRecord> records = read(*c, rare.size());
  ASSERT_EQ(records.size(), rare.size());
  for (size_t i = 0; i < rare.size(); i++) {
    EXPECT_EQ(records[i].offset, rare[i]);
    EXPECT_EQ(*records[i].value, "v" + std::to_string(rare[i]));
  }
  EXPECT_TRUE(mq::testing::eventually([&] {
    (void)c->poll(50);
    Result<int64_t> position = c->position({"orders", 0});
    return position.is_ok() && *position == 5000;
  })) << "the position moves past the records left out";

  // A property filter on top; changing the filter starts again at the position.
  ASSERT_TRUE(c->seek({"orders", 0}, 0).is_ok());
  ASSERT_TRUE(
      c->set_filter("orders", {.tags = "rare || common", .where = "amount BETWEEN 100 AND 210"})
          .is_ok());
  std::vector<int64_t> expected;
  for (int i = 100; i <= 210; i++) {
    if (i % 100 == 7 || i % 2 == 0) expected.push_back(i);
  }
  records = read(*c, expected.size());
  std::vector<int64_t> offsets;
  for (const ConsumerRecord& r : records) offsets.push_back(r.offset);
  EXPECT_EQ(offsets, expected);

  Status bad_filter = c->set_filter("orders", {.where = "amount >"});
  EXPECT_EQ(bad_filter.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad_filter.message().find("filter, position 9"), std::string::npos)
      << bad_filter.message();
}

TEST_F(ClientBrokerTest, APartitionAtItsEndDoesNotHoldBackTheOthersOfItsBroker) {
  auto created = admin_->create_topics({{.name = "mixed", .num_partitions = 2}});
  ASSERT_TRUE(created.is_ok() && (*created)[0].status.is_ok());
  auto p = producer(1);
  for (int i = 0; i < 3000; i++) {
    ASSERT_TRUE(p->send({.topic = "mixed", .value = std::string(1000, 'v'), .partition = 1},
                        [](const Result<RecordMetadata>& m) { EXPECT_TRUE(m.is_ok()); })
                    .is_ok());
  }
  ASSERT_TRUE(p->flush(20000).is_ok());
  // Partition 0 stays empty: a long poll for it alone would be held for
  // fetch_max_wait_ms while partition 1's records wait behind it.
  ConsumerConfig config;
  config.bootstrap_servers = bootstrap_;
  config.auto_offset_reset = OffsetReset::kEarliest;
  // A fetch answer (one 16 KiB batch) holds more than a poll returns, so
  // partition 1 sits out fetches while its records are buffered.
  config.max_poll_records = 5;
  config.max_partition_fetch_bytes = 16 * 1024;
  config.fetch_max_wait_ms = 10000;
  auto c = Consumer::create(config);
  ASSERT_TRUE(c.is_ok());
  ASSERT_TRUE((*c)->assign({{"mixed", 0}, {"mixed", 1}}).is_ok());
  size_t got = 0;
  int empty_polls = 0;
  while (got < 3000 && empty_polls < 20) {
    auto batch = (*c)->poll(100);
    ASSERT_TRUE(batch.is_ok()) << batch.status().to_string();
    got += batch->size();
    if (batch->empty()) empty_polls++;
  }
  EXPECT_EQ(got, 3000u);
  EXPECT_LT(empty_polls, 20) << "polls came back empty while records were waiting";
}

// A connection that broke while idle (the broker restarted in between) is
// replaced before the next request goes out, so that request does not fail
// with a lost connection.
TEST_F(ClientBrokerTest, AConnectionThatBrokeWhileIdleIsReplacedBeforeTheNextRequest) {
  // A broker of its own, restarted on the same port.
  MqdProcess restarting(dir_.file("restarting"));
  restarting.set_client_port(mq::testing::free_port());
  ASSERT_TRUE(restarting.start()) << restarting.log();
  Cluster cluster(ClusterOptions{.bootstrap_endpoints = {restarting.endpoint()}, .client_id = "t"});
  ASSERT_TRUE(cluster.refresh_metadata(std::nullopt).is_ok());
  Result<int32_t> node = cluster.any_node();
  ASSERT_TRUE(node.is_ok()) << node.status().to_string();
  uint64_t serial = cluster.connection_serial(*node);
  ASSERT_NE(serial, 0u);
  Result<transport::Connection*> idle = cluster.connection(*node);
  ASSERT_TRUE(idle.is_ok());
  ASSERT_EQ(restarting.stop(SIGTERM), 0) << restarting.log();
  ASSERT_TRUE(restarting.start()) << restarting.log();
  // The idle connection's monitor has seen the broker go.
  ASSERT_TRUE(mq::testing::eventually([&] { return !(*idle)->poll_events().is_ok(); },
                                      std::chrono::seconds(10)));
  Result<transport::MetadataResponse> answer =
      cluster.call(*node, transport::MetadataRequest{.topics = std::nullopt});
  EXPECT_TRUE(answer.is_ok()) << answer.status().to_string();
  EXPECT_NE(cluster.connection_serial(*node), serial) << "the old connection was kept";
}

TEST_F(ClientBrokerTest, SeeksByOffsetAndTimestamp) {
  ASSERT_TRUE(
      admin_->create_topics({{.name = "t", .num_partitions = 1, .replication_factor = 1}}).is_ok());
  auto p = producer(1);
  int64_t base = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  for (int i = 0; i < 100; i++) {
    auto sent = p->send_sync(
        {.topic = "t", .value = std::to_string(i), .partition = 0, .timestamp_ms = base + i * 10});
    ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    EXPECT_EQ(sent->offset, i);
  }
  auto c = consumer();
  ASSERT_TRUE(c->assign({{"t", 0}}).is_ok());
  ASSERT_TRUE(c->seek({"t", 0}, 42).is_ok());
  auto from_42 = read(*c, 58);
  ASSERT_FALSE(from_42.empty());
  EXPECT_EQ(from_42.front().offset, 42);
  auto by_time = c->offset_for({"t", 0}, base + 555);
  ASSERT_TRUE(by_time.is_ok()) << by_time.status().to_string();
  EXPECT_EQ(*by_time, 56);
  ASSERT_TRUE(c->seek_to_timestamp({"t", 0}, base + 555).is_ok());
  auto pos = c->position({"t", 0});
  ASSERT_TRUE(pos.is_ok()) << pos.status().to_string();
  EXPECT_EQ(*pos, 56);
  auto from_ts = read(*c, 44);
  ASSERT_FALSE(from_ts.empty());
  EXPECT_EQ(from_ts.front().offset, 56) << "first record at or after the timestamp";
  auto offsets = c->offset_for({"t", 0}, -1);
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_EQ(*offsets, 100);
}

// Admin::find_messages: every partition's leader searched, compressed batches
// included; the latest N per partition, sorted by partition and offset.
TEST_F(ClientBrokerTest, AdminFindsTheLatestMessagesWithAKeyInEveryPartition) {
  ASSERT_TRUE(
      admin_->create_topics({{.name = "keys", .num_partitions = 3, .replication_factor = 1}})
          .is_ok());
  auto p = producer(-1, Compression::kLz4);
  ASSERT_NE(p, nullptr);
  // Record i goes to partition i % 3 at offset i / 3; every fourth has the key order-7.
  for (int i = 0; i < 30; i++) {
    ProducerRecord r{.topic = "keys",
                     .key = i % 4 == 0 ? "order-7" : "order-" + std::to_string(100 + i),
                     .value = "v" + std::to_string(i),
                     .partition = i % 3};
    r.headers.push_back({"seq", std::to_string(i)});
    ASSERT_TRUE(p->send(std::move(r), [](const Result<RecordMetadata>& m) {
                   EXPECT_TRUE(m.is_ok()) << m.status().to_string();
                 }).is_ok());
  }
  ASSERT_TRUE(p->flush(20000).is_ok());

  auto all = admin_->find_messages("keys", "order-7", 10);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  std::vector<std::tuple<int32_t, int64_t, std::string>> found;
  for (const ConsumerRecord& r : all->records) {
    found.emplace_back(r.partition, r.offset, r.value.value_or("null"));
    EXPECT_EQ(r.topic, "keys");
    EXPECT_EQ(r.key, "order-7");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ("v" + r.headers[0].value.value_or(""), r.value.value_or("")) << "headers kept";
    EXPECT_GT(r.timestamp_ms, 0);
  }
  using Found = std::vector<std::tuple<int32_t, int64_t, std::string>>;
  EXPECT_EQ(found, (Found{{0, 0, "v0"},
                          {0, 4, "v12"},
                          {0, 8, "v24"},
                          {1, 1, "v4"},
                          {1, 5, "v16"},
                          {1, 9, "v28"},
                          {2, 2, "v8"},
                          {2, 6, "v20"}}));
  ASSERT_EQ(all->partitions.size(), 3u);
  for (int32_t i = 0; i < 3; ++i) {
    const KeySearchPartition& searched = all->partitions[static_cast<size_t>(i)];
    EXPECT_EQ(searched.partition, i);
    EXPECT_EQ(searched.high_watermark, 10);
    EXPECT_FALSE(searched.more);
    EXPECT_GE(searched.candidates, i == 2 ? 2 : 3);
  }

  // The latest two of each partition; `more` where older ones were left out.
  auto latest = admin_->find_messages("keys", "order-7", 2);
  ASSERT_TRUE(latest.is_ok()) << latest.status().to_string();
  found.clear();
  for (const ConsumerRecord& r : latest->records) {
    found.emplace_back(r.partition, r.offset, r.value.value_or("null"));
  }
  EXPECT_EQ(found, (Found{{0, 4, "v12"},
                          {0, 8, "v24"},
                          {1, 5, "v16"},
                          {1, 9, "v28"},
                          {2, 2, "v8"},
                          {2, 6, "v20"}}));
  ASSERT_EQ(latest->partitions.size(), 3u);
  EXPECT_TRUE(latest->partitions[0].more);
  EXPECT_TRUE(latest->partitions[1].more);
  EXPECT_FALSE(latest->partitions[2].more);

  // Exact keys only: a prefix matches nothing.
  auto prefix = admin_->find_messages("keys", "order-", 10);
  ASSERT_TRUE(prefix.is_ok()) << prefix.status().to_string();
  EXPECT_TRUE(prefix->records.empty());
  EXPECT_EQ(prefix->partitions.size(), 3u);

  EXPECT_EQ(admin_->find_messages("nope", "order-7", 10).code(),
            ErrorCode::kUnknownTopicOrPartition);
  EXPECT_EQ(admin_->find_messages("keys", "order-7", 0).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(admin_->find_messages("keys", "order-7", 10001).code(), ErrorCode::kInvalidRequest);
  ASSERT_TRUE(p->close(20000).is_ok());
}

TEST_F(ClientBrokerTest, AdminManagesTopicsAndConfigs) {
  auto created =
      admin_->create_topics({{.name = "a", .num_partitions = 2, .replication_factor = 1},
                             {.name = "bad name", .num_partitions = 1, .replication_factor = 1}});
  ASSERT_TRUE(created.is_ok());
  EXPECT_TRUE((*created)[0].status.is_ok());
  EXPECT_EQ((*created)[1].status.code(), ErrorCode::kInvalidTopic);
  auto grown = admin_->create_partitions({{"a", 4}});
  ASSERT_TRUE(grown.is_ok());
  EXPECT_TRUE((*grown)[0].status.is_ok()) << (*grown)[0].status.to_string();
  auto cluster = admin_->describe_cluster();
  ASSERT_TRUE(cluster.is_ok()) << cluster.status().to_string();
  auto deleted = admin_->delete_topics({"a"});
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_TRUE((*deleted)[0].status.is_ok());
}

}  // namespace
}  // namespace mq::client
