// Hex and base64 encoding and strict decoding.
#include "ctl/text_codec.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace mq::ctl {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Each byte's value as a base64 digit, -1 if it is not one.
constexpr std::array<int8_t, 256> kBase64Values = [] {
  std::array<int8_t, 256> values{};
  values.fill(-1);
  for (int i = 0; i < 64; ++i) values[static_cast<unsigned char>(kBase64Alphabet[i])] = i;
  return values;
}();

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A character for an error message: as is when printable, else \xNN.
std::string printable(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  char text[8];
  std::snprintf(text, sizeof(text), "\\x%02x", byte);
  return text;
}

Status bad_text(const std::string& why) {
  return Status(ErrorCode::kInvalidRecord, why);
}

}  // namespace

void append_hex(std::string_view bytes, std::string& out) {
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    out += kHexDigits[byte >> 4];
    out += kHexDigits[byte & 0x0f];
  }
}

void append_base64(std::string_view bytes, std::string& out) {
  size_t i = 0;
  auto byte = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<unsigned char>(bytes[at]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t group = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += kBase64Alphabet[group >> 18];
    out += kBase64Alphabet[(group >> 12) & 0x3f];
    out += kBase64Alphabet[(group >> 6) & 0x3f];
    out += kBase64Alphabet[group & 0x3f];
  }
  size_t rest = bytes.size() - i;
  if (rest == 0) return;
  uint32_t group = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
  out += kBase64Alphabet[group >> 18];
  out += kBase64Alphabet[(group >> 12) & 0x3f];
  out += rest == 2 ? kBase64Alphabet[(group >> 6) & 0x3f] : '=';
  out += '=';
}

Result<std::string> decode_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return bad_text("odd length: " + std::to_string(text.size()) + " hex digits");
  }
  std::string bytes;
  bytes.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    int high = hex_value(text[i]);
    int low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) {
      size_t at = high < 0 ? i : i + 1;
      return bad_text(printable(text[at]) + " at position " + std::to_string(at) +
                      " is not a hex digit");
    }
    bytes += static_cast<char>(high << 4 | low);
  }
  return bytes;
}

Result<std::string> decode_base64(std::string_view text) {
  // Characters first, so that a wrong alphabet (base64url's - and _) is
  // named as such rather than reported as a length problem.
  size_t padding = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=') {
      ++padding;
      continue;
    }
    if (kBase64Values[static_cast<unsigned char>(text[i])] < 0) {
      return bad_text(printable(text[i]) + " at position " + std::to_string(i) +
                      " is not a base64 character");
    }
    if (padding > 0) return bad_text("bad padding: '=' before the end");
  }
  if (text.size() % 4 != 0) {
    return bad_text("bad padding: length " + std::to_string(text.size()) +
                    " is not a multiple of 4");
  }
  if (padding > 2) return bad_text("bad padding: more than two '='");
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      group = group << 6 |
              (c == '=' ? 0 : static_cast<uint32_t>(kBase64Values[static_cast<unsigned char>(c)]));
    }
    bytes += static_cast<char>(group >> 16);
    bytes += static_cast<char>((group >> 8) & 0xff);
    bytes += static_cast<char>(group & 0xff);
  }
  // Padding only ever ends the last group, which the loop decoded in full.
  bytes.resize(bytes.size() - padding);
  uint32_t unused_mask = padding == 2 ? 0x0f : padding == 1 ? 0x03 : 0;
  if (padding > 0) {
    char last = text[text.size() - padding - 1];
    if ((static_cast<uint32_t>(kBase64Values[static_cast<unsigned char>(last)]) & unused_mask) !=
        0) {
      return bad_text("bad padding: bits set past the data (not a canonical encoding)");
    }
  }
  return bytes;
}

}  // namespace mq::ctl
