// parse_node_address: "ID@HOST:PORT".
#include "base/node_address.h"

#include <charconv>

namespace mq {
namespace {

Status invalid(std::string_view text, const std::string& why) {
  return Status(ErrorCode::kInvalidConfig, "'" + std::string(text) + "'" + why);
}

// Digits only, no sign, within [low, high].
bool parse_number(std::string_view digits, int64_t low, int64_t high, int64_t* out) {
  if (digits.empty() || digits.size() > 10) return false;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), *out);
  return error == std::errc() && end == digits.data() + digits.size() && digits[0] != '-' &&
         *out >= low && *out <= high;
}

}  // namespace

Result<NodeAddress> parse_node_address(std::string_view text) {
  size_t at = text.find('@');
  size_t colon = text.rfind(':');
  if (at == std::string_view::npos || colon == std::string_view::npos || colon < at) {
    return invalid(text, " is not ID@HOST:PORT");
  }
  int64_t id = 0, port = 0;
  if (!parse_number(text.substr(0, at), 0, INT32_MAX, &id)) {
    return invalid(text, ": the id must be a number from 0 to 2147483647");
  }
  std::string_view host = text.substr(at + 1, colon - at - 1);
  if (host.empty()) return invalid(text, ": the host is empty");
  if (host.find_first_of("/ @") != std::string_view::npos) {
    return invalid(text, ": the host contains '/', ' ' or '@'");
  }
  if (!parse_number(text.substr(colon + 1), 1, 65535, &port)) {
    return invalid(text, ": the port must be from 1 to 65535");
  }
  return NodeAddress{static_cast<int32_t>(id), std::string(host), static_cast<int>(port)};
}

void split_endpoint(const std::string& endpoint, std::string* host, int32_t* port) {
  size_t scheme = endpoint.find("://");
  std::string rest = scheme == std::string::npos ? endpoint : endpoint.substr(scheme + 3);
  size_t colon = rest.rfind(':');
  *host = rest.substr(0, colon);
  *port = 0;
  if (colon != std::string::npos) {
    try {
      *port = std::stoi(rest.substr(colon + 1));
    } catch (const std::exception&) {
      *port = 0;
    }
  }
}

}  // namespace mq
