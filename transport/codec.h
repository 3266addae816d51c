// Wire encoding of message bodies. Every message lists its fields once, in a
// static `fields(self, codec)` template; BodyEncoder and BodyDecoder walk that
// list, so the encoder and the decoder cannot disagree. A field added in a
// later version is listed as `if (c.version() >= N) c("name", m.name);`.
//
//   type               encoding in the body frame
//   int8/16/32/64      fixed width, little-endian, two's complement
//   bool               int8, 0 or 1 (other values are rejected)
//   string             int16 length n (0..32767), then n bytes
//   nullable string    int16 length, -1 = null
//   bytes              int32 length n (0..2^31-1), then n bytes
//   array<T>           int32 count n (0..2^31-1), then n elements
//   nullable array<T>  int32 count, -1 = null
//   records            nothing: the field takes the next record frame, in the
//                      order the fields are encoded
//
// Decoding is defensive: every length and count is checked against the bytes
// left in the frame before anything is read or allocated; a count may not
// exceed (bytes left) / (smallest encoding of one element). A decoder never
// reads past its frame and never throws; it reports the first failure with
// the field path and byte offset.
#pragma once

#include <array>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/status.h"
#include "transport/frame.h"

namespace mq::transport {

static_assert(
    std::endian::native == std::endian::little,
    "the wire format is little-endian and the codec copies integers as they are in memory");

// Opaque binary (group protocol metadata, assignments). Arrays of int8 do not
// occur in the protocol, so this vector type always means `bytes`.
using Bytes = std::vector<uint8_t>;

constexpr size_t kMaxStringBytes = 32767;

// Stand-in codec used only to detect types that describe their fields.
struct FieldProbe {
  template <class T>
  void operator()(const char*, T&) {}
};

template <class T>
concept WireStruct = requires(T& value, FieldProbe& probe) {
  T::fields(value, probe);
};

template <class T>
concept WireScalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

// Smallest possible encoding of a T: used to bound array counts.
class MinimumSizeCounter {
 public:
  template <class T>
  void operator()(const char*, const T& value) {
    add(value);
  }
  size_t total() const { return total_; }
  // Versions only add fields: version 0 is the smallest encoding.
  int16_t version() const { return 0; }

  template <WireScalar T>
  void add(const T&) {
    total_ += sizeof(T);
  }
  void add(const std::string&) { total_ += 2; }
  void add(const std::optional<std::string>&) { total_ += 2; }
  void add(const Bytes&) { total_ += 4; }
  void add(const Frame&) {}
  template <class T>
  void add(const std::vector<T>&) {
    total_ += 4;
  }
  template <class T>
  void add(const std::optional<std::vector<T>>&) {
    total_ += 4;
  }
  template <WireStruct T>
  void add(const T& value) {
    T::fields(value, *this);
  }

 private:
  size_t total_ = 0;
};

template <class T>
size_t minimum_wire_size() {
  static const size_t size = [] {
    MinimumSizeCounter counter;
    counter.add(T{});
    return counter.total();
  }();
  return size;
}

class BodyEncoder {
 public:
  // Appends the body to `*body` and record frames to `*records`.
  BodyEncoder(int16_t version, std::string* body, Frames* records)
      : version_(version), body_(body), records_(records) {}

  int16_t version() const { return version_; }

  template <class T>
  void operator()(const char* name, const T& value) {
    field_ = name;
    put(value);
  }

  // Fails if a string, bytes field or array was too long for its length prefix.
  Status status() const { return status_; }

  template <WireScalar T>
  void put(T value) {
    if constexpr (std::is_same_v<T, bool>) {
      put(static_cast<int8_t>(value ? 1 : 0));
    } else if constexpr (std::is_enum_v<T>) {
      put(static_cast<std::underlying_type_t<T>>(value));
    } else {
      char raw[sizeof(T)];
      std::memcpy(raw, &value, sizeof(T));
      body_->append(raw, sizeof(T));
    }
  }
  void put(const std::string& value);
  void put(const std::optional<std::string>& value);
  void put(const Bytes& value);
  void put(const Frame& records) { records_->push_back(records); }
  template <class T>
  void put(const std::vector<T>& values) {
    if (!put_count(values.size())) return;
    for (const T& value : values) put(value);
  }
  template <class T>
  void put(const std::optional<std::vector<T>>& values) {
    if (!values) {
      put(int32_t{-1});
      return;
    }
    put(*values);
  }
  template <WireStruct T>
  void put(const T& value) {
    T::fields(value, *this);
  }

 private:
  bool put_count(size_t count);
  void fail(std::string what);

  int16_t version_;
  std::string* body_;
  Frames* records_;
  const char* field_ = "";
  Status status_;
};

class BodyDecoder {
 public:
  // `error_code` is what failures report: kInvalidRequest for requests,
  // kCorruptMessage for responses. `what` names the message in errors.
  BodyDecoder(int16_t version, std::span<const uint8_t> body, std::span<const Frame> records,
              ErrorCode error_code, std::string_view what)
      : version_(version), body_(body), records_(records), error_code_(error_code), what_(what) {}

  int16_t version() const { return version_; }
  bool ok() const { return status_.is_ok(); }

  template <class T>
  void operator()(const char* name, T& value) {
    if (!ok()) return;
    path_[depth_] = {name, -1};
    get(value);
  }

  // The first failure, or an error if bytes or record frames were left over.
  Status finish();

  template <WireScalar T>
  void get(T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      int8_t raw = 0;
      get(raw);
      if (!ok()) return;
      if (raw != 0 && raw != 1) return fail("bool is " + std::to_string(raw) + ", not 0 or 1");
      value = raw == 1;
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> raw{};
      get(raw);
      value = static_cast<T>(raw);
    } else {
      const uint8_t* p = take(sizeof(T), "integer");
      if (p != nullptr) std::memcpy(&value, p, sizeof(T));
    }
  }
  void get(std::string& value);
  void get(std::optional<std::string>& value);
  void get(Bytes& value);
  void get(Frame& records);
  template <class T>
  void get(std::vector<T>& values) {
    int32_t count = 0;
    get(count);
    if (!ok()) return;
    get_elements(count, values);
  }
  template <class T>
  void get(std::optional<std::vector<T>>& values) {
    int32_t count = 0;
    get(count);
    if (!ok()) return;
    if (count == -1) {
      values.reset();
      return;
    }
    values.emplace();
    get_elements(count, *values);
  }
  template <WireStruct T>
  void get(T& value) {
    if (depth_ + 1 >= path_.size()) return fail("messages nest too deeply");
    ++depth_;
    T::fields(value, *this);
    --depth_;
  }

 private:
  struct PathPart {
    const char* name = "";
    int32_t index = -1;
  };

  template <class T>
  void get_elements(int32_t count, std::vector<T>& values) {
    if (!check_count(count, minimum_wire_size<T>())) return;
    values.clear();
    values.reserve(static_cast<size_t>(count));
    for (int32_t i = 0; i < count && ok(); ++i) {
      path_[depth_].index = i;
      values.emplace_back();
      get(values.back());
    }
    path_[depth_].index = -1;
  }

  // Returns a pointer to the next n bytes and advances, or fails.
  const uint8_t* take(size_t n, const char* what);
  bool check_count(int32_t count, size_t minimum_element_bytes);
  void fail(std::string what);

  int16_t version_;
  std::span<const uint8_t> body_;
  std::span<const Frame> records_;
  size_t position_ = 0;
  size_t next_record_ = 0;
  ErrorCode error_code_;
  std::string_view what_;
  std::array<PathPart, 8> path_{};
  size_t depth_ = 0;
  Status status_;
};

// A struct encoded on its own, without a message header: what goes inside a
// bytes field (consumer subscriptions) or a record (the offsets topic).
template <WireStruct T>
std::string encode_struct(const T& value) {
  std::string body;
  Frames records;
  BodyEncoder encoder(0, &body, &records);
  encoder.put(value);
  return body;
}

// Decodes `bytes` as exactly one `T`; failures carry `error_code` and name `what`.
template <WireStruct T>
Result<T> decode_struct(std::span<const uint8_t> bytes, ErrorCode error_code,
                        std::string_view what) {
  T value;
  BodyDecoder decoder(0, bytes, {}, error_code, what);
  decoder.get(value);
  MQ_RETURN_IF_ERROR(decoder.finish());
  return value;
}

// decode_struct for structs that start with an int16 `version`: only version 0 is read.
template <WireStruct T>
Result<T> decode_versioned_struct(std::span<const uint8_t> bytes, ErrorCode error_code,
                                  std::string_view what) {
  MQ_ASSIGN_OR_RETURN(T value, decode_struct<T>(bytes, error_code, what));
  if (value.version != 0) {
    return Status(error_code, std::string(what) + " version " + std::to_string(value.version) +
                                  " is not supported (this build reads version 0)");
  }
  return value;
}

}  // namespace mq::transport
