// The ACL model: names, validation, filters and the allow/deny decision.
#include "transport/acls.h"

#include <array>
#include <utility>

#include "transport/principals.h"

namespace mq::transport {
namespace {

constexpr size_t kMaxResourceName = 255;

template <class Enum, size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& names,
                         Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "unknown";
}

template <class Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::pair<Enum, std::string_view>, N>& names,
                               std::string_view text) {
  for (const auto& [v, name] : names) {
    if (name == text) return v;
  }
  return std::nullopt;
}

constexpr std::array<std::pair<AclResourceType, std::string_view>, 4> kResourceTypes = {{
    {AclResourceType::kAny, "any"},
    {AclResourceType::kTopic, "topic"},
    {AclResourceType::kGroup, "group"},
    {AclResourceType::kCluster, "cluster"},
}};
constexpr std::array<std::pair<AclPatternType, std::string_view>, 4> kPatternTypes = {{
    {AclPatternType::kAny, "any"},
    {AclPatternType::kMatch, "match"},
    {AclPatternType::kLiteral, "literal"},
    {AclPatternType::kPrefixed, "prefixed"},
}};
constexpr std::array<std::pair<AclOperation, std::string_view>, 8> kOperations = {{
    {AclOperation::kAny, "any"},
    {AclOperation::kAll, "all"},
    {AclOperation::kRead, "read"},
    {AclOperation::kWrite, "write"},
    {AclOperation::kCreate, "create"},
    {AclOperation::kDelete, "delete"},
    {AclOperation::kAlter, "alter"},
    {AclOperation::kDescribe, "describe"},
}};
constexpr std::array<std::pair<AclPermission, std::string_view>, 3> kPermissions = {{
    {AclPermission::kAny, "any"},
    {AclPermission::kDeny, "deny"},
    {AclPermission::kAllow, "allow"},
}};

Status invalid_acl(std::string what) {
  return Status(ErrorCode::kInvalidAcl, std::move(what));
}

bool in_range(AclResourceType v) {
  return v >= AclResourceType::kAny && v <= AclResourceType::kCluster;
}
bool in_range(AclPatternType v) {
  return v >= AclPatternType::kAny && v <= AclPatternType::kPrefixed;
}
bool in_range(AclOperation v) {
  return v >= AclOperation::kAny && v <= AclOperation::kDescribe;
}
bool in_range(AclPermission v) {
  return v >= AclPermission::kAny && v <= AclPermission::kAllow;
}

// The operations a resource type has, besides `all`.
bool operation_applies(AclResourceType type, AclOperation op) {
  switch (type) {
    case AclResourceType::kTopic:
      return op != AclOperation::kAny;
    case AclResourceType::kGroup:
      return op == AclOperation::kAll || op == AclOperation::kRead || op == AclOperation::kDelete ||
             op == AclOperation::kDescribe;
    case AclResourceType::kCluster:
      return op == AclOperation::kAll || op == AclOperation::kCreate ||
             op == AclOperation::kAlter || op == AclOperation::kDescribe;
    case AclResourceType::kAny:
      return false;
  }
  return false;
}

bool implies_describe(AclOperation op) {
  return op == AclOperation::kRead || op == AclOperation::kWrite || op == AclOperation::kDelete ||
         op == AclOperation::kAlter;
}

bool name_applies(const AclBinding& b, std::string_view name) {
  if (b.pattern_type == AclPatternType::kPrefixed) return name.starts_with(b.resource_name);
  return b.resource_name == name || b.resource_name == kWildcard;
}

}  // namespace

std::string_view acl_name(AclResourceType type) {
  return name_of(kResourceTypes, type);
}
std::string_view acl_name(AclPatternType type) {
  return name_of(kPatternTypes, type);
}
std::string_view acl_name(AclOperation operation) {
  return name_of(kOperations, operation);
}
std::string_view acl_name(AclPermission permission) {
  return name_of(kPermissions, permission);
}
std::optional<AclResourceType> parse_acl_resource_type(std::string_view name) {
  return parse_name(kResourceTypes, name);
}
std::optional<AclPatternType> parse_acl_pattern_type(std::string_view name) {
  return parse_name(kPatternTypes, name);
}
std::optional<AclOperation> parse_acl_operation(std::string_view name) {
  return parse_name(kOperations, name);
}
std::optional<AclPermission> parse_acl_permission(std::string_view name) {
  return parse_name(kPermissions, name);
}

std::string describe(const AclBinding& b) {
  std::string text = std::string(acl_name(b.permission)) + " " + b.principal + " " +
                     std::string(acl_name(b.operation)) + " " +
                     std::string(acl_name(b.resource_type));
  if (b.resource_type != AclResourceType::kCluster) text += " " + b.resource_name;
  if (b.pattern_type == AclPatternType::kPrefixed) text += " (prefixed)";
  return text;
}

Status validate(const AclBinding& b) {
  if (!in_range(b.resource_type) || b.resource_type == AclResourceType::kAny) {
    return invalid_acl("resource type " + std::to_string(static_cast<int>(b.resource_type)) +
                       " is not topic (2), group (3) or cluster (4)");
  }
  if (b.pattern_type != AclPatternType::kLiteral && b.pattern_type != AclPatternType::kPrefixed) {
    return invalid_acl("pattern type " + std::to_string(static_cast<int>(b.pattern_type)) +
                       " is not literal (3) or prefixed (4)");
  }
  if (!in_range(b.operation) || b.operation == AclOperation::kAny) {
    return invalid_acl("operation " + std::to_string(static_cast<int>(b.operation)) +
                       " is not one of all, read, write, create, delete, alter, describe");
  }
  if (b.permission != AclPermission::kAllow && b.permission != AclPermission::kDeny) {
    return invalid_acl("permission " + std::to_string(static_cast<int>(b.permission)) +
                       " is not deny (2) or allow (3)");
  }
  if (b.principal != kWildcard) {
    if (Status name = check_principal_name(b.principal); !name.is_ok()) {
      return invalid_acl(name.message() + " (or \"*\" for every principal)");
    }
  }
  if (b.resource_type == AclResourceType::kCluster) {
    if (b.resource_name != kClusterResourceName || b.pattern_type != AclPatternType::kLiteral) {
      return invalid_acl("the cluster resource is named \"" + std::string(kClusterResourceName) +
                         "\", literally");
    }
  } else if (b.resource_name.empty() || b.resource_name.size() > kMaxResourceName) {
    return invalid_acl("a resource name is 1 to " + std::to_string(kMaxResourceName) +
                       " characters");
  } else if (b.pattern_type == AclPatternType::kPrefixed && b.resource_name == kWildcard) {
    return invalid_acl("a prefixed \"*\" is a literal \"*\" (every " +
                       std::string(acl_name(b.resource_type)) + ")");
  }
  if (!operation_applies(b.resource_type, b.operation)) {
    return invalid_acl("a " + std::string(acl_name(b.resource_type)) + " has no operation " +
                       std::string(acl_name(b.operation)));
  }
  return Status::ok();
}

Status validate(const AclFilter& f) {
  if (!in_range(f.resource_type)) {
    return invalid_acl("resource type " + std::to_string(static_cast<int>(f.resource_type)) +
                       " is unknown");
  }
  if (!in_range(f.pattern_type)) {
    return invalid_acl("pattern type " + std::to_string(static_cast<int>(f.pattern_type)) +
                       " is unknown");
  }
  if (!in_range(f.operation)) {
    return invalid_acl("operation " + std::to_string(static_cast<int>(f.operation)) +
                       " is unknown");
  }
  if (!in_range(f.permission)) {
    return invalid_acl("permission " + std::to_string(static_cast<int>(f.permission)) +
                       " is unknown");
  }
  if (f.pattern_type == AclPatternType::kMatch && !f.resource_name) {
    return invalid_acl("pattern type match needs a resource name");
  }
  return Status::ok();
}

bool matches(const AclFilter& f, const AclBinding& b) {
  if (f.resource_type != AclResourceType::kAny && f.resource_type != b.resource_type) return false;
  if (f.principal && *f.principal != b.principal) return false;
  if (f.operation != AclOperation::kAny && f.operation != b.operation) return false;
  if (f.permission != AclPermission::kAny && f.permission != b.permission) return false;
  switch (f.pattern_type) {
    case AclPatternType::kAny:
      return !f.resource_name || *f.resource_name == b.resource_name;
    case AclPatternType::kMatch:
      return name_applies(b, *f.resource_name);
    case AclPatternType::kLiteral:
    case AclPatternType::kPrefixed:
      return f.pattern_type == b.pattern_type &&
             (!f.resource_name || *f.resource_name == b.resource_name);
  }
  return false;
}

bool applies(const AclBinding& b, std::string_view principal, AclOperation operation,
             AclResourceType type, std::string_view name) {
  if (b.resource_type != type) return false;
  if (b.principal != principal && b.principal != kWildcard) return false;
  bool op = b.operation == operation || b.operation == AclOperation::kAll ||
            (b.permission == AclPermission::kAllow && operation == AclOperation::kDescribe &&
             implies_describe(b.operation));
  return op && name_applies(b, name);
}

AclDecision decide(std::span<const AclBinding> acls, std::string_view principal,
                   AclOperation operation, AclResourceType type, std::string_view name) {
  bool allowed = false;
  for (const AclBinding& b : acls) {
    if (!applies(b, principal, operation, type, name)) continue;
    if (b.permission == AclPermission::kDeny) return AclDecision::kDenied;
    allowed = true;
  }
  return allowed ? AclDecision::kAllowed : AclDecision::kNoMatch;
}

}  // namespace mq::transport
