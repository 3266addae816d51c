// Frame: one part of a multipart ZeroMQ message, held as bytes with shared
// ownership, so record batches go from socket to log and log to socket
// without being copied or re-encoded.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mq::transport {

class Frame {
 public:
  Frame() = default;
  // Takes ownership of `bytes`.
  explicit Frame(std::string bytes);
  // Views `bytes`, which `owner` keeps alive (e.g. a buffer read from a segment
  // or a received zmq message). The frame shares ownership; nothing is copied.
  Frame(std::span<const uint8_t> bytes, std::shared_ptr<const void> owner)
      : owner_(std::move(owner)), bytes_(bytes) {}

  static Frame copy_of(std::span<const uint8_t> bytes);
  static Frame copy_of(std::string_view bytes);

  std::span<const uint8_t> bytes() const { return bytes_; }
  std::string_view as_string_view() const {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  const uint8_t* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  // The owner keeps the bytes alive; senders hand it to zmq for zero-copy sends.
  const std::shared_ptr<const void>& owner() const { return owner_; }

  // Frames compare by content, so decoded messages compare equal to the
  // messages they were encoded from.
  bool operator==(const Frame& other) const;

 private:
  std::shared_ptr<const void> owner_;
  std::span<const uint8_t> bytes_;
};

// A whole multipart message, or the tail of one.
using Frames = std::vector<Frame>;

// Total payload bytes of `frames`.
size_t total_size(std::span<const Frame> frames);

}  // namespace mq::transport
