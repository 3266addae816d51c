// HttpServer: routes and the serving thread.
#include "metrics/http_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <chrono>

namespace mq::metrics {

HttpServer::HttpServer(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                       HttpHandlers handlers)
    : collectables_(std::move(collectables)), handlers_(std::move(handlers)) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::add_collectable(std::shared_ptr<prometheus::Collectable> collectable) {
  std::lock_guard lock(collectables_mu_);
  collectables_.push_back(std::move(collectable));
}

bool is_loopback_address(const std::string& address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

void HttpServer::set_token(std::string token) {
  std::lock_guard lock(token_mu_);
  token_ = std::move(token);
}

Status HttpServer::start(const std::string& host, int port, const HttpSecurity& security) {
  set_token(security.token);
  token_loopback_ = security.token_loopback;
  if (security.tls_cert_file.empty() != security.tls_key_file.empty()) {
    return Status(ErrorCode::kInvalidConfig,
                  "TLS needs both a certificate file and its private key file");
  }
  if (!security.tls_cert_file.empty()) {
    auto tls = std::make_unique<httplib::SSLServer>(security.tls_cert_file.c_str(),
                                                    security.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return Status(ErrorCode::kInvalidConfig,
                    "cannot serve TLS with " + security.tls_cert_file + " and " +
                        security.tls_key_file +
                        ": not PEM, unreadable, or the key is not the certificate's");
    }
    // TLS 1.2 or later, whatever the system's OpenSSL defaults allow.
    if (SSL_CTX_set_min_proto_version(tls->ssl_context(), TLS1_2_VERSION) != 1) {
      return Status(ErrorCode::kInvalidConfig, "cannot require TLS 1.2 or later of HTTP clients");
    }
    server_ = std::move(tls);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  // Clients not on loopback need the token for all but the probes.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // The probes stay open: load balancers and orchestrators send no token.
    if (req.path == "/healthz" || req.path == "/readyz" ||
        (!token_loopback_ && is_loopback_address(req.remote_addr))) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    std::string token;
    {
      std::lock_guard lock(token_mu_);
      token = token_;
    }
    if (token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const std::string given = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    bool ok = given.size() == kBearer.size() + token.size() && given.starts_with(kBearer);
    // Compared in constant time: how long a wrong token took says nothing.
    unsigned char differ = ok ? 0 : 1;
    for (size_t i = 0; ok && i < token.size(); i++) {
      differ |= static_cast<unsigned char>(given[kBearer.size() + i] ^ token[i]);
    }
    if (differ == 0) return httplib::Server::HandlerResponse::Unhandled;
    unauthorized_.fetch_add(1, std::memory_order_relaxed);
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"mq\"");
    res.set_content("a bearer token is required (Authorization: Bearer ...)\n", "text/plain");
    return httplib::Server::HandlerResponse::Handled;
  });
  // httplib's default adds SO_REUSEPORT, which would let a second broker
  // share this port silently; keep only SO_REUSEADDR (fast restarts).
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<prometheus::MetricFamily> families;
    std::vector<std::shared_ptr<prometheus::Collectable>> collectables;
    {
      std::lock_guard lock(collectables_mu_);
      collectables = collectables_;
    }
    for (const auto& collectable : collectables) {
      auto collected = collectable->Collect();
      families.insert(families.end(), std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
    // The server's own figure.
    prometheus::MetricFamily refused;
    refused.name = "mq_http_unauthorized_total";
    refused.help = "HTTP requests refused for a missing or wrong bearer token (http.token_file).";
    refused.type = prometheus::MetricType::Counter;
    refused.metric.emplace_back();
    refused.metric.back().counter.value = static_cast<double>(unauthorized());
    families.push_back(std::move(refused));
    prometheus::TextSerializer serializer;
    res.set_content(serializer.Serialize(families), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto probe = [](const std::function<bool(std::string*)>& check) {
    return [check](const httplib::Request&, httplib::Response& res) {
      std::string why;
      bool ok = check ? check(&why) : true;
      res.status = ok ? 200 : 503;
      res.set_content(ok ? "ok\n" : why + "\n", "text/plain");
    };
  };
  server_->Get("/healthz", probe(handlers_.healthy));
  server_->Get("/readyz", probe(handlers_.ready));
  server_->Get("/v1/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(handlers_.status_json ? handlers_.status_json() : "{}", "application/json");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else {
    port_ = server_->bind_to_port(host, port) ? port : -1;
  }
  if (port_ < 0) {
    return Status(ErrorCode::kInvalidConfig, "cannot listen on http address " + host + ":" +
                                                 std::to_string(port) + " (in use or invalid)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works on a running server: return once it is accepting.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status(ErrorCode::kUnknown, "http server on " + host + " did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::ok();
}

void HttpServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

Result<std::pair<std::string, int>> parse_host_port(const std::string& address,
                                                    const std::string& what) {
  size_t colon = address.rfind(':');
  auto bad = [&] {
    return Status(ErrorCode::kInvalidConfig,
                  what + ": '" + address + "' is not HOST:PORT with a port from 0 to 65535");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return bad();
  int port = 0;
  for (size_t i = colon + 1; i < address.size(); i++) {
    if (address[i] < '0' || address[i] > '9') return bad();
    port = port * 10 + (address[i] - '0');
    if (port > 65535) return bad();
  }
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(host, port);
}

}  // namespace mq::metrics
