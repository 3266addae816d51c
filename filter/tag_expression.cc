// Parsing and matching of tag subscription expressions (filter/tag_expression.h).
#include "filter/tag_expression.h"

#include <algorithm>

#include "filter/property_filter_lexer.h"
#include "store/record_batch.h"

namespace mq::filter {

namespace {

Status tag_error_at(size_t offset, std::string_view what) {
  return Status(
      ErrorCode::kInvalidRequest,
      "tag expression, position " + std::to_string(offset + 1) + ": " + std::string(what));
}

}  // namespace

Result<TagExpression> TagExpression::parse(std::string_view text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  TagExpression expression;
  if (begin == end || text.substr(begin, end - begin) == "*") return expression;

  size_t pos = begin;
  size_t separator = std::string_view::npos;  // offset of the '||' before the tag being read
  while (true) {
    while (pos < end && is_space(text[pos])) ++pos;
    size_t start = pos;
    while (pos < end && !is_space(text[pos]) && text[pos] != '|') ++pos;
    std::string_view tag = text.substr(start, pos - start);
    if (tag.empty()) {
      // Trailing whitespace is trimmed, so an empty tag at the end follows a '||'.
      if (start == end) return tag_error_at(separator, "empty tag after '||'");
      if (start + 1 < end && text[start + 1] == '|') {
        return tag_error_at(start, "empty tag before '||'");
      }
      return tag_error_at(start, "single '|' (tags are separated by '||')");
    }
    if (size_t star = tag.find('*'); star != std::string_view::npos) {
      return tag_error_at(start + star, "'*' only stands alone");
    }
    if (Status checked = check_tag(tag); !checked.is_ok()) {
      return tag_error_at(start, checked.message());
    }
    if (std::find(expression.tags_.begin(), expression.tags_.end(), tag) ==
        expression.tags_.end()) {
      expression.tags_.emplace_back(tag);
    }

    while (pos < end && is_space(text[pos])) ++pos;
    if (pos == end) break;
    if (text[pos] != '|') return tag_error_at(pos, "expected '||' between tags");
    if (pos + 1 == end || text[pos + 1] != '|') {
      return tag_error_at(pos, "single '|' (tags are separated by '||')");
    }
    separator = pos;
    pos += 2;
  }

  expression.summary_mask_ = 0;
  for (const std::string& tag : expression.tags_) expression.summary_mask_ |= tag_summary_bit(tag);
  if (expression.tags_.size() > kMaxLinearTags) {
    expression.sorted_tags_ = expression.tags_;
    std::sort(expression.sorted_tags_.begin(), expression.sorted_tags_.end());
  }
  return expression;
}

bool TagExpression::matches(std::optional<std::string_view> tag) const {
  if (matches_all()) return true;
  if (!tag) return false;
  if (!sorted_tags_.empty()) {
    return std::binary_search(sorted_tags_.begin(), sorted_tags_.end(), *tag);
  }
  for (const std::string& listed : tags_) {
    if (listed == *tag) return true;
  }
  return false;
}

std::string TagExpression::to_string() const {
  if (matches_all()) return "*";
  std::string out;
  for (const std::string& tag : tags_) {
    if (!out.empty()) out += " || ";
    out += tag;
  }
  return out;
}

}  // namespace mq::filter
