// What the brokers of a three-node cluster answer, over the wire, with real
// mqd processes: an InitProducerId epoch bump asked of one broker fences the
// old epoch on the partitions every broker leads; a partition whose only
// in-sync replica's broker is SIGKILLed leads again when it restarts, with
// its data (replication factor 1, and 3 with every node killed); a broker
// asked right after its restart answers only from metadata that has caught
// up with the quorum (never "unknown topic" for a topic created while it was
// down); topic creation, deletion, partition growth and config changes are
// seen by every broker as soon as the broker asked has answered.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "store/record_batch.h"
#include "tests/support/eventually.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace std::chrono_literals;
using namespace mq::transport;
using mq::testing::kQuickQuorumToml;
using mq::testing::MqdCluster;
using mq::testing::quick_cluster_toml;
using mq::testing::TempDir;

constexpr int kTimeoutMs = 10000;
constexpr int kSessionTimeoutMs = 1500;

using mq::testing::eventually;

// One record; idempotent when `producer_id` is not -1.
std::string batch_of(const std::string& value, int64_t producer_id = -1, int16_t epoch = 0,
                     int32_t sequence = 0) {
  RecordBatchBuilder builder;
  if (producer_id >= 0) builder.set_producer(producer_id, epoch, sequence);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  builder.add(now_ms, std::nullopt, value);
  return *builder.build();
}

class ClusterConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<MqdCluster>(dir_.path(), 3, quick_cluster_toml(kSessionTimeoutMs),
                                            kQuickQuorumToml);
    std::string why;
    ASSERT_TRUE(cluster_->start(&why)) << why;
    ASSERT_TRUE(eventually([&] { return live_brokers(1) == 3; }, 30s))
        << "the three brokers never registered";
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs();
  }

  // A connection to node `id`, made once and kept (reconnected after a restart).
  Connection& to(int id) {
    auto& conn = connections_[id];
    // A Connection whose broker went away stays broken (transport/connection.h):
    // after a node restarts, talk to it over a new one.
    if (!conn || conn->endpoint() != cluster_->node(id).endpoint() ||
        !conn->poll_events().is_ok()) {
      auto made = Connection::connect(cluster_->node(id).endpoint());
      EXPECT_TRUE(made.is_ok()) << made.status().to_string();
      conn = std::move(made).value();
      EXPECT_TRUE(conn->negotiate_versions(kTimeoutMs).is_ok());
    }
    return *conn;
  }

  Result<MetadataResponse> metadata(int id, std::optional<std::vector<std::string>> topics) {
    return to(id).call(
        MetadataRequest{.topics = std::move(topics), .allow_auto_topic_creation = false},
        kTimeoutMs);
  }

  int live_brokers(int id) {
    Result<MetadataResponse> m = metadata(id, std::vector<std::string>{});
    return m.is_ok() ? static_cast<int>(m->brokers.size()) : 0;
  }

  void create_topic(int id, const std::string& name, int partitions, int replication_factor) {
    CreateTopicsRequest request;
    auto& t = request.topics.emplace_back();
    t.name = name;
    t.num_partitions = partitions;
    t.replication_factor = static_cast<int16_t>(replication_factor);
    Result<CreateTopicsResponse> created = to(id).call(request, kTimeoutMs);
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    ASSERT_EQ(created->topics.at(0).error_code, ErrorCode::kNone)
        << created->topics.at(0).error_message.value_or("");
  }

  // Each partition's leader as node `id` sees it; -1 where there is none.
  std::vector<int32_t> leaders(int id, const std::string& topic) {
    Result<MetadataResponse> m = metadata(id, std::vector<std::string>{topic});
    std::vector<int32_t> out;
    if (!m.is_ok() || m->topics.empty()) return out;
    for (const auto& p : m->topics[0].partitions) out.push_back(p.leader_id);
    return out;
  }

  // The partition's state as node `id` sees it, if it knows the partition.
  std::optional<MetadataResponse::Topic::Partition> partition_state(int id,
                                                                    const std::string& topic,
                                                                    int32_t partition) {
    Result<MetadataResponse> m = metadata(id, std::vector<std::string>{topic});
    if (!m.is_ok() || m->topics.empty()) return std::nullopt;
    for (const auto& p : m->topics[0].partitions) {
      if (p.partition_index == partition) return p;
    }
    return std::nullopt;
  }

  Result<ProduceResponse::Topic::Partition> produce(int id, const std::string& topic,
                                                    int32_t partition, const std::string& batch,
                                                    int16_t acks = 1) {
    ProduceRequest request;
    request.acks = acks;
    auto& t = request.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.records = Frame(batch);
    MQ_ASSIGN_OR_RETURN(ProduceResponse response, to(id).call(request, kTimeoutMs));
    return response.topics.at(0).partitions.at(0);
  }

  // Produces `value` to the partition at node `id` until it is accepted.
  bool produce_eventually(int id, const std::string& topic, int32_t partition,
                          const std::string& value, int16_t acks = 1) {
    ErrorCode last = ErrorCode::kUnknown;
    bool done = eventually(
        [&] {
          auto answer = produce(id, topic, partition, batch_of(value), acks);
          last = answer.is_ok() ? answer->error_code : answer.code();
          return last == ErrorCode::kNone;
        },
        20s);
    EXPECT_TRUE(done) << topic << "-" << partition << " at node " << id << ": " << error_name(last);
    return done;
  }

  // Every record value of the partition below its high watermark, read from node `id`.
  std::vector<std::string> read_all(int id, const std::string& topic, int32_t partition) {
    std::vector<std::string> values;
    int64_t offset = 0;
    RecordBatchReader reader;
    std::vector<Record> records;
    while (true) {
      FetchRequest request;
      request.max_wait_ms = 0;
      request.max_bytes = 1 << 20;
      auto& t = request.topics.emplace_back();
      t.name = topic;
      auto& p = t.partitions.emplace_back();
      p.partition_index = partition;
      p.fetch_offset = offset;
      p.partition_max_bytes = 1 << 20;
      Result<FetchResponse> response = to(id).call(request, kTimeoutMs);
      EXPECT_TRUE(response.is_ok()) << response.status().to_string();
      if (!response.is_ok()) return values;
      const auto& out = response->topics.at(0).partitions.at(0);
      EXPECT_EQ(out.error_code, ErrorCode::kNone) << error_name(out.error_code);
      if (out.error_code != ErrorCode::kNone || out.records.empty()) return values;
      BatchCursor cursor(out.records.bytes());
      for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
        EXPECT_TRUE(reader.decode(batch, &records).is_ok());
        for (const Record& r : records) {
          if (r.offset < offset) continue;
          values.emplace_back(*r.value);
          offset = r.offset + 1;
        }
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
  std::map<int, std::unique_ptr<Connection>> connections_;
};

TEST_F(ClusterConsistencyTest, EpochBumpOnOneBrokerFencesTheOldEpochOnEveryLeader) {
  // Three single-replica partitions spread over the three brokers, each
  // leading its partition as soon as the creation is answered.
  create_topic(1, "fence", 3, 1);
  std::vector<int32_t> led_by = leaders(1, "fence");
  ASSERT_EQ(led_by.size(), 3u);
  ASSERT_EQ(std::set<int32_t>(led_by.begin(), led_by.end()), (std::set<int32_t>{1, 2, 3}))
      << "the partitions are not led by the three brokers";

  Result<InitProducerIdResponse> init = to(1).call(InitProducerIdRequest{}, kTimeoutMs);
  ASSERT_TRUE(init.is_ok()) << init.status().to_string();
  ASSERT_EQ(init->error_code, ErrorCode::kNone);
  int64_t pid = init->producer_id;
  for (int32_t p = 0; p < 3; p++) {
    auto first = produce(led_by[p], "fence", p, batch_of("a", pid, 0, 0));
    ASSERT_TRUE(first.is_ok()) << first.status().to_string();
    ASSERT_EQ(first->error_code, ErrorCode::kNone) << first->error_message.value_or("");
  }

  // Bumped through broker 2 (whatever it leads): the controller decides.
  Result<InitProducerIdResponse> bumped =
      to(2).call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 0}, kTimeoutMs);
  ASSERT_TRUE(bumped.is_ok()) << bumped.status().to_string();
  ASSERT_EQ(bumped->error_code, ErrorCode::kNone);
  EXPECT_EQ(bumped->producer_id, pid);
  EXPECT_EQ(bumped->producer_epoch, 1);
  // The same bump asked of another broker is a retry; an older epoch is fenced.
  auto retry =
      to(3).call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 0}, kTimeoutMs);
  ASSERT_TRUE(retry.is_ok());
  EXPECT_EQ(retry->error_code, ErrorCode::kNone);
  EXPECT_EQ(retry->producer_epoch, 1);
  auto other =
      to(3).call(InitProducerIdRequest{.producer_id = pid, .producer_epoch = 5}, kTimeoutMs);
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(other->error_code, ErrorCode::kInvalidProducerEpoch);

  for (int32_t p = 0; p < 3; p++) {
    // Every leader has the bump once it is answered.
    auto old_epoch = produce(led_by[p], "fence", p, batch_of("b", pid, 0, 1));
    ASSERT_TRUE(old_epoch.is_ok());
    EXPECT_EQ(old_epoch->error_code, ErrorCode::kInvalidProducerEpoch)
        << "fence-" << p << ": " << error_name(old_epoch->error_code);
    auto new_epoch = produce(led_by[p], "fence", p, batch_of("c", pid, 1, 0));
    ASSERT_TRUE(new_epoch.is_ok());
    EXPECT_EQ(new_epoch->error_code, ErrorCode::kNone) << new_epoch->error_message.value_or("");
  }
}

TEST_F(ClusterConsistencyTest, SingleReplicaPartitionLeadsAgainAfterItsBrokerIsKilled) {
  create_topic(1, "rf1", 3, 1);
  int32_t broker = -1;
  ASSERT_TRUE(eventually(
      [&] {
        auto p = partition_state(1, "rf1", 0);
        broker = p ? p->leader_id : -1;
        return broker > 0;
      },
      20s));
  ASSERT_TRUE(produce_eventually(broker, "rf1", 0, "before-1"));
  ASSERT_TRUE(produce_eventually(broker, "rf1", 0, "before-2"));
  int other = broker == 1 ? 2 : 1;

  cluster_->node(broker).kill_now();
  // Fenced after its session: no leader, but the ISR keeps its only member.
  std::optional<MetadataResponse::Topic::Partition> down;
  ASSERT_TRUE(eventually(
      [&] {
        down = partition_state(other, "rf1", 0);
        return down && down->leader_id == -1;
      },
      std::chrono::milliseconds(kSessionTimeoutMs * 6)))
      << "rf1-0 never lost its leader";
  EXPECT_EQ(down->isr_nodes, std::vector<int32_t>{broker});
  EXPECT_EQ(down->error_code, ErrorCode::kLeaderNotAvailable);

  ASSERT_TRUE(cluster_->node(broker).start()) << cluster_->node(broker).log();
  ASSERT_TRUE(eventually(
      [&] {
        auto p = partition_state(other, "rf1", 0);
        return p && p->leader_id == broker;
      },
      20s))
      << "rf1-0 was not given back to broker " << broker;
  ASSERT_TRUE(produce_eventually(broker, "rf1", 0, "after"));
  EXPECT_EQ(read_all(broker, "rf1", 0),
            (std::vector<std::string>{"before-1", "before-2", "after"}));
  std::string log = cluster_->node(broker).log();
  EXPECT_EQ(log.find("becoming follower"), std::string::npos) << "a leaderless replica waits";
}

TEST_F(ClusterConsistencyTest, ReplicatedPartitionLeadsAgainAfterEveryNodeIsKilled) {
  create_topic(1, "rf3", 1, 3);
  ASSERT_TRUE(eventually(
      [&] {
        auto p = partition_state(1, "rf3", 0);
        return p && p->leader_id > 0 && p->isr_nodes.size() == 3;
      },
      20s));
  int32_t leader = partition_state(1, "rf3", 0)->leader_id;
  std::vector<std::string> written;
  for (int i = 0; i < 5; i++) {
    written.push_back("v" + std::to_string(i));
    ASSERT_TRUE(produce_eventually(leader, "rf3", 0, written.back(), -1));
  }
  // The whole cluster (the quorum too) is killed: every restart is unclean.
  for (int id = 1; id <= 3; id++) cluster_->node(id).kill_now();
  for (int id = 1; id <= 3; id++) {
    ASSERT_TRUE(cluster_->node(id).start()) << cluster_->node(id).log();
  }
  ASSERT_TRUE(eventually(
      [&] {
        auto p = partition_state(1, "rf3", 0);
        leader = p ? p->leader_id : -1;
        return leader > 0;
      },
      30s))
      << "rf3-0 has no leader after the cluster restarted";
  written.push_back("after");
  ASSERT_TRUE(produce_eventually(leader, "rf3", 0, written.back(), -1));
  EXPECT_EQ(read_all(leader, "rf3", 0), written);
}

TEST_F(ClusterConsistencyTest, RestartedBrokerAnswersOnlyOnceItsMetadataCaughtUp) {
  constexpr int kRestarted = 3;
  for (int round = 0; round < 3; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Unfenced (after the previous round's restart) before it dies, so no
    // unfencing is still on its way when the topic is created.
    ASSERT_TRUE(eventually([&] { return live_brokers(1) == 3; }, 20s));
    cluster_->node(kRestarted).kill_now();
    ASSERT_TRUE(eventually([&] { return live_brokers(1) == 2; },
                           std::chrono::milliseconds(kSessionTimeoutMs * 6)));
    // Created while it is down: its own copy of the metadata lacks the topic.
    std::string topic = "probe" + std::to_string(round);
    create_topic(1, topic, 3, 2);
    for (int32_t p = 0; p < 3; p++) {
      int32_t leader = -1;
      ASSERT_TRUE(eventually(
          [&] {
            auto state = partition_state(1, topic, p);
            leader = state ? state->leader_id : -1;
            return leader > 0;
          },
          10s));
      ASSERT_TRUE(produce_eventually(leader, topic, p, "m"));
    }

    ASSERT_TRUE(cluster_->node(kRestarted).start()) << cluster_->node(kRestarted).log();
    auto asked = std::chrono::steady_clock::now();
    // At once: the answers wait for its metadata, they are never "unknown".
    Result<MetadataResponse> m = metadata(kRestarted, std::vector<std::string>{topic});
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    ASSERT_EQ(m->topics.size(), 1u);
    EXPECT_EQ(m->topics[0].error_code, ErrorCode::kNone) << error_name(m->topics[0].error_code);
    EXPECT_EQ(m->topics[0].partitions.size(), 3u);
    for (const auto& p : m->topics[0].partitions) {
      EXPECT_TRUE(p.leader_id == 1 || p.leader_id == 2) << "partition " << p.partition_index;
    }
    // It holds no replica of the topic: NOT_LEADER (ask the leader), not UNKNOWN.
    ListOffsetsRequest offsets;
    auto& t = offsets.topics.emplace_back();
    t.name = topic;
    for (int32_t p = 0; p < 3; p++) t.partitions.push_back({.partition_index = p});
    Result<ListOffsetsResponse> listed = to(kRestarted).call(offsets, kTimeoutMs);
    ASSERT_TRUE(listed.is_ok()) << listed.status().to_string();
    for (const auto& p : listed->topics.at(0).partitions) {
      EXPECT_EQ(p.error_code, ErrorCode::kNotLeader)
          << "partition " << p.partition_index << ": " << error_name(p.error_code);
    }
    auto waited = std::chrono::steady_clock::now() - asked;
    EXPECT_LT(waited, std::chrono::milliseconds(5000)) << "held past the bound";
    EXPECT_TRUE(cluster_->node(kRestarted).wait_for_log("caught up with the cluster metadata"));
  }
}

TEST_F(ClusterConsistencyTest, NotLeaderNamesTheLeaderOnEveryBroker) {
  // Produce v1 (KIP-951): a broker that does not lead the partition says who
  // does, whether it follows it or holds no replica at all.
  create_topic(1, "named", 1, 2);
  std::optional<MetadataResponse::Topic::Partition> state;
  ASSERT_TRUE(eventually(
      [&] {
        state = partition_state(1, "named", 0);
        return state && state->leader_id > 0 && state->isr_nodes.size() == 2;
      },
      20s));
  int asked_at_leader = 0;
  for (int id = 1; id <= 3; id++) {
    Result<ProduceResponse::Topic::Partition> answer = produce(id, "named", 0, batch_of("v"));
    ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
    if (id == state->leader_id) {
      EXPECT_EQ(answer->error_code, ErrorCode::kNone) << error_name(answer->error_code);
      EXPECT_EQ(answer->current_leader_id, -1) << "only a leadership error names a leader";
      asked_at_leader++;
      continue;
    }
    bool follower = std::ranges::count(state->replica_nodes, id) > 0;
    SCOPED_TRACE(std::string("broker ") + std::to_string(id) +
                 (follower ? " (follower)" : " (no replica)"));
    EXPECT_EQ(answer->error_code, ErrorCode::kNotLeader) << error_name(answer->error_code);
    EXPECT_EQ(answer->current_leader_id, state->leader_id);
    EXPECT_EQ(answer->current_leader_epoch, state->leader_epoch);
  }
  EXPECT_EQ(asked_at_leader, 1);
}

TEST_F(ClusterConsistencyTest, AdminChangesAreOnEveryBrokerOnceAnswered) {
  ASSERT_TRUE(eventually([&] { return live_brokers(1) == 3 && live_brokers(3) == 3; }, 20s));
  for (int round = 0; round < 6; round++) {
    SCOPED_TRACE("round " + std::to_string(round));
    int asked = round % 3 + 1;
    std::string topic = "admin" + std::to_string(round);
    create_topic(asked, topic, 2, 2);
    // At once, every broker knows the topic and its leaders lead it.
    for (int id = 1; id <= 3; id++) {
      auto m = metadata(id, std::vector<std::string>{topic});
      ASSERT_TRUE(m.is_ok()) << m.status().to_string();
      EXPECT_EQ(m->topics.at(0).error_code, ErrorCode::kNone) << "broker " << id;
      EXPECT_EQ(m->topics.at(0).partitions.size(), 2u) << "broker " << id;
    }
    std::vector<int32_t> led_by = leaders(asked, topic);
    ASSERT_EQ(led_by.size(), 2u);
    for (int32_t p = 0; p < 2; p++) {
      auto written = produce(led_by[p], topic, p, batch_of("x"));
      ASSERT_TRUE(written.is_ok()) << written.status().to_string();
      EXPECT_EQ(written->error_code, ErrorCode::kNone)
          << topic << "-" << p << " at " << led_by[p] << ": " << error_name(written->error_code);
    }

    // Grown to 4 partitions through another broker: everyone has 4 at once.
    // (New partitions are placed by the controller; a manual placement is
    // refused, saying so, and changes nothing.)
    int grower = asked % 3 + 1;
    if (round == 0) {
      CreatePartitionsRequest placed;
      placed.topics.push_back(
          {.name = topic,
           .count = 3,
           .assignments =
               std::vector<CreatePartitionsRequest::Topic::Assignment>{{.broker_ids = {1}}}});
      auto refused = to(grower).call(placed, kTimeoutMs);
      ASSERT_TRUE(refused.is_ok()) << refused.status().to_string();
      EXPECT_EQ(refused->results.at(0).error_code, ErrorCode::kInvalidReplicaAssignment);
      EXPECT_NE(refused->results.at(0).error_message.value_or("").find("reassignment"),
                std::string::npos);
    }
    CreatePartitionsRequest grow;
    grow.topics.push_back({.name = topic, .count = 4});
    auto grown = to(grower).call(grow, kTimeoutMs);
    ASSERT_TRUE(grown.is_ok()) << grown.status().to_string();
    ASSERT_EQ(grown->results.at(0).error_code, ErrorCode::kNone)
        << grown->results.at(0).error_message.value_or("");
    for (int id = 1; id <= 3; id++) {
      auto m = metadata(id, std::vector<std::string>{topic});
      ASSERT_TRUE(m.is_ok());
      EXPECT_EQ(m->topics.at(0).partitions.size(), 4u) << "broker " << id;
    }
    led_by = leaders(grower, topic);
    ASSERT_EQ(led_by.size(), 4u);
    for (int32_t p = 2; p < 4; p++) {
      auto written = produce(led_by[p], topic, p, batch_of("y"));
      ASSERT_TRUE(written.is_ok());
      EXPECT_EQ(written->error_code, ErrorCode::kNone)
          << topic << "-" << p << " at " << led_by[p] << ": " << error_name(written->error_code);
    }

    // A config change: every broker describes the new value at once.
    std::string retention = std::to_string(3600000 + round);
    AlterConfigsRequest alter;
    alter.resources.push_back(
        {.resource_name = topic, .configs = {{.name = "retention.ms", .value = retention}}});
    auto altered = to(asked).call(alter, kTimeoutMs);
    ASSERT_TRUE(altered.is_ok()) << altered.status().to_string();
    ASSERT_EQ(altered->responses.at(0).error_code, ErrorCode::kNone)
        << altered->responses.at(0).error_message.value_or("");
    for (int id = 1; id <= 3; id++) {
      DescribeConfigsRequest describe;
      describe.resources.push_back(
          {.resource_name = topic, .configuration_keys = std::vector<std::string>{"retention.ms"}});
      auto described = to(id).call(describe, kTimeoutMs);
      ASSERT_TRUE(described.is_ok()) << described.status().to_string();
      const auto& result = described->results.at(0);
      ASSERT_EQ(result.error_code, ErrorCode::kNone) << "broker " << id;
      ASSERT_EQ(result.configs.size(), 1u);
      EXPECT_EQ(result.configs[0].value, retention) << "broker " << id;
    }

    // Deleted: no broker knows it any more.
    DeleteTopicsRequest remove;
    remove.topic_names = {topic};
    auto removed = to(grower).call(remove, kTimeoutMs);
    ASSERT_TRUE(removed.is_ok()) << removed.status().to_string();
    ASSERT_EQ(removed->responses.at(0).error_code, ErrorCode::kNone);
    for (int id = 1; id <= 3; id++) {
      auto m = metadata(id, std::vector<std::string>{topic});
      ASSERT_TRUE(m.is_ok());
      EXPECT_EQ(m->topics.at(0).error_code, ErrorCode::kUnknownTopicOrPartition) << "broker " << id;
    }
  }
}

}  // namespace
}  // namespace mq
