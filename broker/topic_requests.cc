// The topic admin requests: CreateTopics, DeleteTopics, CreatePartitions,
// DescribeConfigs and AlterConfigs. Changes go through the cluster (the
// active controller) and return once every live broker has applied them;
// DescribeConfigs answers from this broker's settings and topic overrides.
#include "broker/request_handler.h"

namespace mq::broker {
namespace {

// A per-topic result's error_code and error_message from `status`.
template <class TopicResult>
void set_status(TopicResult& out, const Status& status) {
  out.error_code = status.code();
  if (!status.is_ok()) out.error_message = status.message();
}

}  // namespace

using namespace mq::transport;

CreateTopicsResponse RequestHandler::create_topics(const CreateTopicsRequest& req) {
  BrokerConfig config = replicas_.config();
  CreateTopicsResponse response;
  for (const auto& topic : req.topics) {
    auto& out = response.topics.emplace_back();
    out.name = topic.name;
    int32_t partitions =
        topic.num_partitions == -1 ? config.default_partitions : topic.num_partitions;
    int16_t rf = topic.replication_factor == -1
                     ? static_cast<int16_t>(config.default_replication_factor)
                     : topic.replication_factor;
    TopicOverrides overrides;
    for (const auto& c : topic.configs) {
      if (c.value) overrides[c.name] = *c.value;
    }
    Status st;
    std::vector<std::vector<int32_t>> assignment;
    for (const auto& a : topic.assignments) {
      if (a.partition_index != static_cast<int32_t>(assignment.size())) {
        st = Status(ErrorCode::kInvalidReplicaAssignment,
                    "assignments must list partitions 0, 1, 2, ... in order");
        break;
      }
      assignment.push_back(a.broker_ids);
    }
    if (st.is_ok()) {
      st = cluster_->create_topic(topic.name, assignment.empty() ? partitions : -1,
                                  assignment.empty() ? rf : -1, overrides, assignment,
                                  req.validate_only);
    }
    if (!assignment.empty()) {
      partitions = static_cast<int32_t>(assignment.size());
      rf = static_cast<int16_t>(assignment.front().size());
    }
    set_status(out, st);
    out.num_partitions = partitions;
    out.replication_factor = rf;
  }
  return response;
}

DeleteTopicsResponse RequestHandler::delete_topics(const DeleteTopicsRequest& req) {
  DeleteTopicsResponse response;
  for (const auto& name : req.topic_names) {
    auto& out = response.responses.emplace_back();
    out.name = name;
    Status st = name == group::kOffsetsTopic
                    ? Status(ErrorCode::kInvalidTopic,
                             "__consumer_offsets is internal: it holds every group's offsets")
                    : cluster_->delete_topic(name);
    set_status(out, st);
  }
  return response;
}

CreatePartitionsResponse RequestHandler::create_partitions(const CreatePartitionsRequest& req) {
  CreatePartitionsResponse response;
  for (const auto& topic : req.topics) {
    auto& out = response.results.emplace_back();
    out.name = topic.name;
    Status st = topic.name == group::kOffsetsTopic
                    ? Status(ErrorCode::kInvalidTopic,
                             "__consumer_offsets is internal: its partition count is "
                             "group.offsets_topic_partitions")
                : topic.assignments
                    ? Status(ErrorCode::kInvalidReplicaAssignment,
                             "manual replica assignment of new partitions is not supported: "
                             "the controller places them; move them with a reassignment")
                    : cluster_->add_partitions(topic.name, topic.count, req.validate_only);
    set_status(out, st);
  }
  return response;
}

DescribeConfigsResponse RequestHandler::describe_configs(const DescribeConfigsRequest& req) {
  BrokerConfig config = replicas_.config();
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
    if (resource.resource_type == ConfigResourceType::kTopic) {
      std::optional<TopicInfo> topic = replicas_.topic(resource.resource_name);
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
          resource.resource_name != std::to_string(identity_.node_id)) {
        out.error_code = ErrorCode::kInvalidRequest;
        out.error_message = "this is broker " + std::to_string(identity_.node_id);
        continue;
      }
      for (const Setting& s : settings()) {
        if (!wanted(s.key)) continue;
        auto& entry = out.configs.emplace_back();
        entry.name = s.key;
        entry.value = s.get(config);
        entry.read_only = true;  // broker settings change through the config file and SIGHUP
        entry.config_source = ConfigSource::kStaticBrokerConfig;
      }
    } else {
      out.error_code = ErrorCode::kInvalidRequest;
      out.error_message = "unknown resource type";
    }
  }
  return response;
}

AlterConfigsResponse RequestHandler::alter_configs(const AlterConfigsRequest& req) {
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
        cluster_->alter_topic_configs(resource.resource_name, set, remove, req.validate_only);
    set_status(out, st);
  }
  return response;
}

}  // namespace mq::broker
