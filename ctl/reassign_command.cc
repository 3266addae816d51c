// mqctl partition reassign: move partitions between brokers from a plan
// file (--dry-run, --execute, --verify, --cancel), generate such a plan
// (--generate --brokers), and list the reassignments in progress (--list).
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/output.h"
#include "ctl/progress.h"
#include "ctl/reassignment_plan.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct ReassignFlags {
  std::string plan_path;  // "-" = stdin
  bool dry_run = false;
  bool execute = false;
  bool verify = false;
  bool cancel = false;
  bool generate = false;
  bool list = false;
  std::string brokers;             // --generate: "1,2,4"
  int32_t replication_factor = 0;  // --generate: 0 = each partition keeps its own
  std::string throttle;            // --execute: a byte rate
  bool yes = false;
  std::vector<std::string> topics;  // --generate: topics to move (default all)
};

std::string replicas_text(const json& ids) {
  if (!ids.is_array()) return "-";
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + cell(id);
  return out.empty() ? "-" : out;
}

std::string plan_table(const json& items) {
  Table table({"TOPIC", "PARTITION", "CURRENT", "TARGET", "STATUS", "DETAIL"});
  for (const auto& item : items) {
    std::string detail;
    if (item.contains("error")) {
      detail = cell(item["error"]) + " (" + cell(item["error_code"]) + ")";
    } else if (item.contains("adding")) {
      detail = "adding " + replicas_text(item["adding"]) + ", ISR " + replicas_text(item["isr"]);
    }
    table.add_row({cell(item["topic"]), cell(item["partition"]), replicas_text(item["current"]),
                   replicas_text(item["target"]), cell(item["status"]), detail});
  }
  return table.render();
}

std::string listing_table(const json& doc) {
  Table table({"TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING", "ISR", "LEADER"});
  for (const auto& item : doc["partitions"]) {
    table.add_row({cell(item["topic"]), cell(item["partition"]), replicas_text(item["replicas"]),
                   replicas_text(item["adding"]), replicas_text(item["removing"]),
                   replicas_text(item["isr"]), cell(item["leader"])});
  }
  int64_t throttle = doc["throttle_bytes_per_sec"].get<int64_t>();
  return table.render() + "throttle: " +
         (throttle > 0 ? std::to_string(throttle) + " bytes/s" : std::string("none")) + "\n";
}

Result<std::string> read_plan_text(Context& ctx, const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), ctx.io.in)) > 0) text.write(buffer, n);
    return text.str();
  }
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kInvalidRequest, "cannot read plan file \"" + path + "\"");
  text << in.rdbuf();
  return text.str();
}

// Current replicas of the plan's partitions; a missing topic or partition is
// reported and ends the command (the plan is about partitions that exist).
Result<std::map<client::TopicPartition, std::vector<int32_t>>> current_replicas(
    Context& ctx, client::Admin& admin, const std::vector<PlanEntry>& plan, int* exit_code) {
  std::vector<std::string> topics;
  for (const PlanEntry& e : plan) {
    if (std::find(topics.begin(), topics.end(), e.topic) == topics.end()) topics.push_back(e.topic);
  }
  Result<client::ClusterMetadata> metadata = admin.describe_cluster(topics);
  if (!metadata.is_ok()) {
    *exit_code = ctx.fail("cannot describe topics", metadata.status());
    return metadata.status();
  }
  std::map<client::TopicPartition, std::vector<int32_t>> out;
  for (const PlanEntry& e : plan) {
    const client::TopicInfo* topic = metadata->topic(e.topic);
    if (topic == nullptr || topic->error != ErrorCode::kNone) {
      *exit_code = ctx.not_found("topic", e.topic);
      return Status(ErrorCode::kUnknownTopicOrPartition, e.topic);
    }
    if (e.partition >= static_cast<int32_t>(topic->partitions.size())) {
      *exit_code = ctx.not_found("partition", e.topic + "-" + std::to_string(e.partition));
      return Status(ErrorCode::kUnknownTopicOrPartition, e.topic);
    }
    out[{e.topic, e.partition}] = topic->partitions[static_cast<size_t>(e.partition)].replicas;
  }
  return out;
}

// Where a partition being moved is going: its replicas but the removing ones.
std::vector<int32_t> target_of(const client::OngoingReassignment& r) {
  std::vector<int32_t> target;
  for (int32_t id : r.replicas) {
    if (std::find(r.removing_replicas.begin(), r.removing_replicas.end(), id) ==
        r.removing_replicas.end()) {
      target.push_back(id);
    }
  }
  return target;
}

// Exit code for a batch: 0 if nothing failed, 4 if some did, else the failure's.
int batch_exit(size_t failed, size_t total, int failure_code) {
  if (failed == 0) return kExitOk;
  return failed < total ? kExitUnhealthy : failure_code;
}

int generate(Context& ctx, const ReassignFlags& flags) {
  if (flags.brokers.empty()) return ctx.usage("--generate needs --brokers ID,ID,...");
  if (flags.replication_factor < 0) return ctx.usage("--replication-factor must be >= 1");
  Result<std::vector<int32_t>> brokers = parse_partition_list("--brokers", flags.brokers);
  if (!brokers.is_ok()) return ctx.usage(brokers.status().message());
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  std::optional<std::vector<std::string>> topics;
  if (!flags.topics.empty()) topics = flags.topics;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(topics);
  if (!metadata.is_ok()) return ctx.fail("cannot describe the cluster", metadata.status());
  std::set<int32_t> known;
  for (const client::BrokerInfo& b : metadata->brokers) known.insert(b.node_id);
  for (int32_t id : *brokers) {
    if (!known.contains(id)) return ctx.not_found("broker", std::to_string(id));
  }
  std::vector<PlanEntry> current;
  for (const std::string& name : flags.topics) {
    const client::TopicInfo* topic = metadata->topic(name);
    if (topic == nullptr || topic->error != ErrorCode::kNone) return ctx.not_found("topic", name);
  }
  for (const auto& [name, topic] : metadata->topics) {
    if (topic.error != ErrorCode::kNone) continue;
    for (const client::PartitionInfo& p : topic.partitions) {
      current.push_back({topic.name, p.partition, p.replicas});
    }
  }
  std::optional<int32_t> factor;
  if (flags.replication_factor != 0) factor = flags.replication_factor;
  Result<std::vector<PlanEntry>> plan = generate_plan(current, *brokers, factor);
  if (!plan.is_ok()) return ctx.fail("cannot generate a plan", plan.status());
  if (plan->empty()) ctx.error("every partition already lives on the brokers given; empty plan");
  std::string text = plan_to_json(*plan);
  std::fwrite(text.data(), 1, text.size(), ctx.io.out);
  std::fflush(ctx.io.out);
  return kExitOk;
}

int list(Context& ctx) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ReassignmentListing> listing = admin->list_reassignments();
  if (!listing.is_ok()) return ctx.fail("cannot list reassignments", listing.status());
  json partitions = json::array();
  for (const client::OngoingReassignment& r : listing->partitions) {
    partitions.push_back({{"topic", r.partition.topic},
                          {"partition", r.partition.partition},
                          {"replicas", r.replicas},
                          {"adding", r.adding_replicas},
                          {"removing", r.removing_replicas},
                          {"isr", r.isr},
                          {"leader", r.leader_id}});
  }
  json doc = {{"throttle_bytes_per_sec", listing->throttle_bytes_per_sec},
              {"partitions", partitions}};
  ctx.print(doc, listing_table);
  return kExitOk;
}

// "copied 1.2 GiB of 3.4 GiB (35%) to 4 new replica(s)", from every
// broker's log dirs; nothing when the sizes cannot be read.
std::optional<std::string> copy_progress_line(
    client::Admin& admin, const std::vector<client::OngoingReassignment>& moving) {
  if (moving.empty()) return std::nullopt;
  std::set<std::string> topics;
  for (const auto& r : moving) topics.insert(r.partition.topic);
  auto dirs = admin.describe_log_dirs({}, std::vector<std::string>(topics.begin(), topics.end()));
  if (!dirs.is_ok()) return std::nullopt;
  std::map<std::pair<int32_t, client::TopicPartition>, int64_t> sizes;
  for (const auto& [broker, dir] : *dirs) {
    if (!dir.is_ok()) continue;
    for (const auto& p : dir->partitions) sizes[{broker, p.partition}] = p.size_bytes;
  }
  CopyProgress progress = copy_progress(moving, sizes);
  if (progress.replicas == 0) return std::nullopt;
  int64_t percent =
      progress.total_bytes > 0 ? progress.copied_bytes * 100 / progress.total_bytes : 100;
  return "copied " + format_bytes(progress.copied_bytes) + " of " +
         format_bytes(progress.total_bytes) + " (" + std::to_string(percent) + "%) to " +
         std::to_string(progress.replicas) + " new replica(s)";
}

int run_plan(Context& ctx, const ReassignFlags& flags) {
  if (!flags.throttle.empty() && !flags.execute) return ctx.usage("--throttle goes with --execute");
  int64_t throttle = -1;
  if (!flags.throttle.empty()) {
    Result<int64_t> rate = parse_byte_rate("--throttle", flags.throttle);
    if (!rate.is_ok()) return ctx.usage(rate.status().message());
    throttle = *rate;
  }
  Result<std::string> text = read_plan_text(ctx, flags.plan_path);
  if (!text.is_ok()) return ctx.fail("cannot read the plan", text.status());
  Result<std::vector<PlanEntry>> plan = parse_plan(*text);
  if (!plan.is_ok()) {
    ctx.error(flags.plan_path + ": " + plan.status().message());
    return kExitUsage;
  }
  if (plan->empty() && !flags.verify) {
    ctx.error("the plan moves no partition");
    return kExitOk;
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  int exit_code = kExitFailed;
  auto current = current_replicas(ctx, *admin, *plan, &exit_code);
  if (!current.is_ok()) return exit_code;

  json doc = json::array();
  auto item_of = [&](const PlanEntry& e) {
    return json{{"topic", e.topic},
                {"partition", e.partition},
                {"current", (*current)[{e.topic, e.partition}]},
                {"target", e.replicas}};
  };
  size_t failed = 0;
  int failure_code = kExitOk;
  auto record_failure = [&](json& item, const std::string& what, const Status& status) {
    ++failed;
    item["error"] = status.message();
    item["error_code"] = error_name(status.code());
    failure_code = ctx.fail(what, status);
  };

  // The moves in progress: --verify reports them, --execute leaves alone
  // those already going to the plan's replicas (running it again with
  // another --throttle only changes the rate).
  std::map<client::TopicPartition, client::OngoingReassignment> ongoing;
  int64_t throttle_in_force = 0;
  if (flags.verify || flags.execute) {
    Result<client::ReassignmentListing> listing = admin->list_reassignments();
    if (!listing.is_ok()) return ctx.fail("cannot list reassignments", listing.status());
    for (const auto& r : listing->partitions) ongoing[r.partition] = r;
    throttle_in_force = listing->throttle_bytes_per_sec;
  }
  auto in_progress = [&](json& item, const client::OngoingReassignment& r) {
    item["adding"] = r.adding_replicas;
    item["isr"] = r.isr;
  };

  if (flags.verify) {
    size_t pending = 0;
    for (const PlanEntry& e : *plan) {
      json item = item_of(e);
      auto it = ongoing.find({e.topic, e.partition});
      if (it != ongoing.end()) {
        item["status"] = target_of(it->second) == e.replicas ? "in-progress" : "other-reassignment";
        in_progress(item, it->second);
        ++pending;
      } else if ((*current)[{e.topic, e.partition}] == e.replicas) {
        item["status"] = "done";
      } else {
        item["status"] = "not-started";
        ++pending;
      }
      doc.push_back(item);
    }
    ctx.print(doc, plan_table);
    if (pending > 0 && progress_wanted(ctx)) {
      std::vector<client::OngoingReassignment> moving;
      for (const PlanEntry& e : *plan) {
        auto it = ongoing.find({e.topic, e.partition});
        if (it != ongoing.end()) moving.push_back(it->second);
      }
      if (std::optional<std::string> line = copy_progress_line(*admin, moving)) ctx.error(*line);
    }
    if (throttle_in_force > 0) {
      ctx.error("reassignment throttle in force: " + std::to_string(throttle_in_force) +
                " bytes/s (removed by the controller when no partition is moving)");
    }
    return pending == 0 ? kExitOk : kExitUnhealthy;
  }

  std::vector<client::ReassignmentTarget> targets;
  std::vector<size_t> sent;  // index into plan of each target
  std::set<size_t> already_moving;
  for (size_t i = 0; i < plan->size(); ++i) {
    const PlanEntry& e = (*plan)[i];
    auto moving = ongoing.find({e.topic, e.partition});
    if (flags.execute && moving != ongoing.end() && target_of(moving->second) == e.replicas) {
      already_moving.insert(i);
      continue;
    }
    if (flags.cancel || (*current)[{e.topic, e.partition}] != e.replicas) {
      targets.push_back(
          {{e.topic, e.partition}, flags.cancel ? std::nullopt : std::optional(e.replicas)});
      sent.push_back(i);
    }
  }
  if (flags.execute && !targets.empty() &&
      !ctx.confirm("Move " + std::to_string(targets.size()) +
                       " partition(s) to the replicas in the plan? Their data is copied to the "
                       "new brokers and deleted from the old ones once they caught up",
                   flags.yes)) {
    ctx.error("not confirmed; nothing moved");
    return kExitFailed;
  }
  if (flags.cancel && !ctx.confirm("Cancel the reassignments of " + std::to_string(targets.size()) +
                                       " partition(s)? They return to their original replicas",
                                   flags.yes)) {
    ctx.error("not confirmed; nothing cancelled");
    return kExitFailed;
  }
  std::vector<client::ReassignmentOutcome> outcomes;
  if (!targets.empty() || (flags.execute && throttle > 0)) {
    Result<std::vector<client::ReassignmentOutcome>> done =
        admin->alter_reassignments(targets, flags.execute ? throttle : -1, flags.dry_run);
    if (!done.is_ok()) {
      return ctx.fail(flags.cancel ? "cannot cancel the reassignments" : "cannot reassign",
                      done.status());
    }
    outcomes = std::move(*done);
  }
  std::map<size_t, const client::ReassignmentOutcome*> by_entry;
  for (size_t k = 0; k < sent.size() && k < outcomes.size(); ++k) by_entry[sent[k]] = &outcomes[k];
  std::string ok_status = flags.dry_run ? "valid" : flags.cancel ? "cancelled" : "started";
  for (size_t i = 0; i < plan->size(); ++i) {
    const PlanEntry& e = (*plan)[i];
    json item = item_of(e);
    auto it = by_entry.find(i);
    if (already_moving.contains(i)) {
      item["status"] = "in-progress";
      in_progress(item, ongoing.at({e.topic, e.partition}));
    } else if (it == by_entry.end()) {
      item["status"] = "unchanged";
    } else if (it->second->status.is_ok()) {
      item["status"] = ok_status;
    } else if (flags.cancel &&
               it->second->status.message().starts_with("NO_REASSIGNMENT_IN_PROGRESS")) {
      item["status"] = "not-in-progress";
    } else {
      item["status"] = flags.dry_run ? "invalid" : "failed";
      record_failure(item, "partition \"" + e.topic + "-" + std::to_string(e.partition) + "\"",
                     it->second->status);
    }
    doc.push_back(item);
  }
  ctx.print(doc, plan_table);
  bool took = targets.empty() || failed < targets.size();
  if (flags.execute && throttle > 0 && took) {
    ctx.error("reassignment throttle: " + std::to_string(throttle) +
              " bytes/s per receiving broker");
  }
  if (flags.execute && !targets.empty() && failed < targets.size()) {
    ctx.error("started; follow it with: mqctl partition reassign --plan " + flags.plan_path +
              " --verify");
  }
  return batch_exit(failed, plan->size(), failure_code);
}

}  // namespace

void add_reassign_command(CLI::App* partition, Context& ctx, Action& action) {
  auto flags = std::make_shared<ReassignFlags>();
  CLI::App* reassign = partition->add_subcommand(
      "reassign",
      "Move partitions to other brokers from a plan file: check it (--dry-run), start it "
      "(--execute), follow it (--verify) or undo it (--cancel); --generate writes a plan that "
      "moves partitions onto the brokers given; --list shows the moves in progress");
  reassign->add_option("topics", flags->topics,
                       "--generate: topics to move (default: every topic)");
  reassign->add_option("--plan", flags->plan_path,
                       "The plan file (JSON, see docs/mqctl.md); - = stdin");
  auto* dry_run = reassign->add_flag("--dry-run", flags->dry_run,
                                     "Check the plan with the controller and show what would move");
  auto* execute = reassign->add_flag("--execute", flags->execute, "Start the moves");
  auto* verify = reassign->add_flag("--verify", flags->verify,
                                    "Show each partition's progress; exit 4 until all are done");
  auto* cancel =
      reassign->add_flag("--cancel", flags->cancel,
                         "Stop the plan's moves in progress; they return to their old replicas");
  auto* generate_flag =
      reassign->add_flag("--generate", flags->generate,
                         "Print a plan moving the topics onto --brokers (nothing moves)");
  auto* list_flag = reassign->add_flag("--list", flags->list, "Show the reassignments in progress");
  for (CLI::Option* a : {dry_run, execute, verify, cancel, generate_flag, list_flag}) {
    for (CLI::Option* b : {dry_run, execute, verify, cancel, generate_flag, list_flag}) {
      if (a != b) a->excludes(b);
    }
  }
  reassign->add_option("--brokers", flags->brokers,
                       "--generate: the broker ids to place the replicas on, like 1,2,4");
  reassign->add_option("--replication-factor", flags->replication_factor,
                       "--generate: give every partition this many replicas (default: keep each "
                       "partition's)");
  reassign->add_option("--throttle", flags->throttle,
                       "--execute: limit the copying to new replicas to this rate per receiving "
                       "broker, like 50MB (removed when the moves finish)");
  reassign->add_flag("-y,--yes", flags->yes, "Do not ask for confirmation on a terminal");
  reassign->callback([&ctx, &action, flags] {
    action = [&ctx, flags]() -> int {
      const ReassignFlags& f = *flags;
      if (f.generate) {
        if (!f.plan_path.empty()) return ctx.usage("--generate prints a plan; it takes no --plan");
        return generate(ctx, f);
      }
      if (!f.topics.empty()) return ctx.usage("topics go with --generate only");
      if (!f.brokers.empty()) return ctx.usage("--brokers goes with --generate");
      if (f.replication_factor != 0) return ctx.usage("--replication-factor goes with --generate");
      if (f.list) return list(ctx);
      if (f.plan_path.empty()) {
        return ctx.usage(
            "reassign needs --plan FILE with one of --dry-run, --execute, --verify, --cancel; or "
            "--generate; or --list");
      }
      if (!f.dry_run && !f.execute && !f.verify && !f.cancel) {
        return ctx.usage("--plan needs one of --dry-run, --execute, --verify, --cancel");
      }
      return run_plan(ctx, f);
    };
  });
}

}  // namespace mq::ctl
