// DeleteRecords: moves each partition's log start forward on its leader
// (rpk's trim-prefix, kafka-delete-records) and answers once the in-sync
// followers have moved theirs too (PartitionWaits on the low watermark), or
// at the request's timeout_ms.
#include "transport/delete_records.h"

#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/partition_waits.h"
#include "group/coordinator.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

DeleteRecordsResponse delete_all(Context& ctx, TopicGate gate, const DeleteRecordsRequest& request,
                                 std::vector<PartitionWaits::Target>* pending) {
  return per_partition<DeleteRecordsResponse>(
      request, [&](const std::string& topic, const auto& p, auto& out, Slot slot) {
        if (!gate.allows(topic)) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        if (topic == group::kOffsetsTopic) {
          out.error_code = ErrorCode::kInvalidTopic;
          out.error_message = "__consumer_offsets is internal: the group coordinator owns it";
          return;
        }
        ErrorCode error = ErrorCode::kNone;
        std::shared_ptr<Partition> partition =
            ctx.find_partition(topic, p.partition_index, false, &error);
        if (!partition) {
          out.error_code = error;
          return;
        }
        int32_t epoch = 0;
        Result<int64_t> start = partition->delete_records(p.offset, &epoch);
        if (!start.is_ok()) {
          set_status(out, start.status());
          return;
        }
        out.low_watermark = *start;
        if (!partition->delete_outcome(*start, epoch)) {
          pending->push_back({.partition = partition,
                              .leader_epoch = epoch,
                              .offset = *start - 1,  // woken once the low watermark passes it
                              .bound = WaitBound::kLowWatermark,
                              .topic_index = slot.topic,
                              .partition_index = slot.partition});
        }
      });
}

}  // namespace

void delete_records(Call call) {
  std::optional<DeleteRecordsRequest> request = decode_or_refuse<DeleteRecordsRequest>(call);
  if (!request) return;
  std::vector<PartitionWaits::Target> pending;
  DeleteRecordsResponse response =
      delete_all(call.ctx, TopicGate(call, AclOperation::kDelete), *request, &pending);
  if (pending.empty()) return answer(call, response);
  auto deadline = Clock::now() + std::chrono::milliseconds(std::max(request->timeout_ms, 0));
  PartitionWaits::start(
      call.ctx.scheduler, std::move(pending),
      [](const PartitionWaits::Target& t) {
        return t.partition->delete_outcome(t.offset + 1, t.leader_epoch);
      },
      deadline,
      [response = std::move(response), reply = std::move(call.reply), header = call.request.header](
          const auto& targets, const auto& outcomes) mutable {
        for (size_t i = 0; i < targets.size(); ++i) {
          const PartitionWaits::Target& t = targets[i];
          auto& out = response.topics[t.topic_index].partitions[t.partition_index];
          out.low_watermark = t.partition->low_watermark();
          if (outcomes[i] == ErrorCode::kNone) continue;
          out.error_code = outcomes[i];
          std::string where = t.partition->topic() + "-" + std::to_string(t.partition->index());
          out.error_message =
              outcomes[i] == ErrorCode::kRequestTimedOut
                  ? where + ": deleted on the leader below " + std::to_string(t.offset + 1) +
                        ", but not every in-sync follower confirmed in time (low watermark " +
                        std::to_string(t.partition->low_watermark()) + ")"
                  : where + ": leadership moved before every in-sync follower confirmed";
        }
        reply(encode(header, response));
      });
}

}  // namespace mq::broker::handlers
