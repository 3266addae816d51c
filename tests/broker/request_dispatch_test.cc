// The handler table (broker/handlers/table.cc) and RequestHandler's dispatch
// through it: every API the protocol defines has one handler with the same
// versions, keys and versions without one are refused UNSUPPORTED_VERSION,
// and group requests without a coordinator are refused in their own shape.
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "broker/broker_metrics.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "broker/request_handler.h"
#include "broker/scheduler.h"
#include "tests/support/temp_dir.h"
#include "transport/messages.h"

namespace mq::broker {
namespace {

using namespace mq::transport;

TEST(HandlerTableTest, EveryProtocolApiHasOneHandlerWithItsVersions) {
  std::set<ApiKey> handled;
  for (const handlers::Handler& h : handlers::all()) {
    EXPECT_TRUE(handled.insert(h.api).second) << api_name(h.api) << " registered twice";
    std::optional<VersionRange> protocol = supported_versions(h.api);
    ASSERT_TRUE(protocol) << api_name(h.api) << " has a handler but no messages";
    EXPECT_EQ(h.versions.min_version, protocol->min_version) << api_name(h.api);
    EXPECT_EQ(h.versions.max_version, protocol->max_version) << api_name(h.api);
    EXPECT_EQ(handlers::find(h.api), &h);
  }
  for (const SupportedApi& api : supported_apis()) {
    EXPECT_TRUE(handled.count(api.api_key)) << api_name(api.api_key) << " has no handler";
  }
}

TEST(HandlerTableTest, GroupAndStartupFlags) {
  for (const handlers::Handler& h : handlers::all()) {
    auto key = static_cast<int16_t>(h.api);
    EXPECT_EQ(h.group, key >= 40 && key <= 50) << api_name(h.api);
    EXPECT_EQ(h.before_catch_up, h.api == ApiKey::kApiVersions || h.api == ApiKey::kDescribeQuorum)
        << api_name(h.api);
  }
}

TEST(HandlerTableTest, KeysServedElsewhereHaveNoHandler) {
  // Replication's AlterPartition and the quorum's keys are not client APIs.
  EXPECT_EQ(handlers::find(ApiKey::kAlterPartition), nullptr);
  EXPECT_EQ(handlers::find(ApiKey::kVote), nullptr);
  EXPECT_EQ(handlers::find(ApiKey::kAppendEntries), nullptr);
  EXPECT_EQ(handlers::find(static_cast<ApiKey>(999)), nullptr);
}

class RequestDispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BrokerConfig config;
    config.data_dir = dir_.path() + "/data";
    auto replicas = ReplicaManager::open(config);
    ASSERT_TRUE(replicas.is_ok()) << replicas.status().to_string();
    replicas_ = std::move(replicas).value();
    scheduler_ = std::make_unique<Scheduler>(1);
    handler_ = std::make_unique<RequestHandler>(*replicas_, *scheduler_, metrics_,
                                                BrokerIdentity{.node_id = 1});
  }
  void TearDown() override {
    scheduler_.reset();
    if (replicas_) (void)replicas_->close();
  }

  // The response frames to `request` sent as `api` at `version`.
  template <class Request>
  InboundResponse call(const Request& request, ApiKey api, int16_t version) {
    RequestHeader header{.api_key = Request::kApiKey, .api_version = 0, .correlation_id = 7};
    Result<Frames> frames = encode_request(request, header);
    EXPECT_TRUE(frames.is_ok());
    Result<InboundRequest> inbound = parse_request(*frames);
    EXPECT_TRUE(inbound.is_ok()) << inbound.status().to_string();
    inbound->header.api_key = api;
    inbound->header.api_version = version;
    std::promise<Frames> answered;
    handler_->handle(std::move(inbound).value(),
                     [&answered](Frames out) { answered.set_value(std::move(out)); });
    Frames out = answered.get_future().get();
    Result<InboundResponse> response = parse_response(out);
    EXPECT_TRUE(response.is_ok()) << response.status().to_string();
    return std::move(response).value();
  }

  testing::TempDir dir_;
  BrokerMetrics metrics_;
  std::unique_ptr<ReplicaManager> replicas_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<RequestHandler> handler_;
};

TEST_F(RequestDispatchTest, ApiVersionsListsTheHandlerTable) {
  InboundResponse response = call(ApiVersionsRequest{}, ApiKey::kApiVersions, 0);
  Result<ApiVersionsResponse> versions = decode_response<ApiVersionsResponse>(response);
  ASSERT_TRUE(versions.is_ok()) << versions.status().to_string();
  ASSERT_EQ(versions->api_keys.size(), handlers::all().size());
  for (size_t i = 0; i < versions->api_keys.size(); ++i) {
    EXPECT_EQ(versions->api_keys[i].api_key, static_cast<int16_t>(handlers::all()[i].api));
    EXPECT_EQ(versions->api_keys[i].max_version, handlers::all()[i].versions.max_version);
  }
}

TEST_F(RequestDispatchTest, AKeyWithoutHandlerIsUnsupported) {
  InboundResponse response = call(ApiVersionsRequest{}, ApiKey::kAlterPartition, 0);
  EXPECT_EQ(response.header.error_code, ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(response.header.correlation_id, 7);
  EXPECT_NE(response.header.error_message.value_or("").find("AlterPartition v0"),
            std::string::npos);
}

TEST_F(RequestDispatchTest, AVersionPastTheHandlersRangeIsUnsupported) {
  InboundResponse response = call(ApiVersionsRequest{}, ApiKey::kApiVersions, 9);
  EXPECT_EQ(response.header.error_code, ErrorCode::kUnsupportedVersion);
  EXPECT_NE(response.header.error_message.value_or("").find("ApiVersions v9"), std::string::npos);
}

TEST_F(RequestDispatchTest, GroupRequestsWithoutCoordinatorAreRefusedPerResult) {
  OffsetCommitRequest commit;
  commit.group_id = "g";
  auto& topic = commit.topics.emplace_back();
  topic.name = "t";
  topic.partitions.emplace_back().partition_index = 3;
  Result<OffsetCommitResponse> committed =
      decode_response<OffsetCommitResponse>(call(commit, ApiKey::kOffsetCommit, 0));
  ASSERT_TRUE(committed.is_ok()) << committed.status().to_string();
  ASSERT_EQ(committed->topics.size(), 1u);
  ASSERT_EQ(committed->topics[0].partitions.size(), 1u);
  EXPECT_EQ(committed->topics[0].partitions[0].partition_index, 3);
  EXPECT_EQ(committed->topics[0].partitions[0].error_code, ErrorCode::kCoordinatorNotAvailable);

  HeartbeatRequest beat;
  beat.group_id = "g";
  Result<HeartbeatResponse> hb =
      decode_response<HeartbeatResponse>(call(beat, ApiKey::kHeartbeat, 0));
  ASSERT_TRUE(hb.is_ok()) << hb.status().to_string();
  EXPECT_EQ(hb->error_code, ErrorCode::kCoordinatorNotAvailable);
}

TEST_F(RequestDispatchTest, ABodyThatDoesNotDecodeIsRefused) {
  // A Heartbeat body sent as a Produce request.
  HeartbeatRequest beat;
  beat.group_id = "g";
  InboundResponse response = call(beat, ApiKey::kProduce, 0);
  EXPECT_EQ(response.header.error_code, ErrorCode::kInvalidRequest);
}

TEST_F(RequestDispatchTest, AStoppingBrokerRefusesWhatStillArrivesRetriably) {
  // Answered normally before.
  EXPECT_EQ(call(ApiVersionsRequest{}, ApiKey::kApiVersions, 0).header.error_code,
            ErrorCode::kNone);
  handler_->refuse_new_requests();
  InboundResponse versions = call(ApiVersionsRequest{}, ApiKey::kApiVersions, 0);
  EXPECT_EQ(versions.header.error_code, ErrorCode::kLeaderNotAvailable);
  EXPECT_EQ(versions.header.correlation_id, 7);
  EXPECT_NE(versions.header.error_message.value_or("").find("broker 1 is shutting down"),
            std::string::npos);
  MetadataRequest metadata;
  EXPECT_EQ(call(metadata, ApiKey::kMetadata, 0).header.error_code, ErrorCode::kLeaderNotAvailable);
  HeartbeatRequest beat;
  beat.group_id = "g";
  EXPECT_EQ(call(beat, ApiKey::kHeartbeat, 0).header.error_code,
            ErrorCode::kCoordinatorNotAvailable)
      << "group requests are told to find their coordinator again";
}

}  // namespace
}  // namespace mq::broker
