// DynamicSettings: the per-broker overrides file, validation of changes,
// and laying the overrides over the config file's values.
#include "broker/dynamic_settings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/support/temp_dir.h"

namespace mq::broker {
namespace {

void write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(DynamicSettingsTest, NoFileMeansNoOverrides) {
  mq::testing::TempDir dir;
  Result<DynamicSettings> loaded = DynamicSettings::load(dir.path());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_TRUE(loaded->values().empty());
  BrokerConfig file;
  file.retention_check_interval_ms = 1234;
  Result<BrokerConfig> applied = loaded->apply(file);
  ASSERT_TRUE(applied.is_ok());
  EXPECT_EQ(applied->retention_check_interval_ms, 1234);
}

TEST(DynamicSettingsTest, ChangesAreValidatedSavedAndLaidOverTheFile) {
  mq::testing::TempDir dir;
  DynamicSettings none;
  Result<DynamicSettings> next = none.changed({{"log.retention_ms", "3600000"},
                                               {"topics.auto_create", "true"},
                                               {"logging.level", "debug"}});
  ASSERT_TRUE(next.is_ok()) << next.status().to_string();
  ASSERT_TRUE(next->save(dir.path()).is_ok());

  Result<DynamicSettings> loaded = DynamicSettings::load(dir.path());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ(loaded->values(), next->values());
  BrokerConfig file;
  file.auto_create_topics = false;
  Result<BrokerConfig> applied = loaded->apply(file);
  ASSERT_TRUE(applied.is_ok());
  EXPECT_TRUE(applied->auto_create_topics);
  EXPECT_EQ(applied->log_level, "debug");
  const Setting& retention =
      *std::ranges::find(settings(), std::string("log.retention_ms"), &Setting::key);
  EXPECT_EQ(value_text(retention, *applied), "3600000");

  // Deleting an override lets the file's value apply again.
  Result<DynamicSettings> fewer = loaded->changed({{"topics.auto_create", std::nullopt}});
  ASSERT_TRUE(fewer.is_ok());
  EXPECT_FALSE(fewer->values().contains("topics.auto_create"));
  EXPECT_FALSE(fewer->apply(file)->auto_create_topics);
}

TEST(DynamicSettingsTest, UnknownStaticAndBadValuesAreRefusedAllOrNothing) {
  DynamicSettings none;
  struct Case {
    SettingChange change;
    ErrorCode code;
    const char* says;
  } cases[] = {
      {{"log.retention", "1"}, ErrorCode::kInvalidConfig, "unknown broker setting"},
      {{"data_dir", "/tmp"}, ErrorCode::kInvalidRequest, "needs a restart"},
      {{"node_id", "7"}, ErrorCode::kInvalidRequest, "needs a restart"},
      {{"log.retention_ms", "1h"}, ErrorCode::kInvalidConfig, "is not an integer"},
      {{"log.retention_ms", ""}, ErrorCode::kInvalidConfig, "is not an integer"},
      {{"topics.auto_create", "yes"}, ErrorCode::kInvalidConfig, "is not true or false"},
      {{"log.fsync", "sometimes"}, ErrorCode::kInvalidConfig, "log.fsync"},
  };
  for (const Case& c : cases) {
    Result<DynamicSettings> next = none.changed({{"logging.level", "warn"}, c.change});
    ASSERT_FALSE(next.is_ok()) << c.change.key;
    EXPECT_EQ(next.code(), c.code) << c.change.key << ": " << next.status().to_string();
    EXPECT_NE(next.status().message().find(c.says), std::string::npos)
        << c.change.key << ": " << next.status().message();
  }
}

TEST(DynamicSettingsTest, ABadFileIsRefusedNamingItAndTheKey) {
  mq::testing::TempDir dir;
  std::string path = dir.file(DynamicSettings::kFileName);
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"not json", "not a JSON object"},
      {"[1, 2]", "not a JSON object"},
      {R"({"log.retention_ms": 5})", "log.retention_ms: the value must be a string"},
      {R"({"nope": "1"})", "unknown broker setting \"nope\""},
      {R"({"data_dir": "/x"})", "data_dir needs a restart"},
      {R"({"log.retention_ms": "soon"})", "\"soon\" is not an integer"},
  };
  for (const Case& c : cases) {
    write(path, c.text);
    Result<DynamicSettings> loaded = DynamicSettings::load(dir.path());
    ASSERT_FALSE(loaded.is_ok()) << c.text;
    EXPECT_EQ(loaded.code(), ErrorCode::kInvalidConfig) << c.text;
    EXPECT_NE(loaded.status().message().find(path), std::string::npos) << loaded.status().message();
    EXPECT_NE(loaded.status().message().find(c.says), std::string::npos)
        << c.text << ": " << loaded.status().message();
  }
}

}  // namespace
}  // namespace mq::broker
