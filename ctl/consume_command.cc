// mqctl consume: reads partitions of one or more topics from a start
// position (--from) and prints each message: its value per line by default,
// a -f template, or one JSON object per line with -o json. With -e it stops
// at the end offsets the partitions had when it started, so
// `mqctl consume t --from beginning -e | wc -l` counts a topic.
//
// With -g GROUP it is a member of a consumer group instead: the group's
// coordinator hands it partitions, it starts at the group's committed offsets
// (--from beginning|end only where there is none) and commits the offsets of
// the messages it printed, every 5 s, before each rebalance and on exit.
#include <charconv>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "client/consumer.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/record_format.h"
#include "ctl/start_position.h"
#include "filter/property_filter.h"
#include "filter/tag_expression.h"

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
  std::string until;  // --until OFFSET | @TIME | @-DURATION
  std::string format;
  std::string group;
  bool grouped = false;          // -g was given
  client::MessageFilter filter;  // --tags, --filter
};

// Applies --tags / --filter to every topic read.
Status apply_filter(client::Consumer& consumer, const ConsumeFlags& flags) {
  if (flags.filter.empty()) return Status::ok();
  for (const std::string& topic : flags.topics) {
    MQ_RETURN_IF_ERROR(consumer.set_filter(topic, flags.filter));
  }
  return Status::ok();
}

// How often -g commits what it printed while running.
constexpr int64_t kGroupCommitIntervalMs = 5'000;

void write_out(const Context& ctx, const std::string& out) {
  if (out.empty()) return;
  std::fwrite(out.data(), 1, out.size(), ctx.io.out);
  std::fflush(ctx.io.out);
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

// Where --until stops each partition: before `offset`, or before the first
// message stamped at or after `time_ms`.
struct Until {
  std::optional<int64_t> offset;
  std::optional<int64_t> time_ms;

  bool reached(const client::ConsumerRecord& record) const {
    return (offset && record.offset >= *offset) || (time_ms && record.timestamp_ms >= *time_ms);
  }
};

Result<Until> parse_until(const std::string& text) {
  if (text.empty()) return Until{};
  if (text.starts_with('@')) {
    Result<int64_t> time = parse_time_ms(text, now_ms());
    if (!time.is_ok()) return time.status();
    return Until{.time_ms = *time};
  }
  int64_t offset = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), offset);
  if (error != std::errc() || end != text.data() + text.size() || offset < 0) {
    return Status(ErrorCode::kInvalidConfig, "expected OFFSET, @TIME or @-DURATION");
  }
  return Until{.offset = offset};
}

// Without -g: the chosen partitions, each from --from.
int consume_partitions(Context& ctx, const ConsumeFlags& flags, const StartPosition& from,
                       const RecordFormat& format, const std::vector<int32_t>& wanted_partitions,
                       const Until& until) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(flags.topics);
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  std::vector<TopicPartition> tps;
  for (const std::string& topic : flags.topics) {
    int32_t count = metadata->partition_count(topic);
    if (Status denied = hidden_topic(*metadata, topic); !denied.is_ok()) {
      return ctx.fail("cannot consume", denied);
    }
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
  std::optional<std::map<TopicPartition, Range>> ranges = plan_ranges(ctx, *admin, tps, from, code);
  if (!ranges) return code;

  client::ConsumerConfig config = ctx.consumer_config();
  Result<std::unique_ptr<client::Consumer>> consumer = client::Consumer::create(config);
  if (!consumer.is_ok()) return ctx.fail("cannot start the consumer", consumer.status());

  // Partitions still to read; with -e those already at their end are done.
  std::map<TopicPartition, int64_t> next;  // next offset to print, per partition
  std::vector<TopicPartition> assigned;
  for (const auto& [tp, range] : *ranges) {
    if (flags.exit_at_end && range.start >= range.end) continue;
    if (until.offset && range.start >= *until.offset) continue;
    next[tp] = range.start;
    assigned.push_back(tp);
  }
  Status assigned_ok = apply_filter(**consumer, flags);
  if (assigned_ok.is_ok()) assigned_ok = (*consumer)->assign(assigned);
  for (const TopicPartition& tp : assigned) {
    if (assigned_ok.is_ok()) assigned_ok = (*consumer)->seek(tp, next[tp]);
  }
  if (!assigned_ok.is_ok()) return ctx.fail("cannot assign partitions", assigned_ok);

  int64_t printed = 0;
  std::string out;
  size_t open = assigned.size();
  // Partitions that reached --until (or, with -e, their end): read no more.
  std::set<TopicPartition> finished;
  auto finish = [&](const TopicPartition& tp) {
    if (finished.insert(tp).second) --open;
  };
  const bool bounded = flags.exit_at_end || until.offset || until.time_ms;
  while (!interrupted() && (!bounded || open > 0) && (flags.count < 0 || printed < flags.count)) {
    Result<std::vector<client::ConsumerRecord>> records = (*consumer)->poll(200);
    if (!records.is_ok()) return ctx.fail("consume failed", records.status());
    out.clear();
    for (const client::ConsumerRecord& record : *records) {
      TopicPartition tp{record.topic, record.partition};
      auto at = next.find(tp);
      if (at == next.end() || record.offset < at->second || finished.contains(tp)) continue;
      int64_t end = ranges->at(tp).end;
      if (flags.exit_at_end && record.offset >= end) continue;
      if (until.reached(record)) {
        finish(tp);
        continue;
      }
      at->second = record.offset + 1;
      render_record(ctx, format, record, out);
      if (flags.exit_at_end && at->second >= end) finish(tp);
      if (until.offset && at->second >= *until.offset) finish(tp);
      if (++printed == flags.count) break;
    }
    if (records->empty() && flags.exit_at_end) {
      // Compaction or retention can leave the last offsets before `end` empty.
      for (auto& [tp, offset] : next) {
        int64_t end = ranges->at(tp).end;
        if (offset >= end || finished.contains(tp)) continue;
        Result<int64_t> position = (*consumer)->position(tp);
        if (position.is_ok() && *position >= end) {
          offset = end;
          finish(tp);
        }
      }
    }
    write_out(ctx, out);
  }
  return kExitOk;
}

// With -g: what this member knows of each partition the group gave it.
struct OwnedPartition {
  int64_t end = -1;           // -e: the partition's end when it was assigned
  bool done = false;          // -e: everything before `end` was read
  int64_t printed_next = -1;  // the offset after the last message printed; -1: none yet
  int64_t sent_next = -1;     // printed_next as of the last periodic commit sent
};

// The callbacks and commits of `consume -g`. Commits carry the offsets of
// printed messages only (the consumer's own auto-commit is off: it would
// commit positions, which run ahead of what was printed when -n stops in the
// middle of a batch or -e skips messages past the end).
class GroupMember {
 public:
  GroupMember(const Context& ctx, const ConsumeFlags& flags, client::Admin& admin)
      : ctx_(ctx), flags_(flags), admin_(admin) {}

  void attach(client::Consumer* consumer) { consumer_ = consumer; }

  client::RebalanceCallbacks callbacks() {
    return {.on_revoked = [this](const std::vector<TopicPartition>& p) { on_revoked(p); },
            .on_assigned = [this](const std::vector<TopicPartition>& p) { on_assigned(p); }};
  }

  // A failure inside a callback, which ends consume.
  const Status& failure() const { return failure_; }
  // -e: every partition of the current assignment reached its end.
  bool all_at_end() const {
    if (!in_generation_) return false;
    for (const auto& [tp, owned] : owned_) {
      if (!owned.done) return false;
    }
    return true;
  }
  OwnedPartition* find(const TopicPartition& tp) {
    auto it = owned_.find(tp);
    return it == owned_.end() ? nullptr : &it->second;
  }
  std::map<TopicPartition, OwnedPartition>& owned() { return owned_; }

  // Sends the offsets printed since the last periodic commit (not waiting).
  void commit_async() {
    std::map<TopicPartition, int64_t> offsets;
    for (auto& [tp, owned] : owned_) {
      if (owned.printed_next > owned.sent_next) {
        offsets[tp] = owned.printed_next;
        owned.sent_next = owned.printed_next;
      }
    }
    if (offsets.empty()) return;
    consumer_->commit_async(offsets, [this](const std::map<TopicPartition, int64_t>& sent,
                                            const Status& status) {
      if (status.is_ok()) return;
      // Sent again by the next periodic commit, or by the one before a
      // rebalance or on exit, which are synchronous.
      for (const auto& [tp, offset] : sent) {
        OwnedPartition* owned = find(tp);
        if (owned != nullptr && owned->sent_next == offset) owned->sent_next = -1;
      }
      ctx_.note("group \"" + flags_.group + "\": periodic commit failed: " + status.to_string());
    });
  }

  // Commits what was printed of `partitions`, waiting for the answer.
  Status commit_sync(const std::vector<TopicPartition>& partitions) {
    std::map<TopicPartition, int64_t> offsets;
    for (const TopicPartition& tp : partitions) {
      OwnedPartition* owned = find(tp);
      if (owned != nullptr && owned->printed_next >= 0) offsets[tp] = owned->printed_next;
    }
    if (offsets.empty()) return Status::ok();
    return consumer_->commit_sync(offsets);
  }

  // The final commit; the consumer's close() then only leaves the group.
  Status commit_on_exit() {
    closing_ = true;
    std::vector<TopicPartition> all;
    for (const auto& [tp, owned] : owned_) all.push_back(tp);
    return commit_sync(all);
  }

 private:
  void on_assigned(const std::vector<TopicPartition>& partitions) {
    owned_.clear();
    for (const TopicPartition& tp : partitions) owned_[tp] = {};
    in_generation_ = true;
    std::string names;
    for (const TopicPartition& tp : partitions) names += " " + tp.to_string();
    ctx_.note("group \"" + flags_.group + "\": assigned" + (names.empty() ? " nothing" : names));
    if (!flags_.exit_at_end || partitions.empty()) return;
    std::map<TopicPartition, int64_t> latest;
    for (const TopicPartition& tp : partitions) latest[tp] = -1;
    Result<std::map<TopicPartition, client::ListedOffset>> ends = admin_.list_offsets(latest);
    if (!ends.is_ok()) {
      failure_ = Status(ends.code(), "cannot read the end offsets of the assigned partitions: " +
                                         ends.status().message());
      return;
    }
    for (const TopicPartition& tp : partitions) owned_[tp].end = ends->at(tp).offset;
  }

  void on_revoked(const std::vector<TopicPartition>& partitions) {
    // close() runs this after commit_on_exit(), when the consumer takes no
    // more commits.
    if (!closing_) {
      Status committed = commit_sync(partitions);
      if (!committed.is_ok()) {
        ctx_.error("group \"" + flags_.group + "\": cannot commit before the rebalance (" +
                   committed.to_string() + "); the last messages printed may be read again");
      }
    }
    for (const TopicPartition& tp : partitions) owned_.erase(tp);
    in_generation_ = false;
  }

  const Context& ctx_;
  const ConsumeFlags& flags_;
  client::Admin& admin_;
  client::Consumer* consumer_ = nullptr;
  std::map<TopicPartition, OwnedPartition> owned_;
  bool in_generation_ = false;  // between on_assigned and on_revoked
  bool closing_ = false;
  Status failure_;
};

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// With -g: a member of the group, on the partitions the group gives it.
int consume_group(Context& ctx, const ConsumeFlags& flags, const StartPosition& from,
                  const RecordFormat& format) {
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<client::ClusterMetadata> metadata = admin->describe_cluster(flags.topics);
  if (!metadata.is_ok()) return ctx.fail("cannot read metadata", metadata.status());
  for (const std::string& topic : flags.topics) {
    if (metadata->partition_count(topic) == 0) return ctx.not_found("topic", topic);
  }

  client::ConsumerConfig config = ctx.consumer_config();
  config.group_id = flags.group;
  config.auto_offset_reset = from.kind == StartPosition::Kind::kBeginning
                                 ? client::OffsetReset::kEarliest
                                 : client::OffsetReset::kLatest;
  config.enable_auto_commit = false;  // GroupMember commits what was printed
  // The member declared before the consumer outlives it: ~Consumer may still
  // call on_revoked.
  GroupMember member(ctx, flags, *admin);
  Result<std::unique_ptr<client::Consumer>> created = client::Consumer::create(config);
  if (!created.is_ok()) return ctx.fail("cannot start the consumer", created.status());
  client::Consumer& consumer = **created;
  member.attach(&consumer);
  Status subscribed = apply_filter(consumer, flags);
  if (subscribed.is_ok()) subscribed = consumer.subscribe(flags.topics, member.callbacks());
  if (!subscribed.is_ok()) {
    return ctx.fail("cannot join group \"" + flags.group + "\"", subscribed);
  }

  int64_t printed = 0;
  int64_t next_commit_ms = steady_now_ms() + kGroupCommitIntervalMs;
  std::string out;
  Status failed;
  std::string failed_what;
  while (!interrupted() && (flags.count < 0 || printed < flags.count) &&
         !(flags.exit_at_end && member.all_at_end())) {
    if (steady_now_ms() >= next_commit_ms) {
      member.commit_async();
      next_commit_ms = steady_now_ms() + kGroupCommitIntervalMs;
    }
    Result<std::vector<client::ConsumerRecord>> records = consumer.poll(200);
    if (!member.failure().is_ok()) {
      failed = member.failure();
      failed_what = "group \"" + flags.group + "\"";
      break;
    }
    if (!records.is_ok()) {
      failed = records.status();
      failed_what = "consume failed";
      break;
    }
    out.clear();
    for (const client::ConsumerRecord& record : *records) {
      OwnedPartition* owned = member.find({record.topic, record.partition});
      if (owned == nullptr || owned->done || record.offset < owned->printed_next) continue;
      if (flags.exit_at_end && record.offset >= owned->end) {
        owned->done = true;  // past the end it had when assigned: not printed, not committed
        continue;
      }
      render_record(ctx, format, record, out);
      owned->printed_next = record.offset + 1;
      if (flags.exit_at_end && owned->printed_next >= owned->end) owned->done = true;
      if (++printed == flags.count) break;
    }
    write_out(ctx, out);
    if (records->empty()) {
      // Nothing handed out: the position moved only past offsets that hold
      // nothing to print (filtered out, compacted, expired), so it is what
      // to commit. Partitions that start at their end return nothing: with
      // -e, ask where they are.
      for (auto& [tp, owned] : member.owned()) {
        if (owned.done) continue;
        Result<int64_t> position = consumer.position(tp);
        if (!position.is_ok()) continue;
        if (owned.printed_next >= 0 || !flags.filter.empty()) {
          owned.printed_next = std::max(owned.printed_next, *position);
        }
        if (flags.exit_at_end && *position >= owned.end) owned.done = true;
      }
    }
  }

  // Commit what was printed, then leave the group so its partitions move at once.
  Status committed = member.commit_on_exit();
  Status left = consumer.close();
  if (!failed.is_ok()) return ctx.fail(failed_what, failed);
  if (!committed.is_ok()) {
    return ctx.fail("cannot commit the offsets of group \"" + flags.group + "\"", committed);
  }
  if (!left.is_ok()) return ctx.fail("cannot leave group \"" + flags.group + "\"", left);
  return kExitOk;
}

int consume(Context& ctx, const ConsumeFlags& flags) {
  // From the start: a signal while metadata or offsets are read (a broker
  // restarting, an address that never answers) ends consume too.
  watch_interrupts();
  Result<StartPosition> from = parse_start_position(flags.from, now_ms());
  if (!from.is_ok()) return ctx.usage(from.status().message());
  if (!flags.format.empty() && ctx.output != OutputFormat::kTable) {
    return ctx.usage("-f and -o json/yaml exclude each other");
  }
  Result<RecordFormat> format =
      RecordFormat::parse(flags.format.empty() ? "{value}\\n" : flags.format);
  if (!format.is_ok()) return ctx.usage(format.status().message());
  if (flags.count == 0 || flags.count < -1) return ctx.usage("-n: must be >= 1");
  if (Result<filter::TagExpression> tags = filter::TagExpression::parse(flags.filter.tags);
      !tags.is_ok()) {
    return ctx.usage("--tags \"" + flags.filter.tags + "\": " + tags.status().message());
  }
  if (!flags.filter.where.empty()) {
    if (Result<filter::PropertyFilter> where = filter::PropertyFilter::parse(flags.filter.where);
        !where.is_ok()) {
      return ctx.usage("--filter \"" + flags.filter.where + "\": " + where.status().message());
    }
  }
  Result<Until> until = parse_until(flags.until);
  if (!until.is_ok()) {
    return ctx.usage("--until \"" + flags.until + "\": " + until.status().message());
  }
  if (flags.grouped) {
    if (flags.group.empty()) return ctx.usage("-g: the group name must not be empty");
    if (!flags.until.empty()) {
      return ctx.usage("--until cannot be used with -g: a group member reads on");
    }
    if (!flags.partitions.empty()) {
      return ctx.usage("-p cannot be used with -g: the group assigns the partitions");
    }
    if (from->kind != StartPosition::Kind::kBeginning && from->kind != StartPosition::Kind::kEnd) {
      return ctx.usage("--from \"" + flags.from +
                       "\" cannot be used with -g: a group starts at its committed offsets "
                       "(--from beginning|end only applies where it has none); to move them "
                       "use `mqctl group reset-offsets " +
                       flags.group + "`");
    }
    return consume_group(ctx, flags, *from, *format);
  }
  std::vector<int32_t> wanted_partitions;
  if (!flags.partitions.empty()) {
    Result<std::vector<int32_t>> parsed = parse_partition_list("-p", flags.partitions);
    if (!parsed.is_ok()) return ctx.usage(parsed.status().message());
    wanted_partitions = *parsed;
  }
  return consume_partitions(ctx, flags, *from, *format, wanted_partitions, *until);
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
  command->add_option("--until", flags->until,
                      "Stop each partition before OFFSET, or before the first message at or "
                      "after @TIME / @-DURATION");
  command->add_flag("-e,--exit-at-end", flags->exit_at_end,
                    "Stop at the end every partition had when consume started (with -g: "
                    "when it was assigned)");
  command->add_option("--tags", flags->filter.tags,
                      "Only messages with one of these tags: \"A || B\" (\"*\": any message); "
                      "filtered on the broker");
  command->add_option("--filter", flags->filter.where,
                      "Only messages whose headers pass this SQL92 condition, e.g. \"region = "
                      "'eu' AND amount > 100\"; filtered on the broker");
  CLI::Option* group =
      command->add_option("-g,--group", flags->group,
                          "Consume as a member of consumer group GROUP: the group assigns the "
                          "partitions, reading starts at its committed offsets and what is printed "
                          "is committed");
  command->add_option("-f,--format", flags->format,
                      "Template: {key} {value} {headers} {header.NAME} {key_size} "
                      "{value_size} {topic} {partition} {offset} {timestamp}, encodings "
                      "{value:hex} {key:base64} {timestamp:iso}, \\n \\t (default "
                      "{value}\\n)");
  command->callback([&ctx, &action, flags, group] {
    flags->grouped = group->count() > 0;
    action = [&ctx, flags] { return consume(ctx, *flags); };
  });
}

}  // namespace mq::ctl
