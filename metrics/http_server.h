// The broker's one HTTP server (cpp-httplib): /metrics in the Prometheus text
// format, /healthz, /readyz and the JSON status at /v1/status.
#pragma once

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
  Status start(const std::string& host, int port);
  int port() const { return port_; }
  void stop();

 private:
  std::mutex collectables_mu_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  HttpHandlers handlers_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = -1;
};

// Splits "host:port" (port 0-65535); the error names `what`.
Result<std::pair<std::string, int>> parse_host_port(const std::string& address,
                                                    const std::string& what);

}  // namespace mq::metrics
