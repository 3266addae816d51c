// SQL92 property filters (filter/property_filter.h): a recursive-descent parser
// over the lexer's tokens into a flat tree of nodes, and the three-valued evaluator.
#include "filter/property_filter.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "filter/property_filter_lexer.h"

namespace mq::filter {

// Named, not anonymous: PropertyFilter::Program holds a Tree.
namespace property_filter_detail {

// ---- The parsed form.

enum class Truth : uint8_t { kFalse, kTrue, kUnknown };

Truth truth_of(bool value) {
  return value ? Truth::kTrue : Truth::kFalse;
}

enum class OperandKind : uint8_t { kProperty, kString, kNumber, kBoolean };

// One side of a predicate. A property names its key, a string literal its
// value, both by index into Tree::strings.
struct Operand {
  OperandKind kind = OperandKind::kNumber;
  bool boolean = false;
  uint32_t string = 0;
  double number = 0;
};

// How a comparison reads its operands; decided from their kinds when parsing.
enum class CompareMode : uint8_t {
  kBytes,    // '=' / '<>' between properties and strings
  kNumbers,  // ordering, or either side a number
  kBoolean,  // '=' / '<>' with TRUE/FALSE, always on the right
};
enum class StringTest : uint8_t { kContains, kStartsWith, kEndsWith };

// Nodes refer to others by index into Tree::nodes.
struct AllOf {  // AND of Tree::children[first, first + count)
  uint32_t first;
  uint32_t count;
};
struct AnyOf {  // OR of Tree::children[first, first + count)
  uint32_t first;
  uint32_t count;
};
struct Not {
  uint32_t child;
};
struct Compare {
  CompareOp op;
  CompareMode mode;
  Operand left;
  Operand right;
};
struct Between {
  Operand value;
  Operand low;
  Operand high;
};
// A property IN a list: its strings (compared as bytes) and numbers, each sorted
// and de-duplicated in Tree::in_strings / Tree::in_numbers.
struct In {
  Operand property;
  uint32_t first_string;
  uint32_t string_count;
  uint32_t first_number;
  uint32_t number_count;
};
struct IsNull {
  Operand property;
};
struct Match {
  StringTest test;
  Operand text;
  Operand pattern;
};

using Node = std::variant<AllOf, AnyOf, Not, Compare, Between, In, IsNull, Match>;

struct Tree {
  std::vector<Node> nodes;
  std::vector<uint32_t> children;
  std::vector<std::string> strings;  // property keys and string literals
  std::vector<std::string> in_strings;
  std::vector<double> in_numbers;
  uint32_t root = 0;
};

// A property's value as a number: the whole of it, as std::from_chars reads it.
std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || std::isnan(value)) {
    return std::nullopt;
  }
  return value;
}

// ---- Parser.

// An operand and where it was written, for errors about its kind.
struct Side {
  Operand operand;
  size_t offset = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : lexer_(text) { current_ = lexer_.next(); }

  Result<Tree> parse() {
    MQ_ASSIGN_OR_RETURN(tree_.root, parse_any(0));
    if (current_.kind != TokenKind::kEnd) {
      return error_here("unexpected " + describe(current_) + " after the end of the expression");
    }
    return std::move(tree_);
  }

 private:
  void advance() {
    previous_ = std::move(current_);
    current_ = lexer_.next();
    ++consumed_;
  }

  bool at(Keyword keyword) const {
    return current_.kind == TokenKind::kKeyword && current_.keyword == keyword;
  }

  // A token as written, in quotes unless it brings its own; long ones cut short.
  static std::string describe(const Token& token) {
    if (token.kind == TokenKind::kEnd) return "the end";
    constexpr size_t kShown = 32;
    std::string shown(token.lexeme.substr(0, kShown));
    if (token.lexeme.size() > kShown) shown += "...";
    if (token.kind == TokenKind::kString || token.lexeme.starts_with('"')) return shown;
    return "'" + shown + "'";
  }

  static Status error(size_t offset, std::string_view what) {
    return Status(ErrorCode::kInvalidRequest,
                  "filter, position " + std::to_string(offset + 1) + ": " + std::string(what));
  }

  // An error at the current token; when that token is the lexer's error, that error instead.
  Status error_here(std::string_view what) const {
    if (current_.kind == TokenKind::kError) return error(current_.offset, current_.text);
    return error(current_.offset, what);
  }

  Status expected(std::string_view what) const {
    if (consumed_ == 0) {
      return error_here("expected " + std::string(what) + ", found " + describe(current_));
    }
    return error_here("expected " + std::string(what) + " after " + describe(previous_));
  }

  uint32_t add(Node node) {
    tree_.nodes.push_back(node);
    return static_cast<uint32_t>(tree_.nodes.size() - 1);
  }

  uint32_t add_string(std::string text) {
    tree_.strings.push_back(std::move(text));
    return static_cast<uint32_t>(tree_.strings.size() - 1);
  }

  // OR of one or more ANDs, AND of one or more factors: flat nodes, not chains.
  template <typename Group, Keyword kJoin>
  Result<uint32_t> parse_group(int depth) {
    std::vector<uint32_t> members;
    while (true) {
      uint32_t member = 0;
      if constexpr (kJoin == Keyword::kOr) {
        MQ_ASSIGN_OR_RETURN(member, (parse_group<AllOf, Keyword::kAnd>(depth)));
      } else {
        MQ_ASSIGN_OR_RETURN(member, parse_factor(depth));
      }
      members.push_back(member);
      if (!at(kJoin)) break;
      advance();
    }
    if (members.size() == 1) return members[0];
    auto first = static_cast<uint32_t>(tree_.children.size());
    tree_.children.insert(tree_.children.end(), members.begin(), members.end());
    return add(Group{first, static_cast<uint32_t>(members.size())});
  }

  Result<uint32_t> parse_any(int depth) { return parse_group<AnyOf, Keyword::kOr>(depth); }

  // NOT factor | '(' condition ')' | predicate. NOTs and parentheses count towards the depth.
  Result<uint32_t> parse_factor(int depth) {
    bool nests = at(Keyword::kNot) || current_.kind == TokenKind::kOpen;
    if (nests && depth == PropertyFilter::kMaxDepth) {
      return error_here("nesting deeper than " + std::to_string(PropertyFilter::kMaxDepth));
    }
    if (at(Keyword::kNot)) {
      advance();
      MQ_ASSIGN_OR_RETURN(uint32_t child, parse_factor(depth + 1));
      return add(Not{child});
    }
    if (current_.kind == TokenKind::kOpen) {
      size_t open = current_.offset;
      advance();
      MQ_ASSIGN_OR_RETURN(uint32_t inner, parse_any(depth + 1));
      if (current_.kind != TokenKind::kClose) {
        return error_here("missing ')' for the '(' at position " + std::to_string(open + 1));
      }
      advance();
      return inner;
    }
    return parse_predicate();
  }

  std::optional<Side> take_operand() {
    Side side{.offset = current_.offset};
    Operand& operand = side.operand;
    switch (current_.kind) {
      case TokenKind::kName:
        operand.kind = OperandKind::kProperty;
        operand.string = add_string(std::move(current_.text));
        break;
      case TokenKind::kString:
        operand.kind = OperandKind::kString;
        operand.string = add_string(std::move(current_.text));
        break;
      case TokenKind::kNumber:
        operand.kind = OperandKind::kNumber;
        operand.number = current_.number;
        break;
      case TokenKind::kKeyword:
        if (!at(Keyword::kTrue) && !at(Keyword::kFalse)) return std::nullopt;
        operand.kind = OperandKind::kBoolean;
        operand.boolean = at(Keyword::kTrue);
        break;
      default:
        return std::nullopt;
    }
    advance();
    return side;
  }

  Result<Side> parse_operand() {
    if (at(Keyword::kNull)) return error_here("NULL only follows IS (write 'x IS NULL')");
    std::optional<Side> side = take_operand();
    if (!side) return expected("a value");
    return *side;
  }

  // Rejects an operand of a kind `what` does not take.
  static Status check_kind(const Side& side, std::string_view what, OperandKind wanted) {
    OperandKind kind = side.operand.kind;
    if (kind == OperandKind::kProperty || kind == wanted) return Status::ok();
    std::string_view found = kind == OperandKind::kString   ? "strings"
                             : kind == OperandKind::kNumber ? "numbers"
                                                            : "TRUE/FALSE";
    std::string_view compares = wanted == OperandKind::kNumber ? "numbers" : "strings";
    return error(side.offset, std::string(what) + " compares " + std::string(compares) + ", not " +
                                  std::string(found));
  }

  Result<uint32_t> parse_predicate() {
    if (at(Keyword::kNull)) return error_here("NULL only follows IS (write 'x IS NULL')");
    std::optional<Side> left = take_operand();
    if (!left) return expected("a condition");
    if (current_.kind == TokenKind::kOperator) return parse_comparison(*left);
    bool negated = false;
    if (at(Keyword::kNot)) {
      advance();
      negated = true;
      if (!at(Keyword::kBetween) && !at(Keyword::kIn) && !at(Keyword::kContains) &&
          !at(Keyword::kStartsWith) && !at(Keyword::kEndsWith)) {
        return expected("BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH");
      }
    }
    Result<uint32_t> predicate = [&]() -> Result<uint32_t> {
      switch (current_.kind == TokenKind::kKeyword ? current_.keyword : Keyword::kNone) {
        case Keyword::kBetween:
          return parse_between(*left);
        case Keyword::kIn:
          return parse_in(*left);
        case Keyword::kIs:
          return parse_is_null(*left, &negated);
        case Keyword::kContains:
          return parse_match(*left, StringTest::kContains, "CONTAINS");
        case Keyword::kStartsWith:
          return parse_match(*left, StringTest::kStartsWith, "STARTSWITH");
        case Keyword::kEndsWith:
          return parse_match(*left, StringTest::kEndsWith, "ENDSWITH");
        default:
          return expected("a comparison");
      }
    }();
    if (!predicate.is_ok() || !negated) return predicate;
    // SQL's x NOT IN (...), NOT BETWEEN, IS NOT NULL ... are NOT of the positive form.
    return add(Not{*predicate});
  }

  Result<uint32_t> parse_comparison(Side left) {
    std::string op_name = "'" + std::string(current_.lexeme) + "'";
    CompareOp op = current_.op;
    advance();
    MQ_ASSIGN_OR_RETURN(Side right, parse_operand());
    OperandKind l = left.operand.kind;
    OperandKind r = right.operand.kind;
    CompareMode mode = CompareMode::kBytes;
    if (op != CompareOp::kEqual && op != CompareOp::kNotEqual) {
      MQ_RETURN_IF_ERROR(check_kind(left, op_name, OperandKind::kNumber));
      MQ_RETURN_IF_ERROR(check_kind(right, op_name, OperandKind::kNumber));
      mode = CompareMode::kNumbers;
    } else if (l == OperandKind::kNumber || r == OperandKind::kNumber) {
      const Side& other = l == OperandKind::kNumber ? right : left;
      if (other.operand.kind == OperandKind::kString) {
        return error(other.offset, op_name + " cannot compare a number with a string");
      }
      if (other.operand.kind == OperandKind::kBoolean) {
        return error(other.offset, op_name + " cannot compare a number with TRUE/FALSE");
      }
      mode = CompareMode::kNumbers;
    } else if (l == OperandKind::kBoolean || r == OperandKind::kBoolean) {
      if (l == OperandKind::kBoolean) std::swap(left, right);
      if (left.operand.kind == OperandKind::kString) {
        return error(left.offset, op_name + " cannot compare TRUE/FALSE with a string");
      }
      mode = CompareMode::kBoolean;
    }
    return add(Compare{op, mode, left.operand, right.operand});
  }

  Result<uint32_t> parse_between(const Side& value) {
    advance();
    MQ_ASSIGN_OR_RETURN(Side low, parse_operand());
    if (!at(Keyword::kAnd)) return expected("AND");
    advance();
    MQ_ASSIGN_OR_RETURN(Side high, parse_operand());
    for (const Side& side : {value, low, high}) {
      MQ_RETURN_IF_ERROR(check_kind(side, "BETWEEN", OperandKind::kNumber));
    }
    return add(Between{value.operand, low.operand, high.operand});
  }

  Result<uint32_t> parse_in(const Side& property) {
    if (property.operand.kind != OperandKind::kProperty) {
      return error(property.offset, "IN tests a property, not a value");
    }
    advance();
    if (current_.kind != TokenKind::kOpen) return expected("'('");
    advance();
    In in{property.operand, static_cast<uint32_t>(tree_.in_strings.size()), 0,
          static_cast<uint32_t>(tree_.in_numbers.size()), 0};
    size_t items = 0;
    while (true) {
      if (current_.kind != TokenKind::kString && current_.kind != TokenKind::kNumber) {
        return expected("a string or number");
      }
      if (++items > PropertyFilter::kMaxInItems) {
        return error_here("IN list longer than " + std::to_string(PropertyFilter::kMaxInItems) +
                          " items");
      }
      if (current_.kind == TokenKind::kString) {
        tree_.in_strings.push_back(std::move(current_.text));
      } else {
        tree_.in_numbers.push_back(current_.number);
      }
      advance();
      if (current_.kind == TokenKind::kClose) break;
      if (current_.kind != TokenKind::kComma) return expected("',' or ')'");
      advance();
    }
    advance();
    // Each list is the tail of its vector: sort and de-duplicate it in place.
    auto strings = tree_.in_strings.begin() + in.first_string;
    std::sort(strings, tree_.in_strings.end());
    tree_.in_strings.erase(std::unique(strings, tree_.in_strings.end()), tree_.in_strings.end());
    in.string_count = static_cast<uint32_t>(tree_.in_strings.size() - in.first_string);
    auto numbers = tree_.in_numbers.begin() + in.first_number;
    std::sort(numbers, tree_.in_numbers.end());
    tree_.in_numbers.erase(std::unique(numbers, tree_.in_numbers.end()), tree_.in_numbers.end());
    in.number_count = static_cast<uint32_t>(tree_.in_numbers.size() - in.first_number);
    return add(in);
  }

  // IS NULL, or IS NOT NULL (then *negated).
  Result<uint32_t> parse_is_null(const Side& property, bool* negated) {
    if (property.operand.kind != OperandKind::kProperty) {
      return error(property.offset, "IS NULL tests a property, not a value");
    }
    advance();
    if (at(Keyword::kNot)) {
      advance();
      *negated = true;
    }
    if (!at(Keyword::kNull)) return expected("NULL");
    advance();
    return add(IsNull{property.operand});
  }

  Result<uint32_t> parse_match(const Side& text, StringTest test, std::string_view name) {
    advance();
    MQ_ASSIGN_OR_RETURN(Side pattern, parse_operand());
    MQ_RETURN_IF_ERROR(check_kind(text, name, OperandKind::kString));
    MQ_RETURN_IF_ERROR(check_kind(pattern, name, OperandKind::kString));
    return add(Match{test, text.operand, pattern.operand});
  }

  Lexer lexer_;
  Token current_;
  Token previous_;
  size_t consumed_ = 0;  // tokens advanced past
  Tree tree_;
};

// ---- Evaluation.

class Evaluator {
 public:
  Evaluator(const Tree& tree, std::span<const RecordHeader> headers)
      : tree_(tree), headers_(headers) {}

  Truth evaluate(uint32_t node) const {
    return std::visit([this](const auto& n) { return truth(n); }, tree_.nodes[node]);
  }

 private:
  Truth truth(const AllOf& all) const {
    Truth result = Truth::kTrue;
    for (uint32_t i = all.first; i < all.first + all.count; ++i) {
      Truth t = evaluate(tree_.children[i]);
      if (t == Truth::kFalse) return Truth::kFalse;
      if (t == Truth::kUnknown) result = Truth::kUnknown;
    }
    return result;
  }

  Truth truth(const AnyOf& any) const {
    Truth result = Truth::kFalse;
    for (uint32_t i = any.first; i < any.first + any.count; ++i) {
      Truth t = evaluate(tree_.children[i]);
      if (t == Truth::kTrue) return Truth::kTrue;
      if (t == Truth::kUnknown) result = Truth::kUnknown;
    }
    return result;
  }

  Truth truth(const Not& n) const {
    Truth t = evaluate(n.child);
    if (t == Truth::kUnknown) return t;
    return t == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
  }

  Truth truth(const Compare& compare) const {
    bool equal = false;
    switch (compare.mode) {
      case CompareMode::kNumbers: {
        std::optional<double> left = number_of(compare.left);
        std::optional<double> right = number_of(compare.right);
        if (!left || !right) return Truth::kUnknown;
        switch (compare.op) {
          case CompareOp::kLess:
            return truth_of(*left < *right);
          case CompareOp::kLessEqual:
            return truth_of(*left <= *right);
          case CompareOp::kGreater:
            return truth_of(*left > *right);
          case CompareOp::kGreaterEqual:
            return truth_of(*left >= *right);
          case CompareOp::kEqual:
          case CompareOp::kNotEqual:
            equal = *left == *right;
            break;
        }
        break;
      }
      case CompareMode::kBytes: {
        std::optional<std::string_view> left = text_of(compare.left);
        std::optional<std::string_view> right = text_of(compare.right);
        if (!left || !right) return Truth::kUnknown;
        equal = *left == *right;
        break;
      }
      case CompareMode::kBoolean: {
        std::string_view wanted = compare.right.boolean ? "true" : "false";
        if (compare.left.kind == OperandKind::kBoolean) {
          equal = compare.left.boolean == compare.right.boolean;
        } else if (std::optional<std::string_view> left = text_of(compare.left)) {
          equal = equals_ignoring_case(*left, wanted);
        } else {
          return Truth::kUnknown;
        }
        break;
      }
    }
    return truth_of(compare.op == CompareOp::kEqual ? equal : !equal);
  }

  Truth truth(const Between& between) const {
    std::optional<double> value = number_of(between.value);
    if (!value) return Truth::kUnknown;
    std::optional<double> low = number_of(between.low);
    std::optional<double> high = number_of(between.high);
    // value >= low AND value <= high, three-valued.
    if ((low && *value < *low) || (high && *value > *high)) return Truth::kFalse;
    return low && high ? Truth::kTrue : Truth::kUnknown;
  }

  Truth truth(const In& in) const {
    std::optional<std::string_view> text = text_of(in.property);
    if (!text) return Truth::kUnknown;
    auto strings = tree_.in_strings.begin() + in.first_string;
    if (std::binary_search(strings, strings + in.string_count, *text)) return Truth::kTrue;
    if (in.number_count == 0) return Truth::kFalse;
    std::optional<double> number = parse_number(*text);
    if (!number) return Truth::kUnknown;  // x = 1 is UNKNOWN for such an x
    auto numbers = tree_.in_numbers.begin() + in.first_number;
    return truth_of(std::binary_search(numbers, numbers + in.number_count, *number));
  }

  Truth truth(const IsNull& is_null) const {
    return truth_of(!text_of(is_null.property).has_value());
  }

  Truth truth(const Match& match) const {
    std::optional<std::string_view> text = text_of(match.text);
    std::optional<std::string_view> pattern = text_of(match.pattern);
    if (!text || !pattern) return Truth::kUnknown;
    switch (match.test) {
      case StringTest::kContains:
        return truth_of(text->find(*pattern) != std::string_view::npos);
      case StringTest::kStartsWith:
        return truth_of(text->starts_with(*pattern));
      case StringTest::kEndsWith:
        return truth_of(text->ends_with(*pattern));
    }
    return Truth::kUnknown;
  }

  // A property's value (nullopt: NULL) or a string literal.
  std::optional<std::string_view> text_of(const Operand& operand) const {
    if (operand.kind == OperandKind::kString) return tree_.strings[operand.string];
    assert(operand.kind == OperandKind::kProperty);
    std::string_view key = tree_.strings[operand.string];
    for (const RecordHeader& header : headers_) {
      if (header.key == key) return header.value;
    }
    return std::nullopt;
  }

  // A number literal, or a property that reads as a number (nullopt otherwise).
  std::optional<double> number_of(const Operand& operand) const {
    if (operand.kind == OperandKind::kNumber) return operand.number;
    std::optional<std::string_view> text = text_of(operand);
    if (!text) return std::nullopt;
    return parse_number(*text);
  }

  const Tree& tree_;
  std::span<const RecordHeader> headers_;
};

}  // namespace property_filter_detail

using namespace property_filter_detail;

struct PropertyFilter::Program {
  std::string text;
  Tree tree;
};

Result<PropertyFilter> PropertyFilter::parse(std::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return Status(ErrorCode::kInvalidRequest, "filter of " + std::to_string(text.size()) +
                                                  " bytes (at most " +
                                                  std::to_string(kMaxTextBytes) + ")");
  }
  if (std::all_of(text.begin(), text.end(), is_space)) {
    return Status(ErrorCode::kInvalidRequest, "filter is empty");
  }
  MQ_ASSIGN_OR_RETURN(Tree tree, Parser(text).parse());
  return PropertyFilter(
      std::make_shared<const Program>(Program{std::string(text), std::move(tree)}));
}

bool PropertyFilter::matches(std::span<const RecordHeader> headers) const {
  assert(program_ && "matches() on a moved-from PropertyFilter");
  return Evaluator(program_->tree, headers).evaluate(program_->tree.root) == Truth::kTrue;
}

const std::string& PropertyFilter::text() const {
  assert(program_ && "text() on a moved-from PropertyFilter");
  return program_->text;
}

}  // namespace mq::filter
