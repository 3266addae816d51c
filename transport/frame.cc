// Frame construction and comparison.
#include "transport/frame.h"

#include <algorithm>

namespace mq::transport {

Frame::Frame(std::string bytes) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  bytes_ = {reinterpret_cast<const uint8_t*>(owned->data()), owned->size()};
  owner_ = std::move(owned);
}

Frame Frame::copy_of(std::span<const uint8_t> bytes) {
  return Frame(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Frame Frame::copy_of(std::string_view bytes) {
  return Frame(std::string(bytes));
}

bool Frame::operator==(const Frame& other) const {
  return std::ranges::equal(bytes_, other.bytes_);
}

size_t total_size(std::span<const Frame> frames) {
  size_t total = 0;
  for (const Frame& frame : frames) total += frame.size();
  return total;
}

}  // namespace mq::transport
