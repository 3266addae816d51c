// Checkpoint files: atomic replacement and checksums.
#include "store/checkpoint.h"

#include <gtest/gtest.h>

#include <fstream>

#include "store/file.h"
#include "tests/support/temp_dir.h"

namespace mq {
namespace {

TEST(Checkpoint, RoundTripsLines) {
  testing::TempDir dir;
  ASSERT_TRUE(write_checkpoint(dir.file("c"), "mq-test", 3, {"a 1", "b 2"}).is_ok());
  Result<std::vector<std::string>> lines = read_checkpoint(dir.file("c"), "mq-test", 3);
  ASSERT_TRUE(lines.is_ok());
  EXPECT_EQ(*lines, (std::vector<std::string>{"a 1", "b 2"}));
  EXPECT_FALSE(file_exists(dir.file("c.tmp"))) << "the temp file was renamed into place";
}

TEST(Checkpoint, DetectsDamageKindAndVersion) {
  testing::TempDir dir;
  ASSERT_TRUE(write_checkpoint(dir.file("c"), "mq-test", 1, {"offset 100"}).is_ok());
  EXPECT_EQ(read_checkpoint(dir.file("c"), "mq-other", 1).code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(read_checkpoint(dir.file("c"), "mq-test", 2).code(), ErrorCode::kCorruptMessage);
  {
    std::fstream f(dir.file("c"), std::ios::in | std::ios::out);
    f.seekp(15);
    f.put('9');  // "offset 100" -> "offset 900"
  }
  EXPECT_EQ(read_checkpoint(dir.file("c"), "mq-test", 1).code(), ErrorCode::kCorruptMessage);
  {
    std::ofstream f(dir.file("c"), std::ios::trunc);
    f << "mq-test 1\noffset 100\n";  // torn: no checksum line
  }
  EXPECT_EQ(read_checkpoint(dir.file("c"), "mq-test", 1).code(), ErrorCode::kCorruptMessage);
  EXPECT_EQ(read_checkpoint(dir.file("missing"), "mq-test", 1).code(), ErrorCode::kNotFound);
}

TEST(Checkpoint, ReplacesAnExistingFile) {
  testing::TempDir dir;
  ASSERT_TRUE(write_checkpoint(dir.file("c"), "k", 1, {"old"}).is_ok());
  ASSERT_TRUE(write_checkpoint(dir.file("c"), "k", 1, {"new"}).is_ok());
  EXPECT_EQ(read_checkpoint(dir.file("c"), "k", 1)->front(), "new");
}

}  // namespace
}  // namespace mq
