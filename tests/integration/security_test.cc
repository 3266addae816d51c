// CURVE encryption against real mqd processes (docs/security.md): mqctl
// keygen writes a key pair; mqd with security.curve_secret_key_file serves
// only clients that know its public key (plain-text and wrong-key clients
// are told it is the handshake, and the broker keeps serving the others);
// a secret key file others can read stops mqd and mqctl with a clear error;
// three mqd with one cluster key elect, replicate and serve acks=all.
// With a principals file only listed keys (and password users) are served,
// a key removed and SIGHUP stops even an open connection, a file that does
// not parse keeps the principals in force, and brokers authenticate each
// other and the quorum with their own keys.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <memory>
#include <string>

#include "client/admin.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"
#include "transport/connection.h"

namespace mq {
namespace {

using namespace std::chrono_literals;
using mq::testing::eventually;
using mq::testing::MqdCluster;
using mq::testing::MqdProcess;
using mq::testing::Shell;
using mq::testing::TempDir;

std::string read_key(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') return line;
  }
  return "";
}

class SecurityTest : public ::testing::Test {
 protected:
  // mqctl against `brokers` with ARGS (a shell word list).
  Shell ctl(const std::string& brokers, const std::string& args, const std::string& input = "") {
    return mq::testing::mqctl(dir_, brokers, args, input);
  }
  // A new key pair under dir_/NAME.{secret,public}: its public key.
  std::string keygen(const std::string& name) {
    Shell made = ctl("127.0.0.1:1", "keygen " + dir_.file(name));
    EXPECT_EQ(made.code, 0) << made.err;
    return made.out.substr(0, made.out.find('\n'));
  }

  // Writes `text` to dir_/NAME with `mode`.
  std::string write_file(const std::string& name, const std::string& text, mode_t mode = 0644) {
    std::ofstream(dir_.file(name), std::ios::trunc) << text;
    EXPECT_EQ(::chmod(dir_.file(name).c_str(), mode), 0);
    return dir_.file(name);
  }
  // The [security] settings of an authenticating broker, as top-level dotted keys.
  std::string security_toml(const std::string& broker_key) {
    return "security.curve_secret_key_file = \"" + dir_.file("cluster.secret") +
           "\"\nsecurity.broker_secret_key_file = \"" + dir_.file(broker_key + ".secret") +
           "\"\nsecurity.principals_file = \"" + dir_.file("principals") + "\"\n";
  }

  // Three brokers registered, a topic of 3 replicas all in sync, 100
  // messages produced with acks=all and read back, by mqctl with `flags`.
  void expect_serves_acks_all(MqdCluster& cluster, const std::string& flags) {
    ASSERT_TRUE(eventually(
        [&] {
          Shell brokers = ctl(cluster.bootstrap(), flags + "cluster brokers -o json");
          nlohmann::json listed = nlohmann::json::parse(brokers.out, nullptr, false);
          return brokers.code == 0 && listed.is_array() && listed.size() == 3;
        },
        30s))
        << cluster.logs();
    Shell created = ctl(cluster.bootstrap(), flags + "topic create r -p 1 -r 3");
    ASSERT_EQ(created.code, 0) << created.err << cluster.logs();
    Shell described;
    ASSERT_TRUE(eventually(
        [&] {
          described = ctl(cluster.bootstrap(), flags + "topic describe r -o json");
          nlohmann::json topic = nlohmann::json::parse(described.out, nullptr, false);
          return described.code == 0 && topic.is_array() && topic.size() == 1 &&
                 topic[0]["partitions"][0]["isr"].size() == 3;
        },
        30s))
        << described.out << described.err << cluster.logs();
    std::string lines;
    for (int i = 0; i < 100; i++) lines += "m" + std::to_string(i) + "\n";
    Shell produced = ctl(cluster.bootstrap(), flags + "produce r --acks all", lines);
    ASSERT_EQ(produced.code, 0) << produced.err;
    Shell consumed = ctl(cluster.bootstrap(), flags + "consume r --from beginning -e");
    EXPECT_EQ(consumed.out, lines);
  }

  TempDir dir_;
};

TEST_F(SecurityTest, KeygenWritesAPairAndPrintsOnlyThePublicKey) {
  const std::string key = keygen("k");
  EXPECT_EQ(key.size(), 40u);
  EXPECT_EQ(read_key(dir_.file("k.public")), key);
  EXPECT_NE(read_key(dir_.file("k.secret")), key);
  struct stat st {};
  ASSERT_EQ(::stat(dir_.file("k.secret").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Never over an existing pair; a prefix is needed.
  EXPECT_EQ(ctl("127.0.0.1:1", "keygen " + dir_.file("k")).code, 1);
  EXPECT_EQ(ctl("127.0.0.1:1", "keygen").code, 2);
  Shell json = ctl("127.0.0.1:1", "keygen " + dir_.file("j") + " -o json");
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_NE(json.out.find("\"public_key_file\""), std::string::npos) << json.out;
  EXPECT_EQ(json.out.find(read_key(dir_.file("j.secret"))), std::string::npos)
      << "the secret key must never be printed";
}

TEST_F(SecurityTest, OnlyClientsWithTheBrokersKeyAreServed) {
  const std::string key = keygen("cluster");
  const std::string client_key = keygen("client");
  MqdProcess broker(dir_.file("data"), "[security]\ncurve_secret_key_file = \"" +
                                           dir_.file("cluster.secret") + "\"\n");
  ASSERT_TRUE(broker.start()) << broker.log();
  EXPECT_NE(broker.log().find("CURVE on every listener; the cluster's public key is " + key),
            std::string::npos)
      << broker.log();
  const std::string brokers = broker.endpoint().substr(6);
  // Z85 has shell metacharacters but no single quote.
  const std::string with_key = "--server-key '" + key + "' --timeout 5s ";

  EXPECT_EQ(ctl(brokers, with_key + "topic create t -p 2").code, 0);
  EXPECT_EQ(ctl(brokers, with_key + "produce t", "a\nb\nc\n").code, 0);
  // A client key of its own, from a file; and a profile carrying both.
  Shell consumed = ctl(brokers, with_key + "--secret-key-file " + dir_.file("client.secret") +
                                    " consume t --from beginning -e");
  EXPECT_EQ(consumed.code, 0) << consumed.err;
  EXPECT_EQ(consumed.out.size(), 6u) << consumed.out;
  ASSERT_EQ(ctl(brokers, "profile create secure --server-key '" + key + "' --secret-key-file " +
                             dir_.file("client.secret") + " --use")
                .code,
            0);
  Shell listed = ctl(brokers, "topic list");
  EXPECT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("t"), std::string::npos);
  ASSERT_EQ(ctl(brokers, "profile delete secure").code, 0);

  // A consumer group's coordinator and heartbeat connections too.
  Shell grouped = ctl(brokers, with_key + "consume t -g readers --from beginning -e");
  EXPECT_EQ(grouped.code, 0) << grouped.err;
  EXPECT_EQ(grouped.out.size(), 6u) << grouped.out;

  // Plain text and another key: refused in the handshake, and said so.
  Shell plain = ctl(brokers, "--timeout 2s topic list");
  EXPECT_EQ(plain.code, 1);
  // Told at once when mqctl sees the broker's greeting first, else after
  // --timeout when the broker closed first: either way it names CURVE.
  EXPECT_NE(plain.err.find("CURVE"), std::string::npos) << plain.err;
  Shell wrong = ctl(brokers, "--timeout 2s --server-key '" + client_key + "' topic list");
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("closed during the handshake"), std::string::npos) << wrong.err;
  // Bad key arguments are usage errors; a secret key others can read too.
  EXPECT_EQ(ctl(brokers, "--server-key short topic list").code, 2);
  EXPECT_EQ(ctl(brokers, "--secret-key-file " + dir_.file("client.secret") + " topic list").code,
            2);
  ASSERT_EQ(::chmod(dir_.file("client.secret").c_str(), 0644), 0);
  Shell open =
      ctl(brokers, with_key + "--secret-key-file " + dir_.file("client.secret") + " topic list");
  EXPECT_EQ(open.code, 2);
  EXPECT_NE(open.err.find("readable by others"), std::string::npos) << open.err;

  // The broker is unharmed.
  EXPECT_EQ(ctl(brokers, with_key + "consume t --from beginning -e").out.size(), 6u);
}

TEST_F(SecurityTest, ASecretKeyOthersCanReadStopsTheBroker) {
  keygen("cluster");
  ASSERT_EQ(::chmod(dir_.file("cluster.secret").c_str(), 0640), 0);
  MqdProcess broker(dir_.file("data"), "[security]\ncurve_secret_key_file = \"" +
                                           dir_.file("cluster.secret") + "\"\n");
  EXPECT_FALSE(broker.start());
  EXPECT_NE(broker.log().find("security.curve_secret_key_file: secret key file " +
                              dir_.file("cluster.secret") + " is readable by others (mode 0640)"),
            std::string::npos)
      << broker.log();
  // A missing file as well.
  MqdProcess missing(dir_.file("data2"),
                     "[security]\ncurve_secret_key_file = \"" + dir_.file("none") + "\"\n");
  EXPECT_FALSE(missing.start());
  EXPECT_NE(missing.log().find("security.curve_secret_key_file"), std::string::npos)
      << missing.log();
}

TEST_F(SecurityTest, AnEncryptedClusterElectsReplicatesAndServes) {
  const std::string key = keygen("cluster");
  MqdCluster cluster(dir_.path(), 3, mq::testing::quick_cluster_toml(1500),
                     std::string(mq::testing::kQuickQuorumToml) +
                         "[security]\ncurve_secret_key_file = \"" + dir_.file("cluster.secret") +
                         "\"\n");
  std::string why;
  ASSERT_TRUE(cluster.start(&why)) << why;
  expect_serves_acks_all(cluster, "--server-key '" + key + "' --timeout 10s ");
  // Without the key the cluster serves nothing.
  EXPECT_EQ(ctl(cluster.bootstrap(), "--timeout 2s topic list").code, 1);
}

TEST_F(SecurityTest, OnlyPrincipalsAreServedAndARemovedKeyStopsAtOnce) {
  const std::string key = keygen("cluster");
  const std::string broker_key = keygen("broker1");
  const std::string alice = keygen("alice");
  keygen("mallory");
  // A user with a password: mqctl passwd prints the line for the file
  // (-o json too: the line is made to be appended).
  const std::string server = "--server-key '" + key + "' ";
  Shell carol = ctl("127.0.0.1:1", server + "-o json passwd carol", "open sesame\n");
  ASSERT_EQ(carol.code, 0) << carol.err;
  EXPECT_EQ(carol.out.size(), std::string("carol ").size() + 40 + 1) << carol.out;
  EXPECT_EQ(carol.out.find("open sesame"), std::string::npos);
  EXPECT_EQ(ctl("127.0.0.1:1", server + "passwd carol").code, 2);  // no password
  EXPECT_EQ(ctl("127.0.0.1:1", server + "passwd broker:2", "x\n").code, 2);
  EXPECT_EQ(ctl("127.0.0.1:1", server + "passwd bad/name", "x\n").code, 2);
  EXPECT_EQ(ctl("127.0.0.1:1", "passwd carol", "x\n").code, 2);  // no cluster key
  const std::string principals =
      "# test principals\nbroker:1 " + broker_key + "\nalice " + alice + "\n" + carol.out;
  write_file("principals", principals);
  write_file("carol.password", "open sesame\n", 0600);

  MqdProcess broker(dir_.file("data"));
  broker.set_top_level(security_toml("broker1"));
  ASSERT_TRUE(broker.start()) << broker.log();
  EXPECT_NE(broker.log().find("authentication on: 3 keys in " + dir_.file("principals") +
                              "; this broker is broker:1"),
            std::string::npos)
      << broker.log();
  const std::string brokers = broker.endpoint().substr(6);
  const std::string as_alice = "--server-key '" + key + "' --secret-key-file " +
                               dir_.file("alice.secret") + " --timeout 5s ";
  const std::string as_carol = "--server-key '" + key + "' --user carol --password-file " +
                               dir_.file("carol.password") + " --timeout 5s ";

  EXPECT_EQ(ctl(brokers, as_alice + "topic create t -p 1").code, 0);
  EXPECT_EQ(ctl(brokers, as_alice + "produce t", "a\nb\n").code, 0);
  Shell consumed = ctl(brokers, as_carol + "consume t -g readers --from beginning -e");
  EXPECT_EQ(consumed.code, 0) << consumed.err;
  EXPECT_EQ(consumed.out, "a\nb\n");
  // A wrong password is another key: refused.
  write_file("wrong.password", "open sesamf\n", 0600);
  Shell wrong = ctl(brokers, "--server-key '" + key + "' --user carol --password-file " +
                                 dir_.file("wrong.password") + " --timeout 2s topic list");
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("refused this client's key"), std::string::npos) << wrong.err;
  // Unknown keys and anonymous clients: refused in the handshake.
  Shell mallory = ctl(brokers, "--server-key '" + key + "' --secret-key-file " +
                                   dir_.file("mallory.secret") + " --timeout 2s topic list");
  EXPECT_EQ(mallory.code, 1);
  EXPECT_NE(mallory.err.find("principals file"), std::string::npos) << mallory.err;
  EXPECT_EQ(ctl(brokers, "--server-key '" + key + "' --timeout 2s topic list").code, 1);
  // Flags that cannot go together, or lack a part, are usage errors.
  EXPECT_EQ(
      ctl(brokers, "--user carol --password-file " + dir_.file("carol.password") + " topic list")
          .code,
      2);  // no server key
  EXPECT_EQ(ctl(brokers, "--server-key '" + key + "' --user carol topic list").code, 2);
  EXPECT_EQ(
      ctl(brokers, as_carol + "--secret-key-file " + dir_.file("alice.secret") + " topic list")
          .code,
      2);
  EXPECT_EQ(ctl(brokers, "--server-key '" + key + "' --password-file " +
                             dir_.file("carol.password") + " topic list")
                .code,
            2);
  write_file("open.password", "x\n", 0644);
  EXPECT_EQ(ctl(brokers, "--server-key '" + key + "' --user carol --password-file " +
                             dir_.file("open.password") + " topic list")
                .code,
            2);
  // A profile carries the user and the password file's path, never the password.
  ASSERT_EQ(
      ctl(brokers, "profile create carol --server-key '" + key + "' --user carol --password-file " +
                       dir_.file("carol.password") + " --use")
          .code,
      0);
  EXPECT_EQ(ctl(brokers, "topic list").code, 0);
  std::ifstream profiles(dir_.file("config/mq/profiles.toml"));
  std::string saved((std::istreambuf_iterator<char>(profiles)), std::istreambuf_iterator<char>());
  EXPECT_EQ(saved.find("open sesame"), std::string::npos) << saved;
  ASSERT_EQ(ctl(brokers, "profile delete carol").code, 0);
  // A profile without the password file wants $MQ_PASSWORD to connect, but
  // commands that never connect work without it.
  ASSERT_EQ(ctl(brokers, "profile create env --server-key '" + key + "' --user carol --use").code,
            0);
  Shell no_password = ctl(brokers, "topic list");
  EXPECT_EQ(no_password.code, 2);
  EXPECT_NE(no_password.err.find("$MQ_PASSWORD"), std::string::npos) << no_password.err;
  EXPECT_EQ(ctl(brokers, "profile delete env").code, 0);

  // An open connection as alice; then alice leaves the file and mqd reloads.
  client::AdminConfig config{
      .bootstrap_servers = brokers, .request_timeout_ms = 3000, .default_api_timeout_ms = 5000};
  config.curve = {.server_key = key, .secret_key = read_key(dir_.file("alice.secret"))};
  std::unique_ptr<client::Admin> admin = client::Admin::create(config).value();
  ASSERT_TRUE(admin->describe_cluster().is_ok());
  write_file("principals", "broker:1 " + broker_key + "\n" + carol.out);
  broker.signal(SIGHUP);
  ASSERT_TRUE(broker.wait_for_log("principals: 2 keys in")) << broker.log();
  Result<client::ClusterMetadata> revoked = admin->describe_cluster();
  ASSERT_FALSE(revoked.is_ok());
  EXPECT_EQ(revoked.status().code(), ErrorCode::kAuthenticationFailed)
      << revoked.status().to_string();
  EXPECT_EQ(ctl(brokers, as_alice + "topic list").code, 1);
  EXPECT_EQ(ctl(brokers, as_carol + "topic list").code, 0);

  // A file that does not parse: the principals in force stay.
  write_file("principals", "carol\n");
  broker.signal(SIGHUP);
  ASSERT_TRUE(broker.wait_for_log("; 2 keys in force")) << broker.log();
  EXPECT_NE(broker.log().find("principals: not reloaded: " + dir_.file("principals") +
                              ":1: expected NAME KEY"),
            std::string::npos)
      << broker.log();
  EXPECT_EQ(ctl(brokers, as_carol + "topic list").code, 0);
  // The broker reports it all.
  httplib::Client http("127.0.0.1", broker.http_port());
  auto scraped = http.Get("/metrics");
  ASSERT_TRUE(scraped && scraped->status == 200);
  const std::string& metrics = scraped->body;
  EXPECT_NE(metrics.find("mq_principals 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mq_principals_file_error 1"), std::string::npos);
  EXPECT_NE(metrics.find("mq_authentication_failures_total"), std::string::npos);
  EXPECT_EQ(metrics.find("mq_authentication_failures_total 0"), std::string::npos);
}

TEST_F(SecurityTest, ABrokerWhoseKeyIsNotListedDoesNotStart) {
  keygen("cluster");
  const std::string broker_key = keygen("broker1");
  const std::string other = keygen("other");
  write_file("principals", "broker:2 " + broker_key + "\nbroker:1 " + other + "\n");
  MqdProcess broker(dir_.file("data"));
  broker.set_top_level(security_toml("broker1"));
  EXPECT_FALSE(broker.start());
  EXPECT_NE(broker.log().find("must list this broker's public key " + broker_key +
                              " as broker:1, not as broker:2"),
            std::string::npos)
      << broker.log();
  // A principals file needs the keys it rides on.
  MqdProcess keyless(dir_.file("data2"),
                     "[security]\nprincipals_file = \"" + dir_.file("principals") + "\"\n");
  EXPECT_FALSE(keyless.start());
  EXPECT_NE(keyless.log().find("security.principals_file needs"), std::string::npos)
      << keyless.log();
  // A principals file that does not parse.
  write_file("principals", "broker:1 " + broker_key + " trailing\n");
  MqdProcess unparsed(dir_.file("data3"));
  unparsed.set_top_level(security_toml("broker1"));
  EXPECT_FALSE(unparsed.start());
  EXPECT_NE(unparsed.log().find(dir_.file("principals") + ":1: expected NAME KEY"),
            std::string::npos)
      << unparsed.log();
}

TEST_F(SecurityTest, BrokersAuthenticateEachOtherAndOnlyBrokersReachTheQuorum) {
  const std::string key = keygen("cluster");
  const std::string alice = keygen("alice");
  std::string principals = "alice " + alice + "\n";
  for (int id = 1; id <= 3; id++) {
    principals +=
        "broker:" + std::to_string(id) + " " + keygen("broker" + std::to_string(id)) + "\n";
  }
  write_file("principals", principals);
  MqdCluster cluster(dir_.path(), 3, mq::testing::quick_cluster_toml(1500),
                     std::string(mq::testing::kQuickQuorumToml));
  for (int id = 1; id <= 3; id++) {
    cluster.node(id).set_top_level("node_id = " + std::to_string(id) + "\n" +
                                   security_toml("broker" + std::to_string(id)));
  }
  std::string why;
  ASSERT_TRUE(cluster.start(&why)) << why;
  expect_serves_acks_all(cluster, "--server-key '" + key + "' --secret-key-file " +
                                      dir_.file("alice.secret") + " --timeout 10s ");

  // The quorum listener refuses a client's key in the handshake, however
  // valid on the client listener; and anonymous keys.
  const std::string quorum =
      "tcp://" + cluster.quorum_member(1).substr(cluster.quorum_member(1).find('@') + 1);
  for (const std::string& secret : {read_key(dir_.file("alice.secret")), std::string()}) {
    transport::ConnectionOptions options;
    options.curve = {.server_key = key, .public_key = "", .secret_key = secret};
    std::unique_ptr<transport::Connection> connection =
        transport::Connection::connect(quorum, options).value();
    Result<transport::ApiVersionsResponse> refused = connection->negotiate_versions(3000);
    ASSERT_FALSE(refused.is_ok());
    EXPECT_EQ(refused.status().code(), ErrorCode::kAuthenticationFailed)
        << refused.status().to_string();
  }
}

// The cluster's key pair changes with no moment out of service: every
// broker first also accepts the new key for its own connections, clients
// are given both keys, then each broker in turn restarts listening with the
// new key; acks=all produces succeed between every step, and at the end a
// client with the old key alone is refused while one with the new is served.
TEST_F(SecurityTest, TheClustersKeyChangesWithoutDowntime) {
  const std::string old_key = keygen("cluster");
  const std::string new_key = keygen("next");
  MqdCluster cluster(dir_.path(), 3, mq::testing::quick_cluster_toml(1500),
                     std::string(mq::testing::kQuickQuorumToml));
  auto configure = [&](int id, const std::string& secret, const std::string& other) {
    std::string toml = "node_id = " + std::to_string(id) + "\nsecurity.curve_secret_key_file = \"" +
                       dir_.file(secret + ".secret") + "\"\n";
    if (!other.empty()) {
      toml += "security.curve_other_public_key_file = \"" + dir_.file(other + ".public") + "\"\n";
    }
    cluster.node(id).set_top_level(toml);
  };
  for (int id = 1; id <= 3; id++) configure(id, "cluster", "");
  std::string why;
  ASSERT_TRUE(cluster.start(&why)) << why;
  const std::string both = "--server-key '" + old_key + "," + new_key + "' --timeout 20s ";
  expect_serves_acks_all(cluster, both);
  int produced = 100;
  auto produce_and_check = [&](const std::string& step) {
    SCOPED_TRACE(step);
    std::string lines;
    for (int i = 0; i < 50; i++) lines += step + std::to_string(i) + "\n";
    Shell sent = ctl(cluster.bootstrap(), both + "produce r --acks all", lines);
    ASSERT_EQ(sent.code, 0) << sent.err << cluster.logs();
    produced += 50;
    Shell read = ctl(cluster.bootstrap(), both + "consume r --from beginning -e");
    ASSERT_EQ(read.code, 0) << read.err;
    EXPECT_EQ(static_cast<int>(std::count(read.out.begin(), read.out.end(), '\n')), produced);
  };
  auto restart = [&](int id) {
    ASSERT_EQ(cluster.node(id).stop(), 0);
    ASSERT_TRUE(cluster.node(id).start()) << cluster.node(id).log();
    // Back in the ISR of the topic before the next broker goes.
    Shell described;
    ASSERT_TRUE(eventually(
        [&] {
          described = ctl(cluster.bootstrap(), both + "topic describe r -o json");
          nlohmann::json topic = nlohmann::json::parse(described.out, nullptr, false);
          return described.code == 0 && topic.is_array() && topic.size() == 1 &&
                 topic[0]["partitions"][0]["isr"].size() == 3;
        },
        60s))
        << described.out << described.err << cluster.logs();
  };
  // 1. Every broker also reaches brokers listening with the new key.
  for (int id = 1; id <= 3; id++) {
    configure(id, "cluster", "next");
    restart(id);
  }
  produce_and_check("accepting");
  // 2. One broker at a time listens with the new key (and reaches the others,
  // still on the old one, with it as the other key).
  for (int id = 1; id <= 3; id++) {
    configure(id, "next", "cluster");
    restart(id);
    EXPECT_NE(cluster.node(id).log().find("the cluster's key is changing"), std::string::npos);
    produce_and_check("switched" + std::to_string(id));
  }
  // 3. Done: the old key alone reaches no broker, the new one alone does.
  Shell old_only =
      ctl(cluster.bootstrap(), "--server-key '" + old_key + "' --timeout 3s topic list");
  EXPECT_EQ(old_only.code, 1);
  Shell new_only =
      ctl(cluster.bootstrap(), "--server-key '" + new_key + "' --timeout 10s topic list");
  EXPECT_EQ(new_only.code, 0) << new_only.err;
  // Bad values stop mqctl and mqd with their reason.
  EXPECT_EQ(
      ctl(cluster.bootstrap(), "--server-key '" + old_key + "," + old_key + "' topic list").code,
      2);
  EXPECT_EQ(ctl(cluster.bootstrap(),
                "--server-key '" + old_key + "," + new_key + "," + old_key + "' topic list")
                .code,
            2);
  MqdProcess same(dir_.file("same"));
  same.set_top_level("security.curve_secret_key_file = \"" + dir_.file("next.secret") +
                     "\"\nsecurity.curve_other_public_key_file = \"" + dir_.file("next.public") +
                     "\"\n");
  EXPECT_FALSE(same.start());
  EXPECT_NE(same.log().find("holds the cluster's own public key"), std::string::npos) << same.log();
}

TEST_F(SecurityTest, PasswordUsersGetALinePerServerKeyWhileTheKeyChanges) {
  const std::string old_key = keygen("cluster");
  const std::string new_key = keygen("next");
  Shell one = ctl("127.0.0.1:1", "--server-key '" + old_key + "' passwd carol", "pw\n");
  Shell two =
      ctl("127.0.0.1:1", "--server-key '" + old_key + "," + new_key + "' passwd carol", "pw\n");
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  Shell next = ctl("127.0.0.1:1", "--server-key '" + new_key + "' passwd carol", "pw\n");
  ASSERT_EQ(next.code, 0) << next.err;
  EXPECT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 2);
  EXPECT_EQ(two.out, one.out + next.out) << "the old key's line, then the new key's";
  EXPECT_NE(one.out, next.out);
}

// MqdProcess writes "[http]\naddress = ..." and then the extra TOML: lines
// before the first table header of `extra` land in [http].
std::string http_then(const std::string& http_lines, const std::string& rest) {
  return http_lines + rest;
}

TEST_F(SecurityTest, HttpAsksForTheTokenAndServesTls) {
  keygen("cluster");
  Shell made = mq::testing::run_shell(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
          dir_.file("http.key") + " -out " + dir_.file("http.crt") + " 2>&1",
      dir_.file("openssl.err"));
  ASSERT_EQ(made.code, 0) << made.out;
  ASSERT_EQ(::chmod(dir_.file("http.key").c_str(), 0600), 0);
  write_file("token", "first-token\n", 0600);
  const std::string security =
      "[security]\ncurve_secret_key_file = \"" + dir_.file("cluster.secret") + "\"\n";
  const std::string http = "token_file = \"" + dir_.file("token") +
                           "\"\ntoken_loopback = true\ntls_cert_file = \"" + dir_.file("http.crt") +
                           "\"\ntls_key_file = \"" + dir_.file("http.key") + "\"\n";
  MqdProcess broker(dir_.file("data"), http_then(http, security));
  ASSERT_TRUE(broker.start()) << broker.log();
  EXPECT_NE(broker.log().find("(TLS; a bearer token asked of clients)"), std::string::npos)
      << broker.log();

  httplib::SSLClient https("127.0.0.1", broker.http_port());
  https.set_ca_cert_path(dir_.file("http.crt").c_str());
  https.enable_server_certificate_verification(true);
  auto get = [&](const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto response = https.Get(path.c_str(), headers);
    return response ? response->status : -1;
  };
  // The probes need no token (/readyz may say 503 while the broker registers).
  EXPECT_EQ(get("/healthz", ""), 200);
  EXPECT_NE(get("/readyz", ""), 401);
  EXPECT_GT(get("/readyz", ""), 0);
  for (const char* path : {"/metrics", "/v1/status", "/metrics?x=1", "/v1/status/"}) {
    EXPECT_EQ(get(path, ""), 401) << path;
    EXPECT_EQ(get(path, "first-tokeN"), 401) << path;
  }
  EXPECT_EQ(get("/metrics", "first-token"), 200);
  EXPECT_EQ(get("/v1/status", "first-token"), 200);
  auto refused = https.Get("/metrics");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->get_header_value("WWW-Authenticate"), "Bearer realm=\"mq\"");
  httplib::Headers with_token{{"Authorization", "Bearer first-token"}};
  auto metrics = https.Get("/metrics", with_token);
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("mq_http_unauthorized_total 9"), std::string::npos)
      << metrics->body.substr(0, 2000);
  // TLS 1.2 at least: a client offering TLS 1.1 at most gets no session.
  Shell old_tls = mq::testing::run_shell(
      "openssl s_client -connect 127.0.0.1:" + std::to_string(broker.http_port()) +
          " -tls1_1 </dev/null 2>&1",
      dir_.file("s_client.err"));
  EXPECT_NE(old_tls.code, 0) << old_tls.out;
  Shell tls12 = mq::testing::run_shell(
      "openssl s_client -connect 127.0.0.1:" + std::to_string(broker.http_port()) +
          " -tls1_2 </dev/null 2>&1",
      dir_.file("s_client.err"));
  EXPECT_EQ(tls12.code, 0) << tls12.out;
  // Plain HTTP to the TLS port gets nothing.
  httplib::Client plain("127.0.0.1", broker.http_port());
  plain.set_connection_timeout(2);
  plain.set_read_timeout(2);
  auto answered = plain.Get("/healthz");
  EXPECT_TRUE(!answered || answered->status != 200);

  // A new token on SIGHUP; the old one is refused from then on.
  write_file("token", "second-token\n", 0600);
  broker.signal(SIGHUP);
  ASSERT_TRUE(broker.wait_for_log("http.token_file: token read again")) << broker.log();
  EXPECT_EQ(get("/metrics", "first-token"), 401);
  EXPECT_EQ(get("/metrics", "second-token"), 200);
  // A token file others can read is not taken: the token in force stays.
  write_file("token", "third-token\n", 0644);
  broker.signal(SIGHUP);
  ASSERT_TRUE(broker.wait_for_log("http.token_file: keeping the token in force")) << broker.log();
  EXPECT_EQ(get("/metrics", "second-token"), 200);
}

TEST_F(SecurityTest, HttpSettingsThatWouldExposeOrFailStopTheBroker) {
  keygen("cluster");
  write_file("token", "t\n", 0600);
  write_file("open-token", "t\n", 0644);
  write_file("empty-token", "\n", 0600);
  write_file("garbage.crt", "not a certificate\n", 0644);
  write_file("garbage.key", "not a key\n", 0600);
  write_file("open.key", "not a key\n", 0644);
  const std::string security =
      "[security]\ncurve_secret_key_file = \"" + dir_.file("cluster.secret") + "\"\n";
  struct Case {
    std::string http;      // lines for [http]
    std::string expected;  // in the log
  };
  const Case cases[] = {
      {"token_file = \"" + dir_.file("open-token") + "\"\n", "is readable by others (mode 0644)"},
      {"token_file = \"" + dir_.file("empty-token") + "\"\n", "the first line is empty"},
      {"token_file = \"" + dir_.file("none") + "\"\n", "http.token_file: token file"},
      {"token_loopback = true\n", "http.token_loopback needs http.token_file"},
      {"tls_cert_file = \"" + dir_.file("garbage.crt") + "\"\n",
       "http.tls_cert_file and http.tls_key_file go together"},
      {"tls_cert_file = \"" + dir_.file("garbage.crt") + "\"\ntls_key_file = \"" +
           dir_.file("open.key") + "\"\n",
       "http.tls_key_file: file " + dir_.file("open.key") + " is readable by others"},
      {"tls_cert_file = \"" + dir_.file("garbage.crt") + "\"\ntls_key_file = \"" +
           dir_.file("garbage.key") + "\"\n",
       "cannot serve TLS with"},
  };
  int n = 0;
  for (const Case& c : cases) {
    MqdProcess broker(dir_.file("data" + std::to_string(n++)), http_then(c.http, security));
    EXPECT_FALSE(broker.start()) << c.http;
    EXPECT_NE(broker.log().find(c.expected), std::string::npos) << c.http << "\n" << broker.log();
  }
  // With CURVE on, HTTP beyond loopback needs a token.
  Shell checked = mq::testing::run_shell(
      std::string(MQ_MQD_BINARY) + " --check-config " +
          write_file("wide.toml",
                     [&] {
                       return "data_dir = \"" + dir_.file("wide") +
                              "\"\n[http]\naddress = \"0.0.0.0:0\"\n" + security;
                     }()),
      dir_.file("check.err"));
  EXPECT_NE(checked.code, 0);
  std::ifstream err(dir_.file("check.err"));
  std::string text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  EXPECT_NE((checked.out + text).find("is not a loopback address"), std::string::npos)
      << checked.out << text;
}

}  // namespace
}  // namespace mq
