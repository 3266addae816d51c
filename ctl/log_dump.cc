// Reading a partition's files for `mqctl log dump`: which file is what (by
// its name, as the log names them), then one reader per kind. The parsing is
// the store's own (batch headers, CRCs, records, checkpoint loaders); what is
// added here is carrying on past damage and saying where it is.
#include "ctl/log_dump.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <tuple>

#include "store/coding.h"
#include "store/file.h"
#include "store/index.h"
#include "store/log.h"
#include "store/record_batch.h"
#include "store/segment.h"

namespace mq::ctl {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using coding::get_fixed;

enum class FileKind {
  kSegment,
  kOffsetIndex,
  kTimeIndex,
  kKeyIndex,
  kLogState,
  kLeaderEpochs,
  kProducerState,
  kDedupWindow,
  kDelayedSchedule,
  kQueueState,
  kCleaner,
  kCleanShutdown,
  kPowerLossJournal,
  kTemporary,
  kUnknown,
};

struct KindInfo {
  std::string_view name;  // "kind" in the output
  DumpItems items;
};

KindInfo info(FileKind kind) {
  switch (kind) {
    case FileKind::kSegment:
      return {"segment", DumpItems::kBatches};
    case FileKind::kOffsetIndex:
      return {"offset-index", DumpItems::kEntries};
    case FileKind::kTimeIndex:
      return {"time-index", DumpItems::kEntries};
    case FileKind::kKeyIndex:
      return {"key-index", DumpItems::kEntries};
    case FileKind::kLogState:
      return {"log-state", DumpItems::kContents};
    case FileKind::kLeaderEpochs:
      return {"leader-epochs", DumpItems::kContents};
    case FileKind::kProducerState:
      return {"producer-state", DumpItems::kContents};
    case FileKind::kDedupWindow:
      return {"dedup-window", DumpItems::kContents};
    case FileKind::kDelayedSchedule:
      return {"delayed-schedule", DumpItems::kContents};
    case FileKind::kQueueState:
      return {"queue-state", DumpItems::kContents};
    case FileKind::kCleaner:
      return {"cleaner", DumpItems::kContents};
    case FileKind::kCleanShutdown:
      return {"clean-shutdown", DumpItems::kNone};
    case FileKind::kPowerLossJournal:
      return {"power-loss-journal", DumpItems::kNone};
    case FileKind::kTemporary:
      return {"temporary", DumpItems::kNone};
    case FileKind::kUnknown:
      break;
  }
  return {"unknown", DumpItems::kNone};
}

// A file of a partition directory, named as docs/storage-format.md §1 lists.
struct DumpFile {
  std::string path;
  std::string name;  // the last component of path
  FileKind kind = FileKind::kUnknown;
  std::optional<int64_t> base_offset;  // segments and indexes named NNN…
  std::string segment_path;            // indexes: the .log they index
};

DumpFile classify(const std::string& path) {
  DumpFile file{.path = path, .name = fs::path(path).filename().string()};
  static constexpr std::pair<std::string_view, FileKind> kFixedNames[] = {
      {"log-state.checkpoint", FileKind::kLogState},
      {"leader-epoch-checkpoint", FileKind::kLeaderEpochs},
      {"producer-state.checkpoint", FileKind::kProducerState},
      {"dedup-window.checkpoint", FileKind::kDedupWindow},
      {"delayed-schedule.checkpoint", FileKind::kDelayedSchedule},
      {"queue-state.checkpoint", FileKind::kQueueState},
      {"cleaner.checkpoint", FileKind::kCleaner},
      {".clean-shutdown", FileKind::kCleanShutdown},
      {".durable", FileKind::kPowerLossJournal},
  };
  for (const auto& [name, kind] : kFixedNames) {
    if (file.name == name) {
      file.kind = kind;
      return file;
    }
  }
  if (file.name.ends_with(".tmp")) {
    file.kind = FileKind::kTemporary;
    return file;
  }
  // A compacted segment on its way in (§9.3) carries its suffix after the
  // extension; its files are read like any other segment's.
  std::string suffix;
  for (std::string_view s : {kCleanedSuffix, kSwapSuffix}) {
    if (file.name.ends_with(s)) suffix = s;
  }
  std::string bare = file.name.substr(0, file.name.size() - suffix.size());
  static constexpr std::pair<std::string_view, FileKind> kExtensions[] = {
      {".log", FileKind::kSegment},
      {".index", FileKind::kOffsetIndex},
      {".timeindex", FileKind::kTimeIndex},
      {".keyindex", FileKind::kKeyIndex},
  };
  for (const auto& [extension, kind] : kExtensions) {
    if (bare.size() <= extension.size() || !bare.ends_with(extension)) continue;
    file.kind = kind;
    int64_t base = 0;
    if (parse_segment_name(bare, extension, &base)) file.base_offset = base;
    std::string stem = path.substr(0, path.size() - suffix.size() - extension.size());
    file.segment_path = stem + ".log" + suffix;
    return file;
  }
  return file;
}

// Directory order: segments with their indexes by base offset, then the
// checkpoints in the order the log writes them, then everything else by name.
auto order_key(const DumpFile& file) {
  int group = 3;
  switch (file.kind) {
    case FileKind::kSegment:
    case FileKind::kOffsetIndex:
    case FileKind::kTimeIndex:
    case FileKind::kKeyIndex:
      group = file.base_offset ? 0 : 1;
      break;
    case FileKind::kLogState:
    case FileKind::kLeaderEpochs:
    case FileKind::kProducerState:
    case FileKind::kDedupWindow:
    case FileKind::kDelayedSchedule:
    case FileKind::kQueueState:
    case FileKind::kCleaner:
      group = 2;
      break;
    default:
      break;
  }
  return std::make_tuple(group, file.base_offset.value_or(0), static_cast<int>(file.kind),
                         file.name);
}

std::string hex32(uint32_t value) {
  char text[9];
  std::snprintf(text, sizeof(text), "%08x", value);
  return text;
}

// Length of the printable UTF-8 character at s[i]; 0 for a control character
// (C0, DEL, C1) or bytes that are not valid UTF-8 (overlong, surrogate, cut).
size_t printable_length(std::string_view s, size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  if (lead < 0x80) return lead >= 0x20 && lead != 0x7F ? 1 : 0;
  size_t length;
  uint32_t code;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < length) return 0;
  for (size_t k = 1; k < length; ++k) {
    auto next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return code < 0xA0 ? 0 : length;
}

json optional_text(const std::optional<std::string_view>& bytes) {
  return bytes ? json(printable_text(*bytes)) : json();
}

json dumped_record_json(const Record& record) {
  json headers = json::array();
  for (const RecordHeader& header : record.headers) {
    headers.push_back(
        {{"key", printable_text(header.key)}, {"value", optional_text(header.value)}});
  }
  return {{"offset", record.offset},
          {"timestamp", record.timestamp},
          {"key", optional_text(record.key)},
          {"value", optional_text(record.value)},
          {"headers", std::move(headers)}};
}

json batch_json(const BatchHeader& h, uint64_t position, uint32_t actual_crc) {
  return {{"base_offset", h.base_offset},
          {"last_offset", h.last_offset()},
          {"position", position},
          {"size_bytes", h.total_size()},
          {"record_count", h.record_count},
          {"leader_epoch", h.leader_epoch},
          {"producer_id", h.producer_id},
          {"producer_epoch", h.producer_epoch},
          {"base_sequence", h.base_sequence},
          {"last_sequence", h.last_sequence()},
          {"first_timestamp", h.first_timestamp},
          {"max_timestamp", h.max_timestamp},
          {"attributes", h.attributes},
          {"compression", std::string(compression_name(h.compression()))},
          {"timestamp_type",
           h.timestamp_type() == TimestampType::kLogAppendTime ? "LogAppendTime" : "CreateTime"},
          {"idempotent", h.is_idempotent()},
          {"crc",
           {{"valid", actual_crc == h.crc},
            {"expected", hex32(h.crc)},
            {"actual", hex32(actual_crc)}}}};
}

// Reads exactly `size` bytes at `position` into `out`; an error if the file
// ended first (it shrank while being read) or could not be read.
Status read_exactly(const File& file, uint64_t position, size_t size, std::string* out) {
  out->resize(size);
  MQ_ASSIGN_OR_RETURN(size_t got, file.read_at(position, as_writable_bytes(*out)));
  if (got != size) {
    return Status(ErrorCode::kStorageError, "the file ended at byte " +
                                                std::to_string(position + got) +
                                                " while being read: it shrank");
  }
  return Status::ok();
}

bool all_zero(std::string_view bytes) {
  return std::ranges::all_of(bytes, [](char c) { return c == 0; });
}

// Checkpoints are a few lines; anything this big is not one, and is not read.
constexpr uint64_t kMaxCheckpointBytes = 64 * 1024 * 1024;
// Indexes are read this many bytes at a time (a multiple of both entry sizes).
constexpr size_t kIndexChunkBytes = 96 * 1024;

// The part of a segment its indexes are checked against: how far its batch
// headers parse, and what they hold.
struct SegmentExtent {
  uint64_t size_bytes = 0;
  std::optional<int64_t> last_base_offset;  // of the last batch whose header parses
  int64_t end_offset = -1;                  // the offset after that batch
  int64_t max_timestamp = -1;               // largest max_timestamp of those batches
};

// Dumps one file: its header, its items and problems as they are found, its summary.
class FileDumper {
 public:
  // `listing_error`: the file is a directory that could not be listed.
  FileDumper(DumpFile file, const LogDumpOptions& options, DumpSink& sink,
             std::string listing_error = {})
      : file_(std::move(file)),
        options_(options),
        sink_(sink),
        listing_error_(std::move(listing_error)) {}

  FileProblems run() {
    KindInfo kind = info(file_.kind);
    std::error_code ec;
    fs::file_status status = fs::status(file_.path, ec);
    bool regular = !ec && fs::is_regular_file(status);
    std::optional<uint64_t> size;
    if (regular) {
      uint64_t bytes = fs::file_size(file_.path, ec);
      if (!ec) size = bytes;
    }
    sink_.begin_file({{"path", file_.path},
                      {"kind", std::string(kind.name)},
                      {"size_bytes", size ? json(*size) : json()},
                      {"base_offset", file_.base_offset ? json(*file_.base_offset) : json()}},
                     kind.items);
    json summary = json::object();
    if (ec) {
      problem(std::nullopt, "cannot read: " + ec.message());
    } else if (!listing_error_.empty()) {
      problem(std::nullopt, "cannot list the directory: " + listing_error_);
    } else if (fs::is_directory(status)) {
      problem(std::nullopt, "a directory: only the files of a partition directory are dumped");
    } else if (!regular) {
      problem(std::nullopt, "not a regular file");
    } else {
      summary = dump();
    }
    summary["problems"] = problems_.count;
    sink_.end_file(summary);
    problems_.path = file_.path;
    return problems_;
  }

 private:
  json dump() {
    switch (file_.kind) {
      case FileKind::kSegment:
      case FileKind::kOffsetIndex:
      case FileKind::kTimeIndex:
      case FileKind::kKeyIndex: {
        Result<File> opened = File::open_read_only(file_.path);
        if (!opened.is_ok()) {
          problem(std::nullopt, "cannot open: " + opened.status().message());
          return json::object();
        }
        Result<uint64_t> size = opened->size();
        if (!size.is_ok()) {
          problem(std::nullopt, size.status().message());
          return json::object();
        }
        if (file_.kind == FileKind::kSegment) return dump_segment(*opened, *size);
        if (file_.kind == FileKind::kOffsetIndex) return dump_offset_index(*opened, *size);
        if (file_.kind == FileKind::kKeyIndex) return dump_key_index(*opened, *size);
        return dump_time_index(*opened, *size);
      }
      case FileKind::kLogState:
      case FileKind::kLeaderEpochs:
      case FileKind::kProducerState:
      case FileKind::kDedupWindow:
      case FileKind::kDelayedSchedule:
      case FileKind::kQueueState:
      case FileKind::kCleaner:
        dump_checkpoint();
        return json::object();
      case FileKind::kCleanShutdown:
      case FileKind::kPowerLossJournal:
      case FileKind::kTemporary:
        // Known, and nothing to decode: a marker, a test journal, an
        // interrupted atomic write the log deletes on open.
        return json::object();
      case FileKind::kUnknown:
        break;
    }
    problem(std::nullopt,
            "unknown file: not a segment (.log), an index (.index, .timeindex, .keyindex) or a "
            "checkpoint "
            "(log-state.checkpoint, leader-epoch-checkpoint, producer-state.checkpoint, "
            "dedup-window.checkpoint, delayed-schedule.checkpoint, queue-state.checkpoint, "
            "cleaner.checkpoint)");
    return json::object();
  }

  // §3: whole batches back to back. A batch that parses but fails its CRC is
  // printed and reported; one whose header does not parse is skipped by its
  // length field when that still lands inside the file, else the file ends there.
  json dump_segment(const File& log, uint64_t size) {
    int64_t batches = 0, records = 0;
    json first_offset, last_offset;
    // Where the next batch may start (-1: unknown, for a file not named by its
    // base offset). The first batch starts exactly there; later ones at or past
    // it, gaps being offsets compaction removed.
    int64_t expected = file_.base_offset.value_or(-1);
    std::string bytes;
    RecordBatchReader reader;
    std::vector<Record> decoded;
    uint64_t position = 0;
    while (position < size) {
      uint64_t left = size - position;
      if (left < kBatchHeaderSize) {
        Status read = read_exactly(log, position, static_cast<size_t>(left), &bytes);
        if (!read.is_ok()) {
          problem(position, read.message());
        } else if (all_zero(bytes)) {
          problem(position, std::to_string(left) + " zero bytes left over after the last batch");
        } else {
          problem(position, "torn tail: " + std::to_string(left) +
                                " bytes left over after the last batch, fewer than a " +
                                std::to_string(kBatchHeaderSize) + "-byte batch header");
        }
        break;
      }
      if (Status read = read_exactly(log, position, kBatchHeaderSize, &bytes); !read.is_ok()) {
        problem(position, read.message());
        break;
      }
      Result<BatchHeader> header = parse_batch_header(as_bytes(bytes));
      if (!header.is_ok()) {
        if (all_zero(bytes)) {
          problem(position, "zero bytes where a batch header should be: " + std::to_string(left) +
                                " bytes left over from here (preallocated or torn write)");
          break;
        }
        int64_t framed = peek_batch_size(reinterpret_cast<const uint8_t*>(bytes.data()));
        if (framed > 0 && static_cast<uint64_t>(framed) <= left) {
          problem(position, "bad batch header: " + header.status().message() + "; skipped its " +
                                std::to_string(framed) + " bytes by its length field");
          position += static_cast<uint64_t>(framed);
          continue;
        }
        problem(position, "bad batch header: " + header.status().message() +
                              "; its length does not frame a batch, so nothing after it can be " +
                              "read: " + std::to_string(left) + " bytes left over from here");
        break;
      }
      size_t total = header->total_size();
      if (total > left) {
        problem(position, "torn batch at base offset " + std::to_string(header->base_offset) +
                              ": its header says " + std::to_string(total) + " bytes, " +
                              std::to_string(left) + " bytes left over (torn write)");
        break;
      }
      if (Status read = read_exactly(log, position, total, &bytes); !read.is_ok()) {
        problem(position, read.message());
        break;
      }
      std::vector<std::string> found;  // reported after the batch is printed
      uint32_t actual_crc = compute_batch_crc(as_bytes(bytes));
      if (actual_crc != header->crc) {
        found.push_back("CRC mismatch in batch at base offset " +
                        std::to_string(header->base_offset) + ": expected " + hex32(header->crc) +
                        " (stored), actual " + hex32(actual_crc) + " (computed)");
      }
      bool first = batches == 0;
      bool follows = expected < 0 ||
                     (first ? header->base_offset == expected : header->base_offset >= expected);
      if (!follows) {
        found.push_back("batch has base offset " + std::to_string(header->base_offset) +
                        ", expected " + std::to_string(expected) +
                        (first ? " (the file name)" : " or more (offsets go back)"));
      }
      json batch = batch_json(*header, position, actual_crc);
      if (options_.records) {
        Status status = reader.decode(as_bytes(bytes), &decoded);
        json list = json::array();
        for (const Record& record : decoded) list.push_back(dumped_record_json(record));
        if (!status.is_ok()) {
          found.push_back("records do not decode after " + std::to_string(decoded.size()) + " of " +
                          std::to_string(header->record_count) + ": " + status.message());
        }
        batch["records"] = std::move(list);
      }
      sink_.item(batch);
      for (std::string& message : found) problem(position, std::move(message));
      if (follows) expected = header->next_offset();
      if (first_offset.is_null()) first_offset = header->base_offset;
      last_offset = header->last_offset();
      ++batches;
      records += header->record_count;
      position += total;
    }
    return {{"batches", batches},
            {"records", records},
            {"first_offset", first_offset},
            {"last_offset", last_offset}};
  }

  // The segment beside an index, or nullopt when there is none to check against.
  std::optional<File> open_segment() {
    std::error_code ec;
    if (!fs::is_regular_file(file_.segment_path, ec)) return std::nullopt;
    Result<File> log = File::open_read_only(file_.segment_path);
    if (!log.is_ok()) return std::nullopt;
    return std::move(log).value();
  }

  std::string segment_name() const { return fs::path(file_.segment_path).filename().string(); }

  // Calls `visit(entry_number, entry_bytes)` for each whole entry of `size`
  // bytes, then reports a partial one at the end.
  template <typename Visit>
  int64_t for_each_entry(const File& index, uint64_t file_size, size_t size, Visit&& visit) {
    uint64_t whole = file_size - file_size % size;
    std::string chunk;
    int64_t number = 0;
    for (uint64_t at = 0; at < whole; at += chunk.size()) {
      auto bytes = static_cast<size_t>(std::min<uint64_t>(kIndexChunkBytes, whole - at));
      if (Status read = read_exactly(index, at, bytes, &chunk); !read.is_ok()) {
        problem(at, read.message());
        return number;
      }
      const auto* p = reinterpret_cast<const uint8_t*>(chunk.data());
      for (size_t i = 0; i < bytes; i += size) visit(number++, p + i);
    }
    if (whole != file_size) {
      problem(whole, std::to_string(file_size - whole) + " bytes left over after the last entry, " +
                         "fewer than a " + std::to_string(size) + "-byte entry");
    }
    return number;
  }

  json absolute(uint32_t relative_offset) const {
    return file_.base_offset ? json(*file_.base_offset + relative_offset) : json();
  }

  // §4: 8-byte entries, both fields strictly increasing, each the position
  // of the batch starting at that offset.
  json dump_offset_index(const File& index, uint64_t size) {
    std::optional<File> log = open_segment();
    uint64_t log_size = 0;
    if (log) {
      Result<uint64_t> got = log->size();
      if (!got.is_ok()) log.reset();
      if (got.is_ok()) log_size = *got;
    }
    std::optional<OffsetIndexEntry> previous;
    std::string header_bytes;
    int64_t entries =
        for_each_entry(index, size, kOffsetIndexEntryBytes, [&](int64_t number, const uint8_t* p) {
          OffsetIndexEntry e{get_fixed<uint32_t>(p), get_fixed<uint32_t>(p + 4)};
          sink_.item({{"number", number},
                      {"relative_offset", e.relative_offset},
                      {"offset", absolute(e.relative_offset)},
                      {"position", e.position}});
          uint64_t at = static_cast<uint64_t>(number) * kOffsetIndexEntryBytes;
          std::string entry = "entry " + std::to_string(number);
          if (previous && (e.relative_offset <= previous->relative_offset ||
                           e.position <= previous->position)) {
            problem(at, entry + " is out of order: relative offset " +
                            std::to_string(e.relative_offset) + " at position " +
                            std::to_string(e.position) + " after relative offset " +
                            std::to_string(previous->relative_offset) + " at position " +
                            std::to_string(previous->position) + " (both must increase)");
          }
          previous = e;
          if (!log) return;
          if (e.position >= log_size) {
            problem(at, entry + " points past the segment: position " + std::to_string(e.position) +
                            ", but " + segment_name() + " has " + std::to_string(log_size) +
                            " bytes");
            return;
          }
          if (log_size - e.position < kBatchHeaderSize ||
              !read_exactly(*log, e.position, kBatchHeaderSize, &header_bytes).is_ok()) {
            problem(at, entry + ": no whole batch header at position " +
                            std::to_string(e.position) + " of " + segment_name());
            return;
          }
          Result<BatchHeader> header = parse_batch_header(as_bytes(header_bytes));
          if (!header.is_ok()) {
            problem(at, entry + ": no batch starts at position " + std::to_string(e.position) +
                            " of " + segment_name() + " (" + header.status().message() + ")");
          } else if (file_.base_offset &&
                     header->base_offset != *file_.base_offset + e.relative_offset) {
            problem(at, entry + ": the batch at position " + std::to_string(e.position) + " of " +
                            segment_name() + " has base offset " +
                            std::to_string(header->base_offset) + ", not " +
                            std::to_string(*file_.base_offset + e.relative_offset));
          }
        });
    return {{"entries", entries}, {"checked_against", log ? json(file_.segment_path) : json()}};
  }

  // Headers from the start of `log` until the first that does not parse.
  static SegmentExtent scan_headers(const File& log) {
    SegmentExtent extent;
    Result<uint64_t> size = log.size();
    if (!size.is_ok()) return extent;
    extent.size_bytes = *size;
    std::string bytes;
    for (uint64_t position = 0; extent.size_bytes - position >= kBatchHeaderSize;) {
      if (!read_exactly(log, position, kBatchHeaderSize, &bytes).is_ok()) break;
      Result<BatchHeader> header = parse_batch_header(as_bytes(bytes));
      if (!header.is_ok() || header->total_size() > extent.size_bytes - position) break;
      extent.last_base_offset = header->base_offset;
      extent.end_offset = header->next_offset();
      extent.max_timestamp = std::max(extent.max_timestamp, header->max_timestamp);
      position += header->total_size();
    }
    return extent;
  }

  // §5: 12-byte entries, timestamps increasing, relative offsets never
  // decreasing, each naming a batch of the segment.
  json dump_time_index(const File& index, uint64_t size) {
    std::optional<File> log = open_segment();
    SegmentExtent extent = log ? scan_headers(*log) : SegmentExtent{};
    std::optional<TimeIndexEntry> previous;
    int64_t entries =
        for_each_entry(index, size, kTimeIndexEntryBytes, [&](int64_t number, const uint8_t* p) {
          TimeIndexEntry e{get_fixed<int64_t>(p), get_fixed<uint32_t>(p + 8)};
          sink_.item({{"number", number},
                      {"timestamp", e.timestamp},
                      {"relative_offset", e.relative_offset},
                      {"offset", absolute(e.relative_offset)}});
          uint64_t at = static_cast<uint64_t>(number) * kTimeIndexEntryBytes;
          std::string entry = "entry " + std::to_string(number);
          if (previous && (e.timestamp <= previous->timestamp ||
                           e.relative_offset < previous->relative_offset)) {
            problem(at, entry + " is out of order: timestamp " + std::to_string(e.timestamp) +
                            " at relative offset " + std::to_string(e.relative_offset) +
                            " after timestamp " + std::to_string(previous->timestamp) +
                            " at relative offset " + std::to_string(previous->relative_offset) +
                            " (timestamps increase, relative offsets never decrease)");
          }
          previous = e;
          if (!log || !file_.base_offset) return;
          int64_t offset = *file_.base_offset + e.relative_offset;
          if (!extent.last_base_offset) {
            problem(at, entry + " points past the segment: " + segment_name() + " has no batch");
          } else if (offset > *extent.last_base_offset) {
            problem(at, entry + " points past the segment: offset " + std::to_string(offset) +
                            ", but the last batch of " + segment_name() + " starts at " +
                            std::to_string(*extent.last_base_offset));
          } else if (e.timestamp > extent.max_timestamp) {
            problem(at, entry + ": timestamp " + std::to_string(e.timestamp) +
                            " is later than every batch of " + segment_name() +
                            " (largest max_timestamp " + std::to_string(extent.max_timestamp) +
                            ")");
          }
        });
    return {{"entries", entries}, {"checked_against", log ? json(file_.segment_path) : json()}};
  }

  // §5a: 8-byte entries, relative offsets never decreasing, each inside the
  // segment; key_hash 0 is a batch's marker.
  json dump_key_index(const File& index, uint64_t size) {
    std::optional<File> log = open_segment();
    SegmentExtent extent = log ? scan_headers(*log) : SegmentExtent{};
    std::optional<KeyIndexEntry> previous;
    int64_t entries =
        for_each_entry(index, size, kKeyIndexEntryBytes, [&](int64_t number, const uint8_t* p) {
          KeyIndexEntry e{get_fixed<uint32_t>(p), get_fixed<uint32_t>(p + 4)};
          sink_.item({{"number", number},
                      {"key_hash", hex32(e.key_hash)},
                      {"marker", e.key_hash == kKeyIndexMarker},
                      {"relative_offset", e.relative_offset},
                      {"offset", absolute(e.relative_offset)}});
          uint64_t at = static_cast<uint64_t>(number) * kKeyIndexEntryBytes;
          std::string entry = "entry " + std::to_string(number);
          if (previous && e.relative_offset < previous->relative_offset) {
            problem(at, entry + " is out of order: relative offset " +
                            std::to_string(e.relative_offset) + " after " +
                            std::to_string(previous->relative_offset) +
                            " (relative offsets never decrease)");
          }
          previous = e;
          if (!log || !file_.base_offset) return;
          int64_t offset = *file_.base_offset + e.relative_offset;
          if (offset >= std::max<int64_t>(extent.end_offset, *file_.base_offset)) {
            problem(at,
                    entry + " points past the segment: offset " + std::to_string(offset) +
                        ", but " + segment_name() + " ends at offset " +
                        std::to_string(std::max<int64_t>(extent.end_offset, *file_.base_offset)));
          }
        });
    return {{"entries", entries}, {"checked_against", log ? json(file_.segment_path) : json()}};
  }

  // §6: decoded by the loaders the log itself uses, so a file reported clean
  // here is one the log would accept.
  void dump_checkpoint() {
    std::error_code ec;
    uintmax_t size = fs::file_size(file_.path, ec);
    if (!ec && size > kMaxCheckpointBytes) {
      problem(std::nullopt, std::to_string(size) + " bytes: too large for a checkpoint, not read");
      return;
    }
    Result<json> contents = decode_log_checkpoint(file_.name, file_.path);
    if (!contents.is_ok()) {
      std::string message = contents.status().message();
      // The loaders name the file; the dump already has.
      if (message.starts_with(file_.path + ": ")) message.erase(0, file_.path.size() + 2);
      problem(std::nullopt, message);
      return;
    }
    sink_.item(*contents);
  }

  void problem(std::optional<uint64_t> position, const std::string& message) {
    json found{{"position", position ? json(*position) : json()},
               {"message", printable_text(message)}};
    if (problems_.count++ == 0) problems_.first = found;
    sink_.problem(found);
  }

  DumpFile file_;
  const LogDumpOptions& options_;
  DumpSink& sink_;
  std::string listing_error_;
  FileProblems problems_;
};

// The files of a partition directory, in dump order.
Result<std::vector<DumpFile>> directory_files(const std::string& dir) {
  MQ_ASSIGN_OR_RETURN(std::vector<std::string> names, list_directory(dir));
  std::vector<DumpFile> files;
  files.reserve(names.size());
  for (const std::string& name : names) files.push_back(classify((fs::path(dir) / name).string()));
  std::ranges::sort(files, {}, order_key);
  return files;
}

}  // namespace

std::string printable_text(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t n = printable_length(bytes, i);
    if (n == 0) break;
    i += n;
  }
  if (i == bytes.size()) return std::string(bytes);
  std::string out;
  out.reserve(bytes.size() + 16);
  for (i = 0; i < bytes.size();) {
    if (size_t n = printable_length(bytes, i); n > 0) {
      out += bytes[i] == '\\' ? std::string_view("\\\\") : bytes.substr(i, n);
      i += n;
      continue;
    }
    char c = bytes[i++];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", static_cast<unsigned char>(c));
      out += escaped;
    }
  }
  return out;
}

LogDumpSummary dump_log_paths(const std::vector<std::string>& paths, const LogDumpOptions& options,
                              DumpSink& sink) {
  LogDumpSummary summary;
  auto dump = [&](DumpFile file, std::string listing_error = {}) {
    FileProblems problems =
        FileDumper(std::move(file), options, sink, std::move(listing_error)).run();
    ++summary.files;
    summary.problems += problems.count;
    if (problems.count > 0) summary.damaged.push_back(std::move(problems));
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      dump(classify(path));
      continue;
    }
    Result<std::vector<DumpFile>> files = directory_files(path);
    if (!files.is_ok()) {
      // Reported as a file of its own, so that it counts and shows like any other.
      dump(classify(path), files.status().message());
      continue;
    }
    for (DumpFile& file : *files) dump(std::move(file));
  }
  sink.finish({{"files", summary.files}, {"problems", summary.problems}});
  return summary;
}

}  // namespace mq::ctl
