// mqctl log dump PATH...: a partition's files read offline, without a
// broker, as Kafka's kafka-dump-log reads them: every batch, index entry and
// checkpoint, and every inconsistency with its byte position. The reading and
// printing are ctl/log_dump.h; `log dirs` is log_dirs_command.cc.
#include <filesystem>
#include <memory>

#include "ctl/commands.h"
#include "ctl/log_dump.h"

namespace mq::ctl {
namespace {

struct LogDumpFlags {
  std::vector<std::string> paths;
  bool records = false;
};

int log_dump(Context& ctx, const LogDumpFlags& flags) {
  // A path that is not there fails the command before anything is printed,
  // as a missing --file or --plan does (exit 1). One that is there but
  // cannot be read is reported with the dump.
  for (const std::string& path : flags.paths) {
    std::error_code ec;
    if (std::filesystem::status(path, ec).type() == std::filesystem::file_type::not_found) {
      ctx.error("log dump: \"" + path + "\": no such file or directory");
      return kExitFailed;
    }
  }
  std::unique_ptr<DumpSink> printer = make_dump_printer(ctx.output, ctx.io.out);
  LogDumpSummary summary = dump_log_paths(flags.paths, {.records = flags.records}, *printer);
  for (const FileProblems& file : summary.damaged) {
    const nlohmann::ordered_json& first = file.first;
    std::string where =
        first["position"].is_null() ? "" : " at position " + first["position"].dump();
    ctx.error(file.path + ": " + std::to_string(file.count) +
              (file.count == 1 ? " problem" : " problems") + ", the first" + where + ": " +
              first["message"].get<std::string>());
  }
  return summary.problems == 0 ? kExitOk : kExitPartial;
}

}  // namespace

void add_log_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* log = root.add_subcommand(
      "log", "Partition logs: what the brokers store, and a partition's files read offline");
  log->require_subcommand(1);
  add_log_dirs_command(log, ctx, action);
  auto flags = std::make_shared<LogDumpFlags>();
  CLI::App* dump = log->add_subcommand(
      "dump",
      "Print the batches, index entries and checkpoints of partition files, and any damage");
  dump->add_option("path", flags->paths,
                   "Segment (.log), index (.index, .timeindex), checkpoint file, or a partition "
                   "directory (every file in it)")
      ->required();
  dump->add_flag("--records", flags->records,
                 "Also print every record: offset, timestamp, key, value, headers");
  dump->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return log_dump(ctx, *flags); }; });
}

}  // namespace mq::ctl
