// Tag subscription expressions: parsing, matching, summary masks and errors.
#include "filter/tag_expression.h"

#include <gtest/gtest.h>

#include "store/record_batch.h"

namespace mq::filter {
namespace {

TagExpression parsed(std::string_view text) {
  Result<TagExpression> expression = TagExpression::parse(text);
  EXPECT_TRUE(expression.is_ok()) << text << ": " << expression.status().to_string();
  return expression.is_ok() ? *expression : TagExpression();
}

std::string error_of(std::string_view text) {
  Result<TagExpression> expression = TagExpression::parse(text);
  if (expression.is_ok()) return "parsed as " + expression->to_string();
  EXPECT_EQ(expression.code(), ErrorCode::kInvalidRequest) << text;
  return expression.status().message();
}

TEST(TagExpression, BlankAndStarMatchEveryMessage) {
  for (std::string_view text : {"", "   ", "*", " * ", "\t*\n"}) {
    TagExpression all = parsed(text);
    EXPECT_TRUE(all.matches_all()) << "'" << text << "'";
    EXPECT_TRUE(all.matches(std::nullopt));
    EXPECT_TRUE(all.matches("anything"));
    EXPECT_EQ(all.summary_mask(), ~uint64_t{0});
    EXPECT_TRUE(all.tags().empty());
    EXPECT_EQ(all.to_string(), "*");
  }
  EXPECT_TRUE(TagExpression().matches_all());
}

TEST(TagExpression, SingleTagMatchesExactlyThatTag) {
  TagExpression a = parsed("TagA");
  EXPECT_FALSE(a.matches_all());
  EXPECT_TRUE(a.matches("TagA"));
  EXPECT_FALSE(a.matches("taga")) << "case-sensitive";
  EXPECT_FALSE(a.matches("TagAB"));
  EXPECT_FALSE(a.matches("Tag"));
  EXPECT_FALSE(a.matches(""));
  EXPECT_FALSE(a.matches(std::nullopt)) << "an untagged record matches only '*'";
  EXPECT_EQ(a.tags(), std::vector<std::string>{"TagA"});
  EXPECT_EQ(a.to_string(), "TagA");
}

TEST(TagExpression, ListsWithOrWithoutSpaces) {
  for (std::string_view text : {"A || B || C", "A||B||C", "  A ||B||   C  ", "A\t||\tB || C"}) {
    TagExpression abc = parsed(text);
    EXPECT_EQ(abc.tags(), (std::vector<std::string>{"A", "B", "C"})) << text;
    EXPECT_EQ(abc.to_string(), "A || B || C");
    EXPECT_TRUE(abc.matches("A"));
    EXPECT_TRUE(abc.matches("B"));
    EXPECT_TRUE(abc.matches("C"));
    EXPECT_FALSE(abc.matches("D"));
    EXPECT_FALSE(abc.matches(std::nullopt));
  }
}

TEST(TagExpression, DeduplicatesInFirstListedOrder) {
  TagExpression expression = parsed("B || A || B || C || A");
  EXPECT_EQ(expression.tags(), (std::vector<std::string>{"B", "A", "C"}));
  EXPECT_EQ(expression.to_string(), "B || A || C");
}

TEST(TagExpression, SummaryMaskIsTheOrOfTheTagBits) {
  TagExpression expression = parsed("red || green || blue");
  uint64_t expected = tag_summary_bit("red") | tag_summary_bit("green") | tag_summary_bit("blue");
  EXPECT_EQ(expression.summary_mask(), expected);
  EXPECT_NE(expression.summary_mask() & tag_summary_bit("green"), 0u);
  EXPECT_EQ(parsed("red").summary_mask(), tag_summary_bit("red"));
  // A batch whose summary holds only bits of other tags shares nothing with the mask.
  uint64_t other = 0;
  for (int i = 0; i < 1000 && other == 0; ++i) {
    uint64_t bit = tag_summary_bit("other" + std::to_string(i));
    if ((bit & expected) == 0) other = bit;
  }
  ASSERT_NE(other, 0u);
  EXPECT_EQ(expression.summary_mask() & other, 0u);
}

TEST(TagExpression, ManyTagsMatchThroughTheSortedList) {
  std::string text;
  for (int i = 19; i >= 0; --i) text += (text.empty() ? "" : " || ") + ("t" + std::to_string(i));
  TagExpression expression = parsed(text);
  ASSERT_EQ(expression.tags().size(), 20u);
  EXPECT_EQ(expression.tags().front(), "t19") << "listed order kept";
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(expression.matches("t" + std::to_string(i))) << i;
  EXPECT_FALSE(expression.matches("t20"));
  EXPECT_FALSE(expression.matches("t"));
  EXPECT_FALSE(expression.matches(std::nullopt));
  EXPECT_EQ(expression.to_string(), text);
}

TEST(TagExpression, LongestTagIsAccepted) {
  std::string tag(kMaxTagBytes, 'x');
  EXPECT_TRUE(parsed("A || " + tag).matches(tag));
}

TEST(TagExpression, ErrorsNameTheirPosition) {
  EXPECT_EQ(error_of("A|| ||B"), "tag expression, position 5: empty tag before '||'");
  EXPECT_EQ(error_of("||A"), "tag expression, position 1: empty tag before '||'");
  EXPECT_EQ(error_of("A ||"), "tag expression, position 3: empty tag after '||'");
  EXPECT_EQ(error_of("A || B ||  "), "tag expression, position 8: empty tag after '||'");
  EXPECT_EQ(error_of("A|B"), "tag expression, position 2: single '|' (tags are separated by '||')");
  EXPECT_EQ(error_of("A |"), "tag expression, position 3: single '|' (tags are separated by '||')");
  EXPECT_EQ(error_of("A ||| B"),
            "tag expression, position 5: single '|' (tags are separated by '||')");
  EXPECT_EQ(error_of("A||*"), "tag expression, position 4: '*' only stands alone");
  EXPECT_EQ(error_of("A*"), "tag expression, position 2: '*' only stands alone");
  EXPECT_EQ(error_of("* || A"), "tag expression, position 1: '*' only stands alone");
  EXPECT_EQ(error_of("**"), "tag expression, position 1: '*' only stands alone");
  EXPECT_EQ(error_of("A B"), "tag expression, position 3: expected '||' between tags");
  EXPECT_EQ(error_of("A || " + std::string(256, 'x')),
            "tag expression, position 6: tag of 256 bytes (at most 255)");
}

TEST(TagExpression, TagsMustPassCheckTag) {
  std::string message = error_of(
      "A||b\x01"
      "c");
  EXPECT_EQ(message.rfind("tag expression, position 4: tag \"b", 0), 0u) << message;
  EXPECT_NE(message.find("control character"), std::string::npos) << message;
}

}  // namespace
}  // namespace mq::filter
