// Checksummed, atomically replaced text checkpoints.
#include "store/checkpoint.h"

#include <cstdio>
#include <iterator>
#include <sstream>

#include "store/crc32c.h"
#include "store/file.h"

namespace mq {

Status write_checkpoint(const std::string& path, std::string_view kind, int version,
                        const std::vector<std::string>& lines) {
  std::string body = std::string(kind) + " " + std::to_string(version) + "\n";
  for (const auto& line : lines) body += line + "\n";
  char crc_line[32];
  std::snprintf(crc_line, sizeof(crc_line), "crc32c %08x\n",
                crc32c::value(body.data(), body.size()));
  return write_file_atomically(path, body + crc_line);
}

Result<std::vector<std::string>> read_checkpoint(const std::string& path, std::string_view kind,
                                                 int version) {
  MQ_ASSIGN_OR_RETURN(std::string data, read_small_file(path));
  auto corrupt = [&](const std::string& why) {
    return Status(ErrorCode::kCorruptMessage, path + ": " + why);
  };
  size_t crc_at = data.rfind("crc32c ");
  if (crc_at == std::string::npos || (crc_at > 0 && data[crc_at - 1] != '\n')) {
    return corrupt("no checksum line");
  }
  unsigned int stored = 0;
  if (std::sscanf(data.c_str() + crc_at, "crc32c %8x", &stored) != 1) {
    return corrupt("unreadable checksum line");
  }
  if (crc32c::value(data.data(), crc_at) != stored) return corrupt("checksum mismatch");
  std::istringstream in(data.substr(0, crc_at));
  std::string line;
  std::getline(in, line);
  if (line != std::string(kind) + " " + std::to_string(version)) {
    return corrupt("expected '" + std::string(kind) + " " + std::to_string(version) + "', found '" +
                   line + "'");
  }
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string coverage_line(SnapshotCoverage coverage) {
  return "offset " + std::to_string(coverage.offset) + " epoch " + std::to_string(coverage.epoch);
}

Result<SnapshotCheckpoint> read_snapshot_checkpoint(const std::string& path, std::string_view kind,
                                                    int version) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> lines, read_checkpoint(path, kind, version));
  const std::string first = lines.empty() ? "" : lines.front();
  std::istringstream in(first);
  std::string word, epoch_word, rest;
  SnapshotCheckpoint out{.coverage = {.offset = -1}};
  SnapshotCoverage& c = out.coverage;
  if (!(in >> word >> c.offset >> epoch_word >> c.epoch) || (in >> rest) || word != "offset" ||
      epoch_word != "epoch" || c.offset < 0 || c.epoch < -1) {
    return Status(ErrorCode::kCorruptMessage, path + ": bad line '" + first + "'");
  }
  out.body.assign(std::make_move_iterator(lines.begin() + 1), std::make_move_iterator(lines.end()));
  return out;
}

}  // namespace mq
