// The ACL model: which bindings are valid, what a filter selects, how a
// binding applies (literal, "*", prefixes, implied describe), deny beats
// allow, and the three messages' round trips.
#include "transport/acls.h"

#include <gtest/gtest.h>

#include "tests/transport/round_trip.h"

namespace mq::transport {
namespace {

using testing::expect_request_round_trip;
using testing::expect_response_round_trip;

AclBinding topic_acl(std::string principal, AclOperation op, std::string name,
                     AclPermission permission = AclPermission::kAllow,
                     AclPatternType pattern = AclPatternType::kLiteral) {
  return {.resource_type = AclResourceType::kTopic,
          .resource_name = std::move(name),
          .pattern_type = pattern,
          .principal = std::move(principal),
          .operation = op,
          .permission = permission};
}

TEST(AclsTest, ValidBindingsAndWhyOthersAreNot) {
  EXPECT_TRUE(validate(topic_acl("alice", AclOperation::kRead, "orders")).is_ok());
  EXPECT_TRUE(validate(topic_acl("*", AclOperation::kAll, "*")).is_ok());
  EXPECT_TRUE(validate(topic_acl("broker:2", AclOperation::kWrite, "pay.", AclPermission::kDeny,
                                 AclPatternType::kPrefixed))
                  .is_ok());
  AclBinding cluster{.resource_type = AclResourceType::kCluster,
                     .resource_name = "cluster",
                     .principal = "ops",
                     .operation = AclOperation::kAlter};
  EXPECT_TRUE(validate(cluster).is_ok());

  auto why = [](const AclBinding& b) {
    Status s = validate(b);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidAcl) << describe(b);
    return s.message();
  };
  EXPECT_NE(why(topic_acl("alice", AclOperation::kAny, "t")).find("operation"), std::string::npos);
  EXPECT_NE(why(topic_acl("", AclOperation::kRead, "t")).find("principal"), std::string::npos);
  EXPECT_NE(why(topic_acl("a b", AclOperation::kRead, "t")).find("principal"), std::string::npos);
  EXPECT_NE(why(topic_acl("alice", AclOperation::kRead, "")).find("resource name"),
            std::string::npos);
  EXPECT_NE(why(topic_acl("alice", AclOperation::kRead, std::string(256, 'x'))).find("255"),
            std::string::npos);
  EXPECT_NE(why(topic_acl("alice", AclOperation::kRead, "*", AclPermission::kAllow,
                          AclPatternType::kPrefixed))
                .find("literal"),
            std::string::npos);
  EXPECT_NE(
      why(topic_acl("alice", AclOperation::kRead, "t", AclPermission::kAny)).find("permission"),
      std::string::npos);
  EXPECT_NE(why(topic_acl("alice", AclOperation::kRead, "t", AclPermission::kAllow,
                          AclPatternType::kMatch))
                .find("pattern"),
            std::string::npos);
  AclBinding group{.resource_type = AclResourceType::kGroup,
                   .resource_name = "g",
                   .principal = "alice",
                   .operation = AclOperation::kWrite};
  EXPECT_NE(why(group).find("a group has no operation write"), std::string::npos);
  cluster.resource_name = "other";
  EXPECT_NE(why(cluster).find("\"cluster\""), std::string::npos);
  cluster.resource_name = "cluster";
  cluster.operation = AclOperation::kRead;
  EXPECT_NE(why(cluster).find("a cluster has no operation read"), std::string::npos);
  AclBinding unknown = topic_acl("alice", AclOperation::kRead, "t");
  unknown.resource_type = static_cast<AclResourceType>(9);
  EXPECT_NE(why(unknown).find("resource type 9"), std::string::npos);
  unknown = topic_acl("alice", static_cast<AclOperation>(42), "t");
  EXPECT_NE(why(unknown).find("operation 42"), std::string::npos);
}

TEST(AclsTest, NamesParseBack) {
  for (AclOperation op : {AclOperation::kAny, AclOperation::kAll, AclOperation::kRead,
                          AclOperation::kWrite, AclOperation::kCreate, AclOperation::kDelete,
                          AclOperation::kAlter, AclOperation::kDescribe}) {
    EXPECT_EQ(parse_acl_operation(acl_name(op)), op);
  }
  EXPECT_EQ(parse_acl_resource_type("group"), AclResourceType::kGroup);
  EXPECT_EQ(parse_acl_pattern_type("prefixed"), AclPatternType::kPrefixed);
  EXPECT_EQ(parse_acl_permission("deny"), AclPermission::kDeny);
  EXPECT_EQ(parse_acl_operation("Read"), std::nullopt);
  EXPECT_EQ(describe(topic_acl("alice", AclOperation::kRead, "pay.", AclPermission::kAllow,
                               AclPatternType::kPrefixed)),
            "allow alice read topic pay. (prefixed)");
}

TEST(AclsTest, BindingsApplyByNamePrefixWildcardAndImpliedDescribe) {
  AclBinding literal = topic_acl("alice", AclOperation::kRead, "orders");
  EXPECT_TRUE(applies(literal, "alice", AclOperation::kRead, AclResourceType::kTopic, "orders"));
  EXPECT_FALSE(applies(literal, "alice", AclOperation::kRead, AclResourceType::kTopic, "orders2"));
  EXPECT_FALSE(applies(literal, "bob", AclOperation::kRead, AclResourceType::kTopic, "orders"));
  EXPECT_FALSE(applies(literal, "alice", AclOperation::kWrite, AclResourceType::kTopic, "orders"));
  EXPECT_FALSE(applies(literal, "alice", AclOperation::kRead, AclResourceType::kGroup, "orders"));
  // read implies describe for allows, not for denies.
  EXPECT_TRUE(
      applies(literal, "alice", AclOperation::kDescribe, AclResourceType::kTopic, "orders"));
  AclBinding deny_read = literal;
  deny_read.permission = AclPermission::kDeny;
  EXPECT_FALSE(
      applies(deny_read, "alice", AclOperation::kDescribe, AclResourceType::kTopic, "orders"));
  // create does not imply describe.
  EXPECT_FALSE(applies(topic_acl("alice", AclOperation::kCreate, "orders"), "alice",
                       AclOperation::kDescribe, AclResourceType::kTopic, "orders"));
  AclBinding prefixed =
      topic_acl("*", AclOperation::kAll, "pay.", AclPermission::kAllow, AclPatternType::kPrefixed);
  EXPECT_TRUE(applies(prefixed, "bob", AclOperation::kDelete, AclResourceType::kTopic, "pay.eu"));
  EXPECT_TRUE(applies(prefixed, "bob", AclOperation::kDelete, AclResourceType::kTopic, "pay."));
  EXPECT_FALSE(applies(prefixed, "bob", AclOperation::kDelete, AclResourceType::kTopic, "pay"));
  AclBinding every = topic_acl("alice", AclOperation::kWrite, "*");
  EXPECT_TRUE(applies(every, "alice", AclOperation::kWrite, AclResourceType::kTopic, "anything"));
}

TEST(AclsTest, DenyBeatsAllowAndNothingMatchingIsNoMatch) {
  std::vector<AclBinding> acls = {
      topic_acl("*", AclOperation::kAll, "*"),
      topic_acl("mallory", AclOperation::kWrite, "pay.", AclPermission::kDeny,
                AclPatternType::kPrefixed),
  };
  EXPECT_EQ(decide(acls, "mallory", AclOperation::kRead, AclResourceType::kTopic, "pay.eu"),
            AclDecision::kAllowed);
  EXPECT_EQ(decide(acls, "mallory", AclOperation::kWrite, AclResourceType::kTopic, "pay.eu"),
            AclDecision::kDenied);
  EXPECT_EQ(decide(acls, "alice", AclOperation::kWrite, AclResourceType::kTopic, "pay.eu"),
            AclDecision::kAllowed);
  EXPECT_EQ(decide(acls, "alice", AclOperation::kRead, AclResourceType::kGroup, "g"),
            AclDecision::kNoMatch);
  EXPECT_EQ(decide({}, "alice", AclOperation::kRead, AclResourceType::kTopic, "t"),
            AclDecision::kNoMatch);
}

TEST(AclsTest, FiltersSelectByExactPatternOrByMatch) {
  AclBinding literal = topic_acl("alice", AclOperation::kRead, "pay.eu");
  AclBinding prefix = topic_acl("alice", AclOperation::kRead, "pay.", AclPermission::kAllow,
                                AclPatternType::kPrefixed);
  AclBinding wildcard = topic_acl("bob", AclOperation::kWrite, "*", AclPermission::kDeny);
  AclFilter any;
  EXPECT_TRUE(matches(any, literal) && matches(any, prefix) && matches(any, wildcard));
  AclFilter exact{.resource_type = AclResourceType::kTopic,
                  .resource_name = "pay.",
                  .pattern_type = AclPatternType::kPrefixed};
  EXPECT_TRUE(matches(exact, prefix));
  EXPECT_FALSE(matches(exact, literal));
  AclFilter match{.resource_type = AclResourceType::kTopic,
                  .resource_name = "pay.eu",
                  .pattern_type = AclPatternType::kMatch};
  EXPECT_TRUE(matches(match, literal) && matches(match, prefix) && matches(match, wildcard));
  AclFilter named{.resource_name = "pay.eu"};  // any pattern, exactly this name
  EXPECT_TRUE(matches(named, literal));
  EXPECT_FALSE(matches(named, prefix));
  AclFilter who{.principal = "bob", .permission = AclPermission::kDeny};
  EXPECT_TRUE(matches(who, wildcard));
  EXPECT_FALSE(matches(who, literal));
  AclFilter op{.operation = AclOperation::kWrite};
  EXPECT_FALSE(matches(op, literal));
  EXPECT_EQ(validate(AclFilter{.pattern_type = AclPatternType::kMatch}).code(),
            ErrorCode::kInvalidAcl);
  EXPECT_EQ(validate(AclFilter{.operation = static_cast<AclOperation>(0)}).code(),
            ErrorCode::kInvalidAcl);
  EXPECT_TRUE(validate(match).is_ok());
}

TEST(AclsTest, MessagesRoundTrip) {
  AclBinding b = topic_acl("alice", AclOperation::kRead, "orders");
  expect_request_round_trip(DescribeAclsRequest{
      .filter = {.resource_type = AclResourceType::kTopic, .principal = "alice"}});
  expect_response_round_trip(DescribeAclsResponse{.acls = {b}});
  expect_response_round_trip(
      DescribeAclsResponse{.error_code = ErrorCode::kInvalidAcl, .error_message = "bad"});
  expect_request_round_trip(CreateAclsRequest{.creations = {b, b}});
  expect_response_round_trip(
      CreateAclsResponse{.results = {{}, {ErrorCode::kInvalidAcl, "principal"}}});
  expect_request_round_trip(DeleteAclsRequest{.filters = {{}, {.resource_name = "orders"}}});
  expect_response_round_trip(DeleteAclsResponse{
      .results = {{.deleted = {b}}, {.error_code = ErrorCode::kInvalidAcl, .error_message = "x"}}});
}

}  // namespace
}  // namespace mq::transport
