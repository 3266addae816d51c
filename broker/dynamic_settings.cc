// DynamicSettings: the JSON file of per-broker overrides, and laying it
// over the config file's values.
#include "broker/dynamic_settings.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "store/file.h"

namespace mq::broker {
namespace {

const Setting* broker_setting(const std::string& key) {
  auto it = std::ranges::find(settings(), key, &Setting::key);
  return it == settings().end() ? nullptr : &*it;
}

// The setting `key` names if it may change at run time.
Result<const Setting*> dynamic_broker_setting(const std::string& key) {
  const Setting* s = broker_setting(key);
  if (s == nullptr) {
    return Status(ErrorCode::kInvalidConfig,
                  "unknown broker setting \"" + key + "\" (docs/configuration.md lists them)");
  }
  if (!s->dynamic) {
    return Status(ErrorCode::kInvalidRequest,
                  key + " needs a restart: change it in the config file and restart mqd");
  }
  return s;
}

std::string settings_file_path(const std::string& data_dir) {
  return data_dir + "/" + DynamicSettings::kFileName;
}

}  // namespace

Status apply_setting_text(BrokerConfig& config, const Setting& setting, const std::string& text) {
  switch (setting.type) {
    case SettingType::kInteger: {
      int64_t number = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        return Status(ErrorCode::kInvalidConfig,
                      setting.key + ": \"" + text + "\" is not an integer");
      }
      return setting.apply(config, "", number, false);
    }
    case SettingType::kBoolean:
      if (text != "true" && text != "false") {
        return Status(ErrorCode::kInvalidConfig,
                      setting.key + ": \"" + text + "\" is not true or false");
      }
      return setting.apply(config, "", 0, text == "true");
    case SettingType::kString: {
      Status st = setting.apply(config, text, 0, false);
      // The table's checks do not all name the key; a change's error must.
      if (!st.is_ok() && !st.message().starts_with(setting.key)) {
        return Status(st.code(), setting.key + ": " + st.message());
      }
      return st;
    }
  }
  return Status(ErrorCode::kInvalidConfig, setting.key + ": unknown type");
}

Result<DynamicSettings> DynamicSettings::load(const std::string& data_dir) {
  std::string path = settings_file_path(data_dir);
  DynamicSettings loaded;
  Result<std::string> text = read_small_file(path);
  if (text.code() == ErrorCode::kNotFound) return loaded;
  if (!text.is_ok()) return text.status();
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status(ErrorCode::kInvalidConfig,
                  path + ": not a JSON object of setting names and values; fix or remove it");
  }
  BrokerConfig check;
  for (const auto& [key, value] : doc.items()) {
    if (!value.is_string()) {
      return Status(ErrorCode::kInvalidConfig, path + ": " + key + ": the value must be a string");
    }
    Result<const Setting*> s = dynamic_broker_setting(key);
    if (!s.is_ok()) return Status(ErrorCode::kInvalidConfig, path + ": " + s.status().message());
    Status st = apply_setting_text(check, **s, value.get<std::string>());
    if (!st.is_ok()) return Status(ErrorCode::kInvalidConfig, path + ": " + st.message());
    loaded.values_[key] = value.get<std::string>();
  }
  return loaded;
}

Result<BrokerConfig> DynamicSettings::apply(BrokerConfig file_config) const {
  for (const auto& [key, value] : values_) {
    const Setting* s = broker_setting(key);
    if (s == nullptr) return Status(ErrorCode::kInvalidConfig, "unknown broker setting " + key);
    MQ_RETURN_IF_ERROR(apply_setting_text(file_config, *s, value));
  }
  return file_config;
}

Result<DynamicSettings> DynamicSettings::changed(const std::vector<SettingChange>& changes) const {
  DynamicSettings next = *this;
  BrokerConfig check;
  for (const SettingChange& c : changes) {
    MQ_ASSIGN_OR_RETURN(const Setting* s, dynamic_broker_setting(c.key));
    if (!c.value) {
      next.values_.erase(c.key);
      continue;
    }
    MQ_RETURN_IF_ERROR(apply_setting_text(check, *s, *c.value));
    next.values_[c.key] = *c.value;
  }
  return next;
}

Status DynamicSettings::save(const std::string& data_dir) const {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [key, value] : values_) doc[key] = value;
  return write_file_atomically(settings_file_path(data_dir), doc.dump(2) + "\n");
}

}  // namespace mq::broker
