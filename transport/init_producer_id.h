// InitProducerId (api key 5): producer id and epoch for the idempotent producer.
//
// Wire layout (v0; types as in transport/codec.h, fields in this order):
//   InitProducerIdRequest v0
//     transactional_id         nullable string
//     transaction_timeout_ms   int32
//     producer_id              int64
//     producer_epoch           int16
//   InitProducerIdResponse v0
//     error_code               int16 (error code)
//     producer_id              int64
//     producer_epoch           int16
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error_code.h"
#include "transport/api.h"
#include "transport/codec.h"

namespace mq::transport {

// InitProducerId: gives an idempotent producer its producer id and epoch, or bumps the epoch of an
// existing id.
struct InitProducerIdResponse;

struct InitProducerIdRequest {
  static constexpr ApiKey kApiKey = ApiKey::kInitProducerId;
  using Response = InitProducerIdResponse;

  std::optional<std::string>
      transactional_id;  // null: idempotence only (transactions are not implemented)
  int32_t transaction_timeout_ms = 60000;  // reserved for transactions
  int64_t producer_id = -1;                // existing id to bump the epoch of, -1 for a new id
  int16_t producer_epoch = -1;             // the existing id's current epoch, -1 for a new id

  bool operator==(const InitProducerIdRequest&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("transactional_id", m.transactional_id);
    c("transaction_timeout_ms", m.transaction_timeout_ms);
    c("producer_id", m.producer_id);
    c("producer_epoch", m.producer_epoch);
  }
};

struct InitProducerIdResponse {
  static constexpr ApiKey kApiKey = ApiKey::kInitProducerId;

  ErrorCode error_code = ErrorCode::kNone;  // request-level error
  int64_t producer_id = -1;                 // assigned producer id
  int16_t producer_epoch = -1;              // assigned epoch

  bool operator==(const InitProducerIdResponse&) const = default;
  template <class Self, class Codec>
  static void fields(Self& m, Codec& c) {
    c("error_code", m.error_code);
    c("producer_id", m.producer_id);
    c("producer_epoch", m.producer_epoch);
  }
};

}  // namespace mq::transport
