// Multipart ZeroMQ messages as Frames: zero-copy in both directions, with the
// limits that keep a hostile peer from exhausting memory. Used by transport/
// and the quorum's peer sockets (quorum/); the only code that touches
// zmq::message_t. Never throws.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <zmq.hpp>

#include "base/status.h"
#include "transport/frame.h"

namespace mq::transport {

struct ReceiveLimits {
  size_t max_message_bytes = 0;  // sum over all frames
  size_t max_frames = 0;
};

struct ReceivedMessage {
  // All frames; or, when the message broke a limit, only the first few (enough
  // for the routing id and the header, so the sender can be told).
  Frames frames;
  Status limit_error;        // kMessageTooLarge when frames were dropped
  std::string peer_address;  // ZeroMQ's "Peer-Address" of a TCP sender, else empty
  std::string user_id;       // ZeroMQ's "User-Id": what ZAP authenticated, else empty
};

// One process-wide ZeroMQ context, created on first use and destroyed when
// the last socket holding it goes away.
std::shared_ptr<zmq::context_t> shared_zmq_context();

// Waits up to `timeout_ms` (-1 = forever) for a message; nullopt on timeout.
Result<std::optional<ReceivedMessage>> receive_message(zmq::socket_t& socket, int timeout_ms,
                                                       const ReceiveLimits& limits);

// Sends `frames` as one multipart message. With `dont_wait`, a full send
// queue fails at once instead of waiting for the socket's send timeout.
Status send_message(zmq::socket_t& socket, std::span<const Frame> frames, bool dont_wait);

// Maps a ZeroMQ exception to a Status.
Status status_from(const zmq::error_t& error, std::string_view doing);

}  // namespace mq::transport
