// The -X settings table: each Kafka setting name bound to the members of the
// client configs it sets, with a parser per member type.
#include "ctl/client_settings.h"

#include <algorithm>
#include <charconv>

#include "ctl/arguments.h"
#include "ctl/duration.h"
#include "store/compression.h"

namespace mq::ctl {
namespace {

using client::AdminConfig;
using client::ConsumerConfig;
using client::ProducerConfig;

Status setting_value_error(std::string_view name, std::string_view text, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig,
                "-X " + std::string(name) + "=" + std::string(text) + ": " + why);
}

// Integers take plain numbers; ".ms" settings also durations (500ms, 30s),
// byte settings also sizes (16KiB, 1MB).
Result<int64_t> parse_setting_number(std::string_view name, std::string_view text) {
  if (name.ends_with(".ms")) {
    Result<int64_t> ms = parse_duration_ms(text);
    if (ms.is_ok()) return ms;
  }
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && end == text.data() + text.size()) return value;
  if (name.ends_with(".bytes") || name.ends_with(".size") || name.ends_with(".memory")) {
    Result<int64_t> bytes = parse_byte_rate(name, text);
    if (bytes.is_ok()) return bytes;
  }
  return setting_value_error(
      name, text,
      name.ends_with(".ms") ? "expected milliseconds or a duration" : "expected a whole number");
}

template <class T>
Result<T> parse_setting(std::string_view name, std::string_view text) {
  if constexpr (std::is_same_v<T, bool>) {
    if (text == "true") return true;
    if (text == "false") return false;
    return setting_value_error(name, text, "expected true or false");
  } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
    Result<int64_t> n = parse_setting_number(name, text);
    if (!n.is_ok()) return n.status();
    if (*n < 0 && name != "acks") return setting_value_error(name, text, "must not be negative");
    if (std::is_same_v<T, int> && (*n > INT32_MAX || *n < INT32_MIN)) {
      return setting_value_error(name, text, "too large");
    }
    return static_cast<T>(*n);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return std::string(text);
  } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    if (text.empty()) return std::optional<std::string>();
    return std::optional<std::string>(std::string(text));
  } else if constexpr (std::is_same_v<T, Compression>) {
    Result<Compression> c = parse_compression(text);
    if (!c.is_ok()) return setting_value_error(name, text, "expected none, lz4 or zstd");
    return c;
  } else if constexpr (std::is_same_v<T, client::OffsetReset>) {
    Result<client::OffsetReset> r = client::parse_offset_reset(text);
    if (!r.is_ok()) return setting_value_error(name, text, "expected earliest, latest or none");
    return r;
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>);
    Result<std::vector<std::string>> list = client::parse_assignment_strategies(text);
    if (!list.is_ok()) return setting_value_error(name, text, list.status().message());
    return list;
  }
}

template <class T>
std::string show_setting(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_same_v<T, int> || std::is_same_v<T, int64_t>) {
    return std::to_string(value);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value;
  } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    return value.value_or("");
  } else if constexpr (std::is_same_v<T, Compression>) {
    return std::string(compression_name(value));
  } else if constexpr (std::is_same_v<T, client::OffsetReset>) {
    return std::string(client::offset_reset_name(value));
  } else {
    std::string joined;
    for (const std::string& s : value) joined += (joined.empty() ? "" : ",") + s;
    return joined;
  }
}

template <class>
struct SettingMember;
template <class C, class T>
struct SettingMember<T C::*> {
  using Config = C;
  using Type = T;
};

template <class C>
C* config_in(const ClientConfigs& configs) {
  if constexpr (std::is_same_v<C, ProducerConfig>) return configs.producer;
  if constexpr (std::is_same_v<C, ConsumerConfig>) return configs.consumer;
  if constexpr (std::is_same_v<C, AdminConfig>) return configs.admin;
}

// The setter and getter of a setting bound to `Members` (one per config
// class at most). The value is parsed once per member type; a parse error
// leaves every config unchanged.
template <auto... Members>
Status set_members(std::string_view name, std::string_view text, ClientConfigs& configs) {
  Status status;
  (
      [&] {
        using M = SettingMember<decltype(Members)>;
        Result<typename M::Type> value = parse_setting<typename M::Type>(name, text);
        if (!value.is_ok()) {
          if (status.is_ok()) status = value.status();
          return;
        }
        if (auto* config = config_in<typename M::Config>(configs); config != nullptr) {
          config->*Members = std::move(value).value();
        }
      }(),
      ...);
  return status;
}

template <auto... Members>
std::optional<std::string> get_members(const ClientConfigs& configs) {
  std::optional<std::string> out;
  (
      [&] {
        using M = SettingMember<decltype(Members)>;
        auto* config = config_in<typename M::Config>(configs);
        if (!out && config != nullptr) out = show_setting(config->*Members);
      }(),
      ...);
  return out;
}

// A setting bound to `Members`, one per config class at most.
template <auto... Members>
ClientSetting setting_of(std::string_view name, std::string_view clients, std::string_view type,
                         std::string_view description) {
  return {name, clients, type, description, &set_members<Members...>, &get_members<Members...>};
}

const std::vector<ClientSetting>& settings_table() {
  static const std::vector<ClientSetting> settings = {
      setting_of<&ProducerConfig::client_id, &ConsumerConfig::client_id, &AdminConfig::client_id>(
          "client.id", "producer,consumer,admin", "string",
          "the id brokers log and count requests under"),
      setting_of<&ProducerConfig::request_timeout_ms, &ConsumerConfig::request_timeout_ms,
                 &AdminConfig::request_timeout_ms>(
          "request.timeout.ms", "producer,consumer,admin", "ms",
          "one request without an answer by then fails (and is retried)"),
      setting_of<&ProducerConfig::retry_backoff_ms, &ConsumerConfig::retry_backoff_ms,
                 &AdminConfig::retry_backoff_ms>("retry.backoff.ms", "producer,consumer,admin",
                                                 "ms", "first wait before a retry"),
      setting_of<&ProducerConfig::retry_backoff_max_ms, &AdminConfig::retry_backoff_max_ms>(
          "retry.backoff.max.ms", "producer,admin", "ms",
          "cap of the retry wait, which doubles per attempt"),
      setting_of<&ConsumerConfig::default_api_timeout_ms, &AdminConfig::default_api_timeout_ms>(
          "default.api.timeout.ms", "consumer,admin", "ms", "one call, retries included"),
      setting_of<&ProducerConfig::acks>(
          "acks", "producer", "-1|0|1",
          "replicas that must have a record before it is acknowledged (-1: all in sync)"),
      setting_of<&ProducerConfig::enable_idempotence>(
          "enable.idempotence", "producer", "bool",
          "producer id and sequences: retries never duplicate (needs acks=-1)"),
      setting_of<&ProducerConfig::batch_size_bytes>("batch.size", "producer", "bytes",
                                                    "a partition's batch is sent at this size"),
      setting_of<&ProducerConfig::linger_ms>("linger.ms", "producer", "ms",
                                             "... or when its first record has waited this long"),
      setting_of<&ProducerConfig::compression>("compression.type", "producer", "none|lz4|zstd",
                                               "batch compression"),
      setting_of<&ProducerConfig::buffer_memory_bytes>("buffer.memory", "producer", "bytes",
                                                       "records accepted but not yet acknowledged"),
      setting_of<&ProducerConfig::max_block_ms>("max.block.ms", "producer", "ms",
                                                "a send waits this long for buffer memory"),
      setting_of<&ProducerConfig::max_in_flight_per_partition>(
          "max.in.flight.requests.per.connection", "producer", "int",
          "unacknowledged batches per partition (at most 5 with idempotence)"),
      setting_of<&ProducerConfig::retries>("retries", "producer", "int",
                                           "retriable failures tolerated per batch"),
      setting_of<&ProducerConfig::delivery_timeout_ms>("delivery.timeout.ms", "producer", "ms",
                                                       "a record not acknowledged by then fails"),
      setting_of<&ProducerConfig::max_request_size_bytes>("max.request.size", "producer", "bytes",
                                                          "largest record and batch sent"),
      setting_of<&ProducerConfig::metadata_max_age_ms>("metadata.max.age.ms", "producer", "ms",
                                                       "metadata is refreshed this often"),
      setting_of<&ProducerConfig::allow_auto_create_topics>(
          "allow.auto.create.topics", "producer", "bool",
          "ask the broker to create a missing topic (if its topics.auto_create allows)"),
      setting_of<&ConsumerConfig::auto_offset_reset>(
          "auto.offset.reset", "consumer", "earliest|latest|none",
          "where a partition without a position starts (consume -g: --from decides)"),
      setting_of<&ConsumerConfig::fetch_min_bytes>(
          "fetch.min.bytes", "consumer", "bytes",
          "the broker answers a fetch once this much is available"),
      setting_of<&ConsumerConfig::fetch_max_wait_ms>("fetch.max.wait.ms", "consumer", "ms",
                                                     "... or after this long"),
      setting_of<&ConsumerConfig::fetch_max_bytes>("fetch.max.bytes", "consumer", "bytes",
                                                   "per fetch response"),
      setting_of<&ConsumerConfig::max_partition_fetch_bytes>(
          "max.partition.fetch.bytes", "consumer", "bytes", "per partition in a fetch response"),
      setting_of<&ConsumerConfig::max_poll_records>("max.poll.records", "consumer", "int",
                                                    "records one poll returns"),
      setting_of<&ConsumerConfig::check_crcs>("check.crcs", "consumer", "bool",
                                              "verify each fetched batch's CRC32C"),
      setting_of<&ConsumerConfig::group_instance_id>("group.instance.id", "consumer", "string",
                                                     "static group membership id (consume -g)"),
      setting_of<&ConsumerConfig::session_timeout_ms>(
          "session.timeout.ms", "consumer", "ms",
          "the coordinator drops a member not heard from for this long"),
      setting_of<&ConsumerConfig::heartbeat_interval_ms>("heartbeat.interval.ms", "consumer", "ms",
                                                         "between heartbeats"),
      setting_of<&ConsumerConfig::max_poll_interval_ms>(
          "max.poll.interval.ms", "consumer", "ms",
          "longest gap between polls before the member leaves the group"),
      setting_of<&ConsumerConfig::partition_assignment_strategy>(
          "partition.assignment.strategy", "consumer", "sticky,range,roundrobin",
          "assignors offered, preferred first"),
  };
  return settings;
}

// For "unknown setting": the known name sharing the longest prefix.
std::string_view closest_setting(std::string_view name) {
  std::string_view best;
  size_t best_len = 0;
  for (const ClientSetting& s : settings_table()) {
    size_t n = 0;
    while (n < name.size() && n < s.name.size() && name[n] == s.name[n]) ++n;
    if (n > best_len) {
      best_len = n;
      best = s.name;
    }
  }
  return best_len >= 3 ? best : std::string_view();
}

}  // namespace

std::span<const ClientSetting> client_settings() {
  return settings_table();
}

Result<ClientOverrides> ClientOverrides::parse(const std::vector<std::string>& entries) {
  ClientOverrides overrides;
  for (const std::string& entry : entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status(ErrorCode::kInvalidConfig,
                    "-X \"" + entry + "\": expected key=value (see mqctl client-settings)");
    }
    std::string_view name = std::string_view(entry).substr(0, eq);
    std::string_view value = std::string_view(entry).substr(eq + 1);
    auto known = std::ranges::find(settings_table(), name, &ClientSetting::name);
    if (known == settings_table().end()) {
      std::string hint(closest_setting(name));
      return Status(ErrorCode::kInvalidConfig,
                    "-X " + std::string(name) + ": unknown client setting" +
                        (hint.empty() ? "" : " (did you mean " + hint + "?)") +
                        "; mqctl client-settings lists them");
    }
    // Checked now, so a bad value is a usage error before anything runs.
    ProducerConfig p;
    ConsumerConfig c;
    AdminConfig a;
    ClientConfigs all{&p, &c, &a};
    MQ_RETURN_IF_ERROR(known->set(known->name, value, all));
    overrides.entries_.emplace_back(&*known, std::string(value));
  }
  return overrides;
}

void ClientOverrides::apply(ClientConfigs configs) const {
  bool acks = false, idempotence = false;
  for (const auto& [setting, value] : entries_) {
    // Validated by parse(): cannot fail.
    (void)setting->set(setting->name, value, configs);
    acks = acks || setting->name == "acks";
    idempotence = idempotence || setting->name == "enable.idempotence";
  }
  // As Kafka's producer does when only acks is set: idempotence follows it
  // (it needs acks=-1) instead of failing the producer's validation.
  if (configs.producer != nullptr && acks && !idempotence) {
    configs.producer->enable_idempotence = configs.producer->acks == -1;
  }
}

}  // namespace mq::ctl
