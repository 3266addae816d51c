// Whole mqctl command lines run in-process: parsing, global option
// resolution, usage errors and exit codes. Nothing here needs a broker:
// commands that would connect are given bad arguments they reject first.
#include "ctl/app.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <sstream>

#include "tests/ctl/run_mqctl.h"
#include "tests/support/temp_dir.h"

namespace mq::ctl {
namespace {

using testing::CommandResult;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("XDG_CONFIG_HOME", config_.path().c_str(), 1);
    ::unsetenv("MQ_BROKERS");
  }

  CommandResult run(std::vector<std::string> args, const std::string& input = "") {
    return testing::run_in_process(args, input);
  }

  // A command that is rejected before connecting: the broker is unreachable
  // and the timeout long, so reaching the network would show as slowness.
  CommandResult usage_error(std::vector<std::string> args) {
    if (std::ranges::find(args, "--timeout") == args.end()) {
      args.insert(args.begin(), {"--timeout", "30s"});
    }
    args.insert(args.begin(), {"-b", "127.0.0.1:1"});
    auto start = std::chrono::steady_clock::now();
    CommandResult result = run(args);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
    EXPECT_EQ(result.code, 2) << result.err;
    return result;
  }

  mq::testing::TempDir config_;
};

TEST_F(AppTest, NoCommandIsAUsageError) {
  CommandResult r = run({});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("mqctl: "), std::string::npos) << r.err;
}

TEST_F(AppTest, UnknownFlagsAndCommandsAreUsageErrorsNamingThem) {
  CommandResult flag = usage_error({"topic", "list", "--bogus"});
  EXPECT_NE(flag.err.find("--bogus"), std::string::npos) << flag.err;
  CommandResult command = usage_error({"frobnicate"});
  EXPECT_NE(command.err.find("unknown command \"frobnicate\""), std::string::npos) << command.err;
  CommandResult nested = usage_error({"topic", "shred", "x"});
  EXPECT_NE(nested.err.find("unknown command \"shred\""), std::string::npos) << nested.err;
  CommandResult missing = usage_error({"topic", "create"});
  EXPECT_NE(missing.err.find("name"), std::string::npos) << missing.err;
  usage_error({"topic", "create", "t", "-p", "many"});
}

TEST_F(AppTest, HelpGoesToStdoutWithExitZero) {
  CommandResult r = run({"topic", "create", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("--if-not-exists"), std::string::npos) << r.out;
}

TEST_F(AppTest, BadGlobalOptionsAreUsageErrorsBeforeSubcommandOrAfter) {
  EXPECT_NE(usage_error({"--timeout", "5", "topic", "list"}).err.find("needs a unit"),
            std::string::npos);
  EXPECT_NE(usage_error({"--timeout", "10ms", "topic", "list"}).err.find("between"),
            std::string::npos);
  EXPECT_NE(usage_error({"topic", "list", "-o", "xml"}).err.find("\"xml\""), std::string::npos);
  CommandResult brokers = run({"-b", "nohost", "topic", "list"});
  EXPECT_EQ(brokers.code, 2);
  EXPECT_NE(brokers.err.find("nohost"), std::string::npos) << brokers.err;
  CommandResult profile = run({"--profile", "missing", "topic", "list"});
  EXPECT_EQ(profile.code, 2);
  EXPECT_NE(profile.err.find("profile \"missing\" not found"), std::string::npos) << profile.err;
  EXPECT_NE(usage_error({"-X", "lingr.ms=5", "topic", "list"}).err.find("did you mean linger.ms"),
            std::string::npos);
  EXPECT_NE(usage_error({"topic", "list", "-X", "linger.ms=soon"}).err.find("-X linger.ms=soon"),
            std::string::npos);
}

TEST_F(AppTest, ClientSettingsListsWhatMinusXSetsWithTheValuesThisCommandLineRunsWith) {
  CommandResult listed =
      run({"-X", "linger.ms=40ms", "-X", "client.id=ops", "-o", "json", "client-settings"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  for (const char* row :
       {R"("name":"linger.ms","clients":"producer","type":"ms","value":"40")",
        R"("name":"client.id","clients":"producer,consumer,admin")", R"("value":"ops")"}) {
    std::string compact;
    for (char c : listed.out) {
      if (c != ' ' && c != '\n') compact += c;
    }
    EXPECT_NE(compact.find(row), std::string::npos) << row << "\n" << listed.out;
  }
}

TEST_F(AppTest, ConsumeRejectsBadSpecsBeforeConnecting) {
  EXPECT_NE(usage_error({"consume", "t", "--from", "yesterday"}).err.find("invalid --from"),
            std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-f", "{val}"}).err.find("unknown placeholder {val}"),
            std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-f", "{value}", "-o", "json"}).err.find("exclude"),
            std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-p", "x"}).err.find("invalid -p"), std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-n", "0"}).err.find("-n"), std::string::npos);
}

TEST_F(AppTest, ConsumeGroupRejectsPartitionsAndExplicitPositionsBeforeConnecting) {
  for (const char* from : {"5", "-10", "@-1h", "@2026-11-25T10:00:00Z"}) {
    CommandResult r = usage_error({"consume", "t", "-g", "g", "--from", from});
    EXPECT_NE(r.err.find(std::string("--from \"") + from + "\" cannot be used with -g"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("mqctl group reset-offsets g"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  EXPECT_NE(usage_error({"consume", "t", "--group", "g", "-p", "0"})
                .err.find("-p cannot be used with -g: the group assigns the partitions"),
            std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-g", ""}).err.find("must not be empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"consume", "t", "-g", "g", "-n", "0"}).err.find("-n"), std::string::npos);
}

TEST_F(AppTest, ProduceRejectsBadFlagsBeforeConnecting) {
  EXPECT_NE(usage_error({"produce", "t", "-H", "novalue"}).err.find("invalid -H \"novalue\""),
            std::string::npos);
  EXPECT_NE(usage_error({"produce", "t", "--acks", "2"}).err.find("--acks"), std::string::npos);
  EXPECT_NE(usage_error({"produce", "t", "-k", "k", "--key-separator", ":"}).err.find("exclude"),
            std::string::npos);
  EXPECT_NE(usage_error({"produce", "t", "--delimiter", ""}).err.find("--delimiter"),
            std::string::npos);
}

TEST_F(AppTest, TopicAndConfigCommandsRejectBadKeyValues) {
  EXPECT_NE(usage_error({"topic", "create", "t", "-c", "retention.ms"}).err.find("key=value"),
            std::string::npos);
  EXPECT_NE(usage_error({"topic", "alter-config", "t", "--set", "=1"}).err.find("key is empty"),
            std::string::npos);
  EXPECT_NE(usage_error({"topic", "alter-config", "t"}).err.find("--set"), std::string::npos);
  EXPECT_NE(usage_error({"config", "set", "--topic", "t", "nokey"}).err.find("key=value"),
            std::string::npos);
  usage_error({"config", "get", "--topic", "t", "--broker", "1"});
  usage_error({"topic", "create", "t", "-p", "0"});
}

TEST_F(AppTest, VersionInEveryFormat) {
  CommandResult table = run({"version"});
  EXPECT_EQ(table.code, 0);
  EXPECT_EQ(table.out, std::string("mqctl ") + MQ_VERSION + "\n");
  CommandResult json = run({"version", "-o", "json"});
  EXPECT_EQ(json.out, std::string("{\n  \"version\": \"") + MQ_VERSION + "\"\n}\n");
  CommandResult yaml = run({"-o", "yaml", "version"});
  EXPECT_EQ(yaml.out, std::string("version: \"") + MQ_VERSION + "\"\n");
}

TEST_F(AppTest, ProfilesSupplyDefaultsBelowEnvironmentAndFlags) {
  CommandResult created = run({"profile", "create", "lab", "-b", "10.1.1.1:9092", "--timeout", "3s",
                               "-o", "json", "--use"});
  ASSERT_EQ(created.code, 0) << created.err;
  CommandResult list = run({"profile", "list"});
  EXPECT_NE(list.out.find("\"name\": \"lab\""), std::string::npos) << "output from the profile";
  EXPECT_NE(list.out.find("\"current\": true"), std::string::npos) << list.out;

  EXPECT_NE(run({"-v", "version"}).err.find("brokers 10.1.1.1:9092, timeout 3s"),
            std::string::npos);
  ::setenv("MQ_BROKERS", "10.2.2.2:9092", 1);
  EXPECT_NE(run({"-v", "version"}).err.find("brokers 10.2.2.2:9092"), std::string::npos);
  EXPECT_NE(run({"-v", "-b", "10.3.3.3:1", "version"}).err.find("brokers 10.3.3.3:1"),
            std::string::npos);
  ::unsetenv("MQ_BROKERS");

  EXPECT_EQ(run({"profile", "create", "lab", "-b", "x:1"}).code, 1) << "exists";
  EXPECT_EQ(run({"profile", "create", "lab", "-b", "x:1", "--force"}).code, 0);
  EXPECT_EQ(run({"profile", "create", "bad name", "-b", "x:1"}).code, 2);
  EXPECT_EQ(run({"profile", "create", "empty"}).code, 2);
  EXPECT_EQ(run({"profile", "use", "nope"}).code, 3);
  EXPECT_EQ(run({"profile", "delete", "lab"}).code, 0);
  EXPECT_EQ(run({"profile", "delete", "lab"}).code, 3);
  EXPECT_NE(run({"-v", "version"}).err.find("brokers 127.0.0.1:9092, timeout 10s"),
            std::string::npos)
      << "defaults once the profile is gone";
}

TEST_F(AppTest, CompletionScriptsCoverCommandsAndFlags) {
  CommandResult bash = run({"completion", "bash"});
  ASSERT_EQ(bash.code, 0);
  for (const char* word :
       {"complete -F _mqctl mqctl", "\"topic create\")", "--if-not-exists", "--exit-at-end",
        "\"bench produce\")", "--key-separator", "--group", "group list", "async sync oneway"}) {
    EXPECT_NE(bash.out.find(word), std::string::npos) << word;
  }
  // A command's line lists the root's flags once, through ${global}.
  std::istringstream lines(bash.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("${global}") == std::string::npos) continue;
    EXPECT_EQ(line.find("--help"), std::string::npos) << line;
    EXPECT_EQ(line.find(" --timeout"), std::string::npos) << line;
  }
  CommandResult zsh = run({"completion", "zsh"});
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);
  EXPECT_EQ(run({"completion", "fish"}).code, 2);
}

}  // namespace
}  // namespace mq::ctl
