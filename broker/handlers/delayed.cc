// ListDelayed and CancelDelayed: a partition leader's pending delayed
// messages, and cancelling them (broker/delayed_delivery.h). A cancel waits
// on the worker thread until its record is committed, as an acks=all
// produce of one record would.
#include "transport/delayed.h"

#include "broker/delayed_delivery.h"
#include "broker/handlers/handlers.h"
#include "broker/partition.h"

namespace mq::broker::handlers {

using namespace mq::transport;

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
  answer(call, per_partition<ListDelayedResponse>(
                   *request, [&](const std::string& topic, const auto& p, auto& out) {
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
  answer(call, per_partition<CancelDelayedResponse>(*request, [&](const std::string& topic,
                                                                  const auto& p, auto& out) {
           std::shared_ptr<Partition> partition =
               ctx.led_partition(topic, p.partition_index, p.current_leader_epoch, &out.error_code);
           if (!partition) return;
           std::vector<Status> cancelled = ctx.delayed->cancel(*partition, p.offsets);
           for (size_t i = 0; i < p.offsets.size(); ++i) {
             out.results.push_back({.offset = p.offsets[i], .error_code = cancelled[i].code()});
           }
         }));
}

}  // namespace mq::broker::handlers
