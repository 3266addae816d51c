// Status and Result<T>: how every fallible call in mq reports failure. Errors
// are values; exceptions never cross a module boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/error_code.h"

namespace mq {

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == ErrorCode::kNone; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CODE_NAME: message", for logs and CLI output.
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kNone;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : value_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(value_).is_ok() && "a Result built from a Status must be an error");
  }

  bool is_ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return is_ok(); }

  const T& value() const& {
    assert(is_ok());
    return std::get<T>(value_);
  }
  T& value() & {
    assert(is_ok());
    return std::get<T>(value_);
  }
  T&& value() && {
    assert(is_ok());
    return std::get<T>(std::move(value_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return is_ok() ? Status() : std::get<Status>(value_); }
  ErrorCode code() const { return is_ok() ? ErrorCode::kNone : std::get<Status>(value_).code(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace mq

// Returns the error of a Status-valued expression from the enclosing function.
#define MQ_RETURN_IF_ERROR(expr)                \
  do {                                          \
    ::mq::Status mq_status_ = (expr);           \
    if (!mq_status_.is_ok()) return mq_status_; \
  } while (0)

#define MQ_CONCAT_INNER(a, b) a##b
#define MQ_CONCAT(a, b) MQ_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-valued expression, or returns its error.
#define MQ_ASSIGN_OR_RETURN(lhs, expr) \
  MQ_ASSIGN_OR_RETURN_IMPL(MQ_CONCAT(mq_result_, __LINE__), lhs, expr)
#define MQ_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
