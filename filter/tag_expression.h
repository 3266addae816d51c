// TagExpression: RocketMQ's tag subscription expression. A consumer names the
// tags it wants ("A || B") or every message ("*"); the broker matches each
// record's tag (header mq.tag, store/record_batch.h) against it and skips
// whole batches whose tag summary shares no bit with summary_mask().
//
//   expression := blank | '*' | tag ( '||' tag )*      spaces allowed around
//   tag        := 1..255 bytes passing mq::check_tag   '*', '||' and tags
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq::filter {

class TagExpression {
 public:
  // Every message, as "*" parses.
  TagExpression() = default;

  // "" or "*" (surrounding whitespace allowed) = every message; otherwise tags separated by "||"
  // with optional spaces: "A", "A || B", "A||B||C". Each tag must pass mq::check_tag.
  // Errors: Status(ErrorCode::kInvalidRequest, "tag expression, position N: <what>") with N the
  // 1-based byte position of the problem.
  static Result<TagExpression> parse(std::string_view text);

  bool matches_all() const { return tags_.empty(); }
  // A record with this tag (nullopt: untagged) matches: always when matches_all(); otherwise only a
  // tag equal (byte-wise, case-sensitive) to one of the listed ones.
  bool matches(std::optional<std::string_view> tag) const;
  // OR of mq::tag_summary_bit over the listed tags (~0 when matches_all()): a batch whose tag
  // summary has no bit in common with this mask holds no matching record.
  uint64_t summary_mask() const { return summary_mask_; }
  // De-duplicated, in first-listed order; empty when matches_all().
  const std::vector<std::string>& tags() const { return tags_; }
  // Canonical: "*" or "A || B".
  std::string to_string() const;

 private:
  // Up to this many tags matches() compares one by one; beyond, it searches sorted_tags_.
  static constexpr size_t kMaxLinearTags = 8;

  std::vector<std::string> tags_;
  std::vector<std::string> sorted_tags_;  // only when tags_ has more than kMaxLinearTags
  uint64_t summary_mask_ = ~uint64_t{0};
};

}  // namespace mq::filter
