// The broker list and the health evaluation of mqctl, and how both print.
#include "ctl/cluster_report.h"

#include <algorithm>
#include <charconv>

#include "ctl/output.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

std::string ids(const std::vector<int32_t>& list) {
  std::string out = "[";
  for (size_t i = 0; i < list.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(list[i]);
  return out + "]";
}

// Replicas of `partition` that are not in its ISR.
std::vector<int32_t> out_of_sync(const client::PartitionInfo& partition) {
  std::vector<int32_t> missing;
  for (int32_t replica : partition.replicas) {
    if (std::ranges::find(partition.isr, replica) == partition.isr.end()) {
      missing.push_back(replica);
    }
  }
  return missing;
}

std::string offline_note(const client::PartitionInfo& partition) {
  if (partition.offline_replicas.empty()) return "";
  return "; offline replicas " + ids(partition.offline_replicas);
}

Finding broker_finding(const BrokerObservation& observed) {
  const client::RegisteredBroker& r = observed.registration;
  std::string who = "broker " + std::to_string(r.broker.node_id) + " (" + r.broker.endpoint() + ")";
  std::string answers = observed.reached.is_ok()
                            ? "it answers mqctl"
                            : "it does not answer mqctl: " + observed.reached.to_string();
  Finding finding{.broker = r.broker.node_id};
  if (r.fenced) {
    finding.kind = FindingKind::kBrokerFenced;
    finding.detail = who +
                     " is fenced (no heartbeat to the controller within its session, or still "
                     "catching up): it leads nothing and is in no ISR; " +
                     answers;
  } else if (r.in_controlled_shutdown) {
    finding.kind = FindingKind::kBrokerShuttingDown;
    finding.detail =
        who + " is in controlled shutdown: its leaderships are moving away; " + answers;
  } else {
    finding.kind = FindingKind::kBrokerUnreachable;
    finding.detail = who + " is registered and not fenced, but " + answers;
  }
  return finding;
}

}  // namespace

std::string_view broker_state_name(const client::RegisteredBroker& broker) {
  if (broker.fenced) return "fenced";
  if (broker.in_controlled_shutdown) return "shutting-down";
  return "active";
}

json brokers_json(const client::BrokerListing& listing) {
  json doc = json::array();
  for (const client::RegisteredBroker& r : listing.brokers) {
    const client::BrokerInfo& b = r.broker;
    doc.push_back({{"id", b.node_id},
                   {"host", b.host},
                   {"port", b.port},
                   {"rack", b.rack ? json(*b.rack) : json(nullptr)},
                   {"controller", b.node_id == listing.controller_id},
                   {"fenced", r.fenced},
                   {"in_controlled_shutdown", r.in_controlled_shutdown}});
  }
  return doc;
}

std::string brokers_table(const json& brokers) {
  Table table({"ID", "HOST", "PORT", "RACK", "STATE", "CONTROLLER"});
  for (const auto& b : brokers) {
    client::RegisteredBroker r{.fenced = b["fenced"].get<bool>(),
                               .in_controlled_shutdown = b["in_controlled_shutdown"].get<bool>()};
    table.add_row({cell(b["id"]), cell(b["host"]), cell(b["port"]), cell(b["rack"]),
                   std::string(broker_state_name(r)), b["controller"].get<bool>() ? "yes" : ""});
  }
  return table.render();
}

Result<int32_t> min_insync_replicas_of(const Result<std::vector<client::ConfigEntry>>& configs) {
  if (!configs.is_ok()) return configs.status();
  for (const client::ConfigEntry& entry : *configs) {
    if (entry.name != kMinInsyncReplicas) continue;
    if (!entry.value) break;
    const std::string& text = *entry.value;
    int32_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 1) {
      return Status(ErrorCode::kInvalidConfig,
                    std::string(kMinInsyncReplicas) + " is \"" + text + "\", not a count");
    }
    return value;
  }
  return Status(ErrorCode::kInvalidConfig,
                "the broker did not report " + std::string(kMinInsyncReplicas));
}

std::string_view finding_kind_name(FindingKind kind) {
  switch (kind) {
    case FindingKind::kNoController:
      return "no-controller";
    case FindingKind::kBrokerFenced:
      return "broker-fenced";
    case FindingKind::kBrokerShuttingDown:
      return "broker-shutting-down";
    case FindingKind::kBrokerUnreachable:
      return "broker-unreachable";
    case FindingKind::kPartitionOffline:
      return "partition-offline";
    case FindingKind::kPartitionUnderMinIsr:
      return "partition-under-min-isr";
    case FindingKind::kPartitionUnderReplicated:
      return "partition-under-replicated";
    case FindingKind::kCheckFailed:
      return "check-failed";
  }
  return "unknown";
}

HealthReport evaluate_health(const HealthInput& input) {
  HealthReport report;
  if (input.controller_id < 0) {
    report.findings.push_back(
        {.kind = FindingKind::kNoController,
         .detail = "no active controller is known: leader elections, fencing and topic changes "
                   "wait for the metadata quorum to elect one (see mqctl cluster quorum)"});
  }
  std::vector<BrokerObservation> brokers = input.brokers;
  std::ranges::sort(brokers, {},
                    [](const BrokerObservation& b) { return b.registration.broker.node_id; });
  for (const BrokerObservation& observed : brokers) {
    const client::RegisteredBroker& r = observed.registration;
    if (r.fenced || r.in_controlled_shutdown || !observed.reached.is_ok()) {
      report.findings.push_back(broker_finding(observed));
    }
  }
  for (const auto& [name, topic] : input.topics) {
    if (topic.error != ErrorCode::kNone) {
      report.findings.push_back({.kind = FindingKind::kCheckFailed,
                                 .topic = name,
                                 .detail = "cannot read the partitions of topic \"" + name +
                                           "\": " + std::string(error_name(topic.error))});
      continue;
    }
    std::optional<int32_t> min_isr;
    auto configured = input.min_insync_replicas.find(name);
    if (configured != input.min_insync_replicas.end() && configured->second.is_ok()) {
      min_isr = *configured->second;
    }
    bool min_isr_needed = false;  // a led partition exists, so min.insync.replicas matters
    for (const client::PartitionInfo& p : topic.partitions) {
      report.partitions.total++;
      std::string subject = name + "-" + std::to_string(p.partition);
      Finding base{.topic = name, .partition = p, .min_insync_replicas = min_isr};
      if (p.leader_id < 0 || p.error != ErrorCode::kNone) {
        report.partitions.offline++;
        Finding offline = base;
        offline.kind = FindingKind::kPartitionOffline;
        std::string error =
            p.error == ErrorCode::kNone ? "" : " (" + std::string(error_name(p.error)) + ")";
        offline.detail = subject + " has no leader" + error +
                         ": neither produce nor fetch works; replicas " + ids(p.replicas) +
                         ", ISR " + ids(p.isr) + offline_note(p);
        report.findings.push_back(std::move(offline));
        continue;
      }
      min_isr_needed = true;
      int64_t isr = static_cast<int64_t>(p.isr.size());
      if (min_isr && isr < *min_isr) {
        report.partitions.under_min_isr++;
        Finding under = base;
        under.kind = FindingKind::kPartitionUnderMinIsr;
        under.detail = subject + " has " + std::to_string(isr) + " in-sync replica(s) " +
                       ids(p.isr) + ", min.insync.replicas is " + std::to_string(*min_isr) +
                       ": acks=all produce fails (NOT_ENOUGH_REPLICAS)" + offline_note(p);
        report.findings.push_back(std::move(under));
      }
      if (isr < static_cast<int64_t>(p.replicas.size())) {
        report.partitions.under_replicated++;
        Finding under = base;
        under.kind = FindingKind::kPartitionUnderReplicated;
        under.detail = subject + " is under-replicated: replicas " + ids(out_of_sync(p)) + " of " +
                       ids(p.replicas) + " are not in the ISR " + ids(p.isr) + offline_note(p);
        report.findings.push_back(std::move(under));
      }
    }
    if (min_isr_needed && !min_isr) {
      std::string why = configured == input.min_insync_replicas.end()
                            ? std::string("not read")
                            : configured->second.status().to_string();
      report.findings.push_back({.kind = FindingKind::kCheckFailed,
                                 .topic = name,
                                 .detail = "cannot compare the ISRs of topic \"" + name +
                                           "\" with its min.insync.replicas: " + why});
    }
  }
  return report;
}

json health_json(const HealthInput& input, const HealthReport& report) {
  json brokers = json::array();
  std::vector<BrokerObservation> sorted = input.brokers;
  std::ranges::sort(sorted, {},
                    [](const BrokerObservation& b) { return b.registration.broker.node_id; });
  for (const BrokerObservation& observed : sorted) {
    const client::RegisteredBroker& r = observed.registration;
    json entry = {{"id", r.broker.node_id},
                  {"endpoint", r.broker.endpoint()},
                  {"rack", r.broker.rack ? json(*r.broker.rack) : json(nullptr)},
                  {"fenced", r.fenced},
                  {"in_controlled_shutdown", r.in_controlled_shutdown},
                  {"reachable", observed.reached.is_ok()}};
    if (!observed.reached.is_ok()) entry["error"] = observed.reached.to_string();
    brokers.push_back(entry);
  }
  json findings = json::array();
  json leaderless = json::array();
  for (const Finding& f : report.findings) {
    json item = {{"kind", finding_kind_name(f.kind)}};
    if (f.broker) item["broker"] = *f.broker;
    if (!f.topic.empty()) item["topic"] = f.topic;
    if (f.partition) {
      const client::PartitionInfo& p = *f.partition;
      item["partition"] = p.partition;
      item["leader"] = p.leader_id >= 0 ? json(p.leader_id) : json(nullptr);
      item["replicas"] = p.replicas;
      item["isr"] = p.isr;
      item["offline_replicas"] = p.offline_replicas;
      item["min_insync_replicas"] =
          f.min_insync_replicas ? json(*f.min_insync_replicas) : json(nullptr);
      if (f.kind == FindingKind::kPartitionOffline) {
        leaderless.push_back({{"topic", f.topic}, {"partition", p.partition}});
      }
    }
    item["detail"] = f.detail;
    findings.push_back(item);
  }
  return {{"healthy", report.healthy()},
          {"controller_id", input.controller_id >= 0 ? json(input.controller_id) : json(nullptr)},
          {"brokers", brokers},
          {"partitions",
           {{"total", report.partitions.total},
            {"offline", report.partitions.offline},
            {"under_min_isr", report.partitions.under_min_isr},
            {"under_replicated", report.partitions.under_replicated}}},
          {"findings", findings},
          {"leaderless_partitions", leaderless}};
}

json health_error_json(const std::string& error) {
  return {
      {"healthy", false},
      {"controller_id", nullptr},
      {"brokers", json::array()},
      {"partitions", {{"total", 0}, {"offline", 0}, {"under_min_isr", 0}, {"under_replicated", 0}}},
      {"findings", json::array()},
      {"leaderless_partitions", json::array()},
      {"error", error}};
}

std::string health_table(const json& doc) {
  std::string out =
      std::string("HEALTHY     ") + (doc["healthy"].get<bool>() ? "yes" : "no") + "\n";
  if (doc.contains("error")) return out + "ERROR       " + cell(doc["error"]) + "\n";
  out += "CONTROLLER  " +
         (doc["controller_id"].is_null() ? std::string("none") : cell(doc["controller_id"])) + "\n";
  const json& counts = doc["partitions"];
  out += "PARTITIONS  " + cell(counts["total"]) + " (" + cell(counts["offline"]) + " offline, " +
         cell(counts["under_min_isr"]) + " under min ISR, " + cell(counts["under_replicated"]) +
         " under-replicated)\n";
  if (!doc["brokers"].empty()) {
    Table brokers({"BROKER", "ENDPOINT", "RACK", "STATE", "REACHABLE", "ERROR"});
    for (const auto& b : doc["brokers"]) {
      client::RegisteredBroker r{.fenced = b["fenced"].get<bool>(),
                                 .in_controlled_shutdown = b["in_controlled_shutdown"].get<bool>()};
      brokers.add_row({cell(b["id"]), cell(b["endpoint"]), cell(b["rack"]),
                       std::string(broker_state_name(r)), b["reachable"].get<bool>() ? "yes" : "no",
                       b.contains("error") ? cell(b["error"]) : ""});
    }
    out += "\n" + brokers.render();
  }
  if (!doc["findings"].empty()) {
    Table findings({"PROBLEM", "SUBJECT", "DETAIL"});
    for (const auto& f : doc["findings"]) {
      std::string subject;
      if (f.contains("broker")) {
        subject = "broker " + cell(f["broker"]);
      } else if (f.contains("partition")) {
        subject = cell(f["topic"]) + "-" + cell(f["partition"]);
      } else if (f.contains("topic")) {
        subject = "topic " + cell(f["topic"]);
      } else {
        subject = "cluster";
      }
      findings.add_row({cell(f["kind"]), subject, cell(f["detail"])});
    }
    out += "\n" + findings.render();
  }
  return out;
}

}  // namespace mq::ctl
