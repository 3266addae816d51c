// The real mqctl binary against a real mqd, driven through a shell the way
// operators and scripts use it: topics, produce/consume pipelines, keys and
// headers, JSON output, configs, cluster health, and the error cases (bad
// arguments, missing topics, an unreachable broker within --timeout).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/mqctl_fixture.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

using json = nlohmann::json;
using mq::testing::MqdProcess;
using mq::testing::TempDir;

using mq::testing::Shell;

using mq::testing::MqctlTest;

TEST_F(MqctlTest, TopicLifecycle) {
  ok("$MQCTL topic create orders -p 3 -c retention.ms=3600000");
  Shell again = sh("$MQCTL topic create orders");
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  ok("$MQCTL topic create orders --if-not-exists");

  json list = json::parse(ok("$MQCTL topic list -o json").out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "orders");
  EXPECT_EQ(list[0]["partitions"], 3);

  json described = json::parse(ok("$MQCTL -o json topic describe orders").out);
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0]["partitions"].size(), 3u);
  EXPECT_EQ(described[0]["partitions"][0]["high_watermark"], 0);
  bool found = false;
  for (const auto& c : described[0]["configs"]) {
    if (c["name"] == "retention.ms") {
      EXPECT_EQ(c["value"], "3600000");
      EXPECT_EQ(c["source"], "topic");
      found = true;
    }
  }
  EXPECT_TRUE(found) << described.dump();

  ok("$MQCTL topic alter-config orders --set retention.ms=7200000 --set segment.bytes=1048576");
  json configs = json::parse(ok("$MQCTL config get --topic orders retention.ms -o json").out);
  ASSERT_EQ(configs.size(), 1u);
  EXPECT_EQ(configs[0]["value"], "7200000");
  ok("$MQCTL topic alter-config orders --delete retention.ms");
  configs = json::parse(ok("$MQCTL config get --topic orders retention.ms -o json").out);
  EXPECT_NE(configs[0]["source"], "topic");
  Shell bad_value = sh("$MQCTL topic alter-config orders --set retention.ms=soon");
  EXPECT_EQ(bad_value.code, 1);
  EXPECT_NE(bad_value.err.find("retention.ms"), std::string::npos) << bad_value.err;

  ok("$MQCTL topic add-partitions orders -p 5");
  EXPECT_EQ(json::parse(ok("$MQCTL topic describe orders -o json").out)[0]["partitions"].size(),
            5u);
  EXPECT_EQ(sh("$MQCTL topic add-partitions orders -p 2").code, 1) << "cannot shrink";

  ok("$MQCTL topic delete orders");
  Shell gone = sh("$MQCTL topic describe orders");
  EXPECT_EQ(gone.code, 3);
  EXPECT_NE(gone.err.find("mqctl: topic \"orders\" not found"), std::string::npos) << gone.err;
  EXPECT_EQ(sh("$MQCTL topic delete orders").code, 3);
  ok("$MQCTL topic delete orders --if-exists");
}

TEST_F(MqctlTest, ProduceAndConsumePipelines) {
  ok("$MQCTL topic create t -p 3");
  ok("seq 1 1000 | $MQCTL produce t");
  EXPECT_EQ(ok("$MQCTL consume t --from beginning -e | wc -l").out, "1000\n");

  ok("seq 1001 1500 > more.txt && $MQCTL produce t --file more.txt --acks 1 -p 1");
  Shell all = ok("$MQCTL consume t --from beginning -e | sort -n | uniq | wc -l");
  EXPECT_EQ(all.out, "1500\n");
  EXPECT_EQ(ok("$MQCTL consume t --from beginning -e -n 10 | wc -l").out, "10\n");
  EXPECT_EQ(ok("$MQCTL consume t -p 1 --from -5 -e | wc -l").out, "5\n");
  EXPECT_EQ(ok("$MQCTL consume t --from end -e | wc -l").out, "0\n");
  EXPECT_EQ(ok("$MQCTL consume t --from @-1h -e | wc -l").out, "1500\n");

  ok("printf \"a;b;c\" | $MQCTL produce t -p 0 --delimiter \\;");
  Shell tail = ok("$MQCTL consume t -p 0 --from -3 -e -f \"{partition}:{value}\\n\"");
  EXPECT_EQ(tail.out, "0:a\n0:b\n0:c\n");
}

// `tail -f log | mqctl produce`: each line must reach the broker while the
// pipe stays open, not when it closes. Prints the time from write to a
// follow-mode consumer printing it (bench/README.md records the figures).
TEST_F(MqctlTest, ASlowPipeIntoProduceStreamsLineByLine) {
  ok("$MQCTL topic create slow");
  auto open_pipe = [&](const std::string& command, const char* mode) {
    std::string full = "cd " + dir_.path() + " && MQ_BROKERS=" + brokers_ + " exec timeout 60 " +
                       MQ_MQCTL_BINARY + " " + command;
    return ::popen(full.c_str(), mode);
  };
  FILE* consumer = open_pipe("consume slow --from beginning -n 5", "r");
  FILE* producer = open_pipe("produce slow", "w");
  ASSERT_NE(consumer, nullptr);
  ASSERT_NE(producer, nullptr);
  for (int i = 0; i < 5; ++i) {
    std::string line = "line-" + std::to_string(i);
    auto written = std::chrono::steady_clock::now();
    std::fprintf(producer, "%s\n", line.c_str());
    std::fflush(producer);
    pollfd readable{.fd = ::fileno(consumer), .events = POLLIN, .revents = 0};
    ASSERT_EQ(::poll(&readable, 1, 10'000), 1) << line << " never reached the consumer";
    char got[256] = {};
    ASSERT_NE(std::fgets(got, sizeof(got), consumer), nullptr);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - written)
            .count();
    EXPECT_EQ(std::string(got), line + "\n");
    std::printf("line %d: written to consumed in %.1f ms\n", i, ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the pipe idles
  }
  EXPECT_EQ(::pclose(producer), 0);
  EXPECT_EQ(::pclose(consumer), 0);
}

TEST_F(MqctlTest, KeysAndHeadersRoundTripAsJson) {
  ok("$MQCTL topic create kv -p 1");
  ok("printf \"user1=alice\\nuser2=bob=x\\nnokey\\n\" | "
     "$MQCTL produce kv --key-separator = -H source=test -H trace=42");
  Shell out = ok("$MQCTL consume kv --from beginning -e -o json");
  std::vector<json> records;
  size_t start = 0;
  while (start < out.out.size()) {
    size_t end = out.out.find('\n', start);
    records.push_back(json::parse(out.out.substr(start, end - start)));
    start = end + 1;
  }
  ASSERT_EQ(records.size(), 3u) << out.out;
  EXPECT_EQ(records[0]["key"], "user1");
  EXPECT_EQ(records[0]["value"], "alice");
  EXPECT_EQ(records[1]["key"], "user2");
  EXPECT_EQ(records[1]["value"], "bob=x");
  EXPECT_TRUE(records[2]["key"].is_null());
  EXPECT_EQ(records[2]["value"], "nokey");
  for (const json& r : records) {
    EXPECT_EQ(r["topic"], "kv");
    EXPECT_EQ(r["headers"],
              json::parse(R"([{"key":"source","value":"test"},{"key":"trace","value":"42"}])"));
  }
  EXPECT_EQ(records[2]["offset"], 2);

  ok("echo v | $MQCTL produce kv -k fixed");
  EXPECT_EQ(ok("$MQCTL consume kv --from -1 -e -f \"{key}={value}|{headers}\"").out, "fixed=v|");
}

TEST_F(MqctlTest, ClusterAndBrokerConfig) {
  ok("$MQCTL topic create a -p 2");
  // Internal topics (the group offsets) count too. The broker creates
  // __consumer_offsets in the background once it has started: wait for it,
  // so both commands below see the same topics.
  json all;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    all = json::parse(ok("$MQCTL topic list --internal -o json").out);
    if (all.size() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  } while (std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(all.size(), 2u) << all.dump();
  json info = json::parse(ok("$MQCTL cluster info -o json").out);
  EXPECT_EQ(info["brokers"], 1);
  EXPECT_EQ(info["topics"], all.size());
  int partitions = 0;
  for (const auto& t : all) partitions += t["partitions"].get<int>();
  EXPECT_EQ(info["partitions"], partitions);
  EXPECT_EQ(json::parse(ok("$MQCTL topic list -o json").out).size(), 1u) << "a only";
  json brokers = json::parse(ok("$MQCTL cluster brokers -o json").out);
  ASSERT_EQ(brokers.size(), 1u);
  EXPECT_EQ(brokers[0]["controller"], true);
  EXPECT_EQ(brokers[0]["fenced"], false);
  EXPECT_EQ(brokers[0]["in_controlled_shutdown"], false);
  json health = json::parse(ok("$MQCTL cluster health -o json").out);
  EXPECT_EQ(health["healthy"], true);
  EXPECT_EQ(health["brokers"][0]["reachable"], true);
  EXPECT_EQ(health["brokers"][0]["fenced"], false);
  EXPECT_EQ(health["controller_id"], brokers[0]["id"]);
  EXPECT_TRUE(health["findings"].empty()) << health.dump();
  EXPECT_EQ(health["partitions"]["total"], partitions) << "every partition is checked";

  json settings = json::parse(ok("$MQCTL config get -o json").out);
  EXPECT_FALSE(settings.empty());
  // Values as a client shows them: no TOML quotes.
  json data_dir = json::parse(ok("$MQCTL config get data_dir -o json").out);
  ASSERT_EQ(data_dir.size(), 1u);
  EXPECT_EQ(data_dir[0]["value"], dir_.file("data")) << data_dir.dump();
  Shell unknown = sh("$MQCTL config get --topic a nope");
  EXPECT_EQ(unknown.code, 3);
  EXPECT_EQ(unknown.out, "") << "no table of nothing";
  EXPECT_NE(unknown.err.find("topic \"a\" has no setting \"nope\""), std::string::npos)
      << unknown.err;
  EXPECT_EQ(sh("$MQCTL config get --topic nope").code, 3);
}

// Broker settings SIGHUP can change also change through the protocol
// (Kafka's dynamic broker configs): at once, shown with their source, kept
// over restarts and reloads until deleted; the others are refused.
TEST_F(MqctlTest, DynamicBrokerSettingsApplyPersistAndRevert) {
  auto setting = [&](const std::string& key) {
    json rows = json::parse(ok("$MQCTL config get --broker 1 -o json " + key).out);
    EXPECT_EQ(rows.size(), 1u) << rows.dump();
    return rows.empty() ? json() : rows[0];
  };
  json before = setting("log.retention_ms");
  EXPECT_EQ(before["source"], "default") << before.dump();
  EXPECT_EQ(before["read_only"], false);
  EXPECT_EQ(setting("data_dir")["read_only"], true);

  ok("$MQCTL config set --broker 1 log.retention_ms=3600000 topics.auto_create=false");
  json changed = setting("log.retention_ms");
  EXPECT_EQ(changed["value"], "3600000");
  EXPECT_EQ(changed["source"], "dynamic-broker") << changed.dump();
  // Applied at once: a topic created now gets the new default.
  Shell fresh = sh("echo x | $MQCTL --timeout 1s produce fresh");
  EXPECT_EQ(fresh.code, 3) << "auto-creation is off now: " << fresh.err;

  // Kept over a reload of the config file and over a restart.
  broker_->signal(SIGHUP);
  EXPECT_TRUE(
      mq::testing::eventually([&] { return broker_->log().find("reloaded") != std::string::npos; },
                              std::chrono::seconds(10)));
  EXPECT_EQ(setting("log.retention_ms")["value"], "3600000");
  ASSERT_EQ(broker_->stop(), 0);
  ASSERT_TRUE(broker_->start()) << broker_->log();
  std::string endpoint = broker_->endpoint();
  brokers_ = endpoint.substr(endpoint.find("//") + 2);
  EXPECT_EQ(setting("log.retention_ms")["source"], "dynamic-broker");
  EXPECT_NE(broker_->log().find("dynamic setting log.retention_ms = 3600000"), std::string::npos);

  // Deleted: the file's (here the default) value applies again.
  ok("$MQCTL config delete --broker 1 log.retention_ms topics.auto_create");
  EXPECT_EQ(setting("log.retention_ms")["value"], before["value"]);
  EXPECT_EQ(setting("log.retention_ms")["source"], "default");

  // Refused, nothing changed: a setting that needs a restart, a bad value,
  // an unknown key, another broker's id.
  Shell restart = sh("$MQCTL config set --broker 1 data_dir=/tmp/elsewhere");
  EXPECT_EQ(restart.code, 1);
  EXPECT_NE(restart.err.find("needs a restart"), std::string::npos) << restart.err;
  Shell bad = sh("$MQCTL config set --broker 1 log.retention_ms=soon log.segment_ms=1000");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("is not an integer"), std::string::npos) << bad.err;
  EXPECT_EQ(setting("log.segment_ms")["source"], "default") << "all or nothing";
  EXPECT_EQ(sh("$MQCTL config set --broker 1 nope=1").code, 1);
  Shell other = sh("$MQCTL config set --broker 7 log.retention_ms=1");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("broker 7"), std::string::npos) << other.err;
}

// With topics.auto_create on, producing to a missing topic creates it, as
// it does for a Kafka producer: mqctl produce and mqctl bench produce ask
// for it in their Metadata request.
TEST(MqctlAutoCreateTest, ProduceCreatesAMissingTopicWhenTheBrokerAllows) {
  mq::testing::TempDir dir;
  MqdProcess broker(dir.file("data"), "[topics]\nauto_create = true\n");
  ASSERT_TRUE(broker.start()) << broker.log();
  std::string endpoint = broker.endpoint();
  auto run = [&](const std::string& command) {
    return mq::testing::run_shell("MQ_BROKERS=" + endpoint.substr(endpoint.find("//") + 2) +
                                      " MQCTL=" + MQ_MQCTL_BINARY + " timeout 60 sh -c '" +
                                      command + "'",
                                  dir.file("stderr"));
  };
  Shell produced = run("printf \"a\\nb\\n\" | $MQCTL produce fresh");
  ASSERT_EQ(produced.code, 0) << produced.err;
  Shell read = run("$MQCTL consume fresh --from beginning -e");
  EXPECT_EQ(read.code, 0) << read.err;
  EXPECT_EQ(read.out, "a\nb\n");
  Shell bench = run("$MQCTL bench produce --topic freshbench --count 1000 -o json");
  ASSERT_EQ(bench.code, 0) << bench.err;
  EXPECT_EQ(json::parse(bench.out).at("count"), 1000);
  EXPECT_EQ(json::parse(bench.out).at("errors"), 0);
}

TEST_F(MqctlTest, OffsetsAtEarliestLatestAndATime) {
  ok("$MQCTL topic create o -p 2");
  ok("seq 1 5 | $MQCTL produce o -p 0");
  json latest = json::parse(ok("$MQCTL -o json offsets o").out);
  ASSERT_EQ(latest.size(), 2u) << latest.dump();
  EXPECT_EQ(latest[0]["offset"], 5);
  EXPECT_EQ(latest[1]["offset"], 0);
  EXPECT_TRUE(latest[0]["timestamp"].is_null());
  json earliest = json::parse(ok("$MQCTL -o json offsets o:0 --at earliest").out);
  ASSERT_EQ(earliest.size(), 1u);
  EXPECT_EQ(earliest[0]["offset"], 0);
  // A time before the log start is its first message; one after the last, -1.
  for (const char* before : {"0", "@-1h", "2000-01-01T00:00:00Z"}) {
    json at = json::parse(ok(std::string("$MQCTL -o json offsets o:0 --at ") + before).out);
    EXPECT_EQ(at[0]["offset"], 0) << before;
  }
  json future = json::parse(ok("$MQCTL -o json offsets o:0 --at 2099-01-01T00:00:00Z").out);
  EXPECT_EQ(future[0]["offset"], -1);
  EXPECT_NE(ok("$MQCTL offsets o").out.find("TOPIC  PARTITION  OFFSET  TIMESTAMP"),
            std::string::npos);
  // Range reads: --until stops each partition before an offset or a time.
  EXPECT_EQ(ok("$MQCTL consume o -p 0 --from beginning --until 3").out, "1\n2\n3\n");
  EXPECT_EQ(ok("$MQCTL consume o -p 0 --from 1 --until 3").out, "2\n3\n");
  EXPECT_EQ(ok("$MQCTL consume o -p 0 --from beginning --until 0").out, "");
  EXPECT_EQ(ok("$MQCTL consume o -p 0 --from beginning --until @2000-01-01T00:00:00Z").out, "");
  EXPECT_EQ(ok("$MQCTL consume o -p 0 --from @-1h --until @2099-01-01T00:00:00Z -e").out,
            "1\n2\n3\n4\n5\n");
  EXPECT_EQ(sh("$MQCTL consume o --until soon").code, 2);
  EXPECT_EQ(sh("$MQCTL consume o --until -3").code, 2);
  EXPECT_EQ(sh("$MQCTL consume o -g g --until 3").code, 2);
  // Bad input.
  EXPECT_EQ(sh("$MQCTL offsets nope").code, 3);
  Shell no_partition = sh("$MQCTL offsets o:7");
  EXPECT_EQ(no_partition.code, 3);
  EXPECT_NE(no_partition.err.find("partition 7 of topic \"o\" not found"), std::string::npos)
      << no_partition.err;
  Shell bad_time = sh("$MQCTL offsets o --at tomorrow");
  EXPECT_EQ(bad_time.code, 2);
  EXPECT_NE(bad_time.err.find("--at \"tomorrow\""), std::string::npos) << bad_time.err;
  EXPECT_EQ(sh("$MQCTL offsets o:x").code, 2);
}

TEST_F(MqctlTest, BadInputGetsClearErrorsAndExitCodes) {
  // This broker has topics.auto_create off (mqd's default): produce says so.
  Shell produce_missing = sh("echo x | $MQCTL produce nope");
  EXPECT_EQ(produce_missing.code, 3);
  EXPECT_NE(produce_missing.err.find("topic \"nope\" not found, and the broker did not create it"),
            std::string::npos)
      << produce_missing.err;
  EXPECT_EQ(sh("$MQCTL bench produce --topic nope --count 10").code, 3);
  Shell consume_missing = sh("$MQCTL consume nope -e");
  EXPECT_EQ(consume_missing.code, 3);
  EXPECT_NE(consume_missing.err.find("topic \"nope\" not found"), std::string::npos);
  ok("$MQCTL topic create one -p 1");
  EXPECT_EQ(sh("$MQCTL consume one -p 3 -e").code, 3);
  Shell no_partition = sh("echo x | $MQCTL produce one -p 3");
  EXPECT_EQ(no_partition.code, 3);
  EXPECT_NE(no_partition.err.find("partition 3 of topic \"one\" not found: it has 1 partitions"),
            std::string::npos)
      << no_partition.err;
  Shell bad_from = sh("$MQCTL consume one --from tomorrow");
  EXPECT_EQ(bad_from.code, 2);
  EXPECT_NE(bad_from.err.find("--from \"tomorrow\""), std::string::npos) << bad_from.err;
  EXPECT_EQ(sh("$MQCTL consume one -f \"{nope}\"").code, 2);
  EXPECT_EQ(sh("$MQCTL topic create x -c novalue").code, 2);
  EXPECT_EQ(sh("$MQCTL topic list --wat").code, 2);
  Shell bad_name = sh("$MQCTL topic create \"bad name!\"");
  EXPECT_EQ(bad_name.code, 1);
  EXPECT_NE(bad_name.err.find("bad name!"), std::string::npos) << bad_name.err;
}

TEST_F(MqctlTest, GroupsDescribeResetAndDelete) {
  ok("$MQCTL topic create t -p 2");
  ok("seq 1 10 | $MQCTL produce t -p 0");
  ok("printf \"t,0,4\\nt,1,0\\n\" > plan.csv");
  Shell applied = ok("$MQCTL group reset-offsets g --from-file plan.csv --execute");
  EXPECT_NE(applied.out.find("applied"), std::string::npos) << applied.out;

  json described = json::parse(ok("$MQCTL -o json group describe g").out);
  ASSERT_EQ(described.size(), 1u);
  EXPECT_EQ(described[0]["state"], "Empty");
  EXPECT_EQ(described[0]["total_lag"], 6);
  EXPECT_EQ(described[0]["partitions"][0]["committed_offset"], 4);
  EXPECT_EQ(described[0]["partitions"][0]["log_end_offset"], 10);

  // The default is a dry run: the plan is printed, nothing moves.
  json plan = json::parse(ok("$MQCTL -o json group reset-offsets g --topic t:0 --shift-by 3").out);
  EXPECT_EQ(plan["executed"], false);
  EXPECT_EQ(plan["partitions"][0]["current_offset"], 4);
  EXPECT_EQ(plan["partitions"][0]["new_offset"], 7);
  described = json::parse(ok("$MQCTL -o json group describe g").out);
  EXPECT_EQ(described[0]["partitions"][0]["committed_offset"], 4);
  // --to-datetime takes every --from @TIME form: epoch ms, @-DURATION, and
  // Kafka's zone-less date-time (local time).
  for (const char* earliest : {"0", "@0", "@-1d", "2000-01-01T00:00:00"}) {
    json at = json::parse(
        ok(std::string("$MQCTL -o json group reset-offsets g --topic t:0 --to-datetime ") +
           earliest)
            .out);
    EXPECT_EQ(at["partitions"][0]["new_offset"], 0) << earliest;
  }
  json future = json::parse(ok("$MQCTL -o json group reset-offsets g --topic t:0 --to-datetime "
                               "2099-01-01T00:00:00Z")
                                .out);
  EXPECT_EQ(future["partitions"][0]["new_offset"], 10) << "nothing that late: the end";
  ok("$MQCTL group reset-offsets g --all-topics --to-latest --execute");
  described = json::parse(ok("$MQCTL -o json group describe g").out);
  EXPECT_EQ(described[0]["total_lag"], 0);

  json listed = json::parse(ok("$MQCTL -o json group list").out);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["group"], "g");

  // Bad input: usage errors (2) before any request; unknown groups (3).
  Shell two_modes = sh("$MQCTL group reset-offsets g --topic t --to-earliest --to-latest");
  EXPECT_EQ(two_modes.code, 2);
  EXPECT_NE(two_modes.err.find("exactly one of"), std::string::npos) << two_modes.err;
  EXPECT_EQ(sh("$MQCTL group reset-offsets g --to-earliest").code, 2) << "no topic chosen";
  EXPECT_EQ(sh("$MQCTL group reset-offsets g --topic t --to-datetime soon").code, 2);
  EXPECT_EQ(sh("$MQCTL group reset-offsets g --topic t --to-offset 1 --dry-run --execute").code, 2);
  Shell missing_file = sh("$MQCTL group reset-offsets g --from-file nope.csv");
  EXPECT_EQ(missing_file.code, 2);
  EXPECT_NE(missing_file.err.find("nope.csv"), std::string::npos);
  Shell bad_csv =
      sh("printf \"t,x,1\\n\" > bad.csv && $MQCTL group reset-offsets g --from-file bad.csv");
  EXPECT_EQ(bad_csv.code, 1);
  EXPECT_NE(bad_csv.err.find("line 1"), std::string::npos) << bad_csv.err;
  EXPECT_EQ(sh("$MQCTL group describe nobody").code, 3);

  ok("$MQCTL group delete-offsets g --topic t");
  ok("$MQCTL group delete -y g");
  EXPECT_EQ(json::parse(ok("$MQCTL -o json group list").out).size(), 0u);
}

TEST_F(MqctlTest, UnreachableBrokerFailsWithinTheTimeout) {
  // Port 1 on loopback: nothing listens, so no request is ever answered.
  for (const char* command : {"$MQCTL -b 127.0.0.1:1 --timeout 500ms topic list",
                              "echo x | $MQCTL -b 127.0.0.1:1 --timeout 500ms produce t",
                              "$MQCTL -b 127.0.0.1:1 --timeout 500ms consume t -e"}) {
    Shell r = sh(command);
    EXPECT_EQ(r.code, 1) << command << "\n" << r.err;
    EXPECT_NE(r.err.find("no answer from 127.0.0.1:1 within 500ms"), std::string::npos) << r.err;
    EXPECT_LT(r.seconds, 5.0) << command;
  }
  Shell health = sh("$MQCTL -b 127.0.0.1:1 --timeout 500ms cluster health -o json");
  EXPECT_EQ(health.code, 4);
  EXPECT_EQ(json::parse(health.out)["healthy"], false);
}

TEST_F(MqctlTest, WatchAndFollowUntilInterrupted) {
  ok("$MQCTL topic create f");
  Shell watch =
      ok("timeout --preserve-status -s INT 2 $MQCTL cluster health --watch --interval 300ms -o json"
         " > watch.json; echo exit=$?; grep -c \"healthy.: true\" watch.json");
  ASSERT_EQ(watch.out.substr(0, 7), "exit=0\n") << watch.out;
  EXPECT_GE(std::stoi(watch.out.substr(7)), 2) << "one report per interval";
  // consume follows new messages from the end until SIGINT, then exits 0.
  Shell follow =
      ok("$MQCTL consume f > follow.txt & pid=$!; sleep 2; seq 1 5 | $MQCTL produce f; sleep 1;"
         " kill -INT $pid; wait $pid; echo exit=$?; cat follow.txt");
  EXPECT_EQ(follow.out, "exit=0\n1\n2\n3\n4\n5\n");
}

// A TCP listener that accepts connections (the kernel completes the
// handshake) but never speaks ZMTP: a broker that hangs, or an address a
// firewall blackholes. Requests to it are never answered.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(fd_, 64) != 0 || ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len)) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() {
    drop_accepted();
    if (fd_ >= 0) ::close(fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  // Waits up to `timeout_ms` for a connection and accepts it (and keeps it
  // open, silent). True if one came.
  bool accept_one(int timeout_ms) {
    pollfd readable{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&readable, 1, timeout_ms) != 1) return false;
    int accepted = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (accepted < 0) return false;
    accepted_.push_back(accepted);
    return true;
  }
  void drop_accepted() {
    for (int fd : accepted_) ::close(fd);
    accepted_.clear();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> accepted_;
};

int64_t realtime_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST_F(MqctlTest, SignalsStopCommandsWithinASecondWhateverTheyWaitOn) {
  SilentListener silent;
  ASSERT_GT(silent.port(), 0);
  // Waiting on a broker that never answers, with --timeout far away: SIGINT
  // or SIGTERM ends the command a second later with 128 + the signal. The
  // signal goes once mqctl has connected (so it is past its start-up).
  for (const auto& [signal, code] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
    for (const std::string command :
         {"consume t", "consume t -g g", "consume t --from beginning -e"}) {
      std::string pid_file = dir_.file("mqctl.pid");
      std::filesystem::remove(pid_file);
      int64_t signalled_ns = 0;
      std::thread signaller([&, signal = signal] {
        if (!silent.accept_one(30'000)) return;
        pid_t pid = 0;
        for (int i = 0; i < 3000 && pid <= 0; ++i) {
          std::ifstream(pid_file) >> pid;
          if (pid <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        signalled_ns = realtime_ns();
        if (pid > 0) ::kill(pid, signal);
      });
      Shell r = sh("$MQCTL -b " + silent.address() + " --timeout 30s " + command +
                   " & echo $! > mqctl.pid; wait $!; code=$?; echo $code $(date +%s%N)");
      signaller.join();
      silent.drop_accepted();
      int exit_code = -1;
      int64_t ended_ns = 0;
      std::istringstream(r.out) >> exit_code >> ended_ns;
      int64_t ms = (ended_ns - signalled_ns) / 1'000'000;
      EXPECT_EQ(exit_code, code) << command << " signal " << signal << "\n" << r.err;
      EXPECT_LT(ms, 2'500) << command << " signal " << signal << " took " << ms << " ms to stop";
      EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
    }
  }
  // produce with a live broker: what was read before SIGINT is sent and
  // acknowledged, and produce exits 0 at once, not at the end of its input.
  // Its stdin stays open (fd 3 of the shell holds the fifo) after three
  // lines; the signal comes once they can be read back.
  ok("$MQCTL topic create sig");
  Shell produce = ok(
      "mkfifo in; $MQCTL produce sig < in & pid=$!; exec 3> in; seq 1 3 >&3;"
      " until [ \"$($MQCTL consume sig --from beginning -e | wc -l)\" -eq 3 ]; do sleep 0.1; done;"
      " kill -INT $pid; start=$(date +%s%N); wait $pid; code=$?;"
      " echo $code $(( ($(date +%s%N) - start) / 1000000 ))");
  int produce_code = -1, produce_ms = -1;
  std::istringstream(produce.out) >> produce_code >> produce_ms;
  EXPECT_EQ(produce_code, 0) << produce.err;
  EXPECT_LT(produce_ms, 2'500);
  EXPECT_EQ(ok("$MQCTL consume sig --from beginning -e").out, "1\n2\n3\n");
}

TEST_F(MqctlTest, ProfilesAndBench) {
  ok("env -u MQ_BROKERS $MQCTL profile create here -b " + brokers_ + " --use");
  ok("env -u MQ_BROKERS $MQCTL topic create viaprofile");
  json bench = json::parse(
      ok("$MQCTL bench produce --topic b --count 2000 --size 64 --partitions 2 -o json").out);
  EXPECT_EQ(bench["count"], 2000);
  EXPECT_EQ(bench["errors"], 0);
  EXPECT_GT(bench["msgs_per_sec"].get<double>(), 0);
  EXPECT_GE(bench["latency_ms"]["max"].get<double>(), bench["latency_ms"]["p50"].get<double>());
  json read =
      json::parse(ok("$MQCTL bench consume --topic b --count 2000 --consumers 2 -o json").out);
  EXPECT_EQ(read["count"], 2000);
  EXPECT_NEAR(read["mb_per_sec"].get<double>() * read["seconds"].get<double>(), 0.128, 0.01);
}

std::vector<int> numbers(const std::string& lines) {
  std::vector<int> out;
  std::istringstream in(lines);
  for (int n; in >> n;) out.push_back(n);
  return out;
}

std::vector<int> range(int first, int last) {
  std::vector<int> out;
  for (int n = first; n <= last; ++n) out.push_back(n);
  return out;
}

TEST_F(MqctlTest, ConsumeGroupCommitsWhatItPrinted) {
  ok("$MQCTL topic create t -p 1");
  ok("seq 1 50 | $MQCTL produce t");
  // Successive runs continue where the last one stopped.
  EXPECT_EQ(numbers(ok("$MQCTL consume t -g g --from beginning -n 10").out), range(1, 10));
  EXPECT_EQ(numbers(ok("$MQCTL consume t -g g --from beginning -n 10").out), range(11, 20));
  json described = describe("g");
  EXPECT_EQ(described["state"], "Empty") << "left the group on exit";
  ASSERT_EQ(described["partitions"].size(), 1u) << described.dump();
  EXPECT_EQ(described["partitions"][0]["committed_offset"], 20);
  EXPECT_EQ(described["total_lag"], 30);
  // --from only applies without a committed offset: "end" does not skip the rest.
  EXPECT_EQ(numbers(ok("$MQCTL consume t -g g --from end -e").out), range(21, 50));
  EXPECT_EQ(ok("$MQCTL consume t -g g -e").out, "") << "nothing left";
  EXPECT_EQ(describe("g")["partitions"][0]["committed_offset"], 50);
  // A new group with the default --from end starts at the end.
  EXPECT_EQ(ok("$MQCTL consume t -g fresh -e").out, "");
  // Same output formats as without -g.
  json record = json::parse(ok("$MQCTL consume t -g j --from beginning -n 1 -o json").out);
  EXPECT_EQ(record["offset"], 0);
  EXPECT_EQ(record["value"], "1");
  EXPECT_EQ(record["partition"], 0);

  // Several partitions: -n counts over all of them, -e stops at the ends.
  ok("$MQCTL topic create m -p 3");
  ok("seq 1 300 | awk \"{print \\$1 \\\"=\\\" \\$1}\" | $MQCTL produce m --key-separator =");
  std::vector<int> first = numbers(ok("$MQCTL consume m -g h --from beginning -n 100").out);
  // The same --from each time: a partition the first run printed nothing
  // from has no committed offset yet, and "end" would start it at its end.
  std::vector<int> second = numbers(ok("$MQCTL consume m -g h --from beginning -n 100").out);
  std::vector<int> rest = numbers(ok("$MQCTL consume m -g h --from beginning -e").out);
  EXPECT_EQ(first.size(), 100u);
  EXPECT_EQ(second.size(), 100u);
  EXPECT_EQ(rest.size(), 100u);
  std::vector<int> all = first;
  all.insert(all.end(), second.begin(), second.end());
  all.insert(all.end(), rest.begin(), rest.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, range(1, 300)) << "every message once";
  EXPECT_EQ(ok("$MQCTL consume m -g h -e | wc -l").out, "0\n");
  described = describe("h");
  EXPECT_EQ(described["total_lag"], 0);
  int64_t committed = 0;
  for (const json& p : described["partitions"]) committed += p["committed_offset"].get<int64_t>();
  EXPECT_EQ(committed, 300);
  ASSERT_EQ(described["partitions"].size(), 3u);
  for (const json& p : described["partitions"]) {
    EXPECT_GT(p["committed_offset"].get<int64_t>(), 0) << "the keys spread over the partitions";
  }
}

TEST_F(MqctlTest, ConsumeGroupMembersSplitThePartitions) {
  ok("$MQCTL topic create c -p 4");
  auto produce = [&](int first, int last) {
    ok("seq " + std::to_string(first) + " " + std::to_string(last) +
       " | awk \"{print \\$1 \\\"=\\\" \\$1}\" | $MQCTL produce c --key-separator =");
  };
  produce(1, 200);
  // The members run in the background; whatever happens, they end with the test.
  struct AtExit {
    std::function<void()> run;
    ~AtExit() { run(); }
  } reaper{[this] {
    sh("for f in a.pid b.pid; do [ -f $f ] && kill -KILL $(cat $f) 2>/dev/null; done; true");
  }};
  ok("$MQCTL consume c -g cg --from beginning > a.txt 2> a.err & echo $! > a.pid");
  ASSERT_TRUE(wait_for_group("cg", [](const json& g) {
    return g["members"].size() == 1 && g["members"][0]["assignment"].size() == 4;
  })) << "the first member gets every partition";
  ok("$MQCTL consume c -g cg --from beginning > b.txt 2> b.err & echo $! > b.pid");
  ASSERT_TRUE(wait_for_group("cg", [](const json& g) {
    return g["state"] == "Stable" && g["members"].size() == 2 &&
           g["members"][0]["assignment"].size() == 2 && g["members"][1]["assignment"].size() == 2;
  })) << "two members, two partitions each";
  produce(201, 400);
  // Wait until both together printed 400 lines, then stop them (INT and TERM).
  Shell waited =
      ok("for i in $(seq 1 150); do [ \"$(cat a.txt b.txt | wc -l)\" -ge 400 ] && break; sleep 0.2;"
         " done; kill -INT $(cat a.pid); kill -TERM $(cat b.pid);"
         " while kill -0 $(cat a.pid) 2>/dev/null || kill -0 $(cat b.pid) 2>/dev/null; do"
         " sleep 0.1; done; cat a.err b.err");
  EXPECT_EQ(waited.out, "") << "no errors from the members";
  std::ifstream a_file(dir_.file("a.txt")), b_file(dir_.file("b.txt"));
  std::string a((std::istreambuf_iterator<char>(a_file)), std::istreambuf_iterator<char>());
  std::string b((std::istreambuf_iterator<char>(b_file)), std::istreambuf_iterator<char>());
  std::vector<int> from_a = numbers(a), from_b = numbers(b);
  EXPECT_FALSE(from_b.empty()) << "the second member got partitions with messages";
  std::vector<int> all = from_a;
  all.insert(all.end(), from_b.begin(), from_b.end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, range(1, 400)) << "every message exactly once";
  // Both committed on the way out.
  json described = describe("cg");
  EXPECT_EQ(described["members"].size(), 0u);
  EXPECT_EQ(described["total_lag"], 0) << described.dump();
}

TEST_F(MqctlTest, ConsumeGroupBadArgumentsAreUsageErrors) {
  ok("$MQCTL topic create u -p 2");
  for (const char* args :
       {"-g g -p 0", "-g g --from 5", "-g g --from @-1h", "-g g --from -3", "--group \"\" -e"}) {
    Shell r = sh(std::string("$MQCTL consume u ") + args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  Shell offset = sh("$MQCTL consume u -g g --from 5");
  EXPECT_NE(offset.err.find("use `mqctl group reset-offsets g`"), std::string::npos) << offset.err;
  Shell missing = sh("$MQCTL consume nope -g g -e");
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("topic \"nope\" not found"), std::string::npos) << missing.err;
  EXPECT_EQ(sh("$MQCTL group describe g").code, 3) << "no group was created";
}

}  // namespace
}  // namespace mq
