// mqctl produce: one message per line (or per --delimiter) of stdin or a
// file, optionally with a key split off each line; or records read by a -f
// template or as JSON lines (ctl/input_format.h). They are sent through the
// asynchronous producer as they are read. Each record that cannot be read
// and each failed message is reported on stderr with its number; the exit
// code is 1 if any was.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>

#include "client/producer.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/duration.h"
#include "ctl/input_format.h"
#include "ctl/start_position.h"
#include "store/record_batch.h"

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

struct ProduceFlags {
  std::string topic;
  std::string key;
  CLI::Option* key_option = nullptr;
  std::string key_separator;
  CLI::Option* key_separator_option = nullptr;
  std::vector<std::string> headers;
  std::string tag;
  CLI::Option* tag_option = nullptr;
  std::string msg_id_from;
  std::string delay;
  int delay_level = 0;
  CLI::Option* delay_level_option = nullptr;
  std::string deliver_at;
  int32_t partition = -1;
  std::string acks = "all";
  CLI::Option* acks_option = nullptr;
  std::string mode = "async";
  std::string delimiter = "\\n";
  CLI::Option* delimiter_option = nullptr;
  std::string format;
  CLI::Option* format_option = nullptr;
  std::string input = "lines";
  CLI::Option* input_option = nullptr;
  std::string file;
  std::string linger = "5ms";
};

// How the input is split into records and read.
struct InputPlan {
  enum class Mode { kLines, kTemplate, kJson };
  Mode mode = Mode::kLines;
  std::string delimiter;              // what ends each record
  std::string key_separator;          // kLines: where a key is split off, if set
  std::optional<InputFormat> format;  // kTemplate
};

// -f and --input json read keys (and the delimiter, for -f) from the input,
// so the flags of line mode that set them are refused next to them.
Result<InputPlan> plan_input(const ProduceFlags& flags) {
  auto usage = [](const std::string& message) {
    return Status(ErrorCode::kInvalidConfig, message);
  };
  InputPlan plan;
  bool with_template = flags.format_option->count() > 0;
  if (with_template || flags.input == "json") {
    std::string mode = with_template ? "-f" : "--input json";
    std::string keys_from =
        with_template ? "read the key with {key}" : "the key is each line's \"key\"";
    if (with_template && flags.input_option->count() > 0) {
      return usage("-f and --input exclude each other: -f reads records by its template");
    }
    if (flags.key_option->count() > 0) {
      return usage(mode + " and -k exclude each other: " + keys_from);
    }
    if (flags.key_separator_option->count() > 0) {
      return usage(mode + " and --key-separator exclude each other: " + keys_from);
    }
    if (flags.delimiter_option->count() > 0) {
      return usage(mode + " and --delimiter exclude each other: " +
                   (with_template ? "the template's last literal ends each record"
                                  : "JSON records are one per line"));
    }
    if (!with_template) {
      plan.mode = InputPlan::Mode::kJson;
      plan.delimiter = "\n";
      return plan;
    }
    Result<InputFormat> format = InputFormat::parse(flags.format);
    if (!format.is_ok()) return format.status();
    plan.mode = InputPlan::Mode::kTemplate;
    plan.delimiter = format->delimiter();
    plan.format = std::move(*format);
    return plan;
  }
  if (flags.input != "lines") {
    return usage("--input: \"" + flags.input + "\" is not lines or json");
  }
  Result<std::string> delimiter = parse_delimiter("--delimiter", flags.delimiter);
  if (!delimiter.is_ok()) return delimiter.status();
  plan.delimiter = *delimiter;
  if (!flags.key_separator.empty()) {
    if (flags.key_option->count() > 0) return usage("-k and --key-separator exclude each other");
    Result<std::string> parsed = parse_delimiter("--key-separator", flags.key_separator);
    if (!parsed.is_ok()) return parsed.status();
    plan.key_separator = *parsed;
  }
  return plan;
}

// What the producer's callbacks report into (they run on its I/O thread).
struct Outcome {
  FILE* err = nullptr;
  std::mutex mu;  // serializes lines on stderr
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> duplicates{0};  // acknowledged with the offset of an earlier message
  uint64_t bad = 0;  // records that could not be read, so were not sent (reading thread only)

  void report(uint64_t number, const Status& status) {
    failed.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu);
    std::fprintf(err, "mqctl: message %llu failed: %s\n", static_cast<unsigned long long>(number),
                 status.to_string().c_str());
  }

  // `what` is "record", or "line" where records are numbered by line.
  void report_bad(const char* what, uint64_t number, const std::string& why) {
    ++bad;
    std::lock_guard lock(mu);
    std::fprintf(err, "mqctl: %s %llu not sent: %s\n", what,
                 static_cast<unsigned long long>(number), why.c_str());
  }
};

// Reads up to `size` bytes: whatever a pipe or terminal holds right now
// (read(2) returns without waiting for a full buffer, so `tail -f | mqctl
// produce` streams), or fread for a stream without a descriptor. 0 at the
// end of input; -1 on an error.
ssize_t read_some(FILE* in, char* buffer, size_t size) {
  int fd = ::fileno(in);
  if (fd < 0) {
    size_t n = std::fread(buffer, 1, size, in);
    return n == 0 && std::ferror(in) ? -1 : static_cast<ssize_t>(n);
  }
  while (true) {
    ssize_t n = ::read(fd, buffer, size);
    if (n >= 0 || errno != EINTR) return n;
    if (interrupted()) return 0;
  }
}

// Splits input read in large chunks into messages, handing each to `emit`
// as soon as its delimiter arrives. A last message without a trailing
// delimiter still counts; an empty input after the last delimiter does not.
template <class Emit>
bool for_each_message(FILE* in, const std::string& delimiter, Emit&& emit) {
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<char[]> buffer(new char[kChunk]);
  std::string carry;  // a message split across chunks
  bool read_ok = true;
  while (!interrupted()) {
    ssize_t n = read_some(in, buffer.get(), kChunk);
    if (n <= 0) {
      read_ok = n == 0;
      break;
    }
    std::string_view chunk(buffer.get(), static_cast<size_t>(n));
    if (!carry.empty()) {
      // Find the delimiter across the boundary by joining just enough.
      carry.append(chunk);
      chunk = carry;
    }
    size_t start = 0;
    while (true) {
      size_t end = delimiter.size() == 1
                       ? [&] {
                           const void* hit = std::memchr(chunk.data() + start, delimiter[0],
                                                         chunk.size() - start);
                           return hit ? static_cast<size_t>(static_cast<const char*>(hit) -
                                                            chunk.data())
                                      : std::string_view::npos;
                         }()
                       : chunk.find(delimiter, start);
      if (end == std::string_view::npos) break;
      emit(chunk.substr(start, end - start));
      start = end + delimiter.size();
    }
    std::string rest(chunk.substr(start));
    carry = std::move(rest);
  }
  if (!carry.empty()) emit(std::string_view(carry));
  return read_ok;
}

// RocketMQ's send modes: async pipelines messages and reports failures as
// they come, sync waits for each message's acknowledgement before reading
// the next, oneway sends with acks 0 and learns nothing.
enum class SendMode { kAsync, kSync, kOneway };

Result<SendMode> parse_send_mode(const std::string& text) {
  if (text == "async") return SendMode::kAsync;
  if (text == "sync") return SendMode::kSync;
  if (text == "oneway") return SendMode::kOneway;
  return Status(ErrorCode::kInvalidConfig,
                "--mode: \"" + text + "\" is not one of sync, async, oneway");
}

// Sends `record` and waits for its answer (sync mode): the result, or nullopt
// when interrupted first (the answer, if it comes, is dropped).
std::optional<Result<client::RecordMetadata>> send_and_wait(
    client::Producer& producer, const client::ProducerRecordView& record) {
  auto answer = std::make_shared<std::promise<Result<client::RecordMetadata>>>();
  std::future<Result<client::RecordMetadata>> future = answer->get_future();
  Status sent = producer.send_view(record, [answer](const Result<client::RecordMetadata>& result) {
    answer->set_value(result);
  });
  if (!sent.is_ok()) return Result<client::RecordMetadata>(sent);
  while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
    if (interrupted()) return std::nullopt;
  }
  return future.get();
}

int produce(Context& ctx, const ProduceFlags& flags) {
  Result<SendMode> mode = parse_send_mode(flags.mode);
  if (!mode.is_ok()) return ctx.usage(mode.status().message());
  Result<int> acks = parse_acks(flags.acks);
  if (!acks.is_ok()) return ctx.usage(acks.status().message());
  if (*mode == SendMode::kOneway) {
    if (flags.acks_option->count() > 0 && *acks != 0) {
      return ctx.usage("--mode oneway sends without acknowledgements: leave out --acks or say 0");
    }
    acks = 0;
  }
  Result<InputPlan> plan = plan_input(flags);
  if (!plan.is_ok()) return ctx.usage(plan.status().message());
  std::vector<client::Header> headers;
  for (const std::string& text : flags.headers) {
    Result<std::pair<std::string, std::string>> kv = parse_key_value("-H", text);
    if (!kv.is_ok()) return ctx.usage(kv.status().message());
    headers.push_back({kv->first, kv->second});
  }
  if (flags.tag_option->count() > 0) {
    if (Status tag = check_tag(flags.tag); !tag.is_ok()) {
      return ctx.usage("--tag \"" + flags.tag + "\": " + tag.message());
    }
    if (std::ranges::any_of(headers, [](const client::Header& h) { return h.key == kTagHeader; })) {
      return ctx.usage("--tag and -H " + std::string(kTagHeader) + "=... name the tag twice");
    }
    headers.push_back({std::string(kTagHeader), flags.tag});
  }
  const bool id_from_key = !flags.msg_id_from.empty();
  if (id_from_key && flags.msg_id_from != "key") {
    return ctx.usage("--msg-id-from: \"" + flags.msg_id_from + "\" is not key");
  }
  if (id_from_key && std::ranges::any_of(headers, [](const client::Header& h) {
        return h.key == kMessageIdHeader;
      })) {
    return ctx.usage("--msg-id-from and -H " + std::string(kMessageIdHeader) +
                     "=... name the message id twice");
  }
  // Delayed delivery: a fixed delay after each message's send, or one time.
  int64_t delay_ms = 0;
  std::optional<int64_t> deliver_at;
  {
    const bool level = flags.delay_level_option->count() > 0;
    int given =
        (flags.delay.empty() ? 0 : 1) + (level ? 1 : 0) + (flags.deliver_at.empty() ? 0 : 1);
    if (given > 1) return ctx.usage("--delay, --delay-level and --deliver-at exclude each other");
    if (!flags.delay.empty()) {
      Result<int64_t> parsed = parse_duration_ms(flags.delay);
      if (!parsed.is_ok()) return ctx.usage("--delay: " + parsed.status().message());
      if (*parsed <= 0) return ctx.usage("--delay: a delay is more than 0");
      delay_ms = *parsed;
    } else if (level) {
      Result<int64_t> parsed = delay_level_ms(flags.delay_level);
      if (!parsed.is_ok()) return ctx.usage("--delay-level: " + parsed.status().message());
      delay_ms = *parsed;
    } else if (!flags.deliver_at.empty()) {
      Result<int64_t> parsed = parse_iso8601_ms(flags.deliver_at);
      if (!parsed.is_ok()) return ctx.usage("--deliver-at: " + parsed.status().message());
      deliver_at = *parsed;
    }
    if (given > 0 && std::ranges::any_of(headers, [](const client::Header& h) {
          return h.key == kDeliverAtHeader;
        })) {
      return ctx.usage("--delay/--deliver-at and -H " + std::string(kDeliverAtHeader) +
                       "=... name the delivery time twice");
    }
  }
  if (flags.partition < -1) return ctx.usage("-p: a partition is >= 0");
  Result<int64_t> linger = parse_duration_ms(flags.linger);
  if (!linger.is_ok()) return ctx.usage("--linger: " + linger.status().message());
  if (*linger < 0 || *linger > 60'000) return ctx.usage("--linger: 0 to 1m");

  FILE* in = ctx.io.in;
  std::unique_ptr<FILE, int (*)(FILE*)> file(nullptr, std::fclose);
  if (!flags.file.empty() && flags.file != "-") {
    file.reset(std::fopen(flags.file.c_str(), "rb"));
    if (!file) {
      ctx.error("cannot open --file \"" + flags.file + "\": " + std::strerror(errno));
      return kExitFailed;
    }
    in = file.get();
  }

  // Asked first so that a missing topic or an unreachable cluster is one
  // clear error within --timeout, not a failure per message.
  int32_t partitions = 0;
  if (int code = ctx.partitions_for_producing(flags.topic, &partitions); code != kExitOk) {
    return code;
  }
  if (flags.partition >= partitions) {
    ctx.error("partition " + std::to_string(flags.partition) + " of topic \"" + flags.topic +
              "\" not found: it has " + std::to_string(partitions) + " partitions");
    return kExitNotFound;
  }

  client::ProducerConfig config = ctx.producer_config(*acks);
  config.linger_ms = static_cast<int>(*linger);
  ctx.apply_client_settings(config);  // -X wins over --linger
  Result<std::unique_ptr<client::Producer>> producer = client::Producer::create(config);
  if (!producer.is_ok()) return ctx.fail("cannot start the producer", producer.status());
  // SIGINT/SIGTERM: stop reading, give what was read a second (below); the
  // stopper ends the process should closing take much longer.
  watch_interrupts(2'500);

  // Outlives the producer, which is closed below before it goes.
  Outcome outcome;
  outcome.err = ctx.io.err;
  uint64_t count = 0;
  bool fixed_key = flags.key_option->count() > 0;
  const std::optional<int32_t> partition =
      flags.partition >= 0 ? std::optional<int32_t>(flags.partition) : std::nullopt;
  InputRecord parsed;                   // -f and --input json: what the record's views point into
  std::vector<client::Header> with_id;  // --msg-id-from: reused, its capacity kept
  // --input json numbers records by line, and skips blank lines.
  const char* numbered = plan->mode == InputPlan::Mode::kJson ? "line" : "record";
  uint64_t number = 0;
  uint64_t acknowledged = 0;  // sync mode
  bool read_ok = for_each_message(in, plan->delimiter, [&](std::string_view message) {
    ++number;
    if (plan->mode == InputPlan::Mode::kJson && is_blank_line(message)) return;
    ++count;
    client::ProducerRecordView record{
        .topic = flags.topic, .headers = headers, .partition = partition};
    if (plan->mode == InputPlan::Mode::kLines) {
      if (fixed_key) record.key = flags.key;
      if (!plan->key_separator.empty()) {
        size_t at = message.find(plan->key_separator);
        if (at != std::string_view::npos) {
          record.key = message.substr(0, at);
          message.remove_prefix(at + plan->key_separator.size());
        }
      }
      record.value = message;
    } else {
      Status read = plan->mode == InputPlan::Mode::kTemplate ? plan->format->read(message, parsed)
                                                             : read_json_record(message, parsed);
      if (read.is_ok() && parsed.partition && *parsed.partition >= partitions) {
        read =
            Status(ErrorCode::kUnknownTopicOrPartition,
                   "partition " + std::to_string(*parsed.partition) + " of topic \"" + flags.topic +
                       "\" not found: it has " + std::to_string(partitions) + " partitions");
      }
      if (!read.is_ok()) {
        outcome.report_bad(numbered, number, read.message());
        return;
      }
      record.key = parsed.key;
      record.value = parsed.value;
      record.timestamp_ms = parsed.timestamp_ms;
      if (parsed.partition) record.partition = parsed.partition;
      parsed.headers.insert(parsed.headers.end(), headers.begin(), headers.end());
      record.headers = parsed.headers;
    }
    // --msg-id-from key: the key is the message id, so a re-run of the same
    // input inside the topic's dedup.window.ms appends nothing twice.
    if (id_from_key && record.key) {
      with_id.assign(record.headers.begin(), record.headers.end());
      with_id.push_back({std::string(kMessageIdHeader), std::string(*record.key)});
      record.headers = with_id;
    }
    if (delay_ms > 0) {
      record.deliver_at_ms = now_ms() + delay_ms;
    } else if (deliver_at) {
      record.deliver_at_ms = deliver_at;
    }
    if (*mode == SendMode::kSync) {
      std::optional<Result<client::RecordMetadata>> answer = send_and_wait(**producer, record);
      if (!answer) return;  // interrupted: reported as unacknowledged below
      if (!answer->is_ok()) return outcome.report(number, answer->status());
      ++acknowledged;
      if ((*answer)->duplicate) outcome.duplicates.fetch_add(1, std::memory_order_relaxed);
      json answer_json{
          {"number", number}, {"partition", (*answer)->partition}, {"offset", (*answer)->offset}};
      if ((*answer)->duplicate) answer_json["duplicate"] = true;
      if ((*answer)->scheduled) answer_json["scheduled"] = true;
      std::string line = ctx.output == OutputFormat::kTable
                             ? std::to_string((*answer)->partition) + "\t" +
                                   std::to_string((*answer)->offset) +
                                   ((*answer)->duplicate   ? "\tduplicate\n"
                                    : (*answer)->scheduled ? "\tscheduled\n"
                                                           : "\n")
                             : answer_json.dump() + "\n";
      std::fwrite(line.data(), 1, line.size(), ctx.io.out);
      std::fflush(ctx.io.out);
      return;
    }
    if (*mode == SendMode::kOneway) {
      Status sent = (*producer)->send_oneway_view(record);
      if (!sent.is_ok()) outcome.report(number, sent);
      return;
    }
    // Two words of capture: std::function keeps them without an allocation.
    Status sent = (*producer)->send_view(record, [report = &outcome, number](const auto& result) {
      if (!result.is_ok()) {
        report->report(number, result.status());
      } else if (result->duplicate) {
        report->duplicates.fetch_add(1, std::memory_order_relaxed);
      }
    });
    if (!sent.is_ok()) outcome.report(number, sent);
  });
  if (!read_ok) ctx.error("reading input failed: " + std::string(std::strerror(errno)));
  if (interrupted()) ctx.note("interrupted: sending what was read");
  // The producer itself fails a record after delivery_timeout_ms, so this
  // wait ends; after SIGINT/SIGTERM it gets one more second, then whatever is
  // still unacknowledged is failed (and counted) by close().
  Status flushed;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(config.delivery_timeout_ms + config.linger_ms + 1'000);
  auto interrupted_at = std::chrono::steady_clock::time_point::max();
  while (true) {
    flushed = (*producer)->flush(100);
    auto now = std::chrono::steady_clock::now();
    if (flushed.is_ok() || now >= deadline) break;
    if (interrupted() && interrupted_at == std::chrono::steady_clock::time_point::max()) {
      interrupted_at = now;
    }
    if (now - interrupted_at >= std::chrono::seconds(1)) {
      flushed =
          Status(ErrorCode::kRequestTimedOut, "interrupted before every message was acknowledged");
      break;
    }
  }
  (void)(*producer)->close(0);
  uint64_t failed = outcome.failed.load();
  uint64_t duplicates = outcome.duplicates.load();
  uint64_t bad = outcome.bad;
  if (*mode == SendMode::kSync && interrupted()) {
    // The message being waited for when the signal came, and what was read
    // after it, were never acknowledged here.
    failed = count - bad - acknowledged;
  }
  if (!flushed.is_ok() && failed == 0) ctx.fail("cannot deliver", flushed);
  if (ctx.output != OutputFormat::kTable) {
    ctx.print({{"topic", flags.topic},
               {"count", count},
               {"failed", failed},
               {"bad", bad},
               {"duplicates", duplicates}},
              [](const json&) { return std::string(); });
  }
  uint64_t sent = count - bad;
  ctx.note("sent " + std::to_string(sent) + " messages" +
           (*mode == SendMode::kOneway ? " one-way (not acknowledged)"
                                       : ", " + std::to_string(failed) + " failed") +
           (duplicates > 0 ? ", " + std::to_string(duplicates) +
                                 " duplicates (already stored: not appended again)"
                           : "") +
           (bad > 0 ? "; " + std::to_string(bad) + " " + numbered + "s not sent" : ""));
  if (failed > 0) {
    ctx.error(std::to_string(failed) + " of " + std::to_string(sent) + " messages failed");
  }
  if (bad > 0) {
    ctx.error(std::to_string(bad) + " of " + std::to_string(count) + " " + numbered +
              "s could not be read and were not sent");
  }
  return failed > 0 || bad > 0 || !flushed.is_ok() || !read_ok ? kExitFailed : kExitOk;
}

}  // namespace

void add_produce_command(CLI::App& root, Context& ctx, Action& action) {
  auto flags = std::make_shared<ProduceFlags>();
  CLI::App* produce_command = root.add_subcommand(
      "produce",
      "Send one message per line of stdin (or per --delimiter, -f template or JSON line; "
      "or from --file)");
  produce_command->add_option("topic", flags->topic, "Topic")->required();
  flags->key_option = produce_command->add_option("-k,--key", flags->key, "Key of every message");
  flags->key_separator_option =
      produce_command->add_option("--key-separator", flags->key_separator,
                                  "Split each message into KEY SEP VALUE at the first SEP");
  produce_command->add_option("-H,--header", flags->headers,
                              "Header key=value on every message (repeatable)");
  flags->tag_option = produce_command->add_option(
      "--tag", flags->tag, "Tag of every message (header mq.tag), for consumers' --tags filters");
  produce_command->add_option(
      "--msg-id-from", flags->msg_id_from,
      "key: each message's key is its message id (header mq.msg-id): one already stored "
      "within the topic's dedup.window.ms is acknowledged with its first offset, not "
      "appended again");
  produce_command->add_option(
      "--delay", flags->delay,
      "Deliver each message this long after it is sent (e.g. 30s, 10m, 2h): stored at once, "
      "seen by consumers then (header mq.deliver-at)");
  flags->delay_level_option = produce_command->add_option(
      "--delay-level", flags->delay_level,
      "RocketMQ's delay level 1..18 (1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m "
      "8m 9m 10m 20m 30m 1h 2h), as --delay");
  produce_command->add_option("--deliver-at", flags->deliver_at,
                              "Deliver every message at this time (ISO 8601, e.g. "
                              "2026-12-05T10:00:00Z), as --delay");
  produce_command->add_option("-p,--partition", flags->partition,
                              "Partition (default: by key hash, else sticky)");
  flags->acks_option =
      produce_command->add_option("--acks", flags->acks, "0, 1 or all (default all)");
  produce_command->add_option(
      "--mode", flags->mode,
      "async (default: pipelined, failures reported as they come), sync (each "
      "message acknowledged before the next is read; prints PARTITION<TAB>OFFSET "
      "per message) or oneway (acks 0, nothing acknowledged)");
  flags->delimiter_option =
      produce_command->add_option("--delimiter", flags->delimiter,
                                  "Message delimiter (default \\n; escapes \\n \\t \\r \\0 \\\\)");
  flags->format_option = produce_command->add_option(
      "-f,--format", flags->format,
      "Read records by a template, e.g. {key}\\t{value:base64}\\n: {key} {value} "
      "{header.NAME} (:text :hex :base64), {partition}, {timestamp}; ends with the record "
      "delimiter");
  flags->input_option = produce_command->add_option(
      "--input", flags->input,
      "lines (default: one message per --delimiter) or json (one object per line, as "
      "consume -o json prints)");
  produce_command->add_option("--file", flags->file, "Read from FILE instead of stdin");
  produce_command->add_option("--linger", flags->linger,
                              "Longest wait for more input before what was read is sent "
                              "(default 5ms)");
  produce_command->callback(
      [&ctx, &action, flags] { action = [&ctx, flags] { return produce(ctx, *flags); }; });
}

}  // namespace mq::ctl
