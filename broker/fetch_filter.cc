// Filtered reads for Fetch v1; see fetch_filter.h.
#include "broker/fetch_filter.h"

#include <vector>

#include "store/record_batch.h"

namespace mq::broker {

Result<std::optional<FetchFilter>> FetchFilter::parse(std::string_view tags,
                                                      std::string_view where) {
  MQ_ASSIGN_OR_RETURN(filter::TagExpression expression, filter::TagExpression::parse(tags));
  std::optional<filter::PropertyFilter> property;
  if (!where.empty()) {
    MQ_ASSIGN_OR_RETURN(property, filter::PropertyFilter::parse(where));
  }
  if (expression.matches_all() && !property) return std::optional<FetchFilter>();
  return std::optional<FetchFilter>(FetchFilter{std::move(expression), std::move(property)});
}

namespace {

// What one log read holds at most: a few batches past a skip are cheap to
// read again; the scan limit bounds the whole.
constexpr size_t kReadChunkBytes = 1024 * 1024;

class Gatherer {
 public:
  Gatherer(const FetchFilter& filter, int64_t offset, FilteredRead* out)
      : filter_(filter), offset_(offset), out_(out) {}

  Status add(std::span<const uint8_t> batch, const BatchHeader& h) {
    out_->scanned_bytes += batch.size();
    out_->next_offset = h.next_offset();
    // Scheduled and cancel records (delayed delivery) and queue-state records
    // are not for consumers.
    if (h.is_hidden()) {
      ++out_->skipped_batches;
      return Status::ok();
    }
    if (!filter_.tags.matches_all() &&
        (batch_tag_summary(batch, h) & filter_.tags.summary_mask()) == 0) {
      ++out_->skipped_batches;
      return Status::ok();
    }
    MQ_RETURN_IF_ERROR(reader_.decode(batch, &records_));
    keep_.assign(records_.size(), false);
    size_t kept = 0;
    for (size_t i = 0; i < records_.size(); ++i) {
      const Record& r = records_[i];
      keep_[i] = r.offset >= offset_ && filter_.tags.matches(tag_of(r.headers)) &&
                 (!filter_.where || filter_.where->matches(r.headers));
      kept += keep_[i] ? 1 : 0;
    }
    if (kept == records_.size()) {
      out_->bytes.append(reinterpret_cast<const char*>(batch.data()), batch.size());
      return Status::ok();
    }
    for (size_t i = 0; i < records_.size();) {
      if (!keep_[i]) {
        ++i;
        continue;
      }
      size_t end = i;
      while (end < records_.size() && keep_[end]) ++end;
      MQ_ASSIGN_OR_RETURN(std::string run,
                          rebuild_records(h, std::span<const Record>(records_).subspan(i, end - i),
                                          Compression::kNone));
      out_->bytes.append(run);
      i = end;
    }
    return Status::ok();
  }

 private:
  const FetchFilter& filter_;
  int64_t offset_;
  FilteredRead* out_;
  RecordBatchReader reader_;
  std::vector<Record> records_;
  std::vector<bool> keep_;
};

}  // namespace

Result<FilteredRead> read_filtered(const Log& log, int64_t offset, size_t max_bytes,
                                   int64_t max_offset, const FetchFilter& filter) {
  FilteredRead out;
  Gatherer gatherer(filter, offset, &out);
  int64_t from = offset;
  while (out.bytes.size() < max_bytes && out.scanned_bytes < kFilterScanBytes) {
    MQ_ASSIGN_OR_RETURN(LogReadResult read, log.read(from, kReadChunkBytes, max_offset));
    BatchCursor cursor(as_bytes(read.bytes));
    bool progressed = false;
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
      progressed = true;
      MQ_RETURN_IF_ERROR(gatherer.add(batch, h));
      if (out.bytes.size() >= max_bytes) break;
    }
    if (!progressed) break;  // nothing (more) below max_offset
    from = out.next_offset;
  }
  if (out.next_offset < offset) out.next_offset = offset;
  return out;
}

}  // namespace mq::broker
