// mqctl message show TOPIC PARTITION OFFSET: one message with everything it
// carries (RocketMQ's queryMessage by offset; kcat -C -o OFFSET -c 1).
// mqctl message find TOPIC --key KEY: the latest messages with that key in
// every partition (RocketMQ's queryMessage by key; FindMessages on the leaders).
#include <chrono>
#include <cstdio>
#include <memory>

#include "client/admin.h"
#include "client/consumer.h"
#include "ctl/commands.h"
#include "ctl/record_format.h"
#include "transport/find_messages.h"

namespace mq::ctl {
namespace {

using client::TopicPartition;

struct ShowFlags {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

// The table form: one field per line, the value last (it may span lines).
constexpr std::string_view kShowTemplate =
    "topic      {topic}\\n"
    "partition  {partition}\\n"
    "offset     {offset}\\n"
    "timestamp  {timestamp:iso} ({timestamp})\\n"
    "key        {key}\\n"
    "headers    {headers}\\n"
    "value      {value}\\n";

int show(Context& ctx, const ShowFlags& flags) {
  if (flags.partition < 0) return ctx.usage("PARTITION: a partition is >= 0");
  if (flags.offset < 0) return ctx.usage("OFFSET: an offset is >= 0");
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata =
      admin->describe_cluster(std::vector<std::string>{flags.topic});
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  int32_t count = metadata->partition_count(flags.topic);
  if (count == 0) return ctx.not_found("topic", flags.topic);
  TopicPartition tp{flags.topic, flags.partition};
  if (flags.partition >= count) {
    return ctx.fail("topic \"" + flags.topic + "\"",
                    Status(ErrorCode::kUnknownTopicOrPartition,
                           "has no partition " + std::to_string(flags.partition) + " (it has " +
                               std::to_string(count) + ")"));
  }
  auto starts = admin->list_offsets({{tp, -2}});
  auto ends = starts.is_ok() ? admin->list_offsets({{tp, -1}}) : starts;
  if (!ends.is_ok()) return ctx.fail("cannot read offsets", ends.status());
  int64_t start = starts->at(tp).offset, end = ends->at(tp).offset;
  auto missing = [&](const std::string& why) {
    ctx.error("message " + tp.to_string() + "@" + std::to_string(flags.offset) +
              " not found: " + why);
    return kExitNotFound;
  };
  if (flags.offset < start || flags.offset >= end) {
    return missing(start >= end ? "the partition holds no messages"
                                : "the partition holds offsets " + std::to_string(start) + " to " +
                                      std::to_string(end - 1));
  }

  client::ConsumerConfig config = ctx.consumer_config();
  config.auto_offset_reset = client::OffsetReset::kNone;
  config.max_poll_records = 1;
  Result<std::unique_ptr<client::Consumer>> consumer = client::Consumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot start the consumer", consumer.status());
  Status st = (*consumer)->assign({tp});
  if (st.is_ok()) st = (*consumer)->seek(tp, flags.offset);
  if (!st.is_ok()) return ctx.fail("cannot read " + tp.to_string(), st);
  // Polled in short steps: when the offset and every one after it hold no
  // message (the log ends with de-duplicated records), the position moves
  // past them without a record coming.
  Result<std::vector<client::ConsumerRecord>> records = std::vector<client::ConsumerRecord>();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.timeout_ms);
  while (true) {
    records = (*consumer)->poll(100);
    if (!records.is_ok()) {
      if (records.code() == ErrorCode::kOffsetOutOfRange) {
        return missing("it left the log (retention or trim) meanwhile");
      }
      return ctx.fail("cannot read " + tp.to_string(), records.status());
    }
    if (!records->empty()) break;
    Result<int64_t> position = (*consumer)->position(tp);
    if (position.is_ok() && *position > flags.offset) {
      return missing("no message there or after it: left out as a duplicate");
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return ctx.fail("cannot read " + tp.to_string(),
                      Status(ErrorCode::kRequestTimedOut, "no answer within --timeout"));
    }
  }
  const client::ConsumerRecord& record = records->front();
  if (record.offset != flags.offset) {
    // Offsets without a record: compaction removed it, or the leader left it
    // out as a duplicate of a message id already stored.
    return missing(
        "no message there: compacted away or left out as a duplicate (the next "
        "message is at offset " +
        std::to_string(record.offset) + ")");
  }
  ctx.print(record_json(record), [&record](const nlohmann::ordered_json&) {
    Result<RecordFormat> format = RecordFormat::parse(kShowTemplate);
    std::string out;
    if (format.is_ok()) format->render(record, out);
    return out;
  });
  return kExitOk;
}

struct FindFlags {
  std::string topic;
  std::string key;
  int32_t limit = 100;
  std::string format;
};

// One line per message, the value last: what `find` prints without -f or -o.
constexpr std::string_view kFindTemplate =
    "{partition}\\t{offset}\\t{timestamp:iso}\\t{key}\\t{value}\\n";

int find(Context& ctx, const FindFlags& flags) {
  if (flags.limit < transport::kFindMessagesMin || flags.limit > transport::kFindMessagesMax) {
    return ctx.usage("-n: the limit per partition is " +
                     std::to_string(transport::kFindMessagesMin) + " to " +
                     std::to_string(transport::kFindMessagesMax));
  }
  if (!flags.format.empty() && ctx.output != OutputFormat::kTable) {
    return ctx.usage("-f and -o json/yaml exclude each other");
  }
  Result<RecordFormat> format =
      RecordFormat::parse(flags.format.empty() ? kFindTemplate : std::string_view(flags.format));
  if (!format.is_ok()) return ctx.usage(format.status().message());
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata =
      admin->describe_cluster(std::vector<std::string>{flags.topic});
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  if (metadata->partition_count(flags.topic) == 0) return ctx.not_found("topic", flags.topic);
  Result<client::FoundMessages> found = admin->find_messages(flags.topic, flags.key, flags.limit);
  if (!found.is_ok()) {
    return ctx.fail("cannot search topic \"" + flags.topic + "\" by key", found.status());
  }
  std::string out;
  for (const client::ConsumerRecord& record : found->records)
    render_record(ctx, *format, record, out);
  std::fwrite(out.data(), 1, out.size(), ctx.io.out);
  std::fflush(ctx.io.out);
  for (const client::KeySearchPartition& p : found->partitions) {
    if (!p.more) continue;
    const std::string n = std::to_string(flags.limit);
    ctx.error("more than " + n + " matches in partition " + std::to_string(p.partition) +
              "; showing the latest " + n + " (raise --limit)");
  }
  return kExitOk;
}

}  // namespace

int show_message(Context& ctx, const std::string& topic, int32_t partition, int64_t offset) {
  return show(ctx, {.topic = topic, .partition = partition, .offset = offset});
}

void add_message_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* message = root.add_subcommand("message", "Look up messages by offset or by key");
  message->require_subcommand(1);
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* show_command = message->add_subcommand(
      "show", "Print one message: topic, partition, offset, time, key, headers, value");
  show_command->add_option("topic", flags->topic, "Topic")->required();
  show_command->add_option("partition", flags->partition, "Partition")->required();
  show_command->add_option("offset", flags->offset, "Offset")->required();
  show_command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return show(ctx, *flags); }; });

  auto find_flags = std::make_shared<FindFlags>();
  CLI::App* find_command = message->add_subcommand(
      "find", "Print the latest messages with a key, from every partition of a topic");
  find_command->add_option("topic", find_flags->topic, "Topic")->required();
  find_command->add_option("-k,--key", find_flags->key, "The exact key (\"\" = the empty key)")
      ->required();
  find_command->add_option("-n,--limit", find_flags->limit,
                           "The latest N matches per partition, 1 to 10000 (default 100)");
  find_command->add_option("-f,--format", find_flags->format,
                           "Template, as consume's (default "
                           "{partition}\\t{offset}\\t{timestamp:iso}\\t{key}\\t{value}\\n)");
  find_command->callback([&ctx, &action, find_flags] {
    action = [&ctx, find_flags] { return find(ctx, *find_flags); };
  });
}

}  // namespace mq::ctl
