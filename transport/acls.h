// Access control lists: the model (who may do what to which resource), how
// a binding applies to a request, and the three APIs that manage them —
// DescribeAcls (34), CreateAcls (35), DeleteAcls (36), Kafka's, with Kafka's
// numbering of resource types, pattern types, operations and permissions.
// docs/security.md explains the rules, docs/protocol.md the messages.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   AclBinding                       AclFilter
//     resource_type  int8              resource_type  int8 (1 = any)
//     resource_name  string            resource_name  nullable string (null = any)
//     pattern_type   int8              pattern_type   int8 (1 = any, 2 = match)
//     principal      string            principal      nullable string (null = any)
//     operation      int8              operation      int8 (1 = any)
//     permission     int8              permission     int8 (1 = any)
//
//   DescribeAclsRequest v0           DescribeAclsResponse v0
//     filter         AclFilter         error_code     int16 (error code)
//                                      error_message  string
//                                      acls           array of AclBinding
//   CreateAclsRequest v0             CreateAclsResponse v0
//     creations      array of          results        array of (one per creation)
//                    AclBinding          error_code     int16 (error code)
//                                        error_message  string
//   DeleteAclsRequest v0             DeleteAclsResponse v0
//     filters        array of          results        array of (one per filter)
//                    AclFilter           error_code     int16 (error code)
//                                        error_message  string
//                                        deleted        array of AclBinding
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error_code.h"
#include "base/status.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

enum class AclResourceType : int8_t {
  kAny = 1,  // filters only
  kTopic = 2,
  kGroup = 3,
  kCluster = 4,  // one resource, named kClusterResourceName
};

enum class AclPatternType : int8_t {
  kAny = 1,    // filters only: literal and prefixed bindings
  kMatch = 2,  // filters only: the bindings that apply to resource_name
  kLiteral = 3,
  kPrefixed = 4,
};

enum class AclOperation : int8_t {
  kAny = 1,  // filters only
  kAll = 2,
  kRead = 3,
  kWrite = 4,
  kCreate = 5,
  kDelete = 6,
  kAlter = 7,
  kDescribe = 8,
};

enum class AclPermission : int8_t {
  kAny = 1,  // filters only
  kDeny = 2,
  kAllow = 3,
};

// The cluster resource's only name.
inline constexpr std::string_view kClusterResourceName = "cluster";
// A binding's principal "*" applies to every principal; a literal resource
// name "*" to every resource of its type.
inline constexpr std::string_view kWildcard = "*";

std::string_view acl_name(AclResourceType type);
std::string_view acl_name(AclPatternType type);
std::string_view acl_name(AclOperation operation);
std::string_view acl_name(AclPermission permission);
// The lower-case names above ("topic", "prefixed", "read", "allow", ...).
std::optional<AclResourceType> parse_acl_resource_type(std::string_view name);
std::optional<AclPatternType> parse_acl_pattern_type(std::string_view name);
std::optional<AclOperation> parse_acl_operation(std::string_view name);
std::optional<AclPermission> parse_acl_permission(std::string_view name);

// Allow or deny `principal` `operation` on a resource (or every resource
// whose name starts with `resource_name`, for kPrefixed).
struct AclBinding {
  AclResourceType resource_type = AclResourceType::kTopic;
  std::string resource_name;
  AclPatternType pattern_type = AclPatternType::kLiteral;
  std::string principal;
  AclOperation operation = AclOperation::kRead;
  AclPermission permission = AclPermission::kAllow;

  auto operator<=>(const AclBinding&) const = default;
  bool operator==(const AclBinding&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resource_type", m.resource_type);
    c("resource_name", m.resource_name);
    c("pattern_type", m.pattern_type);
    c("principal", m.principal);
    c("operation", m.operation);
    c("permission", m.permission);
  }
};

// "allow alice read topic orders (literal)", for logs, errors and mqctl.
std::string describe(const AclBinding& binding);
// INVALID_ACL naming what is wrong when the binding cannot be stored: a
// filter-only value, an unknown enum, an empty or overlong name, a principal
// that is not a principal name or "*", the cluster resource under another
// name or pattern, an operation its resource type has not (groups: read,
// delete, describe; the cluster: create, alter, describe; `all` anywhere).
Status validate(const AclBinding& binding);

struct AclFilter {
  AclResourceType resource_type = AclResourceType::kAny;
  std::optional<std::string> resource_name;
  AclPatternType pattern_type = AclPatternType::kAny;
  std::optional<std::string> principal;
  AclOperation operation = AclOperation::kAny;
  AclPermission permission = AclPermission::kAny;

  bool operator==(const AclFilter&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("resource_type", m.resource_type);
    c("resource_name", m.resource_name);
    c("pattern_type", m.pattern_type);
    c("principal", m.principal);
    c("operation", m.operation);
    c("permission", m.permission);
  }
};

// INVALID_ACL when an enum is out of range, or kMatch has no resource name.
Status validate(const AclFilter& filter);
// Whether the filter selects the binding. kLiteral/kPrefixed select bindings
// of that pattern type with that exact name; kMatch those that would apply to
// a resource of that name (literal same name, literal "*", prefixes of it).
bool matches(const AclFilter& filter, const AclBinding& binding);

// Whether the binding applies to `principal` doing `operation` on the
// resource: deny bindings of the operation or `all`; allow bindings also
// when the operation is describe and the binding grants read, write,
// delete or alter (which imply describe, as in Kafka).
bool applies(const AclBinding& binding, std::string_view principal, AclOperation operation,
             AclResourceType type, std::string_view name);

enum class AclDecision : int8_t { kAllowed, kDenied, kNoMatch };
// Deny beats allow: kDenied if any applying binding denies, else kAllowed if
// one allows, else kNoMatch (which the authorizer treats as denied).
AclDecision decide(std::span<const AclBinding> acls, std::string_view principal,
                   AclOperation operation, AclResourceType type, std::string_view name);

// DescribeAcls: the bindings a filter selects.
struct DescribeAclsResponse;

struct DescribeAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeAcls;
  using Response = DescribeAclsResponse;

  AclFilter filter;  // which bindings

  bool operator==(const DescribeAclsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("filter", m.filter);
  }
};

struct DescribeAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeAcls;

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::string error_message;                // why, when error_code is set
  std::vector<AclBinding> acls;             // the selected bindings, sorted

  bool operator==(const DescribeAclsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
    c("acls", m.acls);
  }
};

// CreateAcls: stores bindings (one already stored is a success).
struct CreateAclsResponse;

struct CreateAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kCreateAcls;
  using Response = CreateAclsResponse;

  std::vector<AclBinding> creations;  // bindings to store

  bool operator==(const CreateAclsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("creations", m.creations);
  }
};

struct AclResult {
  ErrorCode error_code = ErrorCode::kNone;  // this entry's error
  std::string error_message;                // why, when error_code is set

  bool operator==(const AclResult&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("error_message", m.error_message);
  }
};

struct CreateAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kCreateAcls;

  std::vector<AclResult> results;  // one per creation, in order

  bool operator==(const CreateAclsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

// DeleteAcls: removes every binding each filter selects.
struct DeleteAclsResponse;

struct DeleteAclsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteAcls;
  using Response = DeleteAclsResponse;

  std::vector<AclFilter> filters;  // what to remove

  bool operator==(const DeleteAclsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("filters", m.filters);
  }
};

struct DeleteAclsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteAcls;

  struct Result {
    ErrorCode error_code = ErrorCode::kNone;  // this filter's error
    std::string error_message;                // why, when error_code is set
    std::vector<AclBinding> deleted;          // the bindings it removed

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("error_code", m.error_code);
      c("error_message", m.error_message);
      c("deleted", m.deleted);
    }
  };

  std::vector<Result> results;  // one per filter, in order

  bool operator==(const DeleteAclsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

}  // namespace mq::transport
