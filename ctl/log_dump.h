// mqctl log dump: reads a partition's files without a broker — segments,
// offset and time indexes, checkpoints — and reports each batch, index entry
// and checkpoint field, and every inconsistency with the byte position where
// it lies. Files are only ever opened read-only. The formats are
// docs/storage-format.md; what is printed is docs/mqctl.md, "log dump".
//
// The dump is streamed: a segment of any size is read one batch at a time and
// each batch is printed before the next is read, in every output format.
// Internal to ctl/.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "ctl/output.h"

namespace mq::ctl {

struct LogDumpOptions {
  bool records = false;  // also decode and print every record of every batch
};

// What a file holds besides its header: segments list batches, indexes list
// entries, checkpoints have one decoded object; the others have nothing.
enum class DumpItems { kNone, kBatches, kEntries, kContents };

// Receives a dump as it is read. For each file: begin_file, then its items
// (batches, index entries, or the one decoded checkpoint) and problems in file
// order, then end_file; finish once at the end. The values follow the JSON
// schema docs/mqctl.md documents.
class DumpSink {
 public:
  virtual ~DumpSink() = default;
  // {"path", "kind", "size_bytes", "base_offset"}.
  virtual void begin_file(const nlohmann::ordered_json& file, DumpItems items) = 0;
  virtual void item(const nlohmann::ordered_json& item) = 0;
  // {"position", "message"}; position is null where no byte is to blame.
  virtual void problem(const nlohmann::ordered_json& problem) = 0;
  virtual void end_file(const nlohmann::ordered_json& summary) = 0;
  // {"files", "problems"}.
  virtual void finish(const nlohmann::ordered_json& summary) = 0;
};

// Prints a dump to `out`: text lines (table), one JSON document, or one YAML
// document, each written as the dump proceeds.
std::unique_ptr<DumpSink> make_dump_printer(OutputFormat format, FILE* out);

// The decoded contents of the checkpoint file named `name` (its name in a
// partition directory: log-state.checkpoint, leader-epoch-checkpoint,
// producer-state.checkpoint, dedup-window.checkpoint, delayed-schedule.checkpoint,
// cleaner.checkpoint)
// at `path`, as docs/mqctl.md shows them; the loader's error when it is
// damaged; kInvalidRequest for any other name.
Result<nlohmann::ordered_json> decode_log_checkpoint(std::string_view name,
                                                     const std::string& path);

struct FileProblems {
  std::string path;
  int64_t count = 0;
  nlohmann::ordered_json first;  // the first problem found, as given to the sink
};

struct LogDumpSummary {
  int64_t files = 0;
  int64_t problems = 0;
  std::vector<FileProblems> damaged;  // the files with problems, in dump order
};

// Dumps each path in turn: a file, or a partition directory (every file in
// it: segments and their indexes in base-offset order, then the checkpoints,
// then the rest). The paths must exist. Never changes a file.
LogDumpSummary dump_log_paths(const std::vector<std::string>& paths, const LogDumpOptions& options,
                              DumpSink& sink);

// Bytes as text: printable UTF-8 as it is, anything else (control
// characters, invalid UTF-8) with C escapes \n \t \r \\ \xNN.
std::string printable_text(std::string_view bytes);

}  // namespace mq::ctl
