// The ROUTER socket of the broker and the screening of incoming requests.
#include "transport/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "transport/zap.h"
#include "transport/zmq_frames.h"

namespace mq::transport {

struct Listener::Socket {
  std::shared_ptr<zmq::context_t> context;  // declared first: outlives the sockets
  std::unique_ptr<ZapDomain> zap;           // before the sockets: closed after them
  zmq::socket_t socket;
  zmq::socket_t monitor;  // PAIR receiving the ROUTER's connection events
};

namespace {
// Each listener's monitor needs its own inproc address.
std::string next_listener_monitor() {
  static std::atomic<uint64_t> counter{0};
  return "inproc://mq-listener-monitor-" + std::to_string(counter.fetch_add(1));
}

// Whether `address` has the port of "tcp://host:port" `endpoint`.
bool same_port(const sockaddr_storage& address, const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos) return false;
  int port = std::atoi(endpoint.c_str() + colon + 1);
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port) == port;
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port) == port;
  }
  return false;
}
}  // namespace

Result<std::unique_ptr<Listener>> Listener::bind(const ListenerOptions& options) {
  if (options.max_message_bytes <= 0 || options.max_frames_per_message < 2) {
    return Status(ErrorCode::kInvalidConfig,
                  "listener limits must allow at least one byte and two frames");
  }
  if (options.authenticator && !options.curve.enabled()) {
    return Status(ErrorCode::kInvalidConfig, "authentication needs CURVE (a server secret key)");
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
    MQ_RETURN_IF_ERROR(apply_curve_server(s.handle(), options.curve));
    if (options.authenticator) {
      MQ_ASSIGN_OR_RETURN(socket->zap, ZapDomain::open(*socket->context, options.authenticator));
      s.set(zmq::sockopt::zap_domain, socket->zap->name());
    }
    s.bind(options.endpoint);
    std::string monitor_address = next_listener_monitor();
    if (zmq_socket_monitor(s.handle(), monitor_address.c_str(),
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    socket->monitor = zmq::socket_t(*socket->context, zmq::socket_type::pair);
    socket->monitor.set(zmq::sockopt::linger, 0);
    socket->monitor.connect(monitor_address);
    std::string endpoint = s.get(zmq::sockopt::last_endpoint);
    return std::unique_ptr<Listener>(new Listener(std::move(socket), std::move(endpoint), options));
  } catch (const zmq::error_t& error) {
    return status_from(error, "bind " + options.endpoint);
  }
}

Listener::Listener(std::unique_ptr<Socket> socket, std::string endpoint,
                   const ListenerOptions& options)
    : socket_(std::move(socket)), endpoint_(std::move(endpoint)), options_(options) {}

Listener::~Listener() {
  // Stop the monitor before its PAIR socket goes away.
  if (socket_) (void)zmq_socket_monitor(socket_->socket.handle(), nullptr, 0);
}

void* Listener::native_handle() {
  return socket_->socket.handle();
}

void* Listener::connection_events_handle() {
  return socket_->monitor.handle();
}

void Listener::process_connection_events() {
  // Each event is two frames: 2 bytes event id + 4 bytes value (the file
  // descriptor for ACCEPTED and DISCONNECTED), then the endpoint.
  std::vector<std::pair<uint16_t, int32_t>> events;
  while (true) {
    zmq::message_t event;
    zmq::recv_result_t got;
    try {
      got = socket_->monitor.recv(event, zmq::recv_flags::dontwait);
      while (got && socket_->monitor.get(zmq::sockopt::rcvmore)) {
        zmq::message_t rest;
        (void)socket_->monitor.recv(rest, zmq::recv_flags::dontwait);
      }
    } catch (const zmq::error_t&) {
      break;
    }
    if (!got) break;
    if (event.size() < 6) continue;
    uint16_t id;
    int32_t fd;
    std::memcpy(&id, event.data(), sizeof(id));
    std::memcpy(&fd, static_cast<const char*>(event.data()) + 2, sizeof(fd));
    events.emplace_back(id, fd);
  }
  for (size_t i = 0; i < events.size(); i++) {
    auto [id, fd] = events[i];
    if (id == ZMQ_EVENT_DISCONNECTED) {
      if (stats_.connections_open > 0) --stats_.connections_open;
      continue;
    }
    if (id != ZMQ_EVENT_ACCEPTED) continue;
    ++stats_.connections_accepted;
    ++stats_.connections_open;
    if (options_.max_connections <= 0 || stats_.connections_open <= options_.max_connections) {
      continue;
    }
    // ZeroMQ cannot refuse a connection. Shutting the socket down makes its
    // I/O thread see the peer gone, drop the session and report DISCONNECTED,
    // which brings the count back down. The descriptor is only touched while
    // it is still this listener's connection: not already reported closed,
    // and still a socket on this listener's local address.
    bool closed_since = false;
    for (size_t j = i + 1; j < events.size(); j++) {
      closed_since |= events[j].first == ZMQ_EVENT_DISCONNECTED && events[j].second == fd;
    }
    sockaddr_storage local{};
    socklen_t length = sizeof(local);
    if (closed_since || ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) != 0 ||
        !same_port(local, endpoint_)) {
      continue;
    }
    ++stats_.connections_refused;
    ::shutdown(fd, SHUT_RDWR);
  }
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

    std::optional<std::string> principal;
    if (options_.authenticator) {
      // The key the connection authenticated with (ZAP's User-Id), checked
      // against the principals in force now.
      principal = options_.authenticator->principal_of(received->user_id);
      if (!principal) ++stats_.requests_unauthenticated;
    }
    Result<InboundRequest> request =
        !received->limit_error.is_ok() ? Result<InboundRequest>(received->limit_error)
        : options_.authenticator && !principal
            ? Result<InboundRequest>(Status(ErrorCode::kAuthenticationFailed,
                                            "this connection's key is no longer accepted"))
            : parse_request(message);
    if (request.is_ok()) {
      if (principal) request->principal = std::move(*principal);
      request->peer = std::move(peer);
      request->peer_address = std::move(received->peer_address);
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
