// ApiVersions (api key 0): the APIs and versions a broker speaks.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   ApiVersionsRequest v0
//     client_software_name     string
//     client_software_version  string
//   ApiVersionsResponse v0
//     error_code               int16 (error code)
//     api_keys                 array of
//       api_key                int16
//       min_version            int16
//       max_version            int16
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// ApiVersions: the APIs and versions the broker speaks. Version 0 of this API is never removed, so
// any client can always ask.
struct ApiVersionsResponse;

struct ApiVersionsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kApiVersions;
  using Response = ApiVersionsResponse;

  std::string client_software_name;     // client library name, for logs
  std::string client_software_version;  // client library version, for logs

  bool operator==(const ApiVersionsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("client_software_name", m.client_software_name);
    c("client_software_version", m.client_software_version);
  }
};

struct ApiVersionsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kApiVersions;

  struct ApiVersion {
    int16_t api_key = 0;      // an api key the broker serves
    int16_t min_version = 0;  // lowest version served
    int16_t max_version = 0;  // highest version served

    bool operator==(const ApiVersion&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("api_key", m.api_key);
      c("min_version", m.min_version);
      c("max_version", m.max_version);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::vector<ApiVersion> api_keys;         // one entry per API the broker implements

  bool operator==(const ApiVersionsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("api_keys", m.api_keys);
  }
};

// What this build answers to ApiVersions: every entry of supported_apis().
ApiVersionsResponse local_api_versions();

// The version to use for `key` with a broker that sent `broker`: the highest
// version both support; nullopt if the broker lacks the API or the ranges
// do not overlap.
std::optional<int16_t> negotiate_version(const ApiVersionsResponse& broker, ApiKey key);

}  // namespace mq::transport
