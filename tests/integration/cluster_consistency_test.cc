// What the brokers of a three-node cluster answer, over the wire, with real
// mqd processes: an InitProducerId epoch bump asked of one broker fences the
// old epoch on the partitions every broker leads.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "store/record_batch.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace std::chrono_literals;
using namespace mq::transport;
using mq::testing::MqdCluster;
using mq::testing::TempDir;

constexpr int kTimeoutMs = 10000;
constexpr int kSessionTimeoutMs = 1500;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

std::string batch_of(const std::string& value, int64_t producer_id, int16_t epoch,
                     int32_t sequence) {
  RecordBatchBuilder builder;
  builder.set_producer(producer_id, epoch, sequence);
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  builder.add(now_ms, std::nullopt, value);
  return *builder.build();
}

class ClusterConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<MqdCluster>(
        dir_.path(), 3,
        "broker_heartbeat_interval_ms = 100\n"
        "broker_session_timeout_ms = " +
            std::to_string(kSessionTimeoutMs) +
            "\n"
            "auto_leader_rebalance = false\n",
        "[quorum]\ntick_ms = 20\nelection_timeout_ms = 400\n"
        "[replication]\nlag_time_max_ms = 3000\nfetch_max_wait_ms = 100\n");
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
    if (!conn || conn->endpoint() != cluster_->node(id).endpoint()) {
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

  Result<ProduceResponse::Topic::Partition> produce(int id, const std::string& topic,
                                                    int32_t partition, const std::string& batch) {
    ProduceRequest request;
    request.acks = 1;
    auto& t = request.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = partition;
    p.records = Frame(batch);
    MQ_ASSIGN_OR_RETURN(ProduceResponse response, to(id).call(request, kTimeoutMs));
    return response.topics.at(0).partitions.at(0);
  }

  TempDir dir_;
  std::unique_ptr<MqdCluster> cluster_;
  std::map<int, std::unique_ptr<Connection>> connections_;
};

TEST_F(ClusterConsistencyTest, EpochBumpOnOneBrokerFencesTheOldEpochOnEveryLeader) {
  // Three single-replica partitions spread over the three brokers.
  create_topic(1, "fence", 3, 1);
  std::vector<int32_t> led_by;
  ASSERT_TRUE(eventually(
      [&] {
        led_by = leaders(1, "fence");
        return led_by.size() == 3 && std::set<int32_t>(led_by.begin(), led_by.end()).size() == 3 &&
               !std::set<int32_t>(led_by.begin(), led_by.end()).contains(-1);
      },
      20s))
      << "the partitions are not led by three brokers";

  Result<InitProducerIdResponse> init = to(1).call(InitProducerIdRequest{}, kTimeoutMs);
  ASSERT_TRUE(init.is_ok()) << init.status().to_string();
  ASSERT_EQ(init->error_code, ErrorCode::kNone);
  int64_t pid = init->producer_id;
  for (int32_t p = 0; p < 3; p++) {
    // The leader may not have applied the new topic yet (NOT_LEADER, nothing appended).
    ErrorCode first = ErrorCode::kUnknown;
    ASSERT_TRUE(eventually(
        [&] {
          auto answer = produce(led_by[p], "fence", p, batch_of("a", pid, 0, 0));
          first = answer.is_ok() ? answer->error_code : answer.code();
          return first == ErrorCode::kNone;
        },
        10s))
        << "fence-" << p << ": " << error_name(first);
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
    // The other leaders apply the bump from the metadata log a moment later.
    int32_t sequence = 1;
    ErrorCode answer = ErrorCode::kNone;
    EXPECT_TRUE(eventually(
        [&] {
          auto old_epoch = produce(led_by[p], "fence", p, batch_of("b", pid, 0, sequence));
          if (!old_epoch.is_ok()) return false;
          answer = old_epoch->error_code;
          if (answer == ErrorCode::kNone) ++sequence;
          return answer != ErrorCode::kNone;
        },
        10s));
    EXPECT_EQ(answer, ErrorCode::kInvalidProducerEpoch) << "fence-" << p;
    auto new_epoch = produce(led_by[p], "fence", p, batch_of("c", pid, 1, 0));
    ASSERT_TRUE(new_epoch.is_ok());
    EXPECT_EQ(new_epoch->error_code, ErrorCode::kNone) << new_epoch->error_message.value_or("");
  }
}

}  // namespace
}  // namespace mq
