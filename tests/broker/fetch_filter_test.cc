// Filtered reads (broker/fetch_filter.h): which records come back, how mixed
// batches are re-encoded, where the next fetch continues, and the batches
// passed over on their tag summary.
#include "broker/fetch_filter.h"

#include <gtest/gtest.h>

#include "store/log.h"
#include "store/record_batch.h"
#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

using mq::testing::TempDir;

struct Message {
  std::string tag;  // "" = untagged
  std::string region;
  Compression codec = Compression::kNone;
};

class FetchFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LogConfig config;
    config.fsync_policy = FsyncPolicy::kNever;
    Result<std::unique_ptr<Log>> log = Log::open(dir_.path(), config);
    ASSERT_TRUE(log.is_ok()) << log.status().to_string();
    log_ = std::move(log).value();
  }

  // Appends one batch of `messages`; values are "m<offset>".
  void append(const std::vector<Message>& messages, Compression codec = Compression::kNone) {
    RecordBatchBuilder builder(codec);
    int64_t offset = log_->log_end_offset();
    for (const Message& m : messages) {
      std::vector<RecordHeader> headers;
      if (!m.tag.empty()) headers.push_back({kTagHeader, std::string_view(m.tag)});
      if (!m.region.empty()) headers.push_back({"region", std::string_view(m.region)});
      std::string value = "m" + std::to_string(offset++);
      builder.add(1000, std::nullopt, std::string_view(value), headers);
    }
    std::string batch = *builder.build();
    ASSERT_TRUE(log_->append(as_writable_bytes(batch)).is_ok());
  }

  FetchFilter filter(std::string_view tags, std::string_view where = "") {
    Result<std::optional<FetchFilter>> parsed = FetchFilter::parse(tags, where);
    EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    EXPECT_TRUE(parsed.is_ok() && parsed->has_value());
    return std::move(**parsed);
  }

  // The values of the records a filtered read returns; checks every batch.
  std::vector<std::string> values(const FilteredRead& read) {
    std::vector<std::string> out;
    BatchCursor cursor(as_bytes(read.bytes));
    for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
      EXPECT_TRUE(verify_batch(batch).is_ok());
      RecordBatchReader reader;
      std::vector<Record> records;
      EXPECT_TRUE(reader.decode(batch, &records).is_ok());
      for (const Record& r : records) {
        EXPECT_EQ(*r.value, "m" + std::to_string(r.offset)) << "offsets are kept";
        out.emplace_back(*r.value);
      }
    }
    EXPECT_EQ(cursor.position(), read.bytes.size()) << "whole batches only";
    return out;
  }

  Result<FilteredRead> read(int64_t offset, const FetchFilter& f, size_t max_bytes = 1 << 20) {
    return read_filtered(*log_, offset, max_bytes, log_->log_end_offset(), f);
  }

  TempDir dir_;
  std::unique_ptr<Log> log_;
};

TEST_F(FetchFilterTest, NothingToFilterIsNoFilter) {
  Result<std::optional<FetchFilter>> none = FetchFilter::parse("", "");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
  none = FetchFilter::parse(" * ", "");
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(FetchFilterTest, BadExpressionsNameTheirPosition) {
  Result<std::optional<FetchFilter>> bad = FetchFilter::parse("a ||", "");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.status().message().find("tag expression, position"), std::string::npos)
      << bad.status().message();
  bad = FetchFilter::parse("*", "amount >");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(bad.status().message().find("filter, position 9"), std::string::npos)
      << bad.status().message();
}

TEST_F(FetchFilterTest, SkipsBatchesWithoutTheTagsUndecodedAndKeepsWholeMatchingBatches) {
  append({{"a"}, {"a"}});         // 0-1: all match
  append({{"b"}, {"b"}});         // 2-3: summary without a: skipped
  append({{""}, {""}});           // 4-5: no summary: skipped
  append({{"a"}, {"b"}, {"a"}});  // 6-8: mixed
  Result<FilteredRead> got = read(0, filter("a"));
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m0", "m1", "m6", "m8"}));
  EXPECT_EQ(got->next_offset, 9);
  EXPECT_EQ(got->skipped_batches, 2u);
  // The mixed batch comes back as two single-record batches, the first batch as stored.
  BatchCursor cursor(as_bytes(got->bytes));
  std::vector<int32_t> counts;
  for (auto batch = cursor.next(); !batch.empty(); batch = cursor.next()) {
    counts.push_back(parse_batch_header(batch)->record_count);
  }
  EXPECT_EQ(counts, (std::vector<int32_t>{2, 1, 1}));
}

TEST_F(FetchFilterTest, ExpressionsWithSeveralTagsAndPropertyFilters) {
  append({{"a", "eu"}, {"b", "us"}, {"c", "eu"}, {"", "eu"}}, Compression::kZstd);
  Result<FilteredRead> got = read(0, filter("a || c"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m0", "m2"}));
  got = read(0, filter("*", "region = 'eu'"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m0", "m2", "m3"}));
  got = read(0, filter("b || c", "region = 'eu'"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m2"}));
  got = read(0, filter("*", "region IS NULL"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got->bytes.empty());
  EXPECT_EQ(got->next_offset, 4) << "moves past what did not match";
}

TEST_F(FetchFilterTest, StartsAtTheOffsetAskedForInsideABatch) {
  append({{"a"}, {"a"}, {"a"}, {"a"}});
  Result<FilteredRead> got = read(2, filter("a"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m2", "m3"}));
}

TEST_F(FetchFilterTest, AtTheEndNextOffsetStaysAtTheFetchOffset) {
  append({{"a"}});
  Result<FilteredRead> got = read(1, filter("a"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_TRUE(got->bytes.empty());
  EXPECT_EQ(got->next_offset, 1);
  EXPECT_EQ(got->scanned_bytes, 0u);
}

TEST_F(FetchFilterTest, StopsOnceMaxBytesOfMatchesAreGathered) {
  for (int i = 0; i < 50; ++i) append({{"a"}, {"a"}});
  Result<FilteredRead> got = read(0, filter("a"), 1);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m0", "m1"})) << "at least one batch";
  EXPECT_EQ(got->next_offset, 2);
}

TEST_F(FetchFilterTest, ReadsOnPastOneLogReadOfNonMatchingBatches) {
  // Well over the 1 MiB of one log read before the first match.
  std::string padding(4000, 'x');
  for (int i = 0; i < 400; ++i) {
    RecordBatchBuilder builder;
    std::vector<RecordHeader> headers = {{kTagHeader, std::string_view("b")}};
    builder.add(1000, std::nullopt, std::string_view(padding), headers);
    std::string batch = *builder.build();
    ASSERT_TRUE(log_->append(as_writable_bytes(batch)).is_ok());
  }
  append({{"a"}});
  Result<FilteredRead> got = read(0, filter("a"));
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(values(*got), (std::vector<std::string>{"m400"}));
  EXPECT_EQ(got->next_offset, 401);
  EXPECT_EQ(got->skipped_batches, 400u);
}

}  // namespace
}  // namespace mq::broker
