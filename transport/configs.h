// Configs of topics and brokers: DescribeConfigs (23), AlterConfigs (24).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   DescribeConfigsRequest v0
//     resources                array of
//       resource_type          int8 (ConfigResourceType)
//       resource_name          string
//       configuration_keys     nullable array of string
//   DescribeConfigsResponse v0
//     results                  array of
//       error_code             int16 (error code)
//       error_message          nullable string
//       resource_type          int8 (ConfigResourceType)
//       resource_name          string
//       configs                array of
//         name                 string
//         value                nullable string
//         read_only            bool
//         config_source        int8 (ConfigSource)
//         is_sensitive         bool
//   AlterConfigsRequest v0
//     resources                array of
//       resource_type          int8 (ConfigResourceType)
//       resource_name          string
//       configs                array of
//         name                 string
//         operation            int8 (AlterConfigOp)
//         value                nullable string
//     validate_only            bool
//   AlterConfigsResponse v0
//     responses                array of
//       error_code             int16 (error code)
//       error_message          nullable string
//       resource_type          int8 (ConfigResourceType)
//       resource_name          string
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

enum class ConfigResourceType : int8_t {
  kTopic = 2,
  kBroker = 4,
};

enum class AlterConfigOp : int8_t {
  kSet = 0,
  kDelete = 1,  // revert the key to its default
};

// Where a described config value comes from (Kafka's numbering).
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kTopicConfig = 1,                 // set on the topic
  kDynamicBrokerConfig = 2,         // set on this broker at runtime
  kDynamicDefaultBrokerConfig = 3,  // set at runtime for all brokers
  kStaticBrokerConfig = 4,          // from the broker's config file
  kDefault = 5,                     // built-in default
};

// DescribeConfigs: reads the configs of topics and brokers.
struct DescribeConfigsResponse;

struct DescribeConfigsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeConfigs;
  using Response = DescribeConfigsResponse;

  struct Resource {
    ConfigResourceType resource_type = ConfigResourceType::kTopic;  // 2 = topic, 4 = broker
    std::string resource_name;  // topic name, or broker id in decimal
    std::optional<std::vector<std::string>> configuration_keys;  // keys to return, null = all

    bool operator==(const Resource&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("resource_type", m.resource_type);
      c("resource_name", m.resource_name);
      c("configuration_keys", m.configuration_keys);
    }
  };

  std::vector<Resource> resources;  // what to describe

  bool operator==(const DescribeConfigsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resources", m.resources);
  }
};

struct DescribeConfigsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeConfigs;

  struct Result {
    struct Config {
      std::string name;                  // config key
      std::optional<std::string> value;  // current value, null if sensitive or unset
      bool read_only = false;            // cannot be altered
      ConfigSource config_source = ConfigSource::kDefault;  // where the value comes from
      bool is_sensitive = false;                            // value is hidden

      bool operator==(const Config&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("name", m.name);
        c("value", m.value);
        c("read_only", m.read_only);
        c("config_source", m.config_source);
        c("is_sensitive", m.is_sensitive);
      }
    };

    ErrorCode error_code = ErrorCode::kNone;                        // per-resource error
    std::optional<std::string> error_message;                       // detail for people
    ConfigResourceType resource_type = ConfigResourceType::kTopic;  // as requested
    std::string resource_name;                                      // as requested
    std::vector<Config> configs;                                    // the configs

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("error_code", m.error_code);
      c("error_message", m.error_message);
      c("resource_type", m.resource_type);
      c("resource_name", m.resource_name);
      c("configs", m.configs);
    }
  };

  std::vector<Result> results;  // one per resource

  bool operator==(const DescribeConfigsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

// AlterConfigs: sets or deletes individual config keys of topics and brokers (incremental: keys not
// named are unchanged).
struct AlterConfigsResponse;

struct AlterConfigsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kAlterConfigs;
  using Response = AlterConfigsResponse;

  struct Resource {
    struct Config {
      std::string name;                               // config key
      AlterConfigOp operation = AlterConfigOp::kSet;  // 0 = set, 1 = delete (revert to default)
      std::optional<std::string> value;               // new value for set, null for delete

      bool operator==(const Config&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("name", m.name);
        c("operation", m.operation);
        c("value", m.value);
      }
    };

    ConfigResourceType resource_type = ConfigResourceType::kTopic;  // 2 = topic, 4 = broker
    std::string resource_name;    // topic name, or broker id in decimal
    std::vector<Config> configs;  // changes

    bool operator==(const Resource&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("resource_type", m.resource_type);
      c("resource_name", m.resource_name);
      c("configs", m.configs);
    }
  };

  std::vector<Resource> resources;  // what to change
  bool validate_only = false;       // check the request, change nothing

  bool operator==(const AlterConfigsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resources", m.resources);
    c("validate_only", m.validate_only);
  }
};

struct AlterConfigsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kAlterConfigs;

  struct Result {
    ErrorCode error_code = ErrorCode::kNone;                        // per-resource result
    std::optional<std::string> error_message;                       // detail for people
    ConfigResourceType resource_type = ConfigResourceType::kTopic;  // as requested
    std::string resource_name;                                      // as requested

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("error_code", m.error_code);
      c("error_message", m.error_message);
      c("resource_type", m.resource_type);
      c("resource_name", m.resource_name);
    }
  };

  std::vector<Result> responses;  // one per resource

  bool operator==(const AlterConfigsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("responses", m.responses);
  }
};

}  // namespace mq::transport
