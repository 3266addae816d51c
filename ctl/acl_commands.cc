// mqctl acl add|remove|list: the cluster's ACLs (CreateAcls, DeleteAcls,
// DescribeAcls; docs/security.md, "Authorization"), as kafka-acls has them:
//
//   mqctl acl add --allow alice --operation read --operation describe --topic orders
//   mqctl acl add --deny mallory --operation all --topic pay. --prefixed
//   mqctl acl remove --allow alice --topic orders          (every operation)
//   mqctl acl list --topic orders --match                  (what applies to it)
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/admin.h"
#include "ctl/commands.h"
#include "transport/acls.h"

namespace mq::ctl {
namespace {

using nlohmann::ordered_json;
using transport::AclBinding;
using transport::AclFilter;
using transport::AclOperation;
using transport::AclPatternType;
using transport::AclPermission;
using transport::AclResourceType;

struct AclFlags {
  std::vector<std::string> allow;       // principals
  std::vector<std::string> deny;        // principals
  std::vector<std::string> principals;  // remove/list: either permission
  std::vector<std::string> operations;
  std::optional<std::string> topic;
  std::optional<std::string> group;
  bool cluster = false;
  bool prefixed = false;
  bool match = false;  // list: the bindings that apply to the named resource
};

// The resource the flags name: type, name; kAny when none is named.
struct Resource {
  AclResourceType type = AclResourceType::kAny;
  std::string name;
};

Result<Resource> resource_of(const AclFlags& flags) {
  int named = (flags.topic ? 1 : 0) + (flags.group ? 1 : 0) + (flags.cluster ? 1 : 0);
  if (named > 1) {
    return Status(ErrorCode::kInvalidRequest, "name one resource: --topic, --group or --cluster");
  }
  if (flags.topic) return Resource{AclResourceType::kTopic, *flags.topic};
  if (flags.group) return Resource{AclResourceType::kGroup, *flags.group};
  if (flags.cluster) {
    return Resource{AclResourceType::kCluster, std::string(transport::kClusterResourceName)};
  }
  return Resource{};
}

Result<std::vector<AclOperation>> operations_of(const AclFlags& flags) {
  std::vector<AclOperation> ops;
  for (const std::string& text : flags.operations) {
    std::optional<AclOperation> op = transport::parse_acl_operation(text);
    if (!op || *op == AclOperation::kAny) {
      return Status(
          ErrorCode::kInvalidRequest,
          "--operation " + text + ": one of all, read, write, create, delete, alter, describe");
    }
    ops.push_back(*op);
  }
  return ops;
}

// (permission, principal) pairs of --allow and --deny, and of --principal
// with `any` (remove and list only).
std::vector<std::pair<AclPermission, std::string>> grantees(const AclFlags& flags) {
  std::vector<std::pair<AclPermission, std::string>> out;
  for (const std::string& p : flags.allow) out.emplace_back(AclPermission::kAllow, p);
  for (const std::string& p : flags.deny) out.emplace_back(AclPermission::kDeny, p);
  for (const std::string& p : flags.principals) out.emplace_back(AclPermission::kAny, p);
  return out;
}

ordered_json to_json(const AclBinding& b) {
  return {{"permission", transport::acl_name(b.permission)},
          {"principal", b.principal},
          {"operation", transport::acl_name(b.operation)},
          {"resource_type", transport::acl_name(b.resource_type)},
          {"resource_name", b.resource_name},
          {"pattern_type", transport::acl_name(b.pattern_type)}};
}

std::string render_table(const ordered_json& acls) {
  Table table({"PERMISSION", "PRINCIPAL", "OPERATION", "RESOURCE", "NAME", "PATTERN"});
  for (const ordered_json& a : acls) {
    table.add_row({cell(a["permission"]), cell(a["principal"]), cell(a["operation"]),
                   cell(a["resource_type"]), cell(a["resource_name"]), cell(a["pattern_type"])});
  }
  return table.render();
}

int add_acls(Context& ctx, const AclFlags& flags) {
  if (!flags.principals.empty()) {
    return ctx.usage("acl add: say --allow PRINCIPAL or --deny PRINCIPAL (not --principal)");
  }
  if (flags.allow.empty() && flags.deny.empty()) {
    return ctx.usage("acl add: give --allow PRINCIPAL or --deny PRINCIPAL (\"*\" for everyone)");
  }
  Result<Resource> resource = resource_of(flags);
  if (!resource.is_ok()) return ctx.usage("acl add: " + resource.status().message());
  if (resource->type == AclResourceType::kAny) {
    return ctx.usage("acl add: name the resource: --topic NAME, --group NAME or --cluster");
  }
  Result<std::vector<AclOperation>> ops = operations_of(flags);
  if (!ops.is_ok()) return ctx.usage("acl add: " + ops.status().message());
  if (ops->empty()) return ctx.usage("acl add: give at least one --operation");
  std::vector<AclBinding> bindings;
  for (const auto& [permission, principal] : grantees(flags)) {
    for (AclOperation op : *ops) {
      AclBinding b{
          .resource_type = resource->type,
          .resource_name = resource->name,
          .pattern_type = flags.prefixed ? AclPatternType::kPrefixed : AclPatternType::kLiteral,
          .principal = principal,
          .operation = op,
          .permission = permission};
      // Bad bindings are refused before anything is sent: all or nothing.
      if (Status valid = transport::validate(b); !valid.is_ok()) {
        return ctx.usage("acl add: " + transport::describe(b) + ": " + valid.message());
      }
      bindings.push_back(std::move(b));
    }
  }
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<std::vector<Status>> created = admin->create_acls(bindings);
  if (!created.is_ok()) return ctx.fail("cannot add the ACLs", created.status());
  ordered_json results = ordered_json::array();
  size_t failed = 0;
  for (size_t i = 0; i < bindings.size(); ++i) {
    ordered_json r = to_json(bindings[i]);
    const Status& s = (*created)[i];
    r["error"] = s.is_ok() ? ordered_json(nullptr) : ordered_json(s.to_string());
    if (!s.is_ok()) ++failed;
    results.push_back(std::move(r));
  }
  ctx.print(ordered_json{{"added", results}}, [&](const ordered_json& doc) {
    std::string text;
    for (size_t i = 0; i < bindings.size(); ++i) {
      const ordered_json& r = doc["added"][i];
      text += r["error"].is_null() ? "added: " + transport::describe(bindings[i]) + "\n"
                                   : "not added: " + transport::describe(bindings[i]) + ": " +
                                         r["error"].get<std::string>() + "\n";
    }
    return text;
  });
  if (failed == 0) return kExitOk;
  return failed == bindings.size() ? kExitFailed : kExitPartial;
}

// The filters of `acl remove`: one per grantee × operation (any when none).
Result<std::vector<AclFilter>> remove_filters(const AclFlags& flags) {
  MQ_ASSIGN_OR_RETURN(Resource resource, resource_of(flags));
  MQ_ASSIGN_OR_RETURN(std::vector<AclOperation> ops, operations_of(flags));
  auto who = grantees(flags);
  if (resource.type == AclResourceType::kAny && who.empty()) {
    return Status(ErrorCode::kInvalidRequest,
                  "name a resource (--topic, --group, --cluster), a principal (--allow, --deny, "
                  "--principal), or both: acl remove does not remove every ACL at once");
  }
  if (ops.empty()) ops.push_back(AclOperation::kAny);
  if (who.empty()) who.emplace_back(AclPermission::kAny, "");
  std::vector<AclFilter> filters;
  for (const auto& [permission, principal] : who) {
    for (AclOperation op : ops) {
      AclFilter f{.resource_type = resource.type,
                  .pattern_type = resource.type == AclResourceType::kAny ? AclPatternType::kAny
                                  : flags.prefixed                       ? AclPatternType::kPrefixed
                                                                         : AclPatternType::kLiteral,
                  .operation = op,
                  .permission = permission};
      if (resource.type != AclResourceType::kAny) f.resource_name = resource.name;
      if (!principal.empty()) f.principal = principal;
      filters.push_back(std::move(f));
    }
  }
  return filters;
}

int remove_acls(Context& ctx, const AclFlags& flags) {
  if (flags.match) return ctx.usage("acl remove: --match is for acl list");
  Result<std::vector<AclFilter>> filters = remove_filters(flags);
  if (!filters.is_ok()) return ctx.usage("acl remove: " + filters.status().message());
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  auto deleted = admin->delete_acls(*filters);
  if (!deleted.is_ok()) return ctx.fail("cannot remove the ACLs", deleted.status());
  ordered_json removed = ordered_json::array();
  for (const auto& result : *deleted) {
    if (!result.is_ok()) return ctx.fail("cannot remove the ACLs", result.status());
    for (const AclBinding& b : *result) removed.push_back(to_json(b));
  }
  if (removed.empty()) {
    ctx.error("no ACL matches what was named; nothing removed");
    return kExitNotFound;
  }
  ctx.print(ordered_json{{"removed", removed}}, [&](const ordered_json& doc) {
    return render_table(doc["removed"]) + std::to_string(doc["removed"].size()) + " removed\n";
  });
  return kExitOk;
}

int list_acls(Context& ctx, const AclFlags& flags) {
  if (!flags.allow.empty() || !flags.deny.empty() || flags.prefixed) {
    return ctx.usage(
        "acl list: filter with --principal, --operation and --topic/--group/--cluster (and "
        "--match)");
  }
  Result<Resource> resource = resource_of(flags);
  if (!resource.is_ok()) return ctx.usage("acl list: " + resource.status().message());
  if (flags.match && resource->type == AclResourceType::kAny) {
    return ctx.usage("acl list: --match needs --topic, --group or --cluster");
  }
  Result<std::vector<AclOperation>> ops = operations_of(flags);
  if (!ops.is_ok()) return ctx.usage("acl list: " + ops.status().message());
  if (ops->size() > 1 || flags.principals.size() > 1) {
    return ctx.usage("acl list: at most one --principal and one --operation");
  }
  AclFilter filter{.resource_type = resource->type,
                   .pattern_type = flags.match ? AclPatternType::kMatch : AclPatternType::kAny,
                   .operation = ops->empty() ? AclOperation::kAny : ops->front()};
  if (resource->type != AclResourceType::kAny) filter.resource_name = resource->name;
  if (!flags.principals.empty()) filter.principal = flags.principals.front();
  auto admin = ctx.open_admin();
  if (!admin) return kExitFailed;
  Result<std::vector<AclBinding>> acls = admin->describe_acls(filter);
  if (!acls.is_ok()) return ctx.fail("cannot list the ACLs", acls.status());
  ordered_json listed = ordered_json::array();
  for (const AclBinding& b : *acls) listed.push_back(to_json(b));
  ctx.print(ordered_json{{"acls", listed}}, [&](const ordered_json& doc) {
    if (doc["acls"].empty()) return std::string("no ACLs\n");
    return render_table(doc["acls"]);
  });
  return kExitOk;
}

void add_binding_flags(CLI::App* command, AclFlags& flags, bool principals) {
  command->add_option("--allow", flags.allow, "Allow this principal (\"*\": everyone); repeatable");
  command->add_option("--deny", flags.deny, "Deny this principal (\"*\": everyone); repeatable");
  if (principals) {
    command->add_option("--principal", flags.principals, "Either permission of this principal");
  }
  command->add_option("--operation", flags.operations,
                      "all, read, write, create, delete, alter or describe; repeatable");
  command->add_option("--topic", flags.topic, "A topic (\"*\": every topic)");
  command->add_option("--group", flags.group, "A consumer group (\"*\": every group)");
  command->add_flag("--cluster", flags.cluster, "The cluster (admin requests, topic creation)");
  command->add_flag("--prefixed", flags.prefixed,
                    "The --topic/--group name is a prefix: every resource whose name starts "
                    "with it");
}

}  // namespace

void add_acl_commands(CLI::App& root, Context& ctx, Action& action) {
  CLI::App* acl = root.add_subcommand(
      "acl", "Manage access control lists (with security.authorization on; docs/security.md)");
  acl->require_subcommand(1);

  auto add_flags = std::make_shared<AclFlags>();
  CLI::App* add_command = acl->add_subcommand(
      "add", "Allow or deny principals operations on a topic, group or the cluster");
  add_binding_flags(add_command, *add_flags, false);
  add_command->callback([&ctx, &action, add_flags] {
    action = [&ctx, add_flags] { return add_acls(ctx, *add_flags); };
  });

  auto remove_flags = std::make_shared<AclFlags>();
  CLI::App* remove_command = acl->add_subcommand(
      "remove", "Remove the ACLs matching a resource and/or principal (and operations, if given)");
  add_binding_flags(remove_command, *remove_flags, true);
  remove_command->callback([&ctx, &action, remove_flags] {
    action = [&ctx, remove_flags] { return remove_acls(ctx, *remove_flags); };
  });

  auto list_flags = std::make_shared<AclFlags>();
  CLI::App* list_command = acl->add_subcommand("list", "Print the ACLs, or those matching filters");
  add_binding_flags(list_command, *list_flags, true);
  list_command->add_flag("--match", list_flags->match,
                         "Every ACL that applies to the named resource (literal, \"*\" and "
                         "prefixes), not only those naming it exactly");
  list_command->callback([&ctx, &action, list_flags] {
    action = [&ctx, list_flags] { return list_acls(ctx, *list_flags); };
  });
}

}  // namespace mq::ctl
