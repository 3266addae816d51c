// Test support: fills any protocol message with seeded random contents by
// walking its field list, so every message type can be round-tripped and
// fuzzed without hand-writing a sample of each.
#pragma once

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "transport/codec.h"

namespace mq::transport::testing {

class RandomFiller {
 public:
  // Fills the fields a message has at `version`; the others keep their defaults.
  RandomFiller(std::mt19937_64& rng, int16_t version) : rng_(rng), version_(version) {}

  int16_t version() const { return version_; }

  template <class T>
  void operator()(const char*, T& value) {
    fill(value);
  }

  template <WireScalar T>
  void fill(T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      value = (rng_() & 1) != 0;
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> raw{};
      fill(raw);
      value = static_cast<T>(raw);
    } else {
      // Mostly small values, sometimes the extremes, which catch sign and width bugs.
      switch (rng_() % 4) {
        case 0:
          value = std::numeric_limits<T>::min();
          break;
        case 1:
          value = std::numeric_limits<T>::max();
          break;
        default:
          value = static_cast<T>(static_cast<int64_t>(rng_() % 2001) - 1000);
      }
    }
  }
  void fill(std::string& value) { value = random_bytes<std::string>(12); }
  void fill(std::optional<std::string>& value) {
    if (rng_() % 4 == 0) {
      value.reset();
    } else {
      value = random_bytes<std::string>(12);
    }
  }
  void fill(Bytes& value) { value = random_bytes<Bytes>(24); }
  void fill(Frame& value) { value = Frame(random_bytes<std::string>(96)); }
  template <class T>
  void fill(std::vector<T>& values) {
    values.resize(rng_() % 4);
    for (T& value : values) fill(value);
  }
  template <class T>
  void fill(std::optional<std::vector<T>>& values) {
    if (rng_() % 4 == 0) {
      values.reset();
      return;
    }
    values.emplace();
    fill(*values);
  }
  template <WireStruct T>
  void fill(T& value) {
    T::fields(value, *this);
  }

 private:
  template <class Container>
  Container random_bytes(size_t max_size) {
    Container bytes(rng_() % (max_size + 1), 0);
    for (auto& byte : bytes) byte = static_cast<typename Container::value_type>(rng_());
    return bytes;
  }

  std::mt19937_64& rng_;
  int16_t version_;
};

template <class Message>
Message random_message(std::mt19937_64& rng, int16_t version = 0) {
  Message message;
  RandomFiller filler(rng, version);
  filler.fill(message);
  return message;
}

}  // namespace mq::transport::testing
