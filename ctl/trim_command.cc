// mqctl topic trim TOPIC[:P,...] --before OFFSET|@TIME|end [--dry-run]:
// deletes the messages below a point in each partition (DeleteRecords; rpk's
// topic trim-prefix, kafka-delete-records). The plan (each partition's log
// start now and after, and how many messages go) is printed first; a dry run
// stops there, a terminal asks before deleting.
#include <chrono>
#include <cstdio>

#include "ctl/commands.h"
#include "ctl/output.h"
#include "ctl/progress.h"
#include "ctl/start_position.h"
#include "transport/list_offsets.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct TrimFlags {
  std::string topic;
  std::string before;
  bool dry_run = false;
  bool yes = false;
};

struct PlanRow {
  client::TopicPartition tp;
  int64_t log_start = -1;
  int64_t high_watermark = -1;
  int64_t new_log_start = -1;
  Status error;
};

json row_json(const PlanRow& r, const std::string& status) {
  json row = {
      {"topic", r.tp.topic},
      {"partition", r.tp.partition},
      {"log_start_offset", r.log_start},
      {"new_log_start_offset", r.new_log_start},
      {"messages",
       r.error.is_ok() ? json(std::max<int64_t>(0, r.new_log_start - r.log_start)) : json()},
      {"status", status}};
  if (!r.error.is_ok()) {
    row["error"] = r.error.message();
    row["error_code"] = error_name(r.error.code());
  }
  return row;
}

std::string plan_table(const json& doc) {
  Table table({"TOPIC", "PARTITION", "LOG-START", "NEW-LOG-START", "MESSAGES", "STATUS"});
  for (const auto& r : doc["partitions"]) {
    table.add_row({cell(r["topic"]), cell(r["partition"]), cell(r["log_start_offset"]),
                   cell(r["new_log_start_offset"]), cell(r["messages"]), cell(r["status"])});
  }
  std::string out = table.render();
  if (doc["dry_run"].get<bool>())
    out += "dry run: nothing deleted; run without --dry-run to delete\n";
  return out;
}

int trim(Context& ctx, const TrimFlags& flags) {
  Result<client::TopicSelection> selection = client::parse_topic_selection(flags.topic);
  if (!selection.is_ok()) return ctx.usage(selection.status().message());
  using Kind = StartPosition::Kind;
  Result<StartPosition> point = parse_start_position(flags.before, now_ms());
  if (!point.is_ok() || point->kind == Kind::kBeginning) {
    return ctx.usage("--before \"" + flags.before + "\": " +
                     (point.is_ok() ? "nothing is below the beginning; give" : "expected") +
                     " OFFSET, end, -N (keep the last N), @TIME or @-DURATION");
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata =
      admin->describe_cluster(std::vector<std::string>{selection->topic});
  if (!metadata.is_ok()) return ctx.fail("cannot trim", metadata.status());
  int32_t count = metadata->partition_count(selection->topic);
  if (count == 0) return ctx.not_found("topic", selection->topic);
  std::vector<int32_t> partitions = selection->partitions;
  if (partitions.empty()) {
    for (int32_t p = 0; p < count; ++p) partitions.push_back(p);
  }
  for (int32_t p : partitions) {
    if (p >= count) {
      ctx.error("partition " + std::to_string(p) + " of topic \"" + selection->topic +
                "\" not found: it has " + std::to_string(count) + " partitions");
      return kExitNotFound;
    }
  }
  // The plan: where each partition starts and ends now, and where it will start.
  auto ask = [&](int64_t timestamp) {
    std::map<client::TopicPartition, int64_t> wanted;
    for (int32_t p : partitions) wanted[{selection->topic, p}] = timestamp;
    return admin->list_offsets_each(wanted);
  };
  auto starts = ask(transport::kEarliestTimestamp);
  auto ends = ask(transport::kLatestTimestamp);
  if (!starts.is_ok()) return ctx.fail("cannot trim", starts.status());
  if (!ends.is_ok()) return ctx.fail("cannot trim", ends.status());
  std::optional<std::map<client::TopicPartition, Result<client::ListedOffset>>> at_time;
  if (point->kind == Kind::kTimestamp) {
    auto found = ask(point->value);
    if (!found.is_ok()) return ctx.fail("cannot trim", found.status());
    at_time = std::move(*found);
  }
  std::vector<PlanRow> plan;
  for (int32_t p : partitions) {
    client::TopicPartition tp{selection->topic, p};
    PlanRow row{.tp = tp};
    const auto& start = starts->at(tp);
    const auto& end = ends->at(tp);
    if (!start.is_ok() || !end.is_ok()) {
      row.error = !start.is_ok() ? start.status() : end.status();
      plan.push_back(row);
      continue;
    }
    row.log_start = start->offset;
    row.high_watermark = end->offset;
    if (point->kind == Kind::kTimestamp) {
      const auto& found = at_time->at(tp);
      if (!found.is_ok()) {
        row.error = found.status();
      } else {
        // No message that recent: every committed one is older.
        row.new_log_start = found->offset < 0 ? row.high_watermark : found->offset;
      }
    } else if (point->kind == Kind::kOffset && point->value > row.high_watermark) {
      row.new_log_start = point->value;
      row.error = Status(ErrorCode::kOffsetOutOfRange, "offset " + std::to_string(point->value) +
                                                           " is past the high watermark " +
                                                           std::to_string(row.high_watermark));
    } else {
      row.new_log_start = resolve_start_offset(*point, row.log_start, row.high_watermark);
    }
    // A log start already past the point stays where it is.
    if (row.error.is_ok()) row.new_log_start = std::max(row.new_log_start, row.log_start);
    plan.push_back(row);
  }
  auto report = [&](const std::vector<std::string>& statuses, bool dry_run) -> int {
    json doc = {{"topic", selection->topic}, {"dry_run", dry_run}, {"partitions", json::array()}};
    for (size_t i = 0; i < plan.size(); ++i) {
      doc["partitions"].push_back(row_json(plan[i], statuses[i]));
    }
    ctx.print(doc, plan_table);
    size_t failed = 0;
    int code = kExitOk;
    for (const PlanRow& r : plan) {
      if (r.error.is_ok()) continue;
      ++failed;
      code = ctx.fail("cannot trim " + r.tp.to_string(), r.error);
    }
    if (failed == 0) return kExitOk;
    return failed < plan.size() ? kExitPartial : code;
  };
  std::vector<std::string> statuses;
  std::map<client::TopicPartition, int64_t> to_delete;
  for (const PlanRow& r : plan) {
    bool moves = r.error.is_ok() && r.new_log_start > r.log_start;
    statuses.push_back(!r.error.is_ok() ? "failed" : moves ? "planned" : "unchanged");
    if (moves) to_delete[r.tp] = r.new_log_start;
  }
  if (flags.dry_run || to_delete.empty()) return report(statuses, flags.dry_run);
  int64_t messages = 0;
  for (const PlanRow& r : plan) {
    if (to_delete.contains(r.tp)) messages += r.new_log_start - r.log_start;
  }
  if (!ctx.confirm("delete " + std::to_string(messages) + " message(s) from " +
                       std::to_string(to_delete.size()) + " partition(s) of \"" + selection->topic +
                       "\"",
                   flags.yes)) {
    ctx.error("trim cancelled: nothing deleted");
    return kExitFailed;
  }
  Result<std::map<client::TopicPartition, Result<int64_t>>> deleted = [&] {
    // Answered once every in-sync replica deleted too: that wait can last.
    ProgressLine progress(ctx, [n = to_delete.size(), start = std::chrono::steady_clock::now()] {
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      char text[128];
      std::snprintf(text, sizeof(text),
                    "trimming %zu partition(s): waiting for their in-sync replicas (%.1fs)", n,
                    seconds);
      return std::string(text);
    });
    return admin->delete_records(to_delete);
  }();
  if (!deleted.is_ok()) return ctx.fail("cannot trim", deleted.status());
  for (size_t i = 0; i < plan.size(); ++i) {
    auto it = deleted->find(plan[i].tp);
    if (it == deleted->end()) continue;
    if (it->second.is_ok()) {
      statuses[i] = "trimmed";
    } else {
      statuses[i] = "failed";
      plan[i].error = it->second.status();
    }
  }
  return report(statuses, false);
}

}  // namespace

void add_trim_command(CLI::App* topic, Context& ctx, Action& action) {
  auto flags = std::make_shared<TrimFlags>();
  CLI::App* command = topic->add_subcommand(
      "trim", "Delete the messages below an offset or time (the log start moves forward)");
  command->add_option("topic", flags->topic, "T or T:P,P,...")->required();
  command
      ->add_option("--before", flags->before,
                   "OFFSET, end (every committed message), or @TIME / @-DURATION: messages "
                   "below it go")
      ->required();
  command->add_flag("--dry-run", flags->dry_run, "Print the plan only");
  command->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation on a terminal");
  command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return trim(ctx, *flags); }; });
}

}  // namespace mq::ctl
