// mqctl consume: reads partitions of one or more topics from a start
// position (--from) and prints each message: its value per line by default,
// a -f template, or one JSON object per line with -o json. With -e it stops
// at the end offsets the partitions had when it started, so
// `mqctl consume t --from beginning -e | wc -l` counts a topic.
#include <map>
#include <memory>

#include "client/consumer.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/record_format.h"
#include "ctl/start_position.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;
using client::TopicPartition;

struct ConsumeFlags {
  std::vector<std::string> topics;
  std::string partitions;
  std::string from = "end";
  int64_t count = -1;
  bool exit_at_end = false;
  std::string format;
};

json record_json(const client::ConsumerRecord& record) {
  json headers = json::array();
  for (const client::Header& h : record.headers) {
    headers.push_back({{"key", h.key}, {"value", h.value ? json(*h.value) : json(nullptr)}});
  }
  return {{"topic", record.topic},
          {"partition", record.partition},
          {"offset", record.offset},
          {"timestamp", record.timestamp_ms},
          {"key", record.key ? json(*record.key) : json(nullptr)},
          {"value", record.value ? json(*record.value) : json(nullptr)},
          {"headers", headers}};
}

// Where each partition starts and (with -e) stops.
struct Range {
  int64_t start = 0;
  int64_t end = 0;  // the high watermark when consume started
};

// Resolves --from for every partition with ListOffsets. Reports errors itself
// and returns nullopt with `code` set.
std::optional<std::map<TopicPartition, Range>> plan_ranges(const Context& ctx, client::Admin& admin,
                                                           const std::vector<TopicPartition>& tps,
                                                           const StartPosition& from, int& code) {
  std::map<TopicPartition, int64_t> earliest, latest, at_time;
  for (const TopicPartition& tp : tps) {
    earliest[tp] = -2;
    latest[tp] = -1;
    at_time[tp] = from.value;
  }
  auto starts = admin.list_offsets(earliest);
  auto ends = starts.is_ok() ? admin.list_offsets(latest) : starts;
  if (!ends.is_ok()) {
    code = ctx.fail("cannot read offsets", ends.status());
    return std::nullopt;
  }
  std::map<TopicPartition, client::ListedOffset> by_time;
  if (from.kind == StartPosition::Kind::kTimestamp) {
    auto found = admin.list_offsets(at_time);
    if (!found.is_ok()) {
      code = ctx.fail("cannot find offsets by time", found.status());
      return std::nullopt;
    }
    by_time = std::move(found).value();
  }
  std::map<TopicPartition, Range> ranges;
  for (const TopicPartition& tp : tps) {
    int64_t log_start = starts->at(tp).offset, log_end = ends->at(tp).offset;
    int64_t for_time = by_time.contains(tp) ? by_time.at(tp).offset : -1;
    ranges[tp] = {resolve_start_offset(from, log_start, log_end, for_time), log_end};
  }
  return ranges;
}

int consume(Context& ctx, const ConsumeFlags& flags) {
  Result<StartPosition> from = parse_start_position(flags.from, now_ms());
  if (!from.is_ok()) return ctx.usage(from.status().message());
  if (!flags.format.empty() && ctx.output != OutputFormat::kTable) {
    return ctx.usage("-f and -o json/yaml exclude each other");
  }
  Result<RecordFormat> format =
      RecordFormat::parse(flags.format.empty() ? "{value}\\n" : flags.format);
  if (!format.is_ok()) return ctx.usage(format.status().message());
  if (flags.count == 0 || flags.count < -1) return ctx.usage("-n: must be >= 1");
  std::vector<int32_t> wanted_partitions;
  if (!flags.partitions.empty()) {
    Result<std::vector<int32_t>> parsed = parse_partition_list("-p", flags.partitions);
    if (!parsed.is_ok()) return ctx.usage(parsed.status().message());
    wanted_partitions = *parsed;
  }

  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(flags.topics);
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  std::vector<TopicPartition> tps;
  for (const std::string& topic : flags.topics) {
    int32_t count = metadata->partition_count(topic);
    if (count == 0) return ctx.not_found("topic", topic);
    if (wanted_partitions.empty()) {
      for (int32_t p = 0; p < count; ++p) tps.push_back({topic, p});
    }
    for (int32_t p : wanted_partitions) {
      if (p >= count) {
        return ctx.fail("topic \"" + topic + "\"",
                        Status(ErrorCode::kUnknownTopicOrPartition,
                               "has no partition " + std::to_string(p) + " (it has " +
                                   std::to_string(count) + ")"));
      }
      tps.push_back({topic, p});
    }
  }
  int code = kExitOk;
  std::optional<std::map<TopicPartition, Range>> ranges =
      plan_ranges(ctx, *admin, tps, *from, code);
  if (!ranges) return code;

  client::ConsumerConfig config = ctx.consumer_config();
  Result<std::unique_ptr<client::Consumer>> consumer = client::Consumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot start the consumer", consumer.status());

  // Partitions still to read; with -e those already at their end are done.
  std::map<TopicPartition, int64_t> next;  // next offset to print, per partition
  std::vector<TopicPartition> assigned;
  for (const auto& [tp, range] : *ranges) {
    if (flags.exit_at_end && range.start >= range.end) continue;
    next[tp] = range.start;
    assigned.push_back(tp);
  }
  Status assigned_ok = (*consumer)->assign(assigned);
  for (const TopicPartition& tp : assigned) {
    if (assigned_ok.is_ok()) assigned_ok = (*consumer)->seek(tp, next[tp]);
  }
  if (!assigned_ok.is_ok()) return ctx.fail("cannot assign partitions", assigned_ok);

  watch_interrupts();
  int64_t printed = 0;
  std::string out;
  size_t open = assigned.size();
  while (!interrupted() && (!flags.exit_at_end || open > 0) &&
         (flags.count < 0 || printed < flags.count)) {
    Result<std::vector<client::ConsumerRecord>> records = (*consumer)->poll(200);
    if (!records.is_ok()) return ctx.fail("consume failed", records.status());
    out.clear();
    for (const client::ConsumerRecord& record : *records) {
      TopicPartition tp{record.topic, record.partition};
      auto at = next.find(tp);
      if (at == next.end() || record.offset < at->second) continue;
      int64_t end = ranges->at(tp).end;
      if (flags.exit_at_end && record.offset >= end) continue;
      at->second = record.offset + 1;
      if (ctx.output == OutputFormat::kJson) {
        out += to_json_line(record_json(record));
        out += '\n';
      } else if (ctx.output == OutputFormat::kYaml) {
        out += "---\n" + to_yaml(record_json(record));
      } else {
        format->render(record, out);
      }
      if (flags.exit_at_end && at->second >= end) --open;
      if (++printed == flags.count) break;
    }
    if (records->empty() && flags.exit_at_end) {
      // Compaction or retention can leave the last offsets before `end` empty.
      for (auto& [tp, offset] : next) {
        int64_t end = ranges->at(tp).end;
        if (offset >= end) continue;
        Result<int64_t> position = (*consumer)->position(tp);
        if (position.is_ok() && *position >= end) {
          offset = end;
          --open;
        }
      }
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), ctx.io.out);
      std::fflush(ctx.io.out);
    }
  }
  return kExitOk;
}

}  // namespace

void add_consume_command(CLI::App& root, Context& ctx, Action& action) {
  auto flags = std::make_shared<ConsumeFlags>();
  CLI::App* command = root.add_subcommand("consume", "Print messages of topics");
  command->add_option("topic", flags->topics, "Topics")->required();
  command->add_option("-p,--partitions", flags->partitions,
                      "Partitions to read, e.g. 0,2 or 0-3 (default: all)");
  command->add_option("--from", flags->from,
                      "beginning | end (default) | OFFSET | -N (last N) | @TIME | @-DURATION");
  command->add_option("-n,--count", flags->count, "Stop after COUNT messages");
  command->add_flag("-e,--exit-at-end", flags->exit_at_end,
                    "Stop at the end every partition had when consume started");
  command->add_option("-f,--format", flags->format,
                      "Template: {key} {value} {headers} {topic} {partition} {offset} "
                      "{timestamp}, \\n \\t (default {value}\\n)");
  command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return consume(ctx, *flags); }; });
}

}  // namespace mq::ctl
