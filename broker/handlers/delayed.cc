// ListDelayed and CancelDelayed: a partition leader's pending delayed
// messages, and cancelling them (broker/delayed_delivery.h). A cancel is
// answered once its records are committed, as an acks=all produce is
// (PartitionWaits: no worker is held meanwhile).
#include "transport/delayed.h"

#include "broker/delayed_delivery.h"
#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/partition_waits.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

// How long a cancel waits for its records to be committed.
constexpr int64_t kCancelCommitTimeoutMs = 5000;

}  // namespace

void list_delayed(Call call) {
  std::optional<ListDelayedRequest> request = decode_or_refuse<ListDelayedRequest>(call);
  if (!request) return;
  if (request->max_messages < kListDelayedMin || request->max_messages > kListDelayedMax) {
    return call.reply(encode_error_response(
        call.request.header, ErrorCode::kInvalidRequest,
        "max_messages " + std::to_string(request->max_messages) + " is outside " +
            std::to_string(kListDelayedMin) + ".." + std::to_string(kListDelayedMax)));
  }
  const auto limit = static_cast<size_t>(request->max_messages);
  Context& ctx = call.ctx;
  TopicGate gate(call, AclOperation::kDescribe);
  answer(call, per_partition<ListDelayedResponse>(
                   *request, [&](const std::string& topic, const auto& p, auto& out) {
                     if (!gate.allows(topic)) {
                       out.error_code = ErrorCode::kTopicAuthorizationFailed;
                       return;
                     }
                     std::shared_ptr<Partition> partition = ctx.led_partition(
                         topic, p.partition_index, p.current_leader_epoch, &out.error_code);
                     if (!partition) return;
                     out.pending = static_cast<int64_t>(partition->log().scheduled_count());
                     for (const ScheduleIndex::Entry& e : partition->log().list_scheduled(limit)) {
                       out.messages.push_back({.offset = e.offset, .deliver_at_ms = e.deliver_at});
                     }
                   }));
}

void cancel_delayed(Call call) {
  std::optional<CancelDelayedRequest> request = decode_or_refuse<CancelDelayedRequest>(call);
  if (!request) return;
  for (const auto& topic : request->topics) {
    for (const auto& p : topic.partitions) {
      if (p.offsets.empty() || p.offsets.size() > kCancelDelayedMax) {
        return call.reply(
            encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                                  topic.name + "-" + std::to_string(p.partition_index) + ": " +
                                      std::to_string(p.offsets.size()) + " offsets (1.." +
                                      std::to_string(kCancelDelayedMax) + " per partition)"));
      }
    }
  }
  Context& ctx = call.ctx;
  if (ctx.delayed == nullptr) {
    return call.reply(encode_error_response(call.request.header, ErrorCode::kInvalidRequest,
                                            "this broker does not deliver delayed messages"));
  }
  std::vector<PartitionWaits::Target> pending;
  std::vector<std::vector<size_t>> appended;  // per pending target: its offsets in the batch
  TopicGate gate(call, AclOperation::kWrite);
  CancelDelayedResponse response = per_partition<CancelDelayedResponse>(
      *request, [&](const std::string& topic, const auto& p, auto& out, Slot slot) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::shared_ptr<Partition> partition =
            ctx.led_partition(topic, p.partition_index, p.current_leader_epoch, &out.error_code);
        if (!partition) return;
        DelayedDelivery::CancelAppend cancelled =
            ctx.delayed->append_cancels(*partition, p.offsets);
        for (size_t i = 0; i < p.offsets.size(); ++i) {
          out.results.push_back(
              {.offset = p.offsets[i], .error_code = cancelled.results[i].code()});
        }
        if (cancelled.appended_for.empty()) return;
        pending.push_back({.partition = partition,
                           .leader_epoch = cancelled.epoch,
                           .offset = cancelled.last_offset,
                           .bound = WaitBound::kHighWatermark,
                           .topic_index = slot.topic,
                           .partition_index = slot.partition});
        appended.push_back(std::move(cancelled.appended_for));
      });
  if (pending.empty() || !call.request.header.expects_response()) return answer(call, response);
  // Answered once the cancel records are committed, as acks=all is (a cancel
  // the next leader lacks would let the message out), without holding a
  // worker meanwhile. Any other outcome after the append is
  // REQUEST_TIMED_OUT: the records are in the log, committed or not, and a
  // new leader asked again would answer NOT_FOUND either way.
  PartitionWaits::start(
      ctx.scheduler, std::move(pending),
      [](const PartitionWaits::Target& t) {
        return t.partition->acks_all_outcome(t.offset, t.leader_epoch);
      },
      Clock::now() + std::chrono::milliseconds(kCancelCommitTimeoutMs),
      [response = std::move(response), appended = std::move(appended),
       reply = std::move(call.reply),
       header = call.request.header](const auto& targets, const auto& outcomes) mutable {
        for (size_t i = 0; i < targets.size(); ++i) {
          auto& results = response.topics[targets[i].topic_index]
                              .partitions[targets[i].partition_index]
                              .results;
          const ErrorCode code =
              outcomes[i] == ErrorCode::kNone ? ErrorCode::kNone : ErrorCode::kRequestTimedOut;
          for (size_t k : appended[i]) results[k].error_code = code;
        }
        reply(encode(header, response));
      });
}

}  // namespace mq::broker::handlers
