// Connection: the client's end of the transport. A ZeroMQ DEALER socket to
// one broker with many requests in flight, matched to their responses by
// correlation id, and the api versions negotiated with that broker.
//
// ZeroMQ reconnects silently and tells a DEALER nothing of a lost peer, so a
// request sent to a broker that died would wait out its whole timeout. A
// socket monitor watches the connection instead: once the TCP connection
// closes (ZMQ_EVENT_DISCONNECTED, also raised by a heartbeat timeout), or a
// first connect is refused (ZMQ_EVENT_CONNECT_RETRIED before any
// ZMQ_EVENT_CONNECTED), the connection is broken for good: every request in
// flight and every later call fails at once with NETWORK_ERROR, which callers
// treat as retriable, and the owner opens a new Connection.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "transport/api_versions.h"
#include "transport/curve.h"
#include "transport/message.h"

namespace mq::transport {

struct ConnectionOptions {
  std::string client_id = "mq-client";  // sent in every request header
  // Largest response accepted, all frames together; also ZMQ_MAXMSGSIZE.
  int64_t max_message_bytes = 100 * 1024 * 1024;
  size_t max_frames_per_message = 100'000;
  // How long send() waits when the send queue is full (high-water mark) or
  // the broker is not connected yet.
  int send_timeout_ms = 30'000;
  int high_water_mark = 100'000;  // messages queued each way
  int linger_ms = 0;              // on close, unsent requests are dropped
  int reconnect_interval_ms = 100;
  int reconnect_interval_max_ms = 5'000;
  // Liveness. ZMTP heartbeats (ZMQ_HEARTBEAT_IVL/_TIMEOUT/_TTL): a PING every
  // interval; no traffic for the timeout closes the connection. A broker that
  // dies, stops or is cut off is noticed within heartbeat_timeout_ms; a closed
  // TCP connection (a killed process) at once. 0 turns heartbeats off.
  int heartbeat_interval_ms = 1'000;
  int heartbeat_timeout_ms = 5'000;
  // Asks the broker to drop this connection after this long without traffic.
  int heartbeat_ttl_ms = 10'000;
  // How long the TCP connect itself may take (ZMQ_CONNECT_TIMEOUT).
  int connect_timeout_ms = 10'000;
  // Encryption (docs/security.md); empty server_key: plain text. A
  // handshake that fails breaks the connection with AUTHENTICATION_FAILED.
  CurveClient curve;
};

// Not thread-safe: one thread owns a Connection.
class Connection {
 public:
  // Connects lazily, as ZeroMQ does: requests queue until the broker is up.
  static Result<std::unique_ptr<Connection>> connect(const std::string& endpoint,
                                                     const ConnectionOptions& options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // Why the connection is unusable (peer gone, connect refused), or ok.
  // Updated by receive calls and poll_events().
  const Status& broken() const { return broken_; }
  // The two ZeroMQ sockets to wait on with zmq_poll (ZMQ_POLLIN): the DEALER
  // and its monitor. After either is readable, receive(0) returns what came.
  std::array<void*, 2> poll_handles() const;
  // Reads the monitor's pending events without waiting; returns broken().
  const Status& poll_events();

  // Sends `request` at `version` and returns its correlation id. With
  // `expect_response` false (Produce acks=0) the header asks for no
  // response and nothing is tracked.
  template <class Request>
  Result<int32_t> send(const Request& request, int16_t version, bool expect_response = true) {
    RequestHeader header{.api_version = version,
                         .correlation_id = next_correlation_id_,
                         .flags = expect_response ? uint16_t{0} : uint16_t{kNoResponse},
                         .client_id = options_.client_id};
    MQ_ASSIGN_OR_RETURN(Frames frames, encode_request(request, header));
    return send_frames(Request::kApiKey, std::move(frames), expect_response);
  }

  // The next response to any request in flight, in arrival order.
  Result<InboundResponse> receive(int timeout_ms);
  // The response to `correlation_id`; responses to other requests that
  // arrive first are kept for later receive calls.
  Result<InboundResponse> receive_for(int32_t correlation_id, int timeout_ms);

  // send + receive_for + decode. A request-level error (e.g.
  // UNSUPPORTED_VERSION) comes back as the Status.
  template <class Request>
  Result<typename Request::Response> call(const Request& request, int16_t version, int timeout_ms) {
    MQ_ASSIGN_OR_RETURN(int32_t correlation_id, send(request, version));
    MQ_ASSIGN_OR_RETURN(InboundResponse response, receive_for(correlation_id, timeout_ms));
    return decode_response<typename Request::Response>(response);
  }
  // call() at the negotiated version.
  template <class Request>
  Result<typename Request::Response> call(const Request& request, int timeout_ms) {
    MQ_ASSIGN_OR_RETURN(int16_t version, version_for(Request::kApiKey));
    return call(request, version, timeout_ms);
  }

  // Sends ApiVersions v0 and remembers the broker's answer for version_for().
  Result<ApiVersionsResponse> negotiate_versions(int timeout_ms);
  // The highest version of `key` both sides speak; kUnsupportedVersion if
  // there is none, or if negotiate_versions() has not succeeded yet.
  Result<int16_t> version_for(ApiKey key) const;

  // Responses still owed to the caller: requests sent and not yet answered
  // (nor forgotten), plus answers receive_for() set aside for a later receive().
  size_t in_flight() const { return pending_.size() + ready_.size(); }
  // Stops waiting for `correlation_id` (after a timeout); a late response is dropped.
  void forget(int32_t correlation_id);
  // Responses dropped because nothing waited for them any more.
  uint64_t stale_responses() const { return stale_responses_; }

  // Sends already-encoded request frames ([header][body][records...]) whose
  // header carries the next correlation id (see next_correlation_id()).
  Result<int32_t> send_frames(ApiKey api_key, Frames frames, bool expect_response);
  int32_t next_correlation_id() const { return next_correlation_id_; }

 private:
  struct Socket;
  Connection(std::unique_ptr<Socket> socket, std::string endpoint,
             const ConnectionOptions& options);

  // A handshake dropped: with two server keys, tells the endpoint's choice
  // (server_key_choices.h); the note for the error message ("" or "; ...").
  std::string note_dropped_handshake();
  // Receives one message and files it under its request; false on timeout.
  Result<bool> receive_one(int timeout_ms);

  std::unique_ptr<Socket> socket_;
  std::string endpoint_;
  bool ever_connected_ = false;
  bool ever_handshaken_ = false;   // a ZMTP handshake completed once
  bool other_server_key_ = false;  // connected with curve.other_server_key
  Status broken_;
  ConnectionOptions options_;
  int32_t next_correlation_id_ = 0;
  std::unordered_map<int32_t, ApiKey> pending_;  // correlation id -> api key
  std::deque<InboundResponse> ready_;            // received, not yet returned
  std::optional<ApiVersionsResponse> broker_versions_;
  uint64_t stale_responses_ = 0;
};

}  // namespace mq::transport
