// Controller calls: application bytes carried to the controller handler of
// whichever member leads, retried across leader changes, with deadlines.
#include <charconv>
#include <limits>

#include "quorum/service_impl.h"

namespace mq::quorum {

NodeId leader_in(const Status& status) {
  constexpr std::string_view kMarker = "(leader: ";
  const std::string& message = status.message();
  size_t at = message.rfind(kMarker);
  if (at == std::string::npos) return raft::kNoNode;
  std::string_view rest = std::string_view(message).substr(at + kMarker.size());
  NodeId id = raft::kNoNode;
  auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
  if (error != std::errc() || end == rest.data() + rest.size() || *end != ')' || id < 0) {
    return raft::kNoNode;
  }
  return id;
}

void QuorumService::Impl::start_call(CallCommand& command) {
  if (Clock::now() >= command.deadline) {
    command.slot->set(Status(ErrorCode::kRequestTimedOut, "controller call timed out"));
    return;
  }
  if (am_controller) {
    ++counters.calls_handled;
    std::shared_ptr<CallSlot> slot = command.slot;
    invoke_handler(config.id, std::move(command.request),
                   make_reply([slot](Result<Bytes> result) { slot->set(std::move(result)); }));
    return;
  }
  NodeId leader = node->leader();
  if (leader == raft::kNoNode || leader == config.id) {
    command.slot->set(not_controller(
        leader == config.id
            ? "node " + std::to_string(config.id) + " leads but has not applied its log yet"
            : "no quorum leader is known yet",
        leader));
    return;
  }
  auto dealer = dealers.find(leader);
  if (dealer == dealers.end()) {
    command.slot->set(not_controller("the leader is not a member", leader));
    return;
  }
  int32_t id = next_correlation_id;
  next_correlation_id =
      next_correlation_id == std::numeric_limits<int32_t>::max() ? 0 : next_correlation_id + 1;
  if (!send(dealer->second,
            encode_call_request(id, {.from = config.id, .request = std::move(command.request)}),
            nullptr)) {
    command.slot->set(Status(ErrorCode::kNetworkError, "cannot reach the leader, node " +
                                                           std::to_string(leader) + " now" +
                                                           leader_suffix(leader)));
    return;
  }
  ++counters.calls_sent;
  calls.emplace(id, OutboundCall{std::move(command.slot), leader, command.deadline});
}

void QuorumService::Impl::invoke_handler(NodeId from, Bytes request, ReplyFn reply) {
  if (!handler) {
    reply(Status(ErrorCode::kUnknown,
                 "node " + std::to_string(config.id) + " has no controller handler"));
    return;
  }
  handler(from, std::move(request), std::move(reply));
}

void QuorumService::Impl::send_reply(const std::string& routing_id, int32_t correlation_id,
                                     const Result<Bytes>& result) {
  ControllerCallResponse response;
  if (result) {
    response.response = result.value();
  } else {
    response.error_code = result.code();
    response.error_message = result.status().message();
    if (result.code() == ErrorCode::kNotController) response.leader_id = leader_in(result.status());
  }
  if (!send(*router, encode_call_response(correlation_id, response), &routing_id)) {
    spdlog::debug("quorum: node {}: the reply to call {} could not be sent (caller gone)",
                  config.id, correlation_id);
  }
}

void QuorumService::Impl::on_call(const std::string& routing_id, InboundCall call) {
  if (!is_member(call.request.from)) {
    reject("quorum endpoint",
           "ControllerCall from node " + std::to_string(call.request.from) + ", not a member");
    return;
  }
  if (!am_controller) {
    send_reply(routing_id, call.correlation_id,
               not_controller("node " + std::to_string(config.id) + " is not the controller",
                              node->leader()));
    return;
  }
  ++counters.calls_handled;
  std::shared_ptr<Mailbox> box = mailbox;
  int32_t correlation_id = call.correlation_id;
  invoke_handler(call.request.from, std::move(call.request.request),
                 make_reply([box, routing_id, correlation_id](Result<Bytes> result) {
                   Command command = ReplyCommand{routing_id, correlation_id, std::move(result)};
                   box->post(command);
                 }));
}

void QuorumService::Impl::receive_replies() {
  for (auto& [peer, dealer] : dealers) {
    for (int i = 0; i < kReceiveBatch; ++i) {
      // Header, and a body unless the header carries an error.
      auto polled = receive(dealer, 2);
      if (!polled) {
        reject("connection to node " + std::to_string(peer), polled.status().message());
        break;
      }
      if (!polled.value()) break;
      transport::ReceivedMessage* received = &*polled.value();
      if (!received->limit_error.is_ok()) {
        reject("connection to node " + std::to_string(peer), received->limit_error.message());
        continue;
      }
      Result<InboundReply> reply = decode_reply(received->frames);
      if (!reply) {
        reject("connection to node " + std::to_string(peer), reply.status().message());
        continue;
      }
      auto call = calls.find(reply->correlation_id);
      if (call == calls.end()) continue;  // timed out or failed over already
      ControllerCallResponse& response = reply->response;
      if (response.error_code == ErrorCode::kNone) {
        call->second.slot->set(std::move(response.response));
      } else {
        call->second.slot->set(
            Status(response.error_code,
                   response.error_message.value_or(std::string(error_name(response.error_code)))));
      }
      calls.erase(call);
    }
  }
}

void QuorumService::Impl::expire_calls(Clock::time_point now) {
  for (auto it = calls.begin(); it != calls.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    it->second.slot->set(Status(
        ErrorCode::kRequestTimedOut,
        "no reply from the controller, node " + std::to_string(it->second.target) + ", in time"));
    it = calls.erase(it);
  }
}

Result<Bytes> QuorumService::call_leader(Bytes request, std::chrono::milliseconds timeout) {
  if (std::this_thread::get_id() == impl_->thread_id.load()) {
    return Status(ErrorCode::kInvalidRequest,
                  "quorum: call_leader on the quorum thread would wait on itself");
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  // Between attempts at a leader that is not known or not ready yet.
  auto backoff = std::chrono::milliseconds(5);
  const auto max_backoff = std::chrono::milliseconds(impl_->config.tick_ms);
  while (true) {
    auto slot = std::make_shared<CallSlot>();
    Command command = CallCommand{request, slot, deadline};
    if (!impl_->mailbox->post(command)) {
      return not_controller("the quorum service is not running", raft::kNoNode);
    }
    // The quorum thread settles every call by its deadline; the margin only
    // covers one loop iteration.
    std::optional<Result<Bytes>> result =
        slot->wait_until(deadline + std::chrono::milliseconds(impl_->config.tick_ms + 100));
    if (!result) {
      return Status(ErrorCode::kRequestTimedOut, "controller call timed out");
    }
    const ErrorCode code = result->code();
    const bool retry = code == ErrorCode::kNotController || code == ErrorCode::kNetworkError;
    if (!retry || Clock::now() + backoff >= deadline) return std::move(*result);
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, max_backoff);
  }
}

}  // namespace mq::quorum
