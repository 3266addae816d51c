// Authorization against a real mqd (docs/security.md, "Authorization"):
// every API of the client listener, sent on the wire by a principal
// without ACLs (denied: the authorization error, no effect) and by one
// granted exactly what the API needs (allowed: no authorization error, and
// success where a single broker can succeed). Deny beats allow, super-users
// and brokers need no ACLs, listings show only what may be described, and
// mqctl acl manages the ACLs.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client/admin.h"
#include "store/record_batch.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"
#include "transport/consumer_protocol.h"
#include "transport/curve.h"
#include "transport/messages.h"

namespace mq {
namespace {

using namespace std::chrono_literals;
using namespace mq::transport;
using mq::testing::eventually;
using mq::testing::MqdProcess;
using mq::testing::Shell;
using mq::testing::TempDir;

constexpr int kTimeoutMs = 10000;

// Every error code in a response, at any depth (request-level and per entry).
struct ErrorCollector {
  std::vector<ErrorCode> codes;

  int16_t version() const { return 32767; }  // every versioned field is there
  template <class T>
  void operator()(const char*, const T& value) {
    visit(value);
  }
  void visit(ErrorCode code) { codes.push_back(code); }
  template <WireStruct T>
  void visit(const T& value) {
    T::fields(value, *this);
  }
  template <class T>
  void visit(const std::vector<T>& values) {
    for (const T& v : values) visit(v);
  }
  template <class T>
  void visit(const std::optional<T>& value) {
    if (value) visit(*value);
  }
  template <class T>
  void visit(const T&) {}
};

template <class Response>
std::vector<ErrorCode> codes_of(const Result<Response>& response) {
  if (!response.is_ok()) return {response.code()};
  ErrorCollector collector;
  collector.visit(*response);
  return collector.codes;
}

std::string names(const std::vector<ErrorCode>& codes) {
  std::string text;
  for (ErrorCode c : codes) text += std::string(error_name(c)) + " ";
  return text;
}

std::string batch_of(const std::string& value) {
  RecordBatchBuilder builder;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  builder.add(now_ms, std::string("k"), value);
  return *builder.build();
}

AclBinding acl(AclResourceType type, std::string name, AclOperation op,
               std::string principal = "alice", AclPermission permission = AclPermission::kAllow,
               AclPatternType pattern = AclPatternType::kLiteral) {
  return {.resource_type = type,
          .resource_name = std::move(name),
          .pattern_type = pattern,
          .principal = std::move(principal),
          .operation = op,
          .permission = permission};
}
AclBinding on_topic(std::string name, AclOperation op) {
  return acl(AclResourceType::kTopic, std::move(name), op);
}
AclBinding on_group(std::string name, AclOperation op) {
  return acl(AclResourceType::kGroup, std::move(name), op);
}
AclBinding on_cluster(AclOperation op) {
  return acl(AclResourceType::kCluster, std::string(kClusterResourceName), op);
}

// One API as the matrix sends it.
struct Case {
  ApiKey api;
  std::vector<AclBinding> needs;  // granted to alice for the allowed call
  ErrorCode denied;               // what bob gets (kNone: nothing to deny)
  std::function<std::vector<ErrorCode>(Connection&)> call;
  // Besides NONE, what the allowed call may answer on one broker (no member
  // in the group, no observer to add, ...): never an authorization error.
  std::set<ErrorCode> also_allowed = {};
};

class AuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = generate_curve_key_pair().value();
    ASSERT_TRUE(write_curve_key_files(dir_.file("cluster"), cluster_).is_ok());
    CurveKeyPair broker = generate_curve_key_pair().value();
    ASSERT_TRUE(write_curve_key_files(dir_.file("broker1"), broker).is_ok());
    std::string principals = "broker:1 " + broker.public_key + "\n";
    for (const char* name : {"admin", "alice", "bob", "mallory"}) {
      keys_[name] = generate_curve_key_pair().value();
      principals += std::string(name) + " " + keys_[name].public_key + "\n";
    }
    ASSERT_TRUE(write_curve_key_files(dir_.file("admin"), keys_["admin"]).is_ok());
    std::ofstream(dir_.file("principals")) << principals;
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"));
    broker_->set_top_level("security.curve_secret_key_file = \"" + dir_.file("cluster.secret") +
                           "\"\nsecurity.broker_secret_key_file = \"" +
                           dir_.file("broker1.secret") + "\"\nsecurity.principals_file = \"" +
                           dir_.file("principals") +
                           "\"\nsecurity.authorization = true\nsecurity.super_users = \"admin\"\n"
                           "group.initial_rebalance_delay_ms = 0\ntopics.auto_create = true\n");
    ASSERT_TRUE(broker_->start()) << broker_->log();
    client::AdminConfig config{.bootstrap_servers = broker_->endpoint().substr(6)};
    config.curve = {.server_key = cluster_.public_key, .secret_key = keys_["admin"].secret_key};
    config.default_api_timeout_ms = 20000;
    admin_ = client::Admin::create(config).value();
    for (const char* name : {"admin", "alice", "bob", "mallory"}) {
      conns_[name] = connect(name);
      ASSERT_NE(conns_[name], nullptr);
    }
    // The admin (a super-user, no ACLs) sets the stage.
    for (const char* topic : {"t", "grow", "doomed"}) {
      client::NewTopic t{.name = topic, .num_partitions = 1, .replication_factor = 1};
      auto created = admin_->create_topics({t});
      ASSERT_TRUE(created.is_ok() && (*created)[0].status.is_ok()) << topic;
    }
    ASSERT_EQ(produce(*conns_["admin"], "t"), std::vector<ErrorCode>{ErrorCode::kNone});
    // The group coordinator is loaded before any group request is judged.
    ASSERT_TRUE(eventually(
        [&] {
          auto found = conns_["admin"]->call(FindCoordinatorRequest{.key = "g"}, kTimeoutMs);
          if (!found.is_ok() || found->error_code != ErrorCode::kNone) return false;
          auto described =
              conns_["admin"]->call(DescribeGroupsRequest{.groups = {"g"}}, kTimeoutMs);
          return described.is_ok() && !described->groups.empty() &&
                 described->groups[0].error_code != ErrorCode::kCoordinatorLoadInProgress &&
                 described->groups[0].error_code != ErrorCode::kCoordinatorNotAvailable;
        },
        30s));
  }

  std::unique_ptr<Connection> connect(const std::string& name) {
    ConnectionOptions options;
    options.curve = {.server_key = cluster_.public_key,
                     .public_key = keys_[name].public_key,
                     .secret_key = keys_[name].secret_key};
    auto c = Connection::connect(broker_->endpoint(), options);
    if (!c.is_ok()) return nullptr;
    if (!(*c)->negotiate_versions(kTimeoutMs).is_ok()) return nullptr;
    return std::move(c).value();
  }

  std::vector<ErrorCode> produce(Connection& conn, const std::string& topic) {
    ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 5000;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    auto& p = t.partitions.emplace_back();
    p.partition_index = 0;
    p.records = Frame(batch_of("v"));
    return codes_of(conn.call(req, kTimeoutMs));
  }

  std::vector<ErrorCode> list_offsets(Connection& conn, const std::string& topic) {
    ListOffsetsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    t.partitions.push_back({.partition_index = 0, .timestamp = -1});
    return codes_of(conn.call(req, kTimeoutMs));
  }

  int64_t high_watermark(const std::string& topic) {
    auto listed = admin_->list_offsets(std::map<client::TopicPartition, int64_t>{
        {client::TopicPartition{topic, 0}, transport::kLatestTimestamp}});
    return listed.is_ok() ? listed->begin()->second.offset : -1;
  }
  bool topic_exists(const std::string& name) {
    auto described = admin_->describe_cluster(std::vector<std::string>{name});
    return described.is_ok() && !described->topics.empty() &&
           described->topics.begin()->second.error == ErrorCode::kNone;
  }

  void grant(const std::vector<AclBinding>& acls) {
    auto created = admin_->create_acls(acls);
    ASSERT_TRUE(created.is_ok()) << created.status().to_string();
    for (const Status& s : *created) ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  void revoke_all(const std::string& principal) {
    auto deleted = admin_->delete_acls({AclFilter{.principal = principal}});
    ASSERT_TRUE(deleted.is_ok()) << deleted.status().to_string();
  }

  std::vector<Case> cases();

  TempDir dir_;
  CurveKeyPair cluster_;
  std::map<std::string, CurveKeyPair> keys_;
  std::unique_ptr<MqdProcess> broker_;
  std::unique_ptr<client::Admin> admin_;
  std::map<std::string, std::unique_ptr<Connection>> conns_;
};

template <class Request>
std::function<std::vector<ErrorCode>(Connection&)> sends(Request request) {
  return [request](Connection& conn) { return codes_of(conn.call(request, kTimeoutMs)); };
}

std::vector<Case> AuthorizationTest::cases() {
  using Op = AclOperation;
  const ErrorCode kTopic = ErrorCode::kTopicAuthorizationFailed;
  const ErrorCode kGroup = ErrorCode::kGroupAuthorizationFailed;
  const ErrorCode kCluster = ErrorCode::kClusterAuthorizationFailed;
  std::vector<Case> all;

  all.push_back({ApiKey::kApiVersions, {}, ErrorCode::kNone, sends(ApiVersionsRequest{})});
  all.push_back({ApiKey::kMetadata,
                 {on_topic("t", Op::kDescribe)},
                 kTopic,
                 sends(MetadataRequest{.topics = std::vector<std::string>{"t"}})});
  all.push_back({ApiKey::kProduce, {on_topic("t", Op::kWrite)}, kTopic, [this](Connection& c) {
                   return produce(c, "t");
                 }});
  {
    FetchRequest req;
    req.max_wait_ms = 0;
    req.max_bytes = 1 << 20;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back(
        {.partition_index = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 20});
    all.push_back({ApiKey::kFetch, {on_topic("t", Op::kRead)}, kTopic, sends(req)});
  }
  {
    ListOffsetsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .timestamp = -1});
    all.push_back({ApiKey::kListOffsets, {on_topic("t", Op::kDescribe)}, kTopic, sends(req)});
  }
  all.push_back({ApiKey::kInitProducerId,
                 {on_topic("t", Op::kWrite)},
                 kCluster,
                 sends(InitProducerIdRequest{})});
  {
    DeleteRecordsRequest req;
    req.timeout_ms = 5000;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .offset = 0});
    all.push_back({ApiKey::kDeleteRecords, {on_topic("t", Op::kDelete)}, kTopic, sends(req)});
  }
  {
    FindMessagesRequest req;
    req.key = Bytes{'k'};
    req.max_messages = 10;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1});
    all.push_back({ApiKey::kFindMessages, {on_topic("t", Op::kRead)}, kTopic, sends(req)});
  }
  {
    ListDelayedRequest req;
    req.max_messages = 10;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1});
    all.push_back({ApiKey::kListDelayed, {on_topic("t", Op::kDescribe)}, kTopic, sends(req)});
  }
  {
    CancelDelayedRequest req;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1, .offsets = {0}});
    all.push_back({ApiKey::kCancelDelayed,
                   {on_topic("t", Op::kWrite)},
                   kTopic,
                   sends(req),
                   {ErrorCode::kNotFound}});
  }
  {
    ReceiveMessagesRequest req;
    req.group = "q";
    req.max_messages = 1;
    req.max_bytes = 1 << 20;
    req.invisible_ms = 30000;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1});
    all.push_back({ApiKey::kReceiveMessages,
                   {on_group("q", Op::kRead), on_topic("t", Op::kRead)},
                   kGroup,
                   sends(req)});
  }
  {
    AckMessagesRequest req;
    req.group = "q";
    auto& t = req.topics.emplace_back();
    t.name = "t";
    auto& p = t.partitions.emplace_back();
    p.partition_index = 0;
    p.current_leader_epoch = -1;
    p.messages.push_back({.offset = 0, .delivery = 1});
    all.push_back({ApiKey::kAckMessages,
                   {on_group("q", Op::kRead), on_topic("t", Op::kRead)},
                   kGroup,
                   sends(req),
                   {ErrorCode::kNotFound, ErrorCode::kIllegalGeneration}});
  }
  {
    CreateTopicsRequest req;
    auto& t = req.topics.emplace_back();
    t.name = "fresh";
    t.num_partitions = 1;
    t.replication_factor = 1;
    all.push_back({ApiKey::kCreateTopics, {on_topic("fresh", Op::kCreate)}, kTopic, sends(req)});
  }
  all.push_back({ApiKey::kDeleteTopics,
                 {on_topic("doomed", Op::kDelete)},
                 kTopic,
                 sends(DeleteTopicsRequest{.topic_names = {"doomed"}})});
  {
    CreatePartitionsRequest req;
    req.timeout_ms = 5000;
    auto& t = req.topics.emplace_back();
    t.name = "grow";
    t.count = 2;
    all.push_back({ApiKey::kCreatePartitions, {on_topic("grow", Op::kAlter)}, kTopic, sends(req)});
  }
  {
    DescribeConfigsRequest req;
    req.resources.push_back({.resource_type = ConfigResourceType::kTopic, .resource_name = "t"});
    all.push_back({ApiKey::kDescribeConfigs, {on_topic("t", Op::kDescribe)}, kTopic, sends(req)});
  }
  {
    AlterConfigsRequest req;
    auto& r = req.resources.emplace_back();
    r.resource_type = ConfigResourceType::kTopic;
    r.resource_name = "t";
    r.configs.push_back(
        {.name = "retention.ms", .operation = AlterConfigOp::kSet, .value = "86400000"});
    all.push_back({ApiKey::kAlterConfigs, {on_topic("t", Op::kAlter)}, kTopic, sends(req)});
  }
  {
    ElectLeadersRequest req;
    req.election_type = ElectionType::kPreferred;
    req.timeout_ms = 5000;
    req.topics = std::vector<ElectLeadersRequest::Topic>{{.name = "t", .partitions = {0}}};
    // Not needed on one broker: answered NONE ("election not needed").
    all.push_back({ApiKey::kElectLeaders, {on_cluster(Op::kAlter)}, kCluster, sends(req)});
  }
  all.push_back({ApiKey::kDescribeQuorum,
                 {on_cluster(Op::kDescribe)},
                 kCluster,
                 sends(DescribeQuorumRequest{})});
  {
    AlterPartitionReassignmentsRequest req;
    req.timeout_ms = 5000;
    req.throttle_bytes_per_sec = -1;
    req.validate_only = true;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .replicas = std::vector<int32_t>{1}});
    all.push_back(
        {ApiKey::kAlterPartitionReassignments, {on_cluster(Op::kAlter)}, kCluster, sends(req)});
  }
  all.push_back({ApiKey::kListPartitionReassignments,
                 {on_cluster(Op::kDescribe)},
                 kCluster,
                 sends(ListPartitionReassignmentsRequest{})});
  all.push_back({ApiKey::kDescribeCluster,
                 {on_cluster(Op::kDescribe)},
                 kCluster,
                 sends(DescribeClusterRequest{})});
  all.push_back(
      {ApiKey::kAddRaftVoter,
       {on_cluster(Op::kAlter)},
       kCluster,
       sends(AddRaftVoterRequest{.voter_id = 9, .endpoint = "127.0.0.1:1", .timeout_ms = 2000}),
       {ErrorCode::kReplicaNotAvailable}});
  all.push_back({ApiKey::kRemoveRaftVoter,
                 {on_cluster(Op::kAlter)},
                 kCluster,
                 sends(RemoveRaftVoterRequest{.voter_id = 9, .timeout_ms = 2000}),
                 {ErrorCode::kVoterNotFound}});
  all.push_back({ApiKey::kUnregisterBroker,
                 {on_cluster(Op::kAlter)},
                 kCluster,
                 sends(UnregisterBrokerRequest{.broker_id = 9, .timeout_ms = 2000}),
                 {ErrorCode::kBrokerNotAvailable}});
  all.push_back({ApiKey::kDescribeLogDirs,
                 {on_cluster(Op::kDescribe)},
                 kCluster,
                 sends(DescribeLogDirsRequest{})});
  all.push_back(
      {ApiKey::kDescribeAcls, {on_cluster(Op::kDescribe)}, kCluster, sends(DescribeAclsRequest{})});
  // Bob granting himself everything is the escalation this must stop
  // (checked right after his call); alice grants a principal nobody uses.
  all.push_back({ApiKey::kCreateAcls, {on_cluster(Op::kAlter)}, kCluster, [this](Connection& c) {
                   std::string who = &c == conns_["bob"].get() ? "bob" : "carol";
                   auto codes = codes_of(
                       c.call(CreateAclsRequest{.creations = {acl(AclResourceType::kTopic, "*",
                                                                  AclOperation::kAll, who)}},
                              kTimeoutMs));
                   auto stored = admin_->describe_acls(AclFilter{.principal = "bob"});
                   EXPECT_TRUE(stored.is_ok() && stored->empty()) << "bob granted himself an ACL";
                   return codes;
                 }});
  all.push_back({ApiKey::kDeleteAcls,
                 {on_cluster(Op::kAlter)},
                 kCluster,
                 sends(DeleteAclsRequest{.filters = {AclFilter{.principal = "nobody"}}})});
  all.push_back({ApiKey::kFindCoordinator,
                 {on_group("g", Op::kDescribe)},
                 kGroup,
                 sends(FindCoordinatorRequest{.key = "g"})});
  {
    JoinGroupRequest req;
    req.group_id = "g";
    req.session_timeout_ms = 10000;
    req.rebalance_timeout_ms = 10000;
    req.protocol_type = "consumer";
    req.protocols.push_back(
        {.name = "range", .metadata = encode_subscription(ConsumerSubscription{.topics = {"t"}})});
    all.push_back({ApiKey::kJoinGroup,
                   {on_group("g", Op::kRead)},
                   kGroup,
                   sends(req),
                   {ErrorCode::kMemberIdRequired}});
  }
  all.push_back({ApiKey::kSyncGroup,
                 {on_group("g", Op::kRead)},
                 kGroup,
                 sends(SyncGroupRequest{.group_id = "g", .generation_id = 1, .member_id = "m"}),
                 {ErrorCode::kUnknownMemberId}});
  all.push_back({ApiKey::kHeartbeat,
                 {on_group("g", Op::kRead)},
                 kGroup,
                 sends(HeartbeatRequest{.group_id = "g", .generation_id = 1, .member_id = "m"}),
                 {ErrorCode::kUnknownMemberId}});
  {
    LeaveGroupRequest req;
    req.group_id = "g";
    req.members.push_back({.member_id = "m"});
    all.push_back({ApiKey::kLeaveGroup,
                   {on_group("g", Op::kRead)},
                   kGroup,
                   sends(req),
                   {ErrorCode::kUnknownMemberId}});
  }
  {
    OffsetCommitRequest req;
    req.group_id = "g";
    req.generation_id = -1;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .committed_offset = 1});
    all.push_back({ApiKey::kOffsetCommit,
                   {on_group("g", Op::kRead), on_topic("t", Op::kRead)},
                   kGroup,
                   sends(req)});
  }
  {
    OffsetFetchRequest req;
    req.group_id = "g";
    req.topics = std::vector<OffsetFetchRequest::Topic>{{.name = "t", .partition_indexes = {0}}};
    all.push_back({ApiKey::kOffsetFetch,
                   {on_group("g", Op::kDescribe), on_topic("t", Op::kDescribe)},
                   kGroup,
                   sends(req)});
  }
  // ListGroups denies nothing: it lists only what may be described (below).
  all.push_back({ApiKey::kListGroups, {}, ErrorCode::kNone, sends(ListGroupsRequest{})});
  all.push_back({ApiKey::kDescribeGroups,
                 {on_group("g", Op::kDescribe)},
                 kGroup,
                 sends(DescribeGroupsRequest{.groups = {"g"}})});
  all.push_back({ApiKey::kDeleteGroups,
                 {on_group("gone", Op::kDelete)},
                 kGroup,
                 sends(DeleteGroupsRequest{.groups_names = {"gone"}}),
                 {ErrorCode::kGroupIdNotFound}});
  {
    OffsetDeleteRequest req;
    req.group_id = "g";
    req.topics.push_back({.name = "t", .partition_indexes = {0}});
    all.push_back({ApiKey::kOffsetDelete,
                   {on_group("g", Op::kDelete), on_topic("t", Op::kRead)},
                   kGroup,
                   sends(req)});
  }
  {
    OffsetForLeaderEpochRequest req;
    auto& t = req.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1, .leader_epoch = 0});
    all.push_back(
        {ApiKey::kOffsetForLeaderEpoch, {on_topic("t", Op::kDescribe)}, kTopic, sends(req)});
  }
  return all;
}

TEST_F(AuthorizationTest, EveryApiDeniesWithoutAclsAndServesWithExactlyTheNeededOnes) {
  std::vector<Case> all = cases();
  // The matrix covers every API the client listener serves.
  std::set<ApiKey> covered;
  for (const Case& c : all) covered.insert(c.api);
  for (const SupportedApi& api : supported_apis()) {
    EXPECT_TRUE(covered.contains(api.api_key)) << api_name(api.api_key) << " is not in the matrix";
  }

  int unauthorized_successes = 0;
  int allowed_failures = 0;
  for (const Case& c : all) {
    SCOPED_TRACE(std::string(api_name(c.api)));
    // Denied: bob has no ACL.
    std::vector<ErrorCode> denied = c.call(*conns_["bob"]);
    if (c.denied != ErrorCode::kNone) {
      bool refused = std::ranges::find(denied, c.denied) != denied.end();
      bool only_refusals = std::ranges::all_of(
          denied, [&](ErrorCode e) { return e == ErrorCode::kNone || e == c.denied; });
      if (!refused || !only_refusals) {
        ++unauthorized_successes;
        ADD_FAILURE() << "bob got " << names(denied) << "instead of " << error_name(c.denied);
      }
    }
    // Allowed: alice with exactly what the API needs.
    grant(c.needs);
    std::vector<ErrorCode> allowed = c.call(*conns_["alice"]);
    bool served = std::ranges::all_of(
        allowed, [&](ErrorCode e) { return e == ErrorCode::kNone || c.also_allowed.contains(e); });
    if (!served) {
      ++allowed_failures;
      ADD_FAILURE() << "alice got " << names(allowed);
    }
    revoke_all("alice");
  }
  EXPECT_EQ(unauthorized_successes, 0);
  EXPECT_EQ(allowed_failures, 0);

  // What bob was denied had no effect; what alice was allowed did.
  EXPECT_TRUE(topic_exists("fresh")) << "alice created it";
  EXPECT_FALSE(topic_exists("doomed")) << "alice deleted it";
  auto acls = admin_->describe_acls(AclFilter{.principal = "bob"});
  ASSERT_TRUE(acls.is_ok());
  EXPECT_TRUE(acls->empty()) << "bob could not grant himself anything";
}

TEST_F(AuthorizationTest, DeniedRequestsChangeNothing) {
  int64_t before = high_watermark("t");
  EXPECT_EQ(produce(*conns_["bob"], "t"),
            std::vector<ErrorCode>{ErrorCode::kTopicAuthorizationFailed});
  EXPECT_EQ(high_watermark("t"), before);
  // A topic bob may not create is not auto-created by his produce or metadata.
  EXPECT_EQ(produce(*conns_["bob"], "auto"),
            std::vector<ErrorCode>{ErrorCode::kTopicAuthorizationFailed});
  // What a Metadata request asking to auto-create "auto" answers `who`.
  auto auto_create = [&](const std::string& who) {
    auto metadata = conns_[who]->call(MetadataRequest{.topics = std::vector<std::string>{"auto"},
                                                      .allow_auto_topic_creation = true},
                                      kTimeoutMs);
    return metadata.is_ok() ? metadata->topics.at(0).error_code : metadata.code();
  };
  EXPECT_EQ(auto_create("bob"), ErrorCode::kTopicAuthorizationFailed);
  EXPECT_FALSE(topic_exists("auto"));
  // With describe but no create it is not created either; with create it is.
  grant({on_topic("auto", AclOperation::kDescribe)});
  EXPECT_EQ(auto_create("alice"), ErrorCode::kUnknownTopicOrPartition);
  EXPECT_FALSE(topic_exists("auto"));
  grant({on_topic("auto", AclOperation::kCreate)});
  EXPECT_EQ(auto_create("alice"), ErrorCode::kNone);
  EXPECT_TRUE(topic_exists("auto"));
}

TEST_F(AuthorizationTest, ListingsShowOnlyWhatMayBeDescribed) {
  // A group with a committed offset, made by the admin.
  OffsetCommitRequest commit;
  commit.group_id = "g";
  commit.generation_id = -1;
  auto& t = commit.topics.emplace_back();
  t.name = "t";
  t.partitions.push_back({.partition_index = 0, .committed_offset = 1});
  ASSERT_TRUE(eventually(
      [&] {
        auto r = conns_["admin"]->call(commit, kTimeoutMs);
        return r.is_ok() && r->topics[0].partitions[0].error_code == ErrorCode::kNone;
      },
      20s));

  auto topics_of = [&](const std::string& who) {
    std::vector<std::string> names;
    auto r = conns_[who]->call(MetadataRequest{}, kTimeoutMs);
    EXPECT_TRUE(r.is_ok());
    if (r.is_ok()) {
      for (const auto& topic : r->topics) names.push_back(topic.name);
      EXPECT_FALSE(r->brokers.empty()) << "brokers are listed to anyone";
    }
    return names;
  };
  auto groups_of = [&](const std::string& who) {
    std::vector<std::string> names;
    auto r = conns_[who]->call(ListGroupsRequest{}, kTimeoutMs);
    EXPECT_TRUE(r.is_ok());
    if (r.is_ok()) {
      for (const auto& g : r->groups) names.push_back(g.group_id);
    }
    return names;
  };
  EXPECT_TRUE(topics_of("bob").empty());
  EXPECT_TRUE(groups_of("bob").empty());
  EXPECT_GE(topics_of("admin").size(), 3u);
  EXPECT_EQ(groups_of("admin"), std::vector<std::string>{"g"});

  grant({on_topic("t", AclOperation::kRead), on_group("g", AclOperation::kDescribe)});
  EXPECT_EQ(topics_of("alice"), std::vector<std::string>{"t"}) << "read implies describe";
  EXPECT_EQ(groups_of("alice"), std::vector<std::string>{"g"});
  // OffsetFetch of every topic lists only the topics it may describe.
  OffsetFetchRequest fetch;
  fetch.group_id = "g";
  auto offsets = conns_["alice"]->call(fetch, kTimeoutMs);
  ASSERT_TRUE(offsets.is_ok());
  ASSERT_EQ(offsets->topics.size(), 1u);
  revoke_all("alice");
  grant({on_group("g", AclOperation::kDescribe)});
  offsets = conns_["alice"]->call(fetch, kTimeoutMs);
  ASSERT_TRUE(offsets.is_ok());
  EXPECT_TRUE(offsets->topics.empty());
}

TEST_F(AuthorizationTest, DenyBeatsAllowAndPrefixesAndWildcardsApply) {
  grant({acl(AclResourceType::kTopic, "*", AclOperation::kAll, "mallory"),
         acl(AclResourceType::kTopic, "g", AclOperation::kWrite, "mallory", AclPermission::kDeny,
             AclPatternType::kPrefixed)});
  EXPECT_EQ(produce(*conns_["mallory"], "t"), std::vector<ErrorCode>{ErrorCode::kNone});
  EXPECT_EQ(produce(*conns_["mallory"], "grow"),
            std::vector<ErrorCode>{ErrorCode::kTopicAuthorizationFailed});
  // The deny is of write only: reading "grow" is still allowed by the wildcard.
  EXPECT_EQ(list_offsets(*conns_["mallory"], "grow"), std::vector<ErrorCode>{ErrorCode::kNone});
  // "*" as the principal: everyone, bob included.
  EXPECT_EQ(list_offsets(*conns_["bob"], "t"),
            std::vector<ErrorCode>{ErrorCode::kTopicAuthorizationFailed});
  grant({acl(AclResourceType::kTopic, "t", AclOperation::kDescribe, "*")});
  EXPECT_EQ(list_offsets(*conns_["bob"], "t"), std::vector<ErrorCode>{ErrorCode::kNone});
  // Super-users need no ACL, and an ACL denying them changes nothing.
  grant({acl(AclResourceType::kTopic, "t", AclOperation::kAll, "admin", AclPermission::kDeny)});
  EXPECT_EQ(produce(*conns_["admin"], "t"), std::vector<ErrorCode>{ErrorCode::kNone});
}

TEST_F(AuthorizationTest, DenialsAreCountedAndLoggedOncePerMinute) {
  for (int i = 0; i < 5; i++) {
    EXPECT_EQ(produce(*conns_["bob"], "t"),
              std::vector<ErrorCode>{ErrorCode::kTopicAuthorizationFailed});
  }
  std::string log = broker_->log();
  std::string line = "authorization: denied bob write on topic t";
  size_t first = log.find(line);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(line, first + 1), std::string::npos) << "logged once";
  httplib::Client http("127.0.0.1", broker_->http_port());
  auto scraped = http.Get("/metrics");
  ASSERT_TRUE(scraped);
  const std::string& metrics = scraped->body;
  EXPECT_NE(metrics.find("mq_authorization_denials_total 5"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mq_acls 0"), std::string::npos);
}

TEST_F(AuthorizationTest, MqctlManagesAcls) {
  const std::string brokers = broker_->endpoint().substr(6);
  const std::string as_admin = "--server-key '" + cluster_.public_key + "' --secret-key-file " +
                               dir_.file("admin.secret") + " --timeout 10s ";
  auto ctl = [&](const std::string& args) {
    return mq::testing::mqctl(dir_, brokers, as_admin + args);
  };
  Shell added = ctl("acl add --allow alice --operation read --operation describe --topic t");
  ASSERT_EQ(added.code, 0) << added.err;
  EXPECT_NE(added.out.find("added: allow alice read topic t"), std::string::npos) << added.out;
  ASSERT_EQ(ctl("acl add --deny '*' --operation write --topic pay. --prefixed").code, 0);
  Shell listed = ctl("acl list -o json");
  ASSERT_EQ(listed.code, 0) << listed.err;
  nlohmann::json doc = nlohmann::json::parse(listed.out);
  EXPECT_EQ(doc["acls"].size(), 3u) << listed.out;
  Shell match = ctl("acl list --topic pay.eu --match");
  ASSERT_EQ(match.code, 0);
  EXPECT_NE(match.out.find("deny"), std::string::npos) << match.out;
  EXPECT_EQ(match.out.find("alice"), std::string::npos) << match.out;
  Shell removed = ctl("acl remove --allow alice --topic t");
  ASSERT_EQ(removed.code, 0) << removed.err;
  EXPECT_NE(removed.out.find("2 removed"), std::string::npos) << removed.out;
  EXPECT_EQ(ctl("acl remove --allow alice --topic t").code, 3) << "nothing left to remove";
  // Bad input: usage errors, nothing sent.
  EXPECT_EQ(ctl("acl add --allow alice --topic t").code, 2);                    // no operation
  EXPECT_EQ(ctl("acl add --allow alice --operation read").code, 2);             // no resource
  EXPECT_EQ(ctl("acl add --allow alice --operation write --group g").code, 2);  // not a group op
  EXPECT_EQ(ctl("acl add --allow 'a b' --operation read --topic t").code, 2);
  EXPECT_EQ(ctl("acl add --allow alice --operation fly --topic t").code, 2);
  EXPECT_EQ(ctl("acl add --allow alice --operation read --topic t --group g").code, 2);
  EXPECT_EQ(ctl("acl remove").code, 2);
  EXPECT_EQ(ctl("acl list --match").code, 2);
  // Bob may not manage ACLs.
  CurveKeyPair bob = keys_["bob"];
  ASSERT_TRUE(write_curve_key_files(dir_.file("bob"), bob).is_ok());
  Shell refused = mq::testing::mqctl(dir_, brokers,
                                     "--server-key '" + cluster_.public_key +
                                         "' --secret-key-file " + dir_.file("bob.secret") +
                                         " --timeout 5s acl add --allow bob --operation all "
                                         "--topic '*'");
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("CLUSTER_AUTHORIZATION_FAILED"), std::string::npos) << refused.err;
}

TEST_F(AuthorizationTest, OnlyBrokerNAsksAsReplicaN) {
  // Even the super-user: a follower's requests move the high watermark and
  // the ISR, or read past the high watermark.
  grant({on_topic("t", AclOperation::kAll)});
  for (const char* who : {"alice", "admin"}) {
    SCOPED_TRACE(who);
    FetchRequest fetch;
    fetch.replica_id = 1;
    fetch.max_wait_ms = 0;
    auto& t = fetch.topics.emplace_back();
    t.name = "t";
    t.partitions.push_back(
        {.partition_index = 0, .fetch_offset = 0, .partition_max_bytes = 1 << 20});
    EXPECT_EQ(conns_[who]->call(fetch, kTimeoutMs).code(), ErrorCode::kClusterAuthorizationFailed);
    OffsetForLeaderEpochRequest epochs;
    epochs.replica_id = 1;
    auto& e = epochs.topics.emplace_back();
    e.name = "t";
    e.partitions.push_back({.partition_index = 0, .current_leader_epoch = -1, .leader_epoch = 0});
    EXPECT_EQ(conns_[who]->call(epochs, kTimeoutMs).code(), ErrorCode::kClusterAuthorizationFailed);
    // As a consumer it is answered.
    epochs.replica_id = -1;
    EXPECT_EQ(codes_of(conns_[who]->call(epochs, kTimeoutMs)),
              std::vector<ErrorCode>{ErrorCode::kNone});
  }
}

TEST_F(AuthorizationTest, ProducersAreToldWhyAtOnce) {
  const std::string brokers = broker_->endpoint().substr(6);
  for (const char* who : {"alice", "bob"}) {
    ASSERT_TRUE(write_curve_key_files(dir_.file(who), keys_[who]).is_ok());
  }
  auto as = [&](const std::string& who, const std::string& args) {
    return mq::testing::mqctl(dir_, brokers,
                              "--server-key '" + cluster_.public_key + "' --secret-key-file " +
                                  dir_.file(who + ".secret") + " --timeout 20s " + args,
                              "m\n");
  };
  // bob may not even see the topic: the metadata says so, not a timeout.
  Shell hidden = as("bob", "produce t");
  EXPECT_EQ(hidden.code, 1);
  EXPECT_NE(hidden.err.find("TOPIC_AUTHORIZATION_FAILED"), std::string::npos) << hidden.err;
  // alice may read it but write nothing: no idempotent producer id.
  grant({on_topic("t", AclOperation::kRead)});
  Shell reader = as("alice", "produce t");
  EXPECT_EQ(reader.code, 1);
  EXPECT_NE(reader.err.find("CLUSTER_AUTHORIZATION_FAILED"), std::string::npos) << reader.err;
  grant({on_topic("t", AclOperation::kWrite)});
  Shell writer = as("alice", "produce t");
  EXPECT_EQ(writer.code, 0) << writer.err;
}

TEST(AuthorizationConfigTest, AuthorizationNeedsPrincipals) {
  TempDir dir;
  MqdProcess broker(dir.file("data"));
  broker.set_top_level("security.authorization = true\n");
  EXPECT_FALSE(broker.start());
  EXPECT_NE(broker.log().find("security.authorization needs security.principals_file"),
            std::string::npos)
      << broker.log();
  MqdProcess bad(dir.file("data2"));
  bad.set_top_level("security.super_users = \"admin,,ops\"\n");
  EXPECT_FALSE(bad.start());
  EXPECT_NE(bad.log().find("security.super_users"), std::string::npos) << bad.log();
}

}  // namespace
}  // namespace mq
