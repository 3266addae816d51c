// mq-faults refuses bad arguments and bad history files with a reason and
// exit status 2, and --check judges a history without root.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/faults/history.h"
#include "tests/support/temp_dir.h"

namespace mq::faults {
namespace {

struct Outcome {
  int code = -1;
  std::string out;
};

Outcome mq_faults(const std::string& args) {
  Outcome run;
  FILE* pipe = ::popen((std::string(MQ_FAULTS_BINARY) + " " + args + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return run;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) run.out.append(buf, n);
  int status = ::pclose(pipe);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(FaultsCliTest, BadArgumentsAreRefusedWithTheirReason) {
  const std::pair<std::string, std::string> cases[] = {
      {"--duration soon", "--duration \"soon\""},
      {"--duration -5s", "--duration \"-5s\""},
      {"--faults kill,meteor", "unknown fault \"meteor\""},
      {"--nodes 2", "--nodes \"2\""},
      {"--rate x", "--rate \"x\""},
      {"--seed 1x", "--seed \"1x\""},
      {"--bogus 1", "unknown option --bogus"},
      {"--seed", "--seed needs a value"},
  };
  for (const auto& [args, reason] : cases) {
    Outcome run = mq_faults(args);
    EXPECT_EQ(run.code, 2) << args << ": " << run.out;
    EXPECT_NE(run.out.find(reason), std::string::npos) << args << ": " << run.out;
    EXPECT_NE(run.out.find("usage: mq-faults"), std::string::npos) << args;
  }
}

TEST(FaultsCliTest, CheckJudgesAHistoryFileAndNamesABadOne) {
  testing::TempDir dir;
  History history;
  history.add({.process = "producer-1", .type = OpType::kInvoke, .fn = OpFn::kSend, .value = "a"});
  history.add({.process = "producer-1",
               .type = OpType::kOk,
               .fn = OpFn::kSend,
               .value = "a",
               .partition = 0,
               .offset = 0});
  history.add(
      {.process = "final", .type = OpType::kOk, .fn = OpFn::kFinalRead, .reads = {{0, 0, "a"}}});
  ASSERT_TRUE(history.write(dir.file("clean.jsonl")).is_ok());
  Outcome clean = mq_faults("--check " + dir.file("clean.jsonl"));
  EXPECT_EQ(clean.code, 0) << clean.out;
  EXPECT_NE(clean.out.find("anomalies: 0"), std::string::npos) << clean.out;

  history.add({.process = "final",
               .type = OpType::kOk,
               .fn = OpFn::kFinalRead,
               .reads = {{0, 1, "a"}}});  // a second copy of 'a'
  ASSERT_TRUE(history.write(dir.file("dup.jsonl")).is_ok());
  Outcome dup = mq_faults("--check " + dir.file("dup.jsonl"));
  EXPECT_EQ(dup.code, 1) << dup.out;
  EXPECT_NE(dup.out.find("duplicate: 'a' is stored 2 times"), std::string::npos) << dup.out;

  std::ofstream(dir.file("bad.jsonl")) << "{\"t\":1}\n";
  Outcome bad = mq_faults("--check " + dir.file("bad.jsonl"));
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("bad.jsonl:1"), std::string::npos) << bad.out;
  Outcome missing = mq_faults("--check " + dir.file("none.jsonl"));
  EXPECT_EQ(missing.code, 2) << missing.out;
  Outcome unjudged = mq_faults("--check /dev/null");
  EXPECT_EQ(unjudged.code, 2) << unjudged.out;
  EXPECT_NE(unjudged.out.find("no final read"), std::string::npos) << unjudged.out;
}

}  // namespace
}  // namespace mq::faults
