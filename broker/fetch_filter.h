// Filtered reads for Fetch v1 (docs/messaging.md "Tags and filters"): the
// records of a partition whose tag matches a subscription's tag expression
// and whose headers pass its property filter, and the offset to go on from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "filter/property_filter.h"
#include "filter/tag_expression.h"
#include "store/log.h"

namespace mq::broker {

struct FetchFilter {
  filter::TagExpression tags;
  std::optional<filter::PropertyFilter> where;

  // From a Fetch v1 topic's `tags` and `filter` strings; nullopt when neither
  // filters anything. Errors name the expression and the position.
  static Result<std::optional<FetchFilter>> parse(std::string_view tags, std::string_view where);
};

struct FilteredRead {
  std::string bytes;         // whole batches holding only matching records
  int64_t next_offset = -1;  // where the next fetch continues: after the last batch looked at
  uint64_t scanned_bytes = 0;
  uint64_t skipped_batches = 0;  // passed over on their tag summary alone, not decoded
};

// At most this many bytes of the log are looked at per partition per fetch,
// so one fetch of a mostly non-matching backlog stays short.
constexpr size_t kFilterScanBytes = 16 * 1024 * 1024;

// Reads `log` from the batch holding `offset`, below `max_offset`, and keeps
// the matching records at or after `offset`. A batch whose records all match
// is copied as stored; one with some matching records is re-encoded,
// uncompressed, as one batch per run of consecutive matches (offsets kept).
// Stops once `max_bytes` of matches are gathered (at least one batch is
// returned when one matches), at the end, or after kFilterScanBytes.
Result<FilteredRead> read_filtered(const Log& log, int64_t offset, size_t max_bytes,
                                   int64_t max_offset, const FetchFilter& filter);

}  // namespace mq::broker
