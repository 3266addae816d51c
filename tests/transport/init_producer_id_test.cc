// Round trips of the InitProducerId messages.
#include "transport/init_producer_id.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

TEST(InitProducerIdTest, NewProducerRequestRoundTrips) {
  InitProducerIdRequest decoded = testing::expect_request_round_trip(InitProducerIdRequest{});
  EXPECT_FALSE(decoded.transactional_id.has_value());
  EXPECT_EQ(decoded.producer_id, -1);
}

TEST(InitProducerIdTest, EpochBumpRequestAndResponseRoundTrip) {
  testing::expect_request_round_trip(
      InitProducerIdRequest{.producer_id = 4000, .producer_epoch = 7});
  InitProducerIdResponse decoded = testing::expect_response_round_trip(
      InitProducerIdResponse{.producer_id = 4000, .producer_epoch = 8});
  EXPECT_EQ(decoded.producer_epoch, 8);
}

}  // namespace
}  // namespace mq::transport
