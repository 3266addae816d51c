// What applications hand to the producer and get back from the consumer:
// records that own their bytes, and the names of partitions.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq::client {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  auto operator<=>(const TopicPartition&) const = default;
  std::string to_string() const { return topic + "-" + std::to_string(partition); }
};

struct Header {
  std::string key;
  std::optional<std::string> value;  // nullopt = null value

  bool operator==(const Header&) const = default;
};

// A record to send. Without `partition` the partitioner picks one: by key
// hash when there is a key, else the topic's sticky partition.
struct ProducerRecord {
  std::string topic;
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = null value (a tombstone)
  std::vector<Header> headers;
  std::optional<int32_t> partition;
  std::optional<int64_t> timestamp_ms;  // default: the time of send()
  // Delayed delivery: the time (ms since the epoch) consumers may see the
  // record, which is stored at once and delivered by the partition's leader
  // then (header mq.deliver-at). A time not in the future sends it as usual.
  std::optional<int64_t> deliver_at_ms;
};

// The same record as views into the caller's bytes, for send() without a
// copy: the producer encodes the record into its batch before send()
// returns, so the views need to live only for the call.
struct ProducerRecordView {
  std::string_view topic;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::span<const Header> headers;
  std::optional<int32_t> partition;
  std::optional<int64_t> timestamp_ms;
  std::optional<int64_t> deliver_at_ms;  // as ProducerRecord's
};

// Where a sent record landed. offset is -1 with acks=0, and when the broker
// reported the batch as an already-appended duplicate it can no longer locate.
struct RecordMetadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;  // create time, or the broker's log-append time
  // The record's message id (header mq.msg-id) was in the partition's
  // de-duplication window: it was not appended again, and `offset` is that
  // of the record that carried the id first.
  bool duplicate = false;
  // A delayed record: `offset` is that of its scheduled record (what
  // `mqctl delayed cancel` takes); its delivered copy gets a later one.
  bool scheduled = false;
};

using SendCallback = std::function<void(const Result<RecordMetadata>&)>;

// An owning copy of a possibly null byte view.
inline std::optional<std::string> copy_of(const std::optional<std::string_view>& bytes) {
  if (!bytes) return std::nullopt;
  return std::string(*bytes);
}

struct ConsumerRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
};

}  // namespace mq::client

template <>
struct std::hash<mq::client::TopicPartition> {
  size_t operator()(const mq::client::TopicPartition& tp) const noexcept {
    return std::hash<std::string>()(tp.topic) * 31 + std::hash<int32_t>()(tp.partition);
  }
};
