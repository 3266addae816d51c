// Validation of the client settings and parsing of the bootstrap broker list.
#include "client/config.h"

#include <algorithm>
#include <charconv>

namespace mq::client {
namespace {

Status invalid(std::string_view setting, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, std::string(setting) + ": " + why);
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status check_bootstrap(std::string_view list) {
  Result<std::vector<std::string>> endpoints = parse_bootstrap_servers(list);
  return endpoints.status();
}

Status check_positive(std::string_view setting, int64_t value) {
  if (value <= 0) return invalid(setting, "must be > 0, got " + std::to_string(value));
  return Status::ok();
}

Status check_non_negative(std::string_view setting, int64_t value) {
  if (value < 0) return invalid(setting, "must be >= 0, got " + std::to_string(value));
  return Status::ok();
}

Status check_strategy(std::string_view name) {
  if (name == "sticky" || name == "range" || name == "roundrobin" || name == "broadcast") {
    return Status::ok();
  }
  return invalid("partition_assignment_strategy",
                 "'" + std::string(name) + "' is not one of sticky, range, roundrobin, broadcast");
}

Status validate_group_settings(const ConsumerConfig& c) {
  if (c.group_instance_id && c.group_instance_id->empty()) {
    return invalid("group_instance_id", "must not be empty when set");
  }
  MQ_RETURN_IF_ERROR(check_positive("session_timeout_ms", c.session_timeout_ms));
  MQ_RETURN_IF_ERROR(check_positive("heartbeat_interval_ms", c.heartbeat_interval_ms));
  if (c.heartbeat_interval_ms >= c.session_timeout_ms) {
    return invalid("heartbeat_interval_ms",
                   "must be < session_timeout_ms (" + std::to_string(c.session_timeout_ms) +
                       "), or the coordinator drops the member between two heartbeats");
  }
  MQ_RETURN_IF_ERROR(check_positive("max_poll_interval_ms", c.max_poll_interval_ms));
  MQ_RETURN_IF_ERROR(check_positive("auto_commit_interval_ms", c.auto_commit_interval_ms));
  if (c.partition_assignment_strategy.empty()) {
    return invalid("partition_assignment_strategy",
                   "must list at least one of sticky, range, roundrobin, broadcast");
  }
  for (size_t i = 0; i < c.partition_assignment_strategy.size(); ++i) {
    MQ_RETURN_IF_ERROR(check_strategy(c.partition_assignment_strategy[i]));
    for (size_t j = 0; j < i; ++j) {
      if (c.partition_assignment_strategy[j] == c.partition_assignment_strategy[i]) {
        return invalid("partition_assignment_strategy",
                       "lists '" + c.partition_assignment_strategy[i] + "' twice");
      }
    }
  }
  bool broadcast = std::ranges::find(c.partition_assignment_strategy, "broadcast") !=
                   c.partition_assignment_strategy.end();
  if (broadcast && c.partition_assignment_strategy.size() > 1) {
    return invalid("partition_assignment_strategy",
                   "broadcast cannot be combined with other assignors: broadcast members keep "
                   "their own offsets, the others share the group's");
  }
  if (broadcast && !c.group_instance_id && c.client_id == ConsumerConfig{}.client_id) {
    return invalid("partition_assignment_strategy",
                   "broadcast keeps each member's offsets under its group_instance_id, else its "
                   "client_id; set one of them to a name unique to this member (client_id is "
                   "the default '" +
                       c.client_id + "')");
  }
  return Status::ok();
}

}  // namespace

Result<std::vector<std::string>> parse_bootstrap_servers(std::string_view list) {
  std::vector<std::string> endpoints;
  while (true) {
    size_t comma = list.find(',');
    std::string_view entry = trim_blanks(list.substr(0, comma));
    std::string_view address = entry;
    if (address.starts_with("tcp://")) address.remove_prefix(6);
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
      return invalid("bootstrap_servers",
                     "entry '" + std::string(entry) + "' is not host:port or tcp://host:port");
    }
    std::string_view port_text = address.substr(colon + 1);
    int port = 0;
    auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc() || end != port_text.data() + port_text.size() || port < 1 ||
        port > 65535) {
      return invalid("bootstrap_servers",
                     "entry '" + std::string(entry) + "' has no valid port (1-65535)");
    }
    endpoints.push_back("tcp://" + std::string(address));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return endpoints;
}

Status CurveSettings::validate() const {
  size_t server_keys = 0;
  if (!server_key.empty()) {
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                        transport::parse_server_keys(server_key, "curve.server_key"));
    server_keys = keys.size();
  }
  if (!secret_key.empty()) {
    if (server_key.empty()) {
      return Status(ErrorCode::kInvalidConfig,
                    "curve.secret_key is set without curve.server_key (the broker's public key)");
    }
    // The same parser: one or two Z85 keys, comma-separated.
    MQ_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                        transport::parse_server_keys(secret_key, "curve.secret_key"));
    if (keys.size() > server_keys) {
      return Status(ErrorCode::kInvalidConfig,
                    "curve.secret_key has two keys but curve.server_key one (one secret key per "
                    "server key, or one for both)");
    }
  }
  return Status::ok();
}

transport::CurveClient curve_client_of(const CurveSettings& curve) {
  transport::CurveClient client;
  // validate() has passed: the lists parse.
  auto split = [](const std::string& text) {
    std::vector<std::string> keys;
    if (text.empty()) return keys;
    Result<std::vector<std::string>> parsed = transport::parse_server_keys(text, "");
    // Unparsed (validate() skipped): the text as it is, which the transport
    // then refuses as a malformed key, rather than no key (plain text).
    if (parsed.is_ok()) {
      keys = std::move(parsed).value();
    } else {
      keys.push_back(text);
    }
    return keys;
  };
  std::vector<std::string> servers = split(curve.server_key);
  std::vector<std::string> secrets = split(curve.secret_key);
  if (servers.empty()) return client;
  client.server_key = servers[0];
  if (!secrets.empty()) client.secret_key = secrets[0];
  if (servers.size() > 1) {
    client.other_server_key = servers[1];
    if (secrets.size() > 1) client.other_secret_key = secrets[1];
  }
  return client;
}

Status ProducerConfig::validate() const {
  MQ_RETURN_IF_ERROR(curve.validate());
  MQ_RETURN_IF_ERROR(check_bootstrap(bootstrap_servers));
  if (acks != -1 && acks != 0 && acks != 1) {
    return invalid("acks", "must be -1 (all), 0 or 1, got " + std::to_string(acks));
  }
  if (enable_idempotence && acks == 0) {
    return invalid("enable_idempotence",
                   "needs acks -1 or 1: with acks=0 the producer cannot tell a retry is needed");
  }
  MQ_RETURN_IF_ERROR(check_positive("batch_size_bytes", batch_size_bytes));
  MQ_RETURN_IF_ERROR(check_non_negative("linger_ms", linger_ms));
  MQ_RETURN_IF_ERROR(check_positive("buffer_memory_bytes", buffer_memory_bytes));
  MQ_RETURN_IF_ERROR(check_non_negative("max_block_ms", max_block_ms));
  MQ_RETURN_IF_ERROR(check_positive("max_in_flight_per_partition", max_in_flight_per_partition));
  if (enable_idempotence && max_in_flight_per_partition > 5) {
    return invalid("max_in_flight_per_partition",
                   "must be <= 5 with idempotence: the broker remembers only the last 5 batches "
                   "of a producer, got " +
                       std::to_string(max_in_flight_per_partition));
  }
  MQ_RETURN_IF_ERROR(check_non_negative("retries", retries));
  MQ_RETURN_IF_ERROR(check_non_negative("retry_backoff_ms", retry_backoff_ms));
  if (retry_backoff_max_ms < retry_backoff_ms) {
    return invalid("retry_backoff_max_ms", "must be >= retry_backoff_ms");
  }
  MQ_RETURN_IF_ERROR(check_positive("request_timeout_ms", request_timeout_ms));
  if (static_cast<int64_t>(delivery_timeout_ms) <
      static_cast<int64_t>(linger_ms) + request_timeout_ms) {
    return invalid("delivery_timeout_ms",
                   "must be >= linger_ms + request_timeout_ms, or no record could ever be "
                   "delivered in time");
  }
  MQ_RETURN_IF_ERROR(check_positive("max_request_size_bytes", max_request_size_bytes));
  if (batch_size_bytes > max_request_size_bytes) {
    return invalid("batch_size_bytes", "must be <= max_request_size_bytes");
  }
  if (max_request_size_bytes > buffer_memory_bytes) {
    return invalid("max_request_size_bytes", "must be <= buffer_memory_bytes");
  }
  MQ_RETURN_IF_ERROR(check_positive("metadata_max_age_ms", metadata_max_age_ms));
  return Status::ok();
}

std::string_view offset_reset_name(OffsetReset reset) {
  switch (reset) {
    case OffsetReset::kEarliest:
      return "earliest";
    case OffsetReset::kLatest:
      return "latest";
    case OffsetReset::kNone:
      return "none";
  }
  return "unknown";
}

Result<OffsetReset> parse_offset_reset(std::string_view name) {
  if (name == "earliest") return OffsetReset::kEarliest;
  if (name == "latest") return OffsetReset::kLatest;
  if (name == "none") return OffsetReset::kNone;
  return invalid("auto_offset_reset",
                 "must be earliest, latest or none, got '" + std::string(name) + "'");
}

Status ConsumerConfig::validate() const {
  MQ_RETURN_IF_ERROR(curve.validate());
  MQ_RETURN_IF_ERROR(check_bootstrap(bootstrap_servers));
  MQ_RETURN_IF_ERROR(check_non_negative("fetch_min_bytes", fetch_min_bytes));
  MQ_RETURN_IF_ERROR(check_non_negative("fetch_max_wait_ms", fetch_max_wait_ms));
  MQ_RETURN_IF_ERROR(check_positive("fetch_max_bytes", fetch_max_bytes));
  MQ_RETURN_IF_ERROR(check_positive("max_partition_fetch_bytes", max_partition_fetch_bytes));
  MQ_RETURN_IF_ERROR(check_positive("max_poll_records", max_poll_records));
  MQ_RETURN_IF_ERROR(check_positive("request_timeout_ms", request_timeout_ms));
  MQ_RETURN_IF_ERROR(check_positive("default_api_timeout_ms", default_api_timeout_ms));
  if (request_timeout_ms <= fetch_max_wait_ms) {
    return invalid("request_timeout_ms",
                   "must be > fetch_max_wait_ms, or every long-polling fetch would time out");
  }
  MQ_RETURN_IF_ERROR(check_non_negative("retry_backoff_ms", retry_backoff_ms));
  return validate_group_settings(*this);
}

Result<std::vector<std::string>> parse_assignment_strategies(std::string_view list) {
  std::vector<std::string> names;
  while (true) {
    size_t comma = list.find(',');
    std::string name(trim_blanks(list.substr(0, comma)));
    MQ_RETURN_IF_ERROR(check_strategy(name));
    if (std::ranges::find(names, name) != names.end()) {
      return invalid("partition_assignment_strategy", "lists '" + name + "' twice");
    }
    names.push_back(std::move(name));
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

Status AdminConfig::validate() const {
  MQ_RETURN_IF_ERROR(curve.validate());
  MQ_RETURN_IF_ERROR(check_bootstrap(bootstrap_servers));
  MQ_RETURN_IF_ERROR(check_positive("request_timeout_ms", request_timeout_ms));
  MQ_RETURN_IF_ERROR(check_positive("default_api_timeout_ms", default_api_timeout_ms));
  MQ_RETURN_IF_ERROR(check_positive("retry_backoff_ms", retry_backoff_ms));
  if (retry_backoff_max_ms < retry_backoff_ms) {
    return Status(ErrorCode::kInvalidConfig,
                  "retry_backoff_max_ms (" + std::to_string(retry_backoff_max_ms) +
                      ") is below retry_backoff_ms (" + std::to_string(retry_backoff_ms) + ")");
  }
  return Status::ok();
}

}  // namespace mq::client
