// mqctl cluster info|brokers|health, from Metadata; cluster quorum, from DescribeQuorum. Health
// covers what the protocol can tell today: whether every broker answers and whether every partition
// has a leader. Broker readiness (/readyz) is not in the metadata, so it is not checked here.
#include <chrono>
#include <memory>
#include <thread>

#include "ctl/commands.h"
#include "ctl/duration.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

std::string key_value_table(const json& doc) {
  Table table({"KEY", "VALUE"});
  for (const auto& [key, value] : doc.items()) table.add_row({key, cell(value)});
  return table.render();
}

int cluster_info(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster();
  if (!metadata.is_ok()) return ctx.fail("cannot describe the cluster", metadata.status());
  size_t partitions = 0;
  for (const auto& [name, topic] : metadata->topics) partitions += topic.partitions.size();
  json doc = {{"cluster_id", metadata->cluster_id ? json(*metadata->cluster_id) : json(nullptr)},
              {"controller_id", metadata->controller_id},
              {"brokers", metadata->brokers.size()},
              {"topics", metadata->topics.size()},
              {"partitions", partitions}};
  ctx.print(doc, key_value_table);
  return kExitOk;
}

int cluster_brokers(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(std::vector<std::string>{});
  if (!metadata.is_ok()) return ctx.fail("cannot describe the cluster", metadata.status());
  json doc = json::array();
  for (const client::BrokerInfo& broker : metadata->brokers) {
    doc.push_back({{"id", broker.node_id},
                   {"host", broker.host},
                   {"port", broker.port},
                   {"rack", broker.rack ? json(*broker.rack) : json(nullptr)},
                   {"controller", broker.node_id == metadata->controller_id}});
  }
  ctx.print(doc, [](const json& brokers) {
    Table table({"ID", "HOST", "PORT", "RACK", "CONTROLLER"});
    for (const auto& b : brokers) {
      table.add_row({cell(b["id"]), cell(b["host"]), cell(b["port"]), cell(b["rack"]),
                     b["controller"].get<bool>() ? "yes" : ""});
    }
    return table.render();
  });
  return kExitOk;
}

// {"single_node", "answered_by", "leader_id", "term", "commit_index",
//  "members": [{"node", "role", "voter", "match_index", "lag", "recent_active"}]}.
int cluster_quorum(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::QuorumDescription> quorum = admin->describe_quorum();
  if (!quorum.is_ok()) return ctx.fail("cannot describe the quorum", quorum.status());
  json members = json::array();
  for (const client::QuorumMember& m : quorum->members) {
    std::string role = m.node_id == quorum->leader_id ? "leader"
                       : m.voter                      ? "follower"
                                                      : "observer";
    members.push_back({{"node", m.node_id},
                       {"role", role},
                       {"voter", m.voter},
                       {"match_index", m.match_index},
                       {"lag", m.lag},
                       {"recent_active", m.recent_active}});
  }
  json doc = {{"single_node", quorum->single_node},
              {"answered_by", quorum->node_id},
              {"leader_id", quorum->leader_id >= 0 ? json(quorum->leader_id) : json(nullptr)},
              {"term", quorum->term},
              {"commit_index", quorum->commit_index},
              {"members", members}};
  ctx.print(doc, [](const json& q) {
    std::string out;
    if (q["single_node"].get<bool>()) out += "MODE          single node (no cluster.voters)\n";
    out += "LEADER        " +
           (q["leader_id"].is_null() ? std::string("none") : cell(q["leader_id"])) + "\n";
    out += "TERM          " + cell(q["term"]) + "\n";
    out += "COMMIT INDEX  " + cell(q["commit_index"]) + "\n";
    out += "ANSWERED BY   " + cell(q["answered_by"]) + "\n\n";
    if (q["members"].empty()) {
      out += "(no member progress: only the quorum leader knows it, and it did not answer)\n";
      return out;
    }
    Table table({"NODE", "ROLE", "VOTER", "MATCH INDEX", "LAG", "ACTIVE"});
    for (const auto& m : q["members"]) {
      table.add_row({cell(m["node"]), cell(m["role"]), m["voter"].get<bool>() ? "yes" : "no",
                     cell(m["match_index"]), cell(m["lag"]),
                     m["recent_active"].get<bool>() ? "yes" : "no"});
    }
    return out + table.render();
  });
  return kExitOk;
}

// One health check: {"healthy", "brokers": [{"id", "endpoint", "reachable", "error"?}],
// "leaderless_partitions": [{"topic", "partition"}], "error"?}.
json check_health(const Context& ctx) {
  json doc = {
      {"healthy", false}, {"brokers", json::array()}, {"leaderless_partitions", json::array()}};
  auto admin = ctx.open_admin();
  if (!admin) return doc;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster();
  if (!metadata.is_ok()) {
    doc["error"] = "no answer from " + ctx.brokers + ": " + metadata.status().to_string();
    return doc;
  }
  bool healthy = true;
  for (const client::BrokerInfo& broker : metadata->brokers) {
    // Ask each broker itself, not the one that bootstrapped us.
    client::AdminConfig config = ctx.admin_config();
    config.bootstrap_servers = broker.host + ":" + std::to_string(broker.port);
    Result<std::unique_ptr<client::Admin>> direct = client::Admin::create(config);
    Status reached = direct.is_ok()
                         ? (*direct)->describe_cluster(std::vector<std::string>{}).status()
                         : direct.status();
    json entry = {{"id", broker.node_id},
                  {"endpoint", config.bootstrap_servers},
                  {"reachable", reached.is_ok()}};
    if (!reached.is_ok()) {
      entry["error"] = reached.to_string();
      healthy = false;
    }
    doc["brokers"].push_back(entry);
  }
  for (const auto& [name, topic] : metadata->topics) {
    for (const client::PartitionInfo& p : topic.partitions) {
      if (p.leader_id < 0 || p.error != ErrorCode::kNone) {
        doc["leaderless_partitions"].push_back({{"topic", name}, {"partition", p.partition}});
        healthy = false;
      }
    }
  }
  doc["healthy"] = healthy;
  return doc;
}

std::string health_table(const json& doc) {
  std::string out = std::string("HEALTHY  ") + (doc["healthy"].get<bool>() ? "yes" : "no") + "\n";
  if (doc.contains("error")) out += "ERROR    " + cell(doc["error"]) + "\n";
  if (!doc["brokers"].empty()) {
    Table brokers({"BROKER", "ENDPOINT", "REACHABLE", "ERROR"});
    for (const auto& b : doc["brokers"]) {
      brokers.add_row({cell(b["id"]), cell(b["endpoint"]),
                       b["reachable"].get<bool>() ? "yes" : "no",
                       b.contains("error") ? cell(b["error"]) : ""});
    }
    out += "\n" + brokers.render();
  }
  out +=
      "\nPARTITIONS WITHOUT LEADER  " + std::to_string(doc["leaderless_partitions"].size()) + "\n";
  if (!doc["leaderless_partitions"].empty()) {
    Table partitions({"TOPIC", "PARTITION"});
    for (const auto& p : doc["leaderless_partitions"]) {
      partitions.add_row({cell(p["topic"]), cell(p["partition"])});
    }
    out += partitions.render();
  }
  return out;
}

struct HealthFlags {
  bool watch = false;
  std::string interval = "5s";
};

int cluster_health(Context& ctx, const HealthFlags& flags) {
  Result<int64_t> interval_ms = parse_duration_ms(flags.interval);
  if (!interval_ms.is_ok()) return ctx.usage("--interval: " + interval_ms.status().message());
  if (*interval_ms < 100) return ctx.usage("--interval: must be at least 100ms");
  if (flags.watch) watch_interrupts();
  while (true) {
    json doc = check_health(ctx);
    bool healthy = doc["healthy"].get<bool>();
    if (flags.watch && ctx.output == OutputFormat::kTable) {
      std::fprintf(ctx.io.out, "--- %s\n", std::to_string(now_ms()).c_str());
    }
    ctx.print(doc, health_table);
    int code = healthy ? kExitOk : kExitUnhealthy;
    if (!flags.watch) return code;
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(*interval_ms);
    while (std::chrono::steady_clock::now() < until) {
      if (interrupted()) return code;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (interrupted()) return code;
  }
}

}  // namespace

void add_cluster_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* cluster = root.add_subcommand("cluster", "Cluster metadata and health");
  cluster->require_subcommand(1);
  cluster->add_subcommand("info", "Cluster id, controller, counts of brokers, topics, partitions")
      ->callback([&ctx, &action] { action = [&ctx] { return cluster_info(ctx); }; });
  cluster->add_subcommand("brokers", "The brokers in the metadata")->callback([&ctx, &action] {
    action = [&ctx] { return cluster_brokers(ctx); };
  });
  cluster
      ->add_subcommand("quorum",
                       "The metadata quorum: leader, term, commit index, each member's lag")
      ->callback([&ctx, &action] { action = [&ctx] { return cluster_quorum(ctx); }; });
  auto flags = std::make_shared<HealthFlags>();
  CLI::App* health = cluster->add_subcommand(
      "health", "Every broker answers and every partition has a leader (exit 4 if not)");
  health->add_flag("-w,--watch", flags->watch, "Check again every --interval until interrupted");
  health->add_option("--interval", flags->interval,
                     "Time between checks with --watch (default 5s)");
  health->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return cluster_health(ctx, *flags); }; });
}

}  // namespace mq::ctl
