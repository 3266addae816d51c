// The broker's one HTTP server (cpp-httplib): /metrics in the Prometheus text
// format, /healthz, /readyz and the JSON status at /v1/status; optionally
// over TLS, and with a bearer token asked of every client not on loopback
// for everything but /healthz and /readyz (docs/security.md, "HTTP").
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace prometheus {
class Collectable;
}
namespace httplib {
class Server;
}

namespace mq::metrics {

struct HttpHandlers {
  // 200 "ok" when true, 503 with the reason otherwise.
  std::function<bool(std::string* why)> healthy;
  std::function<bool(std::string* why)> ready;
  // The body of GET /v1/status (application/json).
  std::function<std::string()> status_json;
};

struct HttpSecurity {
  // Required of clients not on loopback ("Authorization: Bearer TOKEN"),
  // for everything but /healthz and /readyz; empty: none asked.
  std::string token;
  // The token asked of loopback clients too.
  bool token_loopback = false;
  // TLS: PEM files of the certificate (chain) and its private key; empty:
  // plain HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// Whether a peer address (as the server reports it) is a loopback one.
bool is_loopback_address(const std::string& address);

class HttpServer {
 public:
  // /metrics serves the samples of every collectable (a prometheus::Registry,
  // a ProcessCollector, ...) in order.
  HttpServer(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
             HttpHandlers handlers);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a collectable whose source exists only later (e.g. after recovery).
  void add_collectable(std::shared_ptr<prometheus::Collectable> collectable);

  // Binds `host:port` (port 0: any free port) and serves on a thread of its own.
  Status start(const std::string& host, int port, const HttpSecurity& security = {});
  int port() const { return port_; }
  void stop();

  // A new token (SIGHUP); empty: none asked any more.
  void set_token(std::string token);
  // Requests refused for a missing or wrong token.
  uint64_t unauthorized() const { return unauthorized_.load(std::memory_order_relaxed); }

 private:
  std::mutex collectables_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  HttpHandlers handlers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
  std::mutex token_mu_;
  std::string token_;
  std::atomic<uint64_t> unauthorized_{0};
  bool token_loopback_ = false;
};

// Splits "host:port" (port 0-65535); the error names `what`.
Result<std::pair<std::string, int>> parse_host_port(const std::string& address,
                                                    const std::string& what);

}  // namespace mq::metrics
