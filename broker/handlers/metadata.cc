// Metadata: brokers, topics and partition leaders from this broker's metadata
// image (ClusterNode::metadata); auto-creates the named topics when asked and
// topics.auto_create allows it. With authorization on, a client sees only
// the topics it may describe: a named topic it may not is answered
// TOPIC_AUTHORIZATION_FAILED (whether or not it exists), and only topics it
// may create are auto-created.
#include "transport/metadata.h"

#include <algorithm>
#include <map>

#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"

namespace mq::broker::handlers {

using namespace mq::transport;

namespace {

MetadataResponse authorized_metadata(const Call& call, Context& ctx, const MetadataRequest& r) {
  if (!r.topics) {
    MetadataResponse response = ctx.cluster->metadata(r);
    std::erase_if(response.topics, [&](const MetadataResponse::Topic& t) {
      return !visible(call, AclOperation::kDescribe, AclResourceType::kTopic, t.name);
    });
    return response;
  }
  // Named topics: the describable ones, split by whether this client may
  // have them created.
  MetadataRequest creatable{.topics = std::vector<std::string>{},
                            .allow_auto_topic_creation = true};
  MetadataRequest plain{.topics = std::vector<std::string>{}, .allow_auto_topic_creation = false};
  std::vector<std::string> denied;
  for (const std::string& name : *r.topics) {
    if (!topic_authorized(call, AclOperation::kDescribe, name)) {
      denied.push_back(name);
    } else if (r.allow_auto_topic_creation && may_auto_create(call, name)) {
      creatable.topics->push_back(name);
    } else {
      plain.topics->push_back(name);
    }
  }
  MetadataResponse response = ctx.cluster->metadata(plain);
  std::map<std::string, MetadataResponse::Topic> by_name;
  for (auto& t : response.topics) by_name.emplace(t.name, std::move(t));
  if (!creatable.topics->empty()) {
    for (auto& t : ctx.cluster->metadata(creatable).topics) by_name.emplace(t.name, std::move(t));
  }
  for (const std::string& name : denied) {
    MetadataResponse::Topic t;
    t.name = name;
    t.error_code = ErrorCode::kTopicAuthorizationFailed;
    by_name.emplace(name, std::move(t));
  }
  // In the request's order.
  response.topics.clear();
  for (const std::string& name : *r.topics) {
    auto it = by_name.find(name);
    if (it == by_name.end()) continue;  // named twice
    response.topics.push_back(std::move(it->second));
    by_name.erase(it);
  }
  return response;
}

}  // namespace

void metadata(Call call) {
  serve<MetadataRequest>(call, [&call](Context& ctx, const MetadataRequest& r) {
    if (ctx.authorizer == nullptr) return ctx.cluster->metadata(r);
    return authorized_metadata(call, ctx, r);
  });
}

}  // namespace mq::broker::handlers
