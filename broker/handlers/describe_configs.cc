// DescribeConfigs: a topic's effective settings (overrides and broker
// defaults), or this broker's running settings with where each comes from:
// set through AlterConfigs (dynamic-broker), the config file
// (static-broker) or the built-in default. Only dynamic ones are writable.
#include "broker/cluster_view.h"
#include "broker/config.h"
#include "broker/dynamic_settings.h"
#include "broker/handlers/handlers.h"
#include "broker/replica_manager.h"
#include "broker/topic_config.h"
#include "transport/configs.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

DescribeConfigsResponse describe_configs_response(const Call& call, Context& ctx,
                                                  const DescribeConfigsRequest& req) {
  BrokerConfig config = ctx.replicas.config();
  DescribeConfigsResponse response;
  for (const auto& resource : req.resources) {
    auto& out = response.results.emplace_back();
    out.resource_type = resource.resource_type;
    out.resource_name = resource.resource_name;
    auto wanted = [&](const std::string& key) {
      if (!resource.configuration_keys) return true;
      for (const auto& k : *resource.configuration_keys) {
        if (k == key) return true;
      }
      return false;
    };
    if (resource.resource_type == ConfigResourceType::kTopic &&
        !topic_authorized(call, AclOperation::kDescribe, resource.resource_name)) {
      out.error_code = ErrorCode::kTopicAuthorizationFailed;
      out.error_message = "may not describe topic " + resource.resource_name;
    } else if (resource.resource_type == ConfigResourceType::kBroker &&
               !cluster_authorized(call, AclOperation::kDescribe)) {
      out.error_code = ErrorCode::kClusterAuthorizationFailed;
      out.error_message = "may not describe the cluster";
    } else if (resource.resource_type == ConfigResourceType::kTopic) {
      std::optional<TopicInfo> topic = ctx.replicas.topic(resource.resource_name);
      if (!topic) {
        out.error_code = ErrorCode::kUnknownTopicOrPartition;
        out.error_message = "topic '" + resource.resource_name + "' does not exist";
        continue;
      }
      for (const auto& d : describe_topic_config(config, topic->configs)) {
        if (!wanted(d.name)) continue;
        auto& entry = out.configs.emplace_back();
        entry.name = d.name;
        entry.value = d.value;
        entry.config_source =
            d.is_default ? ConfigSource::kStaticBrokerConfig : ConfigSource::kTopicConfig;
      }
    } else if (resource.resource_type == ConfigResourceType::kBroker) {
      if (!resource.resource_name.empty() &&
          resource.resource_name != std::to_string(ctx.identity.node_id)) {
        out.error_code = ErrorCode::kInvalidRequest;
        out.error_message = "this is broker " + std::to_string(ctx.identity.node_id);
        continue;
      }
      BrokerConfig running = ctx.settings != nullptr ? ctx.settings->current() : config;
      std::map<std::string, std::string> overrides;
      if (ctx.settings != nullptr) overrides = ctx.settings->overrides();
      const BrokerConfig defaults;
      for (const Setting& s : settings()) {
        if (!wanted(s.key)) continue;
        auto& entry = out.configs.emplace_back();
        entry.name = s.key;
        entry.value = value_text(s, running);
        entry.read_only = !s.dynamic || ctx.settings == nullptr;
        // A file value equal to the default shows as the default: the
        // broker does not keep which keys the file spelled out.
        entry.config_source = overrides.contains(s.key) ? ConfigSource::kDynamicBrokerConfig
                              : *entry.value != value_text(s, defaults)
                                  ? ConfigSource::kStaticBrokerConfig
                                  : ConfigSource::kDefault;
      }
    } else {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = "unknown resource type";
    }
  }
  return response;
}

}  // namespace

void describe_configs(Call call) {
  serve<DescribeConfigsRequest>(call, describe_configs_response);
}

}  // namespace mq::broker::handlers
