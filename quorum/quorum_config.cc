// Validation of the quorum's configuration.
#include "quorum/quorum_config.h"

#include <charconv>
#include <set>

namespace mq::quorum {
namespace {

Status invalid(std::string message) {
  return Status(ErrorCode::kInvalidConfig, "quorum: " + std::move(message));
}

// Digits only, 0..65535.
bool parse_port(std::string_view text, int* port) {
  if (text.empty() || text.size() > 5) return false;
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  *port = value;
  return true;
}

// The host of a "tcp://host:port" endpoint (checked before) binds every address.
bool has_wildcard_host(std::string_view endpoint) {
  std::string_view rest = endpoint.substr(6);  // "tcp://"
  std::string_view host = rest.substr(0, rest.rfind(':'));
  return host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]";
}

}  // namespace

raft::RaftConfig QuorumConfig::raft_config() const {
  raft::RaftConfig config;
  config.id = id;
  for (const auto& [voter, endpoint] : voters) {
    config.voters.push_back(voter);
    config.voter_addresses[voter] = endpoint;
  }
  for (const auto& [observer, endpoint] : observers) config.observers.push_back(observer);
  config.election_ticks = election_ticks();
  config.heartbeat_ticks = heartbeat_ticks();
  config.random_seed = random_seed;
  return config;
}

std::string advertised_endpoint(const QuorumConfig& config, const std::string& bound) {
  for (const auto* members : {&config.voters, &config.observers}) {
    auto self = members->find(config.id);
    if (self != members->end() && check_endpoint(self->second, false).is_ok() &&
        !has_wildcard_host(self->second)) {
      return self->second;
    }
  }
  return bound;
}

Status check_endpoint(std::string_view endpoint, bool allow_any_port) {
  constexpr std::string_view kScheme = "tcp://";
  auto bad = [&](std::string_view why) {
    return invalid("endpoint \"" + std::string(endpoint) + "\" " + std::string(why) +
                   " (expected tcp://host:port)");
  };
  if (!endpoint.starts_with(kScheme)) return bad("does not start with tcp://");
  std::string_view rest = endpoint.substr(kScheme.size());
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return bad("has no port");
  std::string_view host = rest.substr(0, colon);
  std::string_view port_text = rest.substr(colon + 1);
  if (host.empty()) return bad("has no host");
  for (char c : host) {
    if (c == '/' || c == ' ' || c == '@') return bad("has an invalid host");
  }
  if (allow_any_port && port_text == "*") return Status::ok();
  int port = 0;
  if (!parse_port(port_text, &port)) return bad("has an invalid port");
  if (port == 0 && !allow_any_port) return bad("has port 0");
  return Status::ok();
}

Status validate(const QuorumConfig& config) {
  if (config.curve_client.enabled()) {
    MQ_RETURN_IF_ERROR(
        transport::check_curve_key(config.curve_client.server_key, "quorum server key"));
    MQ_RETURN_IF_ERROR(
        transport::check_curve_key(config.curve_client.secret_key, "quorum client secret key"));
    if (!config.curve_client.other_server_key.empty()) {
      MQ_RETURN_IF_ERROR(transport::check_curve_key(config.curve_client.other_server_key,
                                                    "quorum other server key"));
    }
  }
  if (config.authenticator && !config.curve_server.enabled()) {
    return invalid("authentication needs CURVE (a server secret key)");
  }
  if (config.id < 0) return invalid("node id " + std::to_string(config.id) + " is negative");
  if (config.voters.size() != 1 && config.voters.size() != 3 && config.voters.size() != 5) {
    return invalid("there must be 1, 3 or 5 voters, not " + std::to_string(config.voters.size()));
  }
  for (const auto* members : {&config.voters, &config.observers}) {
    for (const auto& [id, endpoint] : *members) {
      if (id < 0) return invalid("member id " + std::to_string(id) + " is negative");
      // A lone voter is reached by no one: its own entry may name any port.
      bool alone = id == config.id && config.voters.size() == 1 && config.observers.empty();
      MQ_RETURN_IF_ERROR(check_endpoint(endpoint, alone));
    }
  }
  std::set<std::string> endpoints;
  for (const auto* members : {&config.voters, &config.observers}) {
    for (const auto& [id, endpoint] : *members) {
      if (members == &config.observers && config.voters.contains(id)) {
        return invalid("node " + std::to_string(id) + " is both a voter and an observer");
      }
      if (!endpoints.insert(endpoint).second) {
        return invalid("endpoint " + endpoint + " is listed for two members");
      }
    }
  }
  MQ_RETURN_IF_ERROR(check_endpoint(config.listen_endpoint, true));
  if (config.is_dynamic_observer()) {
    // Its bound endpoint is the address it announces: the voters connect to it.
    if (has_wildcard_host(config.listen_endpoint)) {
      std::string_view rest = std::string_view(config.listen_endpoint).substr(6);  // "tcp://"
      return invalid("node " + std::to_string(config.id) +
                     " is in neither voters nor observers, so the voters connect to the endpoint "
                     "it listens on, " +
                     config.listen_endpoint + ": it needs a host they can reach, not " +
                     std::string(rest.substr(0, rest.rfind(':'))));
    }
  }
  if (config.storage_dir.empty()) return invalid("no storage directory");
  if (config.tick_ms < 1) return invalid("tick_ms must be at least 1");
  if (config.election_ticks() < 3) {
    return invalid("election_timeout_ms (" + std::to_string(config.election_timeout_ms) +
                   ") must be at least 3 ticks of " + std::to_string(config.tick_ms) + " ms");
  }
  if (config.heartbeat_ticks() < 1 || config.heartbeat_ticks() >= config.election_ticks()) {
    return invalid("heartbeat_interval_ms (" + std::to_string(config.heartbeat_interval_ms) +
                   ") must be at least one tick and below the election timeout");
  }
  if (config.snapshot_every_entries < 1) return invalid("snapshot_every_entries must be >= 1");
  if (config.send_queue_messages < 1) return invalid("send_queue_messages must be >= 1");
  if (config.max_message_bytes < QuorumConfig::kMinMessageBytes) {
    return invalid("max_message_bytes must leave room for a 1 MiB append or snapshot chunk");
  }
  if (config.reconnect_interval_ms < 1 ||
      config.reconnect_interval_max_ms < config.reconnect_interval_ms) {
    return invalid("reconnect intervals must be >= 1 ms and max >= min");
  }
  return Status::ok();
}

}  // namespace mq::quorum
