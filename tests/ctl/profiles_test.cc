// profiles.toml: round trip and errors.
#include "ctl/profiles.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace mq::ctl {
namespace {

TEST(Profiles, MissingFileIsAnEmptyStore) {
  mq::testing::TempDir dir;
  Result<ProfileStore> store = ProfileStore::load(dir.file("none.toml"));
  ASSERT_TRUE(store.is_ok());
  EXPECT_TRUE(store->profiles.empty());
  EXPECT_FALSE(store->current);
}

TEST(Profiles, SavesAndLoadsBack) {
  mq::testing::TempDir dir;
  ProfileStore store;
  store.current = "prod";
  store.profiles["prod"] = {
      .brokers = "10.0.0.1:9092,10.0.0.2:9092", .timeout = "5s", .output = "json"};
  store.profiles["dev"] = {.brokers = "127.0.0.1:9092"};
  std::string path = dir.file("sub/dir/profiles.toml");
  ASSERT_TRUE(store.save(path).is_ok());
  Result<ProfileStore> loaded = ProfileStore::load(path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().message();
  EXPECT_EQ(loaded->current, "prod");
  ASSERT_EQ(loaded->profiles.size(), 2u);
  EXPECT_EQ(loaded->profiles["prod"].brokers, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(loaded->profiles["prod"].timeout, "5s");
  EXPECT_EQ(loaded->profiles["prod"].output, "json");
  EXPECT_EQ(loaded->profiles["dev"].brokers, "127.0.0.1:9092");
  EXPECT_FALSE(loaded->profiles["dev"].timeout);
}

TEST(Profiles, BadFilesAreErrorsNamingTheProblem) {
  mq::testing::TempDir dir;
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {{"current = \n", "line 1"},
               {"[profiles.a]\nbrokers = 5\n", "profiles.a.brokers must be a string"},
               {"[profiles.a]\ntimeout = \"5\"\n", "needs a unit"},
               {"[profiles.a]\noutput = \"xml\"\n", "invalid output format"},
               {"[profiles.a]\ncolour = \"red\"\n", "unknown key profiles.a.colour"},
               {"other = 1\n", "unknown key \"other\""}};
  for (const Case& c : cases) {
    std::string path = dir.file("p.toml");
    std::ofstream(path) << c.text;
    Result<ProfileStore> store = ProfileStore::load(path);
    ASSERT_FALSE(store.is_ok()) << c.text;
    EXPECT_NE(store.status().message().find(c.says), std::string::npos) << store.status().message();
  }
}

TEST(Profiles, NamesAreValidated) {
  EXPECT_TRUE(validate_profile_name("prod-eu.1_a").is_ok());
  EXPECT_FALSE(validate_profile_name("").is_ok());
  EXPECT_FALSE(validate_profile_name("a b").is_ok());
  EXPECT_FALSE(validate_profile_name("a/b").is_ok());
}

TEST(Profiles, DefaultPathFollowsXdgConfigHome) {
  ::setenv("XDG_CONFIG_HOME", "/x/config", 1);
  EXPECT_EQ(default_profiles_path(), "/x/config/mq/profiles.toml");
  ::unsetenv("XDG_CONFIG_HOME");
  ::setenv("HOME", "/home/op", 1);
  EXPECT_EQ(default_profiles_path(), "/home/op/.config/mq/profiles.toml");
}

}  // namespace
}  // namespace mq::ctl
