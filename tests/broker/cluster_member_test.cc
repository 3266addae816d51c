// Three cluster members in one process: the quorum elects a controller, the
// brokers register and are unfenced, topics are created through the
// controller and reach every broker's image, and when a broker stops its
// partitions get new leaders from their in-sync replicas.
#include "broker/cluster_member.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "tests/support/eventually.h"
#include "tests/support/free_port.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

using namespace std::chrono_literals;

using mq::testing::free_port;

using mq::testing::eventually;
// Elections, registrations and fencing on a loaded machine: a generous bound.
constexpr std::chrono::milliseconds kLimit = 20s;

class ClusterMemberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int id = 1; id <= 3; id++) voters_.push_back({id, "127.0.0.1", free_port()});
  }
  // The members' threads call the change handler, which writes roles_: they
  // stop before roles_ and mu_ (declared after members_) are destroyed.
  void TearDown() override { members_.clear(); }

  BrokerConfig config_for(int id) {
    BrokerConfig config;
    config.node_id = id;
    config.data_dir = dirs_[id].path();
    config.cluster.voters = voters_;
    config.cluster.quorum_tick_ms = 10;
    config.cluster.quorum_election_timeout_ms = 300;
    config.cluster.broker_heartbeat_interval_ms = 50;
    config.cluster.broker_session_timeout_ms = 600;
    return config;
  }

  void start(int id) {
    members_[id] = std::make_unique<ClusterMember>(
        config_for(id),
        ClusterMemberOptions{.client_endpoint = "tcp://127.0.0.1:" + std::to_string(9000 + id)});
    members_[id]->set_change_handler(
        [this, id](const metadata::MetadataImage&,
                   const std::vector<metadata::LocalPartitionChange>& changes) {
          std::lock_guard lock(mu_);
          for (const auto& change : changes) roles_[id][change.partition] = change.role;
        });
    ASSERT_TRUE(members_[id]->start().is_ok());
  }

  // Every running member's image shows every running broker registered and unfenced.
  bool all_unfenced() {
    for (auto& [id, member] : members_) {
      if (!member) continue;
      auto image = member->image();
      for (auto& [other, peer] : members_) {
        if (!peer) continue;
        const metadata::BrokerState* state = image->broker(other);
        if (state == nullptr || state->fenced) return false;
      }
    }
    return true;
  }

  ClusterMember& any() {
    for (auto& [id, member] : members_) {
      if (member) return *member;
    }
    std::abort();
  }

  std::vector<QuorumMember> voters_;
  std::map<int, testing::TempDir> dirs_;
  std::map<int, std::unique_ptr<ClusterMember>> members_;
  std::mutex mu_;
  std::map<int, std::map<int32_t, metadata::LocalPartitionChange::Role>> roles_;
};

TEST_F(ClusterMemberTest, BrokersRegisterTopicsReachEveryoneAndLeadershipMovesOffADeadBroker) {
  for (int id = 1; id <= 3; id++) start(id);
  ASSERT_TRUE(eventually([&] { return all_unfenced(); }, kLimit)) << "brokers never all unfenced";
  // One cluster id, set once by the first controller, everywhere.
  std::string cluster_id = members_[1]->image()->cluster_id();
  EXPECT_EQ(cluster_id.size(), 22u);
  EXPECT_EQ(members_[2]->image()->cluster_id(), cluster_id);
  int64_t epoch_of_3 = members_[3]->broker_epoch();
  EXPECT_GT(epoch_of_3, 0);

  // Created through any member (the call goes to the controller).
  Result<CreateTopicReply> created = members_[2]->call<CreateTopicReply>(
      CallKind::kCreateTopic,
      CreateTopicCall{.name = "orders", .partitions = 6, .replication_factor = 3}, 5s);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  ASSERT_EQ(created->assignment.size(), 6u);
  std::map<int32_t, int> leaders_per_broker;
  for (const ReplicaList& replicas : created->assignment) {
    ASSERT_EQ(replicas.replicas.size(), 3u);
    leaders_per_broker[replicas.replicas[0]]++;
  }
  EXPECT_EQ(leaders_per_broker.size(), 3u) << "preferred leaders are spread";

  // A second create of the same name is refused with the reason.
  Result<CreateTopicReply> again = members_[1]->call<CreateTopicReply>(
      CallKind::kCreateTopic,
      CreateTopicCall{.name = "orders", .partitions = 1, .replication_factor = 1}, 5s);
  EXPECT_EQ(again.code(), ErrorCode::kTopicAlreadyExists) << again.status().to_string();
  Result<CreateTopicReply> too_many = members_[1]->call<CreateTopicReply>(
      CallKind::kCreateTopic,
      CreateTopicCall{.name = "wide", .partitions = 1, .replication_factor = 4}, 5s);
  EXPECT_EQ(too_many.code(), ErrorCode::kInvalidReplicationFactor) << too_many.status().to_string();

  // Every member's image has the topic; every broker learned its six roles.
  ASSERT_TRUE(eventually(
      [&] {
        for (auto& [id, member] : members_) {
          if (member->image()->topic("orders") == nullptr) return false;
        }
        std::lock_guard lock(mu_);
        for (int id = 1; id <= 3; id++) {
          if (roles_[id].size() != 6) return false;
        }
        return true;
      },
      kLimit));

  // A registration repeated by the same incarnation (its first answer was
  // lost to a timeout) gets the same epoch, not an error.
  Result<RegisterBrokerReply> again_registered = members_[3]->call<RegisterBrokerReply>(
      CallKind::kRegisterBroker,
      metadata::BrokerRegistration{.broker_id = 3,
                                   .incarnation_id = members_[3]->incarnation_id(),
                                   .endpoint = "tcp://127.0.0.1:9003"},
      5s);
  ASSERT_TRUE(again_registered.is_ok()) << again_registered.status().to_string();
  EXPECT_EQ(again_registered->broker_epoch, epoch_of_3);

  // Producer ids come in disjoint blocks.
  Result<metadata::ProducerIdBlock> block1 = members_[1]->call<metadata::ProducerIdBlock>(
      CallKind::kAllocateProducerIds,
      BrokerEpochCall{.broker_id = 1, .broker_epoch = members_[1]->broker_epoch()}, 5s);
  Result<metadata::ProducerIdBlock> block2 = members_[2]->call<metadata::ProducerIdBlock>(
      CallKind::kAllocateProducerIds,
      BrokerEpochCall{.broker_id = 2, .broker_epoch = members_[2]->broker_epoch()}, 5s);
  ASSERT_TRUE(block1.is_ok()) << block1.status().to_string();
  ASSERT_TRUE(block2.is_ok()) << block2.status().to_string();
  EXPECT_GE(block2->start, block1->start + block1->size);

  // Stop broker 3 (a voter too): within the session timeout it is fenced and
  // no partition is led by it any more; the others keep the topic.
  members_[3]->stop();
  members_[3].reset();
  ASSERT_TRUE(eventually(
      [&] {
        auto image = any().image();
        const metadata::BrokerState* dead = image->broker(3);
        if (dead == nullptr || !dead->fenced) return false;
        const metadata::TopicState* topic = image->topic("orders");
        for (const metadata::PartitionState& p : topic->partitions) {
          if (p.leader == 3 || p.leader == metadata::kNoLeader) return false;
        }
        return true;
      },
      kLimit))
      << "broker 3's leaderships never moved";
  for (const metadata::PartitionState& p : any().image()->topic("orders")->partitions) {
    EXPECT_GE(p.leader_epoch, 0);
    EXPECT_EQ(std::count(p.isr.begin(), p.isr.end(), 3), 0) << "the dead broker left the ISR";
  }

  // It comes back as a new incarnation with a higher epoch and is unfenced
  // again; it counts as caught up only once it has applied its registration.
  start(3);
  ASSERT_TRUE(eventually([&] { return all_unfenced(); }, kLimit));
  EXPECT_GT(members_[3]->broker_epoch(), epoch_of_3);
  ASSERT_TRUE(eventually([&] { return members_[3]->caught_up(); }, kLimit));
  EXPECT_GE(members_[3]->image()->applied_index(),
            static_cast<uint64_t>(members_[3]->broker_epoch()));
  EXPECT_EQ(members_[3]->image()->cluster_id(), cluster_id);
}

TEST_F(ClusterMemberTest, MalformedControllerCallsGetClearErrors) {
  for (int id = 1; id <= 3; id++) start(id);
  ASSERT_TRUE(eventually([&] { return all_unfenced(); }, kLimit));
  quorum::QuorumStatus status = members_[1]->quorum_status();
  ASSERT_NE(status.leader, raft::kNoNode);
  // Garbage in place of a call.
  Result<Bytes> garbage = members_[2]->call_bytes(Bytes{1, 2, 3}, 5s);
  ASSERT_TRUE(garbage.is_ok()) << garbage.status().to_string();
  Result<EmptyReply> garbage_reply = decode_reply<EmptyReply>(*garbage);
  EXPECT_EQ(garbage_reply.code(), ErrorCode::kInvalidRequest) << garbage_reply.status().to_string();
  // A call whose body does not parse as its kind.
  std::string bad =
      transport::encode_struct(ControllerCall{.kind = CallKind::kCreateTopic, .body = {0xff}});
  Result<Bytes> answer = members_[2]->call_bytes(Bytes(bad.begin(), bad.end()), 5s);
  ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
  Result<CreateTopicReply> reply = decode_reply<CreateTopicReply>(*answer);
  EXPECT_EQ(reply.code(), ErrorCode::kInvalidRequest) << reply.status().to_string();
  EXPECT_NE(reply.status().message().find("CreateTopic"), std::string::npos);
  // An unknown kind.
  std::string unknown = transport::encode_struct(ControllerCall{.kind = static_cast<CallKind>(99)});
  answer = members_[2]->call_bytes(Bytes(unknown.begin(), unknown.end()), 5s);
  ASSERT_TRUE(answer.is_ok());
  EXPECT_EQ(decode_reply<EmptyReply>(*answer).code(), ErrorCode::kInvalidRequest);
  // A well-formed call about something that does not exist.
  Result<EmptyReply> missing =
      members_[1]->call<EmptyReply>(CallKind::kDeleteTopic, DeleteTopicCall{.name = "missing"}, 5s);
  EXPECT_EQ(missing.code(), ErrorCode::kUnknownTopicOrPartition) << missing.status().to_string();
  // A heartbeat from a broker id nobody registered.
  Result<metadata::HeartbeatResponse> stranger = members_[1]->call<metadata::HeartbeatResponse>(
      CallKind::kBrokerHeartbeat, metadata::BrokerHeartbeat{.broker_id = 42, .broker_epoch = 7},
      5s);
  EXPECT_FALSE(stranger.is_ok());
  // A broker speaking for another: broker 1 asking broker 2's controlled
  // shutdown, with broker 2's real epoch, is refused and changes nothing.
  Result<metadata::ControlledShutdownResponse> impostor =
      members_[1]->call<metadata::ControlledShutdownResponse>(
          CallKind::kControlledShutdown,
          BrokerEpochCall{.broker_id = 2, .broker_epoch = members_[2]->broker_epoch()}, 5s);
  EXPECT_EQ(impostor.code(), ErrorCode::kClusterAuthorizationFailed)
      << impostor.status().to_string();
  EXPECT_NE(impostor.status().message().find("a broker speaks only for itself"), std::string::npos);
  EXPECT_FALSE(members_[1]->image()->broker(2)->in_controlled_shutdown);
}

TEST_F(ClusterMemberTest, ElectLeadersCallsAnswerPerPartitionAndRejectBadTypes) {
  for (int id = 1; id <= 3; id++) start(id);
  ASSERT_TRUE(eventually([&] { return all_unfenced(); }, kLimit));
  Result<CreateTopicReply> created = members_[1]->call<CreateTopicReply>(
      CallKind::kCreateTopic,
      CreateTopicCall{.name = "orders", .partitions = 2, .replication_factor = 3}, 5s);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  ASSERT_TRUE(eventually([&] { return any().image()->topic("orders") != nullptr; }, kLimit));

  // Every partition is led by its preferred replica: nothing to elect; an
  // unknown partition and a repeated one are named.
  Result<ElectLeadersReply> preferred = members_[2]->call<ElectLeadersReply>(
      CallKind::kElectLeaders,
      ElectLeadersCall{.election_type = 0,
                       .partitions = {{"orders", 0}, {"orders", 1}, {"orders", 9}, {"orders", 0}}},
      5s);
  ASSERT_TRUE(preferred.is_ok()) << preferred.status().to_string();
  ASSERT_EQ(preferred->results.size(), 4u);
  for (int i = 0; i < 2; i++) {
    EXPECT_EQ(preferred->results[i].error_code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(preferred->results[i].error_message.rfind("ELECTION_NOT_NEEDED: ", 0), 0u)
        << preferred->results[i].error_message;
  }
  EXPECT_EQ(preferred->results[2].error_code, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_NE(preferred->results[3].error_message.find("listed twice"), std::string::npos);

  // An empty list means every partition; unclean: both have leaders.
  Result<ElectLeadersReply> unclean = members_[3]->call<ElectLeadersReply>(
      CallKind::kElectLeaders, ElectLeadersCall{.election_type = 1}, 5s);
  ASSERT_TRUE(unclean.is_ok()) << unclean.status().to_string();
  ASSERT_EQ(unclean->results.size(), 2u);
  EXPECT_NE(unclean->results[0].error_message.find("has a leader"), std::string::npos);

  Result<ElectLeadersReply> bad_type = members_[1]->call<ElectLeadersReply>(
      CallKind::kElectLeaders, ElectLeadersCall{.election_type = 7}, 5s);
  EXPECT_EQ(bad_type.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad_type.status().message().find("unknown election type 7"), std::string::npos);
  std::string bad =
      transport::encode_struct(ControllerCall{.kind = CallKind::kElectLeaders, .body = {0, 1}});
  Result<Bytes> answer = members_[2]->call_bytes(Bytes(bad.begin(), bad.end()), 5s);
  ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
  Result<ElectLeadersReply> reply = decode_reply<ElectLeadersReply>(*answer);
  EXPECT_EQ(reply.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(reply.status().message().find("ElectLeaders"), std::string::npos)
      << reply.status().message();
}

}  // namespace
}  // namespace mq::broker
