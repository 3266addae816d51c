// Codecs of the __consumer_offsets records; see offsets_records.h.
#include "group/offsets_records.h"

namespace mq::group {
namespace {}  // namespace

std::string encode_key(const OffsetsKey& key) {
  return transport::encode_struct(key);
}
std::string encode_offset_value(const OffsetValue& value) {
  return transport::encode_struct(value);
}
std::string encode_group_value(const GroupValue& value) {
  return transport::encode_struct(value);
}

Result<OffsetsKey> decode_key(std::span<const uint8_t> bytes) {
  MQ_ASSIGN_OR_RETURN(OffsetsKey key, transport::decode_versioned_struct<OffsetsKey>(
                                          bytes, ErrorCode::kCorruptMessage, "offsets record key"));
  if (key.type != OffsetsRecordType::kOffset && key.type != OffsetsRecordType::kGroup) {
    return Status(ErrorCode::kCorruptMessage, "offsets record key has unknown type " +
                                                  std::to_string(static_cast<int>(key.type)));
  }
  return key;
}
Result<OffsetValue> decode_offset_value(std::span<const uint8_t> bytes) {
  return transport::decode_versioned_struct<OffsetValue>(bytes, ErrorCode::kCorruptMessage,
                                                         "offset record value");
}
Result<GroupValue> decode_group_value(std::span<const uint8_t> bytes) {
  return transport::decode_versioned_struct<GroupValue>(bytes, ErrorCode::kCorruptMessage,
                                                        "group record value");
}

}  // namespace mq::group
