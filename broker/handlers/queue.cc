// ReceiveMessages and AckMessages: queue consumption on each partition's
// leader (broker/queue_service.h). Both are answered once their queue-state
// records are committed, as an acks=all produce is (PartitionWaits: no
// worker is held meanwhile), so what a consumer was told survives the
// leader's failover.
#include "transport/queue.h"

#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/partition_waits.h"
#include "broker/queue_service.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

// How long an answer waits for its records to be committed.
constexpr int64_t kQueueCommitTimeoutMs = 5000;

// A group id queue-state records can carry: 1..255 bytes, no control characters.
std::optional<std::string> bad_group(const std::string& group) {
  if (group.empty() || group.size() > kMaxQueueGroupBytes) {
    return "group id must be 1 to " + std::to_string(kMaxQueueGroupBytes) + " bytes";
  }
  for (unsigned char ch : group) {
    if (ch < 0x20 || ch == 0x7f) return "group id contains a control character";
  }
  return std::nullopt;
}

std::optional<std::string> bad_receive(const ReceiveMessagesRequest& r) {
  if (auto why = bad_group(r.group)) return why;
  if (r.max_messages < 1 || r.max_messages > kReceiveMaxMessages) {
    return "max_messages " + std::to_string(r.max_messages) + " is outside 1.." +
           std::to_string(kReceiveMaxMessages);
  }
  if (r.max_bytes < 1) return "max_bytes must be at least 1";
  if (r.invisible_ms < kInvisibleMinMs || r.invisible_ms > kInvisibleMaxMs) {
    return "invisible_ms " + std::to_string(r.invisible_ms) + " is outside " +
           std::to_string(kInvisibleMinMs) + ".." + std::to_string(kInvisibleMaxMs);
  }
  if (r.start != QueueStart::kEarliest && r.start != QueueStart::kLatest) {
    return "start must be 0 (earliest) or 1 (latest)";
  }
  return std::nullopt;
}

std::optional<std::string> bad_ack(const AckMessagesRequest& r) {
  if (auto why = bad_group(r.group)) return why;
  for (const auto& t : r.topics) {
    for (const auto& p : t.partitions) {
      const std::string where = t.name + "-" + std::to_string(p.partition_index);
      if (p.messages.empty() || p.messages.size() > kAckMessagesMax) {
        return where + ": " + std::to_string(p.messages.size()) + " messages (1.." +
               std::to_string(kAckMessagesMax) + " per partition)";
      }
      for (const auto& m : p.messages) {
        const std::string at = where + " offset " + std::to_string(m.offset);
        if (m.action == AckAction::kRedrive) {
          if (m.delivery != 0 || m.delay_ms != 0) {
            return at + ": a redrive names delivery 0 and delay_ms 0";
          }
          continue;
        }
        if (m.delivery < 1) return at + ": delivery must be at least 1";
        switch (m.action) {
          case AckAction::kAck:
            break;
          case AckAction::kNack:
            if (m.delay_ms < -1 || m.delay_ms > kInvisibleMaxMs) {
              return at + ": nack delay_ms must be -1 (the retry schedule) or 0.." +
                     std::to_string(kInvisibleMaxMs);
            }
            break;
          case AckAction::kChangeInvisible:
            if (m.delay_ms < kInvisibleMinMs || m.delay_ms > kInvisibleMaxMs) {
              return at + ": invisible time must be " + std::to_string(kInvisibleMinMs) + ".." +
                     std::to_string(kInvisibleMaxMs) + " ms";
            }
            break;
          default:
            return at +
                   ": action must be 0 (ack), 1 (nack), 2 (change invisible time) or 3 (redrive)";
        }
      }
    }
  }
  return std::nullopt;
}

// Waits for the appended records of `pending` and answers: an outcome other
// than NONE becomes the partition's error (`fail` clears its answer).
template <class Response, class Fail>
void answer_when_committed(Call& call, std::vector<PartitionWaits::Target> pending,
                           Response response, Fail fail) {
  if (pending.empty() || !call.request.header.expects_response()) {
    return answer(call, response);
  }
  PartitionWaits::start(
      call.ctx.scheduler, std::move(pending),
      [](const PartitionWaits::Target& t) {
        return t.partition->acks_all_outcome(t.offset, t.leader_epoch);
      },
      Clock::now() + std::chrono::milliseconds(kQueueCommitTimeoutMs),
      [response = std::move(response), fail, reply = std::move(call.reply),
       header = call.request.header](const auto& targets, const auto& outcomes) mutable {
        for (size_t i = 0; i < targets.size(); ++i) {
          if (outcomes[i] == ErrorCode::kNone) continue;
          auto& out =
              response.topics[targets[i].topic_index].partitions[targets[i].partition_index];
          fail(out, outcomes[i]);
        }
        reply(encode(header, response));
      });
}

}  // namespace

void receive_messages(Call call) {
  std::optional<ReceiveMessagesRequest> request = decode_or_refuse<ReceiveMessagesRequest>(call);
  if (!request) return;
  if (auto why = bad_receive(*request)) {
    return call.reply(encode_error_response(call.request.header, ErrorCode::kInvalidRequest, *why));
  }
  Context& ctx = call.ctx;
  if (ctx.queue == nullptr) {
    return call.reply(encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                                            "this broker does not serve queue groups"));
  }
  if (!group_authorized(call, AclOperation::kRead, request->group)) {
    return call.reply(encode_error_response(call.request.header,
                                            ErrorCode::kGroupAuthorizationFailed,
                                            "may not read group " + request->group));
  }
  int32_t left = request->max_messages;
  std::vector<PartitionWaits::Target> pending;
  TopicGate gate(call, AclOperation::kRead);
  ReceiveMessagesResponse response = per_partition<ReceiveMessagesResponse>(
      *request, [&](const std::string& topic, const auto& p, auto& out, Slot slot) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::shared_ptr<Partition> partition =
            ctx.led_partition(topic, p.partition_index, p.current_leader_epoch, &out.error_code);
        if (!partition || left <= 0) return;
        QueueService::Received got =
            ctx.queue->receive(*partition, {.group = request->group,
                                            .max_messages = left,
                                            .max_bytes = request->max_bytes,
                                            .invisible_ms = request->invisible_ms,
                                            .key_ordered = request->key_ordered,
                                            .start = request->start});
        if (!got.status.is_ok()) {
          out.error_code = got.status.code();
          out.error_message = got.status.message();
          return;
        }
        left -= static_cast<int32_t>(got.messages.size());
        out.invisible_until_ms = got.invisible_until_ms;
        out.backlog = got.backlog;
        out.messages = std::move(got.messages);
        if (!got.records.empty()) out.records = Frame(std::move(got.records));
        if (got.last_offset >= 0) {
          pending.push_back({.partition = partition,
                             .leader_epoch = got.epoch,
                             .offset = got.last_offset,
                             .bound = WaitBound::kHighWatermark,
                             .topic_index = slot.topic,
                             .partition_index = slot.partition});
        }
      });
  answer_when_committed(call, std::move(pending), std::move(response),
                        [](auto& out, ErrorCode code) {
                          // Not known to be committed: the messages come back
                          // once their invisible time passes.
                          out.error_code = code;
                          out.error_message = "the hand-out was not committed";
                          out.messages.clear();
                          out.records = Frame();
                        });
}

void ack_messages(Call call) {
  std::optional<AckMessagesRequest> request = decode_or_refuse<AckMessagesRequest>(call);
  if (!request) return;
  if (auto why = bad_ack(*request)) {
    return call.reply(encode_error_response(call.request.header, ErrorCode::kInvalidRequest, *why));
  }
  Context& ctx = call.ctx;
  if (ctx.queue == nullptr) {
    return call.reply(encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                                            "this broker does not serve queue groups"));
  }
  if (!group_authorized(call, AclOperation::kRead, request->group)) {
    return call.reply(encode_error_response(call.request.header,
                                            ErrorCode::kGroupAuthorizationFailed,
                                            "may not read group " + request->group));
  }
  std::vector<PartitionWaits::Target> pending;
  std::vector<std::vector<size_t>> appended;
  TopicGate gate(call, AclOperation::kRead);
  AckMessagesResponse response = per_partition<AckMessagesResponse>(
      *request, [&](const std::string& topic, const auto& p, auto& out, Slot slot) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::shared_ptr<Partition> partition =
            ctx.led_partition(topic, p.partition_index, p.current_leader_epoch, &out.error_code);
        if (!partition) return;
        QueueService::Acked acked = ctx.queue->ack(*partition, request->group, p.messages);
        if (!acked.status.is_ok()) {
          out.error_code = acked.status.code();
          out.error_message = acked.status.message();
          return;
        }
        for (size_t i = 0; i < p.messages.size(); ++i) {
          out.results.push_back({.offset = p.messages[i].offset, .error_code = acked.results[i]});
        }
        if (acked.last_offset >= 0) {
          pending.push_back({.partition = partition,
                             .leader_epoch = acked.epoch,
                             .offset = acked.last_offset,
                             .bound = WaitBound::kHighWatermark,
                             .topic_index = slot.topic,
                             .partition_index = slot.partition});
        }
      });
  answer_when_committed(call, std::move(pending), std::move(response), [](auto& out, ErrorCode) {
    // Appended but not known to be committed: asked
    // again, a committed ack answers NOT_FOUND.
    for (auto& r : out.results) {
      if (r.error_code == ErrorCode::kNone) {
        r.error_code = ErrorCode::kRequestTimedOut;
      }
    }
  });
}

}  // namespace mq::broker::handlers
