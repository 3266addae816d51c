// Binary bytes as text for mqctl's record formats: lowercase hex and RFC 4648
// base64 (standard alphabet, '=' padding). consume -f encodes keys, values
// and headers with them; produce -f decodes what it reads back.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace mq::ctl {

// Appends two lowercase hex digits per byte of `bytes` to `out`.
void append_hex(std::string_view bytes, std::string& out);

// Appends the base64 of `bytes` to `out`, padded with '=' to a multiple of 4.
void append_base64(std::string_view bytes, std::string& out);

// The bytes of hex text (either case). Errors: an odd length, a non-hex digit.
Result<std::string> decode_hex(std::string_view text);

// The bytes of padded base64 text. Errors: a character outside the standard
// alphabet, a length that is not a multiple of 4, '=' anywhere but the last
// one or two places, or bits set past the data (a non-canonical encoding).
Result<std::string> decode_base64(std::string_view text);

}  // namespace mq::ctl
