// mqctl log dump's checkpoint decoding (docs/storage-format.md §6): each
// file read by the loader the log itself uses, so a file reported clean here
// is one the log would accept.
#include <map>

#include "ctl/log_dump.h"
#include "store/cleaner_checkpoint.h"
#include "store/dedup_window.h"
#include "store/leader_epoch_cache.h"
#include "store/log.h"
#include "store/producer_state.h"
#include "store/queue_state.h"
#include "store/schedule_index.h"

namespace mq::ctl {

Result<nlohmann::ordered_json> decode_log_checkpoint(std::string_view name,
                                                     const std::string& path) {
  using json = nlohmann::ordered_json;
  if (name == "log-state.checkpoint") {
    MQ_ASSIGN_OR_RETURN(LogState state, read_log_state(path));
    return json{{"recovery_point", state.recovery_point},
                {"log_start_offset", state.log_start_offset}};
  }
  if (name == "leader-epoch-checkpoint") {
    LeaderEpochCache cache(path);
    MQ_RETURN_IF_ERROR(cache.load());
    json epochs = json::array();
    for (const EpochEntry& e : cache.entries()) {
      epochs.push_back({{"epoch", e.epoch}, {"start_offset", e.start_offset}});
    }
    return json{{"epochs", std::move(epochs)}};
  }
  if (name == "producer-state.checkpoint") {
    ProducerStateTable table;
    MQ_ASSIGN_OR_RETURN(int64_t offset, table.load_snapshot(path));
    std::map<int64_t, const ProducerEntry*> by_id;
    for (const auto& [id, entry] : table.producers()) by_id[id] = &entry;
    json producers = json::array();
    for (const auto& [id, entry] : by_id) {
      json batches = json::array();
      for (const ProducerBatch& b : entry->batches) {
        batches.push_back({{"first_sequence", b.first_sequence},
                           {"last_sequence", b.last_sequence},
                           {"base_offset", b.base_offset},
                           {"last_offset", b.last_offset}});
      }
      producers.push_back({{"producer_id", id},
                           {"epoch", entry->epoch},
                           {"last_timestamp", entry->last_timestamp},
                           {"batches", std::move(batches)}});
    }
    return json{{"offset", offset}, {"producers", std::move(producers)}};
  }
  if (name == "dedup-window.checkpoint") {
    DedupWindow window;
    MQ_ASSIGN_OR_RETURN(DedupWindow::Covered covered, window.load_snapshot(path));
    json ids = json::array();
    for (const DedupEntry& e : window.entries()) {
      ids.push_back({{"id", printable_text(e.id)}, {"offset", e.offset}, {"time_ms", e.time_ms}});
    }
    return json{{"offset", covered.offset}, {"epoch", covered.epoch}, {"ids", std::move(ids)}};
  }
  if (name == "delayed-schedule.checkpoint") {
    ScheduleIndex schedule;
    MQ_ASSIGN_OR_RETURN(ScheduleIndex::Covered covered, schedule.load_snapshot(path));
    json pending = json::array();
    for (const ScheduleIndex::Entry& e : schedule.list(schedule.size())) {
      pending.push_back({{"offset", e.offset}, {"deliver_at_ms", e.deliver_at}});
    }
    return json{
        {"offset", covered.offset}, {"epoch", covered.epoch}, {"pending", std::move(pending)}};
  }
  if (name == "queue-state.checkpoint") {
    QueueState state;
    MQ_ASSIGN_OR_RETURN(QueueState::Covered covered, state.load_snapshot(path));
    json groups = json::array();
    for (const auto& [id, g] : state.groups()) {
      json entries = json::array();
      for (const auto& [offset, e] : g.entries()) {
        entries.push_back({{"offset", offset},
                           {"deliveries", e.deliveries},
                           {"invisible_until_ms", e.invisible_until},
                           {"available_at_ms", e.available_at},
                           {"key_hash", e.key_hash},
                           {"delivered_at_ms", e.delivered_at}});
      }
      groups.push_back(
          {{"group", printable_text(id)}, {"next", g.next}, {"entries", std::move(entries)}});
    }
    return json{
        {"offset", covered.offset}, {"epoch", covered.epoch}, {"groups", std::move(groups)}};
  }
  if (name == "cleaner.checkpoint") {
    CleanerCheckpoint checkpoint;
    MQ_RETURN_IF_ERROR(checkpoint.load(path));
    json passes = json::array();
    for (const CleanerCheckpoint::Pass& pass : checkpoint.passes()) {
      passes.push_back({{"end_offset", pass.end_offset}, {"time_ms", pass.time_ms}});
    }
    return json{{"first_dirty_offset", checkpoint.first_dirty_offset()},
                {"passes", std::move(passes)}};
  }
  return Status(ErrorCode::kInvalidRequest, "not a checkpoint");
}

}  // namespace mq::ctl
