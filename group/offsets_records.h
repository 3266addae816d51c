// The records of the internal topic __consumer_offsets: one keyed record per
// committed offset and one per group, latest wins (the topic is compacted), a
// record without a value (a tombstone) deletes. Encoded with the wire
// protocol's types (docs/protocol.md §3); docs/groups.md shows the layout.
//
//   key v0                               offset value v0
//     version      int16 (0)               version           int16 (0)
//     type         int8 (0 offset,         offset            int64
//                        1 group)          leader_epoch      int32
//     group        string                  metadata          nullable string
//     member_key   string ("" unless       commit_timestamp  int64
//                  broadcast)            group value v0
//     topic        string ("" for group)   version           int16 (0)
//     partition    int32 (-1 for group)    protocol_type     string
//                                          protocol_name     string
//                                          generation        int32
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "transport/codec.h"

namespace mq::group {

enum class OffsetsRecordType : int8_t { kOffset = 0, kGroup = 1 };

struct OffsetsKey {
  int16_t version = 0;
  OffsetsRecordType type = OffsetsRecordType::kOffset;
  std::string group;
  std::string member_key;  // broadcast groups: the member's own offsets
  std::string topic;
  int32_t partition = -1;

  bool operator==(const OffsetsKey&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("type", m.type);
    c("group", m.group);
    c("member_key", m.member_key);
    c("topic", m.topic);
    c("partition", m.partition);
  }
};

struct OffsetValue {
  int16_t version = 0;
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int64_t commit_timestamp = 0;

  bool operator==(const OffsetValue&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("offset", m.offset);
    c("leader_epoch", m.leader_epoch);
    c("metadata", m.metadata);
    c("commit_timestamp", m.commit_timestamp);
  }
};

struct GroupValue {
  int16_t version = 0;
  std::string protocol_type;
  std::string protocol_name;
  int32_t generation = 0;

  bool operator==(const GroupValue&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("version", m.version);
    c("protocol_type", m.protocol_type);
    c("protocol_name", m.protocol_name);
    c("generation", m.generation);
  }
};

std::string encode_key(const OffsetsKey& key);
std::string encode_offset_value(const OffsetValue& value);
std::string encode_group_value(const GroupValue& value);

// Fail with CORRUPT_MESSAGE on malformed bytes or an unknown version/type.
Result<OffsetsKey> decode_key(std::span<const uint8_t> bytes);
Result<OffsetValue> decode_offset_value(std::span<const uint8_t> bytes);
Result<GroupValue> decode_group_value(std::span<const uint8_t> bytes);

}  // namespace mq::group
