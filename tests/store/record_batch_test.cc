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
  EXPECT_FALSE(with(21, uint16_t{0x0100}).is_ok()) << "reserved attribute bit";
  EXPECT_FALSE(with(21, uint16_t{0x0005}).is_ok()) << "unknown codec";
  EXPECT_FALSE(with(57, int32_t{0}).is_ok()) << "no records";
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
