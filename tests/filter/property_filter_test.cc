// SQL92 property filters: every operator with its UNKNOWN cases, three-valued
// logic, precedence, quoting, TAGS, limits and the exact parse errors.
#include "filter/property_filter.h"

#include <gtest/gtest.h>

#include <vector>

namespace mq::filter {
namespace {

using Headers = std::vector<RecordHeader>;

// What a condition evaluates to: a record matches the condition when TRUE,
// and matches NOT (condition) when FALSE; UNKNOWN matches neither.
std::string truth(std::string_view condition, const Headers& headers) {
  Result<PropertyFilter> positive = PropertyFilter::parse(condition);
  Result<PropertyFilter> negative = PropertyFilter::parse("NOT (" + std::string(condition) + ")");
  EXPECT_TRUE(positive.is_ok()) << condition << ": " << positive.status().to_string();
  EXPECT_TRUE(negative.is_ok()) << condition << ": " << negative.status().to_string();
  if (!positive.is_ok() || !negative.is_ok()) return "PARSE ERROR";
  bool is_true = positive->matches(headers);
  bool is_false = negative->matches(headers);
  if (is_true && is_false) return "TRUE AND FALSE";
  return is_true ? "TRUE" : is_false ? "FALSE" : "UNKNOWN";
}

std::string error_of(std::string_view text) {
  Result<PropertyFilter> filter = PropertyFilter::parse(text);
  if (filter.is_ok()) return "parsed";
  EXPECT_EQ(filter.code(), ErrorCode::kInvalidRequest) << text;
  return filter.status().message();
}

TEST(PropertyFilter, StringEqualityComparesBytes) {
  EXPECT_EQ(truth("region = 'eu'", {{"region", "eu"}}), "TRUE");
  EXPECT_EQ(truth("region = 'eu'", {{"region", "EU"}}), "FALSE");
  EXPECT_EQ(truth("region = 'eu'", {{"region", "eu "}}), "FALSE");
  EXPECT_EQ(truth("region = ''", {{"region", ""}}), "TRUE");
  EXPECT_EQ(truth("region <> 'eu'", {{"region", "us"}}), "TRUE");
  EXPECT_EQ(truth("region != 'eu'", {{"region", "eu"}}), "FALSE");
  // A missing header, or one whose value is null, is NULL.
  EXPECT_EQ(truth("region = 'eu'", {{"other", "eu"}}), "UNKNOWN");
  EXPECT_EQ(truth("region = 'eu'", {{"region", std::nullopt}}), "UNKNOWN");
  EXPECT_EQ(truth("region <> 'eu'", {}), "UNKNOWN");
  EXPECT_EQ(truth("'eu' = region", {{"region", "eu"}}), "TRUE");
}

TEST(PropertyFilter, FirstHeaderWithTheKeyCounts) {
  EXPECT_EQ(truth("k = 'a'", {{"k", "a"}, {"k", "b"}}), "TRUE");
  EXPECT_EQ(truth("k = 'b'", {{"k", "a"}, {"k", "b"}}), "FALSE");
  EXPECT_EQ(truth("k IS NULL", {{"k", std::nullopt}, {"k", "b"}}), "TRUE");
}

TEST(PropertyFilter, OrderingComparesNumbers) {
  Headers h150 = {{"price", "150"}};
  EXPECT_EQ(truth("price > 100", h150), "TRUE");
  EXPECT_EQ(truth("price >= 150", h150), "TRUE");
  EXPECT_EQ(truth("price < 150", h150), "FALSE");
  EXPECT_EQ(truth("price <= 150", h150), "TRUE");
  EXPECT_EQ(truth("price < 1e3", h150), "TRUE");
  EXPECT_EQ(truth("price > 149.5", h150), "TRUE");
  EXPECT_EQ(truth("price > -3", {{"price", "-2.5"}}), "TRUE");
  EXPECT_EQ(truth("price < -0.5", {{"price", "-2.5"}}), "TRUE");
  EXPECT_EQ(truth("price > 9", {{"price", "10"}}), "TRUE") << "numbers, not bytes";
  EXPECT_EQ(truth("price > 100", {{"price", "1.5e2"}}), "TRUE");
  EXPECT_EQ(truth("price > 1E-2", {{"price", "0.1"}}), "TRUE");
  EXPECT_EQ(truth("100 < price", h150), "TRUE");
  EXPECT_EQ(truth("1 < 2", {}), "TRUE");
}

TEST(PropertyFilter, ValuesThatAreNotWholeNumbersAreUnknown) {
  for (std::string_view value : {"abc", "", " 5", "5 ", "+5", "5x", "nan", "0x10", "1,5"}) {
    Headers headers = {{"n", value}};
    EXPECT_EQ(truth("n > 1", headers), "UNKNOWN") << "'" << value << "'";
    EXPECT_EQ(truth("n = 5", headers), "UNKNOWN") << "'" << value << "'";
    EXPECT_EQ(truth("n <> 5", headers), "UNKNOWN") << "'" << value << "'";
  }
  EXPECT_EQ(truth("n > 1", {}), "UNKNOWN");
  EXPECT_EQ(truth("n > 1", {{"n", std::nullopt}}), "UNKNOWN");
}

TEST(PropertyFilter, EqualityWithANumberComparesNumbers) {
  EXPECT_EQ(truth("n = 100", {{"n", "100.0"}}), "TRUE");
  EXPECT_EQ(truth("n = 100", {{"n", "1e2"}}), "TRUE");
  EXPECT_EQ(truth("n = 100", {{"n", "101"}}), "FALSE");
  EXPECT_EQ(truth("n <> 100", {{"n", "101"}}), "TRUE");
  EXPECT_EQ(truth("n != 100", {{"n", "100"}}), "FALSE");
  EXPECT_EQ(truth("n = -0", {{"n", "0"}}), "TRUE");
}

TEST(PropertyFilter, BooleansMatchTrueAndFalseInAnyCase) {
  for (std::string_view value : {"true", "TRUE", "True"}) {
    EXPECT_EQ(truth("flag = TRUE", {{"flag", value}}), "TRUE") << value;
    EXPECT_EQ(truth("flag = FALSE", {{"flag", value}}), "FALSE") << value;
    EXPECT_EQ(truth("flag <> FALSE", {{"flag", value}}), "TRUE") << value;
  }
  EXPECT_EQ(truth("flag = false", {{"flag", "False"}}), "TRUE");
  EXPECT_EQ(truth("flag = TRUE", {{"flag", "yes"}}), "FALSE");
  EXPECT_EQ(truth("flag = TRUE", {{"flag", "1"}}), "FALSE");
  EXPECT_EQ(truth("flag <> TRUE", {{"flag", "1"}}), "TRUE");
  EXPECT_EQ(truth("TRUE = flag", {{"flag", "true"}}), "TRUE");
  EXPECT_EQ(truth("flag = TRUE", {}), "UNKNOWN");
  EXPECT_EQ(truth("TRUE = TRUE", {}), "TRUE");
  EXPECT_EQ(truth("TRUE <> FALSE", {}), "TRUE");
}

TEST(PropertyFilter, PropertyToProperty) {
  EXPECT_EQ(truth("a = b", {{"a", "x"}, {"b", "x"}}), "TRUE");
  EXPECT_EQ(truth("a = b", {{"a", "1"}, {"b", "1.0"}}), "FALSE") << "strings compare bytes";
  EXPECT_EQ(truth("a <> b", {{"a", "x"}, {"b", "y"}}), "TRUE");
  EXPECT_EQ(truth("a > b", {{"a", "10"}, {"b", "9"}}), "TRUE");
  EXPECT_EQ(truth("a <= b", {{"a", "1.0"}, {"b", "1"}}), "TRUE");
  EXPECT_EQ(truth("a > b", {{"a", "10"}, {"b", "x"}}), "UNKNOWN");
  EXPECT_EQ(truth("a = b", {{"a", "x"}}), "UNKNOWN");
}

TEST(PropertyFilter, Between) {
  for (std::string_view value : {"1", "3", "5", "4.99"}) {
    EXPECT_EQ(truth("a BETWEEN 1 AND 5", {{"a", value}}), "TRUE") << value;
    EXPECT_EQ(truth("a NOT BETWEEN 1 AND 5", {{"a", value}}), "FALSE") << value;
  }
  for (std::string_view value : {"0", "6", "-1", "5.01"}) {
    EXPECT_EQ(truth("a BETWEEN 1 AND 5", {{"a", value}}), "FALSE") << value;
    EXPECT_EQ(truth("a NOT BETWEEN 1 AND 5", {{"a", value}}), "TRUE") << value;
  }
  EXPECT_EQ(truth("a BETWEEN 1 AND 5", {{"a", "x"}}), "UNKNOWN");
  EXPECT_EQ(truth("a BETWEEN 1 AND 5", {}), "UNKNOWN");
  EXPECT_EQ(truth("a NOT BETWEEN 1 AND 5", {}), "UNKNOWN");
  EXPECT_EQ(truth("a BETWEEN 5 AND 1", {{"a", "3"}}), "FALSE");
  EXPECT_EQ(truth("a BETWEEN -2.5 AND -1", {{"a", "-2"}}), "TRUE");
  // Bounds may be properties: a >= lo AND a <= hi, three-valued.
  EXPECT_EQ(truth("a BETWEEN lo AND hi", {{"a", "3"}, {"lo", "1"}, {"hi", "5"}}), "TRUE");
  EXPECT_EQ(truth("a BETWEEN lo AND hi", {{"a", "9"}, {"hi", "5"}}), "FALSE");
  EXPECT_EQ(truth("a BETWEEN lo AND hi", {{"a", "3"}, {"hi", "5"}}), "UNKNOWN");
  EXPECT_EQ(truth("a BETWEEN lo AND hi", {{"a", "0"}, {"lo", "1"}}), "FALSE");
  // BETWEEN takes its AND; the next one joins conditions.
  EXPECT_EQ(truth("a BETWEEN 1 AND 5 AND b = 'x'", {{"a", "3"}, {"b", "x"}}), "TRUE");
  EXPECT_EQ(truth("a BETWEEN 1 AND 5 AND b = 'x'", {{"a", "3"}, {"b", "y"}}), "FALSE");
}

TEST(PropertyFilter, In) {
  EXPECT_EQ(truth("a IN ('x', 'y')", {{"a", "x"}}), "TRUE");
  EXPECT_EQ(truth("a IN ('x', 'y')", {{"a", "y"}}), "TRUE");
  EXPECT_EQ(truth("a IN ('x', 'y')", {{"a", "z"}}), "FALSE");
  EXPECT_EQ(truth("a IN ('x', 'y')", {}), "UNKNOWN");
  EXPECT_EQ(truth("a NOT IN ('x', 'y')", {{"a", "z"}}), "TRUE");
  EXPECT_EQ(truth("a NOT IN ('x', 'y')", {{"a", "x"}}), "FALSE");
  EXPECT_EQ(truth("a NOT IN ('x', 'y')", {{"a", std::nullopt}}), "UNKNOWN");
  EXPECT_EQ(truth("a IN ('z', 'y', 'x', 'y')", {{"a", "x"}}), "TRUE") << "unsorted, repeated";
  EXPECT_EQ(truth("a IN ('x')", {{"a", "X"}}), "FALSE");
  // Numbers compare as numbers; against a value that is not one they are UNKNOWN.
  EXPECT_EQ(truth("a IN (1, 2.5)", {{"a", "2.50"}}), "TRUE");
  EXPECT_EQ(truth("a IN (1, 2.5)", {{"a", "3"}}), "FALSE");
  EXPECT_EQ(truth("a IN (1, 2.5)", {{"a", "x"}}), "UNKNOWN");
  EXPECT_EQ(truth("a IN ('a', 'b', 1)", {{"a", "1.0"}}), "TRUE");
  EXPECT_EQ(truth("a IN ('a', 'b', 1)", {{"a", "b"}}), "TRUE");
  EXPECT_EQ(truth("a IN ('a', 'b', 1)", {{"a", "2"}}), "FALSE");
  EXPECT_EQ(truth("a IN ('a', 'b', 1)", {{"a", "c"}}), "UNKNOWN");
  EXPECT_EQ(truth("a NOT IN ('a', 'b', 1)", {{"a", "c"}}), "UNKNOWN");
}

TEST(PropertyFilter, IsNullIsNeverUnknown) {
  EXPECT_EQ(truth("a IS NULL", {}), "TRUE");
  EXPECT_EQ(truth("a IS NULL", {{"a", std::nullopt}}), "TRUE");
  EXPECT_EQ(truth("a IS NULL", {{"a", ""}}), "FALSE");
  EXPECT_EQ(truth("a IS NOT NULL", {{"a", ""}}), "TRUE");
  EXPECT_EQ(truth("a IS NOT NULL", {}), "FALSE");
  EXPECT_EQ(truth("a IS NOT NULL", {{"a", std::nullopt}}), "FALSE");
}

TEST(PropertyFilter, StringPredicates) {
  Headers h = {{"s", "order-eu-42"}};
  EXPECT_EQ(truth("s CONTAINS 'eu'", h), "TRUE");
  EXPECT_EQ(truth("s CONTAINS 'us'", h), "FALSE");
  EXPECT_EQ(truth("s CONTAINS 'EU'", h), "FALSE") << "case-sensitive";
  EXPECT_EQ(truth("s STARTSWITH 'order-'", h), "TRUE");
  EXPECT_EQ(truth("s STARTSWITH 'eu'", h), "FALSE");
  EXPECT_EQ(truth("s ENDSWITH '42'", h), "TRUE");
  EXPECT_EQ(truth("s ENDSWITH 'order'", h), "FALSE");
  EXPECT_EQ(truth("s NOT CONTAINS 'us'", h), "TRUE");
  EXPECT_EQ(truth("s NOT STARTSWITH 'order'", h), "FALSE");
  EXPECT_EQ(truth("s NOT ENDSWITH 'x'", h), "TRUE");
  EXPECT_EQ(truth("s CONTAINS ''", h), "TRUE");
  EXPECT_EQ(truth("s ENDSWITH 'longer than order-eu-42'", h), "FALSE");
  EXPECT_EQ(truth("s CONTAINS p", {{"s", "abc"}, {"p", "b"}}), "TRUE");
  for (std::string_view condition :
       {"s CONTAINS 'x'", "s STARTSWITH 'x'", "s ENDSWITH 'x'", "s NOT CONTAINS 'x'"}) {
    EXPECT_EQ(truth(condition, {}), "UNKNOWN") << condition;
    EXPECT_EQ(truth(condition, {{"s", std::nullopt}}), "UNKNOWN") << condition;
  }
}

TEST(PropertyFilter, ThreeValuedLogic) {
  // T, F and U are conditions that are TRUE, FALSE and UNKNOWN for these headers.
  Headers h = {{"t", "1"}};
  const std::string_view T = "t = 1", F = "t = 2", U = "u = 1";
  auto join = [](std::string_view a, std::string_view op, std::string_view b) {
    return "(" + std::string(a) + ") " + std::string(op) + " (" + std::string(b) + ")";
  };
  EXPECT_EQ(truth(T, h), "TRUE");
  EXPECT_EQ(truth(F, h), "FALSE");
  EXPECT_EQ(truth(U, h), "UNKNOWN");
  EXPECT_EQ(truth("NOT " + std::string(U), h), "UNKNOWN");
  EXPECT_EQ(truth(join(T, "AND", T), h), "TRUE");
  EXPECT_EQ(truth(join(T, "AND", F), h), "FALSE");
  EXPECT_EQ(truth(join(T, "AND", U), h), "UNKNOWN");
  EXPECT_EQ(truth(join(F, "AND", U), h), "FALSE");
  EXPECT_EQ(truth(join(U, "AND", F), h), "FALSE");
  EXPECT_EQ(truth(join(U, "AND", U), h), "UNKNOWN");
  EXPECT_EQ(truth(join(T, "OR", U), h), "TRUE");
  EXPECT_EQ(truth(join(U, "OR", T), h), "TRUE");
  EXPECT_EQ(truth(join(F, "OR", U), h), "UNKNOWN");
  EXPECT_EQ(truth(join(F, "OR", F), h), "FALSE");
  EXPECT_EQ(truth(join(U, "OR", U), h), "UNKNOWN");
  EXPECT_EQ(truth("t = 2 OR t = 3 OR t = 1", h), "TRUE");
  EXPECT_EQ(truth("t = 1 AND t > 0 AND t < 2", h), "TRUE");
  EXPECT_EQ(truth("t = 1 AND u = 1 AND t = 2", h), "FALSE");
}

TEST(PropertyFilter, PrecedenceIsNotThenAndThenOr) {
  // AND binds tighter than OR.
  EXPECT_EQ(truth("a = 1 OR b = 1 AND c = 1", {{"a", "1"}, {"b", "0"}, {"c", "0"}}), "TRUE");
  EXPECT_EQ(truth("(a = 1 OR b = 1) AND c = 1", {{"a", "1"}, {"b", "0"}, {"c", "0"}}), "FALSE");
  EXPECT_EQ(truth("b = 1 AND c = 1 OR a = 1", {{"a", "1"}, {"b", "0"}, {"c", "0"}}), "TRUE");
  // NOT binds tighter than AND and OR.
  EXPECT_EQ(truth("NOT a = 1 OR b = 1", {{"a", "1"}, {"b", "1"}}), "TRUE");
  EXPECT_EQ(truth("NOT (a = 1 OR b = 1)", {{"a", "1"}, {"b", "1"}}), "FALSE");
  EXPECT_EQ(truth("NOT a = 1 AND b = 1", {{"a", "0"}, {"b", "0"}}), "FALSE");
  EXPECT_EQ(truth("NOT (a = 1 AND b = 1)", {{"a", "0"}, {"b", "0"}}), "TRUE");
  EXPECT_EQ(truth("NOT NOT a = 1", {{"a", "1"}}), "TRUE");
  EXPECT_EQ(truth("((a = 1))", {{"a", "1"}}), "TRUE");
}

TEST(PropertyFilter, KeywordsInAnyCase) {
  Headers h = {{"a", "3"}, {"b", "x"}, {"flag", "true"}};
  EXPECT_EQ(truth("a between 1 and 5 and b is not null", h), "TRUE");
  EXPECT_EQ(truth("a Between 1 AnD 5 oR b iS nUlL", h), "TRUE");
  EXPECT_EQ(truth("b in ('x') AND b not in ('y')", h), "TRUE");
  EXPECT_EQ(truth("b contains 'x' and b startswith 'x' and b endsWith 'x'", h), "TRUE");
  EXPECT_EQ(truth("flag = true and not flag = False", h), "TRUE");
}

TEST(PropertyFilter, TagsIsTheRecordsTag) {
  Headers tagged = {{"mq.tag", "TagA"}, {"TAGS", "other"}};
  EXPECT_EQ(truth("TAGS = 'TagA'", tagged), "TRUE");
  EXPECT_EQ(truth("tags = 'TagA'", tagged), "TRUE");
  EXPECT_EQ(truth("Tags IN ('TagB', 'TagA')", tagged), "TRUE");
  EXPECT_EQ(truth("mq.tag = 'TagA'", tagged), "TRUE");
  EXPECT_EQ(truth("\"TAGS\" = 'other'", tagged), "TRUE") << "a quoted name is the key as written";
  EXPECT_EQ(truth("TAGS IS NULL", {{"TAGS", "x"}}), "TRUE");
  EXPECT_EQ(truth("TAGS = 'TagA'", {}), "UNKNOWN");
}

TEST(PropertyFilter, QuotingAndEscapes) {
  EXPECT_EQ(truth("\"x-region\" = 'eu'", {{"x-region", "eu"}}), "TRUE");
  EXPECT_EQ(truth("\"a\"\"b\" = 'x'", {{"a\"b", "x"}}), "TRUE");
  EXPECT_EQ(truth("\"with space\" IS NOT NULL", {{"with space", ""}}), "TRUE");
  EXPECT_EQ(truth("\"\" = 'x'", {{"", "x"}}), "TRUE");
  EXPECT_EQ(truth("s = 'it''s'", {{"s", "it's"}}), "TRUE");
  EXPECT_EQ(truth("s = ''''", {{"s", "'"}}), "TRUE");
  EXPECT_EQ(truth("s = 'a \"quoted\" (word), AND more'", {{"s", "a \"quoted\" (word), AND more"}}),
            "TRUE");
  EXPECT_EQ(truth("a.b_c.9 = 'v'", {{"a.b_c.9", "v"}}), "TRUE");
  EXPECT_EQ(truth("_x = 'v'", {{"_x", "v"}}), "TRUE");
  EXPECT_EQ(truth("\"and\" = 'v'", {{"and", "v"}}), "TRUE") << "a keyword, quoted, is a name";
}

TEST(PropertyFilter, TokensNeedNoSpacesBetweenThem) {
  Headers h = {{"a", "2"}, {"b", "x"}};
  EXPECT_EQ(truth("a>1 AND(b='x')", h), "TRUE");
  EXPECT_EQ(truth("(a>=2)AND(b<>'y')", h), "TRUE");
  EXPECT_EQ(truth("a=2 AND b IN('x','y')", h), "TRUE");
  EXPECT_EQ(error_of("a>1AND b='x'"), "filter, position 3: malformed number '1AND'");
}

TEST(PropertyFilter, KeepsTextAndCopies) {
  Result<PropertyFilter> filter = PropertyFilter::parse("  a = 'x'  ");
  ASSERT_TRUE(filter.is_ok());
  EXPECT_EQ(filter->text(), "  a = 'x'  ");
  PropertyFilter copy = *filter;
  Headers h = {{"a", "x"}};
  EXPECT_TRUE(copy.matches(h));
  EXPECT_EQ(copy.text(), filter->text());
}

TEST(PropertyFilter, EmptyAndTooLong) {
  EXPECT_EQ(error_of(""), "filter is empty");
  EXPECT_EQ(error_of(" \t\n"), "filter is empty");
  std::string longest = "a = '" + std::string(PropertyFilter::kMaxTextBytes - 6, 'x') + "'";
  ASSERT_EQ(longest.size(), 4096u);
  EXPECT_EQ(error_of(longest), "parsed");
  EXPECT_EQ(error_of(longest + " "), "filter of 4097 bytes (at most 4096)");
}

TEST(PropertyFilter, ErrorsNameTheOffendingToken) {
  EXPECT_EQ(error_of("price > "), "filter, position 9: expected a value after '>'");
  EXPECT_EQ(error_of("price > )"), "filter, position 9: expected a value after '>'");
  EXPECT_EQ(error_of("== 1"), "filter, position 1: unknown operator '=='");
  EXPECT_EQ(error_of("a == 1"), "filter, position 3: unknown operator '=='");
  EXPECT_EQ(error_of("a && b"), "filter, position 3: unknown operator '&&'");
  EXPECT_EQ(error_of("a - 1"), "filter, position 3: unknown operator '-'");
  EXPECT_EQ(error_of("region = 'eu"), "filter, position 10: unterminated string");
  EXPECT_EQ(error_of("s = 'it''s"), "filter, position 5: unterminated string");
  EXPECT_EQ(error_of("\"abc = 1"), "filter, position 1: unterminated quoted name");
  EXPECT_EQ(error_of("a = 1 AND b = 2 xyz"),
            "filter, position 17: unexpected 'xyz' after the end of the expression");
  EXPECT_EQ(error_of("a = 1)"),
            "filter, position 6: unexpected ')' after the end of the expression");
  EXPECT_EQ(error_of("a = 1 " + std::string(40, 'z')), "filter, position 7: unexpected '" +
                                                           std::string(32, 'z') +
                                                           "...' after the end of the expression");
  EXPECT_EQ(error_of("a = 1 # x"), "filter, position 7: unexpected character '#'");
  EXPECT_EQ(error_of("a = \x01"), "filter, position 5: unexpected byte 0x01");
  EXPECT_EQ(error_of("a = \xC3\xA9"), "filter, position 5: unexpected byte 0xC3");
  EXPECT_EQ(error_of("a = 1.2.3"), "filter, position 5: malformed number '1.2.3'");
  EXPECT_EQ(error_of("a = 12ab"), "filter, position 5: malformed number '12ab'");
  EXPECT_EQ(error_of("a = 1e999"), "filter, position 5: number out of range '1e999'");
  EXPECT_EQ(error_of(") a = 1"), "filter, position 1: expected a condition, found ')'");
  EXPECT_EQ(error_of("a = 1 AND"), "filter, position 10: expected a condition after 'AND'");
  EXPECT_EQ(error_of("a = 1 OR )"), "filter, position 10: expected a condition after 'OR'");
  EXPECT_EQ(error_of("a AND b = 1"), "filter, position 3: expected a comparison after 'a'");
  EXPECT_EQ(error_of("a"), "filter, position 2: expected a comparison after 'a'");
  EXPECT_EQ(error_of("(a = 1"), "filter, position 7: missing ')' for the '(' at position 1");
  EXPECT_EQ(error_of("a = = 'x"), "filter, position 5: expected a value after '='")
      << "the earliest error wins over the unterminated string after it";
  EXPECT_EQ(error_of("a = NULL"), "filter, position 5: NULL only follows IS (write 'x IS NULL')");
  EXPECT_EQ(error_of("NULL = a"), "filter, position 1: NULL only follows IS (write 'x IS NULL')");
  EXPECT_EQ(error_of("a NOT = 1"),
            "filter, position 7: expected BETWEEN, IN, CONTAINS, STARTSWITH or ENDSWITH after "
            "'NOT'");
}

TEST(PropertyFilter, ErrorsOfOperandKinds) {
  EXPECT_EQ(error_of("a > 'x'"), "filter, position 5: '>' compares numbers, not strings");
  EXPECT_EQ(error_of("'x' < a"), "filter, position 1: '<' compares numbers, not strings");
  EXPECT_EQ(error_of("a >= TRUE"), "filter, position 6: '>=' compares numbers, not TRUE/FALSE");
  EXPECT_EQ(error_of("a = 1 AND 'x' = 2"),
            "filter, position 11: '=' cannot compare a number with a string");
  EXPECT_EQ(error_of("a = TRUE OR 1 = FALSE"),
            "filter, position 17: '=' cannot compare a number with TRUE/FALSE");
  EXPECT_EQ(error_of("TRUE <> 'x'"),
            "filter, position 9: '<>' cannot compare TRUE/FALSE with a string");
  EXPECT_EQ(error_of("a BETWEEN 'a' AND 5"),
            "filter, position 11: BETWEEN compares numbers, not strings");
  EXPECT_EQ(error_of("a BETWEEN 1 AND FALSE"),
            "filter, position 17: BETWEEN compares numbers, not TRUE/FALSE");
  EXPECT_EQ(error_of("a BETWEEN 1 OR 5"), "filter, position 13: expected AND after '1'");
  EXPECT_EQ(error_of("a CONTAINS 5"),
            "filter, position 12: CONTAINS compares strings, not numbers");
  EXPECT_EQ(error_of("TRUE STARTSWITH 'x'"),
            "filter, position 1: STARTSWITH compares strings, not TRUE/FALSE");
  EXPECT_EQ(error_of("a ENDSWITH"), "filter, position 11: expected a value after 'ENDSWITH'");
  EXPECT_EQ(error_of("a IN ()"), "filter, position 7: expected a string or number after '('");
  EXPECT_EQ(error_of("a IN ('x' 'y')"), "filter, position 11: expected ',' or ')' after 'x'");
  EXPECT_EQ(error_of("a IN ('x', b)"),
            "filter, position 12: expected a string or number after ','");
  EXPECT_EQ(error_of("a IN 'x'"), "filter, position 6: expected '(' after 'IN'");
  EXPECT_EQ(error_of("1 IN (1)"), "filter, position 1: IN tests a property, not a value");
  EXPECT_EQ(error_of("'x' IS NULL"), "filter, position 1: IS NULL tests a property, not a value");
  EXPECT_EQ(error_of("a IS 5"), "filter, position 6: expected NULL after 'IS'");
  EXPECT_EQ(error_of("a IS NOT"), "filter, position 9: expected NULL after 'NOT'");
}

TEST(PropertyFilter, NestingLimit) {
  auto parenthesized = [](int depth) {
    return std::string(depth, '(') + "a = 1" + std::string(depth, ')');
  };
  Headers h = {{"a", "1"}};
  Result<PropertyFilter> deepest = PropertyFilter::parse(parenthesized(PropertyFilter::kMaxDepth));
  ASSERT_TRUE(deepest.is_ok()) << deepest.status().to_string();
  EXPECT_TRUE(deepest->matches(h));
  EXPECT_EQ(error_of(parenthesized(65)), "filter, position 65: nesting deeper than 64");

  auto negated = [](int count) {
    std::string text;
    for (int i = 0; i < count; ++i) text += "NOT ";
    return text + "a = 1";
  };
  Result<PropertyFilter> nots = PropertyFilter::parse(negated(64));
  ASSERT_TRUE(nots.is_ok()) << nots.status().to_string();
  EXPECT_TRUE(nots->matches(h)) << "an even number of NOTs";
  EXPECT_EQ(error_of(negated(65)), "filter, position 257: nesting deeper than 64");
  // As many as fit in the text: an error, not a stack overflow.
  EXPECT_EQ(error_of(negated(1000)), "filter, position 257: nesting deeper than 64");
  EXPECT_EQ(error_of(std::string(4000, '(')), "filter, position 65: nesting deeper than 64");

  // Parentheses and NOTs count together.
  std::string mixed;
  for (int i = 0; i < 32; ++i) mixed += "NOT (";
  EXPECT_EQ(error_of(mixed + "a = 1" + std::string(32, ')')), "parsed");
  EXPECT_EQ(error_of(mixed + "(a = 1)" + std::string(32, ')')),
            "filter, position 161: nesting deeper than 64");
  // Long flat chains are not nesting.
  std::string chain = "a = 1";
  for (int i = 0; i < 300; ++i) chain += " AND a = 1";
  Result<PropertyFilter> flat = PropertyFilter::parse(chain);
  ASSERT_TRUE(flat.is_ok()) << flat.status().to_string();
  EXPECT_TRUE(flat->matches(h));
}

TEST(PropertyFilter, InListLimit) {
  auto list = [](int items) {
    std::string text = "a IN (";
    for (int i = 0; i < items; ++i) text += (i == 0 ? "" : ",") + std::to_string(i % 10);
    return text + ")";
  };
  Result<PropertyFilter> largest = PropertyFilter::parse(list(PropertyFilter::kMaxInItems));
  ASSERT_TRUE(largest.is_ok()) << largest.status().to_string();
  EXPECT_TRUE(largest->matches(Headers{{"a", "7"}}));
  EXPECT_FALSE(largest->matches(Headers{{"a", "10"}}));
  // "a IN (0,1,...": item i starts at offset 6 + 2 i, so the 1025th at position 2055.
  EXPECT_EQ(error_of(list(1025)), "filter, position 2055: IN list longer than 1024 items");
}

}  // namespace
}  // namespace mq::filter
