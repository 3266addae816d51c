// Broker configuration: parsing, errors that name key and line, reloads, reference.
#include "broker/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace mq::broker {
namespace {

TEST(Config, EmptyFileGivesTheDefaults) {
  Result<BrokerConfig> c = parse_config("", "empty.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->node_id, 1);
  EXPECT_EQ(c->client_listener, "tcp://127.0.0.1:9092");
  EXPECT_EQ(c->log.fsync_policy, FsyncPolicy::kInterval);
  EXPECT_FALSE(c->auto_create_topics);
}

TEST(Config, ParsesEveryKindOfSetting) {
  Result<BrokerConfig> c = parse_config(R"(
node_id = 7
data_dir = "/var/lib/mq"
[listeners]
client = "tcp://0.0.0.0:19092"
[http]
address = "0.0.0.0:19644"
[topics]
auto_create = true
default_partitions = 6
[log]
fsync = "always"
retention_ms = -1
segment_bytes = 1048576
message_timestamp_type = "log_append_time"
)",
                                        "full.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_EQ(c->node_id, 7);
  EXPECT_EQ(c->data_dir, "/var/lib/mq");
  EXPECT_EQ(c->client_listener, "tcp://0.0.0.0:19092");
  EXPECT_EQ(c->http_address, "0.0.0.0:19644");
  EXPECT_TRUE(c->auto_create_topics);
  EXPECT_EQ(c->default_partitions, 6);
  EXPECT_EQ(c->log.fsync_policy, FsyncPolicy::kAlways);
  EXPECT_EQ(c->log.retention_ms, -1);
  EXPECT_EQ(c->log.segment_bytes, 1048576u);
  EXPECT_EQ(c->log.timestamp_type, TimestampType::kLogAppendTime);
}

TEST(Config, ErrorsNameTheKeyAndItsLine) {
  struct Case {
    const char* toml;
    const char* expected;
  };
  const Case cases[] = {
      {"node_id = 1\n[log]\nfsnyc = \"always\"\n", "bad.toml:3: log.fsnyc: unknown setting"},
      {"\n\n[log]\nfsync = \"sometimes\"\n", "bad.toml:4: log.fsync: unknown fsync policy"},
      {"node_id = \"one\"\n", "bad.toml:1: node_id: expected an integer"},
      {"[topics]\nauto_create = 1\n", "bad.toml:2: topics.auto_create: expected true or false"},
      {"[topics]\ndefault_partitions = 0\n",
       "bad.toml:2: topics.default_partitions: must be between 1"},
      {"[http]\naddress = \"localhost\"\n", "bad.toml:2: http.address: must be HOST:PORT"},
      {"[listeners]\nclient = \"127.0.0.1:9092\"\n",
       "bad.toml:2: listeners.client: must start with tcp://"},
      {"[log]\nretention_ms = -5\n", "bad.toml:2: log.retention_ms: must be between -1"},
      {"node_id = 1\nnode_id = 2\n", "bad.toml:2:"},
      {"[log\n", "bad.toml:1:"},
  };
  for (const Case& c : cases) {
    Result<BrokerConfig> r = parse_config(c.toml, "bad.toml");
    ASSERT_FALSE(r.is_ok()) << c.toml;
    EXPECT_EQ(r.code(), ErrorCode::kInvalidConfig);
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << "got: " << r.status().message();
  }
}

TEST(Config, ValueTextIsWhatAClientShows) {
  Result<BrokerConfig> c = parse_config(R"(
data_dir = "./data \"quoted\""
[log]
segment_bytes = 1048576
[topics]
auto_create = true
[cluster]
voters = "1@127.0.0.1:9093"
)",
                                        "shown.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  std::map<std::string, std::string> shown;
  for (const Setting& s : settings()) shown[s.key] = value_text(s, *c);
  EXPECT_EQ(shown["data_dir"], "./data \"quoted\"");
  EXPECT_EQ(shown["log.segment_bytes"], "1048576");
  EXPECT_EQ(shown["topics.auto_create"], "true");
  EXPECT_EQ(shown["cluster.voters"], "1@127.0.0.1:9093");
  EXPECT_EQ(shown["cluster.observers"], "");
}

TEST(Config, MissingFileIsAClearError) {
  Result<BrokerConfig> r = load_config("/nonexistent/mq.toml");
  EXPECT_EQ(r.code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/mq.toml"), std::string::npos);
}

TEST(Config, DiffSeparatesDynamicFromStaticSettings) {
  BrokerConfig a = *parse_config("", "a");
  BrokerConfig b = *parse_config("node_id = 2\n[log]\nretention_ms = 1000\n", "b");
  ConfigDiff d = diff_configs(a, b);
  EXPECT_EQ(d.dynamic_keys, std::vector<std::string>{"log.retention_ms"});
  EXPECT_EQ(d.static_keys, std::vector<std::string>{"node_id"});
}

TEST(Config, ReferenceListsEverySetting) {
  std::string ref = configuration_reference();
  for (const Setting& s : settings()) {
    EXPECT_NE(ref.find("| `" + s.key + "` |"), std::string::npos) << s.key;
  }
}

TEST(Config, ClusterModeNeedsVotersAndThisNodeAmongThem) {
  Result<BrokerConfig> single = parse_config("", "single.toml");
  ASSERT_TRUE(single.is_ok());
  EXPECT_TRUE(single->cluster.voters.empty());

  Result<BrokerConfig> c = parse_config(R"(
node_id = 2
[cluster]
voters = "1@127.0.0.1:9193, 2@127.0.0.1:9293,3@localhost:9393"
observers = "4@127.0.0.1:9493"
rack = "r2"
broker_session_timeout_ms = 2000
[quorum]
tick_ms = 20
election_timeout_ms = 400
[replication]
lag_time_max_ms = 5000
)",
                                        "node2.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->cluster.voters.empty());
  ASSERT_EQ(c->cluster.voters.size(), 3u);
  EXPECT_EQ(c->cluster.voters[1], (QuorumMember{2, "127.0.0.1", 9293}));
  EXPECT_EQ(c->cluster.voters[2].endpoint(), "tcp://localhost:9393");
  ASSERT_NE(c->cluster.member(4), nullptr);
  EXPECT_EQ(c->cluster.member(4)->port, 9493);
  EXPECT_EQ(c->cluster.member(9), nullptr);
  EXPECT_EQ(c->cluster.rack, "r2");
  EXPECT_EQ(c->cluster.quorum_tick_ms, 20);
  EXPECT_EQ(c->cluster.replica_lag_time_max_ms, 5000);
  // The table prints the list back as it parses it.
  for (const Setting& s : settings()) {
    if (s.key == "cluster.voters") {
      EXPECT_EQ(s.get(*c), "\"1@127.0.0.1:9193,2@127.0.0.1:9293,3@localhost:9393\"");
    }
  }
}

// A broker added to a running cluster: the cluster's voters, its own id in
// neither list, and the quorum listener it announces.
TEST(Config, ANodeInNeitherListIsADynamicObserverWithAReachableQuorumListener) {
  Result<BrokerConfig> c = parse_config(R"(
node_id = 9
[listeners]
quorum = "tcp://10.0.0.9:9093"
[cluster]
voters = "1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093"
observers = "4@10.0.0.4:9093"
)",
                                        "node9.toml");
  ASSERT_TRUE(c.is_ok()) << c.status().to_string();
  EXPECT_FALSE(c->cluster.voters.empty());
  EXPECT_EQ(c->cluster.member(9), nullptr);
  EXPECT_EQ(c->cluster.quorum_listener, "tcp://10.0.0.9:9093");
}

TEST(Config, BadClusterSettingsAreClearErrors) {
  struct Case {
    const char* toml;
    const char* expected;
  };
  const Case cases[] = {
      {"[cluster]\nvoters = \"1@h:1,2@h:2\"\n", "needs 1, 3 or 5 voters, got 2"},
      {"[cluster]\nvoters = \"1@h:1,1@h:2,3@h:3\"\n", "node id 1 is listed twice"},
      {"[cluster]\nvoters = \"1-h:1\"\n", "'1-h:1' is not ID@HOST:PORT"},
      {"[cluster]\nvoters = \"x@h:1\"\n", "the id must be a number"},
      {"[cluster]\nvoters = \"1@h:99999\"\n", "the port must be from 1 to 65535"},
      {"[cluster]\nvoters = \"1@:5\"\n", "the host is empty"},
      {"[cluster]\nvoters = \"1@h:1,,2@h:2\"\n", "empty entry"},
      {"node_id = 9\n[cluster]\nvoters = \"1@h:1\"\n",
       "node_id 9 is in neither cluster.voters nor cluster.observers (1@h:1), so it joins as a "
       "dynamic observer and needs listeners.quorum"},
      {"node_id = 9\n[listeners]\nquorum = \"tcp://0.0.0.0:9\"\n[cluster]\nvoters = \"1@h:1\"\n",
       "not 0.0.0.0 or *) and a port from 1 to 65535; got 'tcp://0.0.0.0:9'"},
      {"node_id = 9\n[listeners]\nquorum = \"tcp://*:9\"\n[cluster]\nvoters = \"1@h:1\"\n",
       "got 'tcp://*:9'"},
      {"node_id = 9\n[listeners]\nquorum = \"tcp://h9:0\"\n[cluster]\nvoters = \"1@h:1\"\n",
       "got 'tcp://h9:0'"},
      {"node_id = 9\n[listeners]\nquorum = \"tcp://h9\"\n[cluster]\nvoters = \"1@h:1\"\n",
       "got 'tcp://h9'"},
      {"node_id = 1\n[listeners]\nquorum = \"tcp://h1:1\"\n[cluster]\nvoters = \"1@h:1\"\n"
       "observers = \"1@h:2\"\n",
       "node id 1 is both in cluster.voters and cluster.observers"},
      {"[cluster]\nobservers = \"4@h:4\"\n", "cluster.voters is empty"},
      {"[cluster]\nvoters = \"1@h:1\"\nobservers = \"1@h:2\"\n",
       "node id 1 is both in cluster.voters and cluster.observers"},
      {"[cluster]\nvoters = \"1@h:1\"\nbroker_session_timeout_ms = 400\n"
       "broker_heartbeat_interval_ms = 500\n",
       "must be above cluster.broker_heartbeat_interval_ms"},
      {"[listeners]\nquorum = \"h:1\"\n", "listeners.quorum: must start with tcp://"},
  };
  for (const Case& c : cases) {
    Result<BrokerConfig> r = parse_config(c.toml, "bad.toml");
    ASSERT_FALSE(r.is_ok()) << c.toml;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos)
        << "got: " << r.status().message() << "\nwanted: " << c.expected;
  }
}

// docs/configuration.md is generated from the table; regenerate it with
// `build/bin/mqd --print-config-reference > docs/configuration.md`.
TEST(Config, DocsMatchTheSettingsTable) {
  std::ifstream in(std::string(MQ_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(in) << "docs/configuration.md is missing";
  std::stringstream doc;
  doc << in.rdbuf();
  EXPECT_EQ(doc.str(), configuration_reference())
      << "docs/configuration.md is stale: regenerate it with mqd --print-config-reference";
}

TEST(Config, ExampleConfigsAreValid) {
  for (const char* name : {"single.toml"}) {
    std::string path = std::string(MQ_SOURCE_DIR) + "/examples/configs/" + name;
    Result<BrokerConfig> r = load_config(path);
    EXPECT_TRUE(r.is_ok()) << path << ": " << r.status().to_string();
  }
}

}  // namespace
}  // namespace mq::broker
