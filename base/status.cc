// Status formatting.
#include "base/status.h"

namespace mq {

std::string Status::to_string() const {
  if (is_ok()) return "OK";
  std::string out(error_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace mq
