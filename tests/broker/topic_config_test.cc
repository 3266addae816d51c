// Topic settings: validation, overrides over broker defaults, topic names.
#include "broker/topic_config.h"

#include <gtest/gtest.h>

#include <map>

namespace mq::broker {
namespace {

TEST(TopicConfig, OverridesWinOverBrokerDefaults) {
  BrokerConfig defaults;
  defaults.log.retention_ms = 1000;
  defaults.min_insync_replicas = 1;
  EffectiveTopicConfig c = effective_topic_config(
      defaults, {{"retention.ms", "5000"}, {"fsync", "always"}, {"min.insync.replicas", "2"}});
  EXPECT_EQ(c.log.retention_ms, 5000);
  EXPECT_EQ(c.log.fsync_policy, FsyncPolicy::kAlways);
  EXPECT_EQ(c.min_insync_replicas, 2);
  EXPECT_EQ(effective_topic_config(defaults, {}).log.retention_ms, 1000);
}

TEST(TopicConfig, UncleanLeaderElectionIsATopicSettingDefaultingToTheClusters) {
  BrokerConfig defaults;
  EXPECT_FALSE(effective_topic_config(defaults, {}).unclean_leader_election);
  defaults.cluster.unclean_leader_election = true;
  EXPECT_TRUE(effective_topic_config(defaults, {}).unclean_leader_election);
  EXPECT_FALSE(effective_topic_config(defaults, {{"unclean.leader.election.enable", "false"}})
                   .unclean_leader_election);
  EXPECT_TRUE(validate_topic_config("unclean.leader.election.enable", "true").is_ok());
  Status bad = validate_topic_config("unclean.leader.election.enable", "maybe");
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidConfig);
  EXPECT_NE(bad.message().find("must be true or false"), std::string::npos) << bad.to_string();
}

TEST(TopicConfig, DescribeMarksDefaultsAndOverrides) {
  BrokerConfig defaults;
  auto described = describe_topic_config(defaults, {{"segment.bytes", "4096"}});
  bool saw_segment = false, saw_retention = false;
  for (const auto& d : described) {
    if (d.name == "segment.bytes") {
      saw_segment = true;
      EXPECT_EQ(d.value, "4096");
      EXPECT_FALSE(d.is_default);
    }
    if (d.name == "retention.ms") {
      saw_retention = true;
      EXPECT_TRUE(d.is_default);
      EXPECT_EQ(d.value, std::to_string(defaults.log.retention_ms));
    }
  }
  EXPECT_TRUE(saw_segment && saw_retention);
}

TEST(TopicConfig, RejectsUnknownKeysAndBadValuesByName) {
  EXPECT_TRUE(validate_topic_config("retention.ms", "-1").is_ok());
  EXPECT_TRUE(validate_topic_config("message.timestamp.type", "LogAppendTime").is_ok());
  struct Case {
    const char* key;
    const char* value;
  };
  for (const Case& c :
       {Case{"retention.msec", "1"}, Case{"retention.ms", "soon"}, Case{"retention.ms", "-2"},
        Case{"segment.bytes", "10"}, Case{"fsync", "sometimes"},
        Case{"cleanup.policy", "compacted"}, Case{"min.cleanable.dirty.ratio", "1.5"},
        Case{"min.cleanable.dirty.ratio", "half"}, Case{"delete.retention.ms", "-1"},
        Case{"min.compaction.lag.ms", "-1"}, Case{"max.message.bytes", "1e9"},
        Case{"retention.ms", "12 "}}) {
    Status st = validate_topic_config(c.key, c.value);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidConfig) << c.key << "=" << c.value;
    EXPECT_EQ(st.message().rfind(c.key, 0), 0u) << st.message();
  }
}

TEST(TopicConfig, CompactionSettingsMapOntoTheLog) {
  BrokerConfig defaults;
  EXPECT_EQ(effective_topic_config(defaults, {}).log.cleanup_policy, CleanupPolicy::kDelete);
  EffectiveTopicConfig c = effective_topic_config(defaults, {{"cleanup.policy", "compact,delete"},
                                                             {"delete.retention.ms", "1000"},
                                                             {"min.compaction.lag.ms", "2000"},
                                                             {"min.cleanable.dirty.ratio", "0.1"}});
  EXPECT_EQ(c.log.cleanup_policy, CleanupPolicy::kCompactDelete);
  EXPECT_EQ(c.log.delete_retention_ms, 1000);
  EXPECT_EQ(c.log.min_compaction_lag_ms, 2000);
  EXPECT_DOUBLE_EQ(c.log.min_cleanable_dirty_ratio, 0.1);
  for (const char* policy : {"compact", "delete", "compact,delete"}) {
    EXPECT_TRUE(validate_topic_config("cleanup.policy", policy).is_ok()) << policy;
  }
  std::map<std::string, std::string> described;
  for (const auto& d : describe_topic_config(defaults, {{"cleanup.policy", "compact"}})) {
    described[d.name] = d.value;
  }
  EXPECT_EQ(described["cleanup.policy"], "compact");
  EXPECT_EQ(described["min.cleanable.dirty.ratio"], "0.5");
  EXPECT_EQ(described["delete.retention.ms"], "86400000");
}

TEST(TopicConfig, ValidatesTopicNamesLikeKafka) {
  for (const char* ok : {"orders", "a", "orders.v2", "x_y-z", "__consumer_offsets"}) {
    EXPECT_TRUE(validate_topic_name(ok).is_ok()) << ok;
  }
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."), std::string("has space"),
        std::string("slash/"), std::string(250, 'a'), std::string("ünï")}) {
    EXPECT_EQ(validate_topic_name(bad).code(), ErrorCode::kInvalidTopic) << bad;
  }
}

}  // namespace
}  // namespace mq::broker
