// Checkpoint files: small text files written atomically (temp, fsync, rename,
// fsync dir) whose last line is "crc32c <8 hex digits>" over the lines above,
// so a torn or garbage file is detected instead of trusted.
//
//   <name> <version>\n
//   <body lines>\n
//   crc32c 1a2b3c4d\n
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq {

// Writes `lines` under a first line "<kind> <version>".
Status write_checkpoint(const std::string& path, std::string_view kind, int version,
                        const std::vector<std::string>& lines);

// Reads a checkpoint of `kind`; kNotFound if absent, kCorruptMessage if the
// kind, version or checksum do not match. Returns the body lines.
Result<std::vector<std::string>> read_checkpoint(const std::string& path, std::string_view kind,
                                                 int version);

}  // namespace mq
