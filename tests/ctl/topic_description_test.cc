// `topic describe` output: every partition, a missing leader as null/"none",
// offsets that could not be read as null/"-", and what was not read summed up.
#include "ctl/topic_description.h"

#include <gtest/gtest.h>

namespace mq::ctl {
namespace {

using json = nlohmann::ordered_json;

client::TopicInfo rf1() {
  client::TopicInfo topic{.name = "rf1"};
  topic.partitions = {
      {.partition = 0,
       .error = ErrorCode::kLeaderNotAvailable,
       .leader_id = -1,
       .leader_epoch = 1,
       .replicas = {2},
       .isr = {},
       .offline_replicas = {2}},
      {.partition = 1, .leader_id = 3, .leader_epoch = 0, .replicas = {3}, .isr = {3}},
  };
  return topic;
}

// Partition 1 read; partition 0 not, as Admin::list_offsets_each says it.
PartitionOffsets offsets(int64_t of_partition_1) {
  PartitionOffsets out;
  out.insert_or_assign({"rf1", 0}, Status(ErrorCode::kLeaderNotAvailable, "rf1-0 has no leader"));
  out.insert_or_assign({"rf1", 1}, client::ListedOffset{.offset = of_partition_1});
  return out;
}

TEST(TopicDescription, EveryPartitionIsListedWithNullsForWhatIsUnknown) {
  std::vector<client::ConfigEntry> configs = {
      {.name = "min.insync.replicas", .value = "1", .source = transport::ConfigSource::kDefault}};
  json doc = topic_description_json(rf1(), offsets(0), offsets(42), configs);
  EXPECT_EQ(doc["name"], "rf1");
  ASSERT_EQ(doc["partitions"].size(), 2u);
  const json& p0 = doc["partitions"][0];
  EXPECT_TRUE(p0["leader"].is_null());
  EXPECT_EQ(p0["leader_epoch"], 1);
  EXPECT_EQ(p0["replicas"], json::array({2}));
  EXPECT_EQ(p0["isr"], json::array());
  EXPECT_EQ(p0["offline_replicas"], json::array({2}));
  EXPECT_TRUE(p0["log_start_offset"].is_null());
  EXPECT_TRUE(p0["high_watermark"].is_null());
  const json& p1 = doc["partitions"][1];
  EXPECT_EQ(p1["leader"], 3);
  EXPECT_EQ(p1["log_start_offset"], 0);
  EXPECT_EQ(p1["high_watermark"], 42);
  EXPECT_EQ(doc["configs"][0]["name"], "min.insync.replicas");

  std::string table = topic_descriptions_table(json::array({doc}));
  EXPECT_NE(table.find("PARTITION  LEADER  EPOCH  REPLICAS  ISR  OFFLINE  LOG-START  "
                       "HIGH-WATERMARK\n"
                       "0          none    1      2              2        -          -\n"
                       "1          3       0      3         3             0          42\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("min.insync.replicas"), std::string::npos) << table;
}

TEST(TopicDescription, ConfigsThatCouldNotBeReadAreNull) {
  json doc = topic_description_json(rf1(), offsets(0), offsets(1), std::nullopt);
  EXPECT_TRUE(doc["configs"].is_null());
  std::string table = topic_descriptions_table(json::array({doc}));
  EXPECT_NE(table.find("(the configs could not be read)"), std::string::npos) << table;
}

TEST(TopicDescription, TheUnreadOffsetsAreSummedUpWithTheirCause) {
  EXPECT_EQ(unread_offsets_summary(rf1(), offsets(0), offsets(1)),
            "offsets of 1 of 2 partitions could not be read: rf1-0 has no leader "
            "(LEADER_NOT_AVAILABLE)");
  PartitionOffsets all;
  all.insert_or_assign({"rf1", 0}, client::ListedOffset{.offset = 5});
  all.insert_or_assign({"rf1", 1}, client::ListedOffset{.offset = 6});
  EXPECT_EQ(unread_offsets_summary(rf1(), all, all), "");

  // A leader that did not answer the high-watermark lookup only.
  PartitionOffsets ends = all;
  ends.insert_or_assign({"rf1", 1}, Status(ErrorCode::kRequestTimedOut, "no answer from 3"));
  EXPECT_EQ(unread_offsets_summary(rf1(), all, ends),
            "offsets of 1 of 2 partitions could not be read: no answer from 3 "
            "(REQUEST_TIMED_OUT)");
  json doc = topic_description_json(rf1(), all, ends, std::nullopt);
  EXPECT_EQ(doc["partitions"][1]["log_start_offset"], 6);
  EXPECT_TRUE(doc["partitions"][1]["high_watermark"].is_null());
}

}  // namespace
}  // namespace mq::ctl
