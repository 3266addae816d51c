// mqctl dlq: a queue group's dead letters (docs/messaging.md, "Dead letters").
// `list GROUP` prints the latest letters of the group's dead-letter topic,
// where each came from and whether it was redriven; `show GROUP OFFSET`
// prints one with its headers; `redrive GROUP` puts the letters not yet
// redriven back to the group (AckMessages action 3 on the partition each
// came from), so the group's consumers receive them again. How far redrive
// has gone is the committed offset of the consumer group
// dead_letter_redrive_group(GROUP) on the dead-letter topic.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "client/admin.h"
#include "client/consumer.h"
#include "client/queue_consumer.h"
#include "ctl/commands.h"
#include "ctl/record_format.h"
#include "transport/queue.h"

namespace mq::ctl {
namespace {

using client::TopicPartition;
using nlohmann::ordered_json;

struct DlqListFlags {
  std::string group;
  int64_t limit = 100;
};

struct DlqShowFlags {
  std::string group;
  int64_t offset = -1;
  int32_t partition = 0;
};

struct DlqRedriveFlags {
  std::string group;
  int64_t limit = 0;  // 0: every letter not yet redriven
  bool dry_run = false;
};

// One dead letter: where it is and where it came from.
struct DeadLetter {
  TopicPartition at;  // in the dead-letter topic
  int64_t offset = 0;
  int64_t timestamp_ms = 0;  // when it was dead-lettered
  std::string topic;         // where it came from
  int32_t partition = -1;
  int64_t source_offset = -1;
  int32_t deliveries = 0;
  std::string reason;
  std::optional<std::string> key;
};

std::optional<std::string> letter_header(const client::ConsumerRecord& r, std::string_view name) {
  for (const client::Header& h : r.headers) {
    if (h.key == name) return h.value;
  }
  return std::nullopt;
}

// The letter `r` holds for `group`; nullopt for another group's (a shared
// dead-letter topic) or a record that is no letter.
std::optional<DeadLetter> letter_of(const client::ConsumerRecord& r, const std::string& group) {
  if (letter_header(r, transport::kDlqGroupHeader) != group) return std::nullopt;
  std::optional<std::string> topic = letter_header(r, transport::kDlqTopicHeader);
  std::optional<std::string> partition = letter_header(r, transport::kDlqPartitionHeader);
  std::optional<std::string> offset = letter_header(r, transport::kDlqOffsetHeader);
  if (!topic || !partition || !offset) return std::nullopt;
  DeadLetter l{.at = {r.topic, r.partition}, .offset = r.offset, .timestamp_ms = r.timestamp_ms};
  l.topic = *topic;
  char* end = nullptr;
  l.partition = static_cast<int32_t>(std::strtol(partition->c_str(), &end, 10));
  if (*end != '\0' || l.partition < 0) return std::nullopt;
  l.source_offset = std::strtoll(offset->c_str(), &end, 10);
  if (*end != '\0' || l.source_offset < 0) return std::nullopt;
  l.deliveries = static_cast<int32_t>(std::strtol(
      letter_header(r, transport::kDlqDeliveriesHeader).value_or("0").c_str(), nullptr, 10));
  l.reason = letter_header(r, transport::kDlqReasonHeader).value_or("");
  l.key = r.key;
  return l;
}

// Reads the dead-letter topic from `from` (per partition) to its end as it
// is now, calling `visit` for each of the group's letters; the end offsets
// read are put in `*ends`. An exit code.
int read_letters(Context& ctx, const std::string& group, const std::string& topic,
                 const std::map<TopicPartition, int64_t>& from,
                 const std::map<TopicPartition, int64_t>& ends,
                 const std::function<bool(const DeadLetter&)>& visit) {
  std::vector<TopicPartition> todo;
  for (const auto& [tp, start] : from) {
    if (start < ends.at(tp)) todo.push_back(tp);
  }
  if (todo.empty()) return kExitOk;
  client::ConsumerConfig config = ctx.consumer_config();
  config.auto_offset_reset = client::OffsetReset::kEarliest;
  Result<std::unique_ptr<client::Consumer>> consumer = client::Consumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot start the consumer", consumer.status());
  Status st = (*consumer)->assign(todo);
  for (const TopicPartition& tp : todo) {
    if (st.is_ok()) st = (*consumer)->seek(tp, from.at(tp));
  }
  if (!st.is_ok()) return ctx.fail("cannot read " + topic, st);
  std::map<TopicPartition, int64_t> left(ends);
  for (const auto& [tp, end] : ends) {
    if (std::ranges::find(todo, tp) == todo.end()) left.erase(tp);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.timeout_ms);
  while (!left.empty()) {
    Result<std::vector<client::ConsumerRecord>> records = (*consumer)->poll(100);
    if (!records.is_ok()) return ctx.fail("cannot read " + topic, records.status());
    if (!records->empty()) {
      deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.timeout_ms);
    }
    for (const client::ConsumerRecord& r : *records) {
      TopicPartition tp{r.topic, r.partition};
      auto it = left.find(tp);
      if (it == left.end() || r.offset >= it->second) continue;
      if (std::optional<DeadLetter> l = letter_of(r, group); l && !visit(*l)) return kExitOk;
    }
    // Done with a partition once its position reached the end read before.
    for (auto it = left.begin(); it != left.end();) {
      Result<int64_t> position = (*consumer)->position(it->first);
      it = position.is_ok() && *position >= it->second ? left.erase(it) : std::next(it);
    }
    if (!left.empty() && std::chrono::steady_clock::now() >= deadline) {
      return ctx.fail("cannot read " + topic,
                      Status(ErrorCode::kRequestTimedOut, "no progress within --timeout"));
    }
  }
  return kExitOk;
}

// The dead-letter topic's partitions with their start and end offsets and
// the redrive position. kExitOk, or an exit code; `*missing` when the topic
// does not exist (no letter yet).
struct DlqExtent {
  std::map<TopicPartition, int64_t> starts, ends, redriven;
};
int extent_of(Context& ctx, const std::string& group, const std::string& topic, DlqExtent* out,
              bool* missing) {
  *missing = false;
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(std::vector{topic});
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  const int32_t count = metadata->partition_count(topic);
  if (count == 0) {
    *missing = true;
    return kExitOk;
  }
  std::map<TopicPartition, int64_t> earliest, latest;
  for (int32_t p = 0; p < count; ++p) {
    earliest[{topic, p}] = -2;
    latest[{topic, p}] = -1;
  }
  auto starts = admin->list_offsets(earliest);
  auto ends = starts.is_ok() ? admin->list_offsets(latest) : starts;
  if (!ends.is_ok()) return ctx.fail("cannot read the offsets of " + topic, ends.status());
  for (const auto& [tp, o] : *starts) out->starts[tp] = o.offset;
  for (const auto& [tp, o] : *ends) out->ends[tp] = o.offset;
  // The redrive position: the redrive group's committed offsets.
  client::ConsumerConfig config = ctx.consumer_config();
  config.group_id = transport::dead_letter_redrive_group(group);
  Result<std::unique_ptr<client::Consumer>> consumer = client::Consumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot start the consumer", consumer.status());
  std::vector<TopicPartition> partitions;
  for (const auto& [tp, end] : out->ends) partitions.push_back(tp);
  Result<std::map<TopicPartition, int64_t>> committed = (*consumer)->committed(partitions);
  if (!committed.is_ok()) {
    return ctx.fail("cannot read how far redrive has gone (group " + config.group_id + ")",
                    committed.status());
  }
  for (const auto& [tp, start] : out->starts) {
    auto it = committed->find(tp);
    out->redriven[tp] = it == committed->end() || it->second < 0 ? start : it->second;
  }
  return kExitOk;
}

ordered_json letter_json(const DeadLetter& l, bool redriven) {
  return {{"partition", l.at.partition},
          {"offset", l.offset},
          {"dead_at_ms", l.timestamp_ms},
          {"dead_at", format_iso_time(l.timestamp_ms)},
          {"topic", l.topic},
          {"source_partition", l.partition},
          {"source_offset", l.source_offset},
          {"deliveries", l.deliveries},
          {"reason", l.reason},
          {"key", l.key ? ordered_json(*l.key) : ordered_json(nullptr)},
          {"redriven", redriven}};
}

int list_letters(Context& ctx, const DlqListFlags& flags) {
  if (flags.group.empty()) return ctx.usage("GROUP: a group id is not empty");
  if (flags.limit < 1 || flags.limit > 100000) return ctx.usage("-n: the limit is 1 to 100000");
  const std::string topic = transport::dead_letter_topic(flags.group);
  DlqExtent extent;
  bool missing = false;
  if (int rc = extent_of(ctx, flags.group, topic, &extent, &missing); rc != kExitOk) return rc;
  ordered_json letters = ordered_json::array();
  if (!missing) {
    // The latest `limit` offsets of each partition.
    std::map<TopicPartition, int64_t> from;
    for (const auto& [tp, end] : extent.ends) {
      from[tp] = std::max(extent.starts[tp], end - flags.limit);
    }
    int rc = read_letters(ctx, flags.group, topic, from, extent.ends, [&](const DeadLetter& l) {
      letters.push_back(letter_json(l, l.offset < extent.redriven[l.at]));
      return true;
    });
    if (rc != kExitOk) return rc;
  }
  ordered_json document{{"group", flags.group}, {"topic", topic}, {"letters", letters}};
  ctx.print(document, [&](const ordered_json& doc) {
    if (missing) {
      return "group " + flags.group + " has no dead letters (no topic " + topic + ")\n";
    }
    Table table(
        {"PARTITION", "OFFSET", "DEAD-AT", "FROM", "DELIVERIES", "REASON", "REDRIVEN", "KEY"});
    for (const ordered_json& l : doc["letters"]) {
      table.add_row({cell(l["partition"]), cell(l["offset"]), cell(l["dead_at"]),
                     l["topic"].get<std::string>() + "-" + cell(l["source_partition"]) + "@" +
                         cell(l["source_offset"]),
                     cell(l["deliveries"]), cell(l["reason"]), l["redriven"] ? "yes" : "no",
                     l["key"].is_null() ? "" : l["key"].get<std::string>()});
    }
    return table.render() + std::to_string(doc["letters"].size()) + " dead letter(s) of group " +
           flags.group + " in " + topic + "\n";
  });
  return kExitOk;
}

int show_letter(Context& ctx, const DlqShowFlags& flags) {
  if (flags.group.empty()) return ctx.usage("GROUP: a group id is not empty");
  return show_message(ctx, transport::dead_letter_topic(flags.group), flags.partition,
                      flags.offset);
}

int redrive_letters(Context& ctx, const DlqRedriveFlags& flags) {
  if (flags.group.empty()) return ctx.usage("GROUP: a group id is not empty");
  if (flags.limit < 0) return ctx.usage("-n: the limit is >= 1 (0: all)");
  const std::string topic = transport::dead_letter_topic(flags.group);
  DlqExtent extent;
  bool missing = false;
  if (int rc = extent_of(ctx, flags.group, topic, &extent, &missing); rc != kExitOk) return rc;
  if (missing) {
    ctx.print({{"group", flags.group}, {"redriven", 0}}, [&](const ordered_json&) {
      return "group " + flags.group + " has no dead letters (no topic " + topic + ")\n";
    });
    return kExitOk;
  }
  client::QueueConsumerConfig config;
  config.bootstrap_servers = ctx.brokers;
  config.client_id = "mqctl";
  config.curve = ctx.curve;
  config.group_id = flags.group;
  config.topics = {topic};
  config.request_timeout_ms = ctx.timeout_ms;
  Result<std::unique_ptr<client::QueueConsumer>> queue = client::QueueConsumer::create(config);
  if (!queue.is_ok()) return ctx.fail("cannot create the queue consumer", queue.status());
  client::ConsumerConfig committer_config = ctx.consumer_config();
  committer_config.group_id = transport::dead_letter_redrive_group(flags.group);
  Result<std::unique_ptr<client::Consumer>> committer = client::Consumer::create(committer_config);
  if (!committer.is_ok()) return ctx.fail("cannot start the consumer", committer.status());

  // Letters are put back in chunks; after each, the redrive position moves
  // past it, so an interrupted redrive goes on where it stopped.
  constexpr size_t kChunk = 1000;
  std::vector<DeadLetter> chunk;
  size_t redriven = 0, taken = 0;
  ordered_json skipped = ordered_json::array();
  int failed = kExitOk;
  auto put_back = [&]() -> bool {
    if (chunk.empty()) return true;
    std::map<TopicPartition, int64_t> position;
    if (!flags.dry_run) {
      // Per letter its outcome; transient failures are asked again (a
      // leader moving) before the redrive stops at the first that stays.
      std::vector<Status> outcome(chunk.size(), Status(ErrorCode::kUnknown, "not asked"));
      std::vector<size_t> ask(chunk.size());
      for (size_t i = 0; i < ask.size(); ++i) ask[i] = i;
      for (int attempt = 0; attempt < 5 && !ask.empty(); ++attempt) {
        if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
        std::vector<client::QueueMessage> messages;
        for (size_t i : ask) {
          const DeadLetter& l = chunk[i];
          messages.push_back(
              {.topic = l.topic, .partition = l.partition, .offset = l.source_offset});
        }
        Result<std::vector<client::QueueAckResult>> results =
            (*queue)->settle(messages, client::QueueConsumer::Action::kRedrive);
        std::vector<size_t> again;
        for (size_t k = 0; k < ask.size(); ++k) {
          outcome[ask[k]] = results.is_ok() ? (*results)[k].status : results.status();
          if (is_retriable(outcome[ask[k]].code()) &&
              outcome[ask[k]].code() != ErrorCode::kUnknownTopicOrPartition) {
            again.push_back(ask[k]);
          }
        }
        ask = std::move(again);
      }
      for (size_t i = 0; i < chunk.size(); ++i) {
        const Status& st = outcome[i];
        const DeadLetter& l = chunk[i];
        const std::string what =
            l.topic + "-" + std::to_string(l.partition) + "@" + std::to_string(l.source_offset);
        if (st.code() == ErrorCode::kOffsetOutOfRange || st.code() == ErrorCode::kNotFound ||
            st.code() == ErrorCode::kUnknownTopicOrPartition) {
          // Gone for good: passed over, and said.
          skipped.push_back({{"offset", l.offset},
                             {"from", what},
                             {"error", std::string(error_name(st.code()))},
                             {"message", st.message()}});
          ctx.error("letter " + std::to_string(l.offset) + " (" + what + ") not redriven: " +
                    (st.code() == ErrorCode::kOffsetOutOfRange
                         ? "the message is no longer in " + l.topic + " (retention)"
                     : st.code() == ErrorCode::kUnknownTopicOrPartition
                         ? l.topic + " or its partition no longer exists"
                         : "group " + flags.group + " holds no message there"));
        } else if (!st.is_ok()) {
          // Not put back: the position stops before it (letters after it in
          // this round were put back, and are left as they are if asked again
          // while still pending).
          failed = ctx.fail("cannot redrive " + what, st);
          break;
        } else {
          redriven++;
        }
        position[l.at] = l.offset + 1;
      }
      if (!position.empty()) {
        if (Status committed = (*committer)->commit_sync(position); !committed.is_ok()) {
          failed = ctx.fail("cannot record the redrive position", committed);
          return false;
        }
      }
    } else {
      redriven += chunk.size();
    }
    chunk.clear();
    return failed == kExitOk;
  };
  int rc =
      read_letters(ctx, flags.group, topic, extent.redriven, extent.ends, [&](const DeadLetter& l) {
        if (flags.limit > 0 && taken >= static_cast<size_t>(flags.limit)) {
          return false;
        }
        taken++;
        chunk.push_back(l);
        return chunk.size() < kChunk || put_back();
      });
  if (rc != kExitOk) return rc;
  if (failed == kExitOk) put_back();
  if (failed != kExitOk) return failed;
  ordered_json document{{"group", flags.group},
                        {"topic", topic},
                        {"redriven", redriven},
                        {"skipped", skipped},
                        {"dry_run", flags.dry_run}};
  ctx.print(document, [&](const ordered_json&) {
    std::string text = (flags.dry_run ? "would redrive " : "redrove ") + std::to_string(redriven) +
                       " dead letter(s) to group " + flags.group;
    if (!skipped.empty()) text += "; " + std::to_string(skipped.size()) + " skipped";
    return text + "\n";
  });
  return skipped.empty() ? kExitOk : kExitPartial;
}

}  // namespace

void add_dlq_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* dlq = root.add_subcommand(
      "dlq", "A queue group's dead letters: list, show, and redrive them to the group");
  dlq->require_subcommand(1);

  auto list_flags = std::make_shared<DlqListFlags>();
  CLI::App* list_command =
      dlq->add_subcommand("list", "Print a group's latest dead letters and where they came from");
  list_command->add_option("group", list_flags->group, "Queue group")->required();
  list_command->add_option("-n,--limit", list_flags->limit,
                           "The latest N offsets of the dead-letter topic (default 100)");
  list_command->callback([&ctx, &action, list_flags] {
    action = [&ctx, list_flags] { return list_letters(ctx, *list_flags); };
  });

  auto show_flags = std::make_shared<DlqShowFlags>();
  CLI::App* show_command =
      dlq->add_subcommand("show", "Print one dead letter with its headers and value");
  show_command->add_option("group", show_flags->group, "Queue group")->required();
  show_command->add_option("offset", show_flags->offset, "Offset in the dead-letter topic")
      ->required();
  show_command->add_option("-p,--partition", show_flags->partition,
                           "Partition of the dead-letter topic (default 0)");
  show_command->callback([&ctx, &action, show_flags] {
    action = [&ctx, show_flags] { return show_letter(ctx, *show_flags); };
  });

  auto redrive_flags = std::make_shared<DlqRedriveFlags>();
  CLI::App* redrive_command = dlq->add_subcommand(
      "redrive", "Put the dead letters not yet redriven back to the group, to be received again");
  redrive_command->add_option("group", redrive_flags->group, "Queue group")->required();
  redrive_command->add_option("-n,--limit", redrive_flags->limit,
                              "At most N letters (default: all not yet redriven)");
  redrive_command->add_flag("--dry-run", redrive_flags->dry_run,
                            "Count what would be redriven; change nothing");
  redrive_command->callback([&ctx, &action, redrive_flags] {
    action = [&ctx, redrive_flags] { return redrive_letters(ctx, *redrive_flags); };
  });
}

}  // namespace mq::ctl
