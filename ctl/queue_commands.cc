// mqctl queue: queue consumption (per-message acknowledgement) from the
// command line. `receive` prints messages handed out to a queue group and,
// unless --no-ack, acknowledges each once printed; `ack`, `nack` and
// `extend` settle one message a `receive --no-ack` printed (its partition,
// offset and delivery).
#include <cstdio>
#include <memory>

#include "client/queue_consumer.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/record_format.h"
#include "transport/queue.h"

namespace mq::ctl {
namespace {

using nlohmann::ordered_json;

struct ReceiveFlags {
  std::vector<std::string> topics;
  std::string group;
  int count = 1;
  int batch = transport::kReceiveMaxMessages;
  std::string wait = "5s";
  std::string invisible = "30s";
  bool key_ordered = false;
  std::string from = "earliest";
  bool no_ack = false;
  std::string format;
};

struct SettleFlags {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int32_t delivery = 0;
  std::string group;
  std::string delay;      // nack
  std::string invisible;  // extend
};

client::QueueConsumerConfig queue_config(const Context& ctx, const std::string& group,
                                         std::vector<std::string> topics) {
  client::QueueConsumerConfig config;
  config.bootstrap_servers = ctx.brokers;
  config.client_id = "mqctl";
  config.curve = ctx.curve;
  config.group_id = group;
  config.topics = std::move(topics);
  config.request_timeout_ms = ctx.timeout_ms;
  return config;
}

// A duration flag in ms within [min, max]; `*out` set, or the usage error.
std::optional<std::string> duration_flag(const std::string& name, const std::string& text,
                                         int64_t min, int64_t max, int64_t* out) {
  Result<int64_t> ms = parse_duration_ms(text);
  if (!ms.is_ok()) return name + " \"" + text + "\": " + ms.status().message();
  if (*ms < min || *ms > max) {
    return name + " \"" + text + "\": must be " + format_duration_ms(min) + " to " +
           format_duration_ms(max);
  }
  *out = *ms;
  return std::nullopt;
}

client::ConsumerRecord as_record(const client::QueueMessage& m) {
  return {.topic = m.topic,
          .partition = m.partition,
          .offset = m.offset,
          .timestamp_ms = m.timestamp_ms,
          .key = m.key,
          .value = m.value,
          .headers = m.headers};
}

ordered_json message_json(const client::QueueMessage& m) {
  ordered_json j = record_json(as_record(m));
  j["delivery"] = m.delivery;
  j["invisible_until_ms"] = m.invisible_until_ms;
  return j;
}

int receive(Context& ctx, const ReceiveFlags& flags) {
  watch_interrupts();
  if (flags.count < 1) return ctx.usage("-n: must be >= 1");
  if (flags.batch < 1 || flags.batch > transport::kReceiveMaxMessages) {
    return ctx.usage("--batch: 1 to " + std::to_string(transport::kReceiveMaxMessages));
  }
  if (flags.group.empty()) return ctx.usage("-g/--group: a queue group is required");
  if (flags.from != "earliest" && flags.from != "latest") {
    return ctx.usage("--from: earliest or latest, not \"" + flags.from + "\"");
  }
  int64_t wait_ms = 0;
  int64_t invisible_ms = 0;
  if (auto why = duration_flag("--wait", flags.wait, 0, 3600 * 1000, &wait_ms)) {
    return ctx.usage(*why);
  }
  if (auto why = duration_flag("--invisible", flags.invisible, transport::kInvisibleMinMs,
                               transport::kInvisibleMaxMs, &invisible_ms)) {
    return ctx.usage(*why);
  }
  if (!flags.format.empty() && ctx.output != OutputFormat::kTable) {
    return ctx.usage("-f and -o json/yaml exclude each other");
  }
  Result<RecordFormat> format =
      RecordFormat::parse(flags.format.empty() ? "{value}\\n" : flags.format);
  if (!format.is_ok()) return ctx.usage(format.status().message());

  client::QueueConsumerConfig config = queue_config(ctx, flags.group, flags.topics);
  config.invisible_ms = static_cast<int>(invisible_ms);
  config.key_ordered = flags.key_ordered;
  config.start_at_latest = flags.from == "latest";
  Result<std::unique_ptr<client::QueueConsumer>> consumer = client::QueueConsumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot create the queue consumer", consumer.status());

  const int64_t deadline = now_ms() + wait_ms;
  int got = 0;
  int unsettled = 0;
  while (got < flags.count && !interrupted()) {
    const int64_t left = std::max<int64_t>(0, deadline - now_ms());
    Result<std::vector<client::QueueMessage>> messages = (*consumer)->receive(
        std::min(flags.count - got, flags.batch), static_cast<int>(std::min<int64_t>(left, 200)));
    if (!messages.is_ok()) {
      return ctx.fail("cannot receive from group \"" + flags.group + "\"", messages.status());
    }
    if (messages->empty()) {
      if (left == 0) break;
      continue;
    }
    std::string out;
    for (const client::QueueMessage& m : *messages) {
      if (ctx.output == OutputFormat::kTable) {
        render_record(ctx, *format, as_record(m), out);
      } else if (ctx.output == OutputFormat::kJson) {
        out += message_json(m).dump() + "\n";
      } else {
        out += "---\n" + to_yaml(message_json(m));
      }
    }
    std::fwrite(out.data(), 1, out.size(), ctx.io.out);
    std::fflush(ctx.io.out);
    got += static_cast<int>(messages->size());
    if (flags.no_ack) continue;
    // Printed, then acknowledged: a crash in between prints it again later.
    Result<std::vector<client::QueueAckResult>> acked =
        (*consumer)->settle(*messages, client::QueueConsumer::Action::kAck);
    if (!acked.is_ok()) return ctx.fail("cannot acknowledge", acked.status());
    for (const client::QueueAckResult& r : *acked) {
      if (r.status.is_ok()) continue;
      unsettled++;
      ctx.error("cannot acknowledge " + r.partition.to_string() + "@" + std::to_string(r.offset) +
                ": " + r.status.message());
    }
  }
  return unsettled > 0 ? kExitPartial : kExitOk;
}

int settle(Context& ctx, const SettleFlags& flags, client::QueueConsumer::Action action) {
  if (flags.group.empty()) return ctx.usage("-g/--group: a queue group is required");
  if (flags.partition < 0) return ctx.usage("PARTITION: a partition is >= 0");
  if (flags.offset < 0) return ctx.usage("OFFSET: an offset is >= 0");
  if (flags.delivery < 1) return ctx.usage("DELIVERY: the delivery receive printed, >= 1");
  int64_t delay = 0;
  if (action == client::QueueConsumer::Action::kNack) {
    delay = -1;
    if (!flags.delay.empty()) {
      if (auto why = duration_flag("--delay", flags.delay, 0, transport::kInvisibleMaxMs, &delay)) {
        return ctx.usage(*why);
      }
    }
  } else if (action == client::QueueConsumer::Action::kChangeInvisible) {
    if (auto why = duration_flag("--invisible", flags.invisible, transport::kInvisibleMinMs,
                                 transport::kInvisibleMaxMs, &delay)) {
      return ctx.usage(*why);
    }
  }
  Result<std::unique_ptr<client::QueueConsumer>> consumer =
      client::QueueConsumer::create(queue_config(ctx, flags.group, {flags.topic}));
  if (!consumer.is_ok()) return ctx.fail("cannot create the queue consumer", consumer.status());
  client::QueueMessage message{.topic = flags.topic,
                               .partition = flags.partition,
                               .offset = flags.offset,
                               .delivery = flags.delivery};
  Result<std::vector<client::QueueAckResult>> done =
      (*consumer)->settle({message}, action, static_cast<int32_t>(delay));
  Status status = done.is_ok() ? done->front().status : done.status();
  const std::string what = flags.topic + "-" + std::to_string(flags.partition) + "@" +
                           std::to_string(flags.offset) + " (delivery " +
                           std::to_string(flags.delivery) + ")";
  if (status.code() == ErrorCode::kNotFound || status.code() == ErrorCode::kIllegalGeneration) {
    ctx.error(what + ", group \"" + flags.group + "\": " + status.message());
    return kExitNotFound;
  }
  if (!status.is_ok()) return ctx.fail("cannot settle " + what, status);
  const char* verb = action == client::QueueConsumer::Action::kAck    ? "acknowledged"
                     : action == client::QueueConsumer::Action::kNack ? "given back"
                                                                      : "extended";
  ordered_json document{{"topic", flags.topic},
                        {"partition", flags.partition},
                        {"offset", flags.offset},
                        {"delivery", flags.delivery},
                        {"done", verb}};
  ctx.print(document, [&](const ordered_json&) { return std::string(verb) + " " + what + "\n"; });
  return kExitOk;
}

void add_settle(CLI::App* queue, Context& ctx, Action& action, const char* name, const char* help,
                client::QueueConsumer::Action kind) {
  auto flags = std::make_shared<SettleFlags>();
  CLI::App* command = queue->add_subcommand(name, help);
  command->add_option("topic", flags->topic, "Topic")->required();
  command->add_option("partition", flags->partition, "Partition")->required();
  command->add_option("offset", flags->offset, "Offset")->required();
  command->add_option("delivery", flags->delivery, "Delivery, as receive printed it")->required();
  command->add_option("-g,--group", flags->group, "Queue group")->required();
  if (kind == client::QueueConsumer::Action::kNack) {
    command->add_option("--delay", flags->delay,
                        "Hand it out again after DURATION (default: the topic's "
                        "queue.retry.backoff.ms)");
  }
  if (kind == client::QueueConsumer::Action::kChangeInvisible) {
    command
        ->add_option("--invisible", flags->invisible, "Invisible for DURATION from now (1s to 12h)")
        ->required();
  }
  command->callback([&ctx, &action, flags, kind] {
    action = [&ctx, flags, kind] { return settle(ctx, *flags, kind); };
  });
}

}  // namespace

void add_queue_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* queue = root.add_subcommand(
      "queue", "Queue consumption: receive messages and acknowledge them one by one");
  queue->require_subcommand(1);
  auto flags = std::make_shared<ReceiveFlags>();
  CLI::App* receive_command = queue->add_subcommand(
      "receive", "Print messages handed out to a queue group, acknowledging each once printed");
  receive_command->add_option("topic", flags->topics, "Topics")->required();
  receive_command->add_option("-g,--group", flags->group, "Queue group")->required();
  receive_command->add_option("-n,--count", flags->count, "Stop after COUNT messages (default 1)");
  receive_command->add_option("--batch", flags->batch,
                              "At most N messages per receive, acknowledged together (1 to "
                              "10000, default 10000)");
  receive_command->add_option("--wait", flags->wait,
                              "Stop when COUNT did not come within DURATION (default 5s)");
  receive_command->add_option("--invisible", flags->invisible,
                              "Messages stay invisible to the group's other consumers this long "
                              "unless acknowledged (1s to 12h, default 30s)");
  receive_command->add_flag("--key-ordered", flags->key_ordered,
                            "Hand out a key only when its earlier messages are done");
  receive_command->add_option("--from", flags->from,
                              "Where a group new to a partition starts: earliest (default) or "
                              "latest");
  receive_command->add_flag("--no-ack", flags->no_ack,
                            "Do not acknowledge: settle later with queue ack/nack/extend, or "
                            "let the invisible time pass");
  receive_command->add_option("-f,--format", flags->format,
                              "Template as consume's (default {value}\\n); -o json adds "
                              "delivery and invisible_until_ms");
  receive_command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return receive(ctx, *flags); }; });
  add_settle(queue, ctx, action, "ack", "Acknowledge a received message: it is done",
             client::QueueConsumer::Action::kAck);
  add_settle(queue, ctx, action, "nack",
             "Give a received message back: handed out again after the retry back-off",
             client::QueueConsumer::Action::kNack);
  add_settle(queue, ctx, action, "extend", "Change a received message's invisible time",
             client::QueueConsumer::Action::kChangeInvisible);
}

}  // namespace mq::ctl
