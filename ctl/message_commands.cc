// mqctl message show TOPIC PARTITION OFFSET: one message with everything it
// carries (RocketMQ's queryMessage by offset; kcat -C -o OFFSET -c 1).
#include <cstdio>
#include <memory>

#include "client/admin.h"
#include "client/consumer.h"
#include "ctl/commands.h"
#include "ctl/record_format.h"

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
  Result<std::vector<client::ConsumerRecord>> records = (*consumer)->poll(ctx.timeout_ms);
  if (!records.is_ok()) {
    if (records.code() == ErrorCode::kOffsetOutOfRange) {
      return missing("it left the log (retention or trim) meanwhile");
    }
    return ctx.fail("cannot read " + tp.to_string(), records.status());
  }
  if (records->empty()) {
    return ctx.fail("cannot read " + tp.to_string(),
                    Status(ErrorCode::kRequestTimedOut, "no answer within --timeout"));
  }
  const client::ConsumerRecord& record = records->front();
  if (record.offset != flags.offset) {
    return missing("compaction removed it (the next message is at offset " +
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

}  // namespace

void add_message_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* message = root.add_subcommand("message", "Look up single messages");
  message->require_subcommand(1);
  auto flags = std::make_shared<ShowFlags>();
  CLI::App* show_command = message->add_subcommand(
      "show", "Print one message: topic, partition, offset, time, key, headers, value");
  show_command->add_option("topic", flags->topic, "Topic")->required();
  show_command->add_option("partition", flags->partition, "Partition")->required();
  show_command->add_option("offset", flags->offset, "Offset")->required();
  show_command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return show(ctx, *flags); }; });
}

}  // namespace mq::ctl
