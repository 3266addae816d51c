// Hex and base64 as mqctl's record formats write and read them.
#include "ctl/text_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace mq::ctl {
namespace {

std::string hex(std::string_view bytes) {
  std::string out;
  append_hex(bytes, out);
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out;
  append_base64(bytes, out);
  return out;
}

// The error message of a decode that must fail.
template <class Decoded>
std::string error_of(const Decoded& decoded) {
  EXPECT_FALSE(decoded.is_ok());
  return decoded.is_ok() ? std::string() : decoded.status().message();
}

TEST(TextCodec, EncodesTheRfc4648TestVectors) {
  struct Vector {
    const char* bytes;
    const char* base64;
    const char* hex;
  } vectors[] = {{"", "", ""},
                 {"f", "Zg==", "66"},
                 {"fo", "Zm8=", "666f"},
                 {"foo", "Zm9v", "666f6f"},
                 {"foob", "Zm9vYg==", "666f6f62"},
                 {"fooba", "Zm9vYmE=", "666f6f6261"},
                 {"foobar", "Zm9vYmFy", "666f6f626172"}};
  for (const Vector& v : vectors) {
    EXPECT_EQ(base64(v.bytes), v.base64) << v.bytes;
    EXPECT_EQ(hex(v.bytes), v.hex) << v.bytes;
    EXPECT_EQ(decode_base64(v.base64).value(), v.bytes);
    EXPECT_EQ(decode_hex(v.hex).value(), v.bytes);
  }
}

TEST(TextCodec, AppendsToWhatIsThere) {
  std::string out = "k=";
  append_hex(std::string_view("\x00\xff\x10", 3), out);
  EXPECT_EQ(out, "k=00ff10");
  out = "v=";
  append_base64(std::string_view("\xfb\xff", 2), out);
  EXPECT_EQ(out, "v=+/8=") << "the standard alphabet, not base64url";
}

TEST(TextCodec, EveryByteRoundTripsAtEveryLength) {
  std::mt19937 random(20261206);
  for (size_t length = 0; length < 70; ++length) {
    std::string bytes(length, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    EXPECT_EQ(decode_hex(hex(bytes)).value(), bytes) << "length " << length;
    EXPECT_EQ(decode_base64(base64(bytes)).value(), bytes) << "length " << length;
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(decode_hex(hex(all)).value(), all);
  EXPECT_EQ(decode_base64(base64(all)).value(), all);
}

TEST(TextCodec, HexDecodingTakesEitherCase) {
  EXPECT_EQ(decode_hex("DEADbeef").value(), "\xde\xad\xbe\xef");
}

TEST(TextCodec, RejectsBadHexSayingWhy) {
  EXPECT_EQ(error_of(decode_hex("abc")), "odd length: 3 hex digits");
  EXPECT_EQ(error_of(decode_hex("0g")), "'g' at position 1 is not a hex digit");
  EXPECT_EQ(error_of(decode_hex("zz")), "'z' at position 0 is not a hex digit");
  EXPECT_EQ(error_of(decode_hex(" 0")), "' ' at position 0 is not a hex digit");
  EXPECT_EQ(error_of(decode_hex("0\n")), "\\x0a at position 1 is not a hex digit");
}

TEST(TextCodec, RejectsBadBase64SayingWhy) {
  EXPECT_EQ(error_of(decode_base64("Zm9v-_8=")), "'-' at position 4 is not a base64 character");
  EXPECT_EQ(error_of(decode_base64("Zm9v\n")), "\\x0a at position 4 is not a base64 character");
  EXPECT_EQ(error_of(decode_base64("Zg")), "bad padding: length 2 is not a multiple of 4");
  EXPECT_EQ(error_of(decode_base64("Zm9vY")), "bad padding: length 5 is not a multiple of 4");
  EXPECT_EQ(error_of(decode_base64("Zg=v")), "bad padding: '=' before the end");
  EXPECT_EQ(error_of(decode_base64("Zg==Zg==")), "bad padding: '=' before the end");
  EXPECT_EQ(error_of(decode_base64("Z===")), "bad padding: more than two '='");
  EXPECT_EQ(error_of(decode_base64("====")), "bad padding: more than two '='");
  // "Zh==" and "Zm9=" carry bits past their one and two bytes.
  EXPECT_NE(error_of(decode_base64("Zh==")).find("bad padding: bits set past the data"),
            std::string::npos);
  EXPECT_NE(error_of(decode_base64("Zm9=")).find("bad padding"), std::string::npos);
  EXPECT_EQ(decode_base64("Zm8=").code(), ErrorCode::kNone);
}

}  // namespace
}  // namespace mq::ctl
