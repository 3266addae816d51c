// AlterConfigs: sets or removes topic overrides through the active
// controller, or this broker's dynamic settings (DynamicSettings: persisted
// in its data directory, applied at once).
#include "broker/cluster_view.h"
#include "broker/dynamic_settings.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "transport/configs.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

// This broker's settings: its own id or "" names it; each broker answers
// for itself (a client sends the request to the broker it changes).
Status alter_broker(Context& ctx, const AlterConfigsRequest::Resource& resource,
                    bool validate_only) {
  std::string self = std::to_string(ctx.identity.node_id);
  if (!resource.resource_name.empty() && resource.resource_name != self) {
    return Status(ErrorCode::kInvalidRequest, "this is broker " + self + ", not broker " +
                                                  resource.resource_name +
                                                  ": send it to the broker it changes");
  }
  if (ctx.settings == nullptr) {
    return Status(ErrorCode::kInvalidRequest, "this broker's settings cannot change at run time");
  }
  std::vector<SettingChange> changes;
  for (const auto& c : resource.configs) {
    if (c.operation == AlterConfigOp::kDelete) {
      changes.push_back({c.name, std::nullopt});
    } else if (c.operation == AlterConfigOp::kSet) {
      changes.push_back({c.name, c.value.value_or("")});
    } else {
      return Status(ErrorCode::kInvalidRequest, c.name + ": unknown operation");
    }
  }
  return ctx.settings->alter(changes, validate_only);
}

AlterConfigsResponse alter_configs_response(const Call& call, Context& ctx,
                                            const AlterConfigsRequest& req) {
  AlterConfigsResponse response;
  for (const auto& resource : req.resources) {
    auto& out = response.responses.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    if (resource.resource_type == ConfigResourceType::kBroker &&
        !cluster_authorized(call, AclOperation::kAlter)) {
      out.error_code = ErrorCode::kClusterAuthorizationFailed;
      out.error_message = "may not alter the cluster";
      continue;
    }
    if (resource.resource_type == ConfigResourceType::kTopic &&
        !topic_authorized(call, AclOperation::kAlter, resource.resource_name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
      out.error_message = "may not alter topic " + resource.resource_name;
      continue;
    }
    if (resource.resource_type == ConfigResourceType::kBroker) {
      set_status(out, alter_broker(ctx, resource, req.validate_only));
      continue;
    }
    if (resource.resource_type != ConfigResourceType::kTopic) {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = "unknown resource type";
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
