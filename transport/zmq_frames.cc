// Zero-copy conversion between Frames and zmq messages, and the receive limits.
#include "transport/zmq_frames.h"

#include <mutex>
#include <string>

#include "base/sanitizer.h"

namespace mq::transport {
namespace {

// Below this size zmq copies the bytes into the message itself (its "very
// small message" path), which is cheaper than sharing ownership.
constexpr size_t kZeroCopyMinBytes = 1024;

// Frames kept from an over-limit message: routing id and header.
constexpr size_t kFramesKeptOnOverflow = 2;

// Called by libzmq on its I/O thread once the bytes are written.
void release_owner(void* /*data*/, void* hint) {
  tsan_acquire(hint);  // pairs with to_zmq_message's release: zmq passed it here
  delete static_cast<std::shared_ptr<const void>*>(hint);
}

zmq::message_t to_zmq_message(const Frame& frame) {
  if (frame.size() < kZeroCopyMinBytes || !frame.owner()) {
    return zmq::message_t(frame.data(), frame.size());
  }
  // zmq keeps a reference to the owner until the I/O thread has written the bytes.
  auto* hint = new std::shared_ptr<const void>(frame.owner());
  tsan_release(hint);
  return zmq::message_t(const_cast<uint8_t*>(frame.data()), frame.size(), &release_owner, hint);
}

Frame to_frame(zmq::message_t&& message) {
  auto owned = std::make_shared<zmq::message_t>(std::move(message));
  std::span<const uint8_t> bytes(static_cast<const uint8_t*>(owned->data()), owned->size());
  return Frame(bytes, std::move(owned));
}

}  // namespace

std::shared_ptr<zmq::context_t> shared_zmq_context() {
  static std::mutex mutex;
  static std::weak_ptr<zmq::context_t> current;
  std::lock_guard lock(mutex);
  std::shared_ptr<zmq::context_t> context = current.lock();
  if (!context) {
    context = std::make_shared<zmq::context_t>(1);
    current = context;
  }
  return context;
}

Status status_from(const zmq::error_t& error, std::string_view doing) {
  std::string message = std::string(doing) + ": " + error.what();
  if (error.num() == EHOSTUNREACH) message += " (the peer has disconnected)";
  return Status(ErrorCode::kNetworkError, std::move(message));
}

Result<std::optional<ReceivedMessage>> receive_message(zmq::socket_t& socket, int timeout_ms,
                                                       const ReceiveLimits& limits) {
  try {
    zmq_pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll(&item, 1, timeout_ms);
    if (ready < 0) {
      if (zmq_errno() == EINTR) return std::optional<ReceivedMessage>();
      return Status(ErrorCode::kNetworkError,
                    std::string("zmq_poll failed: ") + zmq_strerror(zmq_errno()));
    }
    if (ready == 0) return std::optional<ReceivedMessage>();

    ReceivedMessage received;
    size_t total_bytes = 0;
    size_t frame_count = 0;
    bool more = true;
    while (more) {
      zmq::message_t part;
      // The first part is known to be there; the rest of a multipart message
      // arrives atomically with it, so neither wait.
      if (!socket.recv(part, zmq::recv_flags::dontwait)) {
        if (frame_count == 0) return std::optional<ReceivedMessage>();
        return Status(ErrorCode::kNetworkError, "multipart message ended early");
      }
      more = part.more();
      if (frame_count <= 1) {
        // A ROUTER's routing id part is made locally: the connection's
        // properties come with the parts the peer sent.
        const char* address = zmq_msg_gets(part.handle(), "Peer-Address");
        if (address != nullptr && received.peer_address.empty()) received.peer_address = address;
        const char* user_id = zmq_msg_gets(part.handle(), "User-Id");
        if (user_id != nullptr && received.user_id.empty()) received.user_id = user_id;
      }
      ++frame_count;
      total_bytes += part.size();
      if (received.limit_error.is_ok() &&
          (total_bytes > limits.max_message_bytes || frame_count > limits.max_frames)) {
        received.limit_error =
            Status(ErrorCode::kMessageTooLarge,
                   frame_count > limits.max_frames
                       ? "message has more than " + std::to_string(limits.max_frames) + " frames"
                       : "message exceeds " + std::to_string(limits.max_message_bytes) + " bytes");
        if (received.frames.size() > kFramesKeptOnOverflow) {
          received.frames.resize(kFramesKeptOnOverflow);
        }
      }
      // Over the limit, the rest is read and dropped so the socket stays in step.
      if (received.limit_error.is_ok() || received.frames.size() < kFramesKeptOnOverflow) {
        received.frames.push_back(to_frame(std::move(part)));
      }
    }
    return std::optional<ReceivedMessage>(std::move(received));
  } catch (const zmq::error_t& error) {
    return status_from(error, "receive");
  }
}

Status send_message(zmq::socket_t& socket, std::span<const Frame> frames, bool dont_wait) {
  if (frames.empty())
    return Status(ErrorCode::kInvalidRequest, "cannot send a message of 0 frames");
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq::message_t part = to_zmq_message(frames[i]);
      zmq::send_flags flags =
          i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
      if (dont_wait) flags = flags | zmq::send_flags::dontwait;
      if (!socket.send(part, flags)) {
        // Only the first part can block: zmq accepts the rest of a message
        // once it has accepted its first part.
        return Status(ErrorCode::kRequestTimedOut,
                      "send queue full (high-water mark reached or peer not connected)");
      }
    }
    return Status::ok();
  } catch (const zmq::error_t& error) {
    return status_from(error, "send");
  }
}

}  // namespace mq::transport
