// mqctl partition elect-leaders: preferred or unclean leader elections
// through the controller (ElectLeaders), per partition outcomes. The
// reassign command is in reassign_command.cc.
#include <memory>
#include <set>

#include "ctl/commands.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct ElectFlags {
  bool preferred = false;
  bool unclean = false;
  bool yes = false;
  std::vector<std::string> selections;  // TOPIC or TOPIC:P,P,...
};

std::string elections_table(const json& items) {
  Table table({"TOPIC", "PARTITION", "STATUS", "LEADER", "DETAIL"});
  for (const auto& item : items) {
    std::string detail;
    if (item.contains("error")) {
      detail = cell(item["error"]) + " (" + cell(item["error_code"]) + ")";
    } else if (item.contains("note")) {
      detail = cell(item["note"]);
    }
    table.add_row({cell(item["topic"]), cell(item["partition"]), cell(item["status"]),
                   item["leader"].is_null() ? "-" : cell(item["leader"]), detail});
  }
  return table.render();
}

int elect_leaders(Context& ctx, const ElectFlags& flags) {
  if (flags.preferred && flags.unclean)
    return ctx.usage("--preferred and --unclean exclude each other");
  std::vector<client::TopicSelection> selections;
  for (const std::string& text : flags.selections) {
    Result<client::TopicSelection> selection = client::parse_topic_selection(text);
    if (!selection.is_ok()) return ctx.usage(selection.status().message());
    selections.push_back(std::move(*selection));
  }
  auto type =
      flags.unclean ? transport::ElectionType::kUnclean : transport::ElectionType::kPreferred;
  std::string scope = selections.empty() ? "every partition" : "the partitions named";
  if (flags.unclean &&
      !ctx.confirm("Unclean election of " + scope +
                       " without a leader: a replica outside the ISR may become leader and "
                       "committed messages it lacks are lost. Continue?",
                   flags.yes)) {
    ctx.error("not confirmed; nothing elected");
    return kExitFailed;
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;

  std::optional<std::vector<client::TopicPartition>> partitions;
  if (!selections.empty()) {
    partitions.emplace();
    // A topic named without partitions means all of its partitions.
    std::vector<std::string> whole;
    for (const auto& s : selections) {
      if (s.partitions.empty()) whole.push_back(s.topic);
    }
    std::optional<client::ClusterMetadata> metadata;
    if (!whole.empty()) {
      Result<client::ClusterMetadata> described = admin->describe_cluster(whole);
      if (!described.is_ok()) return ctx.fail("cannot describe topics", described.status());
      metadata = std::move(*described);
    }
    std::set<client::TopicPartition> listed;
    for (const auto& s : selections) {
      std::vector<int32_t> numbers = s.partitions;
      if (numbers.empty()) {
        const client::TopicInfo* topic = metadata->topic(s.topic);
        if (topic == nullptr || topic->error != ErrorCode::kNone) {
          if (topic != nullptr && topic->error != ErrorCode::kUnknownTopicOrPartition) {
            return ctx.fail("cannot describe topic \"" + s.topic + "\"",
                            Status(topic->error, std::string(error_name(topic->error))));
          }
          return ctx.not_found("topic", s.topic);
        }
        for (const client::PartitionInfo& p : topic->partitions) numbers.push_back(p.partition);
      }
      for (int32_t p : numbers) {
        client::TopicPartition tp{s.topic, p};
        if (listed.insert(tp).second) partitions->push_back(tp);
      }
    }
  }

  Result<std::vector<client::ElectionOutcome>> outcomes = admin->elect_leaders(type, partitions);
  if (!outcomes.is_ok()) return ctx.fail("cannot elect leaders", outcomes.status());
  json doc = json::array();
  size_t failed = 0;
  int failure_code = kExitOk;
  for (const client::ElectionOutcome& o : *outcomes) {
    json item = {{"topic", o.partition.topic},
                 {"partition", o.partition.partition},
                 {"status", !o.status.is_ok() ? "failed"
                            : o.elected       ? "elected"
                                              : "not-needed"},
                 {"leader", o.leader_id >= 0 ? json(o.leader_id) : json(nullptr)}};
    if (!o.status.is_ok()) {
      ++failed;
      item["error"] = o.status.message();
      item["error_code"] = error_name(o.status.code());
      failure_code = ctx.fail(
          "cannot elect a leader for partition \"" + o.partition.to_string() + "\"", o.status);
    } else if (!o.elected) {
      item["note"] = o.note;
    }
    doc.push_back(item);
  }
  ctx.print(doc, elections_table);
  if (failed == 0) return kExitOk;
  return failed < outcomes->size() ? kExitUnhealthy : failure_code;
}

}  // namespace

void add_partition_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* partition = root.add_subcommand("partition", "Partition leadership and placement");
  partition->require_subcommand(1);
  auto flags = std::make_shared<ElectFlags>();
  CLI::App* elect = partition->add_subcommand(
      "elect-leaders",
      "Move leadership back to the preferred replicas, or elect leaders of leaderless "
      "partitions from any live replica (--unclean)");
  elect->add_option("partitions", flags->selections,
                    "TOPIC or TOPIC:P,P,... (default: every partition)");
  elect->add_flag(
      "--preferred", flags->preferred,
      "The first replica of each partition leads, if it is a live ISR member (default)");
  elect->add_flag("--unclean", flags->unclean,
                  "Partitions without a leader get any live replica as leader (may lose messages)");
  elect->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation of --unclean on a terminal");
  elect->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return elect_leaders(ctx, *flags); }; });
  add_reassign_command(partition, ctx, action);
}

}  // namespace mq::ctl
