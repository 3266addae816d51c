// A real Prometheus server (Debian's prometheus) on loopback scrapes a real
// mqd every second with docs/prometheus/*.yml loaded: the mq_ series arrive,
// every rule evaluates without error, the recording rules produce series and
// every query of docs/grafana/mq.json is valid PromQL.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "client/admin.h"
#include "client/producer.h"
#include "tests/support/eventually.h"
#include "tests/support/free_port.h"
#include "tests/support/mqd_process.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using mq::testing::eventually;
using mq::testing::free_port;
using mq::testing::MqdProcess;
using mq::testing::TempDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Prometheus answers over HTTP and scrapes every second: poll it every 200 ms.
constexpr std::chrono::milliseconds kPoll = 200ms;

class PrometheusServer {
 public:
  // Writes its config beside `dir`'s TSDB and starts it, logging to dir/prometheus.log.
  bool start(const std::string& dir, int mqd_http_port) {
    port_ = free_port();
    if (port_ <= 0) return false;
    std::string config = dir + "/prometheus.yml";
    std::string docs = std::string(MQ_SOURCE_DIR) + "/docs/prometheus/";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " << docs << "recording.yml\n  - " << docs
                          << "alerts.yml\n"
                          << "scrape_configs:\n  - job_name: mq\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:" << mqd_http_port << "']\n";
    log_path_ = dir + "/prometheus.log";
    std::vector<std::string> args = {"prometheus", "--config.file=" + config,
                                     "--storage.tsdb.path=" + dir + "/tsdb",
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port_)};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    int rc = posix_spawnp(&pid_, "prometheus", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      return false;
    }
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_connection_timeout(1);
    client_->set_read_timeout(5);
    return eventually(
        [this] {
          auto res = client_->Get("/-/ready");
          return res && res->status == 200;
        },
        30s, kPoll);
  }
  ~PrometheusServer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    ::waitpid(pid_, &status, 0);
  }

  // GET path?params as JSON; null when the request or the parse fails.
  nlohmann::json get(const std::string& path, const httplib::Params& params = {}) {
    auto res = client_->Get(path, params, httplib::Headers{});
    if (!res) return nullptr;
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    return j.is_discarded() ? nlohmann::json(nullptr) : j;
  }
  // The samples an instant query returns (empty on error).
  nlohmann::json query(const std::string& promql) {
    nlohmann::json j = get("/api/v1/query", {{"query", promql}});
    if (j.is_null() || j["status"] != "success") return nlohmann::json::array();
    return j["data"]["result"];
  }
  std::string log() const { return read_file(log_path_); }

 private:
  pid_t pid_ = -1;
  int port_ = -1;
  std::string log_path_;
  std::unique_ptr<httplib::Client> client_;
};

class PrometheusServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<MqdProcess>(dir_.file("data"));
    ASSERT_TRUE(broker_->start()) << broker_->log();
    // A topic with records, so the per-topic and per-partition series exist.
    mq::client::AdminConfig admin_config;
    admin_config.bootstrap_servers = broker_->endpoint();
    auto admin = mq::client::Admin::create(admin_config);
    ASSERT_TRUE(admin.is_ok()) << admin.status().to_string();
    auto created =
        (*admin)->create_topics({{.name = "orders", .num_partitions = 2, .replication_factor = 1}});
    ASSERT_TRUE(created.is_ok() && (*created)[0].status.is_ok());
    mq::client::ProducerConfig producer_config;
    producer_config.bootstrap_servers = broker_->endpoint();
    auto producer = mq::client::Producer::create(producer_config);
    ASSERT_TRUE(producer.is_ok()) << producer.status().to_string();
    for (int i = 0; i < 10; i++) {
      auto sent = (*producer)->send_sync(
          {.topic = "orders", .value = "order " + std::to_string(i), .partition = i % 2});
      ASSERT_TRUE(sent.is_ok()) << sent.status().to_string();
    }
    ASSERT_TRUE(prometheus_.start(dir_.path(), broker_->http_port())) << prometheus_.log();
  }

  TempDir dir_;
  std::unique_ptr<MqdProcess> broker_;
  PrometheusServer prometheus_;
};

TEST_F(PrometheusServerTest, ScrapesMqdAndEvaluatesTheRulesAndDashboardQueries) {
  ASSERT_TRUE(eventually(
      [&] {
        return !prometheus_.query("mq_partition_log_end_offset{job=\"mq\", topic=\"orders\"}")
                    .empty();
      },
      60s, kPoll))
      << "no mq_ series after 60 s\n"
      << prometheus_.log();

  nlohmann::json up = prometheus_.query("up{job=\"mq\"}");
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0]["value"][1], "1");
  nlohmann::json produced = prometheus_.query("sum(mq_produced_messages_total{topic=\"orders\"})");
  ASSERT_EQ(produced.size(), 1u);
  EXPECT_EQ(produced[0]["value"][1], "10");
  nlohmann::json end_offsets = prometheus_.query("mq_partition_log_end_offset{topic=\"orders\"}");
  EXPECT_EQ(end_offsets.size(), 2u) << "one series per partition";
  EXPECT_FALSE(prometheus_.query("process_open_fds{job=\"mq\"}").empty());

  // Every rule group loads and every rule evaluates cleanly against real series.
  bool rules_ok = eventually(
      [&] {
        nlohmann::json rules = prometheus_.get("/api/v1/rules");
        if (rules.is_null() || rules["status"] != "success") return false;
        int evaluated = 0;
        for (const auto& group : rules["data"]["groups"]) {
          for (const auto& rule : group["rules"]) {
            if (rule["health"] != "ok") return false;
            evaluated++;
          }
        }
        return evaluated >= 20;
      },
      30s, kPoll);
  EXPECT_TRUE(rules_ok) << prometheus_.get("/api/v1/rules").dump(2);
  EXPECT_TRUE(eventually(
      [&] {
        return prometheus_.query("topic:mq_produced_messages:rate1m{topic=\"orders\"}").size() ==
                   1 &&
               !prometheus_.query("topic:mq_partition_retained_offsets:sum{topic=\"orders\"}")
                    .empty();
      },
      30s, kPoll))
      << "the recording rules produced no series";
  nlohmann::json retained =
      prometheus_.query("topic:mq_partition_retained_offsets:sum{topic=\"orders\"}");
  ASSERT_EQ(retained.size(), 1u);
  EXPECT_EQ(retained[0]["value"][1], "10");
  // An idle healthy broker raises no alert, except the disk alerts: they follow
  // the host's disk, which the test does not control, so one that is raised
  // must agree with what the broker itself reports of its disk.
  for (const auto& alert : prometheus_.query("ALERTS")) {
    std::string name = alert["metric"].value("alertname", "");
    if (name == "MqDiskFillingUp") {
      EXPECT_FALSE(
          prometheus_.query("mq_storage_free_bytes / mq_storage_total_bytes < 0.15").empty())
          << "raised while the broker reports 15 % or more free: " << alert.dump(2);
    } else if (name == "MqDiskFull") {
      EXPECT_FALSE(prometheus_.query("mq_storage_full == 1").empty())
          << "raised while the broker does not report a full disk: " << alert.dump(2);
    } else {
      ADD_FAILURE() << "an idle healthy broker raises no alert: " << alert.dump(2);
    }
  }

  // The dashboard's queries, with Grafana's variables filled in as Grafana would.
  nlohmann::json dashboard =
      nlohmann::json::parse(read_file(std::string(MQ_SOURCE_DIR) + "/docs/grafana/mq.json"));
  int queries = 0;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel.value("targets", nlohmann::json::array())) {
      std::string expr = target["expr"];
      for (auto [var, value] :
           {std::pair<std::string, std::string>{"$instance", ".*"}, {"$__rate_interval", "1m"}}) {
        for (size_t at; (at = expr.find(var)) != std::string::npos;)
          expr.replace(at, var.size(), value);
      }
      nlohmann::json answer = prometheus_.get("/api/v1/query", {{"query", expr}});
      EXPECT_EQ(answer.value("status", "no answer"), "success")
          << panel["title"] << ": " << expr << "\n"
          << answer.dump();
      queries++;
    }
  }
  EXPECT_GE(queries, 30);
}

}  // namespace
