// mqctl cluster info, from Metadata; cluster brokers, from DescribeCluster
// (fenced brokers too); cluster health, which asks these and every broker
// itself, and evaluates the answers (ctl/cluster_report.h). The quorum and
// membership commands are in membership_commands.cc. Broker readiness (/readyz) is not in the
// metadata, so it is not checked here.
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "ctl/cluster_report.h"
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

// The registered brokers: DescribeCluster, or from a broker older than that
// API, Metadata's unfenced brokers only (said on stderr).
Result<client::BrokerListing> read_brokers(const Context& ctx, client::Admin& admin) {
  Result<client::BrokerListing> listing = admin.describe_brokers();
  if (listing.is_ok() || listing.code() != ErrorCode::kUnsupportedVersion) return listing;
  ctx.error(
      "the broker does not serve DescribeCluster (it is older than this mqctl): "
      "fenced brokers are not listed");
  MQ_ASSIGN_OR_RETURN(client::ClusterMetadata metadata,
                      admin.describe_cluster(std::vector<std::string>{}));
  client::BrokerListing live{.cluster_id = metadata.cluster_id,
                             .controller_id = metadata.controller_id};
  for (const client::BrokerInfo& broker : metadata.brokers) live.brokers.push_back({broker});
  return live;
}

int cluster_brokers(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::BrokerListing> listing = read_brokers(ctx, *admin);
  if (!listing.is_ok()) return ctx.fail("cannot describe the cluster", listing.status());
  ctx.print(brokers_json(*listing), brokers_table);
  return kExitOk;
}

// Whether `broker` answers a request of its own (Metadata without topics),
// asked directly rather than through the broker that bootstrapped us.
Status probe(const Context& ctx, const client::BrokerInfo& broker) {
  client::AdminConfig config = ctx.admin_config();
  config.bootstrap_servers = broker.host + ":" + std::to_string(broker.port);
  Result<std::unique_ptr<client::Admin>> direct = client::Admin::create(config);
  if (!direct.is_ok()) return direct.status();
  return (*direct)->describe_cluster(std::vector<std::string>{}).status();
}

// One health check (the schema in ctl/cluster_report.h and docs/mqctl.md).
json check_health(const Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return health_error_json("no admin client for " + ctx.brokers);
  Result<client::BrokerListing> listing = read_brokers(ctx, *admin);
  if (!listing.is_ok()) {
    return health_error_json("cannot describe the cluster through " + ctx.brokers + ": " +
                             listing.status().to_string());
  }
  // Every broker at once, fenced ones too (one alive but cut off from the
  // controller answers): a dead one costs one --timeout, not one each.
  std::vector<std::future<Status>> probes;
  for (const client::RegisteredBroker& r : listing->brokers) {
    probes.push_back(std::async(std::launch::async, probe, std::cref(ctx), r.broker));
  }
  HealthInput input{.controller_id = listing->controller_id};
  Result<client::ClusterMetadata> metadata = admin->describe_cluster();
  if (metadata.is_ok()) {
    input.topics = metadata->topics;
    std::vector<std::string> names;
    for (const auto& [name, topic] : input.topics) names.push_back(name);
    auto configs = admin->describe_topic_configs(
        names, std::vector<std::string>{std::string(kMinInsyncReplicas)});
    for (const std::string& name : names) {
      input.min_insync_replicas.insert_or_assign(
          name, configs.is_ok() ? min_insync_replicas_of(configs->at(name)) : configs.status());
    }
  }
  for (size_t i = 0; i < probes.size(); ++i) {
    input.brokers.push_back({listing->brokers[i], probes[i].get()});
  }
  if (!metadata.is_ok()) {
    return health_error_json("cannot read the partitions through " + ctx.brokers + ": " +
                             metadata.status().to_string());
  }
  return health_json(input, evaluate_health(input));
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
  cluster->add_subcommand("brokers", "Every registered broker and its state, fenced ones too")
      ->callback([&ctx, &action] { action = [&ctx] { return cluster_brokers(ctx); }; });
  add_membership_commands(cluster, ctx, action);
  auto flags = std::make_shared<HealthFlags>();
  CLI::App* health = cluster->add_subcommand(
      "health",
      "Brokers fenced or not answering; partitions offline, under min ISR or under-replicated "
      "(exit 4 if any)");
  health->add_flag("-w,--watch", flags->watch, "Check again every --interval until interrupted");
  health->add_option("--interval", flags->interval,
                     "Time between checks with --watch (default 5s)");
  health->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return cluster_health(ctx, *flags); }; });
}

}  // namespace mq::ctl
