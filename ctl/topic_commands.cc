// mqctl topic create|list|describe|delete|alter-config|add-partitions.
#include <map>
#include <memory>
#include <set>

#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/topic_description.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct TopicFlags {
  std::vector<std::string> names;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::string> configs;  // key=value
  std::vector<std::string> deletes;  // keys
  bool if_not_exists = false;
  bool if_exists = false;
  bool internal = false;
  bool yes = false;
};

int topic_create(Context& ctx, const TopicFlags& flags) {
  std::map<std::string, std::string> configs;
  for (const std::string& text : flags.configs) {
    Result<std::pair<std::string, std::string>> kv = parse_key_value("-c", text);
    if (!kv.is_ok()) return ctx.usage(kv.status().message());
    configs[kv->first] = kv->second;
  }
  if (flags.partitions == 0 || flags.partitions < -1) return ctx.usage("-p: must be >= 1");
  if (flags.replication_factor == 0 || flags.replication_factor < -1) {
    return ctx.usage("-r: must be >= 1");
  }
  std::vector<client::NewTopic> topics;
  for (const std::string& name : flags.names) {
    topics.push_back({name, flags.partitions, flags.replication_factor, configs});
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<std::vector<client::ItemResult>> results = admin->create_topics(topics);
  if (!results.is_ok()) return ctx.fail("cannot create topics", results.status());
  std::vector<ItemOutcome> outcomes;
  for (const auto& result : *results) {
    if (result.status.is_ok()) {
      outcomes.push_back({result.name, "created", {}});
    } else if (result.status.code() == ErrorCode::kTopicAlreadyExists && flags.if_not_exists) {
      outcomes.push_back({result.name, "exists", {}});
    } else {
      outcomes.push_back({result.name, "failed", result.status});
    }
  }
  return report_outcomes(ctx, "create", "topic", outcomes);
}

int topic_list(Context& ctx, const TopicFlags& flags) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster();
  if (!metadata.is_ok()) return ctx.fail("cannot list topics", metadata.status());
  json topics = json::array();
  for (const auto& [name, topic] : metadata->topics) {
    if (topic.is_internal && !flags.internal) continue;
    size_t replicas = topic.partitions.empty() ? 0 : topic.partitions.front().replicas.size();
    topics.push_back({{"name", name},
                      {"partitions", topic.partitions.size()},
                      {"replication_factor", replicas},
                      {"internal", topic.is_internal}});
  }
  ctx.print(topics, [](const json& doc) {
    Table table({"NAME", "PARTITIONS", "REPLICAS"});
    for (const auto& t : doc) {
      table.add_row({cell(t["name"]), cell(t["partitions"]), cell(t["replication_factor"])});
    }
    return table.render();
  });
  return kExitOk;
}

// Offsets of every partition of `topic` at `timestamp` (-2 earliest, -1
// latest); when the lookup fails as a whole, that is every partition's error.
PartitionOffsets read_offsets(client::Admin& admin, const client::TopicInfo& topic,
                              int64_t timestamp) {
  std::map<client::TopicPartition, int64_t> wanted;
  for (const auto& p : topic.partitions) wanted[{topic.name, p.partition}] = timestamp;
  Result<PartitionOffsets> read = admin.list_offsets_each(wanted);
  if (read.is_ok()) return std::move(read).value();
  PartitionOffsets failed;
  for (const auto& [tp, unused] : wanted) failed.insert_or_assign(tp, read.status());
  return failed;
}

int topic_describe(Context& ctx, const TopicFlags& flags) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(flags.names);
  if (!metadata.is_ok()) return ctx.fail("cannot describe topics", metadata.status());
  int code = kExitOk;
  json topics = json::array();
  for (const std::string& name : flags.names) {
    const client::TopicInfo* topic = metadata->topic(name);
    if (topic == nullptr || topic->error != ErrorCode::kNone) {
      ErrorCode error = topic ? topic->error : ErrorCode::kUnknownTopicOrPartition;
      code = std::max(code, error == ErrorCode::kUnknownTopicOrPartition
                                ? ctx.not_found("topic", name)
                                : ctx.fail("cannot describe topic \"" + name + "\"",
                                           Status(error, "the broker reported an error")));
      continue;
    }
    // Every partition is printed, led or not: what could not be read is null
    // (the table's "-"), said on stderr, and makes the exit code 4.
    PartitionOffsets starts = read_offsets(*admin, *topic, -2);
    PartitionOffsets ends = read_offsets(*admin, *topic, -1);
    std::string unread = unread_offsets_summary(*topic, starts, ends);
    if (!unread.empty()) {
      ctx.error("topic \"" + name + "\": " + unread);
      code = std::max(code, static_cast<int>(kExitPartial));
    }
    std::optional<std::vector<client::ConfigEntry>> configs;
    Result<std::vector<client::ConfigEntry>> read_configs =
        admin->describe_configs({transport::ConfigResourceType::kTopic, name});
    if (read_configs.is_ok()) {
      configs = std::move(read_configs).value();
    } else {
      ctx.error("topic \"" + name +
                "\": the configs could not be read: " + read_configs.status().to_string());
      code = std::max(code, static_cast<int>(kExitPartial));
    }
    topics.push_back(topic_description_json(*topic, starts, ends, configs));
  }
  if (!topics.empty()) ctx.print(topics, topic_descriptions_table);
  return code;
}

int topic_delete(Context& ctx, const TopicFlags& flags) {
  std::string names;
  for (const auto& name : flags.names) names += (names.empty() ? "" : ", ") + name;
  if (!ctx.confirm("Delete topic(s) " + names + " and all their messages?", flags.yes)) {
    ctx.error("not confirmed; nothing deleted");
    return kExitFailed;
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<std::vector<client::ItemResult>> results = admin->delete_topics(flags.names);
  if (!results.is_ok()) return ctx.fail("cannot delete topics", results.status());
  std::vector<ItemOutcome> outcomes;
  for (const auto& result : *results) {
    if (result.status.is_ok()) {
      outcomes.push_back({result.name, "deleted", {}});
    } else if (result.status.code() == ErrorCode::kUnknownTopicOrPartition && flags.if_exists) {
      outcomes.push_back({result.name, "missing", {}});
    } else {
      outcomes.push_back({result.name, "failed", result.status});
    }
  }
  return report_outcomes(ctx, "delete", "topic", outcomes);
}

int topic_alter_config(Context& ctx, const TopicFlags& flags) {
  std::vector<client::ConfigChange> changes;
  for (const std::string& text : flags.configs) {
    Result<std::pair<std::string, std::string>> kv = parse_key_value("--set", text);
    if (!kv.is_ok()) return ctx.usage(kv.status().message());
    changes.push_back({kv->first, kv->second});
  }
  for (const std::string& key : flags.deletes) changes.push_back({key, std::nullopt});
  if (changes.empty()) return ctx.usage("topic alter-config: give --set key=value or --delete key");
  const std::string& name = flags.names.front();
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status altered = admin->alter_configs({transport::ConfigResourceType::kTopic, name}, changes);
  std::vector<ItemOutcome> outcomes;
  outcomes.push_back({name, altered.is_ok() ? "altered" : "failed", altered});
  return report_outcomes(ctx, "alter configs of", "topic", outcomes);
}

int topic_add_partitions(Context& ctx, const TopicFlags& flags) {
  if (flags.partitions < 1) return ctx.usage("topic add-partitions: -p TOTAL must be >= 1");
  const std::string& name = flags.names.front();
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<std::vector<client::ItemResult>> results =
      admin->create_partitions({{name, flags.partitions}});
  if (!results.is_ok()) return ctx.fail("cannot add partitions", results.status());
  std::vector<ItemOutcome> outcomes;
  for (const auto& result : *results) {
    outcomes.push_back({result.name, result.status.is_ok() ? "altered" : "failed", result.status});
  }
  return report_outcomes(ctx, "add partitions to", "topic", outcomes);
}

}  // namespace

int report_outcomes(const Context& ctx, const std::string& verb, const std::string& kind,
                    const std::vector<ItemOutcome>& outcomes) {
  json doc = json::array();
  size_t failed = 0;
  int failure_code = kExitOk;
  for (const ItemOutcome& outcome : outcomes) {
    json item = {{"name", outcome.name}, {"status", outcome.status}};
    if (outcome.status == "failed") {
      ++failed;
      item["error"] = outcome.error.message();
      item["error_code"] = error_name(outcome.error.code());
      failure_code = outcome.error.code() == ErrorCode::kUnknownTopicOrPartition
                         ? ctx.not_found(kind, outcome.name)
                         : ctx.fail("cannot " + verb + " " + kind + " \"" + outcome.name + "\"",
                                    outcome.error);
    }
    doc.push_back(item);
  }
  ctx.print(doc, [](const json& items) {
    Table table({"NAME", "STATUS"});
    for (const auto& item : items) table.add_row({cell(item["name"]), cell(item["status"])});
    return table.render();
  });
  if (failed == 0) return kExitOk;
  return failed < outcomes.size() ? kExitUnhealthy : failure_code;
}

void add_topic_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* topic =
      root.add_subcommand("topic", "Create, list, describe, alter, trim and delete topics");
  topic->require_subcommand(1);
  auto flags = std::make_shared<TopicFlags>();
  auto bind = [&ctx, &action, flags](CLI::App* command, int (*run)(Context&, const TopicFlags&)) {
    command->callback(
        [&ctx, &action, flags, run] { action = [&ctx, flags, run] { return run(ctx, *flags); }; });
  };

  CLI::App* create = topic->add_subcommand("create", "Create topics");
  create->add_option("name", flags->names, "Topic names")->required();
  create->add_option("-p,--partitions", flags->partitions, "Partitions (default: the broker's)");
  create->add_option("-r,--replication-factor", flags->replication_factor,
                     "Replicas per partition (default: the broker's)");
  create->add_option("-c,--config", flags->configs, "Topic setting key=value (repeatable)");
  create->add_flag("--if-not-exists", flags->if_not_exists, "Succeed if the topic exists");
  bind(create, topic_create);

  CLI::App* list = topic->add_subcommand("list", "List topics");
  list->add_flag("--internal", flags->internal, "Include internal topics (names starting __)");
  bind(list, topic_list);

  CLI::App* describe =
      topic->add_subcommand("describe", "Partitions, offsets and configs of topics");
  describe->add_option("name", flags->names, "Topic names")->required();
  bind(describe, topic_describe);

  CLI::App* remove = topic->add_subcommand("delete", "Delete topics and their messages");
  remove->add_option("name", flags->names, "Topic names")->required();
  remove->add_flag("--if-exists", flags->if_exists, "Succeed if a topic does not exist");
  remove->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation on a terminal");
  bind(remove, topic_delete);

  CLI::App* alter = topic->add_subcommand("alter-config", "Set or delete topic settings");
  alter->add_option("name", flags->names, "Topic name")->required()->expected(1);
  alter->add_option("--set", flags->configs, "key=value to set (repeatable)");
  alter->add_option("--delete", flags->deletes, "Key to revert to its default (repeatable)");
  bind(alter, topic_alter_config);

  CLI::App* grow = topic->add_subcommand("add-partitions", "Grow a topic to TOTAL partitions");
  grow->add_option("name", flags->names, "Topic name")->required()->expected(1);
  grow->add_option("-p,--partitions", flags->partitions, "The new total number of partitions")
      ->required();
  bind(grow, topic_add_partitions);

  add_trim_command(topic, ctx, action);
}

}  // namespace mq::ctl
