// Codecs of the consumer protocol's subscription and assignment.
#include "transport/consumer_protocol.h"

namespace mq::transport {
namespace {

Bytes to_bytes(const std::string& body) {
  return Bytes(body.begin(), body.end());
}

}  // namespace

Bytes encode_subscription(const ConsumerSubscription& subscription) {
  return to_bytes(encode_struct(subscription));
}

Result<ConsumerSubscription> decode_subscription(std::span<const uint8_t> bytes) {
  return decode_versioned_struct<ConsumerSubscription>(bytes, ErrorCode::kInconsistentGroupProtocol,
                                                       "consumer subscription");
}

Bytes encode_assignment(const ConsumerAssignment& assignment) {
  return to_bytes(encode_struct(assignment));
}

Result<ConsumerAssignment> decode_assignment(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return ConsumerAssignment{};
  return decode_versioned_struct<ConsumerAssignment>(bytes, ErrorCode::kInconsistentGroupProtocol,
                                                     "consumer assignment");
}

}  // namespace mq::transport
