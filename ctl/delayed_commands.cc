// mqctl delayed list TOPIC: the pending delayed messages of a topic, earliest
// first (ListDelayed on every partition's leader).
// mqctl delayed cancel TOPIC PARTITION OFFSET: cancels one by the offset of
// its scheduled record, as `produce --mode sync` printed it (CancelDelayed).
#include <cstdio>
#include <memory>

#include "client/admin.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/record_format.h"
#include "transport/delayed.h"

namespace mq::ctl {
namespace {

using nlohmann::ordered_json;

struct ListFlags {
  std::string topic;
  int32_t limit = 100;
};

struct CancelFlags {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
};

int list(Context& ctx, const ListFlags& flags) {
  if (flags.limit < transport::kListDelayedMin || flags.limit > transport::kListDelayedMax) {
    return ctx.usage("-n: the limit per partition is " +
                     std::to_string(transport::kListDelayedMin) + " to " +
                     std::to_string(transport::kListDelayedMax));
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::DelayedListing> listing = admin->list_delayed(flags.topic, flags.limit);
  if (!listing.is_ok()) {
    if (listing.code() == ErrorCode::kUnknownTopicOrPartition) {
      return ctx.not_found("topic", flags.topic);
    }
    return ctx.fail("cannot list the delayed messages of \"" + flags.topic + "\"",
                    listing.status());
  }
  const int64_t now = now_ms();
  ordered_json messages = ordered_json::array();
  for (const client::DelayedMessage& m : listing->messages) {
    messages.push_back({{"partition", m.partition},
                        {"offset", m.offset},
                        {"deliver_at_ms", m.deliver_at_ms},
                        {"deliver_at", format_iso_time(m.deliver_at_ms)}});
  }
  ordered_json document{{"topic", flags.topic},
                        {"pending", listing->pending},
                        {"listed", listing->messages.size()},
                        {"messages", messages}};
  ctx.print(document, [&](const ordered_json& doc) {
    Table table({"PARTITION", "OFFSET", "DELIVER-AT", "IN"});
    for (const ordered_json& m : doc["messages"]) {
      int64_t in = m["deliver_at_ms"].get<int64_t>() - now;
      table.add_row({cell(m["partition"]), cell(m["offset"]), cell(m["deliver_at"]),
                     in <= 0 ? "due" : format_duration_ms(in < 1000 ? in : in / 1000 * 1000)});
    }
    std::string text = table.render();
    text += std::to_string(doc["pending"].get<int64_t>()) + " pending";
    if (doc["listed"].get<size_t>() < static_cast<size_t>(doc["pending"].get<int64_t>())) {
      text +=
          ", the earliest " + std::to_string(flags.limit) + " per partition listed (raise --limit)";
    }
    return text + "\n";
  });
  return kExitOk;
}

int cancel(Context& ctx, const CancelFlags& flags) {
  if (flags.partition < 0) return ctx.usage("PARTITION: a partition is >= 0");
  if (flags.offset < 0) return ctx.usage("OFFSET: an offset is >= 0");
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  const client::TopicPartition tp{flags.topic, flags.partition};
  Status cancelled = admin->cancel_delayed(tp, flags.offset);
  if (cancelled.code() == ErrorCode::kNotFound) {
    ctx.error("delayed message " + tp.to_string() + "@" + std::to_string(flags.offset) +
              " not found: " + cancelled.message());
    return kExitNotFound;
  }
  if (!cancelled.is_ok()) {
    return ctx.fail("cannot cancel " + tp.to_string() + "@" + std::to_string(flags.offset),
                    cancelled);
  }
  ordered_json document{{"topic", flags.topic},
                        {"partition", flags.partition},
                        {"offset", flags.offset},
                        {"cancelled", true}};
  ctx.print(document, [&](const ordered_json&) {
    return "cancelled delayed message " + tp.to_string() + "@" + std::to_string(flags.offset) +
           "\n";
  });
  return kExitOk;
}

}  // namespace

void add_delayed_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* delayed =
      root.add_subcommand("delayed", "List and cancel delayed messages (produce --delay)");
  delayed->require_subcommand(1);
  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list_command =
      delayed->add_subcommand("list", "Print a topic's pending delayed messages, earliest first");
  list_command->add_option("topic", list_flags->topic, "Topic")->required();
  list_command->add_option("-n,--limit", list_flags->limit,
                           "The earliest N per partition, 1 to 10000 (default 100)");
  list_command->callback([&ctx, &action, list_flags] {
    action = [&ctx, list_flags] { return list(ctx, *list_flags); };
  });

  auto cancel_flags = std::make_shared<CancelFlags>();
  CLI::App* cancel_command = delayed->add_subcommand(
      "cancel", "Cancel a pending delayed message by the offset its send was acknowledged with");
  cancel_command->add_option("topic", cancel_flags->topic, "Topic")->required();
  cancel_command->add_option("partition", cancel_flags->partition, "Partition")->required();
  cancel_command->add_option("offset", cancel_flags->offset, "Offset")->required();
  cancel_command->callback([&ctx, &action, cancel_flags] {
    action = [&ctx, cancel_flags] { return cancel(ctx, *cancel_flags); };
  });
}

}  // namespace mq::ctl
