// Tests of Frame ownership and comparison.
#include "transport/frame.h"

#include <gtest/gtest.h>

namespace mq::transport {
namespace {

TEST(FrameTest, CopiesShareTheSameBytes) {
  Frame original(std::string("batch bytes"));
  Frame copy = original;
  EXPECT_EQ(copy.data(), original.data());
  EXPECT_EQ(copy.as_string_view(), "batch bytes");
}

TEST(FrameTest, BorrowedBytesStayAliveWhileAFrameHoldsTheOwner) {
  auto buffer = std::make_shared<std::string>("read from a segment");
  std::weak_ptr<std::string> watch = buffer;
  Frame frame({reinterpret_cast<const uint8_t*>(buffer->data()) + 12, 7}, buffer);
  buffer.reset();
  ASSERT_FALSE(watch.expired());
  EXPECT_EQ(frame.as_string_view(), "segment");
  frame = Frame();
  EXPECT_TRUE(watch.expired());
}

TEST(FrameTest, FramesCompareByContent) {
  EXPECT_EQ(Frame(std::string("abc")), Frame::copy_of(std::string_view("abc")));
  EXPECT_FALSE(Frame(std::string("abc")) == Frame(std::string("abd")));
  EXPECT_EQ(Frame(), Frame(std::string()));
}

TEST(FrameTest, TotalSizeSumsAllFrames) {
  Frames frames{Frame(std::string(3, 'a')), Frame(), Frame(std::string(5, 'b'))};
  EXPECT_EQ(total_size(frames), 8u);
}

}  // namespace
}  // namespace mq::transport
