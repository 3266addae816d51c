// HttpServer: /metrics in Prometheus text format, health probes, status JSON.
#include "metrics/http_server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>

#include "metrics/process_collector.h"

namespace mq::metrics {
namespace {

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::make_shared<prometheus::Registry>();
    auto& family = prometheus::BuildCounter()
                       .Name("mq_test_requests_total")
                       .Help("Requests.")
                       .Register(*registry_);
    family.Add({{"api", "produce"}}).Increment(3);
    HttpHandlers handlers;
    handlers.healthy = [this](std::string* why) {
      *why = "event loop stalled";
      return healthy_.load();
    };
    handlers.ready = [this](std::string* why) {
      *why = "recovering logs";
      return ready_.load();
    };
    handlers.status_json = [] { return std::string(R"({"node":1})"); };
    server_ = std::make_unique<HttpServer>(
        std::vector<std::shared_ptr<prometheus::Collectable>>{registry_,
                                                              std::make_shared<ProcessCollector>()},
        handlers);
    ASSERT_TRUE(server_->start("127.0.0.1", 0).is_ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::atomic<bool> healthy_{true};
  std::atomic<bool> ready_{false};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpServerTest, ServesMetricsInPrometheusTextFormat) {
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  EXPECT_NE(res->body.find("# TYPE mq_test_requests_total counter"), std::string::npos);
  EXPECT_NE(res->body.find("mq_test_requests_total{api=\"produce\"} 3"), std::string::npos);
  EXPECT_NE(res->body.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(res->body.find("process_open_fds "), std::string::npos);
  EXPECT_NE(res->body.find("process_cpu_seconds_total "), std::string::npos);
}

TEST_F(HttpServerTest, ProbesFollowTheirChecks) {
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ready = client_->Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(ready->body, "recovering logs\n");
  ready_ = true;
  EXPECT_EQ(client_->Get("/readyz")->status, 200);
  healthy_ = false;
  EXPECT_EQ(client_->Get("/healthz")->status, 503);
}

TEST_F(HttpServerTest, ServesStatusJsonAnd404sTheRest) {
  auto status = client_->Get("/v1/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->body, R"({"node":1})");
  EXPECT_EQ(status->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(client_->Get("/nope")->status, 404);
}

TEST_F(HttpServerTest, RefusesAPortInUse) {
  HttpServer other({registry_}, {});
  Status st = other.start("127.0.0.1", server_->port());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(st.message().find(std::to_string(server_->port())), std::string::npos);
}

TEST(ParseHostPort, AcceptsHostPortAndRejectsTheRest) {
  auto ok = parse_host_port("127.0.0.1:9644", "http.address");
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->first, "127.0.0.1");
  EXPECT_EQ(ok->second, 9644);
  EXPECT_EQ(parse_host_port("[::1]:80", "x")->first, "::1");
  for (const char* bad : {"127.0.0.1", ":80", "host:", "host:99999", "host:12a"}) {
    auto r = parse_host_port(bad, "http.address");
    EXPECT_EQ(r.code(), ErrorCode::kInvalidConfig) << bad;
    EXPECT_NE(r.status().message().find("http.address"), std::string::npos);
  }
}

}  // namespace
}  // namespace mq::metrics
