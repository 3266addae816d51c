// Checkpoint files: small text files written atomically (temp, fsync, rename,
// fsync dir) whose last line is "crc32c <8 hex digits>" over the lines above,
// so a torn or garbage file is detected instead of trusted.
//
//   <name> <version>\n
//   <body lines>\n
//   crc32c 1a2b3c4d\n
#pragma once

#include <cstdint>
#include <optional>
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

// Where a snapshot of the log's state ends (the de-duplication window, the
// delayed-delivery schedule): the records below `offset`, the last of them in
// a batch of leader epoch `epoch`. Two logs with the same epoch there hold
// the same records below it (the replication protocol's log matching), so a
// snapshot is trusted only by a log that agrees. Its line: "offset O epoch E".
struct SnapshotCoverage {
  int64_t offset = 0;
  int32_t epoch = -1;
};
std::string coverage_line(SnapshotCoverage coverage);
// A snapshot checkpoint of `kind`: its coverage (the first body line) and
// the body lines after it. read_checkpoint's errors, and kCorruptMessage
// ("<path>: bad line '...'") when the coverage line is missing or is not
// exactly "offset O epoch E" with O >= 0 and E >= -1.
struct SnapshotCheckpoint {
  SnapshotCoverage coverage;
  std::vector<std::string> body;
};
Result<SnapshotCheckpoint> read_snapshot_checkpoint(const std::string& path, std::string_view kind,
                                                    int version);

}  // namespace mq
