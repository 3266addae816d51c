// Record batch encoding, decoding, validation and compression.
#include "store/record_batch.h"

#include <gtest/gtest.h>

#include <random>

#include "store/coding.h"
#include "tests/store/batches.h"

namespace mq {
namespace {

using testing::make_batch;

TEST(RecordBatch, RoundTripsRecordsWithKeysValuesAndHeaders) {
  for (Compression codec : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    RecordBatchBuilder builder(codec);
    builder.set_producer(77, 3, 10);
    std::vector<RecordHeader> headers = {{"trace", std::string_view("abc")},
                                         {"empty", std::nullopt}};
    builder.add(5000, std::string_view("k1"), std::string_view("hello"), headers);
    builder.add(4990, std::nullopt, std::nullopt);
    builder.add(5020, std::string_view(""), std::string_view(""));
    Result<std::string> built = builder.build();
    ASSERT_TRUE(built.is_ok()) << built.status().to_string();
    std::string batch = *built;

    Result<BatchHeader> header = verify_batch(as_bytes(batch));
    ASSERT_TRUE(header.is_ok()) << header.status().to_string();
    EXPECT_EQ(header->record_count, 3);
    EXPECT_EQ(header->last_offset_delta, 2);
    EXPECT_EQ(header->first_timestamp, 5000);
    EXPECT_EQ(header->max_timestamp, 5020);
    EXPECT_EQ(header->producer_id, 77);
    EXPECT_EQ(header->producer_epoch, 3);
    EXPECT_EQ(header->base_sequence, 10);
    EXPECT_EQ(header->last_sequence(), 12);
    EXPECT_EQ(header->compression(), codec);

    set_base_offset(as_writable_bytes(batch), 100);
    set_leader_epoch(as_writable_bytes(batch), 9);
    ASSERT_TRUE(verify_batch(as_bytes(batch)).is_ok()) << "offset/epoch are outside the CRC";

    RecordBatchReader reader;
    std::vector<Record> records;
    ASSERT_TRUE(reader.decode(as_bytes(batch), &records).is_ok());
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[0].offset, 100);
    EXPECT_EQ(records[0].timestamp, 5000);
    EXPECT_EQ(*records[0].key, "k1");
    EXPECT_EQ(*records[0].value, "hello");
    ASSERT_EQ(records[0].headers.size(), 2u);
    EXPECT_EQ(records[0].headers[0].key, "trace");
    EXPECT_EQ(*records[0].headers[0].value, "abc");
    EXPECT_FALSE(records[0].headers[1].value.has_value());
    EXPECT_EQ(records[1].offset, 101);
    EXPECT_EQ(records[1].timestamp, 4990);
    EXPECT_FALSE(records[1].key.has_value());
    EXPECT_FALSE(records[1].value.has_value());
    EXPECT_EQ(*records[2].key, "");
    EXPECT_EQ(records[2].offset, 102);
  }
}

TEST(RecordBatch, CompressionShrinksRepetitiveRecords) {
  std::string plain = make_batch(500, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Compression::kNone);
  std::string lz4 = make_batch(500, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Compression::kLz4);
  std::string zstd = make_batch(500, 1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Compression::kZstd);
  EXPECT_LT(lz4.size(), plain.size() / 3);
  EXPECT_LT(zstd.size(), plain.size() / 3);
}

TEST(RecordBatch, DetectsEveryFlippedBitOutsideOffsetAndEpoch) {
  std::string batch = make_batch(3);
  for (size_t byte = kBatchCrcStart; byte < batch.size(); byte++) {
    std::string damaged = batch;
    damaged[byte] ^= 0x10;
    EXPECT_FALSE(verify_batch(as_bytes(damaged)).is_ok()) << "byte " << byte;
  }
  std::string damaged = batch;
  damaged[17] ^= 1;  // the CRC field itself
  EXPECT_EQ(verify_batch(as_bytes(damaged)).code(), ErrorCode::kCorruptMessage);
}

TEST(RecordBatch, RejectsStructurallyImpossibleHeaders) {
  std::string batch = make_batch(2);
  auto with = [&](size_t at, auto value) {
    std::string b = batch;
    coding::put_fixed(reinterpret_cast<uint8_t*>(b.data()) + at, value);
    return parse_batch_header(as_bytes(b));
  };
  EXPECT_FALSE(with(16, uint8_t{0}).is_ok()) << "magic 0";
  EXPECT_FALSE(with(16, uint8_t{9}).is_ok()) << "unknown magic";
  EXPECT_FALSE(with(8, int32_t{10}).is_ok()) << "length below header";
  EXPECT_FALSE(with(8, int32_t{-1}).is_ok()) << "negative length";
  EXPECT_FALSE(with(0, int64_t{-5}).is_ok()) << "negative base offset";
  EXPECT_FALSE(with(21, uint16_t{0x0200}).is_ok()) << "reserved attribute bit";
  EXPECT_FALSE(with(21, uint16_t{0x0005}).is_ok()) << "unknown codec";
  EXPECT_FALSE(with(57, int32_t{-1}).is_ok()) << "negative record count";
  EXPECT_TRUE(with(57, int32_t{0}).is_ok()) << "no records: a stored batch left for duplicates";
  EXPECT_FALSE(with(23, int32_t{0}).is_ok()) << "last offset delta < count - 1";
  EXPECT_FALSE(parse_batch_header(as_bytes(batch).first(60)).is_ok()) << "short header";
  EXPECT_FALSE(verify_batch(as_bytes(batch).first(batch.size() - 1)).is_ok()) << "truncated";
}

TEST(RecordBatch, DecodeRejectsRecordsThatDoNotParse) {
  std::string batch = make_batch(2);
  // Corrupt a record's length varint and fix the CRC so only the decoder can tell.
  batch[kBatchHeaderSize] = static_cast<char>(0x7F);
  coding::put_fixed<uint32_t>(reinterpret_cast<uint8_t*>(batch.data()) + 17,
                              compute_batch_crc(as_bytes(batch)));
  ASSERT_TRUE(verify_batch(as_bytes(batch)).is_ok());
  RecordBatchReader reader;
  std::vector<Record> records;
  EXPECT_EQ(reader.decode(as_bytes(batch), &records).code(), ErrorCode::kInvalidRecord);
}

TEST(RecordBatch, DecodeRejectsCountMismatch) {
  std::string batch = make_batch(2);
  coding::put_fixed<int32_t>(reinterpret_cast<uint8_t*>(batch.data()) + 57, 3);
  coding::put_fixed<int32_t>(reinterpret_cast<uint8_t*>(batch.data()) + 23, 2);
  coding::put_fixed<uint32_t>(reinterpret_cast<uint8_t*>(batch.data()) + 17,
                              compute_batch_crc(as_bytes(batch)));
  RecordBatchReader reader;
  std::vector<Record> records;
  EXPECT_EQ(reader.decode(as_bytes(batch), &records).code(), ErrorCode::kInvalidRecord);
}

TEST(RecordBatch, DecodeSurvivesRandomBodies) {
  uint32_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  RecordBatchReader reader;
  std::vector<Record> records;
  for (int round = 0; round < 2000; round++) {
    std::string batch = make_batch(1 + static_cast<int>(rng() % 5));
    for (int flips = 0; flips < 4; flips++) {
      size_t at = kBatchHeaderSize + rng() % (batch.size() - kBatchHeaderSize);
      batch[at] = static_cast<char>(rng());
    }
    if (rng() % 2) {
      coding::put_fixed<uint16_t>(reinterpret_cast<uint8_t*>(batch.data()) + 21,
                                  static_cast<uint16_t>(rng() % 3));
    }
    (void)reader.decode(as_bytes(batch), &records);  // must not crash or overread (ASan)
  }
}

TEST(RecordBatch, DecompressionRefusesBombs) {
  std::string big(1 << 20, 'z');
  std::string packed;
  ASSERT_TRUE(compress(Compression::kZstd, big, &packed).is_ok());
  std::string out;
  EXPECT_EQ(decompress(Compression::kZstd, packed, 1000, &out).code(), ErrorCode::kCorruptMessage);
  ASSERT_TRUE(compress(Compression::kLz4, big, &packed).is_ok());
  EXPECT_EQ(decompress(Compression::kLz4, packed, 1000, &out).code(), ErrorCode::kCorruptMessage);
  EXPECT_TRUE(decompress(Compression::kLz4, packed, big.size(), &out).is_ok());
  EXPECT_EQ(out, big);
}

TEST(RecordBatch, DecompressionRejectsGarbageAndTruncation) {
  std::string data(10000, 'q');
  for (Compression codec : {Compression::kLz4, Compression::kZstd}) {
    std::string packed, out;
    ASSERT_TRUE(compress(codec, data, &packed).is_ok());
    EXPECT_FALSE(decompress(codec, packed.substr(0, packed.size() / 2), 1 << 20, &out).is_ok());
    EXPECT_FALSE(decompress(codec, "not compressed at all", 1 << 20, &out).is_ok());
  }
}

TEST(RecordBatch, ParsesCompressionNames) {
  EXPECT_EQ(*parse_compression("zstd"), Compression::kZstd);
  EXPECT_EQ(*parse_compression("lz4"), Compression::kLz4);
  EXPECT_EQ(*parse_compression("none"), Compression::kNone);
  EXPECT_EQ(parse_compression("gzip").code(), ErrorCode::kInvalidConfig);
}

TEST(RecordBatch, CursorStopsAtPartialTrailingBatch) {
  std::string a = make_batch(2), b = make_batch(3);
  std::string both = a + b;
  BatchCursor cursor(as_bytes(both).first(both.size() - 5));
  EXPECT_EQ(cursor.next().size(), a.size());
  EXPECT_TRUE(cursor.next().empty());
  EXPECT_EQ(cursor.position(), a.size());
}

// A batch of records tagged `tags` (an empty string: untagged).
std::string tagged_batch(const std::vector<std::string>& tags,
                         Compression codec = Compression::kNone) {
  RecordBatchBuilder builder(codec);
  int64_t ts = 1000;
  for (const std::string& tag : tags) {
    std::vector<RecordHeader> headers = {{"trace", std::string_view("t")}};
    if (!tag.empty()) headers.push_back({kTagHeader, std::string_view(tag)});
    builder.add(ts++, std::nullopt, std::string_view("v"), headers);
  }
  Result<std::string> built = builder.build();
  EXPECT_TRUE(built.is_ok());
  return built.is_ok() ? *built : std::string();
}

TEST(TagSummary, NamesTheTagsOfTheRecordsAfterThem) {
  for (Compression codec : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    std::string batch = tagged_batch({"paid", "", "refunded", "paid"}, codec);
    Result<BatchHeader> h = verify_batch(as_bytes(batch));
    ASSERT_TRUE(h.is_ok()) << h.status().to_string();
    EXPECT_TRUE(h->has_tag_summary());
    EXPECT_EQ(batch_tag_summary(as_bytes(batch), *h),
              tag_summary_bit("paid") | tag_summary_bit("refunded"));
    RecordBatchReader reader;
    EXPECT_TRUE(reader.validate(as_bytes(batch)).is_ok());
    std::vector<Record> records;
    ASSERT_TRUE(reader.decode(as_bytes(batch), &records).is_ok());
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(tag_of(records[0].headers), "paid");
    EXPECT_EQ(tag_of(records[1].headers), std::nullopt);
    EXPECT_EQ(tag_of(records[2].headers), "refunded");
  }
  std::string untagged = tagged_batch({"", ""});
  Result<BatchHeader> h = verify_batch(as_bytes(untagged));
  ASSERT_TRUE(h.is_ok());
  EXPECT_FALSE(h->has_tag_summary());
  EXPECT_EQ(batch_tag_summary(as_bytes(untagged), *h), 0u);
  EXPECT_EQ(untagged.size(), tagged_batch({"", ""}).size());
}

TEST(TagSummary, BitIsTheTagsCrc32cModulo64) {
  // crc32c("123456789") = 0xE3069283; & 63 = 3.
  EXPECT_EQ(tag_summary_bit("123456789"), uint64_t{1} << 3);
}

TEST(TagSummary, ValidationRefusesWrongMissingOrExtraSummaries) {
  RecordBatchReader reader;
  std::string batch = tagged_batch({"a", "b"});
  // A summary that names another tag: the CRC is right, the summary is not.
  std::string wrong = batch;
  coding::put_fixed<uint64_t>(reinterpret_cast<uint8_t*>(wrong.data()) + wrong.size() - 8,
                              tag_summary_bit("a"));
  write_batch_header(as_writable_bytes(wrong), *parse_batch_header(as_bytes(wrong)));
  ASSERT_TRUE(verify_batch(as_bytes(wrong)).is_ok());
  Status st = reader.validate(as_bytes(wrong));
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(st.message().find("tag summary does not match"), std::string::npos) << st.message();

  // Tagged records without a summary: bit 4 cleared, the 8 bytes dropped.
  std::string bare = batch.substr(0, batch.size() - 8);
  BatchHeader h = *parse_batch_header(as_bytes(batch));
  h.attributes &= static_cast<uint16_t>(~kAttrTagSummary);
  write_batch_header(as_writable_bytes(bare), h);
  ASSERT_TRUE(verify_batch(as_bytes(bare)).is_ok());
  st = reader.validate(as_bytes(bare));
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRecord);
  EXPECT_NE(st.message().find("without a tag summary"), std::string::npos) << st.message();

  // A summary on a batch without tags.
  std::string untagged = tagged_batch({""});
  untagged.append(8, '\0');
  h = *parse_batch_header(as_bytes(untagged.substr(0, untagged.size() - 8)));
  h.attributes |= kAttrTagSummary;
  write_batch_header(as_writable_bytes(untagged), h);
  ASSERT_TRUE(verify_batch(as_bytes(untagged)).is_ok());
  EXPECT_TRUE(reader.validate(as_bytes(untagged)).is_ok()) << "a zero summary names no tag";
  coding::put_fixed<uint64_t>(reinterpret_cast<uint8_t*>(untagged.data()) + untagged.size() - 8, 1);
  write_batch_header(as_writable_bytes(untagged), h);
  EXPECT_EQ(reader.validate(as_bytes(untagged)).code(), ErrorCode::kInvalidRecord);
}

TEST(TagSummary, ValidationRefusesBadTags) {
  RecordBatchReader reader;
  auto with_headers = [](std::vector<RecordHeader> headers) {
    RecordBatchBuilder builder;
    builder.add(1, std::nullopt, std::string_view("v"), headers);
    return *builder.build();
  };
  struct Case {
    std::vector<RecordHeader> headers;
    std::string message;
  };
  std::string long_tag(256, 'x');
  for (const Case& c : std::vector<Case>{
           {{{kTagHeader, std::string_view("a")}, {kTagHeader, std::string_view("b")}},
            "more than one tag"},
           {{{kTagHeader, std::nullopt}}, "null tag"},
           {{{kTagHeader, std::string_view("")}}, "empty tag"},
           {{{kTagHeader, std::string_view("a b")}}, "space"},
           {{{kTagHeader, std::string_view("a||b")}}, "'|'"},
           {{{kTagHeader, std::string_view("*")}}, "'*'"},
           {{{kTagHeader, std::string_view(long_tag)}}, "256 bytes"},
       }) {
    std::string batch = with_headers(c.headers);
    Status st = reader.validate(as_bytes(batch));
    EXPECT_EQ(st.code(), ErrorCode::kInvalidRecord) << c.message;
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
  }
  EXPECT_TRUE(check_tag(std::string(255, 'x')).is_ok());
  EXPECT_TRUE(check_tag("Order.Paid-2026_x").is_ok());
}

TEST(TagSummary, ShortBatchWithTheBitIsCorrupt) {
  std::string batch = make_batch(1);
  BatchHeader h = *parse_batch_header(as_bytes(batch));
  std::string tiny = batch.substr(0, kBatchHeaderSize);  // no records, no room for a summary
  h.attributes |= kAttrTagSummary;
  write_batch_header(as_writable_bytes(tiny), h);
  EXPECT_EQ(parse_batch_header(as_bytes(tiny)).code(), ErrorCode::kCorruptMessage);
}

TEST(TagSummary, RebuiltRunsCarryTheirOwnSummary) {
  std::string batch = tagged_batch({"a", "b", "c", ""}, Compression::kZstd);
  set_base_offset(as_writable_bytes(batch), 500);
  BatchHeader h = *verify_batch(as_bytes(batch));
  RecordBatchReader reader;
  std::vector<Record> records;
  ASSERT_TRUE(reader.decode(as_bytes(batch), &records).is_ok());
  Result<std::string> run =
      rebuild_records(h, std::span<const Record>(records).subspan(1, 1), Compression::kNone);
  ASSERT_TRUE(run.is_ok());
  Result<BatchHeader> rh = verify_batch(as_bytes(*run));
  ASSERT_TRUE(rh.is_ok());
  EXPECT_EQ(rh->base_offset, 501);
  EXPECT_EQ(rh->compression(), Compression::kNone);
  EXPECT_EQ(batch_tag_summary(as_bytes(*run), *rh), tag_summary_bit("b"));
  EXPECT_TRUE(reader.validate(as_bytes(*run)).is_ok());
  Result<std::string> untagged =
      rebuild_records(h, std::span<const Record>(records).subspan(3, 1), Compression::kZstd);
  ASSERT_TRUE(untagged.is_ok());
  EXPECT_FALSE(verify_batch(as_bytes(*untagged))->has_tag_summary());
}

TEST(Varint, RoundTripsExtremesAndRejectsOverlong) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{63}, int64_t{-64}, int64_t{300},
                    INT64_MAX, INT64_MIN}) {
    std::string out;
    coding::append_varint(out, v);
    EXPECT_EQ(out.size(), coding::varint_size(v));
    const auto* p = reinterpret_cast<const uint8_t*>(out.data());
    int64_t back;
    ASSERT_TRUE(coding::read_varint(&p, p + out.size(), &back));
    EXPECT_EQ(back, v);
  }
  std::string overlong(11, static_cast<char>(0x80));
  const auto* p = reinterpret_cast<const uint8_t*>(overlong.data());
  int64_t v;
  EXPECT_FALSE(coding::read_varint(&p, p + overlong.size(), &v));
}

}  // namespace
}  // namespace mq
