// MetadataImage: records apply with validation, batches all or nothing,
// snapshots round-trip and reject damage, local_changes tells a broker its roles.
#include "metadata/image.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mq::metadata {
namespace {

RecordBatch two_brokers_and_a_topic() {
  return {
      ClusterId{"c1"},
      RegisterBroker{1, 11, "tcp://a:1", "r1", true},
      RegisterBroker{2, 22, "tcp://b:1", "r2", true},
  };
}

class ImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(image.apply(two_brokers_and_a_topic(), 5).is_ok());
    RecordBatch topic{
        UnfenceBroker{1, 5},
        UnfenceBroker{2, 5},
        Topic{"orders", 77, 2, {{"retention.ms", "9"}}},
        Partition{"orders", 0, {1, 2}, {1, 2}, 1},
        Partition{"orders", 1, {2, 1}, {2, 1}, 2},
    };
    ASSERT_TRUE(image.apply(topic, 6).is_ok());
  }
  MetadataImage image;
};

TEST_F(ImageTest, RegistrationSetsEpochFromRaftIndexAndStartsFenced) {
  const BrokerState* one = image.broker(1);
  ASSERT_NE(one, nullptr);
  EXPECT_EQ(one->broker_epoch, 5);
  EXPECT_FALSE(one->fenced);
  EXPECT_EQ(image.cluster_id(), "c1");
  EXPECT_EQ(image.applied_index(), 6u);
  ASSERT_TRUE(image.apply(RegisterBroker{1, 12, "tcp://a:2", "r1", false}, 9).is_ok());
  EXPECT_EQ(image.broker(1)->broker_epoch, 9);
  EXPECT_TRUE(image.broker(1)->fenced);
  EXPECT_FALSE(image.broker(1)->clean_shutdown);
  Status stale = image.apply(FenceBroker{1, 5}, 10);
  ASSERT_FALSE(stale.is_ok());
  EXPECT_NE(stale.message().find("epoch 5 is not the registered epoch 9"), std::string::npos)
      << stale.message();
}

TEST_F(ImageTest, PartitionChangeBumpsEpochsAndKeepsUnsetFields) {
  PartitionChange change{"orders", 0, 0, 2, std::nullopt, std::vector<BrokerId>{2}};
  ASSERT_TRUE(image.apply(change, 7).is_ok());
  const PartitionState* p = image.partition("orders", 0);
  EXPECT_EQ(p->leader, 2);
  EXPECT_EQ(p->leader_epoch, 1);
  EXPECT_EQ(p->partition_epoch, 1);
  EXPECT_EQ(p->isr, std::vector<BrokerId>({2}));
  EXPECT_EQ(p->replicas, std::vector<BrokerId>({1, 2}));

  PartitionChange isr_only{
      "orders", 0, 1, kLeaderUnchanged, std::nullopt, std::vector<BrokerId>{1, 2}};
  ASSERT_TRUE(image.apply(isr_only, 8).is_ok());
  EXPECT_EQ(image.partition("orders", 0)->leader_epoch, 1);
  EXPECT_EQ(image.partition("orders", 0)->partition_epoch, 2);
}

TEST_F(ImageTest, InvalidRecordsAreErrorsNotCrashes) {
  struct Case {
    Record record;
    std::string expected;
  };
  std::vector<Case> cases = {
      {PartitionChange{"nope", 0, 0, 1}, "unknown partition nope-0"},
      {PartitionChange{"orders", 5, 0, 1}, "unknown partition orders-5"},
      {PartitionChange{"orders", 0, 3, 1}, "decided at partition epoch 3"},
      {PartitionChange{"orders", 0, 0, 7}, "leader 7 is not in the isr"},
      {PartitionChange{"orders", 0, 0, kLeaderUnchanged, std::nullopt, std::vector<BrokerId>{1, 1}},
       "isr lists broker 1 twice"},
      {PartitionChange{"orders", 0, 0, kLeaderUnchanged, std::nullopt, std::nullopt,
                       std::vector<BrokerId>{1}},
       "in both isr and elr"},
      {PartitionChange{"orders", 0, 0, -5}, "leader -5 is invalid"},
      {Topic{"orders", 78, 1}, "already exists"},
      {Topic{"other", 77, 1}, "already used by orders"},
      {Partition{"ghost", 0, {1}, {1}, 1}, "unknown topic ghost"},
      {Partition{"orders", 3, {1}, {1}, 1}, "not the next one"},
      {RemoveTopic{"orders", 1}, "has id 77"},
      {ClusterId{"c2"}, "set once"},
      {UnfenceBroker{9, 1}, "broker 9 is not registered"},
      {Config{ConfigResource::kBroker, "x1", "k", "v"}, "not a broker id"},
      {Config{ConfigResource::kCluster, "a", "k", "v"}, "has no name"},
      {Config{ConfigResource::kTopic, "ghost", "k", "v"}, "unknown topic ghost"},
      {ProducerIds{1, 4, 0, 10}, "epoch 4 is not"},
  };
  Bytes before = image.encode_snapshot();
  for (const Case& c : cases) {
    Status status = image.apply(c.record, 50);
    ASSERT_FALSE(status.is_ok()) << describe(c.record);
    EXPECT_NE(status.message().find(c.expected), std::string::npos)
        << describe(c.record) << ": " << status.message();
  }
  EXPECT_EQ(image.encode_snapshot(), before);
}

TEST_F(ImageTest, BatchIsAllOrNothing) {
  MetadataImage before = image;
  RecordBatch batch{
      Config{ConfigResource::kTopic, "orders", "retention.ms", "1"}, RemoveTopic{"orders", 77},
      PartitionChange{"orders", 0, 0, 2},  // the topic is gone by now
  };
  Status status = image.apply(batch, 7);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("record 2 (PartitionChange) at raft index 7"), std::string::npos)
      << status.message();
  EXPECT_EQ(image, before);

  // A topic whose batch lacks announced partitions is rejected as a whole.
  RecordBatch short_topic{Topic{"t", 5, 2}, Partition{"t", 0, {1}, {1}, 1}};
  status = image.apply(short_topic, 7);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("announced 2 partitions"), std::string::npos);
  EXPECT_EQ(image, before);

  EXPECT_FALSE(image.apply(RecordBatch{ClusterId{"x"}}, 6).is_ok()) << "index not after 6";
}

TEST_F(ImageTest, ConfigsProducerIdsAndTopicRemoval) {
  ASSERT_TRUE(
      image.apply(Config{ConfigResource::kCluster, "", "min.insync.replicas", "2"}, 7).is_ok());
  ASSERT_TRUE(image.apply(Config{ConfigResource::kBroker, "1", "log.dirs", "/x"}, 8).is_ok());
  ASSERT_TRUE(image.apply(Config{ConfigResource::kTopic, "orders", "retention.ms", std::nullopt}, 9)
                  .is_ok());
  EXPECT_EQ(*image.config(ConfigResource::kCluster, "", "min.insync.replicas"), "2");
  EXPECT_EQ(*image.config(ConfigResource::kBroker, "1", "log.dirs"), "/x");
  EXPECT_EQ(image.config(ConfigResource::kTopic, "orders", "retention.ms"), nullptr);

  ASSERT_TRUE(image.apply(ProducerIds{1, 5, 0, 1000}, 10).is_ok());
  EXPECT_EQ(image.next_producer_id(), 1000);
  EXPECT_FALSE(image.apply(ProducerIds{2, 5, 500, 1000}, 11).is_ok()) << "ids reused";
  ASSERT_TRUE(image.apply(ProducerIds{2, 5, 3000, 1000}, 11).is_ok()) << "a gap is fine";
  EXPECT_EQ(image.next_producer_id(), 4000);

  ASSERT_TRUE(image.apply(RemoveTopic{"orders", 77}, 12).is_ok());
  EXPECT_EQ(image.topic("orders"), nullptr);
  EXPECT_EQ(image.topic_by_id(77), nullptr);
}

TEST_F(ImageTest, ProducerEpochsMoveOneStepAtATimeForHandedOutIds) {
  ASSERT_TRUE(image.apply(ProducerIds{1, 5, 0, 1000}, 7).is_ok());
  EXPECT_EQ(image.producer_epoch(42), 0) << "an id never bumped is at epoch 0";
  ASSERT_TRUE(image.apply(ProducerEpoch{42, 1}, 8).is_ok());
  ASSERT_TRUE(image.apply(ProducerEpoch{42, 2}, 9).is_ok());
  EXPECT_EQ(image.producer_epoch(42), 2);
  EXPECT_EQ(image.producer_epoch(43), 0);
  MetadataImage before = image;
  for (const ProducerEpoch& stale :
       {ProducerEpoch{42, 2}, ProducerEpoch{42, 4}, ProducerEpoch{42, 1}, ProducerEpoch{43, 0}}) {
    Status st = image.apply(stale, 10);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest) << describe(stale);
    EXPECT_NE(st.message().find("does not follow its current epoch"), std::string::npos)
        << st.message();
  }
  Status never = image.apply(ProducerEpoch{1000, 1}, 10);
  EXPECT_NE(never.message().find("never handed out"), std::string::npos) << never.message();
  EXPECT_FALSE(image.apply(ProducerEpoch{-1, 1}, 10).is_ok());
  EXPECT_EQ(image, before);
}

TEST_F(ImageTest, SnapshotKeepsProducerEpochsAndReadsVersionZero) {
  ASSERT_TRUE(image.apply(ProducerIds{1, 5, 0, 1000}, 7).is_ok());
  Bytes v0 = image.encode_snapshot();
  EXPECT_EQ(v0[0], 0) << "no epoch bumped yet: the layout older builds read";
  Result<MetadataImage> old = MetadataImage::decode_snapshot(v0);
  ASSERT_TRUE(old.is_ok()) << old.status().to_string();
  EXPECT_EQ(*old, image);

  ASSERT_TRUE(image.apply(ProducerEpoch{42, 1}, 8).is_ok());
  ASSERT_TRUE(image.apply(ProducerEpoch{999, 1}, 9).is_ok());
  Bytes v1 = image.encode_snapshot();
  EXPECT_EQ(v1[0], 1);
  Result<MetadataImage> decoded = MetadataImage::decode_snapshot(v1);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, image);
  EXPECT_EQ(decoded->producer_epoch(42), 1);
  EXPECT_TRUE(decoded->apply(ProducerEpoch{42, 2}, 10).is_ok()) << "and it keeps applying";

  // A version 0 snapshot relabelled 1 lacks the epochs: truncated.
  Bytes relabelled = v0;
  relabelled[0] = 1;
  EXPECT_EQ(MetadataImage::decode_snapshot(relabelled).code(), ErrorCode::kCorruptMessage);
  // An epoch for an id beyond the next producer id is inconsistent.
  MetadataImage beyond = image;
  ASSERT_TRUE(beyond.apply(ProducerIds{1, 5, 1000, 1}, 10).is_ok());
  ASSERT_TRUE(beyond.apply(ProducerEpoch{1000, 1}, 11).is_ok());
  Bytes b = beyond.encode_snapshot();
  // next_producer_id (1001) sits after version, applied index and cluster id.
  size_t at = 2 + 8 + 2 + beyond.cluster_id().size();
  ASSERT_EQ(b[at], 0xE9);  // 1001 = 0x3E9, little-endian
  b[at] = 0xE8;            // 1000: the epoch of id 1000 is now out of range
  Result<MetadataImage> bad = MetadataImage::decode_snapshot(b);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("out of range"), std::string::npos)
      << bad.status().message();
}

TEST_F(ImageTest, AclsAreStoredOnceRemovedAndKeptInSnapshotsVersionTwo) {
  transport::AclBinding read{.resource_type = transport::AclResourceType::kTopic,
                             .resource_name = "orders",
                             .principal = "alice",
                             .operation = transport::AclOperation::kRead};
  transport::AclBinding deny = read;
  deny.permission = transport::AclPermission::kDeny;
  deny.principal = "mallory";
  Bytes before = image.encode_snapshot();
  EXPECT_EQ(before[0], 0) << "no ACLs: the layout older builds read";
  ASSERT_TRUE(image.apply(RecordBatch{Acl{deny}, Acl{read}}, 7).is_ok());
  EXPECT_EQ(image.acls(), (std::vector<transport::AclBinding>{read, deny}))
      << "sorted, whatever the order they came in";
  Status twice = image.apply(Acl{read}, 8);
  EXPECT_EQ(twice.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(twice.message().find("stored already"), std::string::npos) << twice.message();
  transport::AclBinding invalid = read;
  invalid.principal = "";
  EXPECT_FALSE(image.apply(Acl{invalid}, 8).is_ok());

  Bytes v2 = image.encode_snapshot();
  EXPECT_EQ(v2[0], 2);
  Result<MetadataImage> decoded = MetadataImage::decode_snapshot(v2);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, image);
  // Every cut of it is damage, not a smaller image.
  for (size_t size = 0; size < v2.size(); ++size) {
    ASSERT_FALSE(MetadataImage::decode_snapshot({v2.data(), size}).is_ok()) << size;
  }

  ASSERT_TRUE(image.apply(RemoveAcl{read}, 9).is_ok());
  EXPECT_EQ(image.acls(), std::vector<transport::AclBinding>{deny});
  Status gone = image.apply(RemoveAcl{read}, 10);
  EXPECT_NE(gone.message().find("is not stored"), std::string::npos) << gone.message();
  ASSERT_TRUE(image.apply(RemoveAcl{deny}, 11).is_ok());
  EXPECT_EQ(image.encode_snapshot()[0], 0) << "back to the oldest layout once none is left";
}

TEST_F(ImageTest, SnapshotRoundTrips) {
  ASSERT_TRUE(image.apply(Config{ConfigResource::kCluster, "", "a", "b"}, 7).is_ok());
  ASSERT_TRUE(image.apply(ProducerIds{1, 5, 0, 1000}, 8).is_ok());
  ASSERT_TRUE(image.apply(BrokerControlledShutdown{2, 5}, 9).is_ok());
  Bytes bytes = image.encode_snapshot();
  Result<MetadataImage> decoded = MetadataImage::decode_snapshot(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, image);
  EXPECT_EQ(decoded->topic_by_id(77)->name, "orders");
  EXPECT_EQ(decoded->applied_index(), 9u);
  // And the decoded image keeps applying.
  EXPECT_TRUE(decoded->apply(PartitionChange{"orders", 1, 0, 1}, 10).is_ok());
}

TEST_F(ImageTest, CorruptSnapshotIsAnError) {
  Bytes bytes = image.encode_snapshot();
  for (size_t size = 0; size < bytes.size(); ++size) {
    Result<MetadataImage> decoded = MetadataImage::decode_snapshot({bytes.data(), size});
    ASSERT_FALSE(decoded.is_ok()) << "cut at " << size;
    EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
  }
  Bytes version = bytes;
  version[0] = 3;
  Result<MetadataImage> future = MetadataImage::decode_snapshot(version);
  ASSERT_FALSE(future.is_ok());
  EXPECT_NE(future.status().message().find("version 3 is not supported"), std::string::npos)
      << future.status().message();

  // A structurally valid snapshot whose partition breaks an invariant.
  MetadataImage bad = image;
  ASSERT_TRUE(
      bad.apply(PartitionChange{"orders", 0, 0, 2, std::nullopt, std::vector<BrokerId>{2}}, 7)
          .is_ok());
  Bytes b = bad.encode_snapshot();
  // orders-0 is replicas [1,2], isr [2], leader 2: make the leader 3.
  std::vector<uint8_t> needle = {2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0,
                                 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0};
  auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  ASSERT_NE(it, b.end());
  *(it + 20) = 3;
  Result<MetadataImage> decoded = MetadataImage::decode_snapshot(b);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("leader 3 is not in the isr"), std::string::npos)
      << decoded.status().message();
}

TEST_F(ImageTest, LocalChangesTellABrokerItsRoles) {
  MetadataImage before = image;
  ASSERT_TRUE(
      image.apply(PartitionChange{"orders", 0, 0, 2, std::nullopt, std::vector<BrokerId>{2}}, 7)
          .is_ok());
  std::vector<LocalPartitionChange> for_two = local_changes(before, image, 2);
  ASSERT_EQ(for_two.size(), 1u);
  EXPECT_EQ(for_two[0].partition, 0);
  EXPECT_EQ(for_two[0].role, LocalPartitionChange::Role::kLeader);
  EXPECT_EQ(for_two[0].state.leader_epoch, 1);
  std::vector<LocalPartitionChange> for_one = local_changes(before, image, 1);
  ASSERT_EQ(for_one.size(), 1u);
  EXPECT_EQ(for_one[0].role, LocalPartitionChange::Role::kFollower);
  EXPECT_TRUE(local_changes(image, image, 1).empty());

  // From an empty image everything is new; a removed topic stops its replicas.
  EXPECT_EQ(local_changes(MetadataImage{}, image, 1).size(), 2u);
  MetadataImage removed = image;
  ASSERT_TRUE(removed.apply(RemoveTopic{"orders", 77}, 8).is_ok());
  std::vector<LocalPartitionChange> stopped = local_changes(image, removed, 1);
  ASSERT_EQ(stopped.size(), 2u);
  EXPECT_EQ(stopped[0].role, LocalPartitionChange::Role::kStopped);
  EXPECT_TRUE(stopped[0].deleted);

  // Reassigned away: stopped, not deleted.
  MetadataImage moved = image;
  ASSERT_TRUE(moved
                  .apply(PartitionChange{"orders", 1, 0, kLeaderUnchanged, std::vector<BrokerId>{2},
                                         std::vector<BrokerId>{2}},
                         8)
                  .is_ok());
  std::vector<LocalPartitionChange> away = local_changes(image, moved, 1);
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].role, LocalPartitionChange::Role::kStopped);
  EXPECT_FALSE(away[0].deleted);
}

}  // namespace
}  // namespace mq::metadata
