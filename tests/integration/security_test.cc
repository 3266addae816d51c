// CURVE encryption against real mqd processes (docs/security.md): mqctl
// keygen writes a key pair; mqd with security.curve_secret_key_file serves
// only clients that know its public key (plain-text and wrong-key clients
// are told it is the handshake, and the broker keeps serving the others);
// a secret key file others can read stops mqd and mqctl with a clear error;
// three mqd with one cluster key elect, replicate and serve acks=all.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>
#include <string>

#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_cluster.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

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
  const std::string with_key = "--server-key '" + key + "' --timeout 10s ";
  ASSERT_TRUE(eventually(
      [&] {
        Shell brokers = ctl(cluster.bootstrap(), with_key + "cluster brokers -o json");
        nlohmann::json listed = nlohmann::json::parse(brokers.out, nullptr, false);
        return brokers.code == 0 && listed.is_array() && listed.size() == 3;
      },
      30s))
      << cluster.logs();
  Shell created = ctl(cluster.bootstrap(), with_key + "topic create r -p 1 -r 3");
  ASSERT_EQ(created.code, 0) << created.err << cluster.logs();
  Shell described;
  ASSERT_TRUE(eventually(
      [&] {
        described = ctl(cluster.bootstrap(), with_key + "topic describe r -o json");
        nlohmann::json topic = nlohmann::json::parse(described.out, nullptr, false);
        return described.code == 0 && topic.is_array() && topic.size() == 1 &&
               topic[0]["partitions"][0]["isr"].size() == 3;
      },
      30s))
      << described.out << described.err << cluster.logs();
  std::string lines;
  for (int i = 0; i < 100; i++) lines += "m" + std::to_string(i) + "\n";
  Shell produced = ctl(cluster.bootstrap(), with_key + "produce r --acks all", lines);
  ASSERT_EQ(produced.code, 0) << produced.err;
  Shell consumed = ctl(cluster.bootstrap(), with_key + "consume r --from beginning -e");
  EXPECT_EQ(consumed.out, lines);
  // Without the key the cluster serves nothing.
  EXPECT_EQ(ctl(cluster.bootstrap(), "--timeout 2s topic list").code, 1);
}

}  // namespace
}  // namespace mq
