// -X key=value: any client setting of the producer, consumer or admin client
// mqctl runs, by its Kafka name (linger.ms, fetch.max.wait.ms, ...), as kcat
// and rpk take them. `mqctl client-settings` lists them with mqctl's values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/config.h"

namespace mq::ctl {

// The client configs one -X setting may change (nullptr: not this one).
struct ClientConfigs {
  client::ProducerConfig* producer = nullptr;
  client::ConsumerConfig* consumer = nullptr;
  client::AdminConfig* admin = nullptr;
};

struct ClientSetting {
  std::string_view name;         // Kafka's name: "linger.ms"
  std::string_view clients;      // "producer", "consumer,admin", ...
  std::string_view type;         // "int", "bytes", "ms", "bool", "string", or the choices
  std::string_view description;  // one line
  // Parses `text` (the value of -X `name`) into each config of `configs`
  // the setting belongs to.
  Status (*set)(std::string_view name, std::string_view text, ClientConfigs& configs);
  // Its value in the first config it belongs to that `configs` holds;
  // nullopt when `configs` holds none of them.
  std::optional<std::string> (*get)(const ClientConfigs& configs);
};

// Every setting -X takes, by name.
std::span<const ClientSetting> client_settings();

// Parsed -X options, in the order given (a later one of a name wins).
class ClientOverrides {
 public:
  // Each entry "key=value"; kInvalidConfig names an unknown key (with the
  // closest known one) or a bad value.
  static Result<ClientOverrides> parse(const std::vector<std::string>& entries);

  // Applies every override that belongs to a config `configs` holds.
  void apply(ClientConfigs configs) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<std::pair<const ClientSetting*, std::string>> entries_;
};

}  // namespace mq::ctl
