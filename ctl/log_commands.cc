// mqctl log dump PATH...: a partition's files read offline, without a
// broker, as Kafka's kafka-dump-log reads them: every batch, index entry and
// checkpoint, and every inconsistency with its byte position. The reading and
// printing are ctl/log_dump.h; `log dirs` is log_dirs_command.cc.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>

#include "ctl/commands.h"
#include "ctl/log_dump.h"
#include "ctl/output.h"
#include "ctl/progress.h"

namespace mq::ctl {
namespace {

struct LogDumpFlags {
  std::vector<std::string> paths;
  bool records = false;
};

// The regular files `paths` name (directories: the files in them).
int64_t total_bytes(const std::vector<std::string>& paths) {
  int64_t total = 0;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.is_regular_file(ec)) total += static_cast<int64_t>(entry.file_size(ec));
      }
    } else if (std::filesystem::is_regular_file(path, ec)) {
      total += static_cast<int64_t>(std::filesystem::file_size(path, ec));
    }
  }
  return total;
}

// Passes a dump on to the printer, counting the bytes read for the
// progress line: whole files once ended, and the current segment up to the
// batch just printed. Counters are atomics: the progress line reads them on
// its own thread.
class ProgressSink : public DumpSink {
 public:
  ProgressSink(DumpSink& out, int64_t total) : out_(out), total_(total) {}

  void begin_file(const nlohmann::ordered_json& file, DumpItems items) override {
    current_size_ = file.value("size_bytes", int64_t{0});
    in_file_ = 0;
    out_.begin_file(file, items);
  }
  void item(const nlohmann::ordered_json& item) override {
    if (item.contains("position") && item.contains("size_bytes") && item["position"].is_number() &&
        item["size_bytes"].is_number()) {
      in_file_ = item["position"].get<int64_t>() + item["size_bytes"].get<int64_t>();
    }
    out_.item(item);
  }
  void problem(const nlohmann::ordered_json& problem) override { out_.problem(problem); }
  void end_file(const nlohmann::ordered_json& summary) override {
    done_ += current_size_;
    in_file_ = 0;
    out_.end_file(summary);
  }
  void finish(const nlohmann::ordered_json& summary) override { out_.finish(summary); }

  std::string line() const {
    int64_t done = std::min<int64_t>(done_ + in_file_, total_);
    return "read " + format_bytes(done) + " of " + format_bytes(total_) + " (" +
           std::to_string(total_ > 0 ? done * 100 / total_ : 100) + "%)";
  }

 private:
  DumpSink& out_;
  const int64_t total_;
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> in_file_{0};
  int64_t current_size_ = 0;
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
  LogDumpSummary summary;
  if (progress_wanted(ctx, /*prints_as_it_goes=*/true)) {
    // Output into a file, a person at the terminal: bytes read so far.
    ProgressSink counting(*printer, total_bytes(flags.paths));
    ProgressLine progress(
        ctx, [&counting] { return counting.line(); }, true);
    summary = dump_log_paths(flags.paths, {.records = flags.records}, counting);
  } else {
    summary = dump_log_paths(flags.paths, {.records = flags.records}, *printer);
  }
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
