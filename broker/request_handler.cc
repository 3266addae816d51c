// RequestHandler: the dispatch in front of the handlers.
#include "broker/request_handler.h"

#include "broker/authorizer.h"
#include "broker/broker_metrics.h"
#include "broker/cluster_view.h"
#include "broker/handlers/handlers.h"
#include "broker/scheduler.h"
#include "transport/header.h"

namespace mq::broker {

using namespace mq::transport;
using Clock = std::chrono::steady_clock;

struct RequestHandler::HeldRequest {
  const handlers::Handler* handler;  // not nullptr: only served apis are held
  InboundRequest request;
  Reply reply;
  Clock::time_point started;
};

void RequestHandler::handle(InboundRequest request, Reply reply) {
  auto started = Clock::now();
  ApiKey api = request.header.api_key;
  // Wraps `reply` to record the request's outcome in the metrics.
  Reply timed = [this, api, started, reply = std::move(reply)](Frames frames) {
    ErrorCode code = ErrorCode::kNone;
    if (!frames.empty()) {
      Result<ResponseHeader> header = decode_response_header(frames.front().bytes());
      if (header.is_ok()) code = header->error_code;
    }
    ctx_.metrics.observe_request(api_name(api), code,
                                 std::chrono::duration<double>(Clock::now() - started).count());
    reply(std::move(frames));
  };
  // A starting broker holds every request until its metadata has caught up
  // and the controller has unfenced it: until then its image may lack
  // topics or show an earlier incarnation's leaderships, and a topic created
  // through it could not be placed on it (a cluster of one would have no
  // live broker). Only ApiVersions and DescribeQuorum, which need no
  // metadata, are answered at once.
  const handlers::Handler* handler = handlers::find(api);
  if (refusing_.load(std::memory_order_relaxed)) {
    if (!request.header.expects_response()) return timed({});
    return timed(
        unavailable(request.header, handler,
                    "broker " + std::to_string(ctx_.identity.node_id) + " is shutting down"));
  }
  if (ctx_.cluster != nullptr && handler != nullptr && !handler->before_catch_up &&
      !ctx_.cluster->caught_up()) {
    return hold_until_caught_up(std::make_shared<HeldRequest>(
        HeldRequest{handler, std::move(request), std::move(timed), started}));
  }
  dispatch(handler, std::move(request), std::move(timed), started);
}

void RequestHandler::hold_until_caught_up(std::shared_ptr<HeldRequest> held) {
  if (ctx_.cluster->caught_up()) {
    return dispatch(held->handler, std::move(held->request), std::move(held->reply), held->started);
  }
  if (Clock::now() - held->started >= kCatchUpHold) {
    if (!held->request.header.expects_response()) return held->reply({});
    // Retriable: the client asks again, here or at another broker.
    return held->reply(unavailable(held->request.header, held->handler,
                                   "broker " + std::to_string(ctx_.identity.node_id) +
                                       " has not caught up with the cluster metadata since it "
                                       "started"));
  }
  ctx_.scheduler.run_at(Clock::now() + std::chrono::milliseconds(10),
                        [this, held] { hold_until_caught_up(held); });
}

Frames RequestHandler::unavailable(const RequestHeader& header, const handlers::Handler* handler,
                                   const std::string& why) {
  bool group = handler != nullptr && handler->group;
  return encode_error_response(
      header, group ? ErrorCode::kCoordinatorNotAvailable : ErrorCode::kLeaderNotAvailable, why);
}

void RequestHandler::dispatch(const handlers::Handler* handler, InboundRequest request, Reply reply,
                              Clock::time_point started) {
  const RequestHeader& header = request.header;
  if (handler == nullptr || !handler->versions.contains(header.api_version)) {
    if (!header.expects_response()) return reply({});
    return reply(encode_error_response(header, ErrorCode::kUnsupportedVersion,
                                       std::string(api_name(header.api_key)) + " v" +
                                           std::to_string(header.api_version) +
                                           " is not served by this broker version"));
  }
  if (handler->cluster_operation && ctx_.authorizer != nullptr &&
      !ctx_.authorizer->allow(request.principal, *handler->cluster_operation,
                              transport::AclResourceType::kCluster,
                              transport::kClusterResourceName)) {
    if (!header.expects_response()) return reply({});
    return reply(encode_error_response(
        header, ErrorCode::kClusterAuthorizationFailed,
        std::string(api_name(header.api_key)) + " needs " +
            std::string(transport::acl_name(*handler->cluster_operation)) +
            " on the cluster, which the ACLs do not grant " + request.principal));
  }
  handler->handle(handlers::Call{ctx_, std::move(request), std::move(reply), started});
}

}  // namespace mq::broker
