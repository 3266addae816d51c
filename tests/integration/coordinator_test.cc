// The group coordinator inside a real mqd, over the wire: finding it, the
// two-step join, sync and heartbeat, fenced and manual commits, offsets and
// generations surviving a restart, the internal topic's protection, and the
// group metrics.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/consumer_protocol.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace mq::transport;
using testing::MqdProcess;
using testing::TempDir;

constexpr int kTimeoutMs = 10000;
constexpr const char* kGroupSettings =
    "[group]\ninitial_rebalance_delay_ms = 0\nmin_session_timeout_ms = 100\n";

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }
  void start() {
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"), kGroupSettings);
    ASSERT_TRUE(broker_->start()) << broker_->log();
    auto c = Connection::connect(broker_->endpoint());
    ASSERT_TRUE(c.is_ok());
    conn_ = std::move(c).value();
    ASSERT_TRUE(conn_->negotiate_versions(kTimeoutMs).is_ok());
    // __consumer_offsets is created once the broker is unfenced; until then
    // FindCoordinator answers COORDINATOR_NOT_AVAILABLE, and clients retry.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
    FindCoordinatorRequest find;
    find.key = "g";
    while (conn_->call(find, kTimeoutMs)->error_code != ErrorCode::kNone) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << broker_->log();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  void restart() {
    conn_.reset();
    ASSERT_EQ(broker_->stop(SIGTERM), 0);
    start();
  }
  void create_topic(const std::string& name, int partitions) {
    CreateTopicsRequest req;
    req.topics.push_back({.name = name, .num_partitions = partitions, .replication_factor = 1});
    auto resp = conn_->call(req, kTimeoutMs);
    ASSERT_TRUE(resp.is_ok());
    ASSERT_EQ(resp->topics[0].error_code, ErrorCode::kNone);
  }
  JoinGroupRequest join_request(const std::string& member_id) {
    JoinGroupRequest r;
    r.group_id = "g";
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 10000;
    r.member_id = member_id;
    r.protocol_type = "consumer";
    ConsumerSubscription s;
    s.topics = {"t"};
    r.protocols.push_back({"range", encode_subscription(s)});
    return r;
  }
  // Joins as a new member; returns the JoinGroup response of the second step.
  JoinGroupResponse join() {
    auto first = conn_->call(join_request(""), kTimeoutMs);
    EXPECT_TRUE(first.is_ok());
    EXPECT_EQ(first->error_code, ErrorCode::kMemberIdRequired);
    auto second = conn_->call(join_request(first->member_id), kTimeoutMs);
    EXPECT_TRUE(second.is_ok());
    return second.is_ok() ? *second : JoinGroupResponse{};
  }
  ErrorCode commit(const std::string& member, int32_t generation, int32_t partition,
                   int64_t offset) {
    OffsetCommitRequest r;
    r.group_id = "g";
    r.generation_id = generation;
    r.member_id = member;
    r.topics.push_back({.name = "t", .partitions = {{partition, offset, -1, "note"}}});
    auto resp = conn_->call(r, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok());
    return resp.is_ok() ? resp->topics.at(0).partitions.at(0).error_code : ErrorCode::kUnknown;
  }
  OffsetFetchResponse::Topic::Partition committed(int32_t partition) {
    OffsetFetchRequest r;
    r.group_id = "g";
    r.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {partition}}};
    auto resp = conn_->call(r, kTimeoutMs);
    EXPECT_TRUE(resp.is_ok());
    return resp->topics.at(0).partitions.at(0);
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(CoordinatorTest, JoinSyncHeartbeatCommitAndRestart) {
  create_topic("t", 4);
  FindCoordinatorRequest find;
  find.key = "g";
  auto found = conn_->call(find, kTimeoutMs);
  ASSERT_TRUE(found.is_ok());
  EXPECT_EQ(found->error_code, ErrorCode::kNone);
  EXPECT_EQ(found->node_id, 1);
  EXPECT_EQ("tcp://" + found->host + ":" + std::to_string(found->port), broker_->endpoint());

  JoinGroupResponse joined = join();
  ASSERT_EQ(joined.error_code, ErrorCode::kNone);
  EXPECT_EQ(joined.generation_id, 1);
  EXPECT_EQ(joined.protocol_name, "range");
  EXPECT_EQ(joined.leader, joined.member_id);
  SyncGroupRequest sync;
  sync.group_id = "g";
  sync.generation_id = 1;
  sync.member_id = joined.member_id;
  auto synced = conn_->call(sync, kTimeoutMs);
  ASSERT_TRUE(synced.is_ok());
  ASSERT_EQ(synced->error_code, ErrorCode::kNone);
  auto assignment = decode_assignment(synced->assignment);
  ASSERT_TRUE(assignment.is_ok());
  ASSERT_EQ(assignment->partitions.size(), 1u);
  EXPECT_EQ(assignment->partitions[0].partitions, (std::vector<int32_t>{0, 1, 2, 3}));
  auto beat = conn_->call(HeartbeatRequest{"g", 1, joined.member_id, std::nullopt}, kTimeoutMs);
  ASSERT_TRUE(beat.is_ok());
  EXPECT_EQ(beat->error_code, ErrorCode::kNone);

  EXPECT_EQ(commit(joined.member_id, 1, 2, 17), ErrorCode::kNone);
  EXPECT_EQ(commit(joined.member_id, 0, 2, 18), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(commit("", -1, 2, 19), ErrorCode::kGroupNotEmpty) << "manual commit, live group";
  EXPECT_EQ(committed(2).committed_offset, 17);
  EXPECT_EQ(committed(2).metadata, "note");
  EXPECT_EQ(committed(1).committed_offset, -1);

  // The group shows in the metrics with its lag (nothing produced: 0 - 17 clamps to 0).
  httplib::Client http("127.0.0.1", broker_->http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("mq_group_members{group=\"g\"} 1"), std::string::npos);
  EXPECT_NE(metrics->body.find("mq_group_state{group=\"g\",state=\"Stable\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics->body.find("mq_group_lag{group=\"g\",topic=\"t\",partition=\"2\"} 0"),
            std::string::npos)
      << metrics->body;

  restart();
  EXPECT_EQ(committed(2).committed_offset, 17) << "commits survive a restart";
  EXPECT_EQ(commit(joined.member_id, 1, 2, 20), ErrorCode::kUnknownMemberId)
      << "members from before the restart are fenced";
  EXPECT_EQ(commit("", -1, 2, 21), ErrorCode::kNone) << "the group is empty now";
  JoinGroupResponse again = join();
  EXPECT_GT(again.generation_id, 1) << "generations continue after a restart";
  auto groups = conn_->call(ListGroupsRequest{}, kTimeoutMs);
  ASSERT_TRUE(groups.is_ok());
  ASSERT_EQ(groups->groups.size(), 1u);
  EXPECT_EQ(groups->groups[0].group_id, "g");
}

TEST_F(CoordinatorTest, TheOffsetsTopicIsInternalAndProtected) {
  MetadataRequest all;
  auto meta = conn_->call(all, kTimeoutMs);
  ASSERT_TRUE(meta.is_ok());
  bool seen = false;
  for (const auto& t : meta->topics) {
    if (t.name != "__consumer_offsets") continue;
    seen = true;
    EXPECT_TRUE(t.is_internal);
    EXPECT_EQ(t.partitions.size(), 16u);
  }
  EXPECT_TRUE(seen);
  DescribeConfigsRequest describe;
  describe.resources.push_back({.resource_type = ConfigResourceType::kTopic,
                                .resource_name = "__consumer_offsets",
                                .configuration_keys = std::vector<std::string>{"cleanup.policy"}});
  auto described = conn_->call(describe, kTimeoutMs);
  ASSERT_TRUE(described.is_ok());
  ASSERT_EQ(described->results.at(0).configs.size(), 1u);
  EXPECT_EQ(described->results[0].configs[0].value, "compact") << "one record per key is kept";

  ProduceRequest produce;
  produce.acks = 1;
  produce.topics.push_back({.name = "__consumer_offsets", .partitions = {{0, Frame("x")}}});
  auto produced = conn_->call(produce, kTimeoutMs);
  ASSERT_TRUE(produced.is_ok());
  EXPECT_EQ(produced->topics[0].partitions[0].error_code, ErrorCode::kInvalidTopic);

  DeleteTopicsRequest del;
  del.topic_names = {"__consumer_offsets"};
  auto deleted = conn_->call(del, kTimeoutMs);
  ASSERT_TRUE(deleted.is_ok());
  EXPECT_EQ(deleted->responses[0].error_code, ErrorCode::kInvalidTopic);

  FindCoordinatorRequest bad;
  bad.key = "";
  EXPECT_EQ(conn_->call(bad, kTimeoutMs)->error_code, ErrorCode::kInvalidGroupId);
  bad.key = "g";
  bad.key_type = CoordinatorType::kTransaction;
  EXPECT_EQ(conn_->call(bad, kTimeoutMs)->error_code, ErrorCode::kInvalidRequest);
}

TEST_F(CoordinatorTest, ChangingTheOffsetsPartitionCountStopsTheBroker) {
  conn_.reset();
  ASSERT_EQ(broker_->stop(SIGTERM), 0);
  MqdProcess changed(dir_.file("data"), "[group]\noffsets_topic_partitions = 8\n");
  (void)changed.start();  // it may stop before or after it serves
  int status = changed.wait_exit();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << changed.log();
  EXPECT_NE(changed.log().find("group.offsets_topic_partitions is 8 but __consumer_offsets has 16"),
            std::string::npos)
      << changed.log();
}

}  // namespace
}  // namespace mq
