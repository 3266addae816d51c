// Internal to filter/: the tokens of the property filter language
// (filter/property_filter.h has the grammar) and the lexer that reads them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mq::filter {

enum class CompareOp : uint8_t { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual };

enum class Keyword : uint8_t {
  kNone,
  kAnd,
  kOr,
  kNot,
  kBetween,
  kIn,
  kIs,
  kNull,
  kTrue,
  kFalse,
  kContains,
  kStartsWith,
  kEndsWith,
};

enum class TokenKind : uint8_t {
  kEnd,
  kError,  // the lexer's error, reported when the parser reaches it
  kName,   // a property: a bare name (not a keyword) or a "quoted" one
  kKeyword,
  kString,
  kNumber,
  kOperator,  // a comparison
  kOpen,
  kClose,
  kComma,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;        // of its first byte in the text (kEnd: the text's size)
  std::string_view lexeme;  // as written
  std::string text;         // kName: the header key; kString: the value; kError: the message
  Keyword keyword = Keyword::kNone;
  CompareOp op = CompareOp::kEqual;
  double number = 0;
};

// Reads tokens one at a time, so a parser reports the earliest error of a text.
// After a kError token only kEnd follows.
class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next();

 private:
  Token error(size_t offset, std::string message);
  Token take(TokenKind kind, size_t start) const;
  Token single(TokenKind kind);
  Token quoted(TokenKind kind);
  Token number();
  Token name();
  Token comparison();

  std::string_view text_;
  size_t pos_ = 0;
};

// ASCII whitespace, which separates tokens.
bool is_space(char c);
// ASCII letters compared without case, as keywords and TRUE/FALSE values are.
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace mq::filter
