// Authorizer: whether a principal may do an operation on a resource, from
// the ACLs in this broker's metadata image (transport/acls.h has the rules;
// docs/security.md, "Authorization"). Off unless security.authorization is
// set; then what no ACL allows is denied, but for super-users and brokers.
// Thread-safe: every worker thread asks it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "transport/acls.h"

namespace mq::broker {

class ClusterView;

class Authorizer {
 public:
  using Clock = std::chrono::steady_clock;

  // `cluster` supplies the ACLs (its image); must outlive the authorizer.
  Authorizer(std::vector<std::string> super_users, const ClusterView& cluster);

  // Whether `principal` may: always for super-users and broker:N; else
  // what the ACLs decide (deny beats allow; no applying binding denies).
  // A denial is counted (denials()) and logged at most once a minute per
  // principal and resource.
  bool allow(std::string_view principal, transport::AclOperation operation,
             transport::AclResourceType type, std::string_view name);
  // The same without counting or logging: what a listing leaves out.
  bool permits(std::string_view principal, transport::AclOperation operation,
               transport::AclResourceType type, std::string_view name) const;
  // Whether the ACLs let the principal write to some topic: InitProducerId
  // hands out an idempotent producer id to anyone who may produce. A
  // denial is counted and logged as write on the cluster.
  bool allow_idempotent_write(std::string_view principal);

  uint64_t denials() const { return denials_.load(std::memory_order_relaxed); }

  // The log-once window per principal and resource.
  static constexpr std::chrono::seconds kLogEvery{60};

 private:
  bool super_user(std::string_view principal) const;
  bool may_write_some_topic(std::string_view principal) const;
  void log_denial(std::string_view principal, transport::AclOperation operation,
                  transport::AclResourceType type, std::string_view name);

  std::vector<std::string> super_users_;
  const ClusterView& cluster_;
  std::atomic<uint64_t> denials_{0};
  std::mutex log_mu_;
  // Last log time per (principal, resource type, resource name); pruned of
  // entries older than kLogEvery when it grows.
  std::map<std::tuple<std::string, int8_t, std::string>, Clock::time_point> logged_;
};

}  // namespace mq::broker
