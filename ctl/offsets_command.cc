// mqctl offsets TOPIC[:P,...] [--at earliest|latest|TIME]: each partition's
// offset at a point (Kafka's kafka-get-offsets, kcat -Q): the log start, the
// high watermark, or the first message at or after a time (-1 when none is
// that recent, Kafka's answer).
#include "ctl/commands.h"
#include "ctl/output.h"
#include "ctl/start_position.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct OffsetsFlags {
  std::string topic;
  std::string at = "latest";
};

// ListOffsets' timestamp for --at: -2 earliest, -1 latest, else ms.
Result<int64_t> timestamp_of(const std::string& at) {
  if (at == "earliest" || at == "beginning") return int64_t{-2};
  if (at == "latest" || at == "end") return int64_t{-1};
  Result<int64_t> time = parse_time_ms(at, now_ms());
  if (!time.is_ok()) return time.status();
  if (*time < 0) return Status(ErrorCode::kInvalidConfig, "a time before 1970");
  return time;
}

int offsets(Context& ctx, const OffsetsFlags& flags) {
  Result<client::TopicSelection> selection = client::parse_topic_selection(flags.topic);
  if (!selection.is_ok()) return ctx.usage(selection.status().message());
  Result<int64_t> timestamp = timestamp_of(flags.at);
  if (!timestamp.is_ok()) {
    return ctx.usage("--at \"" + flags.at + "\": " + timestamp.status().message() +
                     " (earliest, latest, TIME or -DURATION)");
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata =
      admin->describe_cluster(std::vector<std::string>{selection->topic});
  if (!metadata.is_ok()) return ctx.fail("cannot read offsets", metadata.status());
  int32_t count = metadata->partition_count(selection->topic);
  if (count == 0) return ctx.not_found("topic", selection->topic);
  std::vector<int32_t> partitions = selection->partitions;
  if (partitions.empty()) {
    for (int32_t p = 0; p < count; ++p) partitions.push_back(p);
  }
  std::map<client::TopicPartition, int64_t> wanted;
  for (int32_t p : partitions) {
    if (p >= count) {
      ctx.error("partition " + std::to_string(p) + " of topic \"" + selection->topic +
                "\" not found: it has " + std::to_string(count) + " partitions");
      return kExitNotFound;
    }
    wanted[{selection->topic, p}] = *timestamp;
  }
  auto listed = admin->list_offsets_each(wanted);
  if (!listed.is_ok()) return ctx.fail("cannot read offsets", listed.status());
  json out = json::array();
  size_t failed = 0;
  for (const auto& [tp, result] : *listed) {
    if (!result.is_ok()) {
      ctx.error("partition " + std::to_string(tp.partition) + " of \"" + tp.topic +
                "\": " + result.status().message());
      ++failed;
      continue;
    }
    out.push_back({{"topic", tp.topic},
                   {"partition", tp.partition},
                   {"offset", result->offset},
                   {"timestamp", result->timestamp >= 0 ? json(result->timestamp) : json()}});
  }
  ctx.print(out, [](const json& rows) {
    Table table({"TOPIC", "PARTITION", "OFFSET", "TIMESTAMP"});
    for (const auto& r : rows) {
      table.add_row(
          {cell(r["topic"]), cell(r["partition"]), cell(r["offset"]), cell(r["timestamp"])});
    }
    return table.render();
  });
  if (failed == 0) return kExitOk;
  return out.empty() ? kExitFailed : kExitPartial;
}

}  // namespace

void add_offsets_command(CLI::App& root, Context& ctx, Action& action) {
  auto flags = std::make_shared<OffsetsFlags>();
  CLI::App* command = root.add_subcommand(
      "offsets", "Each partition's offset at a point: earliest, latest or a time");
  command->add_option("topic", flags->topic, "T or T:P,P,...")->required();
  command->add_option("--at", flags->at,
                      "earliest, latest (default), or TIME / -DURATION as consume --from @");
  command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return offsets(ctx, *flags); }; });
}

}  // namespace mq::ctl
