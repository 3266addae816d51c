// How a fuzzer input becomes the frames of one message: repeated
// [uint32 little-endian length][that many bytes]; a length running past the
// end takes what is left. The corpus writer produces the same layout.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "transport/frame.h"

namespace mq::transport::fuzzing {

inline Frames split_frames(const uint8_t* data, size_t size) {
  Frames frames;
  size_t position = 0;
  while (position + 4 <= size) {
    uint32_t length = 0;
    std::memcpy(&length, data + position, 4);
    position += 4;
    size_t take = std::min<size_t>(length, size - position);
    frames.push_back(Frame::copy_of(std::span<const uint8_t>(data + position, take)));
    position += take;
  }
  return frames;
}

inline std::string join_frames(const Frames& frames) {
  std::string out;
  for (const Frame& frame : frames) {
    uint32_t length = static_cast<uint32_t>(frame.size());
    out.append(reinterpret_cast<const char*>(&length), 4);
    out.append(frame.as_string_view());
  }
  return out;
}

// Stops the fuzzer with a crash report when an invariant breaks.
inline void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace mq::transport::fuzzing
