// ApiVersions: every API this broker serves with its version range, from the
// handler table. Answered before a starting broker has caught up.
#include "transport/api_versions.h"

#include "broker/handlers/handlers.h"

namespace mq::broker::handlers {

void api_versions(Call call) {
  serve<transport::ApiVersionsRequest>(call, [](Context&, const transport::ApiVersionsRequest&) {
    transport::ApiVersionsResponse response;
    for (const Handler& handler : all()) {
      auto& out = response.api_keys.emplace_back();
      out.api_key = static_cast<int16_t>(handler.api);
      out.min_version = handler.versions.min_version;
      out.max_version = handler.versions.max_version;
    }
    return response;
  });
}

}  // namespace mq::broker::handlers
