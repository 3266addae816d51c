// libFuzzer target: the parsers of the subscription filters (filter/). Any
// bytes either parse or fail with INVALID_REQUEST and a message naming a
// position; a property filter that parses is evaluated against fixed header
// sets (never TRUE for both it and its negation), and a tag expression matches
// its own tags and re-parses from its canonical form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "filter/property_filter.h"
#include "filter/tag_expression.h"
#include "store/record_batch.h"

using namespace mq;
using namespace mq::filter;

namespace {

// Stops the fuzzer with a crash report when an invariant breaks.
void require(bool condition) {
  if (!condition) __builtin_trap();
}

bool starts_with(const std::string& text, std::string_view prefix) {
  return std::string_view(text).starts_with(prefix);
}

const std::vector<RecordHeader> kHeaderSets[] = {
    {},
    {{"a", "1"}, {"b", "x"}, {"mq.tag", "TagA"}, {"n", "2.5"}, {"flag", "true"}},
    {{"a", std::nullopt}, {"b", "TRUE"}, {"c", "-3e2"}, {"mq.tag", std::nullopt}},
    {{"a", "abc"}, {"a", "1"}, {"x-region", "eu"}, {"", ""}, {"s", "it's"}},
};

void check_property_filter(std::string_view text) {
  Result<PropertyFilter> filter = PropertyFilter::parse(text);
  if (!filter.is_ok()) {
    require(filter.code() == ErrorCode::kInvalidRequest);
    std::string message = filter.status().message();
    require(starts_with(message, "filter, position ") || message == "filter is empty" ||
            (starts_with(message, "filter of ") && text.size() > PropertyFilter::kMaxTextBytes));
    return;
  }
  require(filter->text() == text);
  // The negation may not parse (too long or too deep); when it does, it and the
  // filter are never both TRUE.
  Result<PropertyFilter> negated = PropertyFilter::parse("NOT (" + std::string(text) + ")");
  for (const std::vector<RecordHeader>& headers : kHeaderSets) {
    bool matches = filter->matches(headers);
    if (negated.is_ok()) require(!(matches && negated->matches(headers)));
  }
}

void check_tag_expression(std::string_view text) {
  Result<TagExpression> expression = TagExpression::parse(text);
  if (!expression.is_ok()) {
    require(expression.code() == ErrorCode::kInvalidRequest);
    require(starts_with(expression.status().message(), "tag expression, position "));
    return;
  }
  for (const std::string& tag : expression->tags()) {
    require(expression->matches(tag));
    require((expression->summary_mask() & tag_summary_bit(tag)) != 0);
  }
  require(expression->matches(std::nullopt) == expression->matches_all());
  Result<TagExpression> again = TagExpression::parse(expression->to_string());
  require(again.is_ok() && again->tags() == expression->tags());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  check_property_filter(text);
  check_tag_expression(text);
  return 0;
}
