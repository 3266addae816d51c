// Metadata records survive encoding and decoding; damaged bytes are rejected.
#include "metadata/records.h"

#include <gtest/gtest.h>

namespace mq::metadata {
namespace {

std::vector<Record> samples() {
  PartitionChange change;
  change.topic = "orders";
  change.partition = 3;
  change.leader = 2;
  change.isr = std::vector<BrokerId>{2, 3};
  change.elr = std::vector<BrokerId>{1};
  return {
      RegisterBroker{1, 0xDEADBEEFCAFEull, "tcp://127.0.0.1:9092", "rack-a", false},
      UnregisterBroker{1, 17},
      FenceBroker{2, 18},
      UnfenceBroker{2, 18},
      BrokerControlledShutdown{3, 19},
      Topic{"orders", 99, 2, {{"min.insync.replicas", "2"}, {"retention.ms", "1000"}}},
      Partition{"orders", 0, {1, 2, 3}, {1, 2}, 1, {3}, {}, {}, {}},
      change,
      RemoveTopic{"orders", 99},
      Config{ConfigResource::kTopic, "orders", "retention.ms", "5"},
      Config{ConfigResource::kCluster, "", "unclean.leader.election.enable", std::nullopt},
      ProducerIds{1, 17, 2000, 1000},
      ClusterId{"mq-cluster-1"},
      ProducerEpoch{2001, 7},
      Acl{{.resource_type = transport::AclResourceType::kTopic,
           .resource_name = "pay.",
           .pattern_type = transport::AclPatternType::kPrefixed,
           .principal = "alice",
           .operation = transport::AclOperation::kWrite,
           .permission = transport::AclPermission::kDeny}},
      RemoveAcl{{.resource_type = transport::AclResourceType::kCluster,
                 .resource_name = "cluster",
                 .principal = "*",
                 .operation = transport::AclOperation::kDescribe}},
  };
}

TEST(RecordsTest, EveryTypeRoundTrips) {
  std::vector<Record> all = samples();
  ASSERT_EQ(std::variant_size_v<Record>, 15u);
  for (const Record& record : all) {
    Result<Bytes> bytes = encode_record(record);
    ASSERT_TRUE(bytes.is_ok()) << describe(record);
    EXPECT_EQ((*bytes)[0], static_cast<uint8_t>(record.index())) << "type comes first";
    Result<Record> decoded = decode_record(*bytes);
    ASSERT_TRUE(decoded.is_ok()) << describe(record) << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, record) << describe(record);
  }
}

TEST(RecordsTest, PartitionChangeKeepsUnchangedFieldsNull) {
  PartitionChange only_isr{"t", 0, 4, kLeaderUnchanged, std::nullopt, std::vector<BrokerId>{}};
  Result<Bytes> bytes = encode_record(only_isr);
  ASSERT_TRUE(bytes.is_ok());
  Result<Record> decoded = decode_record(*bytes);
  ASSERT_TRUE(decoded.is_ok());
  const auto& change = std::get<PartitionChange>(*decoded);
  EXPECT_EQ(change.leader, kLeaderUnchanged);
  EXPECT_FALSE(change.replicas.has_value());
  ASSERT_TRUE(change.isr.has_value());
  EXPECT_TRUE(change.isr->empty());
}

TEST(RecordsTest, TruncatedBytesAreRejectedWithoutCrashing) {
  for (const Record& record : samples()) {
    Bytes bytes = *encode_record(record);
    for (size_t size = 0; size < bytes.size(); ++size) {
      Result<Record> decoded = decode_record({bytes.data(), size});
      ASSERT_FALSE(decoded.is_ok()) << describe(record) << " cut at " << size;
      EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
    }
  }
}

TEST(RecordsTest, UnknownTypeVersionAndTrailingBytesAreRejected) {
  Bytes bytes = *encode_record(samples()[0]);
  Bytes unknown = bytes;
  unknown[0] = 42;
  Result<Record> decoded = decode_record(unknown);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("unknown type 42"), std::string::npos)
      << decoded.status().message();

  Bytes negative = bytes;
  negative[0] = 0xFF;
  EXPECT_FALSE(decode_record(negative).is_ok());

  Bytes future = bytes;
  future[1] = 1;  // version 1
  decoded = decode_record(future);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("version 1 is not supported"), std::string::npos)
      << decoded.status().message();

  Bytes trailing = bytes;
  trailing.push_back(0);
  decoded = decode_record(trailing);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("unread bytes"), std::string::npos);
}

TEST(RecordsTest, InvalidBoolAndConfigResourceAreRejected) {
  Bytes bytes = *encode_record(RegisterBroker{1, 2, "e", "", true});
  bytes.back() = 7;  // clean_shutdown is the last field
  Result<Record> decoded = decode_record(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("bool is 7"), std::string::npos);

  Bytes config = *encode_record(Config{ConfigResource::kTopic, "t", "k", "v"});
  config[3] = 9;  // type, version (2 bytes), then the resource type
  decoded = decode_record(config);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("resource type 9 is unknown"), std::string::npos)
      << decoded.status().message();
}

TEST(RecordsTest, AnInvalidAclDoesNotDecode) {
  transport::AclBinding acl{.resource_type = transport::AclResourceType::kGroup,
                            .resource_name = "g",
                            .principal = "alice",
                            .operation = transport::AclOperation::kRead};
  Bytes bytes = *encode_record(Acl{acl});
  ASSERT_TRUE(decode_record(bytes).is_ok());
  // type, version (2 bytes), then the resource type: 4 is the cluster,
  // which is named "cluster" only.
  bytes[3] = 4;
  Result<Record> decoded = decode_record(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(decoded.status().message().find("\"cluster\""), std::string::npos)
      << decoded.status().message();
}

TEST(RecordsTest, HugeCountIsRejectedBeforeAllocating) {
  Bytes bytes = *encode_record(Partition{"t", 0, {1}, {1}, 1, {}, {}, {}, {}});
  // replicas count sits after type(1) version(2) topic(2+1) partition(4).
  size_t at = 1 + 2 + 3 + 4;
  bytes[at] = 0xFF;
  bytes[at + 1] = 0xFF;
  bytes[at + 2] = 0xFF;
  bytes[at + 3] = 0x7F;
  Result<Record> decoded = decode_record(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
}

TEST(RecordsTest, BatchRoundTripsAndNamesTheBadRecord) {
  RecordBatch batch = samples();
  Result<Bytes> bytes = encode_batch(batch);
  ASSERT_TRUE(bytes.is_ok());
  Result<RecordBatch> decoded = decode_batch(*bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, batch);

  Result<Bytes> empty = encode_batch({});
  ASSERT_TRUE(empty.is_ok());
  ASSERT_TRUE(decode_batch(*empty).is_ok());
  EXPECT_TRUE(decode_batch(*empty)->empty());

  // Second record's type byte: version(2) count(4) len(4) record0 len(4) type.
  Bytes damaged = *bytes;
  size_t first_length = (*encode_record(batch[0])).size();
  damaged[2 + 4 + 4 + first_length + 4] = 77;
  Result<RecordBatch> bad = decode_batch(damaged);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("record 1: metadata record: unknown type 77"),
            std::string::npos)
      << bad.status().message();

  for (size_t size = 0; size < bytes->size(); ++size) {
    ASSERT_FALSE(decode_batch({bytes->data(), size}).is_ok()) << "cut at " << size;
  }
  Bytes future = *bytes;
  future[0] = 3;
  EXPECT_FALSE(decode_batch(future).is_ok());
}

TEST(RecordsTest, OverlongStringFailsToEncode) {
  Result<Bytes> bytes = encode_record(ClusterId{std::string(40000, 'x')});
  ASSERT_FALSE(bytes.is_ok());
  EXPECT_NE(bytes.status().message().find("cluster_id"), std::string::npos)
      << bytes.status().message();
}

}  // namespace
}  // namespace mq::metadata
