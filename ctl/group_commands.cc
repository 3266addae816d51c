// mqctl group list|describe|delete|delete-offsets|reset-offsets, on the
// admin client's group calls (docs/groups.md). reset-offsets prints its plan
// and changes nothing unless --execute is given.
#include <fstream>
#include <sstream>

#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/start_position.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct GroupFlags {
  std::vector<std::string> groups;
  std::vector<std::string> topics;
  bool all_topics = false;
  // reset-offsets: exactly one mode.
  bool to_earliest = false, to_latest = false, to_current = false;
  std::optional<int64_t> to_offset, shift_by;
  std::string to_datetime, by_duration, from_file;
  bool dry_run = false, execute = false;
  bool yes = false;
};

json offset_json(int64_t offset) {
  return offset < 0 ? json(nullptr) : json(offset);
}

int group_list(Context& ctx, const GroupFlags&) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto groups = admin->list_groups();
  if (!groups.is_ok()) return ctx.fail("cannot list groups", groups.status());
  json doc = json::array();
  for (const auto& g : *groups) {
    doc.push_back({{"group", g.group_id},
                   {"state", g.state},
                   {"protocol_type", g.protocol_type},
                   {"coordinator", g.coordinator_id}});
  }
  ctx.print(doc, [](const json& rows) {
    Table table({"GROUP", "STATE", "COORDINATOR"});
    for (const auto& r : rows)
      table.add_row({cell(r["group"]), cell(r["state"]), cell(r["coordinator"])});
    return table.render();
  });
  return kExitOk;
}

json describe_json(const client::GroupDescription& d) {
  json members = json::array();
  for (const auto& m : d.members) {
    json assignment = json::array();
    for (const auto& tp : m.assignment) assignment.push_back(tp.to_string());
    members.push_back(
        {{"member_id", m.member_id},
         {"instance_id", m.group_instance_id ? json(*m.group_instance_id) : json(nullptr)},
         {"client_id", m.client_id},
         {"host", m.client_host},
         {"topics", m.topics},
         {"assignment", assignment}});
  }
  json partitions = json::array();
  for (const auto& p : d.partitions) {
    partitions.push_back({{"topic", p.partition.topic},
                          {"partition", p.partition.partition},
                          {"committed_offset", offset_json(p.committed_offset)},
                          {"log_end_offset", offset_json(p.log_end_offset)},
                          {"lag", offset_json(p.lag)},
                          {"member_id", p.member_id.empty() ? json(nullptr) : json(p.member_id)}});
  }
  return {{"group", d.group_id},     {"state", d.state},
          {"assignor", d.assignor},  {"coordinator", d.coordinator_id},
          {"members", members},      {"partitions", partitions},
          {"total_lag", d.total_lag}};
}

std::string describe_table(const json& groups) {
  std::string out;
  for (const auto& g : groups) {
    if (!out.empty()) out += "\n";
    out += "GROUP " + cell(g["group"]) + "  STATE " + cell(g["state"]) + "  ASSIGNOR " +
           cell(g["assignor"]) + "  MEMBERS " + std::to_string(g["members"].size()) +
           "  TOTAL LAG " + cell(g["total_lag"]) + "\n";
    if (!g["members"].empty()) {
      Table members({"MEMBER", "CLIENT", "HOST", "PARTITIONS"});
      for (const auto& m : g["members"]) {
        std::string assigned;
        for (const auto& tp : m["assignment"])
          assigned += (assigned.empty() ? "" : ",") + tp.get<std::string>();
        members.add_row({cell(m["member_id"]), cell(m["client_id"]), cell(m["host"]), assigned});
      }
      out += members.render();
    }
    Table partitions({"TOPIC", "PARTITION", "COMMITTED", "LOG-END", "LAG", "MEMBER"});
    for (const auto& p : g["partitions"]) {
      partitions.add_row({cell(p["topic"]), cell(p["partition"]), cell(p["committed_offset"]),
                          cell(p["log_end_offset"]), cell(p["lag"]), cell(p["member_id"])});
    }
    if (!partitions.empty()) out += partitions.render();
  }
  return out;
}

int group_describe(Context& ctx, const GroupFlags& flags) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  json doc = json::array();
  for (const auto& id : flags.groups) {
    auto described = admin->describe_group(id);
    if (!described.is_ok())
      return ctx.fail("cannot describe group \"" + id + "\"", described.status());
    if (described->state == "Dead") return ctx.not_found("group", id);
    doc.push_back(describe_json(*described));
  }
  ctx.print(doc, describe_table);
  return kExitOk;
}

int group_delete(Context& ctx, const GroupFlags& flags) {
  if (!ctx.confirm("delete group(s) and their committed offsets", flags.yes)) return kExitFailed;
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto results = admin->delete_groups(flags.groups);
  if (!results.is_ok()) return ctx.fail("cannot delete groups", results.status());
  std::vector<ItemOutcome> outcomes;
  for (const auto& r : *results) {
    outcomes.push_back({r.name, r.status.is_ok() ? "deleted" : "failed", r.status});
  }
  return report_outcomes(ctx, "delete", "group", outcomes);
}

int group_delete_offsets(Context& ctx, const GroupFlags& flags) {
  if (flags.topics.size() != 1) return ctx.usage("delete-offsets takes exactly one --topic");
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Status deleted = admin->delete_group_offsets(flags.groups.at(0), flags.topics[0]);
  if (!deleted.is_ok()) {
    return ctx.fail("cannot delete the offsets of group \"" + flags.groups[0] + "\"", deleted);
  }
  ctx.print({{"group", flags.groups[0]}, {"topic", flags.topics[0]}, {"status", "deleted"}},
            [](const json& d) {
              return "deleted the offsets of " + cell(d["group"]) + " for " + cell(d["topic"]) +
                     "\n";
            });
  return kExitOk;
}

// The reset spec from the flags, or a usage error in *error.
std::optional<client::OffsetResetSpec> reset_spec(const GroupFlags& f, std::string* error) {
  client::OffsetResetSpec spec;
  int modes = f.to_earliest + f.to_latest + f.to_current + f.to_offset.has_value() +
              f.shift_by.has_value() + !f.to_datetime.empty() + !f.by_duration.empty() +
              !f.from_file.empty();
  if (modes != 1) {
    *error =
        "give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, "
        "--to-datetime, --by-duration, --to-current, --from-file";
    return std::nullopt;
  }
  if (f.from_file.empty() && f.topics.empty() == !f.all_topics) {
    *error = "give --topic T[:P,...] (repeatable) or --all-topics";
    return std::nullopt;
  }
  if (f.to_earliest) spec.mode = client::OffsetResetMode::kToEarliest;
  if (f.to_latest) spec.mode = client::OffsetResetMode::kToLatest;
  if (f.to_current) spec.mode = client::OffsetResetMode::kToCurrent;
  if (f.to_offset) {
    if (*f.to_offset < 0) {
      *error = "--to-offset must be >= 0";
      return std::nullopt;
    }
    spec.mode = client::OffsetResetMode::kToOffset;
    spec.value = *f.to_offset;
  }
  if (f.shift_by) {
    spec.mode = client::OffsetResetMode::kShiftBy;
    spec.value = *f.shift_by;
  }
  if (!f.to_datetime.empty()) {
    Result<int64_t> ms = parse_time_ms(f.to_datetime, now_ms());
    if (!ms.is_ok()) {
      *error = "--to-datetime: " + ms.status().message();
      return std::nullopt;
    }
    spec.mode = client::OffsetResetMode::kToDatetime;
    spec.value = *ms;
  }
  if (!f.by_duration.empty()) {
    Result<int64_t> ms = parse_duration_ms(f.by_duration);
    if (!ms.is_ok()) {
      *error = "--by-duration: " + ms.status().message();
      return std::nullopt;
    }
    spec.mode = client::OffsetResetMode::kByDuration;
    spec.value = *ms;
  }
  if (!f.from_file.empty()) {
    std::ifstream in(f.from_file);
    if (!in) {
      *error = "--from-file: cannot read " + f.from_file;
      return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    spec.mode = client::OffsetResetMode::kFromCsv;
    spec.csv = text.str();
  }
  for (const auto& t : f.topics) {
    Result<client::TopicSelection> selection = client::parse_topic_selection(t);
    if (!selection.is_ok()) {
      *error = "--topic " + t + ": " + selection.status().message();
      return std::nullopt;
    }
    spec.topics.push_back(*selection);
  }
  return spec;
}

int group_reset_offsets(Context& ctx, const GroupFlags& flags) {
  if (flags.dry_run && flags.execute) return ctx.usage("give --dry-run or --execute, not both");
  std::string error;
  std::optional<client::OffsetResetSpec> spec = reset_spec(flags, &error);
  if (!spec) return ctx.usage(error);
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  const std::string& group = flags.groups.at(0);
  Result<client::OffsetResetPlan> plan = admin->plan_offset_reset(group, *spec);
  if (!plan.is_ok())
    return ctx.fail("cannot reset the offsets of group \"" + group + "\"", plan.status());
  if (flags.execute) {
    Status applied = admin->apply_offset_reset(*plan);
    if (!applied.is_ok())
      return ctx.fail("cannot reset the offsets of group \"" + group + "\"", applied);
  }
  json entries = json::array();
  for (const auto& e : plan->entries) {
    entries.push_back({{"topic", e.partition.topic},
                       {"partition", e.partition.partition},
                       {"current_offset", offset_json(e.current_offset)},
                       {"new_offset", e.new_offset}});
  }
  json doc = {{"group", group}, {"executed", flags.execute}, {"partitions", entries}};
  ctx.print(doc, [](const json& d) {
    Table table({"TOPIC", "PARTITION", "CURRENT", "NEW"});
    for (const auto& e : d["partitions"]) {
      table.add_row({cell(e["topic"]), cell(e["partition"]), cell(e["current_offset"]),
                     cell(e["new_offset"])});
    }
    return table.render() + (d["executed"].get<bool>()
                                 ? "applied\n"
                                 : "dry run: nothing changed; add --execute to apply\n");
  });
  return kExitOk;
}

}  // namespace

void add_group_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* group =
      root.add_subcommand("group", "Consumer groups: list, describe, delete, reset offsets");
  group->require_subcommand(1);
  auto flags = std::make_shared<GroupFlags>();
  auto bind = [&ctx, &action, flags](CLI::App* command, int (*run)(Context&, const GroupFlags&)) {
    command->callback(
        [&ctx, &action, flags, run] { action = [&ctx, flags, run] { return run(ctx, *flags); }; });
  };

  bind(group->add_subcommand("list", "Groups and their states"), group_list);

  CLI::App* describe = group->add_subcommand(
      "describe", "State, members and, per partition, committed offset, log end and lag");
  describe->add_option("group", flags->groups, "Group ids")->required();
  bind(describe, group_describe);

  CLI::App* remove = group->add_subcommand("delete", "Delete empty groups and their offsets");
  remove->add_option("group", flags->groups, "Group ids")->required();
  remove->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation on a terminal");
  bind(remove, group_delete);

  CLI::App* offsets =
      group->add_subcommand("delete-offsets", "Delete a group's committed offsets for a topic");
  offsets->add_option("group", flags->groups, "Group id")->required()->expected(1);
  offsets->add_option("--topic", flags->topics, "Topic")->required();
  bind(offsets, group_delete_offsets);

  CLI::App* reset = group->add_subcommand(
      "reset-offsets", "Move an empty group's committed offsets (a dry run unless --execute)");
  reset->add_option("group", flags->groups, "Group id")->required()->expected(1);
  reset->add_option("--topic", flags->topics, "T or T:P,P,... (repeatable)");
  reset->add_flag("--all-topics", flags->all_topics, "Every topic the group has offsets for");
  reset->add_flag("--to-earliest", flags->to_earliest, "The first offset still in the log");
  reset->add_flag("--to-latest", flags->to_latest, "The log end (skip everything)");
  reset->add_option("--to-offset", flags->to_offset, "An offset (clamped to the log)");
  reset->add_option("--shift-by", flags->shift_by, "Move by N (negative: back)");
  reset->add_option("--to-datetime", flags->to_datetime,
                    "First offset at or after a time: [@]TIME or [@]-DURATION, as consume --from");
  reset->add_option("--by-duration", flags->by_duration,
                    "First offset at or after now - DUR (e.g. 1h30m)");
  reset->add_flag("--to-current", flags->to_current,
                  "Where the group is now (rewrites the commits)");
  reset->add_option("--from-file", flags->from_file, "CSV lines topic,partition,offset");
  reset->add_flag("--dry-run", flags->dry_run, "Print the plan only (the default)");
  reset->add_flag("--execute", flags->execute, "Apply the plan, all partitions at once");
  bind(reset, group_reset_offsets);
}

}  // namespace mq::ctl
