// Length-checked encoding and decoding of body fields.
#include "transport/codec.h"

#include <limits>

namespace mq::transport {

void BodyEncoder::put(const std::string& value) {
  if (value.size() > kMaxStringBytes) {
    return fail("string of " + std::to_string(value.size()) + " bytes exceeds the " +
                std::to_string(kMaxStringBytes) + "-byte limit");
  }
  put(static_cast<int16_t>(value.size()));
  body_->append(value);
}

void BodyEncoder::put(const std::optional<std::string>& value) {
  if (!value) {
    put(int16_t{-1});
    return;
  }
  put(*value);
}

void BodyEncoder::put(const Bytes& value) {
  if (!put_count(value.size())) return;
  body_->append(reinterpret_cast<const char*>(value.data()), value.size());
}

bool BodyEncoder::put_count(size_t count) {
  if (count > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("length " + std::to_string(count) + " does not fit an int32");
    return false;
  }
  put(static_cast<int32_t>(count));
  return true;
}

void BodyEncoder::fail(std::string what) {
  if (!status_.is_ok()) return;
  status_ = Status(ErrorCode::kInvalidRequest,
                   std::string("cannot encode field ") + field_ + ": " + std::move(what));
}

Status BodyDecoder::finish() {
  if (!ok()) return status_;
  if (position_ != body_.size()) {
    return Status(error_code_, std::string(what_) + " v" + std::to_string(version_) + ": " +
                                   std::to_string(body_.size() - position_) +
                                   " unread bytes after the last field");
  }
  if (next_record_ != records_.size()) {
    return Status(error_code_, std::string(what_) + " v" + std::to_string(version_) + ": " +
                                   std::to_string(records_.size() - next_record_) +
                                   " record frames not referenced by any field");
  }
  return Status::ok();
}

void BodyDecoder::get(std::string& value) {
  int16_t length = 0;
  get(length);
  if (!ok()) return;
  if (length < 0) return fail("string length " + std::to_string(length) + " is negative");
  const uint8_t* p = take(static_cast<size_t>(length), "string");
  if (p != nullptr) value.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(length));
}

void BodyDecoder::get(std::optional<std::string>& value) {
  int16_t length = 0;
  get(length);
  if (!ok()) return;
  if (length == -1) {
    value.reset();
    return;
  }
  if (length < 0) return fail("nullable string length " + std::to_string(length) + " is invalid");
  const uint8_t* p = take(static_cast<size_t>(length), "string");
  if (p != nullptr) value.emplace(reinterpret_cast<const char*>(p), static_cast<size_t>(length));
}

void BodyDecoder::get(Bytes& value) {
  int32_t length = 0;
  get(length);
  if (!ok()) return;
  if (length < 0) return fail("bytes length " + std::to_string(length) + " is negative");
  const uint8_t* p = take(static_cast<size_t>(length), "bytes");
  if (p != nullptr) value.assign(p, p + length);
}

void BodyDecoder::get(Frame& records) {
  if (next_record_ >= records_.size()) {
    return fail("needs record frame " + std::to_string(next_record_ + 1) + " but the message has " +
                std::to_string(records_.size()));
  }
  records = records_[next_record_++];
}

const uint8_t* BodyDecoder::take(size_t n, const char* what) {
  size_t left = body_.size() - position_;
  if (n > left) {
    fail(std::string(what) + " needs " + std::to_string(n) + " bytes but only " +
         std::to_string(left) + " are left in the frame");
    return nullptr;
  }
  const uint8_t* p = body_.data() + position_;
  position_ += n;
  return p;
}

bool BodyDecoder::check_count(int32_t count, size_t minimum_element_bytes) {
  if (count < 0) {
    fail("array count " + std::to_string(count) + " is negative");
    return false;
  }
  // Elements that are only record frames take no body bytes; bound them by
  // the frames that are left instead.
  size_t limit = minimum_element_bytes == 0 ? records_.size() - next_record_
                                            : (body_.size() - position_) / minimum_element_bytes;
  if (static_cast<size_t>(count) > limit) {
    fail("array count " + std::to_string(count) + " exceeds the " + std::to_string(limit) +
         " elements the rest of the message can hold");
    return false;
  }
  return true;
}

void BodyDecoder::fail(std::string what) {
  if (!ok()) return;
  std::string path;
  for (size_t i = 0; i <= depth_; ++i) {
    if (i > 0) path += '.';
    path += path_[i].name;
    if (path_[i].index >= 0) path += "[" + std::to_string(path_[i].index) + "]";
  }
  status_ =
      Status(error_code_, std::string(what_) + " v" + std::to_string(version_) + ": field " + path +
                              " at byte " + std::to_string(position_) + ": " + std::move(what));
}

}  // namespace mq::transport
