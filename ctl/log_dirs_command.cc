// mqctl log dirs [--broker ID ...] [--topic T ...]: what each broker stores
// (DescribeLogDirs to every registered broker; kafka-log-dirs): its data
// directory and free space, and per partition replica its size, segments,
// offsets and whether it leads.
#include "ctl/commands.h"
#include "ctl/output.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct LogDirsFlags {
  std::vector<int32_t> brokers;
  std::vector<std::string> topics;
};

int log_dirs(Context& ctx, const LogDirsFlags& flags) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto described = admin->describe_log_dirs(flags.brokers, flags.topics);
  if (!described.is_ok()) return ctx.fail("cannot describe log dirs", described.status());
  json doc = json::array();
  size_t failed = 0;
  for (const auto& [id, result] : *described) {
    if (!result.is_ok()) {
      ctx.fail("broker " + std::to_string(id), result.status());
      ++failed;
      continue;
    }
    json partitions = json::array();
    for (const auto& p : result->partitions) {
      partitions.push_back({{"topic", p.partition.topic},
                            {"partition", p.partition.partition},
                            {"size_bytes", p.size_bytes},
                            {"segments", p.segments},
                            {"log_start_offset", p.log_start_offset},
                            {"log_end_offset", p.log_end_offset},
                            {"high_watermark", p.high_watermark},
                            {"leader", p.leader}});
    }
    json broker = {
        {"broker", id},
        {"log_dir", result->path},
        {"error",
         result->error == ErrorCode::kNone ? json() : json(std::string(error_name(result->error)))},
        {"total_bytes", result->total_bytes},
        {"usable_bytes", result->usable_bytes},
        {"partitions", partitions}};
    doc.push_back(broker);
    if (result->error != ErrorCode::kNone) {
      ctx.error("broker " + std::to_string(id) + ": " + result->path + " has a failed log (" +
                std::string(error_name(result->error)) + "); see its log");
      ++failed;
    }
  }
  ctx.print(doc, [](const json& brokers) {
    std::string out;
    Table table(
        {"BROKER", "TOPIC", "PARTITION", "SIZE", "SEGMENTS", "LOG-START", "LOG-END", "HW", "ROLE"});
    for (const auto& b : brokers) {
      out += "broker " + cell(b["broker"]) + ": " + b["log_dir"].get<std::string>() + ", " +
             format_bytes(b["usable_bytes"].get<int64_t>()) + " free of " +
             format_bytes(b["total_bytes"].get<int64_t>()) + "\n";
      for (const auto& p : b["partitions"]) {
        table.add_row({cell(b["broker"]), cell(p["topic"]), cell(p["partition"]),
                       format_bytes(p["size_bytes"].get<int64_t>()), cell(p["segments"]),
                       cell(p["log_start_offset"]), cell(p["log_end_offset"]),
                       cell(p["high_watermark"]), p["leader"].get<bool>() ? "leader" : "follower"});
      }
    }
    return out + table.render();
  });
  if (failed == 0) return kExitOk;
  return doc.empty() ? kExitFailed : kExitPartial;
}

}  // namespace

void add_log_dirs_command(CLI::App* log, Context& ctx, Action& action) {
  auto flags = std::make_shared<LogDirsFlags>();
  CLI::App* command = log->add_subcommand(
      "dirs", "Per broker: data directory, free space, and each partition's size and offsets");
  command->add_option("--broker", flags->brokers, "Only this broker (repeatable; default: all)");
  command->add_option("--topic", flags->topics, "Only this topic (repeatable; default: all)");
  command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return log_dirs(ctx, *flags); }; });
}

}  // namespace mq::ctl
