// ListOffsets: a partition's earliest offset (-2), its high watermark (-1),
// or the first offset at or after a timestamp; -1 when no committed record is
// that late (Kafka's answer).
#include "transport/list_offsets.h"

#include "broker/handlers/handlers.h"
#include "broker/partition.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

ListOffsetsResponse list(Context& ctx, TopicGate gate, const ListOffsetsRequest& request) {
  return per_partition<ListOffsetsResponse>(
      request, [&](const std::string& topic, const auto& p, auto& out) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        ErrorCode error = ErrorCode::kNone;
        std::shared_ptr<Partition> partition =
            ctx.find_partition(topic, p.partition_index, false, &error);
        if (!partition) {
          out.error_code = error;
          return;
        }
        out.leader_epoch = partition->leader_epoch();
        constexpr int64_t kLatest = -1, kEarliest = -2;
        if (p.timestamp == kEarliest) {
          out.offset = partition->log().log_start_offset();
        } else if (p.timestamp == kLatest) {
          out.offset = partition->high_watermark();
        } else if (p.timestamp < 0) {
          out.error_code = ErrorCode::kInvalidRequest;
        } else {
          Result<std::optional<int64_t>> found = partition->log().offset_for_timestamp(p.timestamp);
          if (!found.is_ok()) {
            out.error_code = found.code();
          } else if (*found && **found < partition->high_watermark()) {
            out.offset = **found;
            out.timestamp = p.timestamp;
          } else {
            out.offset = -1;
          }
        }
      });
}

}  // namespace

void list_offsets(Call call) {
  serve<ListOffsetsRequest>(call, [&call](Context& ctx, const ListOffsetsRequest& request) {
    return list(ctx, TopicGate(call, AclOperation::kDescribe), request);
  });
}

}  // namespace mq::broker::handlers
