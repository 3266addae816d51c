// The local ApiVersions answer and version negotiation against a broker's.
#include "transport/api_versions.h"

namespace mq::transport {

ApiVersionsResponse local_api_versions() {
  ApiVersionsResponse response;
  for (const SupportedApi& api : supported_apis()) {
    response.api_keys.push_back({.api_key = static_cast<int16_t>(api.api_key),
                                 .min_version = api.versions.min_version,
                                 .max_version = api.versions.max_version});
  }
  return response;
}

std::optional<int16_t> negotiate_version(const ApiVersionsResponse& broker, ApiKey key) {
  std::optional<VersionRange> ours = supported_versions(key);
  if (!ours) return std::nullopt;
  for (const ApiVersionsResponse::ApiVersion& theirs : broker.api_keys) {
    if (theirs.api_key != static_cast<int16_t>(key)) continue;
    if (theirs.min_version > theirs.max_version) return std::nullopt;
    return negotiate_version(*ours, VersionRange{theirs.min_version, theirs.max_version});
  }
  return std::nullopt;
}

}  // namespace mq::transport
