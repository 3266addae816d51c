// CURVE keys (generation, Z85 checks, key files and their permissions) and
// encrypted connections end to end: a Connection with the listener's public
// key is served; a plain-text one or one with another key is not, and is
// told it is a handshake failure.
#include "transport/curve.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include "tests/support/temp_dir.h"
#include "tests/transport/test_broker.h"
#include "transport/connection.h"

namespace mq::transport {
namespace {

using mq::testing::TempDir;
using testing::TestBroker;

void write(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

TEST(CurveKeysTest, AFreshPairIsZ85AndItsPublicHalfIsDerived) {
  ASSERT_TRUE(curve_available());
  Result<CurveKeyPair> pair = generate_curve_key_pair();
  ASSERT_TRUE(pair.is_ok()) << pair.status().to_string();
  EXPECT_EQ(pair->public_key.size(), kCurveKeyChars);
  EXPECT_EQ(pair->secret_key.size(), kCurveKeyChars);
  EXPECT_TRUE(check_curve_key(pair->public_key, "k").is_ok());
  Result<std::string> derived = curve_public_of(pair->secret_key);
  ASSERT_TRUE(derived.is_ok());
  EXPECT_EQ(*derived, pair->public_key);
  EXPECT_NE(generate_curve_key_pair()->secret_key, pair->secret_key);
}

TEST(CurveKeysTest, MalformedKeysAreRefusedSayingWhy) {
  Status short_key = check_curve_key("abc", "--server-key");
  EXPECT_EQ(short_key.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(short_key.message().find("--server-key: a CURVE key is 40 characters"),
            std::string::npos)
      << short_key.message();
  Status bad_char = check_curve_key(std::string(39, 'a') + "\"", "k");
  EXPECT_EQ(bad_char.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad_char.message().find("not a Z85 key"), std::string::npos) << bad_char.message();
  EXPECT_FALSE(curve_public_of("nope").is_ok());
}

TEST(CurveKeysTest, KeyFilesRoundTripAndASecretOthersCanReadIsRefused) {
  TempDir dir;
  const std::string prefix = dir.path() + "/cluster";
  CurveKeyPair pair = generate_curve_key_pair().value();
  ASSERT_TRUE(write_curve_key_files(prefix, pair).is_ok());
  struct stat st {};
  ASSERT_EQ(::stat((prefix + ".secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((prefix + ".public").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  Result<CurveKeyPair> loaded = load_curve_secret_key_file(prefix + ".secret");
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->secret_key, pair.secret_key);
  EXPECT_EQ(loaded->public_key, pair.public_key);
  EXPECT_EQ(load_curve_public_key_file(prefix + ".public").value(), pair.public_key);
  // Never over an existing pair.
  Status again = write_curve_key_files(prefix, pair);
  EXPECT_FALSE(again.is_ok());

  // Readable by others: refused, naming the mode and the cure.
  ASSERT_EQ(::chmod((prefix + ".secret").c_str(), 0644), 0);
  Result<CurveKeyPair> open = load_curve_secret_key_file(prefix + ".secret");
  ASSERT_FALSE(open.is_ok());
  EXPECT_NE(open.status().message().find("readable by others (mode 0644)"), std::string::npos)
      << open.status().message();
  ASSERT_EQ(::chmod((prefix + ".secret").c_str(), 0640), 0);
  EXPECT_FALSE(load_curve_secret_key_file(prefix + ".secret").is_ok());

  // Missing, empty, malformed.
  EXPECT_FALSE(load_curve_secret_key_file(dir.path() + "/none").is_ok());
  write(dir.path() + "/empty", "# nothing here\n\n", 0600);
  Result<CurveKeyPair> empty = load_curve_secret_key_file(dir.path() + "/empty");
  ASSERT_FALSE(empty.is_ok());
  EXPECT_NE(empty.status().message().find("no key in it"), std::string::npos);
  write(dir.path() + "/bad", "not-a-key\n", 0600);
  EXPECT_FALSE(load_curve_secret_key_file(dir.path() + "/bad").is_ok());
  // Comments, blanks and surrounding spaces are fine.
  write(dir.path() + "/spaced", "# key\n\n  " + pair.secret_key + "  \n", 0400);
  EXPECT_TRUE(load_curve_secret_key_file(dir.path() + "/spaced").is_ok());
}

// What one ApiVersions exchange over a new connection with `options` gives.
Status exchange(const TestBroker& broker, const ConnectionOptions& options) {
  Result<std::unique_ptr<Connection>> connection = Connection::connect(broker.endpoint(), options);
  if (!connection.is_ok()) return connection.status();
  return (*connection)->negotiate_versions(3000).status();
}

TEST(CurveConnectionTest, OnlyClientsWithTheServersPublicKeyAreServed) {
  CurveKeyPair server = generate_curve_key_pair().value();
  TestBroker broker(ListenerOptions{.curve = {.secret_key = server.secret_key}});
  ASSERT_TRUE(broker.status().is_ok()) << broker.status().to_string();

  // The right key, with a fresh client key pair or a given one.
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key}}).is_ok());
  CurveKeyPair client = generate_curve_key_pair().value();
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key,
                                          .secret_key = client.secret_key}})
                  .is_ok());

  // Plain text against CURVE: dropped in the handshake, and told so.
  // The client reads the broker's greeting first (AUTHENTICATION_FAILED:
  // "the broker requires CURVE"), or the broker closes first (retriable,
  // "closed during the handshake (does the broker require CURVE? ...)").
  Status plain = exchange(broker, {});
  ASSERT_FALSE(plain.is_ok());
  EXPECT_TRUE(plain.code() == ErrorCode::kAuthenticationFailed || is_retriable(plain.code()))
      << plain.to_string();
  EXPECT_NE(plain.message().find("requires CURVE"), std::string::npos) << plain.to_string();
  // Another server key: dropped silently by the broker, as a broker
  // restarting would: retriable, and the message says what to check.
  Status wrong = exchange(broker, {.curve = {.server_key = client.public_key}});
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_TRUE(is_retriable(wrong.code())) << wrong.to_string();
  EXPECT_NE(wrong.message().find("closed during the handshake"), std::string::npos)
      << wrong.to_string();
  // A malformed key is an error before anything is sent.
  Status malformed = exchange(broker, {.curve = {.server_key = "short"}});
  EXPECT_EQ(malformed.code(), ErrorCode::kInvalidConfig) << malformed.to_string();

  // The broker is unharmed: the right client is still served.
  EXPECT_TRUE(exchange(broker, {.curve = {.server_key = server.public_key}}).is_ok());
}

TEST(CurveConnectionTest, ACurveClientAgainstAPlainListenerIsToldSo) {
  TestBroker broker;
  CurveKeyPair server = generate_curve_key_pair().value();
  Status refused = exchange(broker, {.curve = {.server_key = server.public_key}});
  ASSERT_FALSE(refused.is_ok());
  EXPECT_TRUE(refused.code() == ErrorCode::kAuthenticationFailed || is_retriable(refused.code()))
      << refused.to_string();
  EXPECT_TRUE(refused.message().find("does not use CURVE") != std::string::npos ||
              refused.message().find("does the broker use CURVE?") != std::string::npos)
      << refused.to_string();
  EXPECT_TRUE(exchange(broker, {}).is_ok());
}

}  // namespace
}  // namespace mq::transport
