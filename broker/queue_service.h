// QueueService: the partition leader's side of queue consumption
// (per-message acknowledgement; docs/messaging.md, "Queue consumption").
// Each queue group's state lives in the partition's own log as
// queue-state records (store/queue_state.h) that every replica applies, so
// a new leader serves the group exactly where the old one left it.
//
// Receive picks what to hand out (messages whose back-off has passed, then
// messages never handed out, from the group's `next` offset up to the high
// watermark), appends one deliver op, and returns the messages' batches; the
// caller answers once the op is committed. Ack, nack and changes of the
// invisible time append one op per partition the same way. Every append
// names the queue-state version it was decided from
// (AppendOptions::queue_version), so two decisions never interleave.
//
// A message whose delivery ends without an ack (nack, or its invisible time
// passed) is handed out again after the topic's queue.retry.backoff.ms figure
// for that delivery; one handed out queue.max.deliveries times is held
// instead (available_at = kHeld) and no longer handed out.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "broker/broker_metrics.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"
#include "transport/queue.h"

namespace mq::broker {

class QueueService {
 public:
  // available_at of a message held after its last delivery.
  static constexpr int64_t kHeld = QueueState::kHeldAt;
  // Most unfinished messages (in flight, waiting for a retry, held) a group
  // keeps per partition: beyond it, no new message is handed out.
  static constexpr size_t kMaxUnfinished = 100000;

  QueueService(ReplicaManager& replicas, BrokerMetrics& metrics,
               std::function<int64_t()> clock_ms = {});

  struct ReceiveArgs {
    std::string group;
    int32_t max_messages = 32;
    int32_t max_bytes = 1 << 20;
    int32_t invisible_ms = 30000;
    bool key_ordered = false;
    transport::QueueStart start = transport::QueueStart::kEarliest;
  };
  struct Received {
    Status status;  // the partition's error
    std::vector<transport::ReceiveMessagesResponse::Topic::Partition::Message> messages;
    std::string records;  // whole batches holding the messages
    int64_t invisible_until_ms = 0;
    int64_t backlog = 0;
    // The appended op, to wait for (last_offset -1: nothing appended).
    int64_t last_offset = -1;
    int32_t epoch = 0;
  };
  // Hands out up to args.max_messages of `partition` (led here) to one consumer.
  Received receive(Partition& partition, const ReceiveArgs& args);

  using AckMessage = transport::AckMessagesRequest::Topic::Partition::Message;
  struct Acked {
    Status status;                   // the partition's error (results empty then)
    std::vector<ErrorCode> results;  // per message asked
    std::vector<size_t> appended_for;
    int64_t last_offset = -1;
    int32_t epoch = 0;
  };
  // Applies a consumer's acks, nacks and invisible-time changes.
  Acked ack(Partition& partition, const std::string& group,
            const std::vector<AckMessage>& messages);

  struct Settings {
    int32_t max_deliveries = 16;
    std::vector<int64_t> backoff_ms;
  };
  Settings settings_for(const std::string& topic) const;

  // A message read back from the log, with its own bytes.
  struct StoredMessage {
    int64_t timestamp_ms = 0;
    std::optional<std::string> key;
    std::optional<std::string> value;
    std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  };
  // Dead letters (dead_letters.h moves them): a group's messages whose last
  // delivery ended without an ack: held, or due again with
  // queue.max.deliveries deliveries behind them.
  struct DeadLetter {
    std::string group;
    int64_t offset = 0;
    QueueState::Entry entry;
    // nullopt when the message cannot be read any more (retention deleted
    // it, or its batch is damaged): it is expired instead of moved.
    std::optional<StoredMessage> message;
  };
  // Up to `limit` of `partition`'s (led here), committed messages only.
  Result<std::vector<DeadLetter>> dead_letters(Partition& partition, size_t limit);
  // Marks `letters` done once their copies are in the dead-letter topic (a
  // dead op; an expire op for unreadable ones). One that changed since
  // dead_letters() (put back by a redrive) is left alone. Returns how many
  // were marked.
  struct Finished {
    size_t dead = 0;
    size_t expired = 0;
  };
  Result<Finished> finish_dead(Partition& partition, const std::vector<DeadLetter>& letters);

 private:
  std::mutex& stripe(const Partition& partition);
  // Appends `ops` as one queue-state batch; FENCED_LEADER_EPOCH when the
  // state moved since `version`.
  Result<AppendResult> append_ops(Partition& partition, const std::vector<QueueOp>& ops,
                                  uint64_t version, int32_t* epoch);

  ReplicaManager& replicas_;
  BrokerMetrics& metrics_;
  std::function<int64_t()> clock_ms_;
  std::array<std::mutex, 64> stripes_;
};

}  // namespace mq::broker
