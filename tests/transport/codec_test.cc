// Tests of the body codec: exact byte layout and the defensive decoder.
#include "transport/codec.h"

#include <gtest/gtest.h>

#include <limits>

namespace mq::transport {
namespace {

struct Inner {
  int32_t id = 0;
  std::string name;
  bool operator==(const Inner&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("id", m.id);
    c("name", m.name);
  }
};

struct Sample {
  int8_t tiny = 0;
  int16_t small = 0;
  int64_t big = 0;
  bool flag = false;
  std::string text;
  std::optional<std::string> maybe;
  Bytes blob;
  std::vector<Inner> items;
  std::optional<std::vector<int32_t>> numbers;
  Frame records;
  bool operator==(const Sample&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("tiny", m.tiny);
    c("small", m.small);
    c("big", m.big);
    c("flag", m.flag);
    c("text", m.text);
    c("maybe", m.maybe);
    c("blob", m.blob);
    c("items", m.items);
    c("numbers", m.numbers);
    c("records", m.records);
  }
};

std::string encode(const Sample& sample, Frames* records) {
  std::string body;
  BodyEncoder encoder(0, &body, records);
  Sample::fields(sample, encoder);
  EXPECT_TRUE(encoder.status().is_ok()) << encoder.status().to_string();
  return body;
}

Result<Sample> decode(std::string_view body, const Frames& records) {
  Sample sample;
  BodyDecoder decoder(0, {reinterpret_cast<const uint8_t*>(body.data()), body.size()}, records,
                      ErrorCode::kInvalidRequest, "Sample");
  Sample::fields(sample, decoder);
  MQ_RETURN_IF_ERROR(decoder.finish());
  return sample;
}

// Little-endian bytes of an integer, for spelling out expected encodings.
template <class T>
std::string le(T value) {
  std::string out(sizeof(T), '\0');
  for (size_t i = 0; i < sizeof(T); ++i) {
    out[i] = static_cast<char>((static_cast<uint64_t>(value) >> (8 * i)) & 0xFF);
  }
  return out;
}

Sample full_sample() {
  return Sample{.tiny = -3,
                .small = 513,
                .big = -2,
                .flag = true,
                .text = "ab",
                .maybe = std::nullopt,
                .blob = {0xFF},
                .items = {{.id = 7, .name = "x"}},
                .numbers = std::vector<int32_t>{1},
                .records = Frame(std::string("batch"))};
}

TEST(CodecTest, EncodesFieldsLittleEndianWithLengthPrefixesInDeclarationOrder) {
  Frames records;
  std::string body = encode(full_sample(), &records);
  std::string expected = le<int8_t>(-3) + le<int16_t>(513) + le<int64_t>(-2) + le<int8_t>(1) +
                         le<int16_t>(2) + "ab" + le<int16_t>(-1) + le<int32_t>(1) + "\xFF" +
                         le<int32_t>(1) + le<int32_t>(7) + le<int16_t>(1) + "x" + le<int32_t>(1) +
                         le<int32_t>(1);
  EXPECT_EQ(body, expected);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].as_string_view(), "batch");
}

TEST(CodecTest, DecodesWhatItEncodes) {
  Frames records;
  std::string body = encode(full_sample(), &records);
  Result<Sample> decoded = decode(body, records);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, full_sample());
}

TEST(CodecTest, NullArrayAndEmptyArrayStayDistinct) {
  Sample with_null = full_sample();
  with_null.numbers.reset();
  Sample with_empty = full_sample();
  with_empty.numbers.emplace();
  Frames r1, r2;
  Result<Sample> a = decode(encode(with_null, &r1), r1);
  Result<Sample> b = decode(encode(with_empty, &r2), r2);
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  EXPECT_FALSE(a->numbers.has_value());
  ASSERT_TRUE(b->numbers.has_value());
  EXPECT_TRUE(b->numbers->empty());
}

TEST(CodecTest, EveryTruncationFailsWithTheFieldPathInTheMessage) {
  Frames records;
  std::string body = encode(full_sample(), &records);
  for (size_t length = 0; length < body.size(); ++length) {
    Result<Sample> decoded = decode(std::string_view(body).substr(0, length), records);
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << length << " bytes decoded";
    EXPECT_EQ(decoded.code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(decoded.status().message().find("Sample v0: field "), std::string::npos)
        << decoded.status().message();
  }
}

TEST(CodecTest, ErrorNamesTheNestedFieldAndIndex) {
  Sample sample = full_sample();
  sample.items.push_back({.id = 8, .name = "yy"});
  Frames records;
  std::string body = encode(sample, &records);
  // Cut inside items[1].name.
  size_t cut = body.find("yy") + 1;
  Result<Sample> decoded = decode(std::string_view(body).substr(0, cut), records);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("field items[1].name"), std::string::npos)
      << decoded.status().message();
}

TEST(CodecTest, TrailingBytesAreRejected) {
  Frames records;
  std::string body = encode(full_sample(), &records) + "z";
  Result<Sample> decoded = decode(body, records);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("1 unread bytes"), std::string::npos);
}

TEST(CodecTest, MissingAndUnusedRecordFramesAreRejected) {
  Frames records;
  std::string body = encode(full_sample(), &records);
  EXPECT_EQ(decode(body, {}).code(), ErrorCode::kInvalidRequest);
  records.push_back(Frame(std::string("extra")));
  Result<Sample> decoded = decode(body, records);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("not referenced"), std::string::npos);
}

// Builds a body whose `items` count is `count`, with nothing after it.
std::string body_with_item_count(int32_t count) {
  return le<int8_t>(0) + le<int16_t>(0) + le<int64_t>(0) + le<int8_t>(0) + le<int16_t>(0) +
         le<int16_t>(-1) + le<int32_t>(0) + le<int32_t>(count);
}

TEST(CodecTest, HugeArrayCountIsRejectedBeforeAllocating) {
  Result<Sample> decoded = decode(body_with_item_count(std::numeric_limits<int32_t>::max()), {});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("exceeds"), std::string::npos)
      << decoded.status().message();
}

TEST(CodecTest, NegativeCountsAndLengthsAreRejected) {
  EXPECT_FALSE(decode(body_with_item_count(-1), {}).is_ok());
  std::string negative_string = le<int8_t>(0) + le<int16_t>(0) + le<int64_t>(0) + le<int8_t>(0) +
                                le<int16_t>(-5) + std::string(10, 'a');
  Result<Sample> decoded = decode(negative_string, {});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("negative"), std::string::npos);
  std::string negative_bytes = le<int8_t>(0) + le<int16_t>(0) + le<int64_t>(0) + le<int8_t>(0) +
                               le<int16_t>(0) + le<int16_t>(-1) + le<int32_t>(-7);
  EXPECT_FALSE(decode(negative_bytes, {}).is_ok());
}

TEST(CodecTest, LengthLongerThanTheFrameIsRejected) {
  std::string body = le<int8_t>(0) + le<int16_t>(0) + le<int64_t>(0) + le<int8_t>(0) +
                     le<int16_t>(30000) + "short";
  Result<Sample> decoded = decode(body, {});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("only 5 are left"), std::string::npos)
      << decoded.status().message();
}

TEST(CodecTest, BoolOtherThanZeroOrOneIsRejected) {
  std::string body = le<int8_t>(0) + le<int16_t>(0) + le<int64_t>(0) + le<int8_t>(2);
  Result<Sample> decoded = decode(body, {});
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_NE(decoded.status().message().find("field flag"), std::string::npos);
}

TEST(CodecTest, EncoderRefusesStringsLongerThanTheirPrefix) {
  Sample sample = full_sample();
  sample.text = std::string(kMaxStringBytes + 1, 'a');
  std::string body;
  Frames records;
  BodyEncoder encoder(0, &body, &records);
  Sample::fields(sample, encoder);
  EXPECT_FALSE(encoder.status().is_ok());
  EXPECT_NE(encoder.status().message().find("text"), std::string::npos);
}

TEST(CodecTest, MinimumWireSizeCountsPrefixesAndNotRecordFrames) {
  EXPECT_EQ(minimum_wire_size<Inner>(), 4u + 2u);
  EXPECT_EQ(minimum_wire_size<Sample>(), 1u + 2 + 8 + 1 + 2 + 2 + 4 + 4 + 4);
}

}  // namespace
}  // namespace mq::transport
