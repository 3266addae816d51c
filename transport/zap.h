// ZAP (ZeroMQ RFC 27): ZeroMQ asks a handler bound at
// inproc://zeromq.zap.01 in the socket's context whether to accept each
// CURVE handshake a server socket receives. mq answers from the listener's
// Authenticator (transport/principals.h): a known public key is accepted
// with its Z85 text as ZeroMQ's User-Id, which the listener reads off each
// request to look the principal up again; anything else is refused with
// 400, and ZeroMQ closes the connection before a request is read.
//
// One handler thread per ZeroMQ context, shared by the listeners in it;
// each listener has its own ZAP domain. CURVE handshakes on sockets of the
// context without a registered domain (encryption only) are accepted
// anonymously, as they would be with no handler.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transport/principals.h"

namespace zmq {
class context_t;
}

namespace mq::transport {

// A ZAP request (RFC 27), as ZeroMQ sends it.
struct ZapRequest {
  std::string request_id;
  std::string domain;
  std::string address;
  std::string mechanism;          // "CURVE", "NULL", "PLAIN"
  std::string client_public_key;  // Z85, for CURVE
};

// INVALID_REQUEST for anything that is not a well-formed version 1.0 request
// (CURVE credentials must be one 32-byte key).
Result<ZapRequest> parse_zap_request(const std::vector<std::string>& frames);

// The reply frames to `frames`: 200 with the key as User-Id when the
// domain's authenticator knows the key, 400 when not (or not CURVE), 500
// for an unreadable request. `authenticator_of(domain)` is nullptr for a
// domain no listener registered; the empty domain is accepted anonymously.
std::vector<std::string> answer_zap_request(
    const std::vector<std::string>& frames,
    const std::function<const Authenticator*(std::string_view domain)>& authenticator_of);

// A listener's registration with its context's ZAP handler; the handler
// (thread and socket) lives while any registration in the context does.
// Destroy it before the context.
class ZapDomain {
 public:
  static Result<std::unique_ptr<ZapDomain>> open(
      zmq::context_t& context, std::shared_ptr<const Authenticator> authenticator);
  ~ZapDomain();
  ZapDomain(const ZapDomain&) = delete;
  ZapDomain& operator=(const ZapDomain&) = delete;

  // The value for the listening socket's ZMQ_ZAP_DOMAIN.
  const std::string& name() const { return name_; }

  class Handler;

 private:
  ZapDomain(std::shared_ptr<Handler> handler, std::string name)
      : handler_(std::move(handler)), name_(std::move(name)) {}
  std::shared_ptr<Handler> handler_;
  std::string name_;
};

}  // namespace mq::transport
