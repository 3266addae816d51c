// The TOML parser built on the settings table (config_settings.cc, toml++),
// validation, and the generated reference and example.
#include "broker/config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <toml++/toml.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "base/node_address.h"

namespace mq::broker {
namespace {

Status invalid(const std::string& what) {
  return Status(ErrorCode::kInvalidConfig, what);
}

// Visits every leaf of the TOML tree with its dotted key.
void walk(const toml::table& table, const std::string& prefix,
          const std::function<void(const std::string&, const toml::node&)>& leaf) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const toml::table* sub = node.as_table()) {
      walk(*sub, key, leaf);
    } else {
      leaf(key, node);
    }
  }
}

// `text` as "# " comment lines of at most 78 columns.
std::string comment_lines(const std::string& text) {
  std::string out, line;
  std::istringstream words(text);
  std::string word;
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > 76) {
      out += "# " + line + "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out += "# " + line + "\n";
  return out;
}

}  // namespace

Result<std::vector<QuorumMember>> parse_quorum_members(const std::string& text) {
  std::vector<QuorumMember> members;
  std::stringstream list(text);
  std::string entry;
  while (std::getline(list, entry, ',')) {
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (entry.empty()) {
      if (text.find_first_not_of(" \t,") == std::string::npos) continue;
      return invalid("empty entry in '" + text + "'");
    }
    Result<NodeAddress> address = parse_node_address(entry);
    if (!address.is_ok()) return invalid(address.status().message());
    QuorumMember member{address->id, address->host, address->port};
    for (const QuorumMember& m : members) {
      if (m.id == member.id) {
        return invalid("node id " + std::to_string(member.id) + " is listed twice");
      }
    }
    members.push_back(member);
  }
  return members;
}

std::string format_quorum_members(const std::vector<QuorumMember>& members) {
  std::string out;
  for (const QuorumMember& m : members) out += (out.empty() ? "" : ",") + m.to_string();
  return out;
}

const QuorumMember* ClusterConfig::member(int32_t node_id) const {
  for (const auto* list : {&voters, &observers}) {
    for (const QuorumMember& m : *list) {
      if (m.id == node_id) return &m;
    }
  }
  return nullptr;
}

Status BrokerConfig::validate() const {
  MQ_RETURN_IF_ERROR(log.validate());
  if (!principals_file.empty() &&
      (curve_secret_key_file.empty() || broker_secret_key_file.empty())) {
    return invalid(
        "security.principals_file needs security.curve_secret_key_file (authentication rides on "
        "CURVE) and security.broker_secret_key_file (this broker's identity as broker:" +
        std::to_string(node_id) + ")");
  }
  if (!curve_other_public_key_file.empty() && curve_secret_key_file.empty()) {
    return invalid(
        "security.curve_other_public_key_file needs security.curve_secret_key_file (it is the "
        "cluster's other key while that one changes)");
  }
  if (authorization && principals_file.empty()) {
    return invalid(
        "security.authorization needs security.principals_file (ACLs name the principals it "
        "lists)");
  }
  if (!broker_secret_key_file.empty() && curve_secret_key_file.empty()) {
    return invalid("security.broker_secret_key_file needs security.curve_secret_key_file");
  }
  if (http_token_loopback && http_token_file.empty()) {
    return invalid("http.token_loopback needs http.token_file (the token to ask for)");
  }
  if (http_tls_cert_file.empty() != http_tls_key_file.empty()) {
    return invalid("http.tls_cert_file and http.tls_key_file go together: give both or neither");
  }
  if (!curve_secret_key_file.empty() && http_token_file.empty()) {
    // With security on, /metrics and /v1/status are not left open to the network.
    std::string host = http_address.substr(0, http_address.rfind(':'));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    // A literal loopback address (a name like 127.example.com is not one).
    in_addr v4{};
    in6_addr v6{};
    bool loopback =
        host == "localhost" ||
        (::inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127) ||
        (::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6));
    if (!loopback) {
      return invalid("http.address " + http_address +
                     " is not a loopback address: with security.curve_secret_key_file set, set "
                     "http.token_file too (a bearer token for HTTP clients not on loopback), or "
                     "bind HTTP to 127.0.0.1");
    }
  }
  if (cluster.voters.empty()) {
    if (!cluster.observers.empty()) {
      return invalid("cluster.observers is set but cluster.voters is empty: name the voters");
    }
    return Status::ok();
  }
  for (const QuorumMember& o : cluster.observers) {
    for (const QuorumMember& v : cluster.voters) {
      if (o.id == v.id) {
        return invalid("node id " + std::to_string(o.id) +
                       " is both in cluster.voters and cluster.observers");
      }
    }
  }
  if (cluster.member(node_id) == nullptr) {
    // A dynamic observer (docs/cluster.md, "Adding a broker"): it announces
    // its quorum listener to the voters, who connect to it, so that must be
    // an address they can reach.
    const std::string& listener = cluster.quorum_listener;
    size_t colon = listener.rfind(':');
    std::string host = colon == std::string::npos || listener.size() < 6
                           ? ""
                           : listener.substr(6, colon - 6);  // after "tcp://"
    std::string port = colon == std::string::npos ? "" : listener.substr(colon + 1);
    bool port_ok = !port.empty() && port.size() <= 5 &&
                   port.find_first_not_of("0123456789") == std::string::npos &&
                   std::stoi(port) >= 1 && std::stoi(port) <= 65535;
    if (listener.empty() || host.empty() || host == "*" || host == "0.0.0.0" || host == "::" ||
        host == "[::]" || !port_ok) {
      return invalid("node_id " + std::to_string(node_id) +
                     " is in neither cluster.voters nor cluster.observers (" +
                     format_quorum_members(cluster.voters) +
                     "), so it joins as a dynamic observer and needs listeners.quorum = "
                     "\"tcp://HOST:PORT\" with the HOST the voters reach it at (not 0.0.0.0 or "
                     "*) and a port from 1 to 65535; got '" +
                     listener + "'");
    }
  }
  if (cluster.broker_session_timeout_ms <= cluster.broker_heartbeat_interval_ms) {
    return invalid("cluster.broker_session_timeout_ms (" +
                   std::to_string(cluster.broker_session_timeout_ms) +
                   ") must be above cluster.broker_heartbeat_interval_ms (" +
                   std::to_string(cluster.broker_heartbeat_interval_ms) + ")");
  }
  if (cluster.quorum_election_timeout_ms < 2 * cluster.quorum_tick_ms) {
    return invalid(
        "quorum.election_timeout_ms (" + std::to_string(cluster.quorum_election_timeout_ms) +
        ") must be at least two quorum.tick_ms (" + std::to_string(cluster.quorum_tick_ms) + ")");
  }
  return Status::ok();
}

std::string value_text(const Setting& setting, const BrokerConfig& config) {
  std::string written = setting.get(config);
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + written);
  } catch (const toml::parse_error&) {
    return written;
  }
  auto plain = [&written](const toml::node& node) -> std::string {
    if (const auto* text = node.as_string()) return text->get();
    if (const auto* number = node.as_integer()) return std::to_string(number->get());
    if (const auto* flag = node.as_boolean()) return flag->get() ? "true" : "false";
    return written;  // no setting has another type
  };
  const toml::node* value = parsed.get("v");
  if (value == nullptr) return written;
  if (const toml::array* list = value->as_array()) {
    std::string joined;
    for (const toml::node& item : *list) {
      if (!joined.empty()) joined += ",";
      joined += plain(item);
    }
    return joined;
  }
  return plain(*value);
}

Result<BrokerConfig> parse_config(const std::string& toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return invalid(source_name + ":" + std::to_string(e.source().begin.line) + ": " +
                   std::string(e.description()));
  }
  std::map<std::string, const Setting*> by_key;
  for (const Setting& s : settings()) by_key[s.key] = &s;

  BrokerConfig config;
  Status first_error;
  walk(root, "", [&](const std::string& key, const toml::node& node) {
    if (!first_error.is_ok()) return;
    std::string where = source_name + ":" + std::to_string(node.source().begin.line) + ": " + key;
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      first_error = invalid(where + ": unknown setting (see docs/configuration.md)");
      return;
    }
    const Setting& s = *it->second;
    Status st;
    switch (s.type) {
      case SettingType::kInteger:
        if (!node.is_integer()) {
          first_error = invalid(where + ": expected an integer");
          return;
        }
        st = s.apply(config, "", node.as_integer()->get(), false);
        break;
      case SettingType::kBoolean:
        if (!node.is_boolean()) {
          first_error = invalid(where + ": expected true or false");
          return;
        }
        st = s.apply(config, "", 0, node.as_boolean()->get());
        break;
      case SettingType::kString:
        if (!node.is_string()) {
          first_error = invalid(where + ": expected a string");
          return;
        }
        st = s.apply(config, node.as_string()->get(), 0, false);
        break;
    }
    if (!st.is_ok()) first_error = invalid(where + ": " + st.message());
  });
  if (!first_error.is_ok()) return first_error;
  Status valid = config.validate();
  if (!valid.is_ok()) return invalid(source_name + ": " + valid.message());
  return config;
}

Result<BrokerConfig> load_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kNotFound, "cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

ConfigDiff diff_configs(const BrokerConfig& before, const BrokerConfig& after) {
  ConfigDiff diff;
  for (const Setting& s : settings()) {
    if (s.get(before) == s.get(after)) continue;
    (s.dynamic ? diff.dynamic_keys : diff.static_keys).push_back(s.key);
  }
  return diff;
}

std::string configuration_reference() {
  std::ostringstream out;
  out << "# mqd configuration reference\n\n"
      << "Generated from the broker's settings table (`broker/config.cc`) by\n"
      << "`mqd --print-config-reference`; a test fails when this file and the table\n"
      << "drift apart. mqd reads one TOML file (`mqd --config FILE`); every key is\n"
      << "optional. Dotted keys are TOML tables: `log.fsync` is `fsync` under `[log]`.\n"
      << "Unknown keys and bad values stop the broker with an error naming the key\n"
      << "and its line; `mqd --check-config FILE` validates without starting.\n\n"
      << "*Dynamic* settings change on `systemctl reload mqd` (SIGHUP), or through\n"
      << "the protocol with `mqctl config set --broker ID key=value` (kept in\n"
      << "`<data_dir>/dynamic-settings.json` and laid over this file's values at\n"
      << "start-up and on every reload, until `mqctl config delete --broker ID key`);\n"
      << "the others need a restart. Sizes are bytes, durations milliseconds.\n\n"
      << "| key | type | default | dynamic | meaning |\n|---|---|---|---|---|\n";
  for (const Setting& s : settings()) {
    const char* type = s.type == SettingType::kInteger   ? "integer"
                       : s.type == SettingType::kBoolean ? "boolean"
                                                         : "string";
    out << "| `" << s.key << "` | " << type << " | `" << s.default_value << "` | "
        << (s.dynamic ? "yes" : "no") << " | " << s.description << " |\n";
  }
  return out.str();
}

std::string example_config(const BrokerConfig& values) {
  // TOML wants every top-level key before the first [table], and each table
  // once: group the rows by table, in the order the tables first appear.
  std::vector<std::string> tables;
  std::map<std::string, std::vector<const Setting*>> rows;
  for (const Setting& s : settings()) {
    size_t dot = s.key.rfind('.');
    std::string table = dot == std::string::npos ? "" : s.key.substr(0, dot);
    if (rows.find(table) == rows.end()) {
      if (table.empty()) {
        tables.insert(tables.begin(), table);
      } else {
        tables.push_back(table);
      }
    }
    rows[table].push_back(&s);
  }
  std::ostringstream out;
  out << "# mqd configuration: every setting, each with what it does and its default.\n"
      << "# Generated by `mqd --print-example-config FILE`, which keeps FILE's values\n"
      << "# and rewrites everything else (a test fails when a committed example\n"
      << "# drifts from the settings table). Reference: docs/configuration.md.\n"
      << "# \"dynamic\" settings change on SIGHUP (systemctl reload mqd) or with\n"
      << "# mqctl config set --broker ID (which wins over this file until deleted);\n"
      << "# the others need a restart.\n";
  for (const std::string& table : tables) {
    if (!table.empty()) out << "\n[" << table << "]\n";
    for (const Setting* s : rows[table]) {
      std::string leaf = table.empty() ? s->key : s->key.substr(table.size() + 1);
      out << "\n"
          << comment_lines(s->description) << "# default: " << s->default_value
          << (s->dynamic ? "; dynamic" : "; restart to change") << "\n"
          << leaf << " = " << s->get(values) << "\n";
    }
  }
  return out.str();
}

}  // namespace mq::broker
