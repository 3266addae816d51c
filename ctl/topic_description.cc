// The JSON document and the table of `topic describe`.
#include "ctl/topic_description.h"

#include "ctl/commands.h"
#include "ctl/output.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

// The offset read for `tp`, or why not (a partition missing from `offsets` was not asked for).
Status offset_status(const PartitionOffsets& offsets, const client::TopicPartition& tp) {
  auto it = offsets.find(tp);
  if (it == offsets.end()) return Status(ErrorCode::kUnknown, tp.to_string() + " was not read");
  return it->second.status();
}

json offset_json(const PartitionOffsets& offsets, const client::TopicPartition& tp) {
  auto it = offsets.find(tp);
  if (it == offsets.end() || !it->second.is_ok()) return nullptr;
  return it->second->offset;
}

}  // namespace

json topic_description_json(const client::TopicInfo& topic, const PartitionOffsets& starts,
                            const PartitionOffsets& ends,
                            const std::optional<std::vector<client::ConfigEntry>>& configs) {
  json partitions = json::array();
  for (const client::PartitionInfo& p : topic.partitions) {
    client::TopicPartition tp{topic.name, p.partition};
    partitions.push_back({{"partition", p.partition},
                          {"leader", p.leader_id >= 0 ? json(p.leader_id) : json(nullptr)},
                          {"leader_epoch", p.leader_epoch},
                          {"replicas", p.replicas},
                          {"isr", p.isr},
                          {"offline_replicas", p.offline_replicas},
                          {"log_start_offset", offset_json(starts, tp)},
                          {"high_watermark", offset_json(ends, tp)}});
  }
  return {{"name", topic.name},
          {"internal", topic.is_internal},
          {"partitions", partitions},
          {"configs", configs ? config_entries_json(*configs) : json(nullptr)}};
}

std::string unread_offsets_summary(const client::TopicInfo& topic, const PartitionOffsets& starts,
                                   const PartitionOffsets& ends) {
  std::string causes;
  size_t unread = 0;
  for (const client::PartitionInfo& p : topic.partitions) {
    client::TopicPartition tp{topic.name, p.partition};
    Status start = offset_status(starts, tp);
    Status end = offset_status(ends, tp);
    if (start.is_ok() && end.is_ok()) continue;
    ++unread;
    const Status& why = start.is_ok() ? end : start;
    causes += (causes.empty() ? "" : "; ") + why.message() + " (" +
              std::string(error_name(why.code())) + ")";
  }
  if (unread == 0) return "";
  return "offsets of " + std::to_string(unread) + " of " + std::to_string(topic.partitions.size()) +
         " partitions could not be read: " + causes;
}

std::string topic_descriptions_table(const json& topics) {
  std::string out;
  for (const auto& topic : topics) {
    if (!out.empty()) out += "\n";
    Table summary({"TOPIC", cell(topic["name"])});
    summary.add_row({"PARTITIONS", std::to_string(topic["partitions"].size())});
    summary.add_row({"INTERNAL", cell(topic["internal"])});
    out += summary.render() + "\n";
    Table partitions({"PARTITION", "LEADER", "EPOCH", "REPLICAS", "ISR", "OFFLINE", "LOG-START",
                      "HIGH-WATERMARK"});
    for (const auto& p : topic["partitions"]) {
      partitions.add_row(
          {cell(p["partition"]), p["leader"].is_null() ? std::string("none") : cell(p["leader"]),
           cell(p["leader_epoch"]), cell(p["replicas"]), cell(p["isr"]),
           cell(p["offline_replicas"]), cell(p["log_start_offset"]), cell(p["high_watermark"])});
    }
    out += partitions.render() + "\n";
    out += topic["configs"].is_null() ? "(the configs could not be read)\n"
                                      : config_entries_table(topic["configs"]);
  }
  return out;
}

}  // namespace mq::ctl
