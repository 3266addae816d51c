// Consumer group administration: ListGroups (47), DescribeGroups (48),
// DeleteGroups (49).
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   ListGroupsRequest v0
//     states_filter            array of string
//   ListGroupsResponse v0
//     error_code               int16 (error code)
//     groups                   array of
//       group_id               string
//       protocol_type          string
//       group_state            string
//   DescribeGroupsRequest v0
//     groups                   array of string
//   DescribeGroupsResponse v0
//     groups                   array of
//       error_code             int16 (error code)
//       group_id               string
//       group_state            string
//       protocol_type          string
//       protocol_data          string
//       members                array of
//         member_id            string
//         group_instance_id    nullable string
//         client_id            string
//         client_host          string
//         member_metadata      bytes
//         member_assignment    bytes
//   DeleteGroupsRequest v0
//     groups_names             array of string
//   DeleteGroupsResponse v0
//     results                  array of
//       group_id               string
//       error_code             int16 (error code)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// ListGroups: lists the groups a coordinator knows.
struct ListGroupsResponse;

struct ListGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kListGroups;
  using Response = ListGroupsResponse;

  std::vector<std::string>
      states_filter;  // group states to list (Empty, Stable, PreparingRebalance,
                      // CompletingRebalance, Dead), empty = all

  bool operator==(const ListGroupsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("states_filter", m.states_filter);
  }
};

struct ListGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kListGroups;

  struct Group {
    std::string group_id;       // group
    std::string protocol_type;  // "consumer", or empty for offsets-only groups
    std::string group_state;    // state name

    bool operator==(const Group&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("group_id", m.group_id);
      c("protocol_type", m.protocol_type);
      c("group_state", m.group_state);
    }
  };

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  std::vector<Group> groups;                // groups

  bool operator==(const ListGroupsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("groups", m.groups);
  }
};

// DescribeGroups: describes groups: state, assignor and members with their assignments.
struct DescribeGroupsResponse;

struct DescribeGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeGroups;
  using Response = DescribeGroupsResponse;

  std::vector<std::string> groups;  // group ids

  bool operator==(const DescribeGroupsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("groups", m.groups);
  }
};

struct DescribeGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDescribeGroups;

  struct Group {
    struct Member {
      std::string member_id;  // member
      std::optional<std::string>
          group_instance_id;    // static membership id, null for dynamic members
      std::string client_id;    // client id from the request header
      std::string client_host;  // client address
      Bytes member_metadata;    // subscription
      Bytes member_assignment;  // assignment

      bool operator==(const Member&) const = default;
      template <class Self, class Codec>
      static void fields(Self& m, Codec& c) {
        c("member_id", m.member_id);
        c("group_instance_id", m.group_instance_id);
        c("client_id", m.client_id);
        c("client_host", m.client_host);
        c("member_metadata", m.member_metadata);
        c("member_assignment", m.member_assignment);
      }
    };

    ErrorCode error_code = ErrorCode::kNone;  // per-group error
    std::string group_id;                     // group
    std::string group_state;                  // state name
    std::string protocol_type;                // protocol type
    std::string protocol_data;                // chosen assignor
    std::vector<Member> members;              // members

    bool operator==(const Group&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("error_code", m.error_code);
      c("group_id", m.group_id);
      c("group_state", m.group_state);
      c("protocol_type", m.protocol_type);
      c("protocol_data", m.protocol_data);
      c("members", m.members);
    }
  };

  std::vector<Group> groups;  // one per requested group

  bool operator==(const DescribeGroupsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("groups", m.groups);
  }
};

// DeleteGroups: deletes empty groups and their committed offsets.
struct DeleteGroupsResponse;

struct DeleteGroupsRequest {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteGroups;
  using Response = DeleteGroupsResponse;

  std::vector<std::string> groups_names;  // group ids

  bool operator==(const DeleteGroupsRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("groups_names", m.groups_names);
  }
};

struct DeleteGroupsResponse {
  static constexpr ApiKey kApiKey = ApiKey::kDeleteGroups;

  struct Result {
    std::string group_id;                     // group
    ErrorCode error_code = ErrorCode::kNone;  // e.g. NON_EMPTY_GROUP

    bool operator==(const Result&) const = default;
    template <class Self, class Codec>
    static void fields(Self& m, Codec& c) {
      c("group_id", m.group_id);
      c("error_code", m.error_code);
    }
  };

  std::vector<Result> results;  // one per requested group

  bool operator==(const DeleteGroupsResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("results", m.results);
  }
};

}  // namespace mq::transport
