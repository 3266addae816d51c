// Integration tests of a real single-node mqd: produce/consume, restarts,
// crashes, idempotence, hostile input, metrics, health and shutdown.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "store/record_batch.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace mq::transport;
using testing::MqdProcess;
using testing::TempDir;

constexpr int kTimeoutMs = 10000;

std::string batch_of(const std::vector<std::string>& values, int64_t pid = -1, int32_t seq = -1,
                     int16_t epoch = 0) {
  RecordBatchBuilder builder;
  if (pid >= 0) builder.set_producer(pid, epoch, seq);
  // Current timestamps: older ones would be past the default retention.ms.
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  for (const auto& v : values) builder.add(now_ms, std::nullopt, v);
  return *builder.build();
}

class BrokerTest : public ::testing::Test {
 protected:
  void SetUp() override { start_broker(); }

  void start_broker(const std::string& extra = "") {
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"), extra);
    ASSERT_TRUE(broker_->start()) << broker_->log();
    connect();
  }
  void connect() {
    auto c = Connection::connect(broker_->endpoint());
    ASSERT_TRUE(c.is_ok()) << c.status().to_string();
    conn_ = std::move(c).value();
    ASSERT_TRUE(conn_->negotiate_versions(kTimeoutMs).is_ok());
  }
  void create_topic(const std::string& name, int partitions) {
    CreateTopicsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = name;
    t.num_partitions = partitions;
    t.replication_factor = 1;
    auto resp = conn_->call(req, kTimeoutMs);
    ASSERT_TRUE(resp.is_ok()) << resp.status().to_string();
    ASSERT_EQ(resp->topics[0].error_code, ErrorCode::kNone)
        << resp->topics[0].error_message.value_or("");
  }
  ProduceRequest produce_request(const std::string& topic, int32_t partition,
                                 const std::string& batch, int16_t acks = 1) {
    ProduceRequest req;
    req.acks = acks;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.records = Frame(batch);
    return req;
  }
  Result<ProduceResponse::Topic::Partition> produce(const std::string& topic, int32_t partition,
                                                    const std::string& batch) {
    MQ_ASSIGN_OR_RETURN(ProduceResponse resp,
                        conn_->call(produce_request(topic, partition, batch), kTimeoutMs));
    return resp.topics.at(0).partitions.at(0);
  }
  // Every record value from `offset` to the high watermark.
  std::vector<std::string> consume_all(const std::string& topic, int32_t partition,
                                       int64_t offset = 0) {
    std::vector<std::string> values;
    RecordBatchReader reader;
    std::vector<Record> records;
    for (int round = 0; round < 10000; round++) {
      FetchRequest req;
      req.max_wait_ms = 0;
      req.max_bytes = 1 << 20;
      auto& t = req.topics.emplace_back();
      t.name = topic;
      auto& p = t.partitions.emplace_back();
      p.partition_index = partition;
      p.fetch_offset = offset;
      p.partition_max_bytes = 1 << 20;
      auto resp = conn_->call(req, kTimeoutMs);
      EXPECT_TRUE(resp.is_ok()) << resp.status().to_string();
      if (!resp.is_ok()) break;
      const auto& out = resp->topics.at(0).partitions.at(0);
      EXPECT_EQ(out.error_code, ErrorCode::kNone);
      if (out.records.empty()) break;
      BatchCursor cursor(out.records.bytes());
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        EXPECT_TRUE(verify_batch(batch).is_ok());
        EXPECT_TRUE(reader.decode(batch, &records).is_ok());
        for (const auto& r : records) {
          if (r.offset < offset) continue;
          EXPECT_EQ(r.offset, offset) << "offsets are dense and in order";
          values.emplace_back(*r.value);
          offset = r.offset + 1;
        }
      }
    }
    return values;
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(BrokerTest, ProduceConsumeRoundTrip) {
  create_topic("orders", 3);
  std::vector<std::string> sent;
  for (int i = 0; i < 50; i++) {
    std::vector<std::string> values;
    for (int j = 0; j < 10; j++) values.push_back("order-" + std::to_string(i * 10 + j));
    auto r = produce("orders", 1, batch_of(values));
    ASSERT_TRUE(r.is_ok());
    ASSERT_EQ(r->error_code, ErrorCode::kNone) << r->error_message.value_or("");
    EXPECT_EQ(r->base_offset, i * 10);
    sent.insert(sent.end(), values.begin(), values.end());
  }
  EXPECT_EQ(consume_all("orders", 1), sent);
  EXPECT_TRUE(consume_all("orders", 0).empty());
  std::vector<std::string> tail(sent.begin() + 255, sent.end());
  EXPECT_EQ(consume_all("orders", 1, 255), tail) << "a fetch from the middle of a batch";
}

TEST_F(BrokerTest, BadRequestsGetClearErrors) {
  auto unknown = produce("nope", 0, batch_of({"x"}));
  ASSERT_TRUE(unknown.is_ok());
  EXPECT_EQ(unknown->error_code, ErrorCode::kUnknownTopicOrPartition);
  create_topic("t", 1);
  std::string corrupt = batch_of({"x"});
  corrupt.back() ^= 1;
  auto bad = produce("t", 0, corrupt);
  ASSERT_TRUE(bad.is_ok());
  EXPECT_EQ(bad->error_code, ErrorCode::kCorruptMessage);
  auto no_partition = produce("t", 5, batch_of({"x"}));
  EXPECT_EQ(no_partition->error_code, ErrorCode::kUnknownTopicOrPartition);
  CreateTopicsRequest dup;
  dup.topics.push_back({.name = "t", .num_partitions = 1, .replication_factor = 1});
  dup.topics.push_back({.name = "bad name!", .num_partitions = 1, .replication_factor = 1});
  dup.topics.push_back({.name = "cfg",
                        .num_partitions = 1,
                        .replication_factor = 1,
                        .configs = {{.name = "retention.ms", .value = "soon"}}});
  auto created = conn_->call(dup, kTimeoutMs);
  ASSERT_TRUE(created.is_ok());
  EXPECT_EQ(created->topics[0].error_code, ErrorCode::kTopicAlreadyExists);
  EXPECT_EQ(created->topics[1].error_code, ErrorCode::kInvalidTopic);
  EXPECT_EQ(created->topics[2].error_code, ErrorCode::kInvalidConfig);
  EXPECT_NE(created->topics[2].error_message->find("retention.ms"), std::string::npos);
  EXPECT_EQ(consume_all("t", 0).size(), 0u) << "nothing was appended by the bad requests";
}

TEST_F(BrokerTest, RestartKeepsEverything) {
  create_topic("keep", 2);
  for (int i = 0; i < 20; i++)
    ASSERT_TRUE(produce("keep", i % 2, batch_of({"v" + std::to_string(i)})).is_ok());
  int status = broker_->stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << broker_->log();
  start_broker();
  std::vector<std::string> even = consume_all("keep", 0), odd = consume_all("keep", 1);
  ASSERT_EQ(even.size(), 10u);
  ASSERT_EQ(odd.size(), 10u);
  EXPECT_EQ(even[3], "v6");
  auto next = produce("keep", 0, batch_of({"after"}));
  EXPECT_EQ(next->base_offset, 10);
}

TEST_F(BrokerTest, SigkillUnderAcks1LosesNothingAcknowledged) {
  create_topic("crash", 1);
  // Pipeline produce requests; SIGKILL the broker while they flow.
  std::vector<int32_t> ids;
  for (int i = 0; i < 3000; i++) {
    auto id = conn_->send(produce_request("crash", 0, batch_of({"m" + std::to_string(i)})),
                          *conn_->version_for(ApiKey::kProduce));
    ASSERT_TRUE(id.is_ok());
    ids.push_back(*id);
  }
  std::map<int64_t, std::string> acked;  // offset -> value
  size_t received = 0;
  for (int32_t id : ids) {
    auto resp = conn_->receive_for(id, kTimeoutMs);
    ASSERT_TRUE(resp.is_ok());
    auto decoded = decode_response<ProduceResponse>(*resp);
    ASSERT_TRUE(decoded.is_ok());
    const auto& p = decoded->topics[0].partitions[0];
    ASSERT_EQ(p.error_code, ErrorCode::kNone);
    acked[p.base_offset] = "m" + std::to_string(received);
    if (++received == 1500) broker_->kill_now();
    if (received == 1500) break;
  }
  start_broker();
  std::vector<std::string> values = consume_all("crash", 0);
  ASSERT_GE(values.size(), acked.size()) << broker_->log();
  for (const auto& [offset, value] : acked)
    EXPECT_EQ(values.at(static_cast<size_t>(offset)), value);
}

TEST_F(BrokerTest, RetriedIdempotentBatchesLeaveNoDuplicates) {
  create_topic("idem", 1);
  auto init = conn_->call(InitProducerIdRequest{}, kTimeoutMs);
  ASSERT_TRUE(init.is_ok());
  ASSERT_EQ(init->error_code, ErrorCode::kNone);
  int64_t pid = init->producer_id;
  auto first = produce("idem", 0, batch_of({"a", "b"}, pid, 0));
  auto second = produce("idem", 0, batch_of({"c"}, pid, 2));
  auto retry = produce("idem", 0, batch_of({"a", "b"}, pid, 0));
  ASSERT_TRUE(first.is_ok() && second.is_ok() && retry.is_ok());
  EXPECT_EQ(retry->error_code, ErrorCode::kNone);
  EXPECT_EQ(retry->base_offset, first->base_offset) << "acknowledged with its original offsets";
  auto gap = produce("idem", 0, batch_of({"z"}, pid, 7));
  EXPECT_EQ(gap->error_code, ErrorCode::kOutOfOrderSequence);
  EXPECT_EQ(consume_all("idem", 0), (std::vector<std::string>{"a", "b", "c"}));
  auto other = conn_->call(InitProducerIdRequest{}, kTimeoutMs);
  EXPECT_NE(other->producer_id, pid) << "producer ids are never reused";
}

TEST_F(BrokerTest, InitProducerIdBumpsTheEpochAndFencesTheOldOne) {
  create_topic("fence", 2);
  auto init = conn_->call(InitProducerIdRequest{}, kTimeoutMs);
  ASSERT_TRUE(init.is_ok());
  ASSERT_EQ(init->error_code, ErrorCode::kNone);
  int64_t pid = init->producer_id;
  ASSERT_EQ(init->producer_epoch, 0);
  ASSERT_EQ(produce("fence", 0, batch_of({"a"}, pid, 0))->error_code, ErrorCode::kNone);

  auto bumped =
      conn_->call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 0}, kTimeoutMs);
  ASSERT_TRUE(bumped.is_ok());
  ASSERT_EQ(bumped->error_code, ErrorCode::kNone);
  EXPECT_EQ(bumped->producer_id, pid) << "the same id";
  EXPECT_EQ(bumped->producer_epoch, 1);

  // The old epoch is refused on the partition it wrote to and on one it never
  // touched (the partition has not seen the new epoch there either).
  auto old_epoch = produce("fence", 0, batch_of({"b"}, pid, 1, 0));
  EXPECT_EQ(old_epoch->error_code, ErrorCode::kInvalidProducerEpoch)
      << old_epoch->error_message.value_or("");
  EXPECT_EQ(produce("fence", 1, batch_of({"b"}, pid, 0, 0))->error_code,
            ErrorCode::kInvalidProducerEpoch);
  // The new epoch starts every partition at sequence 0.
  auto new_epoch = produce("fence", 0, batch_of({"c"}, pid, 0, 1));
  EXPECT_EQ(new_epoch->error_code, ErrorCode::kNone) << new_epoch->error_message.value_or("");
  EXPECT_EQ(produce("fence", 1, batch_of({"d"}, pid, 0, 1))->error_code, ErrorCode::kNone);
  EXPECT_EQ(consume_all("fence", 0), (std::vector<std::string>{"a", "c"}));

  // Kafka's rule for the epoch given: the previous one is a retry, others are fenced.
  auto retry =
      conn_->call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 0}, kTimeoutMs);
  EXPECT_EQ(retry->error_code, ErrorCode::kNone);
  EXPECT_EQ(retry->producer_epoch, 1);
  auto stale =
      conn_->call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 7}, kTimeoutMs);
  EXPECT_EQ(stale->error_code, ErrorCode::kInvalidProducerEpoch);
  auto unknown = conn_->call(
      InitProducerIdRequest{.producer_id = pid + 100000, .producer_epoch = 0}, kTimeoutMs);
  EXPECT_EQ(unknown->error_code, ErrorCode::kUnknownProducerId);
  auto half =
      conn_->call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = -1}, kTimeoutMs);
  EXPECT_EQ(half->error_code, ErrorCode::kInvalidRequest);

  // The fence survives a restart.
  broker_->stop();
  start_broker();
  EXPECT_EQ(produce("fence", 1, batch_of({"e"}, pid, 1, 0))->error_code,
            ErrorCode::kInvalidProducerEpoch);
  EXPECT_EQ(produce("fence", 1, batch_of({"e"}, pid, 1, 1))->error_code, ErrorCode::kNone);
}

TEST_F(BrokerTest, GarbageFramesGetErrorsWhileOthersAreServed) {
  create_topic("g", 1);
  zmq::context_t ctx;
  zmq::socket_t raw(ctx, zmq::socket_type::dealer);
  raw.set(zmq::sockopt::linger, 0);
  raw.set(zmq::sockopt::rcvtimeo, 5000);
  raw.connect(broker_->endpoint());
  std::mt19937 rng(1234);
  for (int i = 0; i < 200; i++) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    raw.send(zmq::buffer(junk), zmq::send_flags::sndmore);
    raw.send(zmq::buffer(std::string(rng() % 32, 'x')), zmq::send_flags::none);
  }
  // A header that parses but a body that does not: an error response comes back.
  Frames frames = *encode_request(produce_request("g", 0, batch_of({"x"})),
                                  {.api_version = 0, .correlation_id = 77});
  std::string body(frames[1].as_string_view());
  body.resize(body.size() / 2);
  raw.send(zmq::buffer(frames[0].as_string_view()), zmq::send_flags::sndmore);
  raw.send(zmq::buffer(body), zmq::send_flags::none);
  bool got_error_for_77 = false;
  for (int i = 0; i < 400 && !got_error_for_77; i++) {
    std::vector<zmq::message_t> parts;
    auto n = zmq::recv_multipart(raw, std::back_inserter(parts));
    if (!n) break;
    auto header =
        decode_response_header({static_cast<const uint8_t*>(parts[0].data()), parts[0].size()});
    if (header.is_ok() && header->correlation_id == 77) {
      got_error_for_77 = header->error_code == ErrorCode::kInvalidRequest;
    }
  }
  EXPECT_TRUE(got_error_for_77);
  httplib::Client http("127.0.0.1", broker_->http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->body.find("mq_requests_rejected_total 0"), std::string::npos)
      << "the garbage was counted";
  // Meanwhile a well-behaved client is served as usual.
  auto ok = produce("g", 0, batch_of({"fine"}));
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->error_code, ErrorCode::kNone);
  EXPECT_EQ(consume_all("g", 0), std::vector<std::string>{"fine"});
}

TEST_F(BrokerTest, LongPollFetchWakesOnProduce) {
  create_topic("poll", 1);
  FetchRequest req;
  req.max_wait_ms = 5000;
  req.min_bytes = 1;
  req.max_bytes = 1 << 20;
  auto& t = req.topics.emplace_back();
  t.name = "poll";
  t.partitions.push_back({.partition_index = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 20});
  auto started = std::chrono::steady_clock::now();
  auto id = conn_->send(req, *conn_->version_for(ApiKey::kFetch));
  ASSERT_TRUE(id.is_ok());
  // The fetch is parked: no answer while the partition is empty.
  ASSERT_EQ(conn_->receive_for(*id, 200).code(), ErrorCode::kRequestTimedOut);
  auto other = Connection::connect(broker_->endpoint());
  ASSERT_TRUE(other.is_ok());
  ASSERT_TRUE((*other)->negotiate_versions(kTimeoutMs).is_ok());
  auto produced = (*other)->call(produce_request("poll", 0, batch_of({"wake"})), kTimeoutMs);
  ASSERT_TRUE(produced.is_ok());
  auto resp = conn_->receive_for(*id, kTimeoutMs);
  ASSERT_TRUE(resp.is_ok());
  auto fetched = decode_response<FetchResponse>(*resp);
  ASSERT_TRUE(fetched.is_ok());
  EXPECT_FALSE(fetched->topics[0].partitions[0].records.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(4000))
      << "answered on the produce, not at the deadline";
}

TEST_F(BrokerTest, MetricsParseAsPrometheusTextAndProbesAnswer) {
  create_topic("m", 1);
  ASSERT_TRUE(produce("m", 0, batch_of({"x", "y"})).is_ok());
  httplib::Client http("127.0.0.1", broker_->http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  std::regex sample(
      R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+|NaN|\+Inf$)");
  std::istringstream lines(metrics->body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(std::regex_match(line, sample)) << line;
    samples++;
  }
  EXPECT_GT(samples, 10);
  EXPECT_NE(metrics->body.find("mq_produced_messages_total{topic=\"m\"} 2"), std::string::npos);
  EXPECT_NE(metrics->body.find("mq_partition_log_end_offset{topic=\"m\",partition=\"0\"} 2"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("mq_requests_total{api=\"Produce\",error=\"NONE\"}"),
            std::string::npos);
  EXPECT_EQ(http.Get("/healthz")->status, 200);
  EXPECT_EQ(http.Get("/readyz")->status, 200);
  auto status = http.Get("/v1/status");
  EXPECT_NE(status->body.find("\"topic\":\"m\""), std::string::npos);
  // Every field docs/metrics.md lists.
  for (const char* field :
       {"node_id",       "version",    "uptime_seconds", "ready",       "client_endpoint",
        "cluster_id",    "partitions", "high_watermark", "size_bytes",  "cluster",
        "broker_epoch",  "caught_up",  "fenced",         "quorum",      "commit_index",
        "applied_index", "storage",    "free_bytes",     "total_bytes", "full"}) {
    EXPECT_NE(status->body.find(std::string("\"") + field + "\":"), std::string::npos) << field;
  }
}

TEST(BrokerReadiness, ReadyzFlipsWhenRecoveryEnds) {
  TempDir dir;
  std::string gate = dir.file("gate");
  std::ofstream(gate) << "hold";
  MqdProcess broker(dir.file("data"));
  broker.set_env("MQD_TEST_RECOVERY_GATE", gate);
  ASSERT_TRUE(broker.start(MqdProcess::WaitFor::kHttp)) << broker.log();
  ASSERT_TRUE(broker.wait_for_log("recovering partition logs")) << broker.log();
  httplib::Client http("127.0.0.1", broker.http_port());
  auto before = http.Get("/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  EXPECT_NE(before->body.find("recovering"), std::string::npos) << before->body;
  EXPECT_EQ(http.Get("/healthz")->status, 200) << "alive while it recovers";
  EXPECT_EQ(broker.log().find("serving clients on"), std::string::npos);

  std::filesystem::remove(gate);
  ASSERT_TRUE(broker.wait_for_log("serving clients on")) << broker.log();
  // Ready once its quorum of one has registered and unfenced it.
  ASSERT_TRUE(broker.wait_for_log("and unfenced: answering clients")) << broker.log();
  auto after = http.Get("/readyz");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200) << after->body;

  ASSERT_EQ(broker.stop(SIGTERM), 0);
}

// The value of an unlabelled sample in Prometheus text, or -1.
double sample_value(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(BrokerConnections, CountedAndLimited) {
  TempDir dir;
  MqdProcess broker(dir.file("data"), "[limits]\nmax_connections = 2\n");
  ASSERT_TRUE(broker.start()) << broker.log();
  httplib::Client http("127.0.0.1", broker.http_port());
  auto metric = [&](const std::string& name) {
    auto response = http.Get("/metrics");
    return response ? sample_value(response->body, name) : -1;
  };
  auto wait_metric = [&](const std::string& name, double want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (metric(name) != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return metric(name);
  };
  // The counters are published periodically, not on each connection: wait for them.
  auto wait_at_least = [&](const std::string& name, double want) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (metric(name) < want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return metric(name);
  };

  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < 2; i++) {
    auto c = Connection::connect(broker.endpoint());
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE((*c)->negotiate_versions(kTimeoutMs).is_ok());
    open.push_back(std::move(c).value());
  }
  EXPECT_EQ(wait_metric("mq_connections", 2), 2);

  // The third is closed as soon as it is accepted: its request gets no answer.
  auto third = Connection::connect(broker.endpoint());
  ASSERT_TRUE(third.is_ok());
  EXPECT_FALSE((*third)->negotiate_versions(1000).is_ok());
  EXPECT_GE(wait_at_least("mq_connections_refused_total", 1), 1);
  EXPECT_TRUE(broker.wait_for_log("limits.max_connections")) << broker.log();
  // The two open ones keep being served.
  for (auto& c : open) EXPECT_TRUE(c->call(MetadataRequest{}, kTimeoutMs).is_ok());

  // Room again once one leaves: the third's reconnect gets in.
  third->reset();
  open.pop_back();
  EXPECT_EQ(wait_metric("mq_connections", 1), 1);
  auto fourth = Connection::connect(broker.endpoint());
  ASSERT_TRUE(fourth.is_ok());
  EXPECT_TRUE((*fourth)->negotiate_versions(kTimeoutMs).is_ok());
  EXPECT_GE(wait_at_least("mq_connections_accepted_total", 4), 4);
}

TEST_F(BrokerTest, OffsetForLeaderEpochTellsWhereAnEpochEnds) {
  create_topic("e", 1);
  ASSERT_TRUE(produce("e", 0, batch_of({"a", "b", "c"})).is_ok());
  auto ask = [&](int32_t current, int32_t epoch, const std::string& topic = "e") {
    OffsetForLeaderEpochRequest req;
    req.replica_id = 2;
    req.topics.push_back({.name = topic, .partitions = {{0, current, epoch}}});
    auto resp = conn_->call(req, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok()) << resp.status().to_string();
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0)
                        : OffsetForLeaderEpochResponse::Topic::Partition{};
  };
  auto latest = ask(0, 0);
  EXPECT_EQ(latest.error_code, ErrorCode::kNone);
  EXPECT_EQ(latest.leader_epoch, 0);
  EXPECT_EQ(latest.end_offset, 3) << "the latest epoch ends at the log end";
  EXPECT_EQ(ask(-1, 7).end_offset, 3) << "a later epoch maps to the largest one held";
  EXPECT_EQ(ask(5, 0).error_code, ErrorCode::kUnknownLeaderEpoch);
  EXPECT_EQ(ask(0, 0, "nope").error_code, ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(BrokerTest, DeletingATopicRemovesItsFiles) {
  create_topic("gone", 2);
  ASSERT_TRUE(produce("gone", 1, batch_of({"x"})).is_ok());
  ASSERT_TRUE(std::filesystem::exists(dir_.file("data/gone-1")));
  DeleteTopicsRequest req;
  req.topic_names = {"gone", "never-was"};
  auto resp = conn_->call(req, kTimeoutMs);
  ASSERT_TRUE(resp.is_ok());
  EXPECT_EQ(resp->responses[0].error_code, ErrorCode::kNone);
  EXPECT_EQ(resp->responses[1].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("data/gone-0")));
  EXPECT_FALSE(std::filesystem::exists(dir_.file("data/gone-1")));
  EXPECT_EQ(produce("gone", 0, batch_of({"y"}))->error_code, ErrorCode::kUnknownTopicOrPartition);
}

TEST_F(BrokerTest, SighupReloadsDynamicSettingsAndNamesThem) {
  create_topic("r", 1);
  {
    std::ofstream config(dir_.file("data.toml"), std::ios::app);
    config << "[log]\nretention_ms = 5000\n";
  }
  // Appending a table to the generated file changes one dynamic setting.
  ::kill(broker_->pid(), SIGHUP);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (broker_->log().find("reloaded") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(broker_->log().find("changed: log.retention_ms"), std::string::npos) << broker_->log();
  DescribeConfigsRequest describe;
  describe.resources.push_back({.resource_type = ConfigResourceType::kTopic,
                                .resource_name = "r",
                                .configuration_keys = std::vector<std::string>{"retention.ms"}});
  auto described = conn_->call(describe, kTimeoutMs);
  ASSERT_TRUE(described.is_ok());
  ASSERT_EQ(described->results[0].configs.size(), 1u);
  EXPECT_EQ(described->results[0].configs[0].value, "5000") << "the topic follows the new default";
}

TEST_F(BrokerTest, SigtermExitsCleanlyInBound) {
  create_topic("s", 1);
  ASSERT_TRUE(produce("s", 0, batch_of({"x"})).is_ok());
  auto started = std::chrono::steady_clock::now();
  int status = broker_->stop(SIGTERM, 10000);
  ASSERT_NE(status, -1) << "did not exit within 10 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << broker_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_TRUE(std::ifstream(dir_.file("data/s-0/.clean-shutdown")).good());
  EXPECT_NE(broker_->log().find("shut down cleanly"), std::string::npos);
}

}  // namespace
}  // namespace mq
