// Reassignment plans: parsing, printing, generating.
#include "ctl/reassignment_plan.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

Status bad_plan(const std::string& where, const std::string& what) {
  return Status(ErrorCode::kInvalidRequest,
                "plan: " + (where.empty() ? what : where + ": " + what));
}

bool is_int32(const json& value) {
  if (!value.is_number_integer()) return false;
  auto v = value.get<int64_t>();
  return v >= 0 && v <= INT32_MAX;
}

}  // namespace

Result<std::vector<PlanEntry>> parse_plan(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return bad_plan("", "not valid JSON");
  if (!doc.is_object()) return bad_plan("", "the top level must be an object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "version" && key != "partitions") {
      return bad_plan("", "unknown field \"" + key + "\" (expected version and partitions)");
    }
  }
  if (!doc.contains("version")) return bad_plan("", "\"version\" is missing (use 1)");
  if (doc["version"] != 1) return bad_plan("version", "must be 1, not " + doc["version"].dump());
  if (!doc.contains("partitions") || !doc["partitions"].is_array()) {
    return bad_plan("", "\"partitions\" must be an array");
  }
  std::vector<PlanEntry> plan;
  std::set<std::pair<std::string, int32_t>> seen;
  const json& partitions = doc["partitions"];
  for (size_t i = 0; i < partitions.size(); ++i) {
    std::string where = "partitions[" + std::to_string(i) + "]";
    const json& item = partitions[i];
    if (!item.is_object()) return bad_plan(where, "must be an object");
    for (const auto& [key, value] : item.items()) {
      if (key == "topic" || key == "partition" || key == "replicas") continue;
      if (key == "log_dirs") {
        bool all_any = value.is_array() && std::all_of(value.begin(), value.end(),
                                                       [](const json& d) { return d == "any"; });
        if (all_any) continue;
        return bad_plan(where + ".log_dirs", "only \"any\" is supported (mq places logs itself)");
      }
      return bad_plan(where, "unknown field \"" + key + "\"");
    }
    PlanEntry entry;
    if (!item.contains("topic") || !item["topic"].is_string() ||
        item["topic"].get<std::string>().empty()) {
      return bad_plan(where + ".topic", "must be a topic name");
    }
    entry.topic = item["topic"].get<std::string>();
    if (!item.contains("partition") || !is_int32(item["partition"])) {
      return bad_plan(where + ".partition", "must be a partition number >= 0");
    }
    entry.partition = item["partition"].get<int32_t>();
    if (!item.contains("replicas") || !item["replicas"].is_array() || item["replicas"].empty()) {
      return bad_plan(where + ".replicas", "must be a non-empty array of broker ids");
    }
    std::set<int32_t> brokers;
    for (const json& id : item["replicas"]) {
      if (!is_int32(id)) {
        return bad_plan(where + ".replicas", id.dump() + " is not a broker id (an integer >= 0)");
      }
      auto broker = id.get<int32_t>();
      if (!brokers.insert(broker).second) {
        return bad_plan(where + ".replicas",
                        "broker " + std::to_string(broker) + " is listed twice");
      }
      entry.replicas.push_back(broker);
    }
    if (!seen.insert({entry.topic, entry.partition}).second) {
      return bad_plan(where, entry.topic + "-" + std::to_string(entry.partition) +
                                 " is already listed earlier");
    }
    plan.push_back(std::move(entry));
  }
  return plan;
}

std::string plan_to_json(const std::vector<PlanEntry>& plan) {
  json partitions = json::array();
  for (const PlanEntry& e : plan) {
    partitions.push_back(
        {{"topic", e.topic}, {"partition", e.partition}, {"replicas", e.replicas}});
  }
  json doc = {{"version", 1}, {"partitions", partitions}};
  return doc.dump(2) + "\n";
}

Result<std::vector<PlanEntry>> generate_plan(const std::vector<PlanEntry>& current,
                                             const std::vector<int32_t>& brokers,
                                             std::optional<int32_t> replication_factor) {
  if (brokers.empty()) return Status(ErrorCode::kInvalidRequest, "no brokers to move onto");
  if (replication_factor && *replication_factor < 1) {
    return Status(ErrorCode::kInvalidReplicationFactor, "the replication factor must be >= 1");
  }
  auto target_size = [&](const PlanEntry& p) {
    return replication_factor ? static_cast<size_t>(*replication_factor) : p.replicas.size();
  };
  std::set<int32_t> allowed;
  for (int32_t id : brokers) {
    if (!allowed.insert(id).second) {
      return Status(ErrorCode::kInvalidRequest,
                    "broker " + std::to_string(id) + " is listed twice");
    }
  }
  for (const PlanEntry& p : current) {
    if (target_size(p) > allowed.size()) {
      return Status(ErrorCode::kInvalidReplicaAssignment,
                    p.topic + "-" + std::to_string(p.partition) + " needs " +
                        std::to_string(target_size(p)) + " replicas but only " +
                        std::to_string(allowed.size()) + " brokers are given");
    }
  }
  // Replicas each broker keeps, and preferred leaderships it keeps.
  std::map<int32_t, int64_t> load, leads;
  for (int32_t id : allowed) load[id] = 0, leads[id] = 0;
  for (const PlanEntry& p : current) {
    for (int32_t id : p.replicas) {
      if (allowed.contains(id)) ++load[id];
    }
    if (!p.replicas.empty() && allowed.contains(p.replicas.front())) ++leads[p.replicas.front()];
  }
  std::vector<PlanEntry> next = current;
  for (PlanEntry& p : next) {
    std::vector<int32_t> kept;
    for (int32_t id : p.replicas) {
      if (allowed.contains(id)) kept.push_back(id);
    }
    size_t target = target_size(p);
    if (kept.size() == p.replicas.size() && kept.size() == target) continue;  // stays
    bool lost_preferred = !allowed.contains(p.replicas.front());
    while (kept.size() > target) {  // a lower replication factor: the last replicas go
      --load[kept.back()];
      kept.pop_back();
    }
    while (kept.size() < target) {
      int32_t best = -1;
      for (const auto& [id, n] : load) {
        if (std::find(kept.begin(), kept.end(), id) != kept.end()) continue;
        if (best < 0 || n < load[best]) best = id;
      }
      kept.push_back(best);
      ++load[best];
    }
    if (lost_preferred) {
      auto first = std::min_element(kept.begin(), kept.end(), [&](int32_t a, int32_t b) {
        return leads[a] != leads[b] ? leads[a] < leads[b] : a < b;
      });
      std::rotate(kept.begin(), first, first + 1);
      ++leads[kept.front()];
    }
    p.replicas = std::move(kept);
  }
  // Even out: a replica moves from the most to the least loaded broker while
  // they differ by more than one (a broker just added starts empty), then
  // preferred leaderships swap within replica lists the same way.
  auto extreme = [](const std::map<int32_t, int64_t>& counts, bool most) {
    auto it = std::min_element(counts.begin(), counts.end(), [&](const auto& a, const auto& b) {
      return most ? a.second > b.second : a.second < b.second;
    });
    return it->first;
  };
  auto has = [](const PlanEntry& p, int32_t id) {
    return std::find(p.replicas.begin(), p.replicas.end(), id) != p.replicas.end();
  };
  for (bool moved = true; moved;) {
    moved = false;
    int32_t most = extreme(load, true), least = extreme(load, false);
    if (load[most] - load[least] <= 1) break;
    // Prefer a partition where `most` is not the preferred leader.
    for (int pass = 0; pass < 2 && !moved; ++pass) {
      for (PlanEntry& p : next) {
        if (!has(p, most) || has(p, least)) continue;
        if (pass == 0 && p.replicas.front() == most) continue;
        *std::find(p.replicas.begin(), p.replicas.end(), most) = least;
        --load[most], ++load[least];
        if (p.replicas.front() == least) --leads[most], ++leads[least];
        moved = true;
        break;
      }
    }
  }
  for (bool swapped = true; swapped;) {
    swapped = false;
    int32_t most = extreme(leads, true), least = extreme(leads, false);
    if (leads[most] - leads[least] <= 1) break;
    for (PlanEntry& p : next) {
      if (p.replicas.front() != most || !has(p, least)) continue;
      std::iter_swap(p.replicas.begin(), std::find(p.replicas.begin(), p.replicas.end(), least));
      --leads[most], ++leads[least];
      swapped = true;
      break;
    }
  }
  std::vector<PlanEntry> plan;
  for (size_t i = 0; i < next.size(); ++i) {
    if (next[i].replicas != current[i].replicas) plan.push_back(std::move(next[i]));
  }
  return plan;
}

CopyProgress copy_progress(
    const std::vector<client::OngoingReassignment>& moving,
    const std::map<std::pair<int32_t, client::TopicPartition>, int64_t>& sizes) {
  CopyProgress progress;
  for (const client::OngoingReassignment& r : moving) {
    auto leader = sizes.find({r.leader_id, r.partition});
    if (leader == sizes.end()) continue;
    for (int32_t id : r.adding_replicas) {
      auto have = sizes.find({id, r.partition});
      progress.total_bytes += leader->second;
      progress.copied_bytes += have == sizes.end() ? 0 : std::min(have->second, leader->second);
      ++progress.replicas;
    }
  }
  return progress;
}

}  // namespace mq::ctl
