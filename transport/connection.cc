// The DEALER socket of a client and the matching of responses to requests.
#include "transport/connection.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>

#include "transport/server_key_choices.h"
#include "transport/zmq_frames.h"

namespace mq::transport {

struct Connection::Socket {
  std::shared_ptr<zmq::context_t> context;  // declared first: outlives the sockets
  zmq::socket_t socket;
  zmq::socket_t monitor;  // PAIR receiving the DEALER's connection events

  ~Socket() {
    if (socket.handle() != nullptr) zmq_socket_monitor(socket.handle(), nullptr, 0);
  }
};

namespace {

constexpr int kMonitoredEvents =
    ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_CONNECT_RETRIED |
    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

// Each monitor needs an inproc address of its own in the shared context.
std::string next_connection_monitor() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://mq-connection-monitor-" + std::to_string(counter.fetch_add(1));
}

}  // namespace

Result<std::unique_ptr<Connection>> Connection::connect(const std::string& endpoint,
                                                        const ConnectionOptions& options) {
  if (options.max_message_bytes <= 0 || options.max_frames_per_message < 1) {
    return Status(ErrorCode::kInvalidConfig,
                  "connection limits must allow at least one byte and one frame");
  }
  try {
    auto socket = std::make_unique<Socket>();
    socket->context = shared_zmq_context();
    socket->socket = zmq::socket_t(*socket->context, zmq::socket_type::dealer);
    zmq::socket_t& s = socket->socket;
    s.set(zmq::sockopt::linger, options.linger_ms);
    s.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
    s.set(zmq::sockopt::sndhwm, options.high_water_mark);
    s.set(zmq::sockopt::rcvhwm, options.high_water_mark);
    s.set(zmq::sockopt::sndtimeo, options.send_timeout_ms);
    s.set(zmq::sockopt::reconnect_ivl, options.reconnect_interval_ms);
    s.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_interval_max_ms);
    s.set(zmq::sockopt::connect_timeout, options.connect_timeout_ms);
    // With two server keys, the one that last worked with this endpoint.
    bool other =
        !options.curve.other_server_key.empty() &&
        ServerKeyChoices::process().use_other(ServerKeyChoices::key(endpoint, options.curve));
    MQ_RETURN_IF_ERROR(
        apply_curve_client(s.handle(), other ? options.curve.swapped() : options.curve));
    if (options.heartbeat_interval_ms > 0) {
      s.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
      s.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
      s.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_ttl_ms);
    }
    // The monitor is attached before connect() so no event is missed.
    std::string monitor_address = next_connection_monitor();
    if (zmq_socket_monitor(s.handle(), monitor_address.c_str(), kMonitoredEvents) != 0) {
      return Status(ErrorCode::kNetworkError,
                    std::string("socket monitor: ") + zmq_strerror(zmq_errno()));
    }
    socket->monitor = zmq::socket_t(*socket->context, zmq::socket_type::pair);
    socket->monitor.set(zmq::sockopt::linger, 0);
    socket->monitor.connect(monitor_address);
    s.connect(endpoint);
    auto connection =
        std::unique_ptr<Connection>(new Connection(std::move(socket), endpoint, options));
    connection->other_server_key_ = other;
    return connection;
  } catch (const zmq::error_t& error) {
    return status_from(error, "connect " + endpoint);
  }
}

Connection::Connection(std::unique_ptr<Socket> socket, std::string endpoint,
                       const ConnectionOptions& options)
    : socket_(std::move(socket)), endpoint_(std::move(endpoint)), options_(options) {}

Connection::~Connection() = default;

std::string Connection::note_dropped_handshake() {
  if (options_.curve.other_server_key.empty()) return "";
  const bool switched = ServerKeyChoices::process().handshake_dropped(
      ServerKeyChoices::key(endpoint_, options_.curve), other_server_key_);
  return switched ? "; with two server keys, the next connection to it uses the other one" : "";
}

std::array<void*, 2> Connection::poll_handles() const {
  return {socket_->socket.handle(), socket_->monitor.handle()};
}

const Status& Connection::poll_events() {
  while (broken_.is_ok()) {
    zmq::message_t event;
    zmq::recv_result_t got;
    try {
      got = socket_->monitor.recv(event, zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& error) {
      broken_ = status_from(error, "connection monitor of " + endpoint_);
      break;
    }
    if (!got) break;
    // Frame 1: uint16 event, uint32 value (native order); frame 2: the address.
    uint16_t id = 0;
    uint32_t value = 0;
    if (event.size() >= sizeof(id)) std::memcpy(&id, event.data(), sizeof(id));
    if (event.size() >= sizeof(id) + sizeof(value)) {
      std::memcpy(&value, static_cast<const char*>(event.data()) + sizeof(id), sizeof(value));
    }
    while (event.more()) {
      zmq::message_t rest;
      if (!socket_->monitor.recv(rest, zmq::recv_flags::dontwait)) break;
      event = std::move(rest);
    }
    if (id == ZMQ_EVENT_CONNECTED) {
      ever_connected_ = true;
    } else if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      ever_handshaken_ = true;
      if (!options_.curve.other_server_key.empty()) {
        ServerKeyChoices::process().handshake_succeeded(
            ServerKeyChoices::key(endpoint_, options_.curve), other_server_key_);
      }
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
               value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH) {
      // One side uses CURVE, the other not: no retry cures that.
      broken_ = Status(ErrorCode::kAuthenticationFailed,
                       "the handshake with " + endpoint_ + " failed: " +
                           (options_.curve.enabled()
                                ? "the broker does not use CURVE (this client has a server key)"
                                : "the broker requires CURVE: give its public key "
                                  "(--server-key, curve.server_key)"));
    } else if ((id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
                value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC) ||
               id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      // The broker's answer failed its checks, or it refused this client.
      broken_ = Status(
          ErrorCode::kAuthenticationFailed,
          "the handshake with " + endpoint_ + " failed: " +
              (id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                   ? "the broker refused this client's key (status " + std::to_string(value) +
                         "): is its public key in the broker's principals file?"
                   : "the broker's answer does not come from the server key "
                     "given (--server-key, curve.server_key)"));
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
      char code[16];
      std::snprintf(code, sizeof code, "0x%08x", value);
      broken_ = Status(ErrorCode::kNetworkError,
                       "the handshake with " + endpoint_ + " failed: ZMTP protocol error " + code);
    } else if (id == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
               (id == ZMQ_EVENT_DISCONNECTED && ever_connected_ && !ever_handshaken_)) {
      // Dropped before the handshake completed: a broker restarting or
      // refusing connections looks the same as a server key that does not
      // match (the broker drops those silently), so this stays retriable.
      broken_ = Status(ErrorCode::kNetworkError,
                       "connection to " + endpoint_ + " closed during the handshake" +
                           (options_.curve.enabled()
                                ? " (is the server key the broker's public key, and does the "
                                  "broker use CURVE?"
                                : " (does the broker require CURVE? then give its public key: "
                                  "--server-key, curve.server_key") +
                           note_dropped_handshake() + ")");
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      broken_ = Status(ErrorCode::kNetworkError, "connection to " + endpoint_ + " lost");
    } else if (id == ZMQ_EVENT_CONNECT_RETRIED && !ever_connected_) {
      broken_ = Status(ErrorCode::kNetworkError,
                       "cannot connect to " + endpoint_ + " (refused or unreachable)");
    }
  }
  return broken_;
}

Result<int32_t> Connection::send_frames(ApiKey api_key, Frames frames, bool expect_response) {
  if (!broken_.is_ok()) return broken_;
  int32_t correlation_id = next_correlation_id_;
  MQ_RETURN_IF_ERROR(send_message(socket_->socket, frames, /*dont_wait=*/false));
  // Correlation ids stay non-negative: -1 marks "unknown" in error responses.
  next_correlation_id_ =
      correlation_id == std::numeric_limits<int32_t>::max() ? 0 : correlation_id + 1;
  if (expect_response) pending_[correlation_id] = api_key;
  return correlation_id;
}

Result<bool> Connection::receive_one(int timeout_ms) {
  const ReceiveLimits limits{.max_message_bytes = static_cast<size_t>(options_.max_message_bytes),
                             .max_frames = options_.max_frames_per_message};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::optional<ReceivedMessage> received;
  while (true) {
    // Answers that arrived before the connection broke are still delivered.
    MQ_ASSIGN_OR_RETURN(received, receive_message(socket_->socket, 0, limits));
    if (received) break;
    MQ_RETURN_IF_ERROR(poll_events());
    int left = timeout_ms < 0 ? -1
                              : static_cast<int>(std::max<int64_t>(
                                    0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                           deadline - std::chrono::steady_clock::now())
                                           .count()));
    if (left == 0) return false;
    zmq_pollitem_t items[2] = {{socket_->socket.handle(), 0, ZMQ_POLLIN, 0},
                               {socket_->monitor.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, left) < 0 && zmq_errno() != EINTR) {
      return Status(ErrorCode::kNetworkError,
                    std::string("zmq_poll failed: ") + zmq_strerror(zmq_errno()));
    }
  }
  if (!received->limit_error.is_ok()) {
    // The header (kept) says which request it answered; fail that request.
    Result<ResponseHeader> header = received->frames.empty()
                                        ? Result<ResponseHeader>(received->limit_error)
                                        : decode_response_header(received->frames[0].bytes());
    if (!header.is_ok()) return received->limit_error;
    header->error_code = received->limit_error.code();
    header->error_message = received->limit_error.message();
    received->frames = {encode_response_header(*header).value()};
  }
  MQ_ASSIGN_OR_RETURN(InboundResponse response, parse_response(received->frames));
  const ResponseHeader& header = response.header;
  if (header.correlation_id == kUnknownCorrelationId) {
    // The broker could not read a request header of ours: a bug on one side.
    return Status(header.error_code,
                  "broker rejected an unreadable request: " + header.error_message.value_or(""));
  }
  auto pending = pending_.find(header.correlation_id);
  if (pending == pending_.end()) {
    ++stale_responses_;
    return true;
  }
  if (pending->second != header.api_key && header.error_code == ErrorCode::kNone) {
    response = InboundResponse{.header = header};
    response.header.error_code = ErrorCode::kCorruptMessage;
    response.header.error_message = "response to a " + std::string(api_name(pending->second)) +
                                    " request has api key " +
                                    std::to_string(static_cast<int16_t>(header.api_key));
  }
  pending_.erase(pending);
  ready_.push_back(std::move(response));
  return true;
}

namespace {

// Milliseconds left until `deadline`, for a timeout of -1 (forever) or more.
int remaining_ms(int timeout_ms, std::chrono::steady_clock::time_point deadline) {
  if (timeout_ms < 0) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

}  // namespace

Result<InboundResponse> Connection::receive(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (ready_.empty()) {
    if (pending_.empty()) {
      return Status(ErrorCode::kInvalidRequest, "no request is waiting for a response");
    }
    MQ_ASSIGN_OR_RETURN(bool received, receive_one(remaining_ms(timeout_ms, deadline)));
    if (!received) {
      return Status(ErrorCode::kRequestTimedOut, "no response from " + endpoint_ + " within " +
                                                     std::to_string(timeout_ms) + " ms");
    }
  }
  InboundResponse response = std::move(ready_.front());
  ready_.pop_front();
  return response;
}

Result<InboundResponse> Connection::receive_for(int32_t correlation_id, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto it = std::ranges::find(ready_, correlation_id,
                                [](const InboundResponse& r) { return r.header.correlation_id; });
    if (it != ready_.end()) {
      InboundResponse response = std::move(*it);
      ready_.erase(it);
      return response;
    }
    if (!pending_.contains(correlation_id)) {
      return Status(ErrorCode::kInvalidRequest, "correlation id " + std::to_string(correlation_id) +
                                                    " is not waiting for a response");
    }
    MQ_ASSIGN_OR_RETURN(bool received, receive_one(remaining_ms(timeout_ms, deadline)));
    if (!received) {
      return Status(ErrorCode::kRequestTimedOut,
                    "no response to correlation id " + std::to_string(correlation_id) + " from " +
                        endpoint_ + " within " + std::to_string(timeout_ms) + " ms");
    }
  }
}

Result<ApiVersionsResponse> Connection::negotiate_versions(int timeout_ms) {
  ApiVersionsRequest request{.client_software_name = "mq", .client_software_version = "0.1.0"};
  // v0 of ApiVersions is the one version every broker is required to keep.
  MQ_ASSIGN_OR_RETURN(ApiVersionsResponse response, call(request, int16_t{0}, timeout_ms));
  if (response.error_code != ErrorCode::kNone) {
    return Status(response.error_code, "ApiVersions failed on " + endpoint_);
  }
  broker_versions_ = response;
  return response;
}

Result<int16_t> Connection::version_for(ApiKey key) const {
  if (!broker_versions_) {
    return Status(ErrorCode::kUnsupportedVersion,
                  "versions not negotiated with " + endpoint_ + "; call negotiate_versions first");
  }
  std::optional<int16_t> version = negotiate_version(*broker_versions_, key);
  if (!version) {
    return Status(ErrorCode::kUnsupportedVersion,
                  std::string(api_name(key)) + ": no version in common with " + endpoint_);
  }
  return *version;
}

void Connection::forget(int32_t correlation_id) {
  pending_.erase(correlation_id);
  std::erase_if(ready_, [correlation_id](const InboundResponse& r) {
    return r.header.correlation_id == correlation_id;
  });
}

}  // namespace mq::transport
