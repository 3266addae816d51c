// lz4 frame and zstd compression through the system libraries.
#include "store/compression.h"

#include <lz4frame.h>
#include <zstd.h>

#include <memory>

namespace mq {

std::string_view compression_name(Compression codec) {
  switch (codec) {
    case Compression::kNone:
      return "none";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<Compression> parse_compression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "lz4") return Compression::kLz4;
  if (name == "zstd") return Compression::kZstd;
  return Status(ErrorCode::kInvalidConfig,
                "unknown compression '" + std::string(name) + "' (expected none, lz4 or zstd)");
}

namespace {

Status compress_lz4(std::string_view input, std::string* out) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = input.size();
  size_t bound = LZ4F_compressFrameBound(input.size(), &prefs);
  out->resize(bound);
  size_t n = LZ4F_compressFrame(out->data(), bound, input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) {
    return Status(ErrorCode::kUnknown, std::string("lz4 compress: ") + LZ4F_getErrorName(n));
  }
  out->resize(n);
  return Status::ok();
}

Status decompress_lz4(std::string_view input, size_t max_output_bytes, std::string* out) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) {
    return Status(ErrorCode::kUnknown, "lz4: cannot create decompression context");
  }
  std::unique_ptr<LZ4F_dctx, decltype(&LZ4F_freeDecompressionContext)> ctx(
      raw, &LZ4F_freeDecompressionContext);
  out->clear();
  const char* src = input.data();
  size_t src_left = input.size();
  size_t hint = 1;
  char chunk[64 * 1024];
  while (src_left > 0 && hint != 0) {
    size_t dst_size = sizeof(chunk);
    size_t src_size = src_left;
    hint = LZ4F_decompress(ctx.get(), chunk, &dst_size, src, &src_size, nullptr);
    if (LZ4F_isError(hint)) {
      return Status(ErrorCode::kCorruptMessage,
                    std::string("lz4 decompress: ") + LZ4F_getErrorName(hint));
    }
    if (out->size() + dst_size > max_output_bytes) {
      return Status(ErrorCode::kCorruptMessage, "lz4: decompressed size exceeds limit");
    }
    out->append(chunk, dst_size);
    src += src_size;
    src_left -= src_size;
    if (src_size == 0 && dst_size == 0) break;  // no progress: truncated input
  }
  if (hint != 0 || src_left != 0) {
    return Status(ErrorCode::kCorruptMessage, "lz4: truncated or trailing data");
  }
  return Status::ok();
}

Status compress_zstd(std::string_view input, std::string* out) {
  size_t bound = ZSTD_compressBound(input.size());
  out->resize(bound);
  size_t n = ZSTD_compress(out->data(), bound, input.data(), input.size(), 3);
  if (ZSTD_isError(n)) {
    return Status(ErrorCode::kUnknown, std::string("zstd compress: ") + ZSTD_getErrorName(n));
  }
  out->resize(n);
  return Status::ok();
}

Status decompress_zstd(std::string_view input, size_t max_output_bytes, std::string* out) {
  unsigned long long size = ZSTD_getFrameContentSize(input.data(), input.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return Status(ErrorCode::kCorruptMessage, "zstd: frame without a valid content size");
  }
  if (size > max_output_bytes) {
    return Status(ErrorCode::kCorruptMessage, "zstd: decompressed size exceeds limit");
  }
  out->resize(size);
  size_t n = ZSTD_decompress(out->data(), size, input.data(), input.size());
  if (ZSTD_isError(n) || n != size) {
    return Status(ErrorCode::kCorruptMessage,
                  std::string("zstd decompress: ") +
                      (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return Status::ok();
}

}  // namespace

Status compress(Compression codec, std::string_view input, std::string* out) {
  switch (codec) {
    case Compression::kNone:
      out->assign(input);
      return Status::ok();
    case Compression::kLz4:
      return compress_lz4(input, out);
    case Compression::kZstd:
      return compress_zstd(input, out);
  }
  return Status(ErrorCode::kInvalidRequest, "unknown compression codec");
}

Status decompress(Compression codec, std::string_view input, size_t max_output_bytes,
                  std::string* out) {
  switch (codec) {
    case Compression::kNone:
      if (input.size() > max_output_bytes) {
        return Status(ErrorCode::kCorruptMessage, "records exceed limit");
      }
      out->assign(input);
      return Status::ok();
    case Compression::kLz4:
      return decompress_lz4(input, max_output_bytes, out);
    case Compression::kZstd:
      return decompress_zstd(input, max_output_bytes, out);
  }
  return Status(ErrorCode::kCorruptMessage, "unknown compression codec");
}

}  // namespace mq
