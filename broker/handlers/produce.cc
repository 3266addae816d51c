// Produce: appends each partition's record batches as the leader; answers at
// once (acks 0/1, or a leader alone in its ISR) or once acks=all batches are
// replicated (PartitionWaits). Topics are auto-created when allowed.
#include "transport/produce.h"

#include "broker/broker_metrics.h"
#include "broker/cluster_view.h"
#include "broker/disk_monitor.h"
#include "broker/handlers/handlers.h"
#include "broker/partition.h"
#include "broker/partition_waits.h"
#include "broker/replica_manager.h"
#include "group/coordinator.h"
#include "store/record_batch.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

// INVALID_PRODUCER_EPOCH if a batch's producer epoch is older than the id's
// current one (InitProducerId bumped it since), even on a partition that has
// not seen the newer epoch yet.
Status check_producer_epochs(const ReplicaManager& replicas, std::span<const uint8_t> batches) {
  BatchCursor cursor(batches);
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    Result<BatchHeader> h = parse_batch_header(batch);
    if (!h.is_ok() || !h->is_idempotent()) continue;  // the log's checks answer these
    int16_t current = replicas.producer_epoch(h->producer_id);
    if (h->producer_epoch < current) {
      return Status(ErrorCode::kInvalidProducerEpoch,
                    "producer " + std::to_string(h->producer_id) + " epoch " +
                        std::to_string(h->producer_epoch) + " is fenced: InitProducerId bumped " +
                        "it to epoch " + std::to_string(current));
    }
  }
  return Status::ok();
}

// Appends one partition's batches into `out`; an acks=all append not yet
// replicated goes to `pending`.
void append(Context& ctx, const ProduceRequest& produce, const std::string& topic, bool may_create,
            const ProduceRequest::Topic::Partition& p, ProduceResponse::Topic::Partition& out,
            std::optional<PartitionWaits::Target>* pending) {
  if (topic == group::kOffsetsTopic) {
    out.error_code = ErrorCode::kInvalidTopic;
    out.error_message = "__consumer_offsets is internal: only the group coordinator writes it";
    return;
  }
  if (ctx.disk != nullptr && ctx.disk->full()) {
    out.error_code = ErrorCode::kDiskFull;
    out.error_message = ctx.disk->why();
    ctx.disk->note_refused();
    return;
  }
  ErrorCode error = ErrorCode::kNone;
  std::shared_ptr<Partition> partition =
      ctx.find_partition(topic, p.partition_index, may_create, &error);
  if (!partition) {
    out.error_code = error;
    return;
  }
  if (Status fenced = check_producer_epochs(ctx.replicas, p.records.bytes()); !fenced.is_ok()) {
    set_status(out, fenced);
    return;
  }
  // The log stamps offsets and epochs into the batches it appends, so it
  // needs its own copy of the bytes (one memcpy; nothing is re-encoded).
  std::string batches(p.records.as_string_view());
  int32_t epoch = 0;
  Result<AppendResult> appended =
      partition->append_as_leader(as_writable_bytes(batches), produce.acks, &epoch);
  out.log_start_offset = partition->log().log_start_offset();
  if (!appended.is_ok()) {
    set_status(out, appended.status());
    if (appended.code() == ErrorCode::kDiskFull && ctx.disk != nullptr) ctx.disk->note_enospc();
    return;
  }
  out.base_offset = appended->base_offset;
  out.log_append_time_ms = appended->log_append_time;
  for (const DuplicateRecord& d : appended->duplicates) {
    out.duplicates.push_back({.index = d.index, .offset = d.offset});
  }
  if (!appended->duplicate) {
    ctx.metrics.add_produced(topic, batches.size(), static_cast<uint64_t>(appended->record_count));
    if (!appended->duplicates.empty()) {
      ctx.metrics.add_duplicates(topic, appended->duplicates.size());
    }
  }
  if (produce.acks != kAcksAll) return;
  // A leader alone in its ISR has its high watermark past the batch already.
  std::optional<ErrorCode> outcome = partition->acks_all_outcome(appended->last_offset, epoch);
  if (!outcome) {
    *pending = PartitionWaits::Target{.partition = partition,
                                      .leader_epoch = epoch,
                                      .offset = appended->last_offset,
                                      .bound = WaitBound::kHighWatermark};
  } else if (*outcome != ErrorCode::kNone) {
    out.error_code = *outcome;
    out.error_message = "leadership or the ISR changed during the append";
    out.base_offset = -1;
  }
}

// An acks=all batch's answer once it settled: base_offset -1 and why, unless replicated.
void fill_acks_all_error(ProduceResponse::Topic::Partition& out, const PartitionWaits::Target& t,
                         ErrorCode code) {
  if (code == ErrorCode::kNone) return;
  std::string where = t.partition->topic() + "-" + std::to_string(t.partition->index()) +
                      " offset " + std::to_string(t.offset);
  out.error_code = code;
  out.base_offset = -1;
  switch (code) {
    case ErrorCode::kRequestTimedOut:
      out.error_message =
          where + " was appended but not replicated to the ISR in time (high watermark " +
          std::to_string(t.partition->high_watermark()) + "); the outcome is unknown";
      break;
    case ErrorCode::kNotEnoughReplicasAfterAppend:
      out.error_message = where +
                          " was replicated, but the ISR is smaller than min.insync.replicas " +
                          std::to_string(t.partition->min_insync_replicas());
      break;
    case ErrorCode::kNotLeader:
      out.error_message = where + ": leadership moved before it was replicated";
      break;
    default:
      out.error_message = where + " failed";
      break;
  }
}

// A partition refused for leadership names who leads it in this broker's
// metadata (v1's current_leader_*), so the client retries there at once.
void name_current_leaders(const ClusterView* cluster, ProduceResponse& response) {
  if (cluster == nullptr) return;
  for (auto& topic : response.topics) {
    for (auto& p : topic.partitions) {
      if (p.error_code != ErrorCode::kNotLeader && p.error_code != ErrorCode::kLeaderNotAvailable) {
        continue;
      }
      std::optional<ClusterView::Leader> leader = cluster->leader_of(topic.name, p.partition_index);
      if (leader && leader->id >= 0) {
        p.current_leader_id = leader->id;
        p.current_leader_epoch = leader->epoch;
      }
    }
  }
}

ProduceResponse append_all(const Call& call, const ProduceRequest& produce,
                           std::vector<PartitionWaits::Target>* pending) {
  bool valid_acks =
      produce.acks == kAcksAll || produce.acks == kAcksLeader || produce.acks == kAcksNone;
  // Asked once per topic (its partitions are listed together).
  const std::string* checked = nullptr;
  bool allowed = false;
  bool may_create = false;
  return per_partition<ProduceResponse>(
      produce, [&](const std::string& topic, const auto& p, auto& out, Slot slot) {
        if (!valid_acks) {
          out.error_code = ErrorCode::kInvalidRequiredAcks;
          out.error_message = "acks must be -1, 0 or 1";
          return;
        }
        if (checked == nullptr || *checked != topic) {
          checked = &topic;
          allowed = topic_authorized(call, AclOperation::kWrite, topic);
          // The create check only for a topic this broker lacks: the
          // common case (it exists) asks the ACLs once, not three times.
          may_create = allowed && !call.ctx.replicas.topic(topic) && may_auto_create(call, topic);
        }
        if (!allowed) {
          out.error_code = ErrorCode::kTopicAuthorizationFailed;
          return;
        }
        std::optional<PartitionWaits::Target> waiting;
        append(call.ctx, produce, topic, may_create, p, out, &waiting);
        if (waiting) {
          waiting->topic_index = slot.topic;
          waiting->partition_index = slot.partition;
          pending->push_back(std::move(*waiting));
        }
      });
}

}  // namespace

void produce(Call call) {
  std::optional<ProduceRequest> request = decode_or_refuse<ProduceRequest>(call);
  if (!request) return;
  std::vector<PartitionWaits::Target> pending;
  ProduceResponse response = append_all(call, *request, &pending);
  if (pending.empty() || !call.request.header.expects_response()) {
    name_current_leaders(call.ctx.cluster, response);
    return answer(call, response);
  }
  // acks=all with batches not yet replicated: answered by a wake-up or the
  // deadline, on a worker, without holding this one.
  auto deadline = Clock::now() + std::chrono::milliseconds(std::max(request->timeout_ms, 0));
  PartitionWaits::start(
      call.ctx.scheduler, std::move(pending),
      [](const PartitionWaits::Target& t) {
        return t.partition->acks_all_outcome(t.offset, t.leader_epoch);
      },
      deadline,
      [response = std::move(response), reply = std::move(call.reply), header = call.request.header,
       cluster = call.ctx.cluster](const auto& targets, const auto& outcomes) mutable {
        for (size_t i = 0; i < targets.size(); ++i) {
          fill_acks_all_error(
              response.topics[targets[i].topic_index].partitions[targets[i].partition_index],
              targets[i], outcomes[i]);
        }
        name_current_leaders(cluster, response);
        reply(encode(header, response));
      });
}

}  // namespace mq::broker::handlers
