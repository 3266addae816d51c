// Round trips and malformed bodies of the FindMessages messages.
#include "transport/find_messages.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"
#include "transport/message.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

template <class Message>
std::vector<uint8_t> body_of(const Message& message) {
  Result<Frames> frames = encode_body(message, 0);
  EXPECT_TRUE(frames.is_ok());
  auto bytes = (*frames)[0].bytes();
  return {bytes.begin(), bytes.end()};
}

template <class Message>
Result<Message> decode(const std::vector<uint8_t>& body, std::span<const Frame> records,
                       ErrorCode error) {
  Frame frame = Frame::copy_of(body);
  return decode_body<Message>(frame, records, 0, error);
}

TEST(FindMessagesTest, RequestWithABinaryKeyRoundTrips) {
  FindMessagesRequest request{.key = {'o', 0x00, 0xff, '7'}, .max_messages = 250};
  request.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0, .current_leader_epoch = 4}, {.partition_index = 2}}});
  FindMessagesRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.key, (Bytes{'o', 0x00, 0xff, '7'}));
  EXPECT_EQ(decoded.max_messages, 250);
  EXPECT_EQ(decoded.topics[0].partitions[0].current_leader_epoch, 4);
  EXPECT_EQ(decoded.topics[0].partitions[1].current_leader_epoch, -1);

  // The key leads the body as bytes: an int32 length, then the bytes as they are.
  std::vector<uint8_t> body = body_of(request);
  ASSERT_GE(body.size(), 8u);
  EXPECT_EQ(std::vector<uint8_t>(body.begin(), body.begin() + 8),
            (std::vector<uint8_t>{4, 0, 0, 0, 'o', 0x00, 0xff, '7'}));
}

TEST(FindMessagesTest, AnEmptyKeyRoundTrips) {
  FindMessagesRequest request{.max_messages = 1};
  request.topics.push_back({.name = "t", .partitions = {{.partition_index = 0}}});
  FindMessagesRequest decoded = expect_request_round_trip(request);
  EXPECT_TRUE(decoded.key.empty());
}

TEST(FindMessagesTest, ResponseCarriesEachPartitionsMatchesInItsOwnRecordFrame) {
  FindMessagesResponse response;
  response.topics.push_back(
      {.name = "orders",
       .partitions = {{.partition_index = 0,
                       .high_watermark = 120,
                       .more = true,
                       .candidates = 37,
                       .records = Frame(std::string(500, 'r'))},
                      {.partition_index = 1, .error_code = ErrorCode::kNotLeader},
                      {.partition_index = 2, .high_watermark = 0}}});
  FindMessagesResponse decoded = expect_response_round_trip(response);
  const auto& partitions = decoded.topics[0].partitions;
  EXPECT_TRUE(partitions[0].more);
  EXPECT_EQ(partitions[0].candidates, 37);
  EXPECT_EQ(partitions[0].high_watermark, 120);
  EXPECT_EQ(partitions[0].records.size(), 500u);
  EXPECT_EQ(partitions[1].error_code, ErrorCode::kNotLeader);
  EXPECT_FALSE(partitions[2].more);
  EXPECT_TRUE(partitions[2].records.empty());

  Result<Frames> frames =
      encode_response(response, RequestHeader{.api_key = ApiKey::kFindMessages});
  ASSERT_TRUE(frames.is_ok());
  EXPECT_EQ(frames->size(), 5u);  // header, body, and one frame per partition
}

TEST(FindMessagesTest, MalformedBodiesAreRejected) {
  FindMessagesRequest request{.key = {'k'}};
  request.topics.push_back({.name = "t", .partitions = {{.partition_index = 0}}});
  std::vector<uint8_t> body = body_of(request);

  // Every proper prefix fails.
  for (size_t length = 0; length < body.size(); ++length) {
    std::vector<uint8_t> prefix(body.begin(), body.begin() + static_cast<ptrdiff_t>(length));
    Result<FindMessagesRequest> decoded =
        decode<FindMessagesRequest>(prefix, {}, ErrorCode::kInvalidRequest);
    ASSERT_FALSE(decoded.is_ok()) << "a " << length << "-byte prefix decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
  }

  // A key longer than the bytes left.
  std::vector<uint8_t> long_key = body;
  long_key[0] = 0xff;
  long_key[1] = 0xff;
  Result<FindMessagesRequest> too_long =
      decode<FindMessagesRequest>(long_key, {}, ErrorCode::kInvalidRequest);
  ASSERT_FALSE(too_long.is_ok());
  EXPECT_NE(too_long.status().message().find("key"), std::string::npos)
      << too_long.status().message();

  // A negative key length.
  std::vector<uint8_t> negative = body;
  negative[3] = 0xff;
  EXPECT_FALSE(decode<FindMessagesRequest>(negative, {}, ErrorCode::kInvalidRequest).is_ok());

  // A `more` that is neither 0 nor 1: topics count (4), name (2 + 1),
  // partitions count (4), partition_index (4), error_code (2) and
  // high_watermark (8) come first.
  FindMessagesResponse response;
  response.topics.push_back({.name = "t", .partitions = {{.partition_index = 0}}});
  std::vector<uint8_t> rbody = body_of(response);
  Frames records{Frame(std::string())};
  ASSERT_TRUE(decode<FindMessagesResponse>(rbody, records, ErrorCode::kCorruptMessage).is_ok());
  rbody[25] = 2;
  Result<FindMessagesResponse> bad_bool =
      decode<FindMessagesResponse>(rbody, records, ErrorCode::kCorruptMessage);
  ASSERT_FALSE(bad_bool.is_ok());
  EXPECT_EQ(bad_bool.code(), ErrorCode::kCorruptMessage);
  EXPECT_NE(bad_bool.status().message().find("more"), std::string::npos)
      << bad_bool.status().message();

  // A partition without its record frame.
  rbody[25] = 0;
  EXPECT_EQ(decode<FindMessagesResponse>(rbody, {}, ErrorCode::kCorruptMessage).code(),
            ErrorCode::kCorruptMessage);
}

}  // namespace
}  // namespace mq::transport
