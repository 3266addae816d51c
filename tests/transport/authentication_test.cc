// Authentication (transport/principals.h, transport/zap.h): the principals
// file's format and its bad lines, the ZAP answers, password-derived keys,
// and listeners that serve only known keys, checked again on every request.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zmq.h>

#include <fstream>
#include <memory>

#include "tests/support/temp_dir.h"
#include "tests/transport/test_broker.h"
#include "transport/connection.h"
#include "transport/curve.h"
#include "transport/principals.h"
#include "transport/zap.h"

namespace mq::transport {
namespace {

using mq::testing::TempDir;
using testing::TestBroker;

CurveKeyPair new_pair() {
  return generate_curve_key_pair().value();
}

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// The error of parsing `text`, or "" when it parses.
std::string parse_error(const std::string& text) {
  Result<PrincipalTable> table = PrincipalTable::parse(text, "principals");
  return table.is_ok() ? "" : table.status().message();
}

TEST(PrincipalTableTest, MapsKeysToNamesIgnoringCommentsAndBlanks) {
  CurveKeyPair a = new_pair(), b = new_pair(), c = new_pair();
  Result<PrincipalTable> table =
      PrincipalTable::parse("# who may connect\n\n  broker:1\t" + a.public_key + "  \r\norders " +
                                b.public_key + "\norders " + c.public_key,
                            "principals");
  ASSERT_TRUE(table.is_ok()) << table.status().to_string();
  EXPECT_EQ(table->size(), 3u);
  ASSERT_NE(table->principal_of(a.public_key), nullptr);
  EXPECT_EQ(*table->principal_of(a.public_key), "broker:1");
  EXPECT_EQ(*table->principal_of(b.public_key), "orders");
  EXPECT_EQ(*table->principal_of(c.public_key), "orders");  // a client rotating its key
  EXPECT_EQ(table->principal_of(new_pair().public_key), nullptr);
  EXPECT_TRUE(PrincipalTable::parse("", "empty").is_ok());
}

TEST(PrincipalTableTest, BadLinesAreRefusedWithTheirLineNumber) {
  const std::string key = new_pair().public_key;
  EXPECT_NE(parse_error("# x\nalice\n").find("principals:2: expected NAME KEY"), std::string::npos);
  EXPECT_NE(parse_error("alice " + key + " extra\n").find("found 3 fields"), std::string::npos);
  EXPECT_NE(parse_error("al/ice " + key + "\n").find("only letters, digits"), std::string::npos);
  EXPECT_NE(parse_error(std::string(129, 'a') + " " + key).find("1 to 128"), std::string::npos);
  EXPECT_NE(parse_error("broker:x " + key).find("broker:NODE_ID"), std::string::npos);
  EXPECT_NE(parse_error("broker: " + key).find("broker:NODE_ID"), std::string::npos);
  EXPECT_NE(parse_error("alice short").find("principals:1: key: a CURVE key is 40"),
            std::string::npos);
  EXPECT_NE(parse_error("alice " + key.substr(0, 39) + "\"").find("Z85"), std::string::npos);
  EXPECT_NE(parse_error("alice " + key + "\nbob " + key)
                .find("principals:2: key listed already "
                      "on line 1"),
            std::string::npos);
  EXPECT_TRUE(check_principal_name("broker:12").is_ok());
  EXPECT_TRUE(check_principal_name("svc.orders@eu-1_a").is_ok());
  EXPECT_FALSE(check_principal_name("").is_ok());
  EXPECT_TRUE(is_broker_principal(broker_principal(3)));
  EXPECT_FALSE(is_broker_principal("brokers"));
}

TEST(PrincipalsTest, AReloadThatFailsKeepsThePrincipalsInForce) {
  TempDir dir;
  const std::string path = dir.file("principals");
  CurveKeyPair a = new_pair(), b = new_pair();
  EXPECT_FALSE(Principals::load(path).is_ok());  // missing
  write(path, "alice " + a.public_key + "\n");
  std::shared_ptr<Principals> principals = Principals::load(path).value();
  EXPECT_EQ(principals->principal_of(a.public_key), "alice");
  EXPECT_EQ(principals->principal_of(b.public_key), std::nullopt);
  EXPECT_EQ(principals->rejected(), 1u);

  write(path, "alice " + a.public_key + "\nbob " + "not-a-key\n");
  Status failed = principals->reload();
  EXPECT_FALSE(failed.is_ok());
  EXPECT_NE(failed.message().find(path + ":2"), std::string::npos) << failed.to_string();
  EXPECT_TRUE(principals->reload_failed());
  EXPECT_EQ(principals->principal_of(a.public_key), "alice");

  write(path, "bob " + b.public_key + "\n");
  ASSERT_TRUE(principals->reload().is_ok());
  EXPECT_FALSE(principals->reload_failed());
  EXPECT_EQ(principals->principal_of(a.public_key), std::nullopt);  // revoked
  EXPECT_EQ(principals->principal_of(b.public_key), "bob");

  // The quorum's view: brokers only.
  write(path, "bob " + b.public_key + "\nbroker:2 " + a.public_key + "\n");
  ASSERT_TRUE(principals->reload().is_ok());
  BrokersOnly brokers(principals);
  EXPECT_EQ(brokers.principal_of(a.public_key), "broker:2");
  EXPECT_EQ(brokers.principal_of(b.public_key), std::nullopt);
}

// A ZAP request as libzmq sends it for a CURVE handshake.
std::vector<std::string> zap_request(const std::string& domain, const std::string& key_z85,
                                     const std::string& mechanism = "CURVE") {
  std::string key(32, '\0');
  zmq_z85_decode(reinterpret_cast<uint8_t*>(key.data()), key_z85.c_str());
  return {"1.0", "7", domain, "127.0.0.1", "", mechanism, key};
}

TEST(ZapTest, AnswersFromTheDomainsAuthenticator) {
  TempDir dir;
  CurveKeyPair known = new_pair(), stranger = new_pair();
  write(dir.file("p"), "alice " + known.public_key + "\n");
  std::shared_ptr<Principals> principals = Principals::load(dir.file("p")).value();
  auto lookup = [&](std::string_view domain) -> const Authenticator* {
    return domain == "mq-0" ? principals.get() : nullptr;
  };
  std::vector<std::string> ok = answer_zap_request(zap_request("mq-0", known.public_key), lookup);
  ASSERT_EQ(ok.size(), 6u);
  EXPECT_EQ(ok[0], "1.0");
  EXPECT_EQ(ok[1], "7");  // the request id comes back
  EXPECT_EQ(ok[2], "200");
  EXPECT_EQ(ok[4], known.public_key);  // the User-Id the listener reads
  EXPECT_EQ(answer_zap_request(zap_request("mq-0", stranger.public_key), lookup)[2], "400");
  EXPECT_EQ(answer_zap_request(zap_request("mq-9", known.public_key), lookup)[2], "400");
  EXPECT_EQ(answer_zap_request(zap_request("mq-0", known.public_key, "PLAIN"), lookup)[2], "400");
  // Listeners without authentication share the handler: accepted, anonymous.
  std::vector<std::string> anonymous =
      answer_zap_request(zap_request("", stranger.public_key), lookup);
  EXPECT_EQ(anonymous[2], "200");
  EXPECT_EQ(anonymous[4], "");
  // Malformed requests: 500, never a crash.
  EXPECT_EQ(answer_zap_request({}, lookup)[2], "500");
  EXPECT_EQ(answer_zap_request({"2.0", "1", "mq-0", "", "", "CURVE", "k"}, lookup)[2], "500");
  std::vector<std::string> short_key = zap_request("mq-0", known.public_key);
  short_key[6].pop_back();
  EXPECT_EQ(answer_zap_request(short_key, lookup)[2], "500");
  short_key.push_back("extra");
  EXPECT_EQ(answer_zap_request(short_key, lookup)[2], "500");
}

TEST(DerivedKeyTest, TheSameClusterUserAndPasswordGiveTheSamePair) {
  const std::string cluster = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  const std::string other = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
  CurveKeyPair one = derive_curve_key_pair(cluster, "alice", "correct horse").value();
  // Pinned: a change of salt or parameters would lock every password user out.
  EXPECT_EQ(one.public_key, "=85LRmqaD4fkr:6h1LtLI=UJj6fL%k.O<KaB.%VT");
  EXPECT_EQ(curve_public_of(one.secret_key).value(), one.public_key);
  EXPECT_EQ(derive_curve_key_pair(cluster, "alice", "correct horse").value().public_key,
            one.public_key);
  EXPECT_NE(derive_curve_key_pair(cluster, "alice", "correct horsf").value().public_key,
            one.public_key);
  EXPECT_NE(derive_curve_key_pair(cluster, "alicf", "correct horse").value().public_key,
            one.public_key);
  EXPECT_NE(derive_curve_key_pair(other, "alice", "correct horse").value().public_key,
            one.public_key);
  EXPECT_EQ(derive_curve_key_pair(cluster, "", "x").status().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(derive_curve_key_pair(cluster, "alice", "").status().code(), ErrorCode::kInvalidConfig);
  EXPECT_EQ(derive_curve_key_pair("short", "alice", "x").status().code(),
            ErrorCode::kInvalidConfig);
}

TEST(PasswordFileTest, OnlyItsOwnerMayReadIt) {
  TempDir dir;
  const std::string path = dir.file("password");
  write(path, "s3cret\nignored\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  EXPECT_EQ(load_password_file(path).value(), "s3cret");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  Result<std::string> open = load_password_file(path);
  ASSERT_FALSE(open.is_ok());
  EXPECT_NE(open.status().message().find("readable by others (mode 0640)"), std::string::npos);
  write(dir.file("empty"), "\n");
  ASSERT_EQ(::chmod(dir.file("empty").c_str(), 0600), 0);
  EXPECT_FALSE(load_password_file(dir.file("empty")).is_ok());
  EXPECT_FALSE(load_password_file(dir.file("none")).is_ok());
}

// One request and its answer (ApiVersions, which every connection may send).
Status exchange(Connection& connection) {
  return connection.negotiate_versions(3000).status();
}

Result<std::unique_ptr<Connection>> connect(const TestBroker& broker, const std::string& server_key,
                                            const CurveKeyPair& own) {
  return Connection::connect(broker.endpoint(), {.curve = {.server_key = server_key,
                                                           .public_key = own.public_key,
                                                           .secret_key = own.secret_key}});
}

TEST(AuthenticatedListenerTest, OnlyKnownKeysAreServedAndRevocationIsImmediate) {
  TempDir dir;
  CurveKeyPair server = new_pair(), alice = new_pair(), bob = new_pair();
  write(dir.file("p"), "alice " + alice.public_key + "\nbob " + bob.public_key + "\n");
  std::shared_ptr<Principals> principals = Principals::load(dir.file("p")).value();
  TestBroker broker(
      ListenerOptions{.curve = {.secret_key = server.secret_key}, .authenticator = principals});
  ASSERT_TRUE(broker.status().is_ok()) << broker.status().to_string();

  std::unique_ptr<Connection> as_alice = connect(broker, server.public_key, alice).value();
  {
    Status s = exchange(*as_alice);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
  }
  EXPECT_EQ(broker.last_principal(), "alice");

  // An unknown key, and no key of one's own: refused in the handshake.
  for (const CurveKeyPair& stranger : {new_pair(), CurveKeyPair{}}) {
    std::unique_ptr<Connection> refused = connect(broker, server.public_key, stranger).value();
    Status status = exchange(*refused);
    EXPECT_EQ(status.code(), ErrorCode::kAuthenticationFailed) << status.to_string();
  }

  // Alice leaves the file: her open connection's next request is refused,
  // and so is a new one; bob is still served.
  write(dir.file("p"), "bob " + bob.public_key + "\n");
  ASSERT_TRUE(principals->reload().is_ok());
  Status revoked = exchange(*as_alice);
  EXPECT_EQ(revoked.code(), ErrorCode::kAuthenticationFailed) << revoked.to_string();
  EXPECT_FALSE(is_retriable(revoked.code()));
  std::unique_ptr<Connection> again = connect(broker, server.public_key, alice).value();
  EXPECT_EQ(exchange(*again).code(), ErrorCode::kAuthenticationFailed);
  std::unique_ptr<Connection> as_bob = connect(broker, server.public_key, bob).value();
  ASSERT_TRUE(exchange(*as_bob).is_ok());
  EXPECT_EQ(broker.last_principal(), "bob");
  // Two strangers, alice's revoked request and her new connection.
  EXPECT_EQ(principals->rejected(), 4u);
}

TEST(AuthenticatedListenerTest, ListenersShareTheHandlerAndEncryptionOnlyOnesStayOpen) {
  TempDir dir;
  CurveKeyPair server = new_pair(), alice = new_pair();
  write(dir.file("p"), "alice " + alice.public_key + "\n");
  std::shared_ptr<Principals> principals = Principals::load(dir.file("p")).value();
  TestBroker open(ListenerOptions{.curve = {.secret_key = server.secret_key}});
  for (int round = 0; round < 2;
       round++) {  // the handler stops with its last listener, and restarts
    auto guarded = std::make_unique<TestBroker>(
        ListenerOptions{.curve = {.secret_key = server.secret_key}, .authenticator = principals});
    ASSERT_TRUE(guarded->status().is_ok()) << guarded->status().to_string();
    CurveKeyPair stranger = new_pair();
    EXPECT_EQ(exchange(*connect(*guarded, server.public_key, stranger).value()).code(),
              ErrorCode::kAuthenticationFailed);
    EXPECT_TRUE(exchange(*connect(*guarded, server.public_key, alice).value()).is_ok());
    // The listener without authentication serves any CURVE client.
    EXPECT_TRUE(exchange(*connect(open, server.public_key, stranger).value()).is_ok());
    EXPECT_EQ(open.last_principal(), "");
  }
  // Authentication without CURVE is a configuration error.
  TestBroker plain(ListenerOptions{.authenticator = principals});
  EXPECT_EQ(plain.status().code(), ErrorCode::kInvalidConfig);
}

}  // namespace
}  // namespace mq::transport
