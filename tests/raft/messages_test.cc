// Raft messages survive encoding and decoding; damaged bytes are rejected.
#include "raft/messages.h"

#include <gtest/gtest.h>

#include "raft/membership.h"

namespace mq::raft {
namespace {

std::vector<Message> samples() {
  AppendEntriesRequest append{7, 41, 6, 40, {}};
  append.entries.push_back(Entry{42, 7, EntryType::kNoop, {}});
  append.entries.push_back(Entry{43, 7, EntryType::kCommand, {1, 2, 3}});
  return {
      Message{1, 2, VoteRequest{8, 43, 7, true, "dir-1"}},
      Message{2, 1, VoteResponse{8, true, true, "dir-2"}},
      Message{1, 3, append},
      Message{3, 1, AppendEntriesResponse{7, false, 0, 41, 38, 5, 12, "dir-3"}},
      Message{1, 5, InstallSnapshotRequest{7, 1000, 6, 4096, Bytes(100, 0xAB), true, Bytes{1, 2}}},
      Message{5, 1, InstallSnapshotResponse{7, 1000, 4196, true}},
      Message{9, 1, ObserverHello{7, "tcp://10.0.0.9:9193", "dir-9", true}},
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

// Version 0, the layout before directory ids and the snapshot's voter set,
// still decodes (the new fields empty) when read as version 0.
TEST(MessagesTest, VersionZeroLeavesOutTheDirectoryIdsAndVoterSet) {
  for (const Message& message : samples()) {
    std::string old = encode_message(message, 0);
    std::string current = encode_message(message);
    Result<Message> decoded =
        decode_message({reinterpret_cast<const uint8_t*>(old.data()), old.size()}, 0);
    ASSERT_TRUE(decoded.is_ok()) << describe(message) << ": " << decoded.status().to_string();
    EXPECT_EQ(message_term(*decoded), message_term(message));
    if (std::holds_alternative<VoteRequest>(message.body)) {
      EXPECT_LT(old.size(), current.size());
      EXPECT_TRUE(std::get<VoteRequest>(decoded->body).directory_id.empty());
    }
    if (const auto* chunk = std::get_if<InstallSnapshotRequest>(&decoded->body)) {
      EXPECT_TRUE(chunk->membership.empty());
    }
  }
}

TEST(MembershipTest, RoundTripsAndRejectsDamagedOrInconsistentSets) {
  Membership voters = with_voter(with_voter({}, Voter{3, "c", "tcp://h:3"}), Voter{1, "", "x"});
  ASSERT_EQ(voters.voters.size(), 2u);
  EXPECT_EQ(voters.voters[0].id, 1);  // kept by id
  Bytes bytes = encode_membership(voters);
  Result<Membership> decoded = decode_membership(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, voters);
  EXPECT_TRUE(voters.is_voter(1, "anything"));  // no directory recorded yet
  EXPECT_TRUE(voters.is_voter(3, "c"));
  EXPECT_FALSE(voters.is_voter(3, "other"));
  EXPECT_FALSE(voters.is_voter(2, ""));
  EXPECT_EQ(without_voter(voters, 3).voters.size(), 1u);

  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(decode_membership(std::span(bytes.data(), size)).code(), ErrorCode::kCorruptMessage);
  }
  EXPECT_EQ(decode_membership(encode_membership({})).code(), ErrorCode::kCorruptMessage);
  Membership twice;
  twice.voters = {Voter{1, "", ""}, Voter{1, "", ""}};
  Result<Membership> refused = decode_membership(encode_membership(twice));
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("listed twice"), std::string::npos);
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
