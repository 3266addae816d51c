// The property filter lexer (filter/property_filter_lexer.h).
#include "filter/property_filter_lexer.h"

#include <charconv>
#include <system_error>
#include <utility>

#include "store/record_batch.h"

namespace mq::filter {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_part(char c) {
  return is_name_start(c) || is_digit(c) || c == '.';
}
// Characters that run together into one operator, so "==" or "&&" are named whole.
bool is_operator_part(char c) {
  return std::string_view("=<>!&|+*/%^~").find(c) != std::string_view::npos;
}

char to_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr std::pair<std::string_view, Keyword> kKeywords[] = {
    {"AND", Keyword::kAnd},
    {"OR", Keyword::kOr},
    {"NOT", Keyword::kNot},
    {"BETWEEN", Keyword::kBetween},
    {"IN", Keyword::kIn},
    {"IS", Keyword::kIs},
    {"NULL", Keyword::kNull},
    {"TRUE", Keyword::kTrue},
    {"FALSE", Keyword::kFalse},
    {"CONTAINS", Keyword::kContains},
    {"STARTSWITH", Keyword::kStartsWith},
    {"ENDSWITH", Keyword::kEndsWith},
};

}  // namespace

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

Token Lexer::next() {
  while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  if (pos_ == text_.size()) return Token{.kind = TokenKind::kEnd, .offset = pos_};
  char c = text_[pos_];
  bool negative_number = c == '-' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]);
  if (c == '(') return single(TokenKind::kOpen);
  if (c == ')') return single(TokenKind::kClose);
  if (c == ',') return single(TokenKind::kComma);
  if (c == '\'') return quoted(TokenKind::kString);
  if (c == '"') return quoted(TokenKind::kName);
  if (is_digit(c) || negative_number) return number();
  if (is_name_start(c)) return name();
  if (c == '-' || is_operator_part(c)) return comparison();
  auto byte = static_cast<unsigned char>(c);
  if (byte > 0x20 && byte < 0x7F) {
    return error(pos_, "unexpected character '" + std::string(1, c) + "'");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  return error(pos_, std::string("unexpected byte 0x") + kHex[byte >> 4] + kHex[byte & 15]);
}

Token Lexer::error(size_t offset, std::string message) {
  pos_ = text_.size();  // nothing after an error is read
  return Token{.kind = TokenKind::kError, .offset = offset, .text = std::move(message)};
}

Token Lexer::take(TokenKind kind, size_t start) const {
  return Token{.kind = kind, .offset = start, .lexeme = text_.substr(start, pos_ - start)};
}

Token Lexer::single(TokenKind kind) {
  ++pos_;
  return take(kind, pos_ - 1);
}

// 'string' or "name"; a doubled quote stands for one.
Token Lexer::quoted(TokenKind kind) {
  size_t start = pos_;
  char quote = text_[pos_++];
  std::string value;
  while (true) {
    size_t close = text_.find(quote, pos_);
    if (close == std::string_view::npos) {
      return error(start,
                   kind == TokenKind::kString ? "unterminated string" : "unterminated quoted name");
    }
    value.append(text_.substr(pos_, close - pos_));
    pos_ = close + 1;
    if (pos_ < text_.size() && text_[pos_] == quote) {
      value += quote;
      ++pos_;
      continue;
    }
    break;
  }
  Token token = take(kind, start);
  token.text = std::move(value);
  return token;
}

// Everything that could belong to a number is read, so "1.2.3" or "12ab" fail whole.
Token Lexer::number() {
  size_t start = pos_;
  if (text_[pos_] == '-') ++pos_;
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    bool exponent_sign =
        (c == '+' || c == '-') && (text_[pos_ - 1] == 'e' || text_[pos_ - 1] == 'E');
    if (!is_name_part(c) && !exponent_sign) break;
    ++pos_;
  }
  Token token = take(TokenKind::kNumber, start);
  const char* end = token.lexeme.data() + token.lexeme.size();
  auto [last, failure] = std::from_chars(token.lexeme.data(), end, token.number);
  if (failure == std::errc::result_out_of_range) {
    return error(start, "number out of range '" + std::string(token.lexeme) + "'");
  }
  if (failure != std::errc() || last != end) {
    return error(start, "malformed number '" + std::string(token.lexeme) + "'");
  }
  return token;
}

Token Lexer::name() {
  size_t start = pos_;
  while (pos_ < text_.size() && is_name_part(text_[pos_])) ++pos_;
  Token token = take(TokenKind::kName, start);
  for (const auto& [word, keyword] : kKeywords) {
    if (equals_ignoring_case(token.lexeme, word)) {
      token.kind = TokenKind::kKeyword;
      token.keyword = keyword;
      return token;
    }
  }
  token.text = equals_ignoring_case(token.lexeme, "TAGS") ? std::string(kTagHeader)
                                                          : std::string(token.lexeme);
  return token;
}

Token Lexer::comparison() {
  size_t start = pos_;
  if (text_[pos_] == '-') ++pos_;
  while (pos_ < text_.size() && is_operator_part(text_[pos_])) ++pos_;
  Token token = take(TokenKind::kOperator, start);
  constexpr std::pair<std::string_view, CompareOp> kOperators[] = {
      {"=", CompareOp::kEqual},         {"<>", CompareOp::kNotEqual},  {"!=", CompareOp::kNotEqual},
      {"<", CompareOp::kLess},          {"<=", CompareOp::kLessEqual}, {">", CompareOp::kGreater},
      {">=", CompareOp::kGreaterEqual},
  };
  for (const auto& [spelling, op] : kOperators) {
    if (token.lexeme == spelling) {
      token.op = op;
      return token;
    }
  }
  return error(start, "unknown operator '" + std::string(token.lexeme) + "'");
}

}  // namespace mq::filter
