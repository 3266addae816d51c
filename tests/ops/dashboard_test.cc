// docs/grafana/mq.json and docs/prometheus/*.yml only use metrics mqd
// exports: every mq_ and process_ name in their queries is listed in
// docs/metrics.md or docs/groups.md (histograms by their _bucket, _sum and
// _count series), and every listed metric has a panel.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

namespace {

std::string read_source_file(const std::string& relative) {
  std::ifstream in(std::string(MQ_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(in) << relative << " is missing";
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Metric name -> type, from the tables of docs/metrics.md and of
// docs/groups.md (which documents the consumer group metrics):
// "| `name` | type |".
std::map<std::string, std::string> documented_metrics() {
  std::map<std::string, std::string> metrics;
  for (const char* file : {"docs/metrics.md", "docs/groups.md"}) {
    std::string doc = read_source_file(file);
    std::regex row(R"(\n\| `((?:mq|process)_[a-z0-9_]+)` \| (counter|gauge|histogram) \|)");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator();
         ++it) {
      metrics[(*it)[1]] = (*it)[2];
    }
  }
  return metrics;
}

// The mq_ and process_ names a query reads. Recording rule names carry
// colons (topic:mq_produced_messages:rate1m), so they do not match.
std::set<std::string> metric_names_in(const std::string& query) {
  std::set<std::string> names;
  std::regex name(R"((^|[^a-zA-Z0-9_:])((?:mq|process)_[a-zA-Z0-9_]+))");
  for (auto it = std::sregex_iterator(query.begin(), query.end(), name);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[2]);
  }
  return names;
}

// Empty when `name` is documented; otherwise what is wrong with it.
std::string check_name(const std::map<std::string, std::string>& documented,
                       const std::string& name) {
  if (documented.count(name) > 0) {
    return documented.at(name) == "histogram" ? name +
                                                    " is a histogram: query its _bucket, _sum "
                                                    "or _count series"
                                              : "";
  }
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s)) {
      auto it = documented.find(name.substr(0, name.size() - s.size()));
      if (it != documented.end() && it->second == "histogram") return "";
    }
  }
  return name + " is not in docs/metrics.md or docs/groups.md";
}

void collect_exprs(const nlohmann::json& node, std::vector<std::string>* out) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "expr" && value.is_string()) {
        out->push_back(value.get<std::string>());
      } else {
        collect_exprs(value, out);
      }
    }
  } else if (node.is_array()) {
    for (const auto& value : node) collect_exprs(value, out);
  }
}

TEST(Dashboard, ReadsTheMetricsTables) {
  std::map<std::string, std::string> documented = documented_metrics();
  EXPECT_EQ(documented["mq_requests_total"], "counter");
  EXPECT_EQ(documented["mq_request_duration_seconds"], "histogram");
  EXPECT_EQ(documented["process_open_fds"], "gauge");
  EXPECT_EQ(documented["mq_group_total_lag"], "gauge");
  EXPECT_EQ(check_name(documented, "mq_request_duration_seconds_bucket"), "");
  EXPECT_NE(check_name(documented, "mq_request_duration_seconds"), "");
  EXPECT_NE(check_name(documented, "mq_requests_total_bucket"), "");
  EXPECT_NE(check_name(documented, "mq_no_such_metric"), "");
  EXPECT_EQ(metric_names_in("topic:mq_produced_messages:rate1m / rate(mq_fetched_bytes_total[1m])"),
            std::set<std::string>{"mq_fetched_bytes_total"});
}

TEST(Dashboard, ParsesAndQueriesOnlyDocumentedMetrics) {
  nlohmann::json dashboard =
      nlohmann::json::parse(read_source_file("docs/grafana/mq.json"), nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << "docs/grafana/mq.json is not valid JSON";
  EXPECT_EQ(dashboard["uid"], "mq-broker");
  ASSERT_TRUE(dashboard["panels"].is_array());

  std::map<std::string, std::string> documented = documented_metrics();
  std::vector<std::string> exprs;
  collect_exprs(dashboard, &exprs);
  EXPECT_GE(exprs.size(), 30u);
  std::set<std::string> used;
  for (const std::string& expr : exprs) {
    for (const std::string& name : metric_names_in(expr)) {
      used.insert(name);
      std::string problem = check_name(documented, name);
      EXPECT_EQ(problem, "") << "in " << expr;
    }
  }
  // Every documented metric has a panel.
  for (const auto& [name, type] : documented) {
    bool shown =
        used.count(name) > 0 || used.count(name + "_bucket") > 0 || used.count(name + "_count") > 0;
    EXPECT_TRUE(shown) << name << " (docs/metrics.md or docs/groups.md) is on no dashboard panel";
  }
}

TEST(PrometheusRules, QueryOnlyDocumentedMetrics) {
  std::map<std::string, std::string> documented = documented_metrics();
  for (const char* file : {"docs/prometheus/alerts.yml", "docs/prometheus/recording.yml"}) {
    std::istringstream lines(read_source_file(file));
    std::string line;
    int number = 0;
    while (std::getline(lines, line)) {
      number++;
      if (line.find_first_not_of(' ') != std::string::npos &&
          line[line.find_first_not_of(' ')] == '#') {
        continue;
      }
      for (const std::string& name : metric_names_in(line)) {
        EXPECT_EQ(check_name(documented, name), "") << file << ":" << number << ": " << line;
      }
    }
  }
}

}  // namespace
