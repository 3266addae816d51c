// The broker list and the health evaluation of mqctl: which findings each
// cluster state gives, the counts, and how they print.
#include "ctl/cluster_report.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

client::RegisteredBroker broker(int32_t id, bool fenced = false, bool shutting_down = false) {
  return {.broker = {id, "10.0.0." + std::to_string(id), 9092, std::nullopt},
          .fenced = fenced,
          .in_controlled_shutdown = shutting_down};
}

client::PartitionInfo partition(int32_t index, int32_t leader, std::vector<int32_t> replicas,
                                std::vector<int32_t> isr, std::vector<int32_t> offline = {}) {
  return {.partition = index,
          .error = leader < 0 ? ErrorCode::kLeaderNotAvailable : ErrorCode::kNone,
          .leader_id = leader,
          .leader_epoch = 3,
          .replicas = std::move(replicas),
          .isr = std::move(isr),
          .offline_replicas = std::move(offline)};
}

// Three brokers, all answering, one topic `t` with min.insync.replicas `min_isr`.
HealthInput healthy_cluster(int32_t min_isr = 2) {
  HealthInput input{.controller_id = 1};
  for (int32_t id : {1, 2, 3}) input.brokers.push_back({broker(id), Status::ok()});
  client::TopicInfo t{.name = "t"};
  t.partitions = {partition(0, 1, {1, 2, 3}, {1, 2, 3}), partition(1, 2, {2, 3, 1}, {2, 3, 1})};
  input.topics["t"] = t;
  input.min_insync_replicas.insert_or_assign("t", min_isr);
  return input;
}

std::vector<std::string> kinds(const HealthReport& report) {
  std::vector<std::string> out;
  for (const Finding& f : report.findings) out.emplace_back(finding_kind_name(f.kind));
  return out;
}

TEST(ClusterReport, AHealthyClusterHasNoFindings) {
  HealthInput input = healthy_cluster();
  HealthReport report = evaluate_health(input);
  EXPECT_TRUE(report.healthy());
  EXPECT_EQ(report.partitions.total, 2);
  EXPECT_EQ(report.partitions.offline + report.partitions.under_min_isr +
                report.partitions.under_replicated,
            0);
  json doc = health_json(input, report);
  EXPECT_EQ(doc["healthy"], true);
  EXPECT_EQ(doc["controller_id"], 1);
  EXPECT_EQ(doc["brokers"].size(), 3u);
  EXPECT_EQ(doc["brokers"][0]["reachable"], true);
  EXPECT_FALSE(doc["brokers"][0].contains("error"));
  EXPECT_TRUE(doc["findings"].empty());
  EXPECT_TRUE(doc["leaderless_partitions"].empty());
  EXPECT_EQ(doc.begin().key(), "healthy") << "scripts grep for the first key";
}

// The issue's incident: broker 2 SIGKILLed and fenced. rf1-0 lived on it
// alone; t's partitions lost it from their ISR.
HealthInput incident() {
  HealthInput input{.controller_id = 1};
  input.brokers = {
      {broker(1), Status::ok()},
      {broker(2, /*fenced=*/true), Status(ErrorCode::kRequestTimedOut, "no answer within 2000 ms")},
      {broker(3), Status::ok()}};
  client::TopicInfo rf1{.name = "rf1"};
  rf1.partitions = {partition(0, -1, {2}, {}, {2}), partition(1, 3, {3}, {3}),
                    partition(2, 1, {1}, {1})};
  client::TopicInfo t{.name = "t"};
  t.partitions = {partition(0, 1, {1, 2, 3}, {1, 3}, {2}), partition(1, 3, {2, 3}, {3}, {2})};
  input.topics = {{"rf1", rf1}, {"t", t}};
  input.min_insync_replicas.insert_or_assign("rf1", 1);
  input.min_insync_replicas.insert_or_assign("t", 2);
  return input;
}

TEST(ClusterReport, AFencedBrokerAndItsPartitionsAreEachNamed) {
  HealthInput input = incident();
  HealthReport report = evaluate_health(input);
  EXPECT_FALSE(report.healthy());
  EXPECT_EQ(kinds(report), (std::vector<std::string>{
                               "broker-fenced", "partition-offline", "partition-under-replicated",
                               "partition-under-min-isr", "partition-under-replicated"}));
  EXPECT_EQ(report.partitions.total, 5);
  EXPECT_EQ(report.partitions.offline, 1);
  EXPECT_EQ(report.partitions.under_min_isr, 1);
  EXPECT_EQ(report.partitions.under_replicated, 2);

  const Finding& fenced = report.findings[0];
  EXPECT_EQ(fenced.broker, 2);
  EXPECT_NE(fenced.detail.find("broker 2 (tcp://10.0.0.2:9092) is fenced"), std::string::npos)
      << fenced.detail;
  EXPECT_NE(fenced.detail.find("does not answer mqctl"), std::string::npos) << fenced.detail;
  const Finding& offline = report.findings[1];
  EXPECT_EQ(offline.topic, "rf1");
  ASSERT_TRUE(offline.partition.has_value());
  EXPECT_EQ(offline.partition->partition, 0);
  EXPECT_NE(offline.detail.find("rf1-0 has no leader (LEADER_NOT_AVAILABLE)"), std::string::npos)
      << offline.detail;
  EXPECT_NE(offline.detail.find("offline replicas [2]"), std::string::npos) << offline.detail;
  EXPECT_NE(report.findings[2].detail.find("replicas [2] of [1,2,3] are not in the ISR [1,3]"),
            std::string::npos)
      << report.findings[2].detail;
  EXPECT_NE(report.findings[3].detail.find("min.insync.replicas is 2"), std::string::npos)
      << report.findings[3].detail;

  json doc = health_json(input, report);
  EXPECT_EQ(doc["healthy"], false);
  EXPECT_EQ(doc["brokers"][1]["fenced"], true);
  EXPECT_EQ(doc["brokers"][1]["reachable"], false);
  EXPECT_NE(doc["brokers"][1]["error"].get<std::string>().find("no answer"), std::string::npos);
  EXPECT_EQ(doc["partitions"]["offline"], 1);
  EXPECT_EQ(doc["partitions"]["under_replicated"], 2);
  ASSERT_EQ(doc["findings"].size(), 5u);
  EXPECT_EQ(doc["findings"][0]["kind"], "broker-fenced");
  EXPECT_EQ(doc["findings"][0]["broker"], 2);
  EXPECT_FALSE(doc["findings"][0].contains("topic"));
  const json& rf1_0 = doc["findings"][1];
  EXPECT_EQ(rf1_0["kind"], "partition-offline");
  EXPECT_EQ(rf1_0["topic"], "rf1");
  EXPECT_EQ(rf1_0["partition"], 0);
  EXPECT_TRUE(rf1_0["leader"].is_null());
  EXPECT_EQ(rf1_0["replicas"], json::array({2}));
  EXPECT_EQ(rf1_0["offline_replicas"], json::array({2}));
  EXPECT_EQ(rf1_0["min_insync_replicas"], 1);
  EXPECT_EQ(doc["findings"][3]["min_insync_replicas"], 2);
  EXPECT_EQ(doc["leaderless_partitions"], json::parse(R"([{"topic": "rf1", "partition": 0}])"));

  std::string table = health_table(doc);
  EXPECT_EQ(table.rfind("HEALTHY     no\nCONTROLLER  1\n", 0), 0u) << table;
  EXPECT_NE(table.find("PARTITIONS  5 (1 offline, 1 under min ISR, 2 under-replicated)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("fenced"), std::string::npos) << table;
  EXPECT_NE(table.find("broker-fenced"), std::string::npos) << table;
  EXPECT_NE(table.find("broker 2"), std::string::npos) << table;
  EXPECT_NE(table.find("partition-offline           rf1-0"), std::string::npos) << table;
}

TEST(ClusterReport, UnderMinIsrIsAlsoUnderReplicatedAsTheMetricsCountThem) {
  HealthInput input = healthy_cluster(/*min_isr=*/3);
  input.topics["t"].partitions[0].isr = {1, 2};
  HealthReport report = evaluate_health(input);
  EXPECT_EQ(kinds(report),
            (std::vector<std::string>{"partition-under-min-isr", "partition-under-replicated"}));
  EXPECT_EQ(report.partitions.under_min_isr, 1);
  EXPECT_EQ(report.partitions.under_replicated, 1);
  EXPECT_NE(report.findings[0].detail.find("acks=all produce fails"), std::string::npos);
}

TEST(ClusterReport, AMinIsrAboveTheReplicationFactorIsReported) {
  // An ISR as large as the replica set can still be too small for acks=all.
  HealthInput input = healthy_cluster(/*min_isr=*/4);
  HealthReport report = evaluate_health(input);
  EXPECT_EQ(kinds(report),
            (std::vector<std::string>{"partition-under-min-isr", "partition-under-min-isr"}));
}

TEST(ClusterReport, AnOfflinePartitionIsNotAlsoCountedUnderReplicated) {
  HealthInput input = healthy_cluster();
  input.topics["t"].partitions[1] = partition(1, -1, {2, 3, 1}, {});
  HealthReport report = evaluate_health(input);
  EXPECT_EQ(kinds(report), (std::vector<std::string>{"partition-offline"}));
  EXPECT_EQ(report.partitions.offline, 1);
  EXPECT_EQ(report.partitions.under_replicated, 0);
  EXPECT_EQ(report.partitions.under_min_isr, 0);
}

TEST(ClusterReport, BrokersGetOneFindingEachWorstFirst) {
  HealthInput input = healthy_cluster();
  input.brokers = {
      {broker(3, /*fenced=*/false, /*shutting_down=*/true), Status::ok()},
      {broker(1), Status(ErrorCode::kNetworkError, "connection refused")},
      {broker(2, /*fenced=*/true, /*shutting_down=*/true), Status::ok()},
      {broker(4), Status::ok()},
  };
  HealthReport report = evaluate_health(input);
  EXPECT_EQ(kinds(report), (std::vector<std::string>{"broker-unreachable", "broker-fenced",
                                                     "broker-shutting-down"}));
  EXPECT_EQ(report.findings[0].broker, 1);
  EXPECT_NE(report.findings[0].detail.find("connection refused"), std::string::npos);
  EXPECT_NE(report.findings[1].detail.find("it answers mqctl"), std::string::npos)
      << "a fenced broker that answers is alive but cut off";
  json doc = health_json(input, report);
  EXPECT_EQ(doc["brokers"][0]["id"], 1) << "by id";
  EXPECT_EQ(doc["brokers"][2]["in_controlled_shutdown"], true);
}

TEST(ClusterReport, NoControllerIsAFinding) {
  HealthInput input = healthy_cluster();
  input.controller_id = -1;
  HealthReport report = evaluate_health(input);
  EXPECT_EQ(kinds(report), (std::vector<std::string>{"no-controller"}));
  json doc = health_json(input, report);
  EXPECT_TRUE(doc["controller_id"].is_null());
  EXPECT_NE(health_table(doc).find("CONTROLLER  none"), std::string::npos);
  EXPECT_NE(health_table(doc).find("no-controller  cluster"), std::string::npos)
      << health_table(doc);
}

TEST(ClusterReport, AnUnknownMinIsrIsNotTakenForHealthy) {
  HealthInput input = healthy_cluster();
  input.min_insync_replicas.insert_or_assign(
      "t", Status(ErrorCode::kRequestTimedOut, "no answer from the controller"));
  HealthReport report = evaluate_health(input);
  ASSERT_EQ(kinds(report), (std::vector<std::string>{"check-failed"}));
  EXPECT_EQ(report.findings[0].topic, "t");
  EXPECT_NE(report.findings[0].detail.find("no answer from the controller"), std::string::npos);
  json doc = health_json(input, report);
  EXPECT_FALSE(doc["findings"][0].contains("partition"));
  EXPECT_NE(health_table(doc).find("topic t"), std::string::npos) << health_table(doc);

  // Not read at all is the same; a topic whose partitions are all offline needs none.
  input.min_insync_replicas.clear();
  EXPECT_EQ(kinds(evaluate_health(input)), (std::vector<std::string>{"check-failed"}));
  input.topics["t"].partitions = {partition(0, -1, {1}, {})};
  EXPECT_EQ(kinds(evaluate_health(input)), (std::vector<std::string>{"partition-offline"}));
}

TEST(ClusterReport, MinInsyncReplicasIsReadFromTheConfigs) {
  using Entries = std::vector<client::ConfigEntry>;
  auto entries = [](std::optional<std::string> value) {
    return Result<Entries>(Entries{{.name = "retention.ms", .value = "1"},
                                   {.name = "min.insync.replicas", .value = std::move(value)}});
  };
  EXPECT_EQ(*min_insync_replicas_of(entries("2")), 2);
  EXPECT_FALSE(min_insync_replicas_of(entries("two")).is_ok());
  EXPECT_FALSE(min_insync_replicas_of(entries("0")).is_ok());
  EXPECT_FALSE(min_insync_replicas_of(entries(std::nullopt)).is_ok());
  EXPECT_FALSE(min_insync_replicas_of(Result<Entries>(Entries{})).is_ok());
  Result<int32_t> failed =
      min_insync_replicas_of(Result<Entries>(Status(ErrorCode::kUnknownTopicOrPartition, "gone")));
  EXPECT_EQ(failed.code(), ErrorCode::kUnknownTopicOrPartition);
}

TEST(ClusterReport, AnUnreadableClusterIsUnhealthyWithTheError) {
  json doc = health_error_json("cannot describe the cluster through 127.0.0.1:1: timed out");
  EXPECT_EQ(doc["healthy"], false);
  EXPECT_TRUE(doc["findings"].empty());
  EXPECT_EQ(health_table(doc),
            "HEALTHY     no\n"
            "ERROR       cannot describe the cluster through 127.0.0.1:1: timed out\n");
}

TEST(ClusterReport, BrokersListFencedOnesWithTheirState) {
  client::BrokerListing listing{.cluster_id = "c", .controller_id = 1};
  listing.brokers = {broker(1), broker(2, /*fenced=*/true), broker(3, false, true)};
  listing.brokers[0].broker.rack = "a";
  json doc = brokers_json(listing);
  ASSERT_EQ(doc.size(), 3u);
  EXPECT_EQ(doc[0]["rack"], "a");
  EXPECT_EQ(doc[0]["controller"], true);
  EXPECT_EQ(doc[1]["fenced"], true);
  EXPECT_TRUE(doc[1]["rack"].is_null());
  EXPECT_EQ(doc[2]["in_controlled_shutdown"], true);
  EXPECT_EQ(brokers_table(doc),
            "ID  HOST      PORT  RACK  STATE          CONTROLLER\n"
            "1   10.0.0.1  9092  a     active         yes\n"
            "2   10.0.0.2  9092  -     fenced\n"
            "3   10.0.0.3  9092  -     shutting-down\n");
}

}  // namespace
}  // namespace mq::ctl
