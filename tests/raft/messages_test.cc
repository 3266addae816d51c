// Raft messages survive encoding and decoding; damaged bytes are rejected.
#include "raft/messages.h"

#include <gtest/gtest.h>

namespace mq::raft {
namespace {

std::vector<Message> samples() {
  AppendEntriesRequest append{7, 41, 6, 40, {}};
  append.entries.push_back(Entry{42, 7, EntryType::kNoop, {}});
  append.entries.push_back(Entry{43, 7, EntryType::kCommand, {1, 2, 3}});
  return {
      Message{1, 2, VoteRequest{8, 43, 7, true}},
      Message{2, 1, VoteResponse{8, true, true}},
      Message{1, 3, append},
      Message{3, 1, AppendEntriesResponse{7, false, 0, 41, 38, 5}},
      Message{1, 5, InstallSnapshotRequest{7, 1000, 6, 4096, Bytes(100, 0xAB), true}},
      Message{5, 1, InstallSnapshotResponse{7, 1000, 4196, true}},
      Message{9, 1, ObserverHello{7, "tcp://10.0.0.9:9193"}},
      Message{1, 3, TimeoutNow{7, 3}},
  };
}

TEST(MessagesTest, EveryKindRoundTrips) {
  for (const Message& message : samples()) {
    std::string bytes = encode_message(message);
    Result<Message> decoded =
        decode_message({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    ASSERT_TRUE(decoded.is_ok()) << describe(message) << ": " << decoded.status().to_string();
    EXPECT_EQ(*decoded, message) << describe(message);
  }
}

TEST(MessagesTest, TruncatedBytesAreRejectedWithoutCrashing) {
  for (const Message& message : samples()) {
    std::string bytes = encode_message(message);
    for (size_t size = 0; size < bytes.size(); ++size) {
      Result<Message> decoded =
          decode_message({reinterpret_cast<const uint8_t*>(bytes.data()), size});
      ASSERT_FALSE(decoded.is_ok()) << describe(message) << " cut at " << size;
      EXPECT_EQ(decoded.code(), ErrorCode::kCorruptMessage);
    }
  }
}

TEST(MessagesTest, UnknownKindAndTrailingBytesAreRejected) {
  std::string bytes = encode_message(samples()[0]);
  std::string unknown = bytes;
  unknown[0] = 17;
  Result<Message> decoded =
      decode_message({reinterpret_cast<const uint8_t*>(unknown.data()), unknown.size()});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("unknown kind 17"), std::string::npos);

  std::string trailing = bytes + "x";
  EXPECT_FALSE(
      decode_message({reinterpret_cast<const uint8_t*>(trailing.data()), trailing.size()}).is_ok());
}

TEST(MessagesTest, TravelOnTheReservedQuorumApiKeys) {
  std::vector<Message> all = samples();
  EXPECT_EQ(api_key(all[0]), transport::ApiKey::kVote);
  EXPECT_EQ(api_key(all[1]), transport::ApiKey::kVote);
  EXPECT_EQ(api_key(all[2]), transport::ApiKey::kAppendEntries);
  EXPECT_EQ(api_key(all[3]), transport::ApiKey::kAppendEntries);
  EXPECT_EQ(api_key(all[4]), transport::ApiKey::kInstallSnapshot);
  EXPECT_EQ(api_key(all[5]), transport::ApiKey::kInstallSnapshot);
  EXPECT_EQ(api_key(all[6]), transport::ApiKey::kAppendEntries);
  EXPECT_EQ(api_key(all[7]), transport::ApiKey::kVote);
  EXPECT_TRUE(is_request(all[7]));
  EXPECT_TRUE(is_request(all[0]));
  EXPECT_FALSE(is_request(all[6]));  // one-way: nobody answers a hello
  EXPECT_FALSE(is_request(all[1]));
  EXPECT_EQ(message_term(all[4]), 7u);
}

}  // namespace
}  // namespace mq::raft
