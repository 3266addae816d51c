// The ZAP handler thread and the request/reply format of RFC 27.
#include "transport/zap.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <zmq.hpp>

#include "transport/curve.h"

namespace mq::transport {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr char kZapVersion[] = "1.0";
constexpr size_t kCurveKeyBytes = 32;
constexpr int kPollMs = 100;  // how soon the thread notices it should stop

std::vector<std::string> zap_reply(const std::string& request_id, std::string_view code,
                                   std::string_view text, std::string user_id) {
  return {kZapVersion, request_id, std::string(code), std::string(text), std::move(user_id), ""};
}

}  // namespace

Result<ZapRequest> parse_zap_request(const std::vector<std::string>& frames) {
  auto bad = [](const std::string& why) {
    return Status(ErrorCode::kInvalidRequest, "ZAP request: " + why);
  };
  // version, request id, domain, address, identity, mechanism, credentials...
  if (frames.size() < 6) return bad("fewer than 6 frames");
  if (frames[0] != kZapVersion) return bad("version is not 1.0");
  ZapRequest request{.request_id = frames[1],
                     .domain = frames[2],
                     .address = frames[3],
                     .mechanism = frames[5],
                     .client_public_key = {}};
  if (request.mechanism == "CURVE") {
    if (frames.size() != 7 || frames[6].size() != kCurveKeyBytes) {
      return bad("CURVE credentials are one 32-byte key");
    }
    char z85[kCurveKeyChars + 1] = {};
    zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), kCurveKeyBytes);
    request.client_public_key = z85;
  }
  return request;
}

std::vector<std::string> answer_zap_request(
    const std::vector<std::string>& frames,
    const std::function<const Authenticator*(std::string_view domain)>& authenticator_of) {
  Result<ZapRequest> request = parse_zap_request(frames);
  if (!request.is_ok()) {
    return zap_reply(frames.size() > 1 ? frames[1] : "", "500", request.status().message(), "");
  }
  if (request->domain.empty()) return zap_reply(request->request_id, "200", "OK", "");
  const Authenticator* authenticator = authenticator_of(request->domain);
  if (authenticator == nullptr) {
    return zap_reply(request->request_id, "400", "unknown ZAP domain", "");
  }
  if (request->mechanism != "CURVE") {
    authenticator->refused();
    return zap_reply(request->request_id, "400", "CURVE required", "");
  }
  if (!authenticator->principal_of(request->client_public_key)) {
    return zap_reply(request->request_id, "400", "unknown key", "");
  }
  return zap_reply(request->request_id, "200", "OK", request->client_public_key);
}

class ZapDomain::Handler {
 public:
  explicit Handler(zmq::context_t& context) : context_(context) {}
  ~Handler() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  Status start() {
    // The promise moves into the thread: it outlives this call's return.
    std::promise<Status> bound;
    std::future<Status> result = bound.get_future();
    try {
      thread_ = std::thread([this, bound = std::move(bound)]() mutable { run(bound); });
    } catch (const std::system_error& error) {
      return Status(ErrorCode::kUnknown, std::string("ZAP handler: thread: ") + error.what());
    }
    Status status = result.get();
    if (!status.is_ok()) thread_.join();
    return status;
  }

  std::string add(std::shared_ptr<const Authenticator> authenticator) {
    std::lock_guard lock(mu_);
    // Unique in the process, so a name never returns to another listener.
    static std::atomic<uint64_t> next_domain{0};
    std::string name = "mq-" + std::to_string(next_domain.fetch_add(1));
    domains_.emplace(name, std::move(authenticator));
    return name;
  }
  void remove(const std::string& name) {
    std::lock_guard lock(mu_);
    domains_.erase(name);
  }

 private:
  void run(std::promise<Status>& bound) {
    zmq::socket_t socket;
    try {
      socket = zmq::socket_t(context_, zmq::socket_type::rep);
      socket.set(zmq::sockopt::linger, 0);
      socket.bind(kZapEndpoint);
    } catch (const zmq::error_t& error) {
      bound.set_value(Status(ErrorCode::kNetworkError, std::string("ZAP handler: bind ") +
                                                           kZapEndpoint + ": " + error.what()));
      return;
    }
    bound.set_value(Status::ok());
    auto lookup = [this](std::string_view domain) -> const Authenticator* {
      // Called with mu_ held (below).
      auto it = domains_.find(std::string(domain));
      return it == domains_.end() ? nullptr : it->second.get();
    };
    while (!stop_) {
      try {
        zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
        if (zmq::poll(&item, 1, std::chrono::milliseconds(kPollMs)) <= 0) continue;
        std::vector<std::string> frames;
        bool more = true;
        while (more && frames.size() < 16) {
          zmq::message_t part;
          if (!socket.recv(part, zmq::recv_flags::dontwait)) break;
          more = part.more();
          frames.emplace_back(static_cast<const char*>(part.data()), part.size());
        }
        while (more) {  // more frames than any request has: drop the rest
          zmq::message_t part;
          if (!socket.recv(part, zmq::recv_flags::dontwait)) break;
          more = part.more();
          frames.clear();
        }
        std::vector<std::string> answer;
        {
          std::lock_guard lock(mu_);
          answer = answer_zap_request(frames, lookup);
        }
        if (answer[2] != "200") log_refusal(frames.size() > 3 ? frames[3] : "", answer[3]);
        for (size_t i = 0; i < answer.size(); i++) {
          socket.send(zmq::buffer(answer[i]),
                      i + 1 < answer.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
      } catch (const zmq::error_t& error) {
        if (error.num() == ETERM) break;
        if (error.num() == EINTR) continue;
        spdlog::error("ZAP handler: {}", error.what());
      }
    }
    // Closing is asynchronous; unbinding frees the endpoint now, for a
    // handler the context may get next.
    try {
      socket.unbind(kZapEndpoint);
    } catch (const zmq::error_t&) {
    }
  }

  // At most one line a second: a flood of bad handshakes must not flood the log.
  void log_refusal(const std::string& address, const std::string& why) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_logged_ < std::chrono::seconds(1)) {
      ++unlogged_;
      return;
    }
    spdlog::warn("refused a CURVE handshake from {}: {}{}", address, why,
                 unlogged_ == 0 ? "" : " (and " + std::to_string(unlogged_) + " more not logged)");
    last_logged_ = now;
    unlogged_ = 0;
  }

  zmq::context_t& context_;
  std::chrono::steady_clock::time_point last_logged_{};
  uint64_t unlogged_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Authenticator>, std::less<>> domains_;
};

namespace {
std::mutex& zap_handlers_mu() {
  static std::mutex mu;
  return mu;
}
std::map<void*, std::weak_ptr<ZapDomain::Handler>>& zap_handlers() {
  static std::map<void*, std::weak_ptr<ZapDomain::Handler>> map;
  return map;
}
}  // namespace

Result<std::unique_ptr<ZapDomain>> ZapDomain::open(
    zmq::context_t& context, std::shared_ptr<const Authenticator> authenticator) {
  std::lock_guard lock(zap_handlers_mu());
  std::shared_ptr<Handler> handler = zap_handlers()[context.handle()].lock();
  if (!handler) {
    handler = std::make_shared<Handler>(context);
    MQ_RETURN_IF_ERROR(handler->start());
    zap_handlers()[context.handle()] = handler;
  }
  std::string name = handler->add(std::move(authenticator));
  return std::unique_ptr<ZapDomain>(new ZapDomain(std::move(handler), std::move(name)));
}

ZapDomain::~ZapDomain() {
  // Under the registry's lock, so the handler's socket is closed before a
  // new handler for the same context binds the endpoint again.
  std::lock_guard lock(zap_handlers_mu());
  handler_->remove(name_);
  handler_.reset();
  for (auto it = zap_handlers().begin(); it != zap_handlers().end();) {
    it = it->second.expired() ? zap_handlers().erase(it) : std::next(it);
  }
}

}  // namespace mq::transport
