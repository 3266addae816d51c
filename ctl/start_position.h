// Where `mqctl consume --from` starts reading a partition:
//   beginning | end | OFFSET | -N (the last N messages) | @TIME | @-DURATION
// TIME is epoch milliseconds or ISO 8601 ("2026-11-25T10:00:00Z",
// "2026-11-25T10:00:00.250+01:00", "2026-11-25" for midnight UTC, and
// Kafka's zone-less "2026-11-25T10:00:00" in the local time zone).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"

namespace mq::ctl {

struct StartPosition {
  enum class Kind { kBeginning, kEnd, kOffset, kLastN, kTimestamp };
  Kind kind = Kind::kEnd;
  int64_t value = 0;  // the offset, N, or the timestamp in ms since the epoch
};

// `now_ms` anchors @-DURATION.
Result<StartPosition> parse_start_position(std::string_view spec, int64_t now_ms);

// Milliseconds since the epoch of an ISO 8601 date-time (see above).
Result<int64_t> parse_iso8601_ms(std::string_view text);

// A point in time as every mqctl time option takes it (group reset-offsets
// --to-datetime, consume --from @TIME): "[@]TIME" or "[@]-DURATION" (that
// long before `now_ms`).
Result<int64_t> parse_time_ms(std::string_view text, int64_t now_ms);

// The first offset to read in a partition holding [log_start, log_end).
// For kTimestamp, `offset_for_time` is the broker's answer to ListOffsets
// (-1: no message that recent, so the end). Offsets outside the log are
// clamped into it.
int64_t resolve_start_offset(const StartPosition& position, int64_t log_start, int64_t log_end,
                             int64_t offset_for_time = -1);

}  // namespace mq::ctl
