// The progress line: only on a terminal, only with table output, never
// between the lines of a command that prints as it goes; erased at the end.
#include "ctl/progress.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "tests/support/eventually.h"

namespace mq::ctl {
namespace {

Context context(bool err_terminal, bool out_terminal, OutputFormat output) {
  Context ctx(Streams{});
  ctx.io.err_is_terminal = err_terminal;
  ctx.io.out_is_terminal = out_terminal;
  ctx.output = output;
  return ctx;
}

TEST(ProgressTest, DrawnOnlyForAPersonWatchingATable) {
  EXPECT_TRUE(progress_wanted(context(true, true, OutputFormat::kTable)));
  EXPECT_FALSE(progress_wanted(context(false, true, OutputFormat::kTable))) << "stderr piped";
  EXPECT_FALSE(progress_wanted(context(true, true, OutputFormat::kJson)));
  EXPECT_FALSE(progress_wanted(context(true, true, OutputFormat::kYaml)));
  // A command printing as it goes: only while its output goes elsewhere.
  EXPECT_FALSE(progress_wanted(context(true, true, OutputFormat::kTable), true));
  EXPECT_TRUE(progress_wanted(context(true, false, OutputFormat::kTable), true));
}

TEST(ProgressTest, RedrawsTheLineWhileTheWorkRunsAndErasesIt) {
  char* data = nullptr;
  size_t size = 0;
  Context ctx = context(true, false, OutputFormat::kTable);
  ctx.io.err = open_memstream(&data, &size);
  std::atomic<int> asked{0};
  {
    ProgressLine line(ctx, [&asked] {
      asked++;
      return std::string("half done");
    });
    EXPECT_TRUE(line.drawn());
    // The thread asks for the line, then draws it: after two asks one redraw
    // is out and the second ends before the destructor's join.
    EXPECT_TRUE(mq::testing::eventually([&] { return asked.load() >= 2; }))
        << "the line was never redrawn";
  }
  std::fclose(ctx.io.err);
  std::string err(data, size);
  std::free(data);
  EXPECT_NE(err.find("\rhalf done\033[K"), std::string::npos) << err;
  EXPECT_TRUE(err.ends_with("\r\033[K")) << "the line is erased at the end";

  Context piped = context(false, false, OutputFormat::kTable);
  ProgressLine none(piped, [] { return std::string("never"); });
  EXPECT_FALSE(none.drawn());
}

}  // namespace
}  // namespace mq::ctl
