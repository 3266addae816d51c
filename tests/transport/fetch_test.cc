// Round trips of the Fetch messages, for consumers and followers.
#include "transport/fetch.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

TEST(FetchTest, ConsumerRequestRoundTrips) {
  FetchRequest request{.replica_id = kConsumerReplicaId,
                       .max_wait_ms = 250,
                       .min_bytes = 1024,
                       .max_bytes = 1 << 20,
                       .isolation_level = IsolationLevel::kReadCommitted};
  FetchRequest::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 2,
                              .current_leader_epoch = 5,
                              .fetch_offset = 123456789012LL,
                              .partition_max_bytes = 65536});
  request.topics.push_back(topic);
  FetchRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.isolation_level, IsolationLevel::kReadCommitted);
  EXPECT_EQ(decoded.topics[0].partitions[0].fetch_offset, 123456789012LL);
}

TEST(FetchTest, FollowerRequestCarriesItsReplicaIdAndLogStart) {
  FetchRequest request{.replica_id = 3};
  request.topics.push_back(
      {.name = "orders", .partitions = {{.fetch_offset = 10, .log_start_offset = 4}}});
  FetchRequest decoded = expect_request_round_trip(request);
  EXPECT_EQ(decoded.replica_id, 3);
  EXPECT_EQ(decoded.topics[0].partitions[0].log_start_offset, 4);
}

TEST(FetchTest, ResponseCarriesLogBytesAsRecordFramesIncludingEmptyOnes) {
  FetchResponse response;
  FetchResponse::Topic topic{.name = "orders"};
  topic.partitions.push_back({.partition_index = 0,
                              .high_watermark = 100,
                              .last_stable_offset = 100,
                              .log_start_offset = 0,
                              .log_end_offset = 104,
                              .records = Frame(std::string(3000, 'r'))});
  topic.partitions.push_back(
      {.partition_index = 1, .error_code = ErrorCode::kOffsetOutOfRange, .high_watermark = 7});
  response.topics.push_back(topic);
  FetchResponse decoded = expect_response_round_trip(response);
  EXPECT_EQ(decoded.topics[0].partitions[0].records.size(), 3000u);
  EXPECT_TRUE(decoded.topics[0].partitions[1].records.empty());

  Result<Frames> frames = encode_response(response, RequestHeader{.api_key = ApiKey::kFetch});
  ASSERT_TRUE(frames.is_ok());
  EXPECT_EQ(frames->size(), 4u);  // header, body, and one frame per partition
}

}  // namespace
}  // namespace mq::transport
