// Controller decisions on ACLs: CreateAcls and DeleteAcls.
#include <algorithm>
#include <set>

#include "metadata/controller.h"

namespace mq::metadata {

Decision<std::vector<Status>> Controller::create_acls(
    const std::vector<transport::AclBinding>& bindings) const {
  Decision<std::vector<Status>> decision;
  std::set<transport::AclBinding> added;
  for (const transport::AclBinding& b : bindings) {
    Status valid = transport::validate(b);
    decision.response.push_back(valid);
    if (!valid.is_ok() || std::ranges::binary_search(image_->acls(), b) || added.contains(b)) {
      continue;
    }
    added.insert(b);
    decision.records.push_back(Acl{b});
  }
  return decision;
}

Decision<std::vector<Result<std::vector<transport::AclBinding>>>> Controller::delete_acls(
    const std::vector<transport::AclFilter>& filters) const {
  Decision<std::vector<Result<std::vector<transport::AclBinding>>>> decision;
  std::set<transport::AclBinding> removed;
  for (const transport::AclFilter& f : filters) {
    if (Status valid = transport::validate(f); !valid.is_ok()) {
      decision.response.emplace_back(valid);
      continue;
    }
    std::vector<transport::AclBinding> selected;
    for (const transport::AclBinding& b : image_->acls()) {
      if (!transport::matches(f, b)) continue;
      selected.push_back(b);
      if (removed.insert(b).second) decision.records.push_back(RemoveAcl{b});
    }
    decision.response.emplace_back(std::move(selected));
  }
  return decision;
}

}  // namespace mq::metadata
