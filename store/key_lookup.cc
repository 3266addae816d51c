// Log::find_by_key: records by their key, through the segments' key indexes.
#include <algorithm>

#include "store/log.h"

namespace mq {

Result<KeyLookup> Log::find_by_key(std::string_view key, int64_t max_offset, size_t limit) const {
  KeyLookup out;
  if (limit == 0) return out;
  std::vector<std::string> found;  // newest first, each record a batch of its own
  RecordBatchReader reader;
  std::vector<Record> records;
  std::vector<std::shared_ptr<Segment>> segments = segments_from(log_start_offset());
  const int64_t start = log_start_offset();
  // Newest segment first: the latest matches are wanted.
  for (auto segment = segments.rbegin(); segment != segments.rend(); ++segment) {
    if ((*segment)->base_offset() >= max_offset) continue;
    MQ_ASSIGN_OR_RETURN(std::vector<int64_t> candidates, (*segment)->key_candidates(key));
    std::erase_if(candidates, [&](int64_t o) { return o < start || o >= max_offset; });
    out.candidates += candidates.size();
    // Newest candidate first; one read and decode per batch holding candidates.
    for (auto c = candidates.rbegin(); c != candidates.rend();) {
      MQ_ASSIGN_OR_RETURN(LogReadResult read, this->read(*c, 1, max_offset));
      BatchCursor cursor(as_bytes(read.bytes));
      std::span<const uint8_t> batch = cursor.next();
      if (batch.empty()) {
        ++c;  // gone meanwhile (retention)
        continue;
      }
      MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
      MQ_RETURN_IF_ERROR(reader.decode(batch, &records));
      auto before = c;
      for (; c != candidates.rend() && *c >= h.base_offset; ++c) {
        auto record = std::ranges::find(records, *c, &Record::offset);
        if (record == records.end() || !record->key || *record->key != key) continue;
        if (found.size() == limit) {
          out.more = true;
          break;
        }
        MQ_ASSIGN_OR_RETURN(
            std::string one,
            rebuild_records(h, std::span<const Record>(&*record, 1), Compression::kNone));
        found.push_back(std::move(one));
      }
      if (out.more) break;
      if (c == before) ++c;  // in a compaction gap: the read gave the next batch
    }
    if (out.more) break;
  }
  out.matches = found.size();
  for (auto it = found.rbegin(); it != found.rend(); ++it) out.batches += *it;
  return out;
}

}  // namespace mq
