// Listener: the broker's end of the transport. Binds a ZeroMQ ROUTER socket,
// receives requests from many clients, screens them (header, api key,
// version, size limits) and sends the responses back to their senders.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "transport/curve.h"
#include "transport/message.h"
#include "transport/principals.h"

namespace mq::transport {

struct ListenerOptions {
  // ZeroMQ endpoint; "tcp://127.0.0.1:*" binds an ephemeral port, which
  // endpoint() then reports.
  std::string endpoint = "tcp://127.0.0.1:*";
  // Largest request accepted, all frames together. ZMQ_MAXMSGSIZE is set to
  // it too, so ZeroMQ drops a peer that sends a bigger single frame.
  int64_t max_message_bytes = 100 * 1024 * 1024;
  size_t max_frames_per_message = 100'000;
  int send_high_water_mark = 100'000;     // messages queued per peer
  int receive_high_water_mark = 100'000;  // messages queued per peer
  int linger_ms = 0;                      // on close, pending replies are dropped
  // Open connections allowed at once; 0 = no limit. A connection over the
  // limit is closed as soon as it is accepted (the client sees it drop and
  // retries later), as Kafka's max.connections does.
  int64_t max_connections = 0;
  // Encryption (docs/security.md): with a secret key every connection must
  // complete a CURVE handshake with it; plain-text peers are dropped then.
  CurveServer curve;
  // Authentication (needs `curve`): only keys the authenticator knows
  // complete a handshake (ZAP, transport/zap.h), and each request is checked
  // again, so a key removed since is answered AUTHENTICATION_FAILED.
  std::shared_ptr<const Authenticator> authenticator;
};

struct ListenerStats {
  uint64_t requests_received = 0;         // returned by receive()
  uint64_t requests_rejected = 0;         // answered here with an error instead
  uint64_t requests_unauthenticated = 0;  // of which: the key is no longer known
  uint64_t replies_sent = 0;
  uint64_t replies_failed = 0;  // peer gone or its send queue full
  int64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_refused = 0;  // closed at once: over max_connections
};

// Not thread-safe: one thread owns a Listener (ZeroMQ sockets are single-threaded).
class Listener {
 public:
  static Result<std::unique_ptr<Listener>> bind(const ListenerOptions& options);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // The bound endpoint with the actual port, e.g. "tcp://127.0.0.1:41234".
  const std::string& endpoint() const { return endpoint_; }

  // Waits up to `timeout_ms` (-1 = forever) for the next request the broker
  // must handle; nullopt on timeout. Requests it cannot serve (unreadable
  // header, unknown api key, unsupported version, over the size limits) are
  // answered here with INVALID_REQUEST, UNSUPPORTED_VERSION or
  // MESSAGE_TOO_LARGE and not returned, so the sender's connection stays usable.
  Result<std::optional<InboundRequest>> receive(int timeout_ms);

  // Sends `response` at the request's version. Does nothing for requests
  // that asked for no response (Produce with acks=0).
  template <class Response>
  Status reply(const InboundRequest& request, const Response& response) {
    if (!request.header.expects_response()) return Status::ok();
    Result<Frames> frames = encode_response(response, request.header);
    if (!frames.is_ok()) {
      // The broker built a response the format cannot carry: its bug, not the client's.
      return reply_error(request, Status(ErrorCode::kUnknown, "cannot encode the response: " +
                                                                  frames.status().message()));
    }
    return send_to(request.peer, std::move(frames).value());
  }

  // Sends a header-only response with a request-level error, e.g. when the
  // body failed to decode.
  Status reply_error(const InboundRequest& request, const Status& error);

  // Sends already-encoded response frames to the peer with routing id `peer`.
  // Never blocks: fails if the peer is gone or its queue is full.
  Status send_to(const std::string& peer, Frames frames);

  const ListenerStats& stats() const { return stats_; }

  // The ZeroMQ socket, for zmq_poll alongside the broker's other sockets.
  void* native_handle();

  // Connection events (accepted, disconnected) arrive on a second socket:
  // poll it for ZMQ_POLLIN and call process_connection_events(), which updates
  // the connection counts in stats() and enforces max_connections.
  void* connection_events_handle();
  void process_connection_events();
  void set_max_connections(int64_t max_connections) { options_.max_connections = max_connections; }

 private:
  struct Socket;
  Listener(std::unique_ptr<Socket> socket, std::string endpoint, const ListenerOptions& options);

  std::unique_ptr<Socket> socket_;
  std::string endpoint_;
  ListenerOptions options_;
  ListenerStats stats_;
};

}  // namespace mq::transport
