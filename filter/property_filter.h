// PropertyFilter: RocketMQ's SQL92 filter over record headers, evaluated on the
// broker for each record of a filtered fetch. Parsed once into a flat tree;
// matches() allocates nothing.
//
//   condition  := and ( OR and )*                 precedence NOT > AND > OR,
//   and        := not ( AND not )*                keywords in any case
//   not        := NOT not | '(' condition ')' | predicate
//   predicate  := operand ( '=' | '<>' | '!=' | '>' | '>=' | '<' | '<=' ) operand
//              |  operand [NOT] BETWEEN operand AND operand
//              |  property [NOT] IN '(' literal ( ',' literal )* ')'   strings, numbers
//              |  property IS [NOT] NULL
//              |  operand [NOT] ( CONTAINS | STARTSWITH | ENDSWITH ) operand
//   operand    := property | 'string' | number | TRUE | FALSE
//   property   := [A-Za-z_][A-Za-z0-9_.]* | "any key"   TAGS (any case) is the tag, mq.tag
//   'string'   := '' escapes a quote; "key" likewise with ""
//   number     := -?digits[.digits][e[+-]digits]
//
// Properties are strings: a header's value, SQL NULL when the header is missing
// or its value is null (the first header with the key counts). Against a number
// a property reads as one (std::from_chars, the whole value; NaN is not a
// number); '=' and '<>' between strings compare bytes; '<' ... and BETWEEN
// compare numbers only; against TRUE/FALSE a property equals "true"/"false" in
// any case. A NULL or non-number operand makes a comparison UNKNOWN, and the
// logic is SQL's three-valued one: a record matches only when the whole
// condition is TRUE. IS [NOT] NULL is never UNKNOWN.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"
#include "store/record_batch.h"

namespace mq::filter {

class PropertyFilter {
 public:
  static constexpr size_t kMaxTextBytes = 4096;
  static constexpr int kMaxDepth = 64;  // parentheses and NOTs, counted together
  static constexpr size_t kMaxInItems = 1024;

  // Errors: Status(ErrorCode::kInvalidRequest, "filter, position N: <what>"), N the 1-based byte
  // position of the offending token (one past the end when the text ends too early); also
  // "filter is empty" and "filter of N bytes (at most 4096)".
  static Result<PropertyFilter> parse(std::string_view text);

  // True only when the expression evaluates to TRUE for a record with these headers.
  bool matches(std::span<const RecordHeader> headers) const;
  // As given to parse().
  const std::string& text() const;

 private:
  struct Program;  // the text and its parsed tree (property_filter.cc)

  explicit PropertyFilter(std::shared_ptr<const Program> program) : program_(std::move(program)) {}

  // Immutable once parsed, so copies of a filter share it.
  std::shared_ptr<const Program> program_;
};

}  // namespace mq::filter
