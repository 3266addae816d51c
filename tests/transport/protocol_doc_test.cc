// Keeps docs/protocol.md in step with the code: every error code (number,
// name, retriability) and every supported API must appear in its tables.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/error_code.h"
#include "transport/api.h"

namespace mq::transport {
namespace {

std::string read_protocol_doc() {
  std::ifstream in(MQ_PROTOCOL_DOC);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ProtocolDocTest, ListsEveryErrorCodeWithItsNumberNameAndRetriability) {
  std::string doc = read_protocol_doc();
  ASSERT_FALSE(doc.empty()) << "cannot read " << MQ_PROTOCOL_DOC;
  int listed = 0;
  for (int number = 0; number <= 1000; ++number) {
    auto code = static_cast<ErrorCode>(number);
    if (error_name(code) == "UNKNOWN_ERROR_CODE") continue;
    std::string row = "| " + std::to_string(number) + " | `" + std::string(error_name(code)) +
                      "` | " + (is_retriable(code) ? "yes" : "no") + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/protocol.md lacks the row " << row;
    ++listed;
  }
  EXPECT_GT(listed, 50);
}

TEST(ProtocolDocTest, ListsEverySupportedApiWithItsKeyAndVersions) {
  std::string doc = read_protocol_doc();
  for (const SupportedApi& api : supported_apis()) {
    const VersionRange& v = api.versions;
    std::string versions = v.min_version == v.max_version ? std::to_string(v.max_version)
                                                          : std::to_string(v.min_version) + "-" +
                                                                std::to_string(v.max_version);
    std::string row = "| " + std::to_string(static_cast<int16_t>(api.api_key)) + " | " +
                      std::string(api_name(api.api_key)) + " | " + versions + " |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/protocol.md lacks the row " << row;
    std::string section = "### " + std::string(api_name(api.api_key)) + " (api key " +
                          std::to_string(static_cast<int16_t>(api.api_key)) + ", v0)";
    EXPECT_NE(doc.find(section), std::string::npos) << "no section " << section;
  }
}

}  // namespace
}  // namespace mq::transport
