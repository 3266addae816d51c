// Authorization decisions and the rate-limited denial log.
#include "broker/authorizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/cluster_view.h"
#include "transport/principals.h"

namespace mq::broker {
namespace {

// Bound on remembered (principal, resource) log times before pruning.
constexpr size_t kMaxRemembered = 10000;

}  // namespace

Authorizer::Authorizer(std::vector<std::string> super_users, const ClusterView& cluster)
    : super_users_(std::move(super_users)), cluster_(cluster) {}

bool Authorizer::super_user(std::string_view principal) const {
  return transport::is_broker_principal(principal) ||
         std::ranges::find(super_users_, principal) != super_users_.end();
}

bool Authorizer::permits(std::string_view principal, transport::AclOperation operation,
                         transport::AclResourceType type, std::string_view name) const {
  if (principal.empty()) return false;  // not authenticated
  if (super_user(principal)) return true;
  std::shared_ptr<const metadata::MetadataImage> image = cluster_.image();
  if (image == nullptr) return false;
  return transport::decide(image->acls(), principal, operation, type, name) ==
         transport::AclDecision::kAllowed;
}

bool Authorizer::allow(std::string_view principal, transport::AclOperation operation,
                       transport::AclResourceType type, std::string_view name) {
  if (permits(principal, operation, type, name)) return true;
  denials_.fetch_add(1, std::memory_order_relaxed);
  log_denial(principal, operation, type, name);
  return false;
}

bool Authorizer::allow_idempotent_write(std::string_view principal) {
  if (may_write_some_topic(principal)) return true;
  denials_.fetch_add(1, std::memory_order_relaxed);
  log_denial(principal, transport::AclOperation::kWrite, transport::AclResourceType::kCluster,
             transport::kClusterResourceName);
  return false;
}

bool Authorizer::may_write_some_topic(std::string_view principal) const {
  if (principal.empty()) return false;
  if (super_user(principal)) return true;
  std::shared_ptr<const metadata::MetadataImage> image = cluster_.image();
  if (image == nullptr) return false;
  for (const transport::AclBinding& b : image->acls()) {
    if (b.resource_type != transport::AclResourceType::kTopic ||
        b.permission != transport::AclPermission::kAllow ||
        (b.operation != transport::AclOperation::kWrite &&
         b.operation != transport::AclOperation::kAll)) {
      continue;
    }
    if (b.principal != principal && b.principal != transport::kWildcard) continue;
    // Allowed unless a deny covers the very resource the binding names.
    if (transport::decide(image->acls(), principal, transport::AclOperation::kWrite,
                          b.resource_type, b.resource_name) == transport::AclDecision::kAllowed) {
      return true;
    }
  }
  return false;
}

void Authorizer::log_denial(std::string_view principal, transport::AclOperation operation,
                            transport::AclResourceType type, std::string_view name) {
  Clock::time_point now = Clock::now();
  {
    std::lock_guard lock(log_mu_);
    auto key =
        std::make_tuple(std::string(principal), static_cast<int8_t>(type), std::string(name));
    auto it = logged_.find(key);
    if (it != logged_.end() && now - it->second < kLogEvery) return;
    if (it == logged_.end() && logged_.size() >= kMaxRemembered) {
      std::erase_if(logged_, [&](const auto& entry) { return now - entry.second >= kLogEvery; });
      if (logged_.size() >= kMaxRemembered) return;  // a flood: stay quiet until entries age
    }
    logged_[std::move(key)] = now;
  }
  std::string resource(transport::acl_name(type));
  if (type != transport::AclResourceType::kCluster) resource += " " + std::string(name);
  spdlog::warn(
      "authorization: denied {} {} on {} (logged once a minute per principal and resource)",
      principal.empty() ? "an unauthenticated client" : principal, transport::acl_name(operation),
      resource);
}

}  // namespace mq::broker
