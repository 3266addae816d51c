// QueueConsumer: queue consumption, one message at a time acknowledged
// (docs/messaging.md, "Queue consumption"; RocketMQ's SimpleConsumer). Any
// number of consumers of one group share every partition of its topics:
// receive() asks the partitions' leaders for messages, each handed to this
// consumer alone and invisible to the group's others for `invisible_ms`;
// ack() finishes one, nack() gives it back to be handed out again after the
// topic's retry back-off (or a given delay), and change_invisible_time()
// buys time. A message not acknowledged in time is handed out again.
//
// Not thread-safe: one thread uses a QueueConsumer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/config.h"
#include "client/record.h"

namespace mq::client {

class Cluster;

struct QueueConsumerConfig {
  std::string bootstrap_servers;  // required
  std::string client_id = "mq-queue-consumer";
  std::string group_id;             // required: the queue group
  std::vector<std::string> topics;  // required: what to receive from
  int invisible_ms = 30'000;        // how long a received message stays invisible to others
  bool key_ordered = false;  // a key is not handed out while an earlier message of it is unfinished
  bool start_at_latest = false;  // a group new to a partition starts at its end, not its start
  int max_partition_bytes = 1024 * 1024;  // per partition in one receive
  int request_timeout_ms = 30'000;
  int retry_backoff_ms = 100;  // wait after a failed call
  int poll_interval_ms = 20;   // receive() asks again this often while nothing is there
  CurveSettings curve;         // encryption, as the other clients' (docs/security.md)

  Status validate() const;
};

struct QueueMessage {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int32_t delivery = 1;            // 1 the first time it is handed out
  int64_t invisible_until_ms = 0;  // ms since the epoch
  int64_t timestamp_ms = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
};

// What became of one message of an ack/nack/change call.
struct QueueAckResult {
  TopicPartition partition;
  int64_t offset = 0;
  Status status;  // NOT_FOUND: not in flight any more; ILLEGAL_GENERATION: handed out again since
};

class QueueConsumer {
 public:
  static Result<std::unique_ptr<QueueConsumer>> create(const QueueConsumerConfig& config);
  ~QueueConsumer();
  QueueConsumer(const QueueConsumer&) = delete;
  QueueConsumer& operator=(const QueueConsumer&) = delete;

  // Up to `max_messages` (1..10000) messages, waiting up to `timeout_ms` for
  // the first; empty when none came. Errors only when nothing came and no
  // partition could be asked (the topics do not exist, no broker answers)
  // or a partition refused in a way no retry cures (a compacted topic).
  Result<std::vector<QueueMessage>> receive(int max_messages, int timeout_ms);

  // kRedrive puts back a message below the group's next offset (acked, or
  // moved to its dead-letter topic): handed out again as a first delivery;
  // one still pending (in flight, or waiting for its retry) stays as it
  // is. Only topic, partition and offset of the message count.
  // OFFSET_OUT_OF_RANGE when retention deleted it, NOT_FOUND when the
  // offset is past the group's next or holds no message.
  enum class Action { kAck, kNack, kChangeInvisible, kRedrive };
  // One request per leader for all of `messages`. `delay_ms`: nack, -1 for
  // the topic's retry back-off or the wait in ms; change, the new invisible
  // time from now. Per message, in order.
  Result<std::vector<QueueAckResult>> settle(const std::vector<QueueMessage>& messages,
                                             Action action, int32_t delay_ms = 0);
  Status ack(const QueueMessage& message);
  Status nack(const QueueMessage& message, int32_t delay_ms = -1);
  Status change_invisible_time(const QueueMessage& message, int32_t invisible_ms);

 private:
  QueueConsumer(std::unique_ptr<Cluster> cluster, QueueConsumerConfig config);
  // Every partition of the topics, by leader; refreshes metadata when asked.
  Result<std::map<int32_t, std::vector<std::pair<TopicPartition, int32_t>>>> by_leader(
      bool refresh);

  std::unique_ptr<Cluster> cluster_;
  QueueConsumerConfig config_;
  bool stale_ = true;    // metadata to refresh before the next call
  size_t rotation_ = 0;  // which partition asks first, rotating
};

}  // namespace mq::client
