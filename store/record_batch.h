// The record batch: the unit of storage, replication and transfer.
//
// All integers little-endian. Header = 61 bytes; the CRC32C covers bytes
// [21, 12 + batch_length), i.e. everything after the crc field, so the log can
// rewrite base_offset and leader_epoch without recomputing it.
//
//   off size field
//     0    8 base_offset        first offset in the batch (assigned by the log)
//     8    4 batch_length       bytes after this field (total size - 12)
//    12    4 leader_epoch       epoch of the leader that appended it
//    16    1 magic              format version, = 1
//    17    4 crc                CRC32C of bytes [21, end)
//    21    2 attributes         bits 0-2 compression (0 none, 1 lz4, 2 zstd),
//                               bit 3 timestamp type (0 create, 1 log append),
//                               bit 4 tag summary: the batch ends with 8 bytes
//                               (uint64) naming the tags of its records,
//                               bit 5 message ids: a record carries
//                               kMessageIdHeader,
//                               bits 6-15 zero
//    23    4 last_offset_delta  last offset - base_offset
//    27    8 first_timestamp    ms since epoch of the first record
//    35    8 max_timestamp      largest record timestamp (or log append time)
//    43    8 producer_id        -1 if not idempotent
//    51    2 producer_epoch     -1 if not idempotent
//    53    4 base_sequence      -1 if not idempotent
//    57    4 record_count       >= 1 as sent; 0 in a stored batch that
//                               only keeps its offsets and sequences
//                               (the records were de-duplicated)
//    61    . records            possibly compressed as one block
//     .    8 tag_summary        with attribute bit 4 only, after the records
//
// Record (inside the records block), lengths and deltas zig-zag varints:
//   length, attributes (int8, 0), timestamp_delta, offset_delta,
//   key_length (-1 = null), key, value_length (-1 = null), value,
//   header_count, then per header: key_length, key, value_length (-1 = null), value
// where `length` counts the bytes after itself. docs/storage-format.md has the full text.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/coding.h"
#include "store/compression.h"

namespace mq {

constexpr size_t kBatchHeaderSize = 61;
constexpr size_t kBatchLengthPrefix = 12;  // base_offset + batch_length
constexpr size_t kBatchCrcStart = 21;
constexpr uint8_t kBatchMagic = 1;
// A batch may not exceed this on disk, whatever the configured limits.
constexpr int32_t kMaxBatchBytes = 256 * 1024 * 1024;

// Tags (docs/messaging.md). A record's tag is the value of its header
// kTagHeader (at most one per record). A batch holding tagged records sets
// kAttrTagSummary and ends with an 8-byte summary, bit tag_summary_bit(tag)
// set for the tag of each record, so a filtered fetch skips a batch without
// one of its tags without decoding it.
inline constexpr std::string_view kTagHeader = "mq.tag";
constexpr uint16_t kAttrTagSummary = 0x10;
constexpr size_t kTagSummarySize = 8;
constexpr size_t kMaxTagBytes = 255;
// 1 << (crc32c(tag) & 63).
uint64_t tag_summary_bit(std::string_view tag);

// Message ids (docs/messaging.md, de-duplication). A record's id is the value
// of its header kMessageIdHeader (at most one, 1 to 255 bytes); a batch
// holding such records sets kAttrMessageIds, so the log decodes only those
// batches to find ids.
inline constexpr std::string_view kMessageIdHeader = "mq.msg-id";
constexpr uint16_t kAttrMessageIds = 0x20;
constexpr size_t kMaxMessageIdBytes = 255;
// Checks a message id: 1 to 255 bytes.
Status check_message_id(std::string_view id);

// Delayed delivery (docs/messaging.md). A scheduled record carries header
// kDeliverAtHeader, its delivery time in milliseconds since the epoch as
// decimal digits, in a batch with kAttrScheduled set, whose records are all
// scheduled: consumers skip such batches. When the time comes the partition's
// leader appends a delivered copy of the record, header kDelayedFromHeader
// naming the scheduled record's offset, in a batch with kAttrDelivered; a
// cancelled one gets a cancel record instead (header kDelayedCancelHeader
// naming it, plus its kDeliverAtHeader, in a kAttrScheduled batch). Only
// the leader writes copies and cancel records; producers write scheduled
// records, and no other record may carry these headers.
inline constexpr std::string_view kDeliverAtHeader = "mq.deliver-at";
inline constexpr std::string_view kDelayedFromHeader = "mq.delayed-from";
inline constexpr std::string_view kDelayedCancelHeader = "mq.delayed-cancel";
constexpr uint16_t kAttrScheduled = 0x40;
constexpr uint16_t kAttrDelivered = 0x80;
// Parses a decimal header value (deliver-at time or an offset): 1 to 18
// digits, nothing else; nullopt otherwise.
std::optional<int64_t> parse_decimal_header(std::string_view value);
// Whether `key` is one of the three headers above.
bool is_schedule_header(std::string_view key);

// Per-message acknowledgement (docs/messaging.md, "Queue consumption"). The
// partition leader records what it hands out to a queue group, and the acks,
// nacks and dead-lettering that follow, as records in batches with
// kAttrQueueState set (store/queue_state.h has their encoding). They take
// offsets like any record but are not messages: consumers skip them, only the
// leader writes them.
constexpr uint16_t kAttrQueueState = 0x100;

// What a record of a kAttrScheduled or kAttrDelivered batch does to the
// partition's schedule.
struct ScheduleMark {
  enum class Kind : uint8_t { kScheduled, kCancelled, kDelivered };
  Kind kind = Kind::kScheduled;
  int32_t offset_delta = 0;  // the record's own
  int64_t deliver_at = 0;    // ms since the epoch
  int64_t target = -1;       // cancelled / delivered: the scheduled record's offset
};

// A message id found in a batch and its record's offset delta.
struct MessageId {
  std::string id;
  int32_t offset_delta = 0;
};

enum class TimestampType : uint8_t { kCreateTime = 0, kLogAppendTime = 1 };

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t leader_epoch = 0;
  uint8_t magic = kBatchMagic;
  uint32_t crc = 0;
  uint16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t first_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  int64_t last_offset() const { return base_offset + last_offset_delta; }
  int64_t next_offset() const { return last_offset() + 1; }
  size_t total_size() const { return kBatchLengthPrefix + static_cast<size_t>(batch_length); }
  Compression compression() const { return static_cast<Compression>(attributes & 0x7); }
  TimestampType timestamp_type() const {
    return (attributes & 0x8) ? TimestampType::kLogAppendTime : TimestampType::kCreateTime;
  }
  bool is_idempotent() const { return producer_id >= 0; }
  bool has_tag_summary() const { return (attributes & kAttrTagSummary) != 0; }
  bool has_message_ids() const { return (attributes & kAttrMessageIds) != 0; }
  bool is_scheduled() const { return (attributes & kAttrScheduled) != 0; }
  bool is_delivered_copy() const { return (attributes & kAttrDelivered) != 0; }
  bool touches_schedule() const { return (attributes & (kAttrScheduled | kAttrDelivered)) != 0; }
  bool is_queue_state() const { return (attributes & kAttrQueueState) != 0; }
  // Batches that hold no messages for consumers: scheduled and cancel records
  // (delayed delivery) and queue-state records.
  bool is_hidden() const { return (attributes & (kAttrScheduled | kAttrQueueState)) != 0; }
  // Sequence of the last record, wrapping at INT32_MAX as Kafka's does.
  int32_t last_sequence() const;
};

// Reads the batch_length prefix: the total size of the batch starting at `p`
// (which must hold kBatchLengthPrefix bytes), or -1 if the length is impossible.
int64_t peek_batch_size(const uint8_t* p);

// The tag summary a whole batch ends with; 0 when it has none.
uint64_t batch_tag_summary(std::span<const uint8_t> batch, const BatchHeader& header);

// Parses and checks the structural fields of a header (magic, lengths,
// attributes, counts). Does not check the CRC. `data` must hold >= 61 bytes.
Result<BatchHeader> parse_batch_header(std::span<const uint8_t> data);

// CRC32C over bytes [21, size) of a whole batch.
uint32_t compute_batch_crc(std::span<const uint8_t> batch);

// Full check of one whole batch: header, exact size, CRC.
Result<BatchHeader> verify_batch(std::span<const uint8_t> batch);

// In-place rewrites used by the log when it appends.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_leader_epoch(std::span<uint8_t> batch, int32_t leader_epoch);
// Sets max_timestamp and the log-append-time flag, then recomputes the CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);

// The producer side. `batch` is kBatchHeaderSize bytes followed by the
// (possibly compressed) records: writes the header from `header` (its
// base_offset, batch_length and crc are computed, not taken) and the CRC.
void write_batch_header(std::span<uint8_t> batch, const BatchHeader& header);
// Rewrites the producer id, epoch and base sequence, then the CRC.
void set_producer_fields(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch,
                         int32_t base_sequence);

struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;
};

// Checks a tag: 1 to 255 bytes, no whitespace, control character, '|' or '*'
// (those separate and match tags in subscriptions).
Status check_tag(std::string_view tag);
// The value of a record's kTagHeader header; nullopt when it has none.
std::optional<std::string_view> tag_of(std::span<const RecordHeader> headers);

// One decoded record. Views point into the batch (or its decompressed copy).
struct Record {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<RecordHeader> headers;
};

// Decodes the records of one verified batch. Keeps the decompressed bytes the
// views point into, so the object must outlive the records it returns.
class RecordBatchReader {
 public:
  // Limit on the decompressed size of one batch's records.
  static constexpr size_t kMaxRecordsBytes = 64 * 1024 * 1024;

  // Decodes every record; checks offset deltas are 0..n-1 and the count matches.
  Status decode(std::span<const uint8_t> batch, std::vector<Record>* out);
  // The same checks as decode, keeping nothing: for validating appends. With
  // `require_keys` (a compacted log), a record without a key is kInvalidRecord.
  // Tags are checked too (check_tag, one per record), and the batch's tag
  // summary must be exactly the one its records make (none without tags).
  // With `key_hashes`, the key index hash (store/key_index.h) and offset
  // delta of each keyed record are appended to it. Message ids are checked
  // (check_message_id, one per record, kAttrMessageIds set exactly when there
  // are some) and, with `message_ids`, appended to it.
  Status validate(std::span<const uint8_t> batch, bool require_keys = false,
                  std::vector<std::pair<uint32_t, int32_t>>* key_hashes = nullptr,
                  std::vector<MessageId>* message_ids = nullptr);
  // Only the key hashes and message ids, as validate gives them, without its checks.
  Status collect_key_hashes(std::span<const uint8_t> batch,
                            std::vector<std::pair<uint32_t, int32_t>>* key_hashes,
                            std::vector<MessageId>* message_ids = nullptr);
  // The schedule marks of a kAttrScheduled or kAttrDelivered batch, checked:
  // a scheduled batch's records each carry one kDeliverAtHeader and, for a
  // cancel record, one kDelayedCancelHeader (all records of the batch alike);
  // a delivered batch's records each carry one kDelayedFromHeader and one
  // kDeliverAtHeader. kInvalidRecord names the first record that does not.
  Status collect_schedule(std::span<const uint8_t> batch, std::vector<ScheduleMark>* marks);

 private:
  template <typename Visitor>
  Status visit(std::span<const uint8_t> batch, Visitor&& visitor);

  std::string decompressed_;
};

// Builds one batch from records: the producer side of the format.
class RecordBatchBuilder {
 public:
  explicit RecordBatchBuilder(Compression codec = Compression::kNone) : codec_(codec) {}

  void set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
    producer_id_ = producer_id;
    producer_epoch_ = producer_epoch;
    base_sequence_ = base_sequence;
  }
  // Attribute bits set on every batch built (kAttrScheduled, kAttrDelivered,
  // kAttrQueueState).
  void set_schedule_bits(uint16_t bits) { schedule_bits_ = bits; }
  void add(int64_t timestamp_ms, std::optional<std::string_view> key,
           std::optional<std::string_view> value, std::span<const RecordHeader> headers = {});

  int32_t record_count() const { return count_; }
  // Bytes the records take before compression, plus the header.
  size_t estimated_size() const { return kBatchHeaderSize + records_.size(); }
  bool empty() const { return count_ == 0; }

  // Encodes the batch (base_offset 0, leader_epoch -1) and resets the builder.
  Result<std::string> build();

 private:
  Compression codec_;
  std::string records_;
  std::string scratch_;
  int32_t count_ = 0;
  int64_t first_timestamp_ = 0;
  int64_t max_timestamp_ = 0;
  int64_t producer_id_ = -1;
  int16_t producer_epoch_ = -1;
  int32_t base_sequence_ = -1;
  uint64_t tag_summary_ = 0;
  bool message_ids_ = false;
  uint16_t schedule_bits_ = 0;
};

// Re-encodes `run`, consecutive records decoded from the batch `original`
// describes, as a batch of their own: base_offset the first record's offset,
// the original's leader epoch, producer (its sequence advanced to the run's
// first record) and timestamp type (a log-append-time batch keeps its
// max_timestamp), compressed with `codec`; the tag summary is the run's own.
// Used by compaction (with the original's codec) and by filtered fetches
// (docs/storage-format.md §9.2).
Result<std::string> rebuild_records(const BatchHeader& original, std::span<const Record> run,
                                    Compression codec);

// A batch without records standing for `count` records of `original` from
// its offset delta `first_delta` on: their offsets and, for an idempotent
// producer, their sequences, so the producer's sequence goes on where the
// batch ended. Timestamps and timestamp type are the original's; base offset
// original.base_offset + first_delta. What the log appends in place of
// records de-duplicated away (docs/storage-format.md §2).
std::string empty_batch(const BatchHeader& original, int32_t first_delta, int32_t count);

// Walks a buffer of concatenated whole batches (as read from a segment or a
// fetch response). Stops before an incomplete trailing batch.
class BatchCursor {
 public:
  explicit BatchCursor(std::span<const uint8_t> data) : data_(data) {}
  // Returns the next whole batch, or an empty span at the end / on a partial tail.
  std::span<const uint8_t> next();
  size_t position() const { return pos_; }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
};

}  // namespace mq
