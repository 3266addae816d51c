// OffsetForLeaderEpoch: where a leader epoch ends in the leader's log, for a
// follower truncating a divergent tail (or a consumer checking its position
// after a leader change: it sees only committed offsets).
#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/replica_manager.h"
#include "transport/principals.h"
#include "transport/replication.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

OffsetForLeaderEpochResponse end_offsets(Context& ctx, TopicGate gate,
                                         const OffsetForLeaderEpochRequest& request) {
  return per_partition<OffsetForLeaderEpochResponse>(
      request, [&](const std::string& topic, const auto& p, auto& out) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::shared_ptr<Partition> partition = ctx.replicas.partition(topic, p.partition_index);
        if (!partition) {
          out.error_code = ErrorCode::kUnknownTopicOrPartition;
          return;
        }
        // Only the leader answers, in the epoch the requester knows (when given).
        out.error_code = partition->check_leader(p.current_leader_epoch);
        if (out.error_code != ErrorCode::kNone) return;
        int64_t end = request.replica_id >= 0 ? partition->log().log_end_offset()
                                              : partition->high_watermark();
        std::optional<EpochEntry> entry =
            partition->log().leader_epochs().end_offset_for(p.leader_epoch, end);
        if (entry) {
          out.leader_epoch = entry->epoch;
          out.end_offset = std::min(entry->start_offset, end);
        }
      });
}

}  // namespace

void offset_for_leader_epoch(Call call) {
  std::optional<OffsetForLeaderEpochRequest> request =
      decode_or_refuse<OffsetForLeaderEpochRequest>(call);
  if (!request) return;
  // A follower's answer reaches past the high watermark: with authentication
  // on, only broker N asks as replica N (as for Fetch).
  if (request->replica_id >= 0 && !call.request.principal.empty() &&
      call.request.principal != broker_principal(request->replica_id)) {
    return call.reply(encode_error_response(
        call.request.header, ErrorCode::kClusterAuthorizationFailed,
        call.request.principal + " may not ask as replica " + std::to_string(request->replica_id) +
            " (only " + broker_principal(request->replica_id) + " may)"));
  }
  answer(call, end_offsets(call.ctx, TopicGate(call, AclOperation::kDescribe), *request));
}

}  // namespace mq::broker::handlers
