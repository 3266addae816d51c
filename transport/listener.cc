// The ROUTER socket of the broker and the screening of incoming requests.
#include "transport/listener.h"

#include <chrono>

#include "transport/zmq_frames.h"

namespace mq::transport {

struct Listener::Socket {
  std::shared_ptr<zmq::context_t> context;  // declared first: outlives the socket
  zmq::socket_t socket;
};

Result<std::unique_ptr<Listener>> Listener::bind(const ListenerOptions& options) {
  if (options.max_message_bytes <= 0 || options.max_frames_per_message < 2) {
    return Status(ErrorCode::kInvalidConfig,
                  "listener limits must allow at least one byte and two frames");
  }
  try {
    auto socket = std::make_unique<Socket>();
    socket->context = shared_zmq_context();
    socket->socket = zmq::socket_t(*socket->context, zmq::socket_type::router);
    zmq::socket_t& s = socket->socket;
    s.set(zmq::sockopt::linger, options.linger_ms);
    s.set(zmq::sockopt::maxmsgsize, options.max_message_bytes);
    s.set(zmq::sockopt::sndhwm, options.send_high_water_mark);
    s.set(zmq::sockopt::rcvhwm, options.receive_high_water_mark);
    // Replies to a vanished peer fail instead of vanishing silently.
    s.set(zmq::sockopt::router_mandatory, 1);
    s.bind(options.endpoint);
    std::string endpoint = s.get(zmq::sockopt::last_endpoint);
    return std::unique_ptr<Listener>(new Listener(std::move(socket), std::move(endpoint), options));
  } catch (const zmq::error_t& error) {
    return status_from(error, "bind " + options.endpoint);
  }
}

Listener::Listener(std::unique_ptr<Socket> socket, std::string endpoint,
                   const ListenerOptions& options)
    : socket_(std::move(socket)), endpoint_(std::move(endpoint)), options_(options) {}

Listener::~Listener() = default;

void* Listener::native_handle() {
  return socket_->socket.handle();
}

Result<std::optional<InboundRequest>> Listener::receive(int timeout_ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  const ReceiveLimits limits{
      // The routing id frame ZeroMQ prepends is not part of the request.
      .max_message_bytes = static_cast<size_t>(options_.max_message_bytes) + 256,
      .max_frames = options_.max_frames_per_message + 1};
  while (true) {
    int wait_ms = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    MQ_ASSIGN_OR_RETURN(std::optional<ReceivedMessage> received,
                        receive_message(socket_->socket, wait_ms, limits));
    if (!received) return std::optional<InboundRequest>();
    Frames& frames = received->frames;
    // A ROUTER always prepends the routing id; anything else is not a peer message.
    if (frames.empty()) continue;
    std::string peer(frames[0].as_string_view());
    std::span<const Frame> message = std::span<const Frame>(frames).subspan(1);

    Result<InboundRequest> request = received->limit_error.is_ok()
                                         ? parse_request(message)
                                         : Result<InboundRequest>(received->limit_error);
    if (request.is_ok()) {
      request->peer = std::move(peer);
      ++stats_.requests_received;
      return std::optional<InboundRequest>(std::move(request).value());
    }
    ++stats_.requests_rejected;
    Frames reply = error_response_for(message, request.status());
    // A failed error reply means the peer left; the next request matters more.
    if (!reply.empty()) (void)send_to(peer, std::move(reply));
    if (timeout_ms >= 0 && Clock::now() >= deadline) return std::optional<InboundRequest>();
  }
}

Status Listener::reply_error(const InboundRequest& request, const Status& error) {
  if (!request.header.expects_response()) return Status::ok();
  return send_to(request.peer,
                 encode_error_response(request.header, error.code(), error.message()));
}

Status Listener::send_to(const std::string& peer, Frames frames) {
  frames.insert(frames.begin(), Frame::copy_of(std::string_view(peer)));
  Status status = send_message(socket_->socket, frames, /*dont_wait=*/true);
  if (status.is_ok()) {
    ++stats_.replies_sent;
  } else {
    ++stats_.replies_failed;
  }
  return status;
}

}  // namespace mq::transport
