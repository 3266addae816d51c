// mqctl config get|set|delete: topic and broker settings through
// DescribeConfigs and AlterConfigs. The broker describes its own settings but
// refuses to change them over the wire (they change through its config file
// and SIGHUP); mqctl passes that refusal on rather than hiding the command.
#include <memory>

#include "ctl/arguments.h"
#include "ctl/commands.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

std::string_view source_name(transport::ConfigSource source) {
  switch (source) {
    case transport::ConfigSource::kTopicConfig:
      return "topic";
    case transport::ConfigSource::kDynamicBrokerConfig:
      return "dynamic-broker";
    case transport::ConfigSource::kDynamicDefaultBrokerConfig:
      return "dynamic-default-broker";
    case transport::ConfigSource::kStaticBrokerConfig:
      return "static-broker";
    case transport::ConfigSource::kDefault:
      return "default";
    case transport::ConfigSource::kUnknown:
      break;
  }
  return "unknown";
}

struct ConfigFlags {
  std::string topic;
  std::string broker;                  // node id; empty = whichever broker answers
  std::vector<std::string> arguments;  // keys, or key=value for set
};

// The resource the flags name, and how to speak of it in messages.
std::pair<client::ConfigResource, std::string> resource_of(const ConfigFlags& flags) {
  if (!flags.topic.empty()) {
    return {{transport::ConfigResourceType::kTopic, flags.topic}, "topic \"" + flags.topic + "\""};
  }
  return {{transport::ConfigResourceType::kBroker, flags.broker},
          flags.broker.empty() ? std::string("broker") : "broker " + flags.broker};
}

int config_get(Context& ctx, const ConfigFlags& flags) {
  auto [resource, label] = resource_of(flags);
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  std::optional<std::vector<std::string>> keys;
  if (!flags.arguments.empty()) keys = flags.arguments;
  Result<std::vector<client::ConfigEntry>> entries = admin->describe_configs(resource, keys);
  if (!entries.is_ok()) {
    if (entries.code() == ErrorCode::kUnknownTopicOrPartition) {
      return ctx.not_found("topic", flags.topic);
    }
    return ctx.fail("cannot read settings of " + label, entries.status());
  }
  int code = kExitOk;
  for (const std::string& key : flags.arguments) {
    if (std::ranges::find(*entries, key, &client::ConfigEntry::name) == entries->end()) {
      ctx.error(label + " has no setting \"" + key + "\"");
      code = kExitNotFound;
    }
  }
  // A table of nothing (only unknown keys asked for) is left out.
  if (!entries->empty() || ctx.output != OutputFormat::kTable) {
    ctx.print(config_entries_json(*entries), config_entries_table);
  }
  return code;
}

int config_change(Context& ctx, const ConfigFlags& flags, bool set) {
  auto [resource, label] = resource_of(flags);
  std::vector<client::ConfigChange> changes;
  for (const std::string& argument : flags.arguments) {
    if (set) {
      Result<std::pair<std::string, std::string>> kv = parse_key_value("setting", argument);
      if (!kv.is_ok()) return ctx.usage(kv.status().message());
      changes.push_back({kv->first, kv->second});
    } else {
      changes.push_back({argument, std::nullopt});
    }
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status altered = admin->alter_configs(resource, changes);
  std::string name = resource.name.empty() ? "broker" : resource.name;
  std::vector<ItemOutcome> outcomes;
  outcomes.push_back({name, altered.is_ok() ? "altered" : "failed", altered});
  return report_outcomes(
      ctx, set ? "set configs of" : "delete configs of",
      resource.type == transport::ConfigResourceType::kTopic ? "topic" : "broker", outcomes);
}

// --topic NAME or --broker ID: which resource a config command addresses.
void add_resource_options(CLI::App* command, ConfigFlags& flags) {
  CLI::Option* topic = command->add_option("--topic", flags.topic, "A topic's settings");
  command
      ->add_option("--broker", flags.broker,
                   "A broker's settings, by node id (default: the broker that answers)")
      ->excludes(topic);
}

}  // namespace

nlohmann::ordered_json config_entries_json(const std::vector<client::ConfigEntry>& entries) {
  json out = json::array();
  for (const client::ConfigEntry& entry : entries) {
    json value = entry.is_sensitive || !entry.value ? json(nullptr) : json(*entry.value);
    out.push_back({{"name", entry.name},
                   {"value", value},
                   {"source", source_name(entry.source)},
                   {"read_only", entry.read_only},
                   {"sensitive", entry.is_sensitive}});
  }
  return out;
}

std::string config_entries_table(const nlohmann::ordered_json& entries) {
  Table table({"CONFIG", "VALUE", "SOURCE"});
  for (const auto& entry : entries) {
    table.add_row({cell(entry["name"]), cell(entry["value"]), cell(entry["source"])});
  }
  return table.render();
}

void add_config_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* config = root.add_subcommand("config", "Read and change topic and broker settings");
  config->require_subcommand(1);
  auto flags = std::make_shared<ConfigFlags>();

  CLI::App* get = config->add_subcommand("get", "Show settings (all, or the KEYs named)");
  add_resource_options(get, *flags);
  get->add_option("key", flags->arguments, "Setting names");
  get->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return config_get(ctx, *flags); }; });

  CLI::App* set = config->add_subcommand(
      "set", "Set settings (topics; brokers change through their config file and SIGHUP)");
  add_resource_options(set, *flags);
  set->add_option("setting", flags->arguments, "key=value")->required();
  set->callback([&ctx, &action, flags] {
    action = [&ctx, flags] { return config_change(ctx, *flags, true); };
  });

  CLI::App* remove = config->add_subcommand("delete", "Revert settings to their defaults");
  add_resource_options(remove, *flags);
  remove->add_option("key", flags->arguments, "Setting names")->required();
  remove->callback([&ctx, &action, flags] {
    action = [&ctx, flags] { return config_change(ctx, *flags, false); };
  });
}

}  // namespace mq::ctl
