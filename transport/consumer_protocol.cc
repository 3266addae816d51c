// Codecs of the consumer protocol's subscription and assignment.
#include "transport/consumer_protocol.h"

namespace mq::transport {
namespace {

template <class T>
Bytes encode(const T& value) {
  std::string body;
  Frames records;
  BodyEncoder encoder(0, &body, &records);
  encoder.put(value);
  return Bytes(body.begin(), body.end());
}

template <class T>
Result<T> decode(std::span<const uint8_t> bytes, std::string_view what) {
  T value;
  BodyDecoder decoder(0, bytes, {}, ErrorCode::kInconsistentGroupProtocol, what);
  decoder.get(value);
  MQ_RETURN_IF_ERROR(decoder.finish());
  if (value.version != 0) {
    return Status(ErrorCode::kInconsistentGroupProtocol,
                  std::string(what) + " version " + std::to_string(value.version) +
                      " is not supported (this build reads version 0)");
  }
  return value;
}

}  // namespace

Bytes encode_subscription(const ConsumerSubscription& subscription) {
  return encode(subscription);
}

Result<ConsumerSubscription> decode_subscription(std::span<const uint8_t> bytes) {
  return decode<ConsumerSubscription>(bytes, "consumer subscription");
}

Bytes encode_assignment(const ConsumerAssignment& assignment) {
  return encode(assignment);
}

Result<ConsumerAssignment> decode_assignment(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return ConsumerAssignment{};
  return decode<ConsumerAssignment>(bytes, "consumer assignment");
}

}  // namespace mq::transport
