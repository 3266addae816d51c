// ClusterNode's answers about ACLs: DescribeAcls from this broker's image,
// CreateAcls and DeleteAcls through the active controller (docs/security.md,
// "Authorization"; docs/protocol.md has the messages).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/cluster_node.h"

namespace mq::broker {

std::shared_ptr<const metadata::MetadataImage> ClusterNode::image() const {
  return member_ != nullptr ? member_->image() : nullptr;
}

transport::DescribeAclsResponse ClusterNode::describe_acls(
    const transport::DescribeAclsRequest& request) {
  transport::DescribeAclsResponse response;
  if (Status valid = transport::validate(request.filter); !valid.is_ok()) {
    response.error_code = valid.code();
    response.error_message = valid.message();
    return response;
  }
  std::shared_ptr<const metadata::MetadataImage> current = image();
  if (current == nullptr) return response;
  for (const transport::AclBinding& b : current->acls()) {
    if (transport::matches(request.filter, b)) response.acls.push_back(b);
  }
  return response;
}

transport::CreateAclsResponse ClusterNode::create_acls(
    const transport::CreateAclsRequest& request) {
  // Bad bindings are answered here; the valid ones go to the controller.
  transport::CreateAclsResponse response;
  transport::CreateAclsRequest valid;
  for (const transport::AclBinding& b : request.creations) {
    Status status = transport::validate(b);
    response.results.push_back({status.code(), status.is_ok() ? "" : status.message()});
    if (status.is_ok()) valid.creations.push_back(b);
  }
  if (valid.creations.empty()) return response;
  Result<transport::CreateAclsResponse> reply =
      member_->call<transport::CreateAclsResponse>(CallKind::kCreateAcls, valid, call_timeout());
  if (reply.is_ok() && reply->results.size() != valid.creations.size()) {
    reply = Status(ErrorCode::kUnknown, "the controller answered for a different number of ACLs");
  }
  if (reply.is_ok()) {
    // Answer once every live broker enforces them.
    Status reached = await_everywhere([&](const metadata::MetadataImage& image) {
      return std::ranges::all_of(valid.creations, [&](const transport::AclBinding& b) {
        return std::ranges::binary_search(image.acls(), b);
      });
    });
    if (!reached.is_ok()) reply = reached;
  }
  size_t next = 0;
  for (transport::AclResult& result : response.results) {
    if (result.error_code != ErrorCode::kNone) continue;
    if (!reply.is_ok()) {
      result = {reply.code(), reply.status().message()};
    } else {
      result = reply->results[next];
    }
    ++next;
  }
  return response;
}

transport::DeleteAclsResponse ClusterNode::delete_acls(
    const transport::DeleteAclsRequest& request) {
  transport::DeleteAclsResponse response;
  Result<transport::DeleteAclsResponse> reply =
      member_->call<transport::DeleteAclsResponse>(CallKind::kDeleteAcls, request, call_timeout());
  if (reply.is_ok() && reply->results.size() != request.filters.size()) {
    reply =
        Status(ErrorCode::kUnknown, "the controller answered for a different number of filters");
  }
  if (reply.is_ok()) {
    Status reached = await_everywhere([&](const metadata::MetadataImage& image) {
      for (const auto& result : reply->results) {
        for (const transport::AclBinding& b : result.deleted) {
          if (std::ranges::binary_search(image.acls(), b)) return false;
        }
      }
      return true;
    });
    if (!reached.is_ok()) reply = reached;
  }
  if (!reply.is_ok()) {
    for (size_t i = 0; i < request.filters.size(); ++i) {
      response.results.push_back({reply.code(), reply.status().message(), {}});
    }
    return response;
  }
  return std::move(reply).value();
}

}  // namespace mq::broker
