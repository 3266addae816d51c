// FindMessages: the latest records with a key in each partition, answered by
// its leader from committed records only (a consumer could read them all), in
// offset order, each as an uncompressed batch of its own (Log::find_by_key).
#include "transport/find_messages.h"

#include "broker/handlers/handlers.h"
#include "broker/partition.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

FindMessagesResponse find_all(Context& ctx, TopicGate gate, const FindMessagesRequest& request) {
  const std::string_view key(reinterpret_cast<const char*>(request.key.data()), request.key.size());
  const auto limit = static_cast<size_t>(request.max_messages);
  return per_partition<FindMessagesResponse>(
      request, [&](const std::string& topic, const auto& p, auto& out) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::shared_ptr<Partition> partition =
            ctx.led_partition(topic, p.partition_index, p.current_leader_epoch, &out.error_code);
        if (!partition) return;
        out.high_watermark = partition->high_watermark();
        Result<KeyLookup> found = partition->log().find_by_key(key, out.high_watermark, limit);
        if (!found.is_ok()) {
          out.error_code = found.code();
          return;
        }
        out.more = found->more;
        out.candidates = static_cast<int64_t>(found->candidates);
        if (found->batches.empty()) return;
        auto owner = std::make_shared<std::string>(std::move(found->batches));
        out.records = Frame(as_bytes(*owner), owner);
      });
}

}  // namespace

void find_messages(Call call) {
  std::optional<FindMessagesRequest> request = decode_or_refuse<FindMessagesRequest>(call);
  if (!request) return;
  if (request->max_messages < kFindMessagesMin || request->max_messages > kFindMessagesMax) {
    return call.reply(encode_error_response(
        call.request.header, ErrorCode::kInvalidRequest,
        "max_messages " + std::to_string(request->max_messages) + " is outside " +
            std::to_string(kFindMessagesMin) + ".." + std::to_string(kFindMessagesMax)));
  }
  answer(call, find_all(call.ctx, TopicGate(call, AclOperation::kRead), *request));
}

}  // namespace mq::broker::handlers
