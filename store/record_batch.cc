// Record batch encoding, decoding and validation.
#include "store/record_batch.h"

#include <algorithm>
#include <limits>

#include "store/coding.h"
#include "store/crc32c.h"
#include "store/key_index.h"

namespace mq {

using coding::get_fixed;
using coding::put_fixed;

namespace {

constexpr size_t kOffBaseOffset = 0;
constexpr size_t kOffBatchLength = 8;
constexpr size_t kOffLeaderEpoch = 12;
constexpr size_t kOffMagic = 16;
constexpr size_t kOffCrc = 17;
constexpr size_t kOffAttributes = 21;
constexpr size_t kOffLastOffsetDelta = 23;
constexpr size_t kOffFirstTimestamp = 27;
constexpr size_t kOffMaxTimestamp = 35;
constexpr size_t kOffProducerId = 43;
constexpr size_t kOffProducerEpoch = 51;
constexpr size_t kOffBaseSequence = 53;
constexpr size_t kOffRecordCount = 57;
static_assert(kOffRecordCount + 4 == kBatchHeaderSize);

constexpr uint16_t kKnownAttributeBits = 0x01FF;

Status corrupt(std::string what) {
  return Status(ErrorCode::kCorruptMessage, std::move(what));
}

void append_bytes(std::string& out, std::optional<std::string_view> s) {
  if (!s) {
    coding::append_varint(out, -1);
    return;
  }
  coding::append_varint(out, static_cast<int64_t>(s->size()));
  out.append(*s);
}

// Reads a varint-length-prefixed byte string; -1 means null.
bool read_bytes(const uint8_t** p, const uint8_t* end, std::optional<std::string_view>* out) {
  int64_t len;
  if (!coding::read_varint(p, end, &len)) return false;
  if (len == -1) {
    out->reset();
    return true;
  }
  if (len < 0 || len > end - *p) return false;
  *out = std::string_view(reinterpret_cast<const char*>(*p), static_cast<size_t>(len));
  *p += len;
  return true;
}

// The sequence of the record at `delta` in an idempotent batch (-1 for
// another), wrapping at INT32_MAX as Kafka's does: the first sequence of a
// piece of the batch (compaction runs, de-duplication pieces).
int32_t sequence_at(const BatchHeader& batch, int32_t delta) {
  if (batch.base_sequence < 0) return -1;
  int64_t advanced = static_cast<int64_t>(batch.base_sequence) + delta;
  if (advanced > std::numeric_limits<int32_t>::max()) advanced -= int64_t{1} << 31;
  return static_cast<int32_t>(advanced);
}

}  // namespace

uint64_t tag_summary_bit(std::string_view tag) {
  return uint64_t{1} << (crc32c::value(tag.data(), tag.size()) & 63);
}

uint64_t batch_tag_summary(std::span<const uint8_t> batch, const BatchHeader& header) {
  if (!header.has_tag_summary() || header.total_size() > batch.size()) return 0;
  return get_fixed<uint64_t>(batch.data() + header.total_size() - kTagSummarySize);
}

Status check_tag(std::string_view tag) {
  if (tag.empty()) return Status(ErrorCode::kInvalidRecord, "empty tag");
  if (tag.size() > kMaxTagBytes) {
    return Status(ErrorCode::kInvalidRecord, "tag of " + std::to_string(tag.size()) +
                                                 " bytes (at most " + std::to_string(kMaxTagBytes) +
                                                 ")");
  }
  for (char c : tag) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '|' || c == '*') {
      return Status(
          ErrorCode::kInvalidRecord,
          "tag \"" + std::string(tag) + "\" holds a space, control character, '|' or '*'");
    }
  }
  return Status::ok();
}

Status check_message_id(std::string_view id) {
  if (id.empty()) return Status(ErrorCode::kInvalidRecord, "empty message id");
  if (id.size() > kMaxMessageIdBytes) {
    return Status(ErrorCode::kInvalidRecord, "message id of " + std::to_string(id.size()) +
                                                 " bytes (at most " +
                                                 std::to_string(kMaxMessageIdBytes) + ")");
  }
  return Status::ok();
}

std::optional<int64_t> parse_decimal_header(std::string_view value) {
  if (value.empty() || value.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

bool is_schedule_header(std::string_view key) {
  return key == kDeliverAtHeader || key == kDelayedFromHeader || key == kDelayedCancelHeader;
}

std::optional<std::string_view> tag_of(std::span<const RecordHeader> headers) {
  for (const RecordHeader& h : headers) {
    if (h.key == kTagHeader) return h.value;
  }
  return std::nullopt;
}

int32_t BatchHeader::last_sequence() const {
  return sequence_at(*this, last_offset_delta);
}

int64_t peek_batch_size(const uint8_t* p) {
  int32_t len = get_fixed<int32_t>(p + kOffBatchLength);
  if (len < static_cast<int32_t>(kBatchHeaderSize - kBatchLengthPrefix) || len > kMaxBatchBytes) {
    return -1;
  }
  return static_cast<int64_t>(kBatchLengthPrefix) + len;
}

Result<BatchHeader> parse_batch_header(std::span<const uint8_t> data) {
  if (data.size() < kBatchHeaderSize) return corrupt("batch shorter than its 61-byte header");
  const uint8_t* p = data.data();
  BatchHeader h;
  h.base_offset = get_fixed<int64_t>(p + kOffBaseOffset);
  h.batch_length = get_fixed<int32_t>(p + kOffBatchLength);
  h.leader_epoch = get_fixed<int32_t>(p + kOffLeaderEpoch);
  h.magic = p[kOffMagic];
  h.crc = get_fixed<uint32_t>(p + kOffCrc);
  h.attributes = get_fixed<uint16_t>(p + kOffAttributes);
  h.last_offset_delta = get_fixed<int32_t>(p + kOffLastOffsetDelta);
  h.first_timestamp = get_fixed<int64_t>(p + kOffFirstTimestamp);
  h.max_timestamp = get_fixed<int64_t>(p + kOffMaxTimestamp);
  h.producer_id = get_fixed<int64_t>(p + kOffProducerId);
  h.producer_epoch = get_fixed<int16_t>(p + kOffProducerEpoch);
  h.base_sequence = get_fixed<int32_t>(p + kOffBaseSequence);
  h.record_count = get_fixed<int32_t>(p + kOffRecordCount);

  if (h.magic != kBatchMagic) {
    return corrupt("unknown batch format version " + std::to_string(h.magic));
  }
  if (peek_batch_size(p) < 0) {
    return corrupt("impossible batch length " + std::to_string(h.batch_length));
  }
  if (h.base_offset < 0) return corrupt("negative base offset");
  if ((h.attributes & ~kKnownAttributeBits) != 0) return corrupt("unknown attribute bits set");
  if (static_cast<uint8_t>(h.compression()) > static_cast<uint8_t>(Compression::kZstd)) {
    return corrupt("unknown compression codec " + std::to_string(h.attributes & 0x7));
  }
  if (h.record_count < 0) return corrupt("negative record count");
  if (h.has_tag_summary() && static_cast<size_t>(h.batch_length) <
                                 kBatchHeaderSize - kBatchLengthPrefix + kTagSummarySize) {
    return corrupt("batch too short for its tag summary");
  }
  if (h.last_offset_delta < h.record_count - 1) {
    return corrupt("last offset delta smaller than record count");
  }
  if (h.base_offset > std::numeric_limits<int64_t>::max() - h.last_offset_delta) {
    return corrupt("offsets overflow");
  }
  return h;
}

uint32_t compute_batch_crc(std::span<const uint8_t> batch) {
  return crc32c::value(batch.data() + kBatchCrcStart, batch.size() - kBatchCrcStart);
}

Result<BatchHeader> verify_batch(std::span<const uint8_t> batch) {
  MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
  if (h.total_size() != batch.size()) {
    return corrupt("batch length " + std::to_string(h.total_size()) + " does not match its " +
                   std::to_string(batch.size()) + " bytes");
  }
  uint32_t crc = compute_batch_crc(batch);
  if (crc != h.crc) {
    return corrupt("CRC mismatch at base offset " + std::to_string(h.base_offset));
  }
  return h;
}

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  put_fixed<int64_t>(batch.data() + kOffBaseOffset, base_offset);
}

void set_leader_epoch(std::span<uint8_t> batch, int32_t leader_epoch) {
  put_fixed<int32_t>(batch.data() + kOffLeaderEpoch, leader_epoch);
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  uint16_t attributes = get_fixed<uint16_t>(batch.data() + kOffAttributes) | 0x8;
  put_fixed<uint16_t>(batch.data() + kOffAttributes, attributes);
  put_fixed<int64_t>(batch.data() + kOffMaxTimestamp, timestamp_ms);
  put_fixed<uint32_t>(batch.data() + kOffCrc, compute_batch_crc(batch));
}

void write_batch_header(std::span<uint8_t> batch, const BatchHeader& header) {
  uint8_t* p = batch.data();
  put_fixed<int64_t>(p + kOffBaseOffset, 0);
  put_fixed<int32_t>(p + kOffBatchLength, static_cast<int32_t>(batch.size() - kBatchLengthPrefix));
  put_fixed<int32_t>(p + kOffLeaderEpoch, header.leader_epoch);
  p[kOffMagic] = kBatchMagic;
  put_fixed<uint16_t>(p + kOffAttributes, header.attributes);
  put_fixed<int32_t>(p + kOffLastOffsetDelta, header.last_offset_delta);
  put_fixed<int64_t>(p + kOffFirstTimestamp, header.first_timestamp);
  put_fixed<int64_t>(p + kOffMaxTimestamp, header.max_timestamp);
  put_fixed<int64_t>(p + kOffProducerId, header.producer_id);
  put_fixed<int16_t>(p + kOffProducerEpoch, header.producer_epoch);
  put_fixed<int32_t>(p + kOffBaseSequence, header.base_sequence);
  put_fixed<int32_t>(p + kOffRecordCount, header.record_count);
  put_fixed<uint32_t>(p + kOffCrc, compute_batch_crc(batch));
}

void set_producer_fields(std::span<uint8_t> batch, int64_t producer_id, int16_t producer_epoch,
                         int32_t base_sequence) {
  put_fixed<int64_t>(batch.data() + kOffProducerId, producer_id);
  put_fixed<int16_t>(batch.data() + kOffProducerEpoch, producer_epoch);
  put_fixed<int32_t>(batch.data() + kOffBaseSequence, base_sequence);
  put_fixed<uint32_t>(batch.data() + kOffCrc, compute_batch_crc(batch));
}

Status RecordBatchReader::decode(std::span<const uint8_t> batch, std::vector<Record>* out) {
  out->clear();
  // Room for every record at once; a record takes at least 7 bytes, which
  // bounds what a corrupt count can ask for (the count is checked in visit).
  if (batch.size() >= kBatchHeaderSize) {
    auto count =
        static_cast<size_t>(std::max(get_fixed<int32_t>(batch.data() + kOffRecordCount), 0));
    out->reserve(std::min(count, batch.size() / 7));
  }
  return visit(batch, [out](Record&& r) { out->push_back(std::move(r)); });
}

Status RecordBatchReader::collect_key_hashes(std::span<const uint8_t> batch,
                                             std::vector<std::pair<uint32_t, int32_t>>* key_hashes,
                                             std::vector<MessageId>* message_ids) {
  const int64_t base = batch.size() >= kBatchHeaderSize ? get_fixed<int64_t>(batch.data()) : 0;
  return visit(batch, [&](Record&& r) {
    auto delta = static_cast<int32_t>(r.offset - base);
    if (r.key) key_hashes->emplace_back(key_index_hash(*r.key), delta);
    if (message_ids == nullptr) return;
    for (const RecordHeader& h : r.headers) {
      if (h.key == kMessageIdHeader && h.value && check_message_id(*h.value).is_ok()) {
        message_ids->push_back({std::string(*h.value), delta});
        break;
      }
    }
  });
}

Status RecordBatchReader::validate(std::span<const uint8_t> batch, bool require_keys,
                                   std::vector<std::pair<uint32_t, int32_t>>* key_hashes,
                                   std::vector<MessageId>* message_ids) {
  int64_t unkeyed = -1;    // offset of the first record without a key
  int64_t scheduled = -1;  // offset of the first record with a schedule header
  uint64_t summary = 0;
  bool any_id = false;
  Status bad_tag;
  const int64_t base = batch.size() >= kBatchHeaderSize ? get_fixed<int64_t>(batch.data()) : 0;
  MQ_RETURN_IF_ERROR(visit(batch, [&](Record&& r) {
    if (require_keys && !r.key && unkeyed < 0) unkeyed = r.offset;
    if (key_hashes != nullptr && r.key) {
      key_hashes->emplace_back(key_index_hash(*r.key), static_cast<int32_t>(r.offset - base));
    }
    // The two reserved headers, checked alike; the message is only built
    // for a bad one.
    int tags = 0;
    int ids = 0;
    for (const RecordHeader& h : r.headers) {
      bool is_tag = h.key == kTagHeader;
      if (scheduled < 0 && is_schedule_header(h.key)) scheduled = r.offset;
      if (!bad_tag.is_ok() || (!is_tag && h.key != kMessageIdHeader)) continue;
      std::string_view what = is_tag ? "tag" : "message id";
      std::string problem;
      if (++(is_tag ? tags : ids) > 1) {
        problem = " has more than one " + std::string(what);
      } else if (!h.value) {
        problem = " has a null " + std::string(what);
      } else if (Status checked = is_tag ? check_tag(*h.value) : check_message_id(*h.value);
                 !checked.is_ok()) {
        problem = ": " + checked.message();
      } else if (is_tag) {
        summary |= tag_summary_bit(*h.value);
      } else {
        any_id = true;
        if (message_ids != nullptr) {
          message_ids->push_back({std::string(*h.value), static_cast<int32_t>(r.offset - base)});
        }
      }
      if (!problem.empty()) {
        bad_tag = Status(ErrorCode::kInvalidRecord,
                         "record " + std::to_string(r.offset - base) + problem);
      }
    }
  }));
  if (unkeyed >= 0) {
    return Status(ErrorCode::kInvalidRecord,
                  "record " + std::to_string(unkeyed - get_fixed<int64_t>(batch.data())) +
                      " has no key: every record of a compacted topic needs one");
  }
  MQ_RETURN_IF_ERROR(bad_tag);
  MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
  if (scheduled >= 0 && !h.touches_schedule()) {
    return Status(ErrorCode::kInvalidRecord,
                  "record " + std::to_string(scheduled - base) +
                      " carries a delayed-delivery header (mq.deliver-at, mq.delayed-from or "
                      "mq.delayed-cancel) in a batch without attribute bit 6");
  }
  if (summary != 0 && !h.has_tag_summary()) {
    return Status(ErrorCode::kInvalidRecord,
                  "tagged records in a batch without a tag summary (attribute bit 4)");
  }
  if (h.has_tag_summary() && batch_tag_summary(batch, h) != summary) {
    return Status(ErrorCode::kInvalidRecord, "the batch's tag summary does not match its records");
  }
  if (any_id != h.has_message_ids()) {
    return Status(ErrorCode::kInvalidRecord,
                  any_id ? "records with message ids in a batch without attribute bit 5"
                         : "attribute bit 5 (message ids) set on a batch without message ids");
  }
  return Status::ok();
}

Status RecordBatchReader::collect_schedule(std::span<const uint8_t> batch,
                                           std::vector<ScheduleMark>* marks) {
  MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
  const bool delivered = h.is_delivered_copy();
  if (delivered == h.is_scheduled()) {
    return Status(ErrorCode::kInvalidRecord,
                  "a batch is either scheduled (attribute bit 6) or delivered copies (bit 7)");
  }
  const size_t first = marks->size();
  Status bad;
  MQ_RETURN_IF_ERROR(visit(batch, [&](Record&& r) {
    if (!bad.is_ok()) return;
    const auto delta = static_cast<int32_t>(r.offset - h.base_offset);
    std::optional<int64_t> at, target;
    int ats = 0, targets = 0, others = 0;
    for (const RecordHeader& header : r.headers) {
      if (header.key == kDeliverAtHeader) {
        ++ats;
        if (header.value) at = parse_decimal_header(*header.value);
      } else if (header.key == (delivered ? kDelayedFromHeader : kDelayedCancelHeader)) {
        ++targets;
        if (header.value) target = parse_decimal_header(*header.value);
      } else if (is_schedule_header(header.key)) {
        ++others;
      }
    }
    std::string problem;
    if (ats != 1 || !at) {
      problem = "needs one mq.deliver-at header of 1 to 18 decimal digits (ms since the epoch)";
    } else if (others > 0 || targets > 1 || (targets == 1 && !target) ||
               (delivered && targets == 0)) {
      problem = delivered ? "needs one mq.delayed-from header (an offset) and no mq.delayed-cancel"
                          : "has a misplaced mq.delayed-from or a bad mq.delayed-cancel header";
    } else if (marks->size() > first && (targets == 1) != (marks->back().target >= 0)) {
      problem = "mixes scheduled and cancel records in one batch";
    }
    if (!problem.empty()) {
      bad = Status(ErrorCode::kInvalidRecord, "record " + std::to_string(delta) + " " + problem);
      return;
    }
    ScheduleMark::Kind kind = delivered      ? ScheduleMark::Kind::kDelivered
                              : targets == 1 ? ScheduleMark::Kind::kCancelled
                                             : ScheduleMark::Kind::kScheduled;
    marks->push_back({kind, delta, *at, target.value_or(-1)});
  }));
  if (!bad.is_ok()) marks->resize(first);
  return bad;
}

template <typename Visitor>
Status RecordBatchReader::visit(std::span<const uint8_t> batch, Visitor&& visitor) {
  MQ_ASSIGN_OR_RETURN(BatchHeader h, parse_batch_header(batch));
  if (h.total_size() > batch.size()) return corrupt("truncated batch");
  std::string_view body(
      reinterpret_cast<const char*>(batch.data()) + kBatchHeaderSize,
      h.total_size() - kBatchHeaderSize - (h.has_tag_summary() ? kTagSummarySize : 0));
  if (h.compression() != Compression::kNone) {
    MQ_RETURN_IF_ERROR(decompress(h.compression(), body, kMaxRecordsBytes, &decompressed_));
    body = decompressed_;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(body.data());
  const uint8_t* end = p + body.size();
  for (int32_t i = 0; i < h.record_count; i++) {
    int64_t length, ts_delta, offset_delta;
    if (!coding::read_varint(&p, end, &length) || length < 0 || length > end - p) {
      return Status(ErrorCode::kInvalidRecord, "record " + std::to_string(i) + ": bad length");
    }
    const uint8_t* record_end = p + length;
    if (record_end - p < 1) return Status(ErrorCode::kInvalidRecord, "empty record");
    p++;  // attributes: reserved, always 0
    Record r;
    int64_t header_count;
    bool ok = coding::read_varint(&p, record_end, &ts_delta) &&
              coding::read_varint(&p, record_end, &offset_delta) &&
              read_bytes(&p, record_end, &r.key) && read_bytes(&p, record_end, &r.value) &&
              coding::read_varint(&p, record_end, &header_count) && header_count >= 0 &&
              header_count <= record_end - p;
    if (!ok) {
      return Status(ErrorCode::kInvalidRecord, "record " + std::to_string(i) + " does not parse");
    }
    if (offset_delta != i) {
      return Status(
          ErrorCode::kInvalidRecord,
          "record " + std::to_string(i) + " has offset delta " + std::to_string(offset_delta));
    }
    for (int64_t k = 0; k < header_count; k++) {
      std::optional<std::string_view> hkey, hvalue;
      if (!read_bytes(&p, record_end, &hkey) || !hkey || !read_bytes(&p, record_end, &hvalue)) {
        return Status(ErrorCode::kInvalidRecord, "record " + std::to_string(i) + ": bad header");
      }
      r.headers.push_back({*hkey, hvalue});
    }
    if (p != record_end) {
      return Status(ErrorCode::kInvalidRecord, "record " + std::to_string(i) + ": trailing bytes");
    }
    r.offset = h.base_offset + offset_delta;
    r.timestamp = h.first_timestamp + ts_delta;
    visitor(std::move(r));
  }
  if (p != end) return Status(ErrorCode::kInvalidRecord, "bytes after the last record");
  if (h.record_count > 0 && h.last_offset_delta != h.record_count - 1) {
    return Status(ErrorCode::kInvalidRecord, "last offset delta does not match record count");
  }
  return Status::ok();
}

void RecordBatchBuilder::add(int64_t timestamp_ms, std::optional<std::string_view> key,
                             std::optional<std::string_view> value,
                             std::span<const RecordHeader> headers) {
  if (count_ == 0) {
    first_timestamp_ = timestamp_ms;
    max_timestamp_ = timestamp_ms;
  }
  max_timestamp_ = std::max(max_timestamp_, timestamp_ms);
  scratch_.clear();
  scratch_.push_back(0);  // attributes
  coding::append_varint(scratch_, timestamp_ms - first_timestamp_);
  coding::append_varint(scratch_, count_);
  append_bytes(scratch_, key);
  append_bytes(scratch_, value);
  coding::append_varint(scratch_, static_cast<int64_t>(headers.size()));
  for (const auto& header : headers) {
    append_bytes(scratch_, header.key);
    append_bytes(scratch_, header.value);
    if (header.key == kTagHeader && header.value) tag_summary_ |= tag_summary_bit(*header.value);
    if (header.key == kMessageIdHeader) message_ids_ = true;
  }
  coding::append_varint(records_, static_cast<int64_t>(scratch_.size()));
  records_.append(scratch_);
  count_++;
}

Result<std::string> RecordBatchBuilder::build() {
  if (count_ == 0) return Status(ErrorCode::kInvalidRequest, "cannot build an empty batch");
  std::string out(kBatchHeaderSize, '\0');
  if (codec_ == Compression::kNone) {
    out.append(records_);
  } else {
    std::string compressed;
    MQ_RETURN_IF_ERROR(compress(codec_, records_, &compressed));
    out.append(compressed);
  }
  uint16_t attributes = static_cast<uint16_t>(codec_) | schedule_bits_;
  if (message_ids_) attributes |= kAttrMessageIds;
  if (tag_summary_ != 0) {
    attributes |= kAttrTagSummary;
    char summary[kTagSummarySize];
    put_fixed<uint64_t>(reinterpret_cast<uint8_t*>(summary), tag_summary_);
    out.append(summary, kTagSummarySize);
  }
  if (out.size() - kBatchLengthPrefix > static_cast<size_t>(kMaxBatchBytes)) {
    return Status(ErrorCode::kMessageTooLarge, "batch exceeds 256 MiB");
  }
  write_batch_header(as_writable_bytes(out), BatchHeader{.leader_epoch = -1,
                                                         .attributes = attributes,
                                                         .last_offset_delta = count_ - 1,
                                                         .first_timestamp = first_timestamp_,
                                                         .max_timestamp = max_timestamp_,
                                                         .producer_id = producer_id_,
                                                         .producer_epoch = producer_epoch_,
                                                         .base_sequence = base_sequence_,
                                                         .record_count = count_});

  records_.clear();
  count_ = 0;
  tag_summary_ = 0;
  message_ids_ = false;
  return out;
}

std::string empty_batch(const BatchHeader& original, int32_t first_delta, int32_t count) {
  std::string out(kBatchHeaderSize, '\0');
  int32_t sequence = sequence_at(original, first_delta);
  std::span<uint8_t> batch = as_writable_bytes(out);
  write_batch_header(batch,
                     BatchHeader{.leader_epoch = original.leader_epoch,
                                 .attributes = static_cast<uint16_t>(original.attributes & 0x8),
                                 .last_offset_delta = count - 1,
                                 .first_timestamp = original.first_timestamp,
                                 .max_timestamp = original.max_timestamp,
                                 .producer_id = original.producer_id,
                                 .producer_epoch = original.producer_epoch,
                                 .base_sequence = sequence,
                                 .record_count = 0});
  set_base_offset(batch, original.base_offset + first_delta);
  set_leader_epoch(batch, original.leader_epoch);
  return out;
}

Result<std::string> rebuild_records(const BatchHeader& original, std::span<const Record> run,
                                    Compression codec) {
  if (run.empty()) return Status(ErrorCode::kInvalidRequest, "cannot build an empty batch");
  int32_t sequence =
      sequence_at(original, static_cast<int32_t>(run.front().offset - original.base_offset));
  RecordBatchBuilder builder(codec);
  builder.set_producer(original.producer_id, original.producer_epoch, sequence);
  builder.set_schedule_bits(original.attributes &
                            (kAttrScheduled | kAttrDelivered | kAttrQueueState));
  for (const Record& r : run) builder.add(r.timestamp, r.key, r.value, r.headers);
  MQ_ASSIGN_OR_RETURN(std::string bytes, builder.build());
  std::span<uint8_t> batch = as_writable_bytes(bytes);
  set_base_offset(batch, run.front().offset);
  set_leader_epoch(batch, original.leader_epoch);
  if (original.timestamp_type() == TimestampType::kLogAppendTime) {
    set_log_append_time(batch, original.max_timestamp);
  }
  return bytes;
}

std::span<const uint8_t> BatchCursor::next() {
  if (data_.size() - pos_ < kBatchLengthPrefix) return {};
  int64_t size = peek_batch_size(data_.data() + pos_);
  if (size < 0 || static_cast<size_t>(size) > data_.size() - pos_) return {};
  auto batch = data_.subspan(pos_, static_cast<size_t>(size));
  pos_ += static_cast<size_t>(size);
  return batch;
}

}  // namespace mq
