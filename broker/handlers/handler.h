// What every request handler is given, and the helpers they answer with.
// One file per API in this folder holds its handler; handlers.h lists them
// and table.cc registers each with its api key and version range
// (RequestHandler looks the handler up there). A handler answers through
// `Call::reply` exactly once, maybe later (long polls, acks=all, joins).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "base/status.h"
#include "transport/acls.h"
#include "transport/message.h"

namespace mq::group {
class GroupCoordinator;
}

namespace mq::broker {

class Authorizer;
class BrokerMetrics;
class BrokerSettings;
class ClusterView;
class DelayedDelivery;
class DiskMonitor;
class Partition;
class QueueService;
class ReplicaManager;
class Scheduler;

struct BrokerIdentity {
  int32_t node_id = 1;
  std::string host;
  int32_t port = 0;
};

namespace handlers {

using Clock = std::chrono::steady_clock;
// Delivers the encoded response (empty frames: none is due, acks=0).
using Reply = std::function<void(transport::Frames)>;

// The broker's parts a handler may use. Set before the server reads its
// first request; handlers only read these pointers.
struct Context {
  ReplicaManager& replicas;
  Scheduler& scheduler;
  BrokerMetrics& metrics;
  BrokerIdentity identity;
  // Group requests are answered COORDINATOR_NOT_AVAILABLE without one.
  group::GroupCoordinator* coordinator = nullptr;
  // Produce is refused while it says the data directory is full.
  DiskMonitor* disk = nullptr;
  // Metadata, the admin requests and auto-creation. Required for them; an
  // in-process harness that only produces, fetches and replicates may
  // leave it unset.
  ClusterView* cluster = nullptr;
  // This broker's dynamic settings (AlterConfigs / DescribeConfigs on the
  // broker resource); unset in harnesses without a Broker: refused.
  BrokerSettings* settings = nullptr;
  // Cancels of delayed messages (CancelDelayed); refused without one.
  DelayedDelivery* delayed = nullptr;
  // Queue groups (ReceiveMessages, AckMessages); refused without one.
  QueueService* queue = nullptr;
  // Decides every request's access when security.authorization is on;
  // unset: every request is allowed.
  Authorizer* authorizer = nullptr;

  // The partition if this broker holds it. Else nullptr and `*error`:
  // NOT_LEADER when the metadata places it on another broker (the
  // client's metadata is stale), UNKNOWN_TOPIC_OR_PARTITION otherwise.
  // With `may_create` a missing topic is created first when the broker's
  // topics.auto_create allows it.
  std::shared_ptr<Partition> find_partition(const std::string& topic, int32_t index,
                                            bool may_create, ErrorCode* error);
  // The partition if this broker leads it in `current_leader_epoch` (-1: any),
  // for the requests only a leader answers. Else nullptr and `*error`: as
  // find_partition's (never creating), or Partition::check_leader's
  // (NOT_LEADER, LEADER_NOT_AVAILABLE, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH).
  std::shared_ptr<Partition> led_partition(const std::string& topic, int32_t index,
                                           int32_t current_leader_epoch, ErrorCode* error);
  // NONE when this broker coordinates `group_id` ("" for requests that span
  // groups), else NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS or
  // COORDINATOR_NOT_AVAILABLE.
  ErrorCode coordinator_error(const std::string& group_id) const;
};

// One request being answered.
struct Call {
  Context& ctx;
  transport::InboundRequest request;
  Reply reply;  // call exactly once
  Clock::time_point started;
};

// Whether the call's principal may do `operation` on the resource: always
// without an authorizer. A denial is counted and logged (Authorizer::allow).
bool authorized(const Call& call, transport::AclOperation operation,
                transport::AclResourceType type, std::string_view name);
// The same without counting or logging a denial: what a listing (Metadata,
// ListGroups) leaves out.
bool visible(const Call& call, transport::AclOperation operation, transport::AclResourceType type,
             std::string_view name);
// Whether a topic the call names may be created by it when missing
// (topics.auto_create): create on the cluster or on the topic; silent.
bool may_auto_create(const Call& call, std::string_view topic);
// Create on the cluster (silently) or on the topic: what creating a
// topic needs.
bool create_authorized(const Call& call, std::string_view topic);
// authorized() on a topic, a group, the cluster.
inline bool topic_authorized(const Call& call, transport::AclOperation op, std::string_view topic) {
  return authorized(call, op, transport::AclResourceType::kTopic, topic);
}
inline bool group_authorized(const Call& call, transport::AclOperation op, std::string_view group) {
  return authorized(call, op, transport::AclResourceType::kGroup, group);
}
inline bool cluster_authorized(const Call& call, transport::AclOperation op) {
  return authorized(call, op, transport::AclResourceType::kCluster,
                    transport::kClusterResourceName);
}

// authorized() asked once per topic of a per-partition request (its
// partitions are listed together, so the last answer is kept).
class TopicGate {
 public:
  TopicGate(const Call& call, transport::AclOperation operation)
      : call_(call), operation_(operation) {}
  bool allows(const std::string& topic) {
    if (!asked_ || topic != last_) {
      asked_ = true;
      last_ = topic;
      allowed_ = topic_authorized(call_, operation_, topic);
    }
    return allowed_;
  }

 private:
  const Call& call_;
  transport::AclOperation operation_;
  bool asked_ = false;
  std::string last_;
  bool allowed_ = false;
};

// The response's frames, or UNKNOWN_SERVER_ERROR if it cannot be encoded.
template <class Response>
transport::Frames encode(const transport::RequestHeader& header, const Response& response) {
  Result<transport::Frames> frames = transport::encode_response(response, header);
  if (frames.is_ok()) return std::move(frames).value();
  return transport::encode_error_response(header, ErrorCode::kUnknown, frames.status().message());
}

// Decodes the call's `Request`, or answers the decoding error and returns
// nullopt.
template <class Request>
std::optional<Request> decode_or_refuse(Call& call) {
  Result<Request> decoded = transport::decode_request<Request>(call.request);
  if (decoded.is_ok()) return std::move(decoded).value();
  call.reply(transport::encode_error_response(call.request.header, decoded.code(),
                                              decoded.status().message()));
  return std::nullopt;
}

// Answers the call with `response`, or with nothing when the client asked
// for none (acks=0).
template <class Response>
void answer(Call& call, const Response& response) {
  if (!call.request.header.expects_response()) return call.reply({});
  call.reply(encode(call.request.header, response));
}

// A result's error_code and error_message from `status`.
template <class Out>
void set_status(Out& out, const Status& status) {
  out.error_code = status.code();
  if (!status.is_ok()) out.error_message = status.message();
}

// Where a partition's answer sits in a per_partition response.
struct Slot {
  size_t topic = 0;
  size_t partition = 0;
};

// A per-topic, per-partition response in the request's order (Produce,
// Fetch, ListOffsets, OffsetForLeaderEpoch): `fill(topic_name,
// request_partition, response_partition[, slot])` answers each; the
// partition index is set already.
template <class Response, class Request, class Fill>
Response per_partition(const Request& request, Fill fill) {
  Response response;
  response.topics.reserve(request.topics.size());
  for (const auto& topic : request.topics) {
    auto& out_topic = response.topics.emplace_back();
    out_topic.name = topic.name;
    out_topic.partitions.reserve(topic.partitions.size());
    for (const auto& p : topic.partitions) {
      auto& out = out_topic.partitions.emplace_back();
      out.partition_index = p.partition_index;
      if constexpr (std::is_invocable_v<Fill&, const std::string&, decltype(p), decltype(out),
                                        Slot>) {
        fill(topic.name, p, out, Slot{response.topics.size() - 1, out_topic.partitions.size() - 1});
      } else {
        fill(topic.name, p, out);
      }
    }
  }
  return response;
}

// The common handler: decodes a `Request` and answers `fn(ctx, request)`
// (or `fn(call, ctx, request)`, for handlers that check access) at once.
template <class Request, class Fn>
void serve(Call& call, Fn fn) {
  std::optional<Request> request = decode_or_refuse<Request>(call);
  if (!request) return;
  if constexpr (std::is_invocable_v<Fn&, const Call&, Context&, const Request&>) {
    answer(call, fn(call, call.ctx, *request));
  } else {
    answer(call, fn(call.ctx, *request));
  }
}

}  // namespace handlers
}  // namespace mq::broker
