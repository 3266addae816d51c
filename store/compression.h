// Per-batch compression of the records section: none, lz4 (frame format) or
// zstd. Decompression is bounded so a hostile batch cannot exhaust memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mq {

enum class Compression : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

std::string_view compression_name(Compression codec);
// Parses "none", "lz4" or "zstd".
Result<Compression> parse_compression(std::string_view name);

// Compresses `input` into `out` (replacing its contents).
Status compress(Compression codec, std::string_view input, std::string* out);

// Decompresses `input` into `out`; fails with kCorruptMessage if the input is
// malformed or would expand past `max_output_bytes`.
Status decompress(Compression codec, std::string_view input, size_t max_output_bytes,
                  std::string* out);

}  // namespace mq
