// Broker settings changed through the protocol (AlterConfigs on this
// broker's resource, `mqctl config set --broker ID`): Kafka's dynamic
// per-broker configs. Only the settings SIGHUP can change (Setting::dynamic)
// may be set. They are kept in <data_dir>/dynamic-settings.json and laid
// over the config file's values at start-up and on every SIGHUP, so they
// outlive restarts and reloads until deleted (`mqctl config delete`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/config.h"

namespace mq::broker {

// One change: set `key` to `value`, or (nullopt) drop its override so the
// config file's value applies again.
struct SettingChange {
  std::string key;
  std::optional<std::string> value;
};

class DynamicSettings {
 public:
  static constexpr const char* kFileName = "dynamic-settings.json";

  // The overrides kept in `data_dir`; none when the file is absent. A file
  // that is not a JSON object of strings, or names a key that is unknown
  // or not dynamic, or holds a bad value, is kInvalidConfig naming the file
  // and the key (the broker does not start on it: nothing is guessed).
  static Result<DynamicSettings> load(const std::string& data_dir);

  // `file_config` with the overrides laid over it.
  Result<BrokerConfig> apply(BrokerConfig file_config) const;
  // These overrides after `changes` (all or nothing): an unknown key or a
  // bad value is kInvalidConfig, a setting that needs a restart
  // kInvalidRequest.
  Result<DynamicSettings> changed(const std::vector<SettingChange>& changes) const;
  // Writes the file atomically (fsynced, then renamed).
  Status save(const std::string& data_dir) const;

  // key -> value as given (plain text, as DescribeConfigs shows values).
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// What the request handlers may do with the broker's settings (the Broker
// implements it).
class BrokerSettings {
 public:
  virtual ~BrokerSettings() = default;
  // The running settings: the config file's with the overrides laid over.
  virtual BrokerConfig current() const = 0;
  // The overrides (key -> value).
  virtual std::map<std::string, std::string> overrides() const = 0;
  // Validates `changes` against the running settings and, unless
  // `validate_only`, persists and applies them; all or nothing.
  virtual Status alter(const std::vector<SettingChange>& changes, bool validate_only) = 0;
};

// Stores `text` into `config` through `setting` (integers in decimal,
// booleans true/false, strings as they are). kInvalidConfig names the key.
Status apply_setting_text(BrokerConfig& config, const Setting& setting, const std::string& text);

}  // namespace mq::broker
