// AlterConfigs: sets or removes topic overrides through the active
// controller; broker settings are refused.
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "transport/configs.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

AlterConfigsResponse alter_configs_response(Context& ctx, const AlterConfigsRequest& req) {
  AlterConfigsResponse response;
  for (const auto& resource : req.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    if (resource.resource_type != ConfigResourceType::kTopic) {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = "broker settings change through the config file and SIGHUP";
      continue;
    }
    TopicOverrides set;
    std::vector<std::string> remove;
    for (const auto& c : resource.configs) {
      if (c.operation == AlterConfigOp::kDelete) {
        remove.push_back(c.name);
      } else {
        set[c.name] = c.value.value_or("");
      }
    }
    Status st =
        ctx.cluster->alter_topic_configs(resource.resource_name, set, remove, req.validate_only);
    set_status(out, st);
  }
  return response;
}

}  // namespace

void alter_configs(Call call) {
  serve<AlterConfigsRequest>(call, alter_configs_response);
}

}  // namespace mq::broker::handlers
