// mqctl's RocketMQ-style messaging against a real mqd, through a shell:
// send modes, tags and SQL92 filters, and messages looked up by offset or key.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "tests/integration/mqctl_fixture.h"
#include "tests/support/eventually.h"
#include "tests/support/mqctl_shell.h"

namespace mq {
namespace {

using json = nlohmann::json;
using mq::testing::MqctlTest;
using mq::testing::Shell;
using namespace std::chrono_literals;

// RocketMQ's send modes: sync answers each message's place before the next
// is read, oneway sends with acks 0, async (the default) pipelines.
TEST_F(MqctlTest, ProduceSendModes) {
  ok("$MQCTL topic create modes -p 1");
  EXPECT_EQ(ok("printf \"a\\nb\\nc\\n\" | $MQCTL produce modes --mode sync").out,
            "0\t0\n0\t1\n0\t2\n");
  Shell as_json = ok("printf \"d\\n\" | $MQCTL produce modes --mode sync -o json");
  EXPECT_EQ(as_json.out.substr(0, as_json.out.find('\n')),
            R"({"number":1,"partition":0,"offset":3})");
  EXPECT_EQ(ok("printf \"e\\nf\\n\" | $MQCTL produce modes --mode oneway").out, "");
  EXPECT_EQ(ok("printf \"g\\n\" | $MQCTL produce modes --mode async").out, "");
  EXPECT_EQ(ok("$MQCTL consume modes --from beginning -e").out, "a\nb\nc\nd\ne\nf\ng\n");

  Shell oneway_acks = sh("echo x | $MQCTL produce modes --mode oneway --acks all");
  EXPECT_EQ(oneway_acks.code, 2);
  EXPECT_NE(oneway_acks.err.find("--mode oneway sends without acknowledgements"), std::string::npos)
      << oneway_acks.err;
  EXPECT_EQ(sh("echo x | $MQCTL produce modes --mode oneway --acks 0").code, 0);
  // Nothing is acknowledged, but what was read is delivered before mqctl exits.
  ok("$MQCTL topic create oneway -p 2");
  ok("seq 1 20000 | $MQCTL produce oneway --mode oneway");
  std::string counted;
  EXPECT_TRUE(mq::testing::eventually([&] {
    counted = ok("$MQCTL consume oneway --from beginning -e | wc -l").out;
    return counted == "20000\n";
  })) << counted;
  Shell bad = sh("echo x | $MQCTL produce modes --mode later");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--mode: \"later\" is not one of sync, async, oneway"), std::string::npos)
      << bad.err;
  Shell missing = sh("echo x | $MQCTL produce nope --mode sync");
  EXPECT_EQ(missing.code, 3) << missing.err;
}

// RocketMQ's tags and SQL92 filters: produce --tag, consume --tags/--filter
// (filtered on the broker), a group committing past what it filtered out,
// and the bad expressions.
TEST_F(MqctlTest, TagsAndFilters) {
  // The commands run inside sh -c '...': a single quote is spelled '\''.
  auto quoted = [](const std::string& sql) {
    std::string out;
    for (char c : sql) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out;
  };
  ok("$MQCTL topic create tagged -p 1");
  ok("printf \"p1\\np2\\n\" | $MQCTL produce tagged --tag paid -H region=eu -H amount=120");
  ok("printf \"r1\\n\" | $MQCTL produce tagged --tag refunded -H region=us -H amount=50");
  ok("printf \"u1\\n\" | $MQCTL produce tagged -H region=eu");
  ok("printf \"p3\\n\" | $MQCTL produce tagged --tag paid -H region=us -H amount=500");
  const std::string read = "$MQCTL consume tagged --from beginning -e ";
  EXPECT_EQ(ok(read + "--tags paid").out, "p1\np2\np3\n");
  EXPECT_EQ(ok(read + "--tags \"paid || refunded\"").out, "p1\np2\nr1\np3\n");
  EXPECT_EQ(ok(read + "--tags \"*\"").out, "p1\np2\nr1\nu1\np3\n");
  EXPECT_EQ(ok(read + "--tags nothing").out, "");
  EXPECT_EQ(ok(read + "--filter \"" + quoted("region = 'eu'") + "\"").out, "p1\np2\nu1\n");
  EXPECT_EQ(
      ok(read + "--tags paid --filter \"" + quoted("amount > 100 AND region <> 'eu'") + "\"").out,
      "p3\n");
  EXPECT_EQ(ok(read + "--filter \"amount BETWEEN 40 AND 130\"").out, "p1\np2\nr1\n");
  EXPECT_EQ(ok(read + "--filter \"amount IS NULL\" -f \"{offset} {header.mq.tag}\\n\"").out,
            "3 \n");

  // A group filtering for one tag commits past everything it left out: a
  // member without the filter then finds nothing left.
  EXPECT_EQ(ok("$MQCTL consume tagged -g refunds --from beginning -e --tags refunded").out, "r1\n");
  EXPECT_EQ(ok("$MQCTL consume tagged -g refunds --from beginning -e").out, "");

  Shell bad = sh(read + "--filter \"amount >\"");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--filter \"amount >\": filter, position 9"), std::string::npos)
      << bad.err;
  bad = sh(read + "--tags \"a ||\"");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("tag expression, position"), std::string::npos) << bad.err;
  bad = sh("echo x | $MQCTL produce tagged --tag \"a b\"");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--tag \"a b\""), std::string::npos) << bad.err;
  bad = sh("echo x | $MQCTL produce tagged --tag a -H mq.tag=b");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("name the tag twice"), std::string::npos) << bad.err;
  EXPECT_EQ(ok(read + "--tags \"*\" | wc -l").out, "5\n") << "nothing bad was stored";
}

TEST_F(MqctlTest, MessageShowPrintsOneMessageWithItsHeaders) {
  ok("$MQCTL topic create shown -p 2");
  ok("printf \"first\\nsecond\\n\" | $MQCTL produce shown -p 1 -k order-7 --tag paid -H region=eu");
  Shell shown = ok("$MQCTL message show shown 1 1");
  EXPECT_NE(shown.out.find("topic      shown\npartition  1\noffset     1\ntimestamp  "),
            std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find("\nkey        order-7\nheaders    region=eu,mq.tag=paid\nvalue      "
                           "second\n"),
            std::string::npos)
      << shown.out;
  json as_json = json::parse(ok("$MQCTL message show shown 1 0 -o json").out);
  EXPECT_EQ(as_json["offset"], 0);
  EXPECT_EQ(as_json["value"], "first");
  EXPECT_EQ(as_json["key"], "order-7");
  EXPECT_EQ(as_json["headers"][1], json({{"key", "mq.tag"}, {"value", "paid"}}));

  Shell past = sh("$MQCTL message show shown 1 2");
  EXPECT_EQ(past.code, 3);
  EXPECT_NE(past.err.find("message shown-1@2 not found: the partition holds offsets 0 to 1"),
            std::string::npos)
      << past.err;
  Shell empty = sh("$MQCTL message show shown 0 0");
  EXPECT_EQ(empty.code, 3);
  EXPECT_NE(empty.err.find("the partition holds no messages"), std::string::npos) << empty.err;
  EXPECT_EQ(sh("$MQCTL message show shown 2 0").code, 3);
  EXPECT_EQ(sh("$MQCTL message show nope 0 0").code, 3);
  EXPECT_EQ(sh("$MQCTL message show shown x 0").code, 2);
}

// Splits `text` into its lines, each into its tab-separated fields.
std::vector<std::vector<std::string>> tab_lines(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::stringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    std::string field;
    while (std::getline(split, field, '\t')) fields.push_back(field);
    lines.push_back(fields);
  }
  return lines;
}

TEST_F(MqctlTest, MessageFindByKey) {
  ok("$MQCTL topic create found -p 3");
  // Partition 0: order-7 at 0, 1 and 3; partition 1: none (a longer key, an
  // empty one, none at all); partition 2: order-7 at 0 and 1.
  ok("printf \"a1\\na2\\n\" | $MQCTL produce found -p 0 -k order-7");
  ok("printf \"x1\\n\" | $MQCTL produce found -p 0 -k order-8");
  ok("printf \"a3\\n\" | $MQCTL produce found -p 0 -k order-7");
  ok("printf \"y1\\ny2\\n\" | $MQCTL produce found -p 1 -k order-70");
  ok("printf \"e1\\n\" | $MQCTL produce found -p 1 -k \"\"");
  ok("printf \"n1\\n\" | $MQCTL produce found -p 1");
  ok("printf \"b1\\nb2\\n\" | $MQCTL produce found -p 2 -k order-7");

  Shell all = ok("$MQCTL message find found --key order-7");
  EXPECT_EQ(all.err, "");
  std::vector<std::vector<std::string>> lines = tab_lines(all.out);
  ASSERT_EQ(lines.size(), 5u) << all.out;
  const std::vector<std::vector<std::string>> expected = {{"0", "0", "order-7", "a1"},
                                                          {"0", "1", "order-7", "a2"},
                                                          {"0", "3", "order-7", "a3"},
                                                          {"2", "0", "order-7", "b1"},
                                                          {"2", "1", "order-7", "b2"}};
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_EQ(lines[i].size(), 5u) << all.out;
    EXPECT_EQ((std::vector<std::string>{lines[i][0], lines[i][1], lines[i][3], lines[i][4]}),
              expected[i])
        << all.out;
    EXPECT_EQ(lines[i][2].size(), 24u) << "an ISO 8601 time with ms: " << lines[i][2];
    EXPECT_TRUE(lines[i][2].ends_with("Z")) << lines[i][2];
  }

  // -o json: consume's objects, one per line.
  Shell as_json = ok("$MQCTL message find found --key order-7 -o json");
  std::vector<json> objects;
  std::stringstream json_lines(as_json.out);
  for (std::string line; std::getline(json_lines, line);) objects.push_back(json::parse(line));
  ASSERT_EQ(objects.size(), 5u) << as_json.out;
  EXPECT_EQ(objects[2]["topic"], "found");
  EXPECT_EQ(objects[2]["partition"], 0);
  EXPECT_EQ(objects[2]["offset"], 3);
  EXPECT_EQ(objects[2]["key"], "order-7");
  EXPECT_EQ(objects[2]["value"], "a3");
  EXPECT_EQ(objects[4]["partition"], 2);
  EXPECT_EQ(objects[4]["value"], "b2");

  // -f takes consume's templates.
  EXPECT_EQ(
      ok("$MQCTL message find found --key order-7 -n 1 -f \"{partition}/{offset}={value}\\n\"").out,
      "0/3=a3\n2/1=b2\n");

  // --limit keeps the latest N of each partition and says where more were left out.
  Shell limited = ok("$MQCTL message find found --key order-7 --limit 2 -f \"{value} \"");
  EXPECT_EQ(limited.out, "a2 a3 b1 b2 ");
  EXPECT_NE(limited.err.find(
                "mqctl: more than 2 matches in partition 0; showing the latest 2 (raise --limit)"),
            std::string::npos)
      << limited.err;
  EXPECT_EQ(limited.err.find("partition 2"), std::string::npos) << limited.err;

  // The empty key is a key: it matches e1, not the record without one.
  EXPECT_EQ(ok("$MQCTL message find found --key \"\" -f \"{partition}/{offset}={value}\\n\"").out,
            "1/2=e1\n");

  // No match: nothing, exit 0.
  Shell none = ok("$MQCTL message find found --key order");
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, "");

  Shell missing = sh("$MQCTL message find nope --key order-7");
  EXPECT_EQ(missing.code, 3);
  EXPECT_NE(missing.err.find("topic \"nope\" not found"), std::string::npos) << missing.err;

  EXPECT_EQ(sh("$MQCTL message find found").code, 2);
  EXPECT_EQ(sh("$MQCTL message find found --key order-7 -n 0").code, 2);
  EXPECT_EQ(sh("$MQCTL message find found --key order-7 -n 10001").code, 2);
  EXPECT_EQ(sh("$MQCTL message find found --key order-7 -n x").code, 2);
  EXPECT_EQ(sh("$MQCTL message find found --key order-7 -o json -f \"{value}\"").code, 2);
  EXPECT_EQ(sh("$MQCTL message find found --key order-7 -f \"{nope}\"").code, 2);
}

// De-duplication: --msg-id-from key makes each key the message id; an id
// the partition stored within dedup.window.ms is answered with its first
// offset and not appended, across a broker restart; past the window it is
// appended again.
TEST_F(MqctlTest, ProduceWithMessageIdsStoresEachIdOnce) {
  ok("$MQCTL topic create dedup -p 1");
  const std::string send = "$MQCTL produce dedup --key-separator : --msg-id-from key";
  EXPECT_EQ(ok("printf \"k1:a\\nk2:b\\n\" | " + send + " --mode sync").out, "0\t0\n0\t1\n");
  // k2 again: its first offset; offset 2 is held by the batch left in its place.
  EXPECT_EQ(ok("printf \"k2:b\\nk3:c\\n\" | " + send + " --mode sync").out,
            "0\t1\tduplicate\n0\t3\n");
  Shell sync_json = ok("printf \"k2:b\\n\" | " + send + " --mode sync -o json");
  EXPECT_EQ(sync_json.out.substr(0, sync_json.out.find('\n')),
            R"({"number":1,"partition":0,"offset":1,"duplicate":true})");
  Shell async = ok("printf \"k1:a\\nk4:d\\n\" | " + send + " -o json");
  EXPECT_EQ(json::parse(async.out)["duplicates"], 1) << async.out;
  Shell async_note = ok("printf \"k1:a\\n\" | " + send + " -v");
  EXPECT_NE(async_note.err.find("sent 1 messages, 0 failed, 1 duplicates"), std::string::npos)
      << async_note.err;

  // The window survives a crash of the broker.
  broker_->kill_now();
  ASSERT_TRUE(broker_->start()) << broker_->log();
  brokers_ = broker_->endpoint().substr(broker_->endpoint().find("//") + 2);
  Shell after_restart = ok("printf \"k4:d\\n\" | " + send + " --mode sync");
  EXPECT_NE(after_restart.out.find("\tduplicate"), std::string::npos) << after_restart.out;
  // The log now ends with the duplicate left out: said as such (exit 3), not
  // a timeout (exit 1) after --timeout.
  Shell latest = ok("$MQCTL offsets dedup -o json");
  int64_t end = json::parse(latest.out).at(0).at("offset");
  Shell at_end = sh("$MQCTL message show dedup 0 " + std::to_string(end - 1) + " --timeout 50s");
  EXPECT_EQ(at_end.code, 3);
  EXPECT_NE(at_end.err.find("no message there or after it: left out as a duplicate"),
            std::string::npos)
      << at_end.err;

  // Past the window, the same id is a new message.
  ok("$MQCTL topic alter-config dedup --set dedup.window.ms=500");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_EQ(ok("printf \"k1:a\\n\" | " + send + " --mode sync").out.find("duplicate"),
            std::string::npos);
  EXPECT_EQ(ok("$MQCTL consume dedup --from beginning -e").out, "a\nb\nc\nd\na\n");
  Shell left_out = sh("$MQCTL message show dedup 0 2");
  EXPECT_EQ(left_out.code, 3);
  EXPECT_NE(left_out.err.find("left out as a duplicate (the next message is at offset 3)"),
            std::string::npos)
      << left_out.err;
  // Without an id (no key), nothing is de-duplicated.
  ok("$MQCTL topic alter-config dedup --delete dedup.window.ms");
  ok("printf \"same\\nsame\\n\" | " + send);
  EXPECT_EQ(ok("$MQCTL consume dedup --from beginning -e").out, "a\nb\nc\nd\na\nsame\nsame\n");

  Shell bad_source = sh("echo x | $MQCTL produce dedup --msg-id-from value");
  EXPECT_EQ(bad_source.code, 2);
  EXPECT_NE(bad_source.err.find("--msg-id-from: \"value\" is not key"), std::string::npos)
      << bad_source.err;
  Shell twice = sh("echo x | $MQCTL produce dedup -k a --msg-id-from key -H mq.msg-id=b");
  EXPECT_EQ(twice.code, 2);
  EXPECT_NE(twice.err.find("name the message id twice"), std::string::npos) << twice.err;
  Shell too_long =
      sh("echo x | $MQCTL produce dedup -k " + std::string(256, 'k') + " --msg-id-from key");
  EXPECT_EQ(too_long.code, 1);
  EXPECT_NE(too_long.err.find("message id of 256 bytes"), std::string::npos) << too_long.err;
  Shell bad_window = sh("$MQCTL topic alter-config dedup --set dedup.window.ms=-1");
  EXPECT_EQ(bad_window.code, 1) << bad_window.err;
}

TEST_F(MqctlTest, DelayedMessagesAreDeliveredListedAndCancelled) {
  ok("$MQCTL topic create delayed -p 1");
  EXPECT_EQ(ok("printf \"now\\n\" | $MQCTL produce delayed --mode sync").out, "0\t0\n");
  EXPECT_EQ(ok("printf \"soon\\n\" | $MQCTL produce delayed --delay 3s --mode sync").out,
            "0\t1\tscheduled\n");
  EXPECT_EQ(ok("printf \"never\\n\" | $MQCTL produce delayed --delay 1h --mode sync").out,
            "0\t2\tscheduled\n");
  Shell level =
      ok("printf \"level\\n\" | $MQCTL produce delayed --delay-level 18 --mode sync -o json");
  // Its offset is 3, or 4 when "soon" came due first (its delivery is
  // appended to the log too): a slow machine (a sanitizer build under load)
  // takes 3 s to get here.
  const json level_line = json::parse(level.out.substr(0, level.out.find('\n')));
  const int64_t level_offset = level_line.value("offset", int64_t{-1});
  EXPECT_TRUE(level_offset == 3 || level_offset == 4) << level.out;
  EXPECT_EQ(level.out.substr(0, level.out.find('\n')), R"({"number":1,"partition":0,"offset":)" +
                                                           std::to_string(level_offset) +
                                                           R"(,"scheduled":true})");
  // Its offset is the next one: 4, or 5 when "soon" came due first.
  Shell fixed =
      ok("printf \"fixed\\n\" | $MQCTL produce delayed --mode sync --deliver-at "
         "$(date -u -d +2days +%Y-%m-%dT%H:%M:%SZ)");
  const int64_t fixed_offset = std::stoll(fixed.out.substr(2, fixed.out.find('\t', 2) - 2));
  EXPECT_EQ(fixed.out, "0\t" + std::to_string(fixed_offset) + "\tscheduled\n");
  // Beyond the topic's retention.ms (7 days) it would be deleted first: refused.
  Shell too_late = sh("echo x | $MQCTL produce delayed --deliver-at 2099-01-01T00:00:00Z");
  EXPECT_EQ(too_late.code, 1);
  EXPECT_NE(too_late.err.find("beyond the topic's retention.ms"), std::string::npos)
      << too_late.err;

  // Listed earliest first; the far ones at least are still pending.
  json listed = json::parse(ok("$MQCTL delayed list delayed -o json").out);
  ASSERT_GE(listed["pending"].get<int>(), 3) << listed.dump();
  std::vector<int64_t> offsets;
  for (const json& m : listed["messages"]) offsets.push_back(m["offset"]);
  EXPECT_EQ(std::vector<int64_t>(offsets.end() - 3, offsets.end()),
            (std::vector<int64_t>{2, level_offset, fixed_offset}));
  EXPECT_EQ(listed["messages"].back()["deliver_at"].get<std::string>().size(), 24u);
  EXPECT_NE(ok("$MQCTL delayed list delayed").out.find("pending"), std::string::npos);

  EXPECT_EQ(ok("$MQCTL delayed cancel delayed 0 2").out, "cancelled delayed message delayed-0@2\n");
  Shell again = sh("$MQCTL delayed cancel delayed 0 2");
  EXPECT_EQ(again.code, 3);
  EXPECT_NE(again.err.find("not found"), std::string::npos) << again.err;
  EXPECT_EQ(sh("$MQCTL delayed cancel delayed 0 0").code, 3) << "an ordinary message";

  // Consumers see "now" at once and "soon" at its time, with where it came from.
  const std::string read =
      "$MQCTL consume delayed --from beginning -e -f \"{value} {header.mq.delayed-from}\\n\"";
  std::string out;
  ASSERT_TRUE(mq::testing::eventually(
      [&] {
        out = ok(read).out;
        return out.find("soon") != std::string::npos;
      },
      20s))
      << out;
  EXPECT_EQ(out, "now \nsoon 1\n");

  // A restart keeps what is pending, and the cancel.
  broker_->kill_now();
  ASSERT_TRUE(broker_->start()) << broker_->log();
  brokers_ = broker_->endpoint().substr(broker_->endpoint().find("//") + 2);
  listed = json::parse(ok("$MQCTL delayed list delayed -o json").out);
  EXPECT_EQ(listed["pending"], 2) << listed.dump();
  EXPECT_EQ(ok(read).out, "now \nsoon 1\n");

  // Bad input: a clear error, nothing stored.
  for (const std::string& bad :
       {std::string("--delay 0s"), std::string("--delay soon"), std::string("--delay-level 19"),
        std::string("--delay-level 0"), std::string("--deliver-at tomorrow"),
        std::string("--delay 1s --delay-level 2")}) {
    Shell refused = sh("echo x | $MQCTL produce delayed " + bad);
    EXPECT_EQ(refused.code, 2) << bad << ": " << refused.err;
  }
  Shell forged = sh("echo x | $MQCTL produce delayed -H mq.delayed-from=1 --mode sync");
  EXPECT_EQ(forged.code, 1);
  EXPECT_NE(forged.err.find("written by the broker only"), std::string::npos) << forged.err;
  ok("$MQCTL topic create compacted -p 1 --config cleanup.policy=compact");
  Shell compacted =
      sh("echo k:x | $MQCTL produce compacted --key-separator : --delay 10s --mode sync");
  EXPECT_EQ(compacted.code, 1);
  EXPECT_NE(compacted.err.find("compacted topic"), std::string::npos) << compacted.err;
  EXPECT_EQ(json::parse(ok("$MQCTL delayed list delayed -o json").out)["pending"], 2);
  EXPECT_EQ(sh("$MQCTL delayed list nope").code, 3);
  EXPECT_EQ(sh("$MQCTL delayed list delayed -n 0").code, 2);
}

// Queue consumption: consumers of one group share a partition, each message
// handed to one of them; ack finishes it, nack and an invisible time that
// passes hand it out again (delivery 2, 3, ...), queue.max.deliveries holds
// it after the last; plain consumers never see the queue-state records; the
// state survives a SIGKILL of the broker.
TEST_F(MqctlTest, QueueGroupsShareAPartitionAndRedeliverWhatIsNotAcknowledged) {
  ok("$MQCTL topic create work -p 1 --config queue.retry.backoff.ms=0 --config "
     "queue.max.deliveries=3");
  ok("seq 0 9 | sed s/^/m/ | $MQCTL produce work");
  auto received = [&](const std::string& flags) {
    std::vector<json> out;
    std::istringstream lines(ok("$MQCTL queue receive work -g g -o json " + flags).out);
    for (std::string line; std::getline(lines, line);) out.push_back(json::parse(line));
    return out;
  };
  auto values = [](const std::vector<json>& messages) {
    std::string out;
    for (const json& m : messages) {
      out += m["value"].get<std::string>() + "/" + std::to_string(m["delivery"].get<int>()) + " ";
    }
    return out;
  };
  // Two consumers: the first keeps four invisible for an hour, the second
  // gets (and acknowledges) the six others.
  std::vector<json> first = received("-n 4 --no-ack --invisible 1h");
  EXPECT_EQ(values(first), "m0/1 m1/1 m2/1 m3/1 ");
  EXPECT_EQ(values(received("-n 10 --wait 1s")), "m4/1 m5/1 m6/1 m7/1 m8/1 m9/1 ");
  EXPECT_EQ(values(received("-n 10 --wait 500ms")), "");
  // Receives that find nothing write nothing: the log end stays.
  const std::string end_before = ok("$MQCTL offsets work").out;
  EXPECT_EQ(values(received("-n 10 --wait 500ms")), "");
  EXPECT_EQ(values(received("-n 10 --wait 500ms --from latest")), "");
  EXPECT_EQ(ok("$MQCTL offsets work").out, end_before);

  // ack: done; the same delivery again is not in flight any more.
  EXPECT_EQ(ok("$MQCTL queue ack work 0 0 1 -g g").out, "acknowledged work-0@0 (delivery 1)\n");
  Shell twice = sh("$MQCTL queue ack work 0 0 1 -g g");
  EXPECT_EQ(twice.code, 3);
  EXPECT_NE(twice.err.find("not in flight"), std::string::npos) << twice.err;
  // nack: handed out again at once (backoff 0), as delivery 2; an answer
  // naming the old delivery is refused.
  ok("$MQCTL queue nack work 0 1 1 -g g --delay 0s");
  EXPECT_EQ(values(received("-n 10 --wait 2s --no-ack --invisible 1h")), "m1/2 ");
  Shell stale = sh("$MQCTL queue ack work 0 1 1 -g g");
  EXPECT_EQ(stale.code, 3);
  EXPECT_NE(stale.err.find("handed out again"), std::string::npos) << stale.err;
  // extend to a second: once it passes, m2 comes back.
  ok("$MQCTL queue extend work 0 2 1 -g g --invisible 1s");
  std::string again;
  ASSERT_TRUE(mq::testing::eventually(
      [&] {
        again += values(received("-n 10 --wait 200ms --no-ack --invisible 1h"));
        return !again.empty();
      },
      10s));
  EXPECT_EQ(again, "m2/2 ");
  // queue.max.deliveries=3: after its third delivery m1 is held, then
  // moved to the group's dead-letter topic.
  ok("$MQCTL queue nack work 0 1 2 -g g --delay 0s");
  EXPECT_EQ(values(received("-n 10 --wait 2s --no-ack --invisible 1h")), "m1/3 ");
  ok("$MQCTL queue nack work 0 1 3 -g g --delay 0s");
  EXPECT_EQ(values(received("-n 10 --wait 1s")), "");
  EXPECT_EQ(sh("$MQCTL queue ack work 0 1 3 -g g").code, 3);
  httplib::Client http("127.0.0.1", broker_->http_port());
  const std::string dead = R"(mq_queue_dead_lettered_total{topic="work"} 1)";
  ASSERT_TRUE(mq::testing::eventually(
      [&] {
        auto m = http.Get("/metrics");
        return m && m->body.find(dead) != std::string::npos;
      },
      10s));
  // The leader's metrics: m2 and m3 in flight, m1 held once and moved.
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const std::string& want :
       {std::string(R"(mq_queue_in_flight{topic="work",partition="0",group="g"} 2)"),
        std::string(R"(mq_queue_held{topic="work",partition="0",group="g"} 0)"),
        std::string(R"(mq_queue_waiting{topic="work",partition="0",group="g"} 0)"),
        std::string(R"(mq_queue_backlog{topic="work",partition="0",group="g"} )"),
        std::string(R"(mq_queue_delivered_total{topic="work"} 13)"),
        std::string(R"(mq_queue_redelivered_total{topic="work"} 3)"),
        std::string(R"(mq_queue_acked_total{topic="work"} 7)"),
        std::string(R"(mq_queue_nacked_total{topic="work"} 3)"),
        std::string(R"(mq_queue_held_total{topic="work"} 1)"),
        std::string("mq_queue_ack_latency_seconds_count 7")}) {
    EXPECT_NE(metrics->body.find(want), std::string::npos) << want;
  }

  // Another group has its own view; plain consumers see the ten messages only.
  EXPECT_EQ(ok("$MQCTL queue receive work -g other -n 20 --wait 1s | wc -l").out, "10\n");
  json letters = json::parse(ok("$MQCTL dlq list g -o json").out)["letters"];
  ASSERT_EQ(letters.size(), 1u) << letters.dump();
  EXPECT_EQ(letters[0]["source_offset"], 1);
  EXPECT_EQ(ok("$MQCTL consume work --from beginning -e | tr \"\\n\" \" \"").out,
            "m0 m1 m2 m3 m4 m5 m6 m7 m8 m9 ");

  // SIGKILL: what is in flight stays in flight (m2, m3 for an hour), what
  // was acknowledged stays done, and m3 can still be acknowledged.
  broker_->kill_now();
  ASSERT_TRUE(broker_->start()) << broker_->log();
  brokers_ = broker_->endpoint().substr(broker_->endpoint().find("//") + 2);
  EXPECT_EQ(values(received("-n 10 --wait 1s")), "");
  EXPECT_EQ(ok("$MQCTL queue ack work 0 3 1 -g g").out, "acknowledged work-0@3 (delivery 1)\n");
  ok("$MQCTL queue nack work 0 2 2 -g g --delay 0s");
  EXPECT_EQ(values(received("-n 10 --wait 2s")), "m2/3 ");

  // Bad input: a clear error, nothing handed out.
  for (const std::string& bad :
       {std::string("receive work"), std::string("receive work -g g -n 0"),
        std::string("receive work -g g --invisible 0s"),
        std::string("receive work -g g --invisible 13h"),
        std::string("receive work -g g --from middle"), std::string("receive work -g g --wait x"),
        std::string("ack work 0 1 0 -g g"), std::string("ack work -1 1 1 -g g"),
        std::string("nack work 0 1 1 -g g --delay soon"), std::string("extend work 0 1 1 -g g")}) {
    Shell refused = sh("$MQCTL queue " + bad);
    EXPECT_EQ(refused.code, 2) << bad << ": " << refused.err;
  }
  EXPECT_EQ(sh("$MQCTL queue receive nope -g g --wait 0s").code, 3);
  Shell bad_setting = sh("$MQCTL topic create w2 -p 1 --config queue.retry.backoff.ms=1s,2s");
  EXPECT_NE(bad_setting.code, 0);
  EXPECT_NE(bad_setting.err.find("comma-separated list of milliseconds"), std::string::npos)
      << bad_setting.err;
  ok("$MQCTL topic create compacted -p 1 --config cleanup.policy=compact");
  Shell compacted = sh("$MQCTL queue receive compacted -g g --wait 0s");
  EXPECT_EQ(compacted.code, 1);
  EXPECT_NE(compacted.err.find("compacted"), std::string::npos) << compacted.err;
}

// --key-ordered: one unfinished message per key at a time, in order; other
// keys go on; a held message (queue.max.deliveries) releases its key.
TEST_F(MqctlTest, KeyOrderedQueueReceiveHandsOutOneMessagePerKeyAtATime) {
  ok("$MQCTL topic create fifo -p 1 --config queue.retry.backoff.ms=0 --config "
     "queue.max.deliveries=1");
  ok("printf \"a:a1\\na:a2\\nb:b1\\na:a3\\nb:b2\\nc1\\nc2\\n\" | $MQCTL produce fifo "
     "--key-separator :");
  const std::string receive =
      "$MQCTL queue receive fifo -g g -n 10 --wait 500ms --key-ordered --no-ack --invisible 1h "
      "-f \"{value}:{offset} \"";
  // Unkeyed messages are never held back.
  EXPECT_EQ(ok(receive).out, "a1:0 b1:2 c1:5 c2:6 ");
  EXPECT_EQ(ok(receive).out, "");
  ok("$MQCTL queue ack fifo 0 0 1 -g g");
  EXPECT_EQ(ok(receive).out, "a2:1 ");
  ok("$MQCTL queue ack fifo 0 2 1 -g g");
  EXPECT_EQ(ok(receive).out, "b2:4 ");
  // a2 given back on its last delivery is held: a3 may go.
  ok("$MQCTL queue nack fifo 0 1 1 -g g --delay 0s");
  EXPECT_EQ(ok(receive).out, "a3:3 ");
  EXPECT_EQ(ok(receive).out, "");
}

// Dead letters: a message handed out queue.max.deliveries times without an
// ack goes to dlq.GROUP with headers saying where it came from; `dlq list`
// and `dlq show` print the letters, `dlq redrive` puts them back to the
// group (first deliveries again), once; a letter whose original retention
// deleted is skipped and said.
TEST_F(MqctlTest, DeadLettersAreListedShownAndRedrivenToTheirGroup) {
  ok("$MQCTL topic create jobs -p 1 --config queue.retry.backoff.ms=0 --config "
     "queue.max.deliveries=2");
  ok("printf \"k0:j0\\nk1:j1\\nk2:j2\\nk3:j3\\nk4:j4\\n\" | $MQCTL produce jobs "
     "--key-separator : -H trace=t1");
  const std::string receive =
      "$MQCTL queue receive jobs -g g -n 10 --wait 1s --no-ack --invisible 1h "
      "-f \"{value}/{offset} \"";
  EXPECT_EQ(ok(receive).out, "j0/0 j1/1 j2/2 j3/3 j4/4 ");
  for (int offset : {0, 2, 4}) ok("$MQCTL queue ack jobs 0 " + std::to_string(offset) + " 1 -g g");
  // j1 and j3 given back twice: their second (last) delivery ends unacknowledged.
  ok("$MQCTL queue nack jobs 0 1 1 -g g --delay 0s");
  ok("$MQCTL queue nack jobs 0 3 1 -g g --delay 0s");
  EXPECT_EQ(ok(receive).out, "j1/1 j3/3 ");
  ok("$MQCTL queue nack jobs 0 1 2 -g g --delay 0s");
  ok("$MQCTL queue nack jobs 0 3 2 -g g --delay 0s");
  json letters;
  ASSERT_TRUE(mq::testing::eventually(
      [&] {
        letters = json::parse(ok("$MQCTL dlq list g -o json").out)["letters"];
        return letters.size() == 2;
      },
      10s))
      << letters.dump();
  EXPECT_EQ(letters[0]["topic"], "jobs");
  EXPECT_EQ(letters[0]["source_partition"], 0);
  EXPECT_EQ(letters[0]["source_offset"], 1);
  EXPECT_EQ(letters[1]["source_offset"], 3);
  EXPECT_EQ(letters[0]["deliveries"], 2);
  EXPECT_EQ(letters[0]["reason"], "max-deliveries");
  EXPECT_EQ(letters[0]["key"], "k1");
  EXPECT_EQ(letters[0]["redriven"], false);
  // The letter carries the message's own headers and value besides its origin.
  const std::string shown = ok("$MQCTL dlq show g 0").out;
  for (const std::string& want :
       {std::string("trace=t1"), std::string("mq.dlq.group=g"), std::string("mq.dlq.topic=jobs"),
        std::string("mq.dlq.offset=1"), std::string("mq.dlq.deliveries=2"),
        std::string("mq.dlq.reason=max-deliveries"), std::string("value      j1")}) {
    EXPECT_NE(shown.find(want), std::string::npos) << want << " in " << shown;
  }
  EXPECT_EQ(sh("$MQCTL dlq show g 7").code, 3);
  // Nothing left for the group; other groups and plain consumers unaffected.
  EXPECT_EQ(ok(receive).out, "");
  EXPECT_EQ(ok("$MQCTL queue receive jobs -g h -n 10 --wait 1s | wc -l").out, "5\n");

  // Redrive: a dry run changes nothing; then both come back as first deliveries, once.
  EXPECT_EQ(ok("$MQCTL dlq redrive g --dry-run").out,
            "would redrive 2 dead letter(s) to group g\n");
  EXPECT_EQ(ok(receive).out, "");
  EXPECT_EQ(ok("$MQCTL dlq redrive g").out, "redrove 2 dead letter(s) to group g\n");
  letters = json::parse(ok("$MQCTL dlq list g -o json").out)["letters"];
  ASSERT_EQ(letters.size(), 2u);
  EXPECT_EQ(letters[0]["redriven"], true);
  EXPECT_EQ(letters[1]["redriven"], true);
  EXPECT_EQ(ok("$MQCTL queue receive jobs -g g -n 10 --wait 1s -f \"{value} \"").out, "j1 j3 ");
  EXPECT_EQ(ok("$MQCTL dlq redrive g").out, "redrove 0 dead letter(s) to group g\n");
  httplib::Client http("127.0.0.1", broker_->http_port());
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  for (const std::string& want : {std::string(R"(mq_queue_dead_lettered_total{topic="jobs"} 2)"),
                                  std::string(R"(mq_queue_redriven_total{topic="jobs"} 2)")}) {
    EXPECT_NE(metrics->body.find(want), std::string::npos) << want;
  }

  // Another group's letter whose original retention then deleted: its
  // redrive is skipped and said, and not tried again.
  const std::string receive_h2 =
      "$MQCTL queue receive jobs -g h2 -n 1 --wait 1s --no-ack --invisible 1h -f \"{value}\"";
  EXPECT_EQ(ok(receive_h2).out, "j0");
  ok("$MQCTL queue nack jobs 0 0 1 -g h2 --delay 0s");
  EXPECT_EQ(ok(receive_h2).out, "j0");
  ok("$MQCTL queue nack jobs 0 0 2 -g h2 --delay 0s");
  ASSERT_TRUE(mq::testing::eventually(
      [&] { return json::parse(ok("$MQCTL dlq list h2 -o json").out)["letters"].size() == 1; },
      10s));
  ok("$MQCTL topic trim jobs --before 3 -y");
  Shell skipped = sh("$MQCTL dlq redrive h2");
  EXPECT_EQ(skipped.code, 4) << skipped.err;
  EXPECT_NE(skipped.err.find("no longer in jobs"), std::string::npos) << skipped.err;
  EXPECT_EQ(skipped.out, "redrove 0 dead letter(s) to group h2; 1 skipped\n");
  EXPECT_EQ(ok("$MQCTL dlq redrive h2").out, "redrove 0 dead letter(s) to group h2\n");

  // Bad input: a clear error, nothing changed.
  for (const std::string& bad :
       {std::string("list"), std::string("list g -n 0"), std::string("redrive g -n -1"),
        std::string("show g"), std::string("show g x"), std::string("frob g")}) {
    Shell refused = sh("$MQCTL dlq " + bad);
    EXPECT_EQ(refused.code, 2) << bad << ": " << refused.err;
  }
  EXPECT_EQ(ok("$MQCTL dlq list nobody").out,
            "group nobody has no dead letters (no topic dlq.nobody)\n");
}

}  // namespace
}  // namespace mq
